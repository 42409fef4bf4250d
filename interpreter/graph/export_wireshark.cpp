// `pkt export wireshark`: writes each layer's description as Lua data (its
// fields with their ProtoFields, rules as small Lua functions, options,
// next-layer candidates) after a fixed prelude (export_wireshark_prelude.lua)
// that reads and shows any layer described that way.
#include "export_wireshark.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "layer_info.hpp"

namespace pkt {

extern const char* const wireshark_prelude;

namespace {

std::string lua_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c == '\n') out += "\\n";
    else if (c < 0x20 || c >= 0x7f) out += fmt::format("\\{:03d}", c);
    else out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string num(std::uint64_t v) {
  // Lua 5.1-5.3 numbers may be doubles: exact up to 2^53; larger constants are written as floats.
  return std::to_string(v);
}

bool has_op(const AutoExpr& e, AutoExpr::Op op, AutoExpr::Op op2) {
  if (e.op == op || e.op == op2) return true;
  for (auto& a : e.args)
    if (has_op(a, op, op2)) return true;
  return false;
}
bool has_len(const AutoExpr& e) { return has_op(e, AutoExpr::Op::Len, AutoExpr::Op::Len); }

const char* op_name(AutoExpr::Op op) {
  using Op = AutoExpr::Op;
  switch (op) {
    case Op::Bytes: return "a byte string";
    case Op::This: return "this";
    case Op::Payload: return "payload";
    case Op::Pseudo: return "pseudo";
    case Op::Checksum: return "inet_checksum()";
    case Op::Crc32c: return "crc32c()";
    case Op::ToBytes: return "uN()";
    case Op::Concat: return "bytes()";
    case Op::Upper: return "upper";
    case Op::Bound: return "bound()";
    case Op::Slice: return "slice()";
    case Op::RouteSource: return "route_source()";
    case Op::Count: return "count()";
    default: return "this primitive";
  }
}

// A rule as a Lua expression over `n` (the layer's node) and `C` (what is
// below it). `agree`: an option's length rule, where len(this) is its size.
// Empty, with `bad` naming the primitive, when Lua cannot say it.
std::string lua_rule(const AutoExpr& e, const LayerDef& def, bool agree, std::string& bad) {
  using Op = AutoExpr::Op;
  auto a = [&](std::size_t k) { return lua_rule(e.args[k], def, agree, bad); };
  switch (e.op) {
    case Op::Int: return num(e.i);
    case Op::Field: return fmt::format("n.v[{}]", e.index + 1);
    case Op::Present:
      return fmt::format("B(n.present[{}] or {})", e.index + 1, def.fields[e.index].has_default ? "true" : "false");
    case Op::Given: return fmt::format("B(n.present[{}])", e.index + 1);
    case Op::LowerField: return fmt::format("lower(C, {}, {})", lua_quote(e.s), lua_quote(e.s2));
    case Op::Len: {
      std::vector<std::string> parts;
      for (auto& x : e.args) {
        if (x.op == Op::Field) parts.push_back(fmt::format("n.len[{}]", x.index + 1));
        else if (x.op == Op::This && agree) parts.push_back("n.size");
        else {
          bad = fmt::format("len({})", op_name(x.op));
          return "";
        }
      }
      return parts.empty() ? "0" : "(" + fmt::format("{}", fmt::join(parts, " + ")) + ")";
    }
    case Op::Not: return fmt::format("B(not T({}))", a(0));
    case Op::Choose: return fmt::format("choose({}, function() return {} end, function() return {} end)", a(0), a(1), a(2));
    case Op::And: return fmt::format("B(T({}) and T({}))", a(0), a(1));
    case Op::Or: return fmt::format("B(T({}) or T({}))", a(0), a(1));
    case Op::Eq: return fmt::format("B({} == {})", a(0), a(1));
    case Op::Ne: return fmt::format("B({} ~= {})", a(0), a(1));
    case Op::Lt: return fmt::format("B({} < {})", a(0), a(1));
    case Op::Le: return fmt::format("B({} <= {})", a(0), a(1));
    case Op::Gt: return fmt::format("B({} > {})", a(0), a(1));
    case Op::Ge: return fmt::format("B({} >= {})", a(0), a(1));
    case Op::BitAnd: return fmt::format("band({}, {})", a(0), a(1));
    case Op::Nonzero: return fmt::format("nz({}, {})", a(0), a(1));
    case Op::Add: return fmt::format("({} + {})", a(0), a(1));
    case Op::Sub: return fmt::format("sub({}, {})", a(0), a(1));
    case Op::Mul: return fmt::format("({} * {})", a(0), a(1));
    case Op::Div: return fmt::format("div({}, {})", a(0), a(1));
    default: bad = op_name(e.op); return "";
  }
}

// The bit positions (mod 8) a field may start at, as a set of 8 bits.
unsigned shift_skips(unsigned set, unsigned bits) {
  unsigned out = 0;
  for (unsigned s = 0; s < 8; ++s)
    if (set & (1u << s)) out |= 1u << ((s + bits) % 8);
  return out;
}

int single_skip(unsigned set) {
  for (unsigned s = 0; s < 8; ++s)
    if (set == (1u << s)) return static_cast<int>(s);
  return -1;
}

struct Gen {
  const Registry& reg;
  const WiresharkExport& opts;
  std::vector<std::string>& warnings;
  std::set<std::string> exported;
  std::string out;        // the layer tables
  std::string tail;       // next-layer lists and registrations
  int ids = 0;
  int pf_ids = 0;
  std::string pf_defs;  // PF[k] = ProtoField...(...), before the table that uses them

  // Defines a ProtoField once: the tree and Proto.fields share the object.
  std::string protofield(const std::string& ctor, std::string& pfs) {
    std::string ref = fmt::format("PF[{}]", ++pf_ids);
    pf_defs += ref + " = " + ctor + "\n";
    pfs += "  " + ref + ",\n";
    return ref;
  }
  std::map<std::string, std::string> layer_var;  // exported layer -> its Lua table

  void warn(const std::string& w) {
    warnings.push_back(w);
    out += "-- warning: " + w + "\n";
  }

  [[noreturn]] void fail(const LayerDef& def, const FieldDef& f, const std::string& why) {
    throw ExportError(fmt::format("{}.{}: {}; the export cannot express it (leave {} out of the layers to export)", def.name, f.name,
                                  why, def.name));
  }

  std::string rule(const AutoExpr& e, const LayerDef& def, const FieldDef* f, const std::string& what, const std::string& text,
                   bool agree = false) {
    std::string bad;
    std::string body = lua_rule(e, def, agree, bad);
    if (!bad.empty()) {
      std::string msg = fmt::format("`{} {}` uses {}, which the dissector cannot evaluate", what, text, bad);
      if (f) fail(def, *f, msg);
      throw ExportError(fmt::format("{}: {}; the export cannot express it", def.name, msg));
    }
    return "function(n, C) return " + body + " end";
  }

  // Warns where a read rule needs a layer below that Wireshark, not this file, reads.
  void check_lower(const AutoExpr& e, const LayerDef& def, const std::string& where) {
    if (e.op == AutoExpr::Op::LowerField && !exported.count(e.s))
      warn(fmt::format("{}: {} reads {}.{}, which is known only when {} is exported too (it is then read by this file); "
                       "below Wireshark's own {} dissector the rule cannot be evaluated",
                       def.name, where, e.s, e.s2, e.s, e.s));
    for (auto& a : e.args) check_lower(a, def, where);
  }

  // One ProtoField constructor call and the render hints of a number field.
  void uint_field(std::string& t, const LayerDef& def, const FieldDef& f, const std::string& abbr, int skip, std::string& pfs) {
    unsigned container = f.little_endian ? f.bits / 8 : (static_cast<unsigned>(skip) + f.bits + 7) / 8;
    if (container > 8) fail(def, f, fmt::format("a {}-bit number starting at bit {} of a byte spans {} bytes", f.bits, skip, container));
    bool masked = !f.little_endian && (skip != 0 || f.bits % 8 != 0);
    bool explicit_value = f.is_signed || (masked && container > 4);
    std::uint64_t mask = 0;
    if (masked) mask = ((f.bits >= 64 ? ~0ULL : (1ULL << f.bits) - 1)) << (container * 8 - skip - f.bits);
    static const char* const utypes[] = {"", "uint8", "uint16", "uint24", "uint32", "uint64", "uint64", "uint64", "uint64"};
    static const char* const itypes[] = {"", "int8", "int16", "int24", "int32", "int64", "int64", "int64", "int64"};
    // Checksums in hex, as pkt shows them.
    bool hex = !f.flags.empty() || (f.auto_rule && has_op(*f.auto_rule, AutoExpr::Op::Checksum, AutoExpr::Op::Crc32c));
    // Enum names: Wireshark's value_string where it takes one (up to 32 bits); several names of a number are joined.
    std::map<std::uint64_t, std::vector<std::string>> byval;
    for (auto& [n, v] : f.enums) byval[v].push_back(n);
    bool vs = !byval.empty() && container <= 4 && !explicit_value;
    std::string vstable = "nil";
    if (vs) {
      std::vector<std::string> parts;
      for (auto& [v, names] : byval) parts.push_back(fmt::format("[{}] = {}", num(v), lua_quote(fmt::format("{}", fmt::join(names, "/")))));
      vstable = "{" + fmt::format("{}", fmt::join(parts, ", ")) + "}";
    }
    std::string pf = protofield(fmt::format("ProtoField.{}({}, {}, {}, {}, {}, {})", f.is_signed ? itypes[container] : utypes[container],
                                            lua_quote(abbr), lua_quote(f.name), f.is_signed ? "base.DEC" : hex ? "base.HEX" : "base.DEC",
                                            vstable, masked && !explicit_value ? num(mask) : "nil", lua_quote(f.doc)),
                                pfs);
    t += fmt::format("kind = \"uint\", bits = {}, le = {}, signed = {}, container = {}, explicit = {}, hex = {}, vs = {}, pf = {}",
                     f.bits, f.little_endian ? "true" : "false", f.is_signed ? "true" : "false", container,
                     explicit_value ? "true" : "false", hex && f.flags.empty() ? "true" : "false", vs ? "true" : "false", pf);
    // pkt's own names: a number with one name shows it; several show the number.
    std::vector<std::string> names;
    for (auto& [v, ns] : byval)
      if (ns.size() == 1) names.push_back(fmt::format("[{}] = {}", num(v), lua_quote(ns[0])));
    if (!names.empty()) t += ", names = {" + fmt::format("{}", fmt::join(names, ", ")) + "}";
    if (!f.flags.empty()) {
      std::vector<std::string> fl;
      for (auto& [n, v] : f.flags) {
        std::string bpf = "nil";
        if (container <= 4 && !explicit_value) {
          std::uint64_t m = f.little_endian ? v : v << (container * 8 - skip - f.bits);
          bpf = protofield(fmt::format("ProtoField.bool({}, {}, {}, nil, {}, nil)", lua_quote(abbr + "." + n), lua_quote(n),
                                       container * 8, num(m)),
                           pfs);
        }
        fl.push_back(fmt::format("{{name = {}, value = {}, pf = {}}}", lua_quote(n), num(v), bpf));
      }
      t += ", flags = {" + fmt::format("{}", fmt::join(fl, ", ")) + "}";
    }
  }

  // The Lua table of a layer or an option: `prefix` names its ProtoFields.
  // Returns the variable; its ProtoFields are appended to `pfs`.
  std::string def_table(const LayerDef& def, const std::string& prefix, std::string& pfs, bool option) {
    std::string var = fmt::format("D[{}]", ++ids);
    std::vector<std::string> fields;
    unsigned skips = 1;
    for (std::size_t i = 0; i < def.fields.size(); ++i) {
      const FieldDef& f = def.fields[i];
      const std::string abbr = prefix + "." + f.name;
      unsigned at = skips;
      int skip = single_skip(at);
      std::string t = fmt::format("{{name = {}, fixed = {}, ", lua_quote(f.name), f.fixed_size() ? "true" : "false");
      if (f.kind == FieldKind::UInt) {
        if (skip < 0) fail(def, f, "where it starts within a byte depends on a condition before it");
        uint_field(t, def, f, abbr, skip, pfs);
      } else {
        if (skip != 0) fail(def, f, "it does not start on a byte boundary");
        if (f.kind == FieldKind::IPv4 || f.kind == FieldKind::IPv6 || f.kind == FieldKind::MAC) {
          const char* k = f.kind == FieldKind::IPv4 ? "ipv4" : f.kind == FieldKind::IPv6 ? "ipv6" : "mac";
          const char* ctor = f.kind == FieldKind::IPv4 ? "ipv4" : f.kind == FieldKind::IPv6 ? "ipv6" : "ether";
          std::string pf = protofield(fmt::format("ProtoField.{}({}, {}, {})", ctor, lua_quote(abbr), lua_quote(f.name), lua_quote(f.doc)), pfs);
          t += fmt::format("kind = \"{}\", bits = {}, pf = {}", k, f.bits, pf);
        } else if (f.type().self_sized()) {
          std::string pf = protofield(fmt::format("ProtoField.string({}, {}, base.ASCII, {})", lua_quote(abbr), lua_quote(f.name), lua_quote(f.doc)), pfs);
          t += "kind = \"name\", self_sized = true, pf = " + pf;
        } else if (f.type_name == "text[]") {
          std::string pf = protofield(fmt::format("ProtoField.bytes({}, {}, base.NONE, {})", lua_quote(abbr), lua_quote(f.name), lua_quote(f.doc)), pfs);
          std::string epf = protofield(fmt::format("ProtoField.string({}, {}, base.ASCII)", lua_quote(abbr + ".string"), lua_quote(f.name)), pfs);
          t += fmt::format("kind = \"text\", pf = {}, epf = {}", pf, epf);
        } else if (f.kind == FieldKind::Array) {
          // Elements: numbers or addresses, each a ProtoField LAYER.FIELD.
          std::string etype = f.type_name.substr(0, f.type_name.size() - 2);
          std::string pf;
          if (etype == "ipv4addr") pf = fmt::format("ProtoField.ipv4({}, {}, {})", lua_quote(abbr), lua_quote(f.name), lua_quote(f.doc));
          else if (etype == "ipv6addr") pf = fmt::format("ProtoField.ipv6({}, {}, {})", lua_quote(abbr), lua_quote(f.name), lua_quote(f.doc));
          else if (etype == "mac") pf = fmt::format("ProtoField.ether({}, {}, {})", lua_quote(abbr), lua_quote(f.name), lua_quote(f.doc));
          else {
            static const char* const utypes[] = {"", "uint8", "uint16", "uint24", "uint32", "uint64", "uint64", "uint64", "uint64"};
            if (f.bits % 8 != 0 || f.bits > 64) fail(def, f, "its elements are not whole bytes");
            pf = fmt::format("ProtoField.{}({}, {}, base.DEC, nil, nil, {})", utypes[f.bits / 8], lua_quote(abbr), lua_quote(f.name),
                             lua_quote(f.doc));
          }
          pf = protofield(pf, pfs);
          t += fmt::format("kind = \"array\", bits = {}, le = {}, pf = {}", f.bits, f.little_endian ? "true" : "false", pf);
        } else {
          std::string pf = protofield(fmt::format("ProtoField.bytes({}, {}, base.NONE, {})", lua_quote(abbr), lua_quote(f.name), lua_quote(f.doc)), pfs);
          t += "kind = \"bytes\", pf = " + pf;
        }
      }
      if (f.cond) {
        t += ", cond = " + rule(*f.cond, def, &f, "if", f.cond_text);
        check_lower(*f.cond, def, fmt::format("{}'s `if {}`", f.name, f.cond_text));
      }
      if (f.size_rule) {
        t += fmt::format(", size = {}, size_text = {}", rule(*f.size_rule, def, &f, "size", f.size_text), lua_quote(f.size_text));
        check_lower(*f.size_rule, def, fmt::format("{}'s `size {}`", f.name, f.size_text));
      }
      if (f.count_rule) {
        t += fmt::format(", count = {}, count_text = {}", rule(*f.count_rule, def, &f, "count", f.count_text), lua_quote(f.count_text));
        check_lower(*f.count_rule, def, fmt::format("{}'s `count {}`", f.name, f.count_text));
      }
      if (!f.until.empty()) t += ", until_name = " + lua_quote(f.until);
      if (f.strict) t += ", strict = true";
      if (option && f.auto_rule && f.kind == FieldKind::UInt && has_len(*f.auto_rule)) {
        // Matching an option: a length its rule disagrees with is not this option (as pkt reads).
        t += fmt::format(", agree = {}, auto_text = {}", rule(*f.auto_rule, def, &f, "auto", f.auto_text, true),
                         lua_quote(f.auto_text));
      }
      // A list's options: each its own table, its ProtoFields under LAYER.FIELD.OPTION.
      auto optdefs = reg.options_of(def.name, f.name);
      if (!optdefs.empty() && !option) {
        std::vector<std::string> ov;
        for (auto& od : optdefs) ov.push_back(def_table(*od, abbr + "." + od->name, pfs, true));
        t += ", opts = {" + fmt::format("{}", fmt::join(ov, ", ")) + "}";
      } else if ((f.count_rule || !f.until.empty() || f.strict) && optdefs.empty()) {
        fail(def, f, "it is a list with no options declared");
      }
      fields.push_back(t + "}");
      unsigned after = f.fixed_size() ? shift_skips(at, f.bits) : at;
      skips = f.cond ? (at | after) : after;
    }
    std::vector<std::string> index, params;
    for (std::size_t i = 0; i < def.fields.size(); ++i) index.push_back(fmt::format("{} = {}", def.fields[i].name, i + 1));
    for (auto p : def.params) params.push_back(std::to_string(p + 1));
    std::string body = fmt::format("{} = {{name = {}, index = {{{}}}, params = {{{}}},\n  fields = {{\n    {}\n  }}}}\n", var,
                                   lua_quote(def.name), fmt::join(index, ", "), fmt::join(params, ", "), fmt::join(fields, ",\n    "));
    if (option) {
      const FieldDef& tag = def.fields[0];
      if (tag.has_default && !tag.auto_rule && tag.fixed_size()) {
        std::string hex;
        for (unsigned char c : tag.default_value.bytes) hex += fmt::format("{:02x}", c);
        body += fmt::format("{}.tag = {}\n", var, tag.kind == FieldKind::UInt ? num(tag.default_value.num) : lua_quote(hex));
      }
    }
    out += pf_defs + body;
    pf_defs.clear();
    return var;
  }

  void layer(const LayerDef& def) {
    const std::string ws = wireshark_name(opts, def.name);
    std::string pfs;
    out += fmt::format("\n-- {}: {}{}\n", def.name, def.doc, def.pos.src ? fmt::format(" ({}:{})", def.pos.src->name, def.pos.line) : "");
    std::string var = def_table(def, ws, pfs, false);
    layer_var[def.name] = var;
    const std::string trailer = def.field_index("trailer") >= 0 ? "_trailer" : "trailer";
    out += fmt::format("{}.proto = new_proto({}, {}, {})\n", var, lua_quote(ws),
                       lua_quote(ws + ": " + (def.doc.empty() ? def.name : def.doc)), lua_quote(def.name));
    out += fmt::format("{}.note = ProtoExpert.new({}, \"pkt note\", expert.group.MALFORMED, expert.severity.WARN)\n", var,
                       lua_quote(ws + ".note"));
    out += fmt::format("{}.trailer_pf = ProtoField.bytes({}, \"trailer\", base.NONE, \"bytes past the payload size\")\n", var,
                       lua_quote(ws + "." + trailer));
    out += fmt::format("{}.proto.fields = {{\n{}  {}.trailer_pf,\n}}\n", var, pfs, var);
    out += fmt::format("{}.proto.experts = {{{}.note}}\n", var, var);
    if (!def.summary.empty()) out += fmt::format("{}.summary = {}\n", var, lua_quote(def.summary));
    if (def.payload_size) {
      out += fmt::format("{}.payload_size = {}\n{}.payload_text = {}\n", var,
                         rule(*def.payload_size, def, nullptr, "payload size", def.payload_text), var, lua_quote(def.payload_text));
      check_lower(*def.payload_size, def, fmt::format("`payload size {}`", def.payload_text));
    }
    out += fmt::format("{}.proto.dissector = function(tvb, pinfo, tree) return entry({}, tvb, pinfo, tree) end\n", var, var);
  }

  // What follows each exported layer, and where Wireshark's tables lead to one.
  void links(const LayerDef& def) {
    const std::string& var = layer_var[def.name];
    LayerInfo info = layer_info(reg, def);
    std::vector<std::string> next;
    int order = 0;
    for (auto& n : info.next) {
      ++order;
      std::string field = n.field ? std::to_string(n.field - def.fields.data() + 1) : "nil";
      if (n.field && n.field->kind != FieldKind::UInt) {
        tail += fmt::format("-- {} -> {}: bound on {}, which is not a number: not followed\n", def.name, n.upper->name, n.field->name);
        continue;
      }
      std::string when = "nil";
      if (n.when) {
        std::string bad;
        std::string body = lua_rule(*n.when, *n.upper, false, bad);
        if (!bad.empty()) {
          tail += fmt::format("-- {} -> {}: `when {}` uses {}: not followed\n", def.name, n.upper->name, n.when_text, bad);
          continue;
        }
        when = "function(n, C) return " + body + " end";
      }
      std::string value = n.field ? num(n.value.num) : "nil";
      if (exported.count(n.upper->name)) {
        next.push_back(fmt::format("{{field = {}, value = {}, upper = {}, when = {}, when_text = {}, order = {}}}", field, value,
                                   layer_var[n.upper->name], when, lua_quote(n.when_text), order));
        continue;
      }
      // Not exported: Wireshark's own dissector, through the table the field keys.
      std::string table;
      if (n.field)
        for (auto& w : def.wireshark)
          for (auto i : w.fields)
            if (&def.fields[i] == n.field && table.empty()) table = w.table;
      if (table.empty()) continue;
      next.push_back(fmt::format("{{field = {}, value = {}, table = {}, when = {}, when_text = {}, order = {}}}", field, value,
                                 lua_quote(table), when, lua_quote(n.when_text), order));
    }
    tail += fmt::format("{}.next = {{\n  {}\n}}\n", var, fmt::join(next, ",\n  "));
  }

  // Registers an exported layer in Wireshark's tables, by the bindings to it.
  void registrations(const LayerDef& def) {
    const std::string& var = layer_var[def.name];
    const bool take = opts.own.count(def.name) || opts.replace;
    std::set<std::pair<std::string, std::uint64_t>> done;
    std::vector<std::string> entry;
    bool reachable = false;
    for (auto& b : reg.bindings_of(def.name)) {
      if (b.upper != def.name) continue;
      auto lower = reg.layer(b.lower);
      if (!lower) continue;
      if (b.field == kNoField || lower->fields[b.field].kind != FieldKind::UInt) {
        if (exported.count(b.lower)) reachable = true;
        else
          tail += fmt::format("-- {} follows {} (bind {} -> {}), which has no Wireshark table to register in; export {} too\n",
                              def.name, b.lower, b.lower, b.upper, b.lower);
        continue;
      }
      const FieldDef& f = lower->fields[b.field];
      std::vector<std::string> tables;
      for (auto& w : lower->wireshark)
        for (auto i : w.fields)
          if (i == b.field) tables.push_back(w.table);
      if (tables.empty()) {
        if (exported.count(b.lower)) {
          reachable = true;
          continue;
        }
        std::string msg = fmt::format("{} is bound to {}.{} = {}, but {} declares no Wireshark table for {} "
                                      "(`wireshark \"TABLE\" = {}` in layer {}) and is not exported: Wireshark cannot reach {} that way",
                                      def.name, b.lower, f.name, b.value.num, b.lower, f.name, f.name, b.lower, def.name);
        if (opts.own.count(def.name)) warn(msg);
        else tail += "-- " + msg + "\n";
        continue;
      }
      std::string when = "nil";
      if (b.when) {
        std::string bad;
        std::string body = lua_rule(*b.when, def, false, bad);
        if (bad.empty()) when = "function(n, C) return " + body + " end";
      }
      for (auto& t : tables) {
        reachable = true;
        entry.push_back(fmt::format("{{value = {}, when = {}}}", num(b.value.num), when));
        if (!done.insert({t, b.value.num}).second) continue;
        tail += fmt::format("register({}, {}, {}, {})  -- bind {}.{} = {} -> {}{}\n", lua_quote(t), num(b.value.num), var,
                            take ? "true" : "false", b.lower, f.name, b.value.num, b.upper, b.when ? " when " + b.when_text : "");
      }
    }
    if (!entry.empty()) tail += fmt::format("{}.entry_when = {{{}}}\n", var, fmt::join(entry, ", "));
    if (!reachable && opts.own.count(def.name))
      warn(fmt::format("{} is bound to nothing Wireshark dissects: it is reached only by Decode As, or from another exported layer",
                       def.name));
  }
};

}  // namespace

std::string wireshark_name(const WiresharkExport& opts, const std::string& layer) {
  if (opts.prefix_set) return opts.prefix + layer;
  return opts.own.count(layer) ? layer : "pkt." + layer;
}

std::string export_wireshark(const Registry& reg, const WiresharkExport& opts, std::vector<std::string>& warnings) {
  Gen g{reg, opts, warnings, {}, {}, {}, 0, {}};
  std::vector<std::shared_ptr<const LayerDef>> defs;
  for (auto& name : opts.layers) {
    auto d = reg.layer(name);
    if (!d) throw ExportError(fmt::format("unknown layer '{}'{}; `pkt layers` lists them", name, reg.layer_hint(name)));
    if (g.exported.insert(name).second) defs.push_back(d);
  }
  for (auto& d : defs) {
    std::string ws = wireshark_name(opts, d->name);
    for (char c : ws)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'))
        throw ExportError(fmt::format("--prefix: '{}' is not a Wireshark protocol name (letters, digits, '_', '-' and '.')", ws));
  }
  for (auto& d : defs) g.layer(*d);
  for (auto& d : defs) g.links(*d);
  for (auto& d : defs) g.registrations(*d);
  // pkt reads what no binding claims as its `raw` layer (Dissector::refresh).
  if (g.exported.count("raw")) g.tail += fmt::format("RAW = {}\n", g.layer_var["raw"]);
  std::vector<std::string> names, wsnames;
  for (auto& d : defs) names.push_back(d->name), wsnames.push_back(wireshark_name(opts, d->name));
  std::string head = fmt::format(
      "-- Wireshark dissectors for pkt layers: {}.\n"
      "-- Written by `pkt export wireshark` (pkt {}) from the layers' declarations; do not edit, export again.\n"
      "-- Load: tshark -X lua_script:THIS_FILE ..., or copy it to ~/.local/lib/wireshark/plugins/ (see docs/wireshark.md).\n"
      "-- Protocols (filter names): {}; each field is PROTOCOL.FIELD.\n\n"
      "local PF = {{}}  -- every ProtoField, each made once\n"
      "local D = {{}}   -- every layer and option: what the reader below walks\n",
      fmt::join(names, ", "), opts.version, fmt::join(wsnames, ", "));
  std::string reg_fn =
      "\n-- Registers a layer for a value of one of Wireshark's dissector tables. A value\n"
      "-- Wireshark's own dissector has is taken over only when `take` (a script's\n"
      "-- layer, or --replace); otherwise the layer is offered in Decode As.\n"
      "local function register(table_name, value, D, take)\n"
      "  local ok, t = pcall(DissectorTable.get, table_name)\n"
      "  if not ok or not t then return end\n"
      "  if take or t:get_dissector(value) == nil then t:add(value, D.proto) else t:add_for_decode_as(D.proto) end\n"
      "end\n\n";
  return head + wireshark_prelude + "\n-- The layers.\n" + g.out + reg_fn + g.tail;
}

}  // namespace pkt
