// The syntax tree of a .pkt script. The grammar fills it and knows no
// protocol names; meaning (layers, fields, ranges) is given by the
// interpreter. Every node carries the position it was parsed at.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "diagnostic.hpp"

namespace pkt::ast {

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

// `name=value` in a call, or a positional value when name is empty.
struct Arg {
  std::string name;
  Pos pos;  // of the name, or of the value when positional
  ExprPtr value;
  bool word = false;  // `count 3`: an option word before the value (sniff(...)), not `name=value`
};

struct Expr {
  enum class Kind {
    Int,       // i: 42, 0x2a, 0b101010
    NegInt,    // i: the magnitude of a negative number, -20 (only signed fields take one)
    Duration,  // i: nanoseconds; 10ms, 1s, 500us, 20ns
    String,    // s: decoded UTF-8 text of "..." (escapes applied)
    Bytes,     // s: decoded bytes of hex"..." or base64"..."
    File,      // s: path in file("path"), read by the interpreter
    IPv4,      // s: 4 bytes, network order
    IPv6,      // s: 16 bytes
    MAC,       // s: 6 bytes
    Name,      // s: identifier (a param, let, packet, layer, enum or flag name)
    Member,    // s: field name; items[0]: the object (e.g. `udp.dport`)
    Call,      // s: callee name; args: arguments (`ipv4(dst=1.2.3.4)`, `mss(1460)`)
    List,      // items: elements of `[a, b, c]`
    Range,     // items[0]..items[1], inclusive
    Repeat,    // items[0] * items[1] (`"A" * 100`)
    Or,        // items: `A | B | C` (flag sets)
    Stack,     // items: `a / b / c` (layers, bottom first)
    Binary,    // items[0] op items[1] in rules: + - * / & and == '=', != '!', <= 'l',
               // >= 'g', < '<', > '>', and 'A', or 'O' (`x in [a, b]` is x == a or x == b; `not x` is the call not(x))
  };

  Kind kind = Kind::Int;
  Pos pos;
  std::uint64_t i = 0;
  std::string s;
  char op = 0;
  std::vector<ExprPtr> items;
  std::vector<Arg> args;
};

struct NamedValue {  // `URGENT = 0x02` inside flags { } or enum { }
  std::string name;
  Pos pos;
  ExprPtr value;
};

// `name : type [enum {..}] [flags {..}] [align N] [= default | = auto rule]`
struct FieldDecl {
  std::string name;
  Pos pos;
  std::string type;  // "u16", "u16le", "u32[]", "ipv4addr", "ipv6addr", "mac", "bytes"
  Pos type_pos;
  std::vector<NamedValue> enums;
  std::vector<NamedValue> flags;
  ExprPtr align;          // `align 4`: pad a bytes field so the layer up to its end is a multiple of 4 bytes
  std::string align_with; // `align 8 with padn`: pad with that option where it fits, else zeros
  Pos align_with_pos;
  ExprPtr default_value;  // `= value`
  ExprPtr auto_rule;      // `= auto expr`
  bool auto_bare = false; // `= auto` alone: derived from a size rule that reads this field
  Pos auto_pos;
  ExprPtr size_rule;      // `size expr`: the field's length in bytes when reading
  ExprPtr cond;           // `if expr`: the field is there only when expr is not 0
  ExprPtr count_rule;     // `count expr`: a list of that many options (elements)
  std::string until;      // `until OPTION`: a list of options that ends with that option
  Pos until_pos;
  bool strict = false;    // `strict`: every element of the list is one of its options
  Pos strict_pos;
  bool padded = false;    // `size N padded`: a shorter value is padded with zeros to N bytes
  Pos padded_pos;
  std::string doc;        // optional trailing "doc string"
};

// `layer NAME "doc" { fields... [pseudo = e1, e2, ...] }`
// `option LAYER.FIELD NAME(p1, p2...) "doc" { fields... }`
struct LayerDecl {
  std::string name;
  Pos pos;
  std::string doc;
  std::vector<FieldDecl> fields;
  std::vector<ExprPtr> pseudo;  // concatenated: the pseudo-header this layer offers to upper layers
  ExprPtr payload_size;         // `payload size expr`: bytes past it are a trailer
  bool has_summary = false;
  std::string summary;          // `summary "{src} > {dst}"`
  Pos summary_pos;
  std::vector<std::string> aka;  // `aka "IP"`: other tools' names for the layer
  struct WiresharkTable {
    std::string table;                // `wireshark "udp.port" = sport, dport`
    std::vector<std::pair<std::string, Pos>> fields;
    Pos pos;
  };
  std::vector<WiresharkTable> wireshark;

  bool is_option = false;
  std::string option_layer;  // the layer and field this option may appear in
  std::string option_field;
  std::vector<std::pair<std::string, std::string>> also;  // `option a.x, b.y NAME`: more fields it is for
  std::vector<std::string> params;  // positional parameters, each naming a field
  bool variadic = false;            // last param written `name...`
};

// `reply LAYER [quoted] [to PROBE] [when RULE] { COND; ... [payload quotes sent] }`
struct ReplyDecl {
  std::string layer;
  Pos layer_pos;
  std::string probe;            // `to PROBE`: the probe's layer, when it is not LAYER
  Pos probe_pos;
  bool quoted = false;          // the rule is for a quote of the probe inside an error message
  ExprPtr when;                 // applies only to replies where this holds
  std::vector<ExprPtr> conds;   // all must hold
  bool quotes = false;          // `payload quotes sent`: the rest of the reply quotes the probe
  std::string text;             // the declaration as written, for `help`
};

// `fragment LAYER [with HEADER] { offset = FIELD; more = FIELD[.FLAG]; id = FIELD }`
struct FragmentDecl {
  std::string layer, header;    // header: the layer inserted to carry the fragment fields (or empty)
  Pos layer_pos, header_pos;
  struct Item {
    std::string key, field, flag;
    Pos pos, field_pos, flag_pos;
  };
  std::vector<Item> items;
  std::string text;             // the declaration as written, for `help`
};

struct Stmt {
  enum class Kind {
    Param,    // param NAME = value
    Let,      // let NAME = value
    Packet,   // packet NAME = stack
    Layer,    // layer ... / option ...
    Bind,     // bind LOWER.FIELD = value -> UPPER
    Reply,    // reply LAYER [quoted] [when RULE] { ... }
    Fragment, // fragment LAYER [with HEADER] { ... }
    Show,     // show a, b
    Hexdump,  // hexdump a, b
    Write,    // write a, b to "file"
    Send,     // send a [count N] [interval T | rate R] [on IFACE] [threads N] [bypass]
    Sr,       // sr a [timeout T] [retry N] [interval T] [on IFACE]
    Sniff,    // sniff [on IFACE] [filter "BPF"] [count N] [timeout T]
    Lua,      // lua { ... }
    Expr,     // a bare expression (REPL: a packet expression prints its show)
  };

  Kind kind = Kind::Expr;
  Pos pos;
  std::string name;                 // Param/Let/Packet
  Pos name_pos;
  ExprPtr value;                    // Param/Let/Packet/Expr value; Bind value
  std::vector<ExprPtr> targets;     // Show/Hexdump/Write/Send/Sr
  std::string path;                 // Write: "to" file
  Pos path_pos;
  ExprPtr count, interval;          // Send options (may be null); Sniff: count
  ExprPtr threads;                  // Send: threads N (may be null)
  ExprPtr rate;                     // Send: `rate 100kpps` (a String of the literal as written, or a value)
  ExprPtr filter, timeout;          // Sniff options (may be null); Sr: timeout
  ExprPtr retry;                    // Sr: retry
  std::string iface;                // Send, Sniff, Sr: on IFACE
  Pos iface_pos;
  bool bypass = false;              // Send: the word `bypass`
  Pos bypass_pos;
  std::string code;                 // Lua: the block's text, between the braces
  Pos code_pos;                     // position of the first character of code
  std::shared_ptr<LayerDecl> layer; // Layer
  std::string bind_lower, bind_field, bind_upper;  // Bind
  Pos bind_lower_pos, bind_field_pos, bind_upper_pos;
  ExprPtr bind_when;                // Bind: `when expr` over the upper layer's fields
  std::shared_ptr<ReplyDecl> reply; // Reply
  std::shared_ptr<FragmentDecl> fragment;  // Fragment
};

struct Script {
  const Source* source = nullptr;
  std::vector<Stmt> stmts;
};

}  // namespace pkt::ast
