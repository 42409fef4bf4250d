// Layers as data: each field's name, width, kind, default and auto rule,
// plus the binding table between layers. Built from `layer`, `option` and
// `bind` declarations (stdlib/*.pkt or a user's script); no layer is known
// to the C++ code by name.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ast.hpp"
#include "field_type.hpp"

namespace pkt {

// A field's concrete value: `num` for unsigned fields, `bytes` for
// addresses, byte strings and arrays (serialised, network order).
struct FieldValue {
  std::uint64_t num = 0;
  std::string bytes;
  bool operator==(const FieldValue&) const = default;
};

// How a field's value is stored: a number, or fixed or variable bytes. What
// the bytes mean (an address, a list) is its FieldType's business.
enum class FieldKind : std::uint8_t { UInt, IPv4, IPv6, MAC, Bytes, Array };

// A compiled `auto` rule (or pseudo-header part): a small expression tree
// over generic primitives. Evaluated by packet.cpp.
struct AutoExpr {
  enum class Op : std::uint8_t {
    Int, Bytes,            // constants (i / s)
    Field,                 // field `index` of the layer being evaluated
    This, Payload, Pseudo, // byte regions
    Len,                   // len(args...): total size in bytes
    Checksum,              // inet_checksum(args...)
    Crc32c,                // crc32c(args...): CRC32c of the concatenation (always recomputed in full)
    Nonzero,               // nonzero(a, b): a if a != 0 else b
    ToBytes,               // uN(x): x as width/8 big-endian bytes (index = width in bits)
    Concat,                // bytes(a, b, ...)
    Add, Sub, Mul, Div,
    Eq, Ne, Lt, Le, Gt, Ge, BitAnd, And, Or, Not,  // comparisons and logic: 1 or 0
    Present,               // present(field): 1 when field `index` has a value (set, read, or a default)
    Given,                 // given(field): 1 when field `index` was set by the user or read from the wire
    Upper,                 // in a pseudo-header: the layer asking for it, with its payload (a region)
    Bound,                 // bound(field) in a pseudo-header: field `index` as bound to the asking layer
    LowerField,            // LAYER.FIELD: field `s2` of the nearest layer named `s` below
    Choose,                // choose(c, a, b): a when c is not 0, else b (only the one chosen is evaluated)
    Slice,                 // slice(x, from, n): n bytes of x from byte `from`
    RouteSource,           // route_source(dst): the source address the kernel chooses for dst (route.hpp)
    Count,                 // count(field): the number of elements of list field `index` (options, records)
  };
  Op op = Op::Int;
  std::uint64_t i = 0;
  std::string s, s2;
  std::size_t index = 0;
  // LowerField: the last definition it was looked up in, and the field's index there.
  mutable const struct LayerDef* cache_def = nullptr;
  mutable int cache_field = -1;
  Pos pos;
  std::vector<AutoExpr> args;
};

struct FieldDef {
  std::string name;
  Pos pos;
  FieldKind kind = FieldKind::UInt;
  unsigned bits = 0;           // UInt: 1..64; IPv4 32; IPv6 128; MAC 48; Array: element width; Bytes: 0
  bool little_endian = false;  // uNle
  bool is_signed = false;      // iN: two's complement; the value holds the N bits
  unsigned align = 0;          // Bytes: pad so the layer up to the field's end is a multiple of `align` bytes
  std::string pad_with;        // `align N with OPTION`: the option that fills padding (else zeros)
  std::shared_ptr<const struct LayerDef> pad_option;  // set once that option is declared
  std::string type_name;       // as written: "u16", "ipv4addr", ...
  const FieldType* ftype = nullptr;  // set by declare_field_type; null: by kind
  FieldValue default_value;
  bool has_default = false;    // written `= value` (else zero / empty)
  std::string default_text;    // the default as written, for `help`
  std::shared_ptr<AutoExpr> auto_rule;  // `= auto ...`: a number field's, or an address field's
  bool asks_route = false;     // the rule asks the kernel (route_source): its value's origin is Route
  std::string auto_text;       // the rule as written, for `help`
  std::shared_ptr<AutoExpr> size_rule;  // `size expr`: length in bytes (variable fields)
  std::string size_text;
  std::shared_ptr<AutoExpr> cond;       // `if expr`: present only when expr is not 0
  std::string cond_text;
  std::shared_ptr<AutoExpr> count_rule; // `count expr`: a list of that many options (records)
  std::string count_text;
  std::string until;                    // `until OPTION`: a list of options that ends with that option
  bool strict = false;                  // `strict`: reading and building, every element is one of its options
  std::uint32_t padded = 0;             // `size N padded`: a shorter value is padded with zeros to N bytes
  bool shapes_layout = false;  // an `if` (or present()) reads it: changing it may change the layout
  std::vector<std::pair<std::string, std::uint64_t>> enums;
  std::vector<std::pair<std::string, std::uint64_t>> flags;
  std::string doc;

  bool fixed_size() const { return kind != FieldKind::Bytes && kind != FieldKind::Array; }
  // A field made in code (a path, a trailer): a name and a type as written.
  static FieldDef of(const std::string& name, const std::string& type);
  std::uint64_t max() const { return bits >= 64 ? ~0ULL : ((1ULL << bits) - 1); }
  // Bytes the field takes for a value of `len` bytes starting `at` bytes into its layer.
  std::uint32_t padded_size(std::uint32_t at, std::size_t len) const {
    if (align <= 1) return static_cast<std::uint32_t>(len);
    std::uint64_t end = (std::uint64_t(at) + len + align - 1) / align * align;
    return static_cast<std::uint32_t>(end - at);
  }
  // The padding bytes: the pad option sized to `n` where it fits, else zeros.
  std::string pad_fill(std::size_t n) const;
  std::string describe_type() const { return type().describe(*this); }  // "u8, 0..255", "ipv4addr", ...
  const FieldType& type() const { return ftype ? *ftype : default_field_type(*this); }
};

// A read rule that is k + sum of c * field (fields of at most 32 bits):
// evaluated without walking the tree. `ok` false when the rule is not.
struct LinearRule {
  bool ok = false;
  std::int64_t k = 0;
  std::vector<std::pair<std::uint32_t, std::int64_t>> terms;  // field index, coefficient
};

// A field as the dissector's loop needs it, packed close together.
struct ReadField {
  bool simple = false;  // a big-endian number of at most 57 bits, no condition
  std::uint16_t run = 0;       // simple fields from this one on, in a row
  std::uint32_t run_bits = 0;  // and their bits
  FieldKind kind = FieldKind::UInt;
  bool little_endian = false;
  bool fixed = true;
  unsigned bits = 0;
  const AutoExpr* cond = nullptr;
  const AutoExpr* size = nullptr;
  LinearRule size_linear;
  const AutoExpr* count = nullptr;   // `count RULE`: read that many options
  bool until = false;                 // `until OPTION`: read options up to and with that one
  bool strict = false;                // `strict`: read element by element; none of the options fails
  bool self_sized = false;            // the type says where it ends (a name: labels up to a zero)
};

struct LayerDef {
  std::string name;
  std::string doc;
  Pos pos;
  std::vector<FieldDef> fields;
  std::vector<AutoExpr> pseudo;   // concatenated pseudo-header this layer offers upper layers
  bool is_option = false;
  std::string option_layer, option_field;
  std::vector<std::size_t> params;  // option: positional parameter -> field index
  bool variadic = false;
  std::shared_ptr<AutoExpr> payload_size;  // `payload size expr`: bytes past the payload are a trailer
  std::string payload_text;
  std::string summary;                     // `summary "{src} > {dst}"`, or empty
  std::vector<std::string> aka;            // `aka "IP"`: other tools' names, for hints
  struct WiresharkTable {                  // `wireshark "udp.port" = sport, dport`
    std::string table;
    std::vector<std::size_t> fields;
  };
  std::vector<WiresharkTable> wireshark;   // for pkt export wireshark
  bool has_conditions = false;             // some field has an `if`
  std::vector<ReadField> read_plan;        // one per field, made by Registry::define
  LinearRule payload_linear;

  // Index of a field, or -1.
  int field_index(const std::string& name) const;
  std::vector<std::string> field_names() const;
};

// The field of a binding that names none (`bind LOWER -> UPPER`).
inline constexpr std::size_t kNoField = static_cast<std::size_t>(-1);

// `bind LOWER.FIELD = VALUE -> UPPER`, or `bind LOWER -> UPPER` (field kNoField)
struct Binding {
  std::string lower;
  std::size_t field = 0;  // field index in lower's current definition (kept valid by Registry::define)
  FieldValue value;
  std::string upper;
  Pos pos;
  std::shared_ptr<AutoExpr> when;  // `when expr`: reading only, over the upper layer's fields
  std::string when_text;
};

// Reading: which layer follows a lower one. Candidates in the order to try.
struct ReadBind {
  std::size_t field = 0;
  FieldValue value;
  std::shared_ptr<const LayerDef> upper;
  std::shared_ptr<AutoExpr> when;
  std::string when_text;
  std::string note;  // said when reading starts with it (a link type nothing is bound to)
};

// All layers, options and bindings in scope. Defining a layer again replaces
// it for new packets (packets already built keep their definition alive);
// its bindings follow the new definition by field name, and are dropped
// where that field is gone or no longer holds the bound value.
class Registry {
 public:
  // Compiles a `layer` or `option` declaration. Throws ScriptError.
  void define(const ast::LayerDecl& decl);
  void bind(const ast::Stmt& stmt);  // a Bind statement
  // A `reply` statement (reply.cpp). Throws ScriptError.
  void add_reply(const ast::Stmt& stmt);
  // The reply rules of a layer: for answers, or (quoted) for quotes of a probe.
  const std::vector<std::shared_ptr<const struct ReplyRule>>& replies_of(const std::string& layer, bool quoted) const;
  // A `fragment` statement (fragment.cpp). Throws ScriptError.
  void add_fragment(const ast::Stmt& stmt);
  // How fragment() splits a layer, or null.
  const struct FragmentRule* fragment_of(const std::string& layer) const;
  std::vector<std::string> fragment_layers() const;  // the layers that have a rule, sorted

  std::shared_ptr<const LayerDef> layer(const std::string& name) const;  // null if none
  std::shared_ptr<const LayerDef> option(const std::string& layer, const std::string& field,
                                         const std::string& name) const;
  bool has_options(const std::string& layer, const std::string& field) const;
  std::vector<std::string> option_names(const std::string& layer, const std::string& field) const;
  std::vector<std::string> layer_names() const;  // sorted, options excluded
  // For "unknown layer 'n'": "; pkt calls it 'ipv4'" when n is a layer's
  // `aka` name (any case), else "; did you mean 'x'?" from the layer names
  // and `more`, else "".
  std::string layer_hint(const std::string& n, const std::vector<std::string>& more = {}) const;
  // First binding from lower to upper, or null.
  const Binding* binding(const std::string& lower, const std::string& upper) const;
  // The latest binding from lower to upper that sets `field`, or null.
  const Binding* binding(const std::string& lower, const std::string& upper, std::size_t field) const;
  // Building: every field the bindings from lower to upper set, the latest
  // binding per field (ND's ipv6.next = 58 and ipv6.hlim = 255); the first
  // is the latest binding of all, the field that selects upper.
  std::vector<const Binding*> bindings(const std::string& lower, const std::string& upper) const;
  std::vector<Binding> bindings_of(const std::string& layer) const;  // as lower or upper
  // Reading: the bindings from `lower` (shared; rebuilt when declarations change).
  std::shared_ptr<const std::vector<ReadBind>> reads_from(const std::string& lower) const;
  // Reading: the options declared for a field, tagged ones first, then generic ones.
  std::vector<std::shared_ptr<const LayerDef>> options_of(const std::string& layer, const std::string& field) const;
  std::uint64_t generation() const { return generation_; }  // bumped by each define/bind

  // Loads the embedded stdlib (or $PKT_STDLIB/*.pkt when set).
  static Registry with_stdlib();

  // --sandbox: file() in a declared default or binding must resolve inside
  // this real directory (Session::set_confine sets it); empty = anywhere.
  std::string confine;

 private:
  std::map<std::string, std::shared_ptr<const LayerDef>> layers_;
  std::map<std::string, std::shared_ptr<const LayerDef>> options_;  // "layer.field.name"
  std::vector<Binding> bindings_;
  std::map<std::pair<std::string, bool>, std::vector<std::shared_ptr<const struct ReplyRule>>> replies_;
  std::map<std::string, std::shared_ptr<const struct FragmentRule>> fragments_;
  std::uint64_t generation_ = 0;
  mutable std::map<std::string, std::shared_ptr<const std::vector<ReadBind>>> read_cache_;
};

// The text of `pkt help LAYER`.
std::string describe_layer(const Registry& reg, const LayerDef& def);

}  // namespace pkt
