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

namespace pkt {

// A field's concrete value: `num` for unsigned fields, `bytes` for
// addresses, byte strings and arrays (serialised, network order).
struct FieldValue {
  std::uint64_t num = 0;
  std::string bytes;
  bool operator==(const FieldValue&) const = default;
};

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
    Nonzero,               // nonzero(a, b): a if a != 0 else b
    ToBytes,               // uN(x): x as width/8 big-endian bytes (index = width in bits)
    Concat,                // bytes(a, b, ...)
    Add, Sub, Mul, Div,
  };
  Op op = Op::Int;
  std::uint64_t i = 0;
  std::string s;
  std::size_t index = 0;
  Pos pos;
  std::vector<AutoExpr> args;
};

struct FieldDef {
  std::string name;
  Pos pos;
  FieldKind kind = FieldKind::UInt;
  unsigned bits = 0;           // UInt: 1..64; IPv4 32; IPv6 128; MAC 48; Array: element width; Bytes: 0
  bool little_endian = false;  // uNle
  unsigned align = 0;          // Bytes: pad with zeros to a multiple of `align` bytes
  std::string type_name;       // as written: "u16", "ipv4addr", ...
  FieldValue default_value;
  bool has_default = false;    // written `= value` (else zero / empty)
  std::string default_text;    // the default as written, for `help`
  std::shared_ptr<AutoExpr> auto_rule;  // `= auto ...`
  std::string auto_text;       // the rule as written, for `help`
  std::vector<std::pair<std::string, std::uint64_t>> enums;
  std::vector<std::pair<std::string, std::uint64_t>> flags;
  std::string doc;

  bool fixed_size() const { return kind != FieldKind::Bytes && kind != FieldKind::Array; }
  std::uint64_t max() const { return bits >= 64 ? ~0ULL : ((1ULL << bits) - 1); }
  std::string describe_type() const;  // "u8, 0..255", "ipv4addr", ...
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

  // Index of a field, or -1.
  int field_index(const std::string& name) const;
  std::vector<std::string> field_names() const;
};

// `bind LOWER.FIELD = VALUE -> UPPER`
struct Binding {
  std::string lower;
  std::size_t field = 0;  // field index in lower's current definition (kept valid by Registry::define)
  FieldValue value;
  std::string upper;
  Pos pos;
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

  std::shared_ptr<const LayerDef> layer(const std::string& name) const;  // null if none
  std::shared_ptr<const LayerDef> option(const std::string& layer, const std::string& field,
                                         const std::string& name) const;
  bool has_options(const std::string& layer, const std::string& field) const;
  std::vector<std::string> option_names(const std::string& layer, const std::string& field) const;
  std::vector<std::string> layer_names() const;  // sorted, options excluded
  // First binding from lower to upper, or null.
  const Binding* binding(const std::string& lower, const std::string& upper) const;
  std::vector<Binding> bindings_of(const std::string& layer) const;  // as lower or upper

  // Loads the embedded stdlib (or $PKT_STDLIB/*.pkt when set).
  static Registry with_stdlib();

 private:
  std::map<std::string, std::shared_ptr<const LayerDef>> layers_;
  std::map<std::string, std::shared_ptr<const LayerDef>> options_;  // "layer.field.name"
  std::vector<Binding> bindings_;
};

// The text of `pkt help LAYER`.
std::string describe_layer(const Registry& reg, const LayerDef& def);

}  // namespace pkt
