// `pkt help LAYER`: a layer's fields, widths, defaults, auto rules, flags,
// enums, options and bindings, all read from its declaration (layer_info).
#include <fmt/format.h>

#include <algorithm>

#include "layer_info.hpp"

namespace pkt {

std::string describe_layer(const Registry& reg, const LayerDef& def) {
  LayerInfo info = layer_info(reg, def);
  std::string out = fmt::format("{} - {}\n", def.name, def.doc.empty() ? "(no description)" : def.doc);
  if (!info.declared_at.empty()) out += fmt::format("declared at {}\n", info.declared_at);
  std::size_t wn = 5, wt = 4;
  for (auto& fi : info.fields) {
    wn = std::max(wn, fi.def->name.size());
    wt = std::max(wt, fi.type.size());
  }
  out += fmt::format("size: {} bytes{}\n\n", info.fixed_bytes, info.variable ? " plus variable-length fields" : "");
  out += fmt::format("  {:<{}}  {:<{}}  {}\n", "field", wn, "type", wt, "default");
  for (auto& fi : info.fields) {
    const FieldDef& f = *fi.def;
    std::string line = fmt::format("  {:<{}}  {:<{}}  {}", f.name, wn, fi.type, wt, fi.default_text);
    if (f.size_rule) line += fmt::format("  size {}", f.size_text);
    if (f.count_rule) line += fmt::format("  count {}", f.count_text);
    if (!f.until.empty()) line += fmt::format("  until {}", f.until);
    if (f.strict) line += "  strict";
    if (f.cond) line += fmt::format("  if {}", f.cond_text);
    if (f.align > 1)
      line += f.pad_with.empty() ? fmt::format("  (padded with zeros to {} bytes)", f.align)
                                 : fmt::format("  (padded to {} bytes with {})", f.align, f.pad_with);
    if (!f.doc.empty()) line = fmt::format("{:<60}  # {}", line, f.doc);
    out += line + "\n";
  }
  for (auto& fi : info.fields) {
    const FieldDef& f = *fi.def;
    if (!f.enums.empty()) {
      out += fmt::format("\nnamed values of {}:", f.name);
      for (auto& [n, v] : f.enums) out += fmt::format(" {}={}", n, v);
      out += "\n";
    }
    if (!f.flags.empty()) {
      out += fmt::format("\nflag names of {} (combine with |):", f.name);
      for (auto& [n, v] : f.flags) out += fmt::format(" {}={:#x}", n, v);
      out += "\n";
    }
    if (!fi.options.empty()) {
      out += fmt::format("\noptions for {} (in a list; {}):\n", f.name, fi.list_bound);
      // By name, as `pkt help` always listed them.
      std::vector<const OptionInfo*> sorted;
      for (auto& o : fi.options) sorted.push_back(&o);
      std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->def->name < b->def->name; });
      for (auto* o : sorted) {
        std::vector<std::string> ps = o->params;
        if (o->variadic && !ps.empty()) ps.back() += "...";
        out += fmt::format("  {}{}  {}\n", o->def->name, ps.empty() ? "" : "(" + fmt::format("{}", fmt::join(ps, ", ")) + ")",
                           o->def->doc);
      }
    }
  }
  if (def.payload_size)
    out += fmt::format("\npayload: size {} (bytes past it are a trailer, such as Ethernet padding)\n", def.payload_text);
  if (!def.summary.empty()) out += fmt::format("\nsummary: \"{}\"\n", def.summary);
  if (!def.pseudo.empty()) out += "\noffers a pseudo-header to upper-layer checksums (pseudo)\n";
  for (auto& w : def.wireshark) {
    std::vector<std::string> names;
    for (auto i : w.fields) names.push_back(def.fields[i].name);
    out += fmt::format("\nWireshark's dissector table \"{}\" is keyed by {} (pkt export wireshark)\n", w.table, fmt::join(names, ", "));
  }
  // Reading: how the layer after this one is chosen.
  if (!info.next.empty()) {
    out += fmt::format("\nnext layer when reading (the lowest matching value first):\n");
    for (auto& n : info.next) {
      std::string when = n.when_text.empty() ? "" : " when " + n.when_text;
      if (!n.field) out += fmt::format("  always -> {}{}\n", n.upper->name, when);
      else out += fmt::format("  {} = {} -> {}{}\n", n.field->name, n.value_text, n.upper->name, when);
    }
  }
  if (!info.bindings.empty()) {
    out += "\nbindings:\n";
    for (auto& b : info.bindings) {
      if (b.field.empty()) out += fmt::format("  {} -> {}\n", b.lower, b.upper);
      else out += fmt::format("  {}.{} = {} -> {}\n", b.lower, b.field, b.value_text, b.upper);
    }
  }
  // Receiving: when a packet read back answers one of this layer (sr, sr1).
  if (!info.replies.empty()) out += "\nreply rules (when a received packet answers a sent one):\n";
  for (auto& r : info.replies) out += fmt::format("  {}\n", r.text);
  if (!info.fragment.empty())
    out += fmt::format("\nfragment(P, SIZE) splits it (see docs/protocols.md#fragments):\n  {}\n", info.fragment);
  return out;
}

}  // namespace pkt
