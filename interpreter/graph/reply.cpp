#include "reply.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "diagnostic.hpp"
#include "layer_def.hpp"
#include "packet.hpp"

namespace pkt {

namespace {

using Op = ReplyExpr::Op;

struct Compiler {
  const LayerDef& def;
  bool quotes;  // the probe is in the quote: `sent` names nothing here
  const LayerDef* sent_def = nullptr;  // `to PROBE`: sent.FIELD is a field of PROBE

  void need_field(const std::string& name, Pos pos) const {
    if (def.field_index(name) >= 0) return;
    std::string hint = nearest_name(name, def.field_names());
    throw ScriptError(pos, fmt::format("{} has no field '{}'{}", def.name, name,
                                       hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
  }

  // A name that is not a field: one of the layer's enum or flag names.
  bool named_value(const std::string& name, std::uint64_t& v) const {
    bool found = false;
    for (auto& f : def.fields)
      for (auto* list : {&f.enums, &f.flags})
        for (auto& [n, x] : *list)
          if (n == name) {
            if (found && x != v) return false;
            v = x;
            found = true;
          }
    return found;
  }

  ReplyExpr compile(const ast::Expr& e, int depth = 0) const {
    if (depth > 200) throw ScriptError(e.pos, "this condition is nested more than 200 levels deep");
    using K = ast::Expr::Kind;
    ReplyExpr r;
    r.pos = e.pos;
    switch (e.kind) {
      case K::Int: r.op = Op::Int; r.i = e.i; return r;
      case K::String: case K::Bytes: case K::IPv4: case K::IPv6: case K::MAC:
        r.op = Op::Bytes; r.s = e.s; return r;
      case K::Name: {
        if (def.field_index(e.s) >= 0) {
          r.op = Op::Field;
          r.s = e.s;
          return r;
        }
        if (named_value(e.s, r.i)) return r;
        auto names = def.field_names();
        for (auto& f : def.fields) {
          for (auto& [n, x] : f.enums) names.push_back(n);
          for (auto& [n, x] : f.flags) names.push_back(n);
        }
        std::string hint = nearest_name(e.s, names);
        throw ScriptError(e.pos, fmt::format("unknown name '{}' in a reply rule of {}; expected a field of {}, one of its "
                                             "named values, or sent.FIELD{}", e.s, def.name, def.name,
                                             hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
      }
      case K::Member: {
        const ast::Expr& obj = *e.items.at(0);
        if (obj.kind != K::Name || obj.s != "sent")
          throw ScriptError(e.pos, "expected sent.FIELD (a field of the probe's layer) or a field of the reply");
        if (quotes)
          throw ScriptError(obj.pos, "the probe is in the quote here: a rule with 'payload quotes sent' cannot read sent.FIELD "
                                     "(write the comparison as a `reply LAYER quoted` rule)");
        if (sent_def && sent_def->field_index(e.s) < 0) {
          std::string hint = nearest_name(e.s, sent_def->field_names());
          throw ScriptError(e.pos, fmt::format("{} has no field '{}'{}", sent_def->name, e.s,
                                               hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
        }
        if (!sent_def) need_field(e.s, e.pos);
        r.op = Op::SentField;
        r.s = e.s;
        return r;
      }
      case K::Binary: {
        switch (e.op) {
          case '+': r.op = Op::Add; break;
          case '-': r.op = Op::Sub; break;
          case '*': r.op = Op::Mul; break;
          case '/': r.op = Op::Div; break;
          case '&': r.op = Op::BitAnd; break;
          case '=': r.op = Op::Eq; break;
          case '!': r.op = Op::Ne; break;
          case '<': r.op = Op::Lt; break;
          case 'l': r.op = Op::Le; break;
          case '>': r.op = Op::Gt; break;
          case 'g': r.op = Op::Ge; break;
          case 'A': r.op = Op::And; break;
          case 'O': r.op = Op::Or; break;
          default: throw ScriptError(e.pos, "this operator is not allowed in a reply rule");
        }
        r.args.push_back(compile(*e.items.at(0), depth + 1));
        r.args.push_back(compile(*e.items.at(1), depth + 1));
        return r;
      }
      case K::Call:
        if (e.s == "not" && e.args.size() == 1) {
          r.op = Op::Not;
          r.args.push_back(compile(*e.args[0].value, depth + 1));
          return r;
        }
        throw ScriptError(e.pos, fmt::format("unknown function '{}' in a reply rule; conditions use fields, sent.FIELD, "
                                             "numbers, addresses, + - * / &, comparisons, in [..], and, or, not", e.s));
      default:
        throw ScriptError(e.pos, "this form is not allowed in a reply rule; expected a field, sent.FIELD, a number, "
                                 "an address, arithmetic or a comparison");
    }
  }
};

// A value: a number, or bytes (an address, a byte string).
struct Value {
  bool is_bytes = false;
  std::uint64_t num = 0;
  std::string bytes;

  // Up to 8 bytes read as a big-endian number.
  bool as_number(std::uint64_t& out) const {
    if (!is_bytes) {
      out = num;
      return true;
    }
    if (bytes.size() > 8) return false;
    out = 0;
    for (unsigned char c : bytes) out = out << 8 | c;
    return true;
  }
};

Value field_value(const LayerInst& li, const std::string& name) {
  Value v;
  int idx = li.def->field_index(name);
  if (idx < 0) return v;  // a redefined layer without it: 0
  const FieldSlot& s = li.fields[static_cast<std::size_t>(idx)];
  if (li.def->fields[static_cast<std::size_t>(idx)].kind == FieldKind::UInt) {
    v.num = s.present ? s.value.num : 0;
  } else {
    v.is_bytes = true;
    if (s.present) v.bytes = s.value.bytes;
  }
  return v;
}

struct Eval {
  const LayerInst& mine;
  const LayerInst* sent;

  std::uint64_t number(const ReplyExpr& e) const {
    Value v = value(e);
    std::uint64_t n = 0;
    if (!v.as_number(n)) throw ScriptError(e.pos, fmt::format("a value of {} bytes is not a number", v.bytes.size()));
    return n;
  }

  // Equality: bytes with bytes, else as numbers.
  int compare(const ReplyExpr& a, const ReplyExpr& b) const {
    Value x = value(a), y = value(b);
    if (x.is_bytes && y.is_bytes) return x.bytes < y.bytes ? -1 : x.bytes == y.bytes ? 0 : 1;
    std::uint64_t m = 0, n = 0;
    if (!x.as_number(m) || !y.as_number(n)) return x.is_bytes ? 1 : -1;  // a long address is no number
    return m < n ? -1 : m == n ? 0 : 1;
  }

  Value value(const ReplyExpr& e) const {
    Value v;
    switch (e.op) {
      case Op::Int: v.num = e.i; return v;
      case Op::Bytes: v.is_bytes = true; v.bytes = e.s; return v;
      case Op::Field: return field_value(mine, e.s);
      case Op::SentField: return sent ? field_value(*sent, e.s) : v;
      case Op::Add: v.num = number(e.args[0]) + number(e.args[1]); return v;  // wraps, like the fields it models
      case Op::Sub: v.num = number(e.args[0]) - number(e.args[1]); return v;
      case Op::Mul: v.num = number(e.args[0]) * number(e.args[1]); return v;
      case Op::Div: {
        std::uint64_t d = number(e.args[1]);
        if (d == 0) throw ScriptError(e.pos, "division by zero");
        v.num = number(e.args[0]) / d;
        return v;
      }
      case Op::BitAnd: v.num = number(e.args[0]) & number(e.args[1]); return v;
      case Op::Eq: v.num = compare(e.args[0], e.args[1]) == 0; return v;
      case Op::Ne: v.num = compare(e.args[0], e.args[1]) != 0; return v;
      case Op::Lt: v.num = compare(e.args[0], e.args[1]) < 0; return v;
      case Op::Le: v.num = compare(e.args[0], e.args[1]) <= 0; return v;
      case Op::Gt: v.num = compare(e.args[0], e.args[1]) > 0; return v;
      case Op::Ge: v.num = compare(e.args[0], e.args[1]) >= 0; return v;
      case Op::And: v.num = number(e.args[0]) && number(e.args[1]); return v;
      case Op::Or: v.num = number(e.args[0]) || number(e.args[1]); return v;
      case Op::Not: v.num = number(e.args[0]) == 0; return v;
    }
    return v;
  }
  bool holds(const ReplyExpr& e) const { return number(e) != 0; }
};

// The rules of one reply layer: kNone when it declares none, else whether
// one applies and all that apply hold. `quoting` is set when an applying
// rule says the payload quotes the probe.
enum class Verdict { None, Holds, Fails };

Verdict judge(const std::vector<std::shared_ptr<const ReplyRule>>& rules, const LayerInst& mine, const LayerInst* sent,
              bool* quoting = nullptr) {
  if (rules.empty()) return Verdict::None;
  Eval ev{mine, sent};
  bool applied = false;
  for (auto& r : rules) {
    // A rule is about a probe layer of the reply's name, or the one `to` names.
    const std::string& probe = r->probe.empty() ? r->layer : r->probe;
    if (sent ? sent->def->name != probe : !r->probe.empty()) continue;
    if (r->when && !ev.holds(*r->when)) continue;
    applied = true;
    for (auto& c : r->conds)
      if (!ev.holds(c)) return Verdict::Fails;
    if (r->quotes && quoting) *quoting = true;
  }
  return applied ? Verdict::Holds : Verdict::Fails;
}

const std::string kRaw = "raw";

// The quote after reply layer q against the probe from its layer of the same name.
bool quote_matches(const Registry& reg, const Packet& probe, const Packet& reply, std::size_t q) {
  const auto& R = reply.layers();
  const auto& P = probe.layers();
  std::size_t s = q + 1;
  if (s >= R.size()) return false;
  std::size_t j0 = 0;
  while (j0 < P.size() && P[j0].def->name != R[s].def->name) ++j0;
  if (j0 == P.size()) return false;
  for (std::size_t i = s, j = j0; i < R.size() && j < P.size(); ++i, ++j) {
    const LayerInst& r = R[i];
    const LayerInst& p = P[j];
    if (r.def->name != p.def->name) {
      if (r.def->name != kRaw) return false;
      // Cut short: its bytes are the start of the probe's from there.
      const auto& rb = reply.bytes();
      const auto& pb = probe.bytes();
      std::size_t n = std::min<std::size_t>(r.size, pb.size() - std::min<std::size_t>(p.offset, pb.size()));
      if (n == 0 || r.offset + n > rb.size()) return n == 0;
      return std::memcmp(rb.data() + r.offset, pb.data() + p.offset, n) == 0;
    }
    if (judge(reg.replies_of(r.def->name, true), r, &p) == Verdict::Fails) return false;
  }
  return true;
}

}  // namespace

ReplyRule compile_reply(const ast::ReplyDecl& d, const Registry& reg, Pos pos) {
  auto def = reg.layer(d.layer);
  if (!def) {
    std::string hint = nearest_name(d.layer, reg.layer_names());
    throw ScriptError(d.layer_pos, fmt::format("unknown layer '{}'{}", d.layer, hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
  }
  if (d.quoted && d.quotes)
    throw ScriptError(pos, "a `quoted` rule compares a quote with the probe; it cannot quote again (payload quotes sent)");
  Compiler c{*def, d.quotes};
  ReplyRule r;
  if (!d.probe.empty()) {
    c.sent_def = reg.layer(d.probe).get();
    if (!c.sent_def) {
      std::string hint = nearest_name(d.probe, reg.layer_names());
      throw ScriptError(d.probe_pos, fmt::format("unknown layer '{}'{}", d.probe, hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
    }
    if (d.quoted || d.quotes)
      throw ScriptError(d.probe_pos, "`to PROBE` names the probe's layer an answer replaces; a quote (quoted, payload "
                                     "quotes sent) is of a layer of the same name");
    r.probe = d.probe;
  }
  r.layer = d.layer;
  r.pos = pos;
  r.quoted = d.quoted;
  r.quotes = d.quotes;
  r.text = d.text;
  if (d.when) r.when = std::make_shared<ReplyExpr>(c.compile(*d.when));
  for (auto& e : d.conds) r.conds.push_back(c.compile(*e));
  return r;
}

void Registry::add_reply(const ast::Stmt& st) {
  auto rule = std::make_shared<const ReplyRule>(compile_reply(*st.reply, *this, st.pos));
  replies_[{rule->layer, rule->quoted}].push_back(std::move(rule));
  ++generation_;
}

const std::vector<std::shared_ptr<const ReplyRule>>& Registry::replies_of(const std::string& layer, bool quoted) const {
  static const std::vector<std::shared_ptr<const ReplyRule>> none;
  auto it = replies_.find({layer, quoted});
  return it == replies_.end() ? none : it->second;
}

namespace {

// Whether reply layer r stands for probe layer p: the same name, or a
// `reply R to P` rule.
bool pairs(const Registry& reg, const LayerInst& r, const LayerInst& p) {
  if (r.def->name == p.def->name) return true;
  for (auto& rule : reg.replies_of(r.def->name, false))
    if (rule->probe == p.def->name) return true;
  return false;
}

}  // namespace

bool answers(const Registry& reg, const Packet& probe, const Packet& reply) {
  const auto& R = reply.layers();
  const auto& P = probe.layers();
  if (P.empty()) return false;
  std::size_t r0 = 0;
  while (r0 < R.size() && R[r0].def->name != P[0].def->name) ++r0;
  if (r0 == R.size()) return false;
  // An error message quoting the probe: the outermost layer that says so.
  for (std::size_t i = r0; i < R.size(); ++i) {
    bool quoting = false;
    const LayerInst* sent = i - r0 < P.size() && pairs(reg, R[i], P[i - r0]) ? &P[i - r0] : nullptr;
    Verdict v = judge(reg.replies_of(R[i].def->name, false), R[i], sent, &quoting);
    if (quoting) return v == Verdict::Holds && quote_matches(reg, probe, reply, i);
  }
  for (std::size_t k = 0; r0 + k < R.size() && k < P.size(); ++k) {
    const LayerInst& r = R[r0 + k];
    const LayerInst& p = P[k];
    if (!pairs(reg, r, p)) {
      if (r.def->name == kRaw || p.def->name == kRaw) break;  // payloads past what the rules read
      return false;
    }
    if (judge(reg.replies_of(r.def->name, false), r, &p) == Verdict::Fails) return false;
  }
  return true;
}

}  // namespace pkt
