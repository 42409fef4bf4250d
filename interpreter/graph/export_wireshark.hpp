// `pkt export wireshark`: a Wireshark Lua dissector written from layer
// declarations alone (fields, sizes, conditions, enums, flags, options,
// bindings). Knows no protocol: where a binding's lower layer is one of
// Wireshark's, the lower layer's `wireshark "TABLE" = FIELD` declaration
// names the dissector table to register in.
#pragma once

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "layer_def.hpp"

namespace pkt {

// A declaration the export cannot turn into a correct dissector.
struct ExportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct WiresharkExport {
  std::vector<std::string> layers;  // the layers to export (their options come along)
  std::set<std::string> own;        // those a script declared: unprefixed, and they take over their bindings' values
  bool prefix_set = false;          // --prefix given: `prefix` for every layer
  std::string prefix;
  bool replace = false;             // --replace: stdlib layers take over values Wireshark dissects too
  std::string version;              // pkt's, for the header
};

// The Lua text. Warnings (what the dissector cannot do, said in the file
// too) are appended to `warnings`. Throws ExportError.
std::string export_wireshark(const Registry& reg, const WiresharkExport& opts, std::vector<std::string>& warnings);

// The Wireshark protocol name a layer gets: LAYER, or pkt.LAYER for the stdlib's.
std::string wireshark_name(const WiresharkExport& opts, const std::string& layer);

}  // namespace pkt
