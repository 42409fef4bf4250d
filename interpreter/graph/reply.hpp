// Which received packet answers which sent one, by `reply` rules declared
// per layer (stdlib/*.pkt or a user's script); no protocol is known here.
//
//   reply tcp { sport == sent.dport; dport == sent.sport }
//   reply icmp when type == echo_reply { id == sent.id; seq == sent.seq }
//   reply icmp when type in [dest_unreach, time_exceeded] { payload quotes sent }
//   reply udp quoted { sport == sent.sport; dport == sent.dport }
//
// A reply and its probe are walked side by side, from the reply's first
// layer named like the probe's first (a link-layer envelope before it is
// skipped). Layer by layer the names must agree, and where the reply's layer
// declares rules, one must apply (its `when` holds) and every applying
// rule's conditions must hold, `sent.F` naming the probe's layer's field F.
//
// An error message quotes its probe: when a reply layer's applying rule says
// `payload quotes sent`, the layers below it are only an envelope (whoever
// reports the error), and the layers after it are compared with the probe's
// from the layer of the same name, by the `quoted` rules. A quoted layer cut
// short (read as raw) must equal the start of the probe's bytes there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ast.hpp"

namespace pkt {

class Packet;
class Registry;

// A compiled condition: numbers and byte strings (addresses) over the
// reply's fields and the probe's (`sent.F`).
struct ReplyExpr {
  enum class Op : std::uint8_t {
    Int, Bytes, Field, SentField,
    Add, Sub, Mul, Div, BitAnd,
    Eq, Ne, Lt, Le, Gt, Ge, And, Or, Not,
  };
  Op op = Op::Int;
  std::uint64_t i = 0;
  std::string s;  // Bytes: the bytes; Field, SentField: the field's name
  Pos pos;
  std::vector<ReplyExpr> args;
};

struct ReplyRule {
  std::string layer;
  Pos pos;
  bool quoted = false;
  bool quotes = false;
  std::string probe;  // `to PROBE`: the layer of the probe it answers (else one named `layer`)
  std::shared_ptr<ReplyExpr> when;
  std::vector<ReplyExpr> conds;
  std::string text;  // as written
};

// Compiles a `reply` statement against the layer's current declaration.
// Throws ScriptError (unknown layer, field or name; `sent` where the probe
// is in the quote).
ReplyRule compile_reply(const ast::ReplyDecl& decl, const Registry& reg, Pos pos);

// Whether `reply` (read from the wire) answers `probe` (as it was sent).
bool answers(const Registry& reg, const Packet& probe, const Packet& reply);

}  // namespace pkt
