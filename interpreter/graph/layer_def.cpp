#include "layer_def.hpp"

#include <fmt/format.h>

#include <cctype>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <set>

#include "coerce.hpp"
#include "packet.hpp"

namespace pkt {

FieldDef FieldDef::of(const std::string& name, const std::string& type) {
  FieldDef f;
  f.name = name;
  declare_field_type(f, type, Pos{});
  return f;
}

std::string FieldDef::pad_fill(std::size_t n) const {
  std::string zeros(n, '\0');
  if (!pad_option || n == 0) return zeros;
  // The pad option's variable field takes what its fixed fields leave.
  std::size_t fixed = 0;
  int var = -1;
  for (std::size_t i = 0; i < pad_option->fields.size(); ++i) {
    const FieldDef& f = pad_option->fields[i];
    if (f.fixed_size()) fixed += f.bits / 8;
    else if (var < 0) var = static_cast<int>(i);
  }
  if (var < 0 || n < fixed) return zeros;
  thread_local bool busy = false;  // a pad option padding itself
  if (busy) return zeros;
  busy = true;
  std::string out = zeros;
  try {
    Packet p;
    p.push_layer(pad_option);
    FieldValue v;
    v.bytes.assign(n - fixed, '\0');
    p.set(0, static_cast<std::size_t>(var), std::move(v), Origin::User);
    p.finalize();
    if (p.size() == n) out.assign(p.bytes().begin(), p.bytes().end());
  } catch (const ScriptError&) {
  }
  busy = false;
  return out;
}

int LayerDef::field_index(const std::string& n) const {
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == n) return static_cast<int>(i);
  return -1;
}

std::vector<std::string> LayerDef::field_names() const {
  std::vector<std::string> out;
  for (auto& f : fields) out.push_back(f.name);
  return out;
}

namespace {

const std::set<std::string> kPrimitives = {"len", "inet_checksum", "crc32c", "nonzero", "bytes", "u8", "u16", "u24", "u32", "u64",
                                           "present", "given", "not", "bound", "choose", "slice", "route_source", "count"};

// Where a rule is written decides what it may name: auto rules see the
// layer's regions (this, payload, pseudo); a pseudo-header also sees the
// layer asking for it (upper, bound()); size, if and when rules see fields
// only, since they are evaluated while the layer is being read.
enum class RuleKind { Auto, Pseudo, Read };

AutoExpr compile_auto(const ast::Expr& e, const LayerDef& layer, RuleKind kind, const Registry* reg, int depth = 0) {
  if (depth > 200) throw ScriptError(e.pos, "this rule is nested more than 200 levels deep");
  AutoExpr a;
  a.pos = e.pos;
  using K = ast::Expr::Kind;
  using Op = AutoExpr::Op;
  auto field_of = [&](const std::string& n, Pos pos) {
    int idx = layer.field_index(n);
    if (idx < 0) {
      std::string hint = nearest_name(n, layer.field_names());
      throw ScriptError(pos, fmt::format("{} has no field '{}'{}", layer.name, n,
                                         hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    return static_cast<std::size_t>(idx);
  };
  switch (e.kind) {
    case K::Int: a.op = Op::Int; a.i = e.i; return a;
    case K::String: case K::Bytes: case K::IPv4: case K::IPv6: case K::MAC:
      a.op = Op::Bytes; a.s = e.s; return a;
    case K::Name: {
      bool regions = kind != RuleKind::Read;
      if (regions && e.s == "this") { a.op = Op::This; return a; }
      if (regions && e.s == "payload") { a.op = Op::Payload; return a; }
      if (kind == RuleKind::Auto && e.s == "pseudo") { a.op = Op::Pseudo; return a; }
      if (kind == RuleKind::Pseudo && e.s == "upper") { a.op = Op::Upper; return a; }
      int idx = layer.field_index(e.s);
      if (idx < 0) {
        auto names = layer.field_names();
        if (regions) names.insert(names.end(), {"this", "payload"});
        if (kind == RuleKind::Auto) names.push_back("pseudo");
        if (kind == RuleKind::Pseudo) names.push_back("upper");
        std::string hint = nearest_name(e.s, names);
        std::string expected = kind == RuleKind::Auto ? fmt::format("a field of {}, this, payload or pseudo", layer.name)
                             : kind == RuleKind::Pseudo ? fmt::format("a field of {}, this, payload or upper", layer.name)
                             : fmt::format("a field of {}", layer.name);
        throw ScriptError(e.pos, fmt::format("unknown name '{}' in a rule of {}; expected {}{}", e.s, layer.name, expected,
                                             hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
      }
      a.op = Op::Field;
      a.index = static_cast<std::size_t>(idx);
      return a;
    }
    case K::Member: {
      const ast::Expr& obj = *e.items.at(0);
      if (obj.kind != K::Name)
        throw ScriptError(e.pos, "expected LAYER.FIELD (a field of the nearest layer of that name below)");
      if (reg) {
        auto below = reg->layer(obj.s);
        if (!below && obj.s != layer.name) {
          throw ScriptError(obj.pos, fmt::format("unknown layer '{}'{}", obj.s, reg->layer_hint(obj.s)));
        }
        if (below && below->field_index(e.s) < 0) {
          std::string hint = nearest_name(e.s, below->field_names());
          throw ScriptError(e.pos, fmt::format("{} has no field '{}'{}", obj.s, e.s, hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
        }
      }
      a.op = Op::LowerField;
      a.s = obj.s;
      a.s2 = e.s;
      return a;
    }
    case K::Binary: {
      // `type == a`, `type in [ns, cname]`: a name of the compared field's
      // enum (or flags) is its value, unless a field has that name.
      auto operand = [&](const ast::Expr& side, const ast::Expr& other) {
        if (side.kind == K::Name && other.kind == K::Name && layer.field_index(side.s) < 0) {
          int fi = layer.field_index(other.s);
          if (fi >= 0) {
            const FieldDef& of = layer.fields[fi];
            for (auto* set : {&of.enums, &of.flags})
              for (auto& [n, v] : *set)
                if (n == side.s) {
                  AutoExpr c;
                  c.op = Op::Int;
                  c.i = v;
                  c.pos = side.pos;
                  return c;
                }
          }
        }
        return compile_auto(side, layer, kind, reg, depth + 1);
      };
      if (e.op == '=' || e.op == '!' || e.op == 'i') {
        const ast::Expr& l = *e.items.at(0);
        const ast::Expr& r = *e.items.at(1);
        if (e.op == 'i') {
          AutoExpr x = compile_auto(l, layer, kind, reg, depth + 1);
          for (std::size_t k = 0; k < r.items.size(); ++k) {
            AutoExpr eq;
            eq.op = Op::Eq;
            eq.pos = r.items[k]->pos;
            eq.args.push_back(x);
            eq.args.push_back(operand(*r.items[k], l));
            if (k == 0) {
              a = std::move(eq);
              continue;
            }
            AutoExpr either;
            either.op = Op::Or;
            either.pos = e.pos;
            either.args.push_back(std::move(a));
            either.args.push_back(std::move(eq));
            a = std::move(either);
          }
          return a;
        }
        a.op = e.op == '=' ? Op::Eq : Op::Ne;
        a.args.push_back(operand(l, r));
        a.args.push_back(operand(r, l));
        return a;
      }
      switch (e.op) {
        case '+': a.op = Op::Add; break;
        case '-': a.op = Op::Sub; break;
        case '*': a.op = Op::Mul; break;
        case '/': a.op = Op::Div; break;
        case '=': a.op = Op::Eq; break;
        case '!': a.op = Op::Ne; break;
        case '<': a.op = Op::Lt; break;
        case 'l': a.op = Op::Le; break;
        case '>': a.op = Op::Gt; break;
        case 'g': a.op = Op::Ge; break;
        case '&': a.op = Op::BitAnd; break;
        case 'A': a.op = Op::And; break;
        case 'O': a.op = Op::Or; break;
        default: throw ScriptError(e.pos, "this operator is not allowed in a rule");
      }
      a.args.push_back(compile_auto(*e.items.at(0), layer, kind, reg, depth + 1));
      a.args.push_back(compile_auto(*e.items.at(1), layer, kind, reg, depth + 1));
      return a;
    }
    case K::Call: {
      auto arity = [&](std::size_t lo, std::size_t hi) {
        if (e.args.size() < lo || e.args.size() > hi)
          throw ScriptError(e.pos, lo == hi ? fmt::format("{}() takes {} argument{}", e.s, lo, lo == 1 ? "" : "s")
                                            : fmt::format("{}() takes at least {} argument", e.s, lo));
      };
      for (auto& arg : e.args)
        if (!arg.name.empty()) throw ScriptError(arg.pos, fmt::format("{}() takes positional arguments only", e.s));
      if (e.s == "count") {
        arity(1, 1);
        const ast::Expr& x = *e.args[0].value;
        if (x.kind != K::Name) throw ScriptError(x.pos, fmt::format("count() takes a list field of {}", layer.name));
        if (kind != RuleKind::Auto) throw ScriptError(e.pos, "count() is for auto rules: the number of elements a list was built with");
        a.op = Op::Count;
        a.index = field_of(x.s, x.pos);
        if (layer.fields[a.index].kind != FieldKind::Bytes)
          throw ScriptError(x.pos, fmt::format("count() takes a list field; {} is {}", x.s, layer.fields[a.index].type_name));
        return a;
      }
      if (e.s == "present" || e.s == "given" || e.s == "bound") {
        arity(1, 1);
        const ast::Expr& x = *e.args[0].value;
        if (x.kind != K::Name) throw ScriptError(x.pos, fmt::format("{}() takes a field name of {}", e.s, layer.name));
        if (e.s == "bound" && kind != RuleKind::Pseudo)
          throw ScriptError(e.pos, "bound() is for pseudo-headers: the value of a field as bound to the layer asking");
        a.op = e.s == "present" ? Op::Present : e.s == "given" ? Op::Given : Op::Bound;
        a.index = field_of(x.s, x.pos);
        return a;
      }
      for (auto& arg : e.args) a.args.push_back(compile_auto(*arg.value, layer, kind, reg, depth + 1));
      if (e.s == "len") { a.op = Op::Len; arity(1, 99); return a; }
      if (e.s == "not") { a.op = Op::Not; arity(1, 1); return a; }
      if (e.s == "choose") { a.op = Op::Choose; arity(3, 3); return a; }
      if (e.s == "slice") { a.op = Op::Slice; arity(3, 3); return a; }
      if (e.s == "inet_checksum") { a.op = Op::Checksum; arity(1, 99); return a; }
      if (e.s == "crc32c") { a.op = Op::Crc32c; arity(1, 99); return a; }
      if (e.s == "nonzero") { a.op = Op::Nonzero; arity(2, 2); return a; }
      if (e.s == "bytes") { a.op = Op::Concat; arity(1, 99); return a; }
      if (e.s == "route_source") {
        // Asks the kernel: only where a packet is built, never while reading.
        if (kind != RuleKind::Auto)
          throw ScriptError(e.pos, "route_source() asks the kernel for a route: it is for auto rules only, "
                                   "not for size, if, when or pseudo-header rules");
        a.op = Op::RouteSource;
        arity(1, 1);
        return a;
      }
      if (e.s == "u8" || e.s == "u16" || e.s == "u24" || e.s == "u32" || e.s == "u64") {
        a.op = Op::ToBytes;
        a.index = static_cast<std::size_t>(std::atoi(e.s.c_str() + 1));
        arity(1, 1);
        return a;
      }
      std::string hint = nearest_name(e.s, {kPrimitives.begin(), kPrimitives.end()});
      throw ScriptError(e.pos, fmt::format("unknown function '{}' in a rule; expected one of len, inet_checksum, crc32c, "
                                           "nonzero, bytes, present, given, not, choose, slice, route_source, count, u8, u16, u24, u32, u64{}", e.s,
                                           hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    default:
      throw ScriptError(e.pos, "this form is not allowed in a rule; expected a number, a field, "
                               "a function call, arithmetic or a comparison");
  }
}

// `e` as k + sum of c * field, when it is that simple.
bool linear_of(const AutoExpr& e, const LayerDef& def, LinearRule& out, std::int64_t scale) {
  using Op = AutoExpr::Op;
  constexpr std::int64_t kMax = std::int64_t(1) << 24;
  switch (e.op) {
    case Op::Int:
      if (e.i >= std::uint64_t(kMax)) return false;
      out.k += scale * static_cast<std::int64_t>(e.i);
      return true;
    case Op::Field: {
      const FieldDef& f = def.fields[e.index];
      if (f.kind != FieldKind::UInt || f.bits > 32 || f.cond) return false;
      out.terms.emplace_back(static_cast<std::uint32_t>(e.index), scale);
      return true;
    }
    case Op::Add: return linear_of(e.args[0], def, out, scale) && linear_of(e.args[1], def, out, scale);
    case Op::Sub: return linear_of(e.args[0], def, out, scale) && linear_of(e.args[1], def, out, -scale);
    case Op::Mul:
      for (int c = 0; c < 2; ++c)
        if (e.args[c].op == Op::Int && e.args[c].i < std::uint64_t(kMax))
          return linear_of(e.args[1 - c], def, out, scale * static_cast<std::int64_t>(e.args[c].i));
      return false;
    default: return false;
  }
}

LinearRule linear_rule(const AutoExpr* e, const LayerDef& def) {
  LinearRule r;
  if (e && linear_of(*e, def, r, 1) && r.terms.size() <= 4) r.ok = true;
  if (!r.ok) r = LinearRule{};
  return r;
}

// Bits before field i, counting variable fields as whole bytes.
unsigned def_bit_offset(const LayerDef& def, std::size_t i) {
  unsigned bit = 0;
  for (std::size_t k = 0; k < i; ++k) bit += def.fields[k].fixed_size() ? def.fields[k].bits : 0;
  return bit;
}

// `summary "{src} > {dst}"`: every {name} names a field.
void check_summary(const LayerDef& def, const std::string& text, Pos pos) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') continue;
    std::size_t j = text.find('}', i);
    if (j == std::string::npos) throw ScriptError(pos, "summary: '{' without a closing '}'");
    std::string n = text.substr(i + 1, j - i - 1);
    if (def.field_index(n) < 0) {
      std::string hint = nearest_name(n, def.field_names());
      throw ScriptError(pos, fmt::format("summary: {} has no field '{}'{}", def.name, n,
                                         hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    i = j;
  }
}

std::string source_text(const ast::Expr& e);

// A field clause's rule as written, without the clauses after it on the line.
std::string clause_text(const ast::Expr& e) {
  std::string t = source_text(e);
  for (const char* kw : {" align ", " if ", " size ", " enum ", " flags ", " = ", " }", "}", ";"}) {
    std::size_t k = t.find(kw);
    if (k != std::string::npos) t.resize(k);
  }
  return t;
}

std::string source_text(const ast::Expr& e) {
  // The text of an expression as written, from its start to the end of its line
  // (trimmed of a trailing comment and doc string): good enough for `help`.
  const ast::Expr* first = &e;  // a binary node sits at its operator: start at its left operand
  while (first->kind == ast::Expr::Kind::Binary && !first->items.empty()) first = first->items[0].get();
  if (!first->pos.src) return "";
  const std::string& t = first->pos.src->text;
  std::size_t b = first->pos.offset, end = t.find('\n', b);
  std::string s = t.substr(b, end == std::string::npos ? std::string::npos : end - b);
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '#' || (s[i] == '"' && i > 0 && s[i - 1] == ' ')) { s.resize(i); break; }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == ';')) s.pop_back();
  return s;
}

}  // namespace

void Registry::define(const ast::LayerDecl& decl) {
  if (!decl.also.empty()) {
    // `option a.x, b.y NAME`: the same option for each field.
    ast::LayerDecl one = decl;
    one.also.clear();
    define(one);
    for (auto& [l, f] : decl.also) {
      one.option_layer = l;
      one.option_field = f;
      define(one);
    }
    return;
  }
  auto def = std::make_shared<LayerDef>();
  def->name = decl.name;
  def->doc = decl.doc;
  def->pos = decl.pos;
  def->is_option = decl.is_option;
  def->option_layer = decl.option_layer;
  def->option_field = decl.option_field;
  def->variadic = decl.variadic;
  if (decl.is_option) {
    auto host = layer(decl.option_layer);
    if (!host)
      throw ScriptError(decl.pos, fmt::format("option for unknown layer '{}'", decl.option_layer));
    int fi = host->field_index(decl.option_field);
    if (fi < 0 || host->fields[fi].kind != FieldKind::Bytes)
      throw ScriptError(decl.pos, fmt::format("option for '{}.{}': expected a bytes field of {}", decl.option_layer,
                                              decl.option_field, decl.option_layer));
  }
  unsigned bit = 0;
  for (auto& fd : decl.fields) {
    if (def->field_index(fd.name) >= 0)
      throw ScriptError(fd.pos, fmt::format("field '{}' is declared twice in {}", fd.name, decl.name));
    FieldDef f;
    f.name = fd.name;
    f.pos = fd.pos;
    f.doc = fd.doc;
    declare_field_type(f, fd.type, fd.type_pos);
    if (f.kind != FieldKind::UInt && bit % 8)
      throw ScriptError(fd.pos, fmt::format("field '{}' ({}) must start on a byte boundary, but the fields before it "
                                            "end at bit {}", fd.name, fd.type, bit));
    if (f.little_endian && bit % 8)
      throw ScriptError(fd.pos, fmt::format("little-endian field '{}' must start on a byte boundary", fd.name));
    bit += f.bits;
    for (auto* set : {&fd.enums, &fd.flags}) {
      auto& out = set == &fd.enums ? f.enums : f.flags;
      for (auto& nv : *set) {
        for (auto& [n, v] : f.enums)
          if (n == nv.name) throw ScriptError(nv.pos, fmt::format("'{}' is named twice in {}.{}", nv.name, decl.name, fd.name));
        for (auto& [n, v] : f.flags)
          if (n == nv.name) throw ScriptError(nv.pos, fmt::format("'{}' is named twice in {}.{}", nv.name, decl.name, fd.name));
        out.emplace_back(nv.name, coerce_constant(f, *nv.value, nv.name));
      }
    }
    if (fd.align) {
      if (f.kind != FieldKind::Bytes) throw ScriptError(fd.align->pos, "align applies to bytes fields only");
      if (fd.align->kind != ast::Expr::Kind::Int || fd.align->i < 1 || fd.align->i > 64)
        throw ScriptError(fd.align->pos, "expected an alignment in bytes, 1..64");
      f.align = static_cast<unsigned>(fd.align->i);
      f.pad_with = fd.align_with;
    }
    def->fields.push_back(std::move(f));
    FieldDef& ref = def->fields.back();
    if (fd.default_value) {
      ref.default_value = coerce_field(*def, ref, *fd.default_value, CoerceEnv{this, nullptr, ".", confine});
      ref.has_default = true;
      ref.default_text = source_text(*fd.default_value);
    }
  }
  if (bit % 8)
    throw ScriptError(decl.pos, fmt::format("layer {} is {} bits long; a layer must be a whole number of bytes",
                                            decl.name, bit));
  // Auto rules may name any field of the layer, so compile them once all are known.
  for (std::size_t i = 0; i < decl.fields.size(); ++i) {
    auto& fd = decl.fields[i];
    if (!fd.auto_rule) continue;
    if (!def->fields[i].fixed_size())
      throw ScriptError(fd.pos, "auto rules are supported on fixed-size fields only (numbers and addresses)");
    def->fields[i].auto_rule = std::make_shared<AutoExpr>(compile_auto(*fd.auto_rule, *def, RuleKind::Auto, this));
    def->fields[i].auto_text = source_text(*fd.auto_rule);
    std::function<bool(const AutoExpr&)> asks = [&](const AutoExpr& x) {
      if (x.op == AutoExpr::Op::RouteSource) return true;
      for (auto& y : x.args)
        if (asks(y)) return true;
      return false;
    };
    def->fields[i].asks_route = asks(*def->fields[i].auto_rule);
  }
  // Size and condition rules read earlier fields only: they are evaluated while reading.
  for (std::size_t i = 0; i < decl.fields.size(); ++i) {
    auto& fd = decl.fields[i];
    FieldDef& f = def->fields[i];
    LayerDef earlier = *def;
    earlier.fields.resize(i);
    if (fd.size_rule) {
      if (f.fixed_size())
        throw ScriptError(fd.size_rule->pos, fmt::format("'size' applies to variable fields (bytes, uN[]); {} is {}", f.name, f.type_name));
      f.size_rule = std::make_shared<AutoExpr>(compile_auto(*fd.size_rule, earlier, RuleKind::Read, this));
      f.size_text = clause_text(*fd.size_rule);
    }
    if (fd.cond) {
      if (f.fixed_size() && (f.bits % 8 || def_bit_offset(*def, i) % 8))
        throw ScriptError(fd.cond->pos, fmt::format("a field with 'if' must start on a byte boundary and be whole bytes; {} is {}",
                                                    f.name, f.type_name));
      f.cond = std::make_shared<AutoExpr>(compile_auto(*fd.cond, earlier, RuleKind::Read, this));
      f.cond_text = clause_text(*fd.cond);
      def->has_conditions = true;
    }
    if (fd.count_rule || !fd.until.empty()) {
      Pos at = fd.count_rule ? fd.count_rule->pos : fd.until_pos;
      if (f.kind != FieldKind::Bytes || f.ftype != &default_field_type(f))
        throw ScriptError(at, fmt::format("'count' and 'until' apply to lists of options (bytes fields); {} is {}", f.name, f.type_name));
      if (fd.size_rule) throw ScriptError(at, fmt::format("{} has a 'size' already: a list ends at its size, its count or its marker, one of them", f.name));
      if (fd.count_rule && !fd.until.empty()) throw ScriptError(at, fmt::format("{} has both 'count' and 'until'; a list ends one way", f.name));
      if (f.align) throw ScriptError(at, "'align' applies to lists bounded by 'size'");
    }
    if (fd.count_rule) {
      f.count_rule = std::make_shared<AutoExpr>(compile_auto(*fd.count_rule, earlier, RuleKind::Read, this));
      f.count_text = clause_text(*fd.count_rule);
    }
    f.until = fd.until;
    if (fd.strict) {
      if (f.kind != FieldKind::Bytes || f.ftype != &default_field_type(f))
        throw ScriptError(fd.strict_pos, fmt::format("'strict' applies to lists of options (bytes fields); {} is {}", f.name, f.type_name));
      if (fd.count_rule || !fd.until.empty())
        throw ScriptError(fd.strict_pos, fmt::format("{} is a list with 'count' or 'until', read option by option already: 'strict' adds nothing", f.name));
      f.strict = true;
    }
    if (fd.padded) {
      if (f.kind != FieldKind::Bytes || !f.size_rule || f.size_rule->op != AutoExpr::Op::Int || f.size_rule->i == 0 ||
          f.size_rule->i > (1u << 20))
        throw ScriptError(fd.padded_pos, fmt::format("'padded' applies to bytes fields of a fixed size (`size 64 padded`); {} is not one", f.name));
      f.padded = static_cast<std::uint32_t>(f.size_rule->i);
    }
  }
  // Fields whose change can add or remove another field.
  std::function<void(const AutoExpr&, bool)> mark = [&](const AutoExpr& e, bool all) {
    if ((all && e.op == AutoExpr::Op::Field) || e.op == AutoExpr::Op::Present || e.op == AutoExpr::Op::Given)
      def->fields[e.index].shapes_layout = true;
    for (auto& a : e.args) mark(a, all);
  };
  for (auto& f : def->fields) {
    if (f.cond) mark(*f.cond, true);
    if (f.auto_rule) mark(*f.auto_rule, false);
  }
  // `n : u8 = auto` alone: the inverse of a linear size rule that reads n
  // (`text : bytes size n` gives n = len(text); `size ihl * 4 - 20` gives
  // ihl = (len(options) + 20) / 4).
  for (std::size_t i = 0; i < decl.fields.size(); ++i) {
    if (!decl.fields[i].auto_bare) continue;
    FieldDef& f = def->fields[i];
    if (f.kind != FieldKind::UInt)
      throw ScriptError(decl.fields[i].pos, "auto rules are supported on unsigned integer fields only");
    for (std::size_t v = 0; v < def->fields.size() && !f.auto_rule; ++v) {
      const FieldDef& var = def->fields[v];
      if (var.count_rule && var.count_rule->op == AutoExpr::Op::Field && var.count_rule->index == i) {
        // `qd : bytes count qdcount`: qdcount = count(qd).
        AutoExpr cnt;
        cnt.op = AutoExpr::Op::Count;
        cnt.index = v;
        cnt.pos = decl.fields[i].auto_pos;
        f.auto_rule = std::make_shared<AutoExpr>(std::move(cnt));
        f.auto_text = fmt::format("count({})", var.name);
        break;
      }
      if (!var.size_rule) continue;
      LinearRule lin = linear_rule(var.size_rule.get(), *def);
      if (!lin.ok || lin.terms.size() != 1 || lin.terms[0].first != i || lin.terms[0].second <= 0) continue;
      const std::int64_t c = lin.terms[0].second, k = lin.k;
      AutoExpr len;
      len.op = AutoExpr::Op::Len;
      len.pos = decl.fields[i].auto_pos;
      AutoExpr field;
      field.op = AutoExpr::Op::Field;
      field.index = v;
      len.args.push_back(field);
      AutoExpr num;
      num.op = AutoExpr::Op::Int;
      num.i = static_cast<std::uint64_t>(k < 0 ? -k : k);
      AutoExpr shifted;
      shifted.op = k < 0 ? AutoExpr::Op::Add : AutoExpr::Op::Sub;
      shifted.pos = len.pos;
      shifted.args = {len, num};
      AutoExpr rule = k == 0 ? len : shifted;
      if (c != 1) {
        AutoExpr div;
        div.op = AutoExpr::Op::Div;
        div.pos = len.pos;
        AutoExpr cn;
        cn.op = AutoExpr::Op::Int;
        cn.i = static_cast<std::uint64_t>(c);
        div.args = {rule, cn};
        rule = div;
      }
      f.auto_rule = std::make_shared<AutoExpr>(std::move(rule));
      std::string lenx = fmt::format("len({})", var.name);
      std::string body = k == 0 ? lenx : fmt::format("{} {} {}", lenx, k < 0 ? '+' : '-', k < 0 ? -k : k);
      f.auto_text = c == 1 ? body : fmt::format("({}) / {}", body, c);
    }
    if (!f.auto_rule)
      throw ScriptError(decl.fields[i].pos,
                        fmt::format("'{} = auto' needs a rule: no size rule of {} reads {} linearly (such as "
                                    "`size {}` on a bytes field) and no list is counted by it; write the rule, e.g. `= auto len(...)`",
                                    f.name, decl.name, f.name, f.name));
  }
  if (decl.payload_size) {
    def->payload_size = std::make_shared<AutoExpr>(compile_auto(*decl.payload_size, *def, RuleKind::Read, this));
    def->payload_text = source_text(*decl.payload_size);
  }
  if (decl.has_summary) {
    check_summary(*def, decl.summary, decl.summary_pos);
    def->summary = decl.summary;
  }
  def->aka = decl.aka;
  for (auto& w : decl.wireshark) {
    LayerDef::WiresharkTable t{w.table, {}};
    for (auto& [fname, fpos] : w.fields) {
      int idx = def->field_index(fname);
      if (idx < 0) {
        std::string hint = nearest_name(fname, def->field_names());
        throw ScriptError(fpos, fmt::format("wireshark \"{}\": {} has no field '{}'{}", w.table, decl.name, fname,
                                            hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
      }
      if (def->fields[idx].kind != FieldKind::UInt)
        throw ScriptError(fpos, fmt::format("wireshark \"{}\": {}.{} is not a number field; a dissector table is keyed by numbers",
                                            w.table, decl.name, fname));
      t.fields.push_back(static_cast<std::size_t>(idx));
    }
    def->wireshark.push_back(std::move(t));
  }
  for (auto& p : decl.pseudo) def->pseudo.push_back(compile_auto(*p, *def, RuleKind::Pseudo, this));
  for (auto& pname : decl.params) {
    int idx = def->field_index(pname);
    if (idx < 0)
      throw ScriptError(decl.pos, fmt::format("parameter '{}' of option {} names no field of it", pname, decl.name));
    def->params.push_back(static_cast<std::size_t>(idx));
  }
  if (decl.variadic && def->fields[def->params.back()].kind != FieldKind::Array)
    throw ScriptError(decl.pos, fmt::format("the variadic parameter of option {} must be an array field (uN[])", decl.name));
  for (auto& f : def->fields) {
    ReadField r;
    r.simple = f.kind == FieldKind::UInt && !f.little_endian && !f.cond && f.bits <= 57;
    r.kind = f.kind;
    r.little_endian = f.little_endian;
    r.fixed = f.fixed_size();
    r.bits = f.bits;
    r.cond = f.cond.get();
    r.size = f.size_rule.get();
    r.size_linear = linear_rule(f.size_rule.get(), *def);
    r.count = f.count_rule.get();
    r.until = !f.until.empty();
    r.strict = f.strict;
    r.self_sized = f.type().self_sized();
    def->read_plan.push_back(std::move(r));
  }
  for (std::size_t i = def->read_plan.size(); i-- > 0;) {
    ReadField& r = def->read_plan[i];
    if (!r.simple) continue;
    const ReadField* next = i + 1 < def->read_plan.size() ? &def->read_plan[i + 1] : nullptr;
    r.run = static_cast<std::uint16_t>(next && next->simple ? std::min(next->run + 1, 0xffff) : 1);
    r.run_bits = r.bits + (next && next->simple ? next->run_bits : 0);
  }
  def->payload_linear = linear_rule(def->payload_size.get(), *def);
  if (decl.is_option) {
    // The option that pads its field (`align 8 with padn`): the host learns it.
    auto host = layer(decl.option_layer);
    int hf = host->field_index(decl.option_field);
    if (host->fields[hf].pad_with == decl.name) {
      auto copy = std::make_shared<LayerDef>(*host);
      copy->fields[hf].pad_option = def;
      layers_[decl.option_layer] = std::move(copy);
    }
    options_[decl.option_layer + "." + decl.option_field + "." + decl.name] = std::move(def);
  }
  else
  {
    // Bindings from this layer name their field by index: re-point them at the new definition.
    for (auto it = bindings_.begin(); it != bindings_.end();) {
      if (it->lower != decl.name || it->field == kNoField) { ++it; continue; }
      auto old = layers_.count(decl.name) ? layers_[decl.name] : nullptr;
      int fi = old ? def->field_index(old->fields[it->field].name) : -1;
      bool keep = fi >= 0 && old && def->fields[fi].kind == old->fields[it->field].kind &&
                  def->fields[fi].bits == old->fields[it->field].bits;
      if (keep) {
        it->field = static_cast<std::size_t>(fi);
        ++it;
      } else {
        it = bindings_.erase(it);
      }
    }
    layers_[decl.name] = std::move(def);
  }
  ++generation_;
  read_cache_.clear();
}

std::string Registry::layer_hint(const std::string& n, const std::vector<std::string>& more) const {
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (bool exact : {true, false})
    for (auto& name : layer_names())
      for (auto& a : layer(name)->aka)
        if (exact ? a == n : lower(a) == lower(n)) return fmt::format("; pkt calls it '{}'", name);
  std::vector<std::string> cands = layer_names();
  cands.insert(cands.end(), more.begin(), more.end());
  std::string hint = nearest_name(n, cands);
  return hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint);
}

void Registry::bind(const ast::Stmt& s) {
  auto lower = layer(s.bind_lower);
  auto unknown = [&](const std::string& n, Pos p) {
    throw ScriptError(p, fmt::format("unknown layer '{}'{}", n, layer_hint(n)));
  };
  if (!lower) unknown(s.bind_lower, s.bind_lower_pos.src ? s.bind_lower_pos : s.pos);
  if (!layer(s.bind_upper)) unknown(s.bind_upper, s.bind_upper_pos);
  if (s.bind_field.empty()) {
    // `bind LOWER -> UPPER`: UPPER always follows (reading tries it after the field bindings).
    Binding b;
    b.lower = s.bind_lower;
    b.field = kNoField;
    b.upper = s.bind_upper;
    b.pos = s.pos;
    if (s.bind_when) {
      b.when = std::make_shared<AutoExpr>(compile_auto(*s.bind_when, *layer(s.bind_upper), RuleKind::Read, this));
      b.when_text = source_text(*s.bind_when);
    }
    std::erase_if(bindings_, [&](const Binding& o) { return o.lower == b.lower && o.upper == b.upper && o.field == kNoField; });
    bindings_.push_back(std::move(b));
    ++generation_;
    read_cache_.clear();
    return;
  }
  int fi = lower->field_index(s.bind_field);
  if (fi < 0) {
    std::string hint = nearest_name(s.bind_field, lower->field_names());
    throw ScriptError(s.bind_field_pos.src ? s.bind_field_pos : s.pos, fmt::format("unknown field '{}' of {}{}", s.bind_field, s.bind_lower,
                                         hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
  }
  Binding b;
  b.lower = s.bind_lower;
  b.field = static_cast<std::size_t>(fi);
  b.value = coerce_field(*lower, lower->fields[fi], *s.value, CoerceEnv{this, nullptr, ".", confine});
  b.upper = s.bind_upper;
  b.pos = s.pos;
  if (s.bind_when) {
    b.when = std::make_shared<AutoExpr>(compile_auto(*s.bind_when, *layer(s.bind_upper), RuleKind::Read, this));
    b.when_text = source_text(*s.bind_when);
  }
  // A later binding for the same pair and field replaces the earlier one; a
  // binding on another field (udp.sport and udp.dport) or value (pcap.linktype) adds to it.
  std::erase_if(bindings_, [&](const Binding& o) {
    return o.lower == b.lower && o.upper == b.upper && o.field == b.field && o.value == b.value;
  });
  bindings_.push_back(std::move(b));
  ++generation_;
  read_cache_.clear();
}

std::shared_ptr<const LayerDef> Registry::layer(const std::string& name) const {
  auto it = layers_.find(name);
  return it == layers_.end() ? nullptr : it->second;
}

std::shared_ptr<const LayerDef> Registry::option(const std::string& l, const std::string& f, const std::string& n) const {
  auto it = options_.find(l + "." + f + "." + n);
  return it == options_.end() ? nullptr : it->second;
}

bool Registry::has_options(const std::string& l, const std::string& f) const {
  std::string prefix = l + "." + f + ".";
  auto it = options_.lower_bound(prefix);
  return it != options_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

std::vector<std::string> Registry::option_names(const std::string& l, const std::string& f) const {
  std::string prefix = l + "." + f + ".";
  std::vector<std::string> out;
  for (auto it = options_.lower_bound(prefix); it != options_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    out.push_back(it->first.substr(prefix.size()));
  return out;
}

std::vector<std::string> Registry::layer_names() const {
  std::vector<std::string> out;
  for (auto& [n, d] : layers_) out.push_back(n);
  return out;
}

const Binding* Registry::binding(const std::string& lower, const std::string& upper) const {
  // The latest declaration wins when building.
  for (auto it = bindings_.rbegin(); it != bindings_.rend(); ++it)
    if (it->lower == lower && it->upper == upper) return &*it;
  return nullptr;
}

const Binding* Registry::binding(const std::string& lower, const std::string& upper, std::size_t field) const {
  for (auto it = bindings_.rbegin(); it != bindings_.rend(); ++it)
    if (it->lower == lower && it->upper == upper && it->field == field) return &*it;
  return nullptr;
}

std::vector<const Binding*> Registry::bindings(const std::string& lower, const std::string& upper) const {
  std::vector<const Binding*> out;
  for (auto it = bindings_.rbegin(); it != bindings_.rend(); ++it)
    if (it->lower == lower && it->upper == upper &&
        std::none_of(out.begin(), out.end(), [&](const Binding* b) { return b->field == it->field; }))
      out.push_back(&*it);
  return out;
}

std::shared_ptr<const std::vector<ReadBind>> Registry::reads_from(const std::string& lower) const {
  auto it = read_cache_.find(lower);
  if (it != read_cache_.end()) return it->second;
  auto out = std::make_shared<std::vector<ReadBind>>();
  for (auto& b : bindings_) {
    if (b.lower != lower) continue;
    auto up = layer(b.upper);
    if (up) out->push_back(ReadBind{b.field, b.value, std::move(up), b.when, b.when_text, ""});
  }
  read_cache_[lower] = out;
  return out;
}

std::vector<std::shared_ptr<const LayerDef>> Registry::options_of(const std::string& l, const std::string& f) const {
  std::vector<std::shared_ptr<const LayerDef>> tagged, generic;
  std::string prefix = l + "." + f + ".";
  for (auto it = options_.lower_bound(prefix); it != options_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    const LayerDef& d = *it->second;
    bool tag = !d.fields.empty() && d.fields[0].has_default && !d.fields[0].auto_rule && d.fields[0].fixed_size();
    (tag ? tagged : generic).push_back(it->second);
  }
  tagged.insert(tagged.end(), generic.begin(), generic.end());
  return tagged;
}

std::vector<Binding> Registry::bindings_of(const std::string& l) const {
  std::vector<Binding> out;
  for (auto& b : bindings_)
    if (b.lower == l || b.upper == l) out.push_back(b);
  return out;
}

}  // namespace pkt
