// A layer's declaration walked once into plain data: its fields (type,
// default or rule, size, condition, names), options, how the next layer is
// chosen, its bindings and reply rules. `pkt help` prints it as text or
// JSON, and `pkt export wireshark` writes a dissector from it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layer_def.hpp"

namespace pkt {

struct OptionInfo {
  std::shared_ptr<const LayerDef> def;
  std::vector<std::string> params;  // the fields its positional arguments fill
  bool variadic = false;            // the last collects the rest
  bool tagged = false;              // recognised by a default first field (kind : u8 = 2)
};

struct FieldInfo {
  const FieldDef* def = nullptr;
  std::string type;          // "u16, 0..65535", "ipv4addr"
  std::string default_text;  // as a script writes it, or "auto RULE"; "0" or "(empty)" when not declared
  std::string default_json;  // the default as a JSON value (null when the field has a rule)
  std::vector<OptionInfo> options;  // a list field's options: tagged ones first, then generic ones
  std::string list_bound;    // how the list ends: "as many as n", "the last one stop", ...
  std::vector<std::string> wireshark_tables;  // Wireshark dissector tables keyed by this field
};

// Reading: a layer that follows this one when `field` holds `value`.
struct NextInfo {
  const FieldDef* field = nullptr;  // null: always (`bind LOWER -> UPPER`)
  FieldValue value;
  std::string value_text, value_json;
  std::shared_ptr<const LayerDef> upper;
  const AutoExpr* when = nullptr;
  std::string when_text;
};

struct BindingInfo {
  std::string lower, field, upper;  // field empty: always
  std::string value_text, value_json;
  std::string when_text;
};

struct LayerInfo {
  const LayerDef* def = nullptr;
  std::string declared_at;  // "stdlib/30-transport.pkt:301", or empty
  std::vector<FieldInfo> fields;
  unsigned fixed_bytes = 0;  // of the fields of a fixed size
  bool variable = false;     // some field has a variable size
  std::vector<NextInfo> next;
  std::vector<BindingInfo> bindings;  // as the lower or upper layer
  struct Reply {
    bool quoted = false;
    std::string text;  // on one line
  };
  std::vector<Reply> replies;
  std::string fragment;  // the `fragment` declaration, or empty
};

LayerInfo layer_info(const Registry& reg, const LayerDef& def);

// `pkt help LAYER --format json`: one JSON object (schema in docs/language.md).
std::string describe_layer_json(const Registry& reg, const LayerDef& def);

// A string as a JSON string literal, quotes included.
std::string json_quote(const std::string& s);

}  // namespace pkt
