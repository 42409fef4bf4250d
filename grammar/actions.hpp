// Actions that build the AST while the rules of rules.hpp match.
//
// Nested constructs get a fresh state ("frame") through pegtl::change_states:
// sub-rules fill the frame, and the frame's success() hands the finished
// node to the enclosing frame with push(). A frame that fails is dropped, so
// backtracking never leaves half-built nodes behind. Leaf rules (literals,
// names) push into the innermost frame; wrappers such as default_value pop
// what their value pushed and store it where it belongs.
//
// Include only from parse.cpp: it is the one place that runs the parser.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tao/pegtl.hpp>

#include "ast.hpp"
#include "encodings.hpp"
#include "diagnostic.hpp"
#include "rules.hpp"

namespace pkt::grammar {

namespace pegtl = tao::pegtl;
using ast::Expr;
using ast::ExprPtr;
using Kind = ast::Expr::Kind;
using SKind = ast::Stmt::Kind;

// PEGTL's memory input, plus the Source, so that actions can make a Pos.
struct Input : pegtl::memory_input<> {
  explicit Input(const Source* s)
      : pegtl::memory_input<>(s->text.data(), s->text.data() + s->text.size(), s->name), src(s) {}
  const Source* src;
};

// ---------------------------------------------------------------- positions

template <typename In>
const Source* source_of(const In& in) {
  // Only parse.cpp runs these actions, always on an Input (PEGTL's action
  // input refers to it through its memory_input base).
  if constexpr (requires { in.input(); }) {
    return static_cast<const Input&>(in.input()).src;  // an action input
  } else {
    return static_cast<const Input&>(in).src;  // the parse input itself
  }
}

// Where an action's input starts (or where a parse input is now).
template <typename In>
Pos pos_of(const In& in) {
  const auto& it = in.iterator();
  return Pos{source_of(in), static_cast<std::uint32_t>(it.byte), static_cast<std::uint32_t>(it.line),
             static_cast<std::uint32_t>(it.column)};
}

// Any byte offset of a source (slow: for errors only).
inline Pos pos_at(const Source* src, std::size_t offset) {
  Pos p{src, static_cast<std::uint32_t>(offset), 1, 1};
  const std::string& t = src->text;
  for (std::size_t i = 0; i < offset && i < t.size(); ++i) {
    if (t[i] == '\n') {
      ++p.line;
      p.col = 1;
    } else {
      ++p.col;
    }
  }
  return p;
}

// An error `k` bytes into an action's input (all our literals are one line,
// except hex and base64 strings, whose errors point at their start).
template <typename In>
[[noreturn]] void fail_at(const In& in, std::size_t k, const std::string& message) {
  Pos p = pos_of(in);
  p.offset += static_cast<std::uint32_t>(k);
  p.col += static_cast<std::uint32_t>(k);
  throw ScriptError(p, message);
}

// ------------------------------------------------------------------- frames

inline std::shared_ptr<Expr> make_node(Kind kind, Pos pos) {
  auto e = std::make_shared<Expr>();
  e->kind = kind;
  e->pos = pos;
  return e;
}

template <typename Frame>
ExprPtr pop(Frame& f) {
  ExprPtr e = std::move(f.items.back());
  f.items.pop_back();
  return e;
}

// An expression under construction: items are its operands, in order.
struct ExprFrame {
  Pos pos;                      // of the name (call_or_name) or '[' (list)
  std::vector<ExprPtr> items;   // operands / list elements / rule call args
  std::vector<char> ops;        // rule expressions: operators between items
  std::vector<Pos> op_pos;
  std::vector<ast::Arg> args;   // call arguments
  std::string name;             // callee, or the name of a named argument
  bool call = false;            // `name(...)`, not just `name`
  ExprPtr cur;                  // call_or_name after `.member`s
  void push(ExprPtr e) { items.push_back(std::move(e)); }

  ExprPtr name_or_call() {
    auto e = make_node(call ? Kind::Call : Kind::Name, pos);
    e->s = std::move(name);
    e->args = std::move(args);
    return e;
  }
};

struct StmtFrame {
  ast::Stmt stmt;
  std::vector<ExprPtr> items;
  void push(ExprPtr e) { items.push_back(std::move(e)); }
};

struct FieldFrame {
  ast::FieldDecl field;
  std::vector<ExprPtr> items;
  std::string entry;  // name of the enum/flags entry being parsed
  Pos entry_pos;
  bool has_enum = false, has_flags = false;
  void push(ExprPtr e) { items.push_back(std::move(e)); }
};

// The state passed to pegtl::parse.
struct TopState {
  std::vector<ast::Stmt> stmts;
  std::vector<ExprPtr> items;  // parse_expression's result
  void push(ExprPtr e) { items.push_back(std::move(e)); }
};

// ------------------------------------------------------------------ decoders

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Standard base64 (RFC 4648), whitespace ignored, padding optional.
// ------------------------------------------------------------------ actions

template <typename Rule>
struct action : pegtl::nothing<Rule> {};

// Helpers for the common shapes of actions.
struct expr_frame : pegtl::change_states<ExprFrame> {};

// --- literals ---------------------------------------------------------------

template <>
struct action<string_lit> {
  template <typename In, typename F>
  static void apply(const In& in, F& f) {
    const std::string_view t = in.string_view();  // with the quotes
    auto e = make_node(Kind::String, pos_of(in));
    std::string& out = e->s;
    for (std::size_t i = 1; i + 1 < t.size(); ++i) {
      if (t[i] != '\\') {
        out += t[i];
        continue;
      }
      const char c = t[i + 1];
      switch (c) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        case '\\': out += '\\'; break;
        case '"': out += '"'; break;
        case '\'': out += '\''; break;
        case 'x': {
          const int hi = i + 2 < t.size() - 1 ? hex_value(t[i + 2]) : -1;
          const int lo = i + 3 < t.size() - 1 ? hex_value(t[i + 3]) : -1;
          if (hi < 0 || lo < 0) fail_at(in, i, "invalid escape: expected two hex digits after \\x");
          out += static_cast<char>(hi * 16 + lo);
          i += 2;
          break;
        }
        default:
          fail_at(in, i, std::string("unknown escape \\") + c +
                             "; expected one of \\n \\t \\r \\0 \\\\ \\\" \\xNN");
      }
      ++i;
    }
    f.push(std::move(e));
  }
};

template <>
struct action<hex_lit> {
  template <typename In, typename F>
  static void apply(const In& in, F& f) {
    const std::string_view t = in.string_view();  // hex"...": digits come in pairs
    auto e = make_node(Kind::Bytes, pos_of(in));
    int hi = -1;
    for (char c : t.substr(4)) {
      const int v = hex_value(c);
      if (v < 0) continue;
      if (hi < 0) {
        hi = v;
      } else {
        e->s += static_cast<char>(hi * 16 + v);
        hi = -1;
      }
    }
    f.push(std::move(e));
  }
};

template <>
struct action<base64_lit> {
  template <typename In, typename F>
  static void apply(const In& in, F& f) {
    std::string_view t = in.string_view();  // base64"..."
    auto e = make_node(Kind::Bytes, pos_of(in));
    // One base64 decoder for the DSL and Lua's base64.decode (RFC 4648, padded).
    std::size_t bad = 0;
    auto bytes = base64_decode(t.substr(7, t.size() - 8), &bad);
    if (!bytes)
      fail_at(in, 7 + bad, "invalid base64 (expected groups of 4 characters A-Z a-z 0-9 + /, '=' padding at the end)");
    e->s = std::move(*bytes);
    f.push(std::move(e));
  }
};

template <>
struct action<ipv4_cand> {
  template <typename In, typename F>
  static void apply(const In& in, F& f) {
    const std::string_view t = in.string_view();
    auto e = make_node(Kind::IPv4, pos_of(in));
    unsigned part = 0, digits = 0;
    bool ok = true;
    for (char c : t) {
      if (c == '.') {
        e->s += static_cast<char>(part);
        part = digits = 0;
      } else {
        part = part * 10 + static_cast<unsigned>(c - '0');
        if (++digits > 3 || part > 255) ok = false;
      }
    }
    e->s += static_cast<char>(part);
    // `80.5`: a decimal fraction, which no field takes (an address has four parts).
    if (e->s.size() == 2)
      fail_at(in, 0, "'" + std::string(t) + "' is not a whole number: field values are integers (80, 0x50), not fractions");
    if (!ok || e->s.size() != 4) fail_at(in, 0, "invalid IPv4 address '" + std::string(t) + "'");
    f.push(std::move(e));
  }
};

template <>
struct action<colon_cand> {
  static bool is_mac(std::string_view t) {
    if (t.size() != 17) return false;
    for (std::size_t i = 0; i < 17; ++i) {
      if (i % 3 == 2 ? t[i] != ':' : hex_value(t[i]) < 0) return false;
    }
    return true;
  }
  // No "::" nor '.', and six groups or only two-character groups.
  static bool looks_like_mac(std::string_view t) {
    if (t.find("::") != std::string_view::npos || t.find('.') != std::string_view::npos) return false;
    std::size_t groups = 1, len = 0;
    bool all_two = true;
    for (char c : t) {
      if (c == ':') {
        all_two = all_two && len == 2;
        ++groups;
        len = 0;
      } else {
        ++len;
      }
    }
    all_two = all_two && len == 2;
    return groups == 6 || all_two;
  }

  template <typename In, typename F>
  static void apply(const In& in, F& f) {
    const std::string t = in.string();
    if (is_mac(t)) {
      auto e = make_node(Kind::MAC, pos_of(in));
      for (std::size_t i = 0; i < 17; i += 3) e->s += static_cast<char>(hex_value(t[i]) * 16 + hex_value(t[i + 1]));
      f.push(std::move(e));
      return;
    }
    unsigned char buf[16];
    if (inet_pton(AF_INET6, t.c_str(), buf) == 1) {
      auto e = make_node(Kind::IPv6, pos_of(in));
      e->s.assign(reinterpret_cast<const char*>(buf), 16);
      f.push(std::move(e));
      return;
    }
    fail_at(in, 0, (looks_like_mac(t) ? "invalid MAC address '" : "invalid IPv6 address '") + t + "'");
  }
};

template <>
struct action<number> {
  template <typename In, typename F>
  static void apply(const In& in, F& f) {
    std::string_view t = in.string_view();
    const bool minus = !t.empty() && t[0] == '-';
    if (minus) t.remove_prefix(1);
    unsigned base = 10;
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
      base = 16;
      t.remove_prefix(2);
    } else if (t.size() > 2 && t[0] == '0' && (t[1] == 'b' || t[1] == 'B')) {
      base = 2;
      t.remove_prefix(2);
    }
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t v = 0;
    std::size_t i = 0;
    for (; i < t.size(); ++i) {
      const int d = hex_value(t[i]);
      if (d < 0 || static_cast<unsigned>(d) >= base) break;  // a time unit follows
      if (v > (max - static_cast<unsigned>(d)) / base) fail_at(in, 0, "integer too large");
      v = v * base + static_cast<unsigned>(d);
    }
    const std::string_view unit = t.substr(i);
    if (unit.empty()) {
      auto e = make_node(minus && v ? Kind::NegInt : Kind::Int, pos_of(in));
      e->i = v;
      f.push(std::move(e));
      return;
    }
    if (minus) fail_at(in, 0, "a duration cannot be negative");
    const std::uint64_t ns = unit == "ns" ? 1 : unit == "us" ? 1000 : unit == "ms" ? 1000000 : 1000000000;
    if (v > max / ns) fail_at(in, 0, "duration too large");
    auto e = make_node(Kind::Duration, pos_of(in));
    e->i = v * ns;
    f.push(std::move(e));
  }
};

template <>
struct action<file_lit> {
  template <typename In, typename F>
  static void apply(const In& in, F& f) {
    auto e = make_node(Kind::File, pos_of(in));
    e->s = pop(f)->s;
    f.push(std::move(e));
  }
};

// --- values -----------------------------------------------------------------

template <>
struct action<list_open> {
  template <typename In>
  static void apply(const In& in, ExprFrame& f) { f.pos = pos_of(in); }
};

template <>
struct action<list_lit> : expr_frame {
  template <typename In, typename P>
  static void success(const In& /*unused*/, ExprFrame& c, P& p) {
    auto e = make_node(Kind::List, c.pos);
    e->items = std::move(c.items);
    p.push(std::move(e));
  }
};

template <>
struct action<callee> {
  template <typename In>
  static void apply(const In& in, ExprFrame& f) {
    f.name = in.string();
    f.pos = pos_of(in);
  }
};

template <>
struct action<call_open> {
  template <typename In>
  static void apply(const In& /*unused*/, ExprFrame& f) { f.call = true; }
};

template <>
struct action<arg_name> : action<callee> {};

template <>
struct action<named_arg> : expr_frame {
  template <typename In>
  static void success(const In& /*unused*/, ExprFrame& c, ExprFrame& p) {
    p.args.push_back(ast::Arg{std::move(c.name), c.pos, std::move(c.items.at(0))});
  }
};

template <>
struct action<word_on> : action<callee> {};
template <>
struct action<word_name> : action<callee> {};

template <>
struct action<word_iface> {
  template <typename In>
  static void apply(const In& in, ExprFrame& f) {
    auto e = make_node(Kind::Name, pos_of(in));
    e->s = in.string();
    f.push(std::move(e));
  }
};

template <>
struct action<word_arg> : expr_frame {
  template <typename In>
  static void success(const In& /*unused*/, ExprFrame& c, ExprFrame& p) {
    p.args.push_back(ast::Arg{std::move(c.name), c.pos, std::move(c.items.at(0)), true});
  }
};

template <>
struct action<pos_arg> : expr_frame {
  template <typename In>
  static void success(const In& /*unused*/, ExprFrame& c, ExprFrame& p) {
    const Pos pos = c.items.at(0)->pos;
    p.args.push_back(ast::Arg{std::string(), pos, std::move(c.items[0])});
  }
};

template <>
struct action<member_name> {
  template <typename In>
  static void apply(const In& in, ExprFrame& f) {
    if (!f.cur) f.cur = f.name_or_call();
    auto e = make_node(Kind::Member, pos_of(in));
    e->s = in.string();
    e->items.push_back(std::move(f.cur));
    f.cur = std::move(e);
  }
};

template <>
struct action<call_or_name> : expr_frame {
  template <typename In, typename P>
  static void success(const In& /*unused*/, ExprFrame& c, P& p) {
    p.push(c.cur ? std::move(c.cur) : c.name_or_call());
  }
};

// a .. b and a * n: the last two operands of the enclosing frame.
template <Kind K>
struct binary_tail {
  template <typename In>
  static void apply(const In& /*unused*/, ExprFrame& f) {
    ExprPtr rhs = pop(f), lhs = pop(f);
    auto e = make_node(K, lhs->pos);
    e->items = {std::move(lhs), std::move(rhs)};
    f.push(std::move(e));
  }
};
template <>
struct action<range_tail> : binary_tail<Kind::Range> {};
template <>
struct action<repeat_tail> : binary_tail<Kind::Repeat> {};

// a | b | c and a / b / c: one node with all operands, or the only one.
template <Kind K>
struct nary : expr_frame {
  template <typename In, typename P>
  static void success(const In& /*unused*/, ExprFrame& c, P& p) {
    if (c.items.size() == 1) {
      p.push(std::move(c.items[0]));
      return;
    }
    auto e = make_node(K, c.items.at(0)->pos);
    e->items = std::move(c.items);
    p.push(std::move(e));
  }
};
template <>
struct action<union_expr> : nary<Kind::Or> {};
template <>
struct action<value> : nary<Kind::Stack> {};

// --- rule expressions -------------------------------------------------------

template <>
struct action<rx_callee> : action<callee> {};
template <>
struct action<rx_call_open> : action<call_open> {};

template <>
struct action<rx_call_or_name> : expr_frame {
  template <typename In, typename P>
  static void success(const In& /*unused*/, ExprFrame& c, P& p) {
    for (auto& item : c.items) {
      const Pos pos = item->pos;
      c.args.push_back(ast::Arg{std::string(), pos, std::move(item)});
    }
    p.push(c.cur ? std::move(c.cur) : c.name_or_call());
  }
};

// Operators of rule expressions, each as one character in the tree:
// == '=', != '!', <= 'l', >= 'g', < '<', > '>', & '&', and 'A', or 'O' (`in` is
// written out with == and or).
struct rx_op {
  template <typename In>
  static void apply(const In& in, ExprFrame& f) {
    const std::string t = in.string();
    char op = t == "==" ? '=' : t == "!=" ? '!' : t == "<=" ? 'l' : t == ">=" ? 'g'
            : t == "and" ? 'A' : t == "or" ? 'O' : t == "in" ? 'i' : t.at(0);
    f.ops.push_back(op);
    f.op_pos.push_back(pos_of(in));
  }
};
template <>
struct action<rx_mulop> : rx_op {};
template <>
struct action<rx_addop> : rx_op {};
template <>
struct action<rx_bitop> : rx_op {};
template <>
struct action<rx_cmpop> : rx_op {};
template <>
struct action<rx_andop> : rx_op {};
template <>
struct action<rx_orop> : rx_op {};
template <>
struct action<rx_inop> : rx_op {};

// The list after `in`: a List node.
template <>
struct action<rx_list> : expr_frame {
  template <typename In, typename P>
  static void success(const In& /*unused*/, ExprFrame& c, P& p) {
    auto e = make_node(Kind::List, c.items.at(0)->pos);
    e->items = std::move(c.items);
    p.push(std::move(e));
  }
};

// `x in [a, b, c]` is written out as x == a or x == b or x == c.
inline ExprPtr in_list(const ExprPtr& x, const ast::Expr& list, Pos pos) {
  ExprPtr out;
  for (auto& item : list.items) {
    auto eq = make_node(Kind::Binary, item->pos);
    eq->op = '=';
    eq->items = {x, item};
    if (!out) {
      out = std::move(eq);
      continue;
    }
    auto either = make_node(Kind::Binary, pos);
    either->op = 'O';
    either->items = {std::move(out), std::move(eq)};
    out = std::move(either);
  }
  return out;
}

// Left-associative: a - b - c is (a - b) - c. A Binary's pos is its operator's.
struct rx_fold : expr_frame {
  template <typename In, typename P>
  static void success(const In& /*unused*/, ExprFrame& c, P& p) {
    ExprPtr acc = std::move(c.items.at(0));
    for (std::size_t i = 0; i < c.ops.size(); ++i) {
      if (c.ops[i] == 'i') {  // x in [a, b]: x == a or x == b
        acc = in_list(acc, *c.items.at(i + 1), c.op_pos[i]);
        continue;
      }
      auto e = make_node(Kind::Binary, c.op_pos[i]);
      e->op = c.ops[i];
      e->items = {std::move(acc), std::move(c.items.at(i + 1))};
      acc = std::move(e);
    }
    p.push(std::move(acc));
  }
};
template <>
struct action<rx_term> : rx_fold {};
template <>
struct action<rx_sum> : rx_fold {};
template <>
struct action<rx_bits> : rx_fold {};
template <>
struct action<rx_cmp> : rx_fold {};
template <>
struct action<rx_and> : rx_fold {};
template <>
struct action<rx_expr> : rx_fold {};

// `not x` is the call not(x).
template <>
struct action<rx_not_op> : expr_frame {
  template <typename In, typename P>
  static void success(const In& in, ExprFrame& c, P& p) {
    auto e = make_node(Kind::Call, pos_of(in));
    e->s = "not";
    e->args.push_back(ast::Arg{std::string(), c.items.at(0)->pos, std::move(c.items.at(0))});
    p.push(std::move(e));
  }
};

// --- layers and options -------------------------------------------------------

template <>
struct action<field_decl> : pegtl::change_states<FieldFrame> {
  template <typename In>
  static void success(const In& /*unused*/, FieldFrame& c, StmtFrame& p) {
    p.stmt.layer->fields.push_back(std::move(c.field));
  }
};

template <>
struct action<field_name> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    f.field.name = in.string();
    f.field.pos = pos_of(in);
  }
};

template <>
struct action<field_type> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    f.field.type = in.string();
    f.field.type_pos = pos_of(in);
  }
};

template <>
struct action<enum_start> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    if (f.has_enum) fail_at(in, 0, "a field has at most one 'enum { ... }'");
    f.has_enum = true;
  }
};

template <>
struct action<flags_start> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    if (f.has_flags) fail_at(in, 0, "a field has at most one 'flags { ... }'");
    f.has_flags = true;
  }
};

template <>
struct action<align_start> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    if (f.field.align) fail_at(in, 0, "a field has at most one 'align'");
  }
};

template <>
struct action<enum_name> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    f.entry = in.string();
    f.entry_pos = pos_of(in);
  }
};
template <>
struct action<flag_name> : action<enum_name> {};

template <>
struct action<enum_entry> {
  template <typename In>
  static void apply(const In& /*unused*/, FieldFrame& f) {
    f.field.enums.push_back(ast::NamedValue{std::move(f.entry), f.entry_pos, pop(f)});
  }
};

template <>
struct action<flag_entry> {
  template <typename In>
  static void apply(const In& /*unused*/, FieldFrame& f) {
    f.field.flags.push_back(ast::NamedValue{std::move(f.entry), f.entry_pos, pop(f)});
  }
};

template <>
struct action<align_value> {
  template <typename In>
  static void apply(const In& /*unused*/, FieldFrame& f) { f.field.align = pop(f); }
};

template <>
struct action<auto_bare> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    f.field.auto_bare = true;
    f.field.auto_pos = pos_of(in);
  }
};

template <>
struct action<auto_rule> {
  template <typename In>
  static void apply(const In& /*unused*/, FieldFrame& f) { f.field.auto_rule = pop(f); }
};

template <>
struct action<align_with_name> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    f.field.align_with = in.string();
    f.field.align_with_pos = pos_of(in);
  }
};

template <>
struct action<size_start> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    if (f.field.size_rule) fail_at(in, 0, "a field has at most one 'size'");
  }
};

template <>
struct action<size_rule> {
  template <typename In>
  static void apply(const In& /*unused*/, FieldFrame& f) { f.field.size_rule = pop(f); }
};

template <>
struct action<count_start> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    if (f.field.count_rule) fail_at(in, 0, "a field has at most one 'count'");
  }
};

template <>
struct action<count_rule> {
  template <typename In>
  static void apply(const In& /*unused*/, FieldFrame& f) { f.field.count_rule = pop(f); }
};

template <>
struct action<until_name> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    if (!f.field.until.empty()) fail_at(in, 0, "a field has at most one 'until'");
    f.field.until = in.string();
    f.field.until_pos = pos_of(in);
  }
};

template <>
struct action<strict_clause> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    if (f.field.strict) fail_at(in, 0, "a field has at most one 'strict'");
    f.field.strict = true;
    f.field.strict_pos = pos_of(in);
  }
};

template <>
struct action<padded_clause> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    if (f.field.padded) fail_at(in, 0, "a field has at most one 'padded'");
    f.field.padded = true;
    f.field.padded_pos = pos_of(in);
  }
};

template <>
struct action<if_start> {
  template <typename In>
  static void apply(const In& in, FieldFrame& f) {
    if (f.field.cond) fail_at(in, 0, "a field has at most one 'if'");
  }
};

template <>
struct action<if_rule> {
  template <typename In>
  static void apply(const In& /*unused*/, FieldFrame& f) { f.field.cond = pop(f); }
};

template <>
struct action<default_value> {
  template <typename In>
  static void apply(const In& /*unused*/, FieldFrame& f) { f.field.default_value = pop(f); }
};

template <>
struct action<field_doc> {
  template <typename In>
  static void apply(const In& /*unused*/, FieldFrame& f) { f.field.doc = pop(f)->s; }
};

template <>
struct action<pseudo_start> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (!f.stmt.layer->pseudo.empty()) fail_at(in, 0, "a layer has at most one 'pseudo = ...'");
  }
};

template <>
struct action<pseudo_item> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.layer->pseudo.push_back(pop(f)); }
};

template <>
struct action<payload_size_start> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (f.stmt.layer->payload_size) fail_at(in, 0, "a layer has at most one 'payload size'");
  }
};

template <>
struct action<payload_size_rule> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.layer->payload_size = pop(f); }
};

template <>
struct action<summary_start> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (f.stmt.layer->has_summary) fail_at(in, 0, "a layer has at most one 'summary'");
    f.stmt.layer->has_summary = true;
  }
};

template <>
struct action<summary_text> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) {
    ExprPtr e = pop(f);
    f.stmt.layer->summary = e->s;
    f.stmt.layer->summary_pos = e->pos;
  }
};

template <>
struct action<aka_name> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.layer->aka.push_back(pop(f)->s); }
};

template <>
struct action<wireshark_table> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) {
    ExprPtr e = pop(f);
    f.stmt.layer->wireshark.push_back({e->s, {}, e->pos});
  }
};

template <>
struct action<wireshark_field> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) { f.stmt.layer->wireshark.back().fields.emplace_back(in.string(), pos_of(in)); }
};

template <>
struct action<layer_doc> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.layer->doc = pop(f)->s; }
};

template <>
struct action<layer_name> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.name = f.stmt.layer->name = in.string();
    f.stmt.name_pos = f.stmt.layer->pos = pos_of(in);
  }
};
template <>
struct action<option_name> : action<layer_name> {};

template <>
struct action<option_layer> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) { f.stmt.layer->option_layer = in.string(); }
};

template <>
struct action<also_layer> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) { f.stmt.layer->also.emplace_back(in.string(), std::string()); }
};

template <>
struct action<also_field> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) { f.stmt.layer->also.back().second = in.string(); }
};

template <>
struct action<option_field> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) { f.stmt.layer->option_field = in.string(); }
};

template <>
struct action<option_param> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (f.stmt.layer->variadic) fail_at(in, 0, "a variadic parameter (name...) must be the last one");
    f.stmt.layer->params.push_back(in.string());
  }
};

template <>
struct action<variadic_dots> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.layer->variadic = true; }
};

// --- statements ---------------------------------------------------------------

template <>
struct action<stmt> : pegtl::change_states<StmtFrame> {
  template <typename In>
  static void success(const In& /*unused*/, StmtFrame& c, TopState& top) {
    top.stmts.push_back(std::move(c.stmt));
  }
};
template <>
struct action<repl_stmt> : action<stmt> {};

template <SKind K>
struct stmt_keyword {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.kind = K;
    f.stmt.pos = pos_of(in);
    if constexpr (K == SKind::Layer) f.stmt.layer = std::make_shared<ast::LayerDecl>();
    if constexpr (K == SKind::Reply) f.stmt.reply = std::make_shared<ast::ReplyDecl>();
    if constexpr (K == SKind::Fragment) f.stmt.fragment = std::make_shared<ast::FragmentDecl>();
  }
};
template <> struct action<kw_param> : stmt_keyword<SKind::Param> {};
template <> struct action<kw_let> : stmt_keyword<SKind::Let> {};
template <> struct action<kw_packet> : stmt_keyword<SKind::Packet> {};
template <> struct action<kw_layer> : stmt_keyword<SKind::Layer> {};
template <> struct action<kw_bind> : stmt_keyword<SKind::Bind> {};
template <> struct action<kw_show> : stmt_keyword<SKind::Show> {};
template <> struct action<kw_reply> : stmt_keyword<SKind::Reply> {};
template <> struct action<kw_fragment> : stmt_keyword<SKind::Fragment> {};
template <> struct action<kw_hexdump> : stmt_keyword<SKind::Hexdump> {};
template <> struct action<kw_write> : stmt_keyword<SKind::Write> {};
template <> struct action<kw_send> : stmt_keyword<SKind::Send> {};
template <> struct action<kw_lua> : stmt_keyword<SKind::Lua> {};
template <> struct action<kw_sr> : stmt_keyword<SKind::Sr> {};
template <> struct action<kw_sniff> : stmt_keyword<SKind::Sniff> {};

template <>
struct action<kw_option> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    stmt_keyword<SKind::Layer>::apply(in, f);
    f.stmt.layer->is_option = true;
  }
};

template <>
struct action<param_name> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.name = in.string();
    f.stmt.name_pos = pos_of(in);
  }
};
template <> struct action<let_name> : action<param_name> {};
template <> struct action<packet_name> : action<param_name> {};

struct take_value {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.value = pop(f); }
};
template <> struct action<param_stmt> : take_value {};
template <> struct action<let_stmt> : take_value {};
template <> struct action<packet_stmt> : take_value {};
template <> struct action<bind_on> : take_value {};  // `when` takes its rule later

template <>
struct action<bind_when_rule> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.bind_when = pop(f); }
};

template <>
struct action<reply_layer> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.reply->layer = in.string();
    f.stmt.reply->layer_pos = pos_of(in);
  }
};
template <>
struct action<reply_probe> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.reply->probe = in.string();
    f.stmt.reply->probe_pos = pos_of(in);
  }
};
template <>
struct action<reply_quoted> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.reply->quoted = true; }
};
template <>
struct action<reply_when_rule> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.reply->when = pop(f); }
};
template <>
struct action<reply_cond> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.reply->conds.push_back(pop(f)); }
};
template <>
struct action<reply_quotes_sent> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (f.stmt.reply->quotes) fail_at(in, 0, "'payload quotes sent' is given twice");
    f.stmt.reply->quotes = true;
  }
};
template <>
struct action<reply_stmt> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) { f.stmt.reply->text = in.string(); }
};

template <>
struct action<frag_layer> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.fragment->layer = in.string();
    f.stmt.fragment->layer_pos = pos_of(in);
  }
};
template <>
struct action<frag_header> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.fragment->header = in.string();
    f.stmt.fragment->header_pos = pos_of(in);
  }
};
template <>
struct action<frag_key> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    ast::FragmentDecl::Item it;
    it.key = in.string();
    it.pos = pos_of(in);
    f.stmt.fragment->items.push_back(std::move(it));
  }
};
template <>
struct action<frag_field> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.fragment->items.back().field = in.string();
    f.stmt.fragment->items.back().field_pos = pos_of(in);
  }
};
template <>
struct action<frag_flag> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.fragment->items.back().flag = in.string();
    f.stmt.fragment->items.back().flag_pos = pos_of(in);
  }
};
template <>
struct action<fragment_stmt> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) { f.stmt.fragment->text = in.string(); }
};

template <>
struct action<expr_stmt> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) {
    f.stmt.kind = SKind::Expr;
    f.stmt.value = pop(f);
    f.stmt.pos = f.stmt.value->pos;
  }
};

template <>
struct action<bind_lower> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.bind_lower = in.string();
    f.stmt.bind_lower_pos = pos_of(in);
  }
};

template <>
struct action<bind_field> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.bind_field = in.string();
    f.stmt.bind_field_pos = pos_of(in);
  }
};

template <>
struct action<bind_upper> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.bind_upper = in.string();
    f.stmt.bind_upper_pos = pos_of(in);
  }
};

// show/hexdump/write/send: what is left on the frame are the targets.
struct take_targets {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.targets = std::move(f.items); }
};
template <> struct action<show_stmt> : take_targets {};
template <> struct action<hexdump_stmt> : take_targets {};
template <> struct action<write_stmt> : take_targets {};
template <> struct action<send_stmt> : take_targets {};
template <> struct action<sr_stmt> : take_targets {};

template <>
struct action<write_path> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) {
    ExprPtr e = pop(f);
    f.stmt.path = e->s;
    f.stmt.path_pos = e->pos;
  }
};

template <>
struct action<kw_count> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (f.stmt.count) fail_at(in, 0, "'count' is given twice");
  }
};

template <>
struct action<kw_interval> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (f.stmt.interval) fail_at(in, 0, "'interval' is given twice");
    if (f.stmt.rate) fail_at(in, 0, "'interval' and 'rate' cannot both be given: a rate is one packet every 1/rate");
  }
};

template <>
struct action<kw_rate> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (f.stmt.rate) fail_at(in, 0, "'rate' is given twice");
    if (f.stmt.interval) fail_at(in, 0, "'rate' and 'interval' cannot both be given: a rate is one packet every 1/rate");
  }
};

template <>
struct action<kw_threads> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (f.stmt.threads) fail_at(in, 0, "'threads' is given twice");
  }
};

template <>
struct action<kw_on> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (!f.stmt.iface.empty()) fail_at(in, 0, "'on' is given twice");
  }
};

template <>
struct action<send_bypass> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (f.stmt.bypass) fail_at(in, 0, "'bypass' is given twice");
    f.stmt.bypass = true;
    f.stmt.bypass_pos = pos_of(in);
  }
};

// `show p` misspelt where a statement may start: say which keyword was meant.
template <>
struct action<keyword_typo> {
  template <typename In, typename F>
  static void apply(const In& in, F& /*unused*/) {
    static const std::vector<std::string> keywords = {"param", "let",     "packet", "layer", "option", "bind", "reply", "fragment",
                                                      "show",  "hexdump", "write",  "send",  "sr", "sniff", "lua"};
    const std::string word = in.string();
    const std::string hint = nearest_name(word, keywords);
    if (!hint.empty()) fail_at(in, 0, "'" + word + "' is not a statement; did you mean '" + hint + "'?");
  }
};

// `p.tcp.window = 1`: fields are set from Lua; name the line as it should be.
template <>
struct action<lua_assign> {
  template <typename In, typename F>
  static void apply(const In& in, F& /*unused*/) {
    const char* end = in.begin();
    while (end != in.input().end() && *end != '\n') ++end;
    std::string line(in.begin(), end);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.pop_back();
    fail_at(in, 0, "an assignment to a field is Lua: write 'lua " + line + "'");
  }
};

// `send p count 3 thread 2`: name the word (the rule then raises its plain message).
template <>
struct action<send_option_word> {
  template <typename In, typename F>
  static void apply(const In& in, F& /*unused*/) {
    const std::string word = in.string();
    const std::string hint = nearest_name(word, {"count", "interval", "rate", "on", "threads", "bypass"});
    fail_at(in, 0, "unknown send option '" + word + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                       "; expected count, interval, rate, on, threads or bypass");
  }
};

// `sr p timeout 1s retries 2`: name the word.
template <>
struct action<sr_option_word> {
  template <typename In, typename F>
  static void apply(const In& in, F& /*unused*/) {
    const std::string word = in.string();
    const std::string hint = nearest_name(word, {"timeout", "retry", "interval", "on"});
    fail_at(in, 0, "unknown sr option '" + word + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                       "; expected timeout, retry, interval or on");
  }
};

// `sniff on lo filtr "udp"`: name the word, as for send.
template <>
struct action<sniff_option_word> {
  template <typename In, typename F>
  static void apply(const In& in, F& /*unused*/) {
    const std::string word = in.string();
    const std::string hint = nearest_name(word, {"on", "filter", "count", "timeout"});
    fail_at(in, 0, "unknown sniff option '" + word + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                       "; expected on, filter, count or timeout");
  }
};

template <>
struct action<kw_filter> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (f.stmt.filter) fail_at(in, 0, "'filter' is given twice");
  }
};

template <>
struct action<kw_timeout> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (f.stmt.timeout) fail_at(in, 0, "'timeout' is given twice");
  }
};

template <>
struct action<kw_retry> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    if (f.stmt.retry) fail_at(in, 0, "'retry' is given twice");
  }
};

template <>
struct action<filter_value> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.filter = pop(f); }
};

template <>
struct action<timeout_value> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.timeout = pop(f); }
};

template <>
struct action<retry_value> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.retry = pop(f); }
};

template <>
struct action<count_value> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.count = pop(f); }
};

template <>
struct action<interval_value> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.interval = pop(f); }
};

// A rate literal is kept as written (a String): the interpreter reads its
// number and unit, as it reads a rate given as a string or a name.
template <>
struct action<rate_lit> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    auto e = std::make_shared<Expr>();
    e->kind = Expr::Kind::String;
    e->s = in.string();
    e->pos = pos_of(in);
    f.stmt.rate = std::move(e);
  }
};

template <>
struct action<rate_value> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) {
    if (!f.stmt.rate) f.stmt.rate = pop(f);
  }
};

template <>
struct action<threads_value> {
  template <typename In>
  static void apply(const In& /*unused*/, StmtFrame& f) { f.stmt.threads = pop(f); }
};

template <>
struct action<iface_name> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.iface = in.string();
    f.stmt.iface_pos = pos_of(in);
  }
};

template <>
struct action<iface_string> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    ExprPtr e = pop(f);
    if (e->s.empty()) fail_at(in, 0, "expected an interface name, not \"\"");
    f.stmt.iface = e->s;
    f.stmt.iface_pos = e->pos;
  }
};

template <>
struct action<lua_text> {
  template <typename In>
  static void apply(const In& in, StmtFrame& f) {
    f.stmt.code = in.string();
    f.stmt.code_pos = pos_of(in);
  }
};

}  // namespace pkt::grammar
