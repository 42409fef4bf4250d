// `pkt help LAYER`: a layer's fields, widths, defaults, auto rules, flags,
// enums, options and bindings, all read from its declaration.
#include <fmt/format.h>

#include <cctype>

#include "fragment.hpp"
#include "layer_def.hpp"
#include "reply.hpp"
#include "render.hpp"

namespace pkt {

std::string describe_layer(const Registry& reg, const LayerDef& def) {
  std::string out = fmt::format("{} - {}\n", def.name, def.doc.empty() ? "(no description)" : def.doc);
  if (def.pos.src) out += fmt::format("declared at {}:{}\n", def.pos.src->name, def.pos.line);
  std::size_t wn = 5, wt = 4;
  std::vector<std::string> types, defaults;
  unsigned bits = 0;
  bool variable = false;
  for (auto& f : def.fields) {
    types.push_back(f.describe_type());
    std::string d = f.auto_rule ? "auto " + f.auto_text : f.has_default ? format_value(f, f.default_value) : "";
    if (d.empty()) d = f.kind == FieldKind::UInt ? "0" : f.kind == FieldKind::Bytes || f.kind == FieldKind::Array ? "(empty)" : format_value(f, f.default_value);
    defaults.push_back(d);
    wn = std::max(wn, f.name.size());
    wt = std::max(wt, types.back().size());
    if (f.fixed_size()) bits += f.bits; else variable = true;
  }
  out += fmt::format("size: {} bytes{}\n\n", bits / 8, variable ? " plus variable-length fields" : "");
  out += fmt::format("  {:<{}}  {:<{}}  {}\n", "field", wn, "type", wt, "default");
  for (std::size_t i = 0; i < def.fields.size(); ++i) {
    const FieldDef& f = def.fields[i];
    std::string line = fmt::format("  {:<{}}  {:<{}}  {}", f.name, wn, types[i], wt, defaults[i]);
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
  for (auto& f : def.fields) {
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
    auto opts = reg.option_names(def.name, f.name);
    if (!opts.empty()) {
      std::string bound = f.count_rule   ? fmt::format("as many as {}", f.count_text)
                          : !f.until.empty() ? fmt::format("the last one {}", f.until)
                          : f.strict ? std::string("each element one of them")
                                             : fmt::format("padded with zeros to {} bytes", std::max(1u, f.align));
      out += fmt::format("\noptions for {} (in a list; {}):\n", f.name, bound);
      for (auto& o : opts) {
        auto od = reg.option(def.name, f.name, o);
        std::vector<std::string> ps;
        for (auto p : od->params) ps.push_back(od->fields[p].name);
        if (od->variadic && !ps.empty()) ps.back() += "...";
        out += fmt::format("  {}{}  {}\n", o, ps.empty() ? "" : "(" + fmt::format("{}", fmt::join(ps, ", ")) + ")", od->doc);
      }
    }
  }
  if (def.payload_size)
    out += fmt::format("\npayload: size {} (bytes past it are a trailer, such as Ethernet padding)\n", def.payload_text);
  if (!def.summary.empty()) out += fmt::format("\nsummary: \"{}\"\n", def.summary);
  if (!def.pseudo.empty()) out += "\noffers a pseudo-header to upper-layer checksums (pseudo)\n";
  // Reading: how the layer after this one is chosen.
  auto reads = reg.reads_from(def.name);
  if (!reads->empty()) {
    out += fmt::format("\nnext layer when reading (the lowest matching value first):\n");
    for (auto& rb : *reads) {
      if (rb.field == kNoField) {
        out += fmt::format("  always -> {}{}\n", rb.upper->name, rb.when_text.empty() ? "" : " when " + rb.when_text);
        continue;
      }
      const FieldDef& f = def.fields[rb.field];
      std::string when;
      for (auto& b : reg.bindings_of(def.name))
        if (b.lower == def.name && b.upper == rb.upper->name && b.field == rb.field && b.value == rb.value && b.when)
          when = " when " + b.when_text;
      out += fmt::format("  {} = {} -> {}{}\n", f.name, f.kind == FieldKind::UInt ? std::to_string(rb.value.num) : format_value(f, rb.value),
                         rb.upper->name, when);
    }
  }
  auto binds = reg.bindings_of(def.name);
  if (!binds.empty()) {
    out += "\nbindings:\n";
    for (auto& b : binds) {
      auto lower = reg.layer(b.lower);
      if (b.field == kNoField) {
        out += fmt::format("  {} -> {}\n", b.lower, b.upper);
        continue;
      }
      const FieldDef& f = lower->fields[b.field];
      out += fmt::format("  {}.{} = {} -> {}\n", b.lower, f.name,
                         f.kind == FieldKind::UInt ? std::to_string(b.value.num) : format_value(f, b.value), b.upper);
    }
  }
  // Receiving: when a packet read back answers one of this layer (sr, sr1).
  bool first = true;
  for (bool quoted : {false, true})
    for (auto& r : reg.replies_of(def.name, quoted)) {
      if (first) out += "\nreply rules (when a received packet answers a sent one):\n";
      first = false;
      std::string text;  // on one line
      for (char c : r->text)
        if (!std::isspace(static_cast<unsigned char>(c))) text += c;
        else if (!text.empty() && text.back() != ' ') text += ' ';
      out += fmt::format("  {}\n", text);
    }
  if (const FragmentRule* fr = reg.fragment_of(def.name))
    out += fmt::format("\nfragment(P, SIZE) splits it (see docs/protocols.md#fragments):\n  {}\n", fr->text);
  return out;
}

}  // namespace pkt
