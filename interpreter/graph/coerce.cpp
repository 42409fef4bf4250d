#include "coerce.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "confine.hpp"
#include "dissect.hpp"
#include "packet.hpp"

namespace pkt {

namespace {

using K = ast::Expr::Kind;

// Names may refer to names: a guard against `let a = a` and other cycles
// on every path that follows them.
struct NameDepth {
  static inline thread_local int depth = 0;
  explicit NameDepth(Pos pos) {
    if (++depth > 64) {
      depth = 0;
      throw ScriptError(pos, "names refer to each other too deeply (a cycle such as `let a = a`?)");
    }
  }
  ~NameDepth() { if (depth > 0) --depth; }
};


[[noreturn]] void out_of_range(const LayerDef& layer, const FieldDef& f, const std::string& shown, Pos pos) {
  throw ScriptError(pos, fmt::format("{}={} is out of range: {} is {}", f.name, shown, f.name, f.describe_type()));
}

std::string kind_word(const FieldDef& f) { return f.type().expected(f); }

[[noreturn]] void wrong_kind(const LayerDef& layer, const FieldDef& f, Pos pos) {
  throw ScriptError(pos, fmt::format("{}.{} is {}; expected {}", layer.name, f.name, f.type_name, kind_word(f)));
}

std::string names_of(const std::vector<std::pair<std::string, std::uint64_t>>& v) {
  std::string out;
  for (auto& [n, x] : v) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// A name in a number field: an enum or flag of that field, else a param/let.
bool field_symbol(const FieldDef& f, const std::string& name, std::uint64_t& out) {
  for (auto& [n, v] : f.enums) if (n == name) { out = v; return true; }
  for (auto& [n, v] : f.flags) if (n == name) { out = v; return true; }
  return false;
}

[[noreturn]] void unknown_name(const LayerDef& layer, const FieldDef& f, const std::string& name, Pos pos,
                               const CoerceEnv* env) {
  std::vector<std::string> cands;
  for (auto& [n, v] : f.enums) cands.push_back(n);
  for (auto& [n, v] : f.flags) cands.push_back(n);
  std::string hint = nearest_name(name, cands);
  std::string what = !f.flags.empty() ? fmt::format("; {}.{} flags are {}", layer.name, f.name, names_of(f.flags))
                   : !f.enums.empty() ? fmt::format("; {}.{} names are {}", layer.name, f.name, names_of(f.enums))
                   : "";
  throw ScriptError(pos, fmt::format("unknown name '{}'{}{}", name,
                                     hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint), what));
}

std::uint64_t check_range(const LayerDef& layer, const FieldDef& f, std::uint64_t v, Pos pos) {
  if (v > f.max()) out_of_range(layer, f, std::to_string(v), pos);
  return v;
}

std::uint64_t number_of(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env, int depth);

std::uint64_t resolve_number(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env, int depth) {
  std::uint64_t v;
  if (field_symbol(f, e.s, v)) return v;
  if (env.resolve && depth < 32)
    if (auto x = (*env.resolve)(e.s)) return number_of(layer, f, *x, env, depth + 1);
  unknown_name(layer, f, e.s, e.pos, &env);
}

std::uint64_t flags_text(const LayerDef& layer, const FieldDef& f, const std::string& text, Pos pos) {
  std::uint64_t acc = 0;
  std::size_t i = 0;
  while (i <= text.size()) {
    std::size_t j = text.find('|', i);
    if (j == std::string::npos) j = text.size();
    std::string part = text.substr(i, j - i);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    std::uint64_t v = 0;
    if (part.empty()) throw ScriptError(pos, fmt::format("empty name in '{}'", text));
    if (isdigit(static_cast<unsigned char>(part[0]))) {
      // Numbers as the DSL writes them: decimal, 0x.., 0b.. (a leading 0 is not octal).
      int base = 10;
      std::string digits = part;
      if (part.size() > 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) base = 16, digits = part.substr(2);
      else if (part.size() > 2 && part[0] == '0' && (part[1] == 'b' || part[1] == 'B')) base = 2, digits = part.substr(2);
      char* end = nullptr;
      errno = 0;
      v = std::strtoull(digits.c_str(), &end, base);
      if (*end || errno || !isxdigit(static_cast<unsigned char>(digits[0])))
        throw ScriptError(pos, fmt::format("'{}' is not a number (decimal, 0x.. or 0b..)", part));
    } else if (!field_symbol(f, part, v)) {
      unknown_name(layer, f, part, pos, nullptr);
    }
    acc |= v;
    i = j + 1;
  }
  return acc;
}

std::uint64_t number_of(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env, int depth) {
  switch (e.kind) {
    case K::Int: return check_range(layer, f, e.i, e.pos);
    case K::NegInt: out_of_range(layer, f, fmt::format("-{}", e.i), e.pos);
    case K::Name: return check_range(layer, f, resolve_number(layer, f, e, env, depth), e.pos);
    case K::Or: {
      std::uint64_t acc = 0;
      for (auto& it : e.items) acc |= number_of(layer, f, *it, env, depth);
      return check_range(layer, f, acc, e.pos);
    }
    case K::String: return check_range(layer, f, flags_text(layer, f, e.s, e.pos), e.pos);
    default: wrong_kind(layer, f, e.pos);
  }
}

std::string address_text(const FieldDef& f, const std::string& text, Pos pos) {
  std::string out;
  if (f.kind == FieldKind::IPv4) {
    unsigned char b[4];
    if (inet_pton(AF_INET, text.c_str(), b) != 1) throw ScriptError(pos, fmt::format("invalid IPv4 address '{}'", text));
    out.assign(reinterpret_cast<char*>(b), 4);
  } else if (f.kind == FieldKind::IPv6) {
    unsigned char b[16];
    if (inet_pton(AF_INET6, text.c_str(), b) != 1) throw ScriptError(pos, fmt::format("invalid IPv6 address '{}'", text));
    out.assign(reinterpret_cast<char*>(b), 16);
  } else {
    // Exactly six pairs of hex digits separated by ':'.
    bool ok = text.size() == 17;
    for (std::size_t i = 0; ok && i < 17; ++i)
      ok = i % 3 == 2 ? text[i] == ':' : isxdigit(static_cast<unsigned char>(text[i])) != 0;
    if (!ok) throw ScriptError(pos, fmt::format("invalid MAC address '{}'", text));
    for (std::size_t i = 0; i < 17; i += 3) out.push_back(static_cast<char>(std::stoul(text.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Reads a payload file: a regular file of at most 64 MiB (like repeats), so
// file("/dev/zero") or a directory is an error, not a hang or an empty payload.
std::string read_file(const std::string& base, const std::string& path, Pos pos, const std::string& confine) {
  std::string full = (!path.empty() && path[0] == '/') || base.empty() ? path : base + "/" + path;
  struct stat st;
  if (path.empty()) throw ScriptError(pos, "file(\"\") needs a file name");
  if (!confine.empty())
    if (std::string why = confine_path(confine, full); !why.empty())
      throw ScriptError(pos, fmt::format("file(\"{}\") refused: {} (--sandbox reads files only there)", path, why));
  if (::stat(full.c_str(), &st) != 0) throw ScriptError(pos, fmt::format("cannot read file '{}': {}", full, std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) throw ScriptError(pos, fmt::format("cannot read file '{}': not a regular file", full));
  if (st.st_size > (64 << 20))
    throw ScriptError(pos, fmt::format("file '{}' is {} bytes; the limit for a payload is 64 MiB", full, st.st_size));
  std::ifstream in(full, std::ios::binary);
  if (!in) throw ScriptError(pos, fmt::format("cannot read file '{}': {}", full, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string bytes_of(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env, int depth) {
  std::vector<ast::ExprPtr> keep;  // names followed for a repeat count
  switch (e.kind) {
    case K::String: case K::Bytes: return e.s;
    case K::File: return read_file(env.base_dir, e.s, e.pos, env.confine);
    case K::Repeat: {
      std::string unit = bytes_of(layer, f, *e.items.at(0), env, depth);
      const ast::Expr* np = e.items.at(1).get();
      for (int k = 0; np->kind == K::Name && env.resolve && k < 32; ++k) {
        ast::ExprPtr x = (*env.resolve)(np->s);
        if (!x) break;
        keep.push_back(x);
        np = x.get();
      }
      const ast::Expr& n = *np;
      if (n.kind != K::Int) throw ScriptError(e.items.at(1)->pos, "expected a repeat count (a number, or a param or let holding one)");
      if (!unit.empty() && n.i > (64u << 20) / unit.size())
        throw ScriptError(e.pos, fmt::format("{} bytes repeated {} times is more than the limit of 64 MiB", unit.size(), n.i));
      if (unit.empty()) return unit;  // "" * 2^64-1 is empty, at once
      std::string out;
      out.reserve(unit.size() * n.i);
      for (std::uint64_t k = 0; k < n.i; ++k) out += unit;
      return out;
    }
    case K::Name:
      if (env.resolve && depth < 32)
        if (auto x = (*env.resolve)(e.s)) return bytes_of(layer, f, *x, env, depth + 1);
      throw ScriptError(e.pos, fmt::format("unknown name '{}'", e.s));
    default: wrong_kind(layer, f, e.pos);
  }
}

}  // namespace

std::uint64_t coerce_constant(const FieldDef& f, const ast::Expr& e, const std::string& what) {
  if (e.kind != K::Int) throw ScriptError(e.pos, fmt::format("expected a number for '{}'", what));
  if (f.kind == FieldKind::UInt && e.i > f.max())
    throw ScriptError(e.pos, fmt::format("{}={} does not fit {}: {} is {}", what, e.i, f.name, f.name, f.describe_type()));
  return e.i;
}

std::string option_bytes(const Registry& reg, const LayerDef& opt, const ast::Expr& e, const CoerceEnv& env);

std::string build_option(const Registry& reg, const LayerDef& layer, const FieldDef& f, const ast::Expr& e,
                         const CoerceEnv& env) {
  NameDepth guard(e.pos);
  if (e.kind == K::String || e.kind == K::Bytes || e.kind == K::File || e.kind == K::Repeat)
    return bytes_of(layer, f, e, env, 0);
  if (e.kind != K::Call && e.kind != K::Name)
    throw ScriptError(e.pos, fmt::format("expected an option of {}.{} ({}) or bytes", layer.name, f.name,
                                         fmt::join(reg.option_names(layer.name, f.name), ", ")));
  auto def = reg.option(layer.name, f.name, e.s);
  if (!def) {
    if (e.kind == K::Name && env.resolve)
      if (auto x = (*env.resolve)(e.s)) return build_option(reg, layer, f, *x, env);
    auto names = reg.option_names(layer.name, f.name);
    std::string hint = nearest_name(e.s, names);
    throw ScriptError(e.pos, fmt::format("unknown option '{}' for {}.{}{}; options are {}", e.s, layer.name, f.name,
                                         hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                                         fmt::join(names, ", ")));
  }
  std::string out;
  try {
    out = option_bytes(reg, *def, e, env);
  } catch (const ScriptError& err) {
    if (std::string(err.what()).rfind("option ", 0) == 0) throw;
    throw ScriptError(err.pos(), fmt::format("option {}: {}", def->name, err.what()));
  }
  if (f.strict && !out.empty()) {
    // A strict list reads back option by option: this one must read back
    // whole, as one of the field's options (bytes are sent as given).
    auto opts = reg.options_of(layer.name, f.name);
    Dissector dis(reg);
    Packet one;
    std::string why;
    OptionElem el = match_option(opts, reinterpret_cast<const std::uint8_t*>(out.data()), 0,
                                 static_cast<std::uint32_t>(out.size()), dis, one, &why);
    if (el.size != out.size())
      throw ScriptError(e.pos, fmt::format("option {} would not read back as one of {}.{}'s options: {}", def->name, layer.name, f.name,
                                           el.size ? fmt::format("it is {} bytes, and {} of them read as an option", out.size(), el.size)
                                                   : why.empty() ? std::string("it is none of them") : why));
  }
  return out;
}

void reject_word_args(const ast::Expr& call) {
  for (auto& a : call.args)
    if (a.word)
      throw ScriptError(a.pos, fmt::format("'{} VALUE' is an option of sniff(...); {}() takes name=value or plain values",
                                           a.name, call.s));
}

std::string option_bytes(const Registry& reg, const LayerDef& opt, const ast::Expr& e, const CoerceEnv& env) {
  reject_word_args(e);
  auto def = &opt;
  Packet p;
  p.push_layer(reg.option(opt.option_layer, opt.option_field, opt.name), e.pos);
  std::size_t np = def->params.size();
  std::vector<const ast::Arg*> pos_args;
  for (auto& a : e.args) {
    if (a.name.empty()) { pos_args.push_back(&a); continue; }
    int fi = def->field_index(a.name);
    if (fi < 0) throw ScriptError(a.pos, fmt::format("option {} has no field '{}'", def->name, a.name));
    p.set(0, fi, coerce_field(*def, def->fields[fi], *a.value, env), Origin::User, a.pos);
  }
  if (!def->variadic && pos_args.size() != np)
    throw ScriptError(e.pos, fmt::format("option {} takes {} argument{}, {} given", def->name, np, np == 1 ? "" : "s",
                                         pos_args.size()));
  // The rest may be empty after other parameters (an IGMPv3 record without
  // sources), not alone (`sack()` says nothing).
  const std::size_t least = np > 1 ? np - 1 : np;
  if (def->variadic && pos_args.size() < least)
    throw ScriptError(e.pos, fmt::format("option {} takes at least {} argument{}", def->name, least, least == 1 ? "" : "s"));
  for (std::size_t k = 0; k < pos_args.size() && k < np; ++k) {
    std::size_t fi = def->params[k];
    const FieldDef& pf = def->fields[fi];
    if (def->variadic && k + 1 == np) {
      // The rest of the arguments form the array.
      ast::Expr rest;
      rest.kind = K::List;
      rest.pos = pos_args[k]->pos;
      for (std::size_t j = k; j < pos_args.size(); ++j) rest.items.push_back(pos_args[j]->value);
      p.set(0, fi, coerce_field(*def, pf, rest, env), Origin::User, pos_args[k]->pos);
      break;
    }
    p.set(0, fi, coerce_field(*def, pf, *pos_args[k]->value, env), Origin::User, pos_args[k]->pos);
  }
  p.finalize();
  return std::string(p.bytes().begin(), p.bytes().end());
}

// A list that ends at a marker (`until end`) has it last, and once.
void check_list_end(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const Registry& reg) {
  if (f.until.empty()) return;
  std::vector<const ast::Expr*> items;
  if (e.kind == K::List)
    for (auto& it : e.items) items.push_back(it.get());
  else
    items.push_back(&e);
  auto is_end = [&](const ast::Expr& x) {
    return (x.kind == K::Name || x.kind == K::Call) && x.s == f.until && reg.option(layer.name, f.name, x.s);
  };
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (is_end(*items[k]) && k + 1 != items.size())
      throw ScriptError(items[k + 1]->pos, fmt::format("{}.{} ends at '{}': nothing may follow it (pad after it with the layer's trailer)",
                                                       layer.name, f.name, f.until));
  }
  if (items.empty() || !is_end(*items.back()))
    throw ScriptError(e.pos, fmt::format("{}.{} is a list that ends with '{}'; add it last: [..., {}]", layer.name, f.name,
                                         f.until, f.until));
}

FieldValue coerce_field(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env) {
  NameDepth guard(e.pos);
  // A field that holds declared options takes a list of them.
  if (f.kind == FieldKind::Bytes && env.reg && env.reg->has_options(layer.name, f.name)) {
    FieldValue v;
    // `num` keeps the number of elements, for count(FIELD).
    if (e.kind == K::List) {
      for (auto& it : e.items) v.bytes += build_option(*env.reg, layer, f, *it, env);
      v.num = e.items.size();
      check_list_end(layer, f, e, *env.reg);
      return v;
    }
    if (e.kind == K::Call || (e.kind == K::Name && env.reg->option(layer.name, f.name, e.s))) {
      v.bytes = build_option(*env.reg, layer, f, e, env);
      v.num = 1;
      check_list_end(layer, f, e, *env.reg);
      return v;
    }
  }
  return f.type().from_expr(layer, f, e, env);
}

std::uint64_t number_value(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env) {
  return number_of(layer, f, e, env, 0);
}

std::uint64_t number_text(const LayerDef& layer, const FieldDef& f, const std::string& text, Pos pos) {
  return check_range(layer, f, flags_text(layer, f, text, pos), pos);
}

std::string bytes_value(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env) {
  return bytes_of(layer, f, e, env, 0);
}

std::string address_from_text(const FieldDef& f, const std::string& text, Pos pos) { return address_text(f, text, pos); }

void wrong_value_kind(const LayerDef& layer, const FieldDef& f, Pos pos) { wrong_kind(layer, f, pos); }

FieldValue coerce_text(const LayerDef& layer, const FieldDef& f, const std::string& text, Pos pos) {
  return f.type().from_text(layer, f, text, pos);
}

FieldValue coerce_number(const LayerDef& layer, const FieldDef& f, std::uint64_t x, bool negative, Pos pos) {
  if (f.kind != FieldKind::UInt) wrong_kind(layer, f, pos);
  if (f.is_signed) return f.type().from_text(layer, f, negative ? fmt::format("-{}", ~x + 1) : std::to_string(x), pos);
  if (negative) out_of_range(layer, f, "-" + std::to_string(~x + 1), pos);
  FieldValue v;
  v.num = check_range(layer, f, x, pos);
  return v;
}

}  // namespace pkt
