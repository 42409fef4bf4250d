#include "render.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "dissect.hpp"
#include "encodings.hpp"

namespace pkt {

namespace {

// Where the name fields being shown can follow their compression pointers
// (RFC 1035 4.1.4): the bytes of the top layer that holds them, from its
// start (the offsets a pointer gives are from there), and what to add to a
// field's byte offset (FieldSlot::bit_offset / 8) to have its place there.
struct NameScope {
  const std::uint8_t* msg = nullptr;
  std::size_t len = 0;
  std::int64_t shift = 0;
};

NameScope layer_scope(const Packet& p, std::size_t l) {
  const LayerInst& li = p.layers()[l];
  if (li.offset > p.size()) return {};
  return {p.bytes().data() + li.offset, p.size() - li.offset, -static_cast<std::int64_t>(li.offset)};
}

bool is_name(const FieldDef& f) { return f.type_name == "name"; }

// The text of a name that ends in a compression pointer, the pointer
// followed within the scope by follow_name (dissect.hpp), with the limits
// reading applies.
// False (the name is shown as written, "www.@12") when it does not end in a
// pointer, or cannot be followed, or a label is not plain text.
bool expand_name(const NameScope* scope, const FieldSlot& s, std::string& text) {
  const std::string& w = s.value.bytes;
  if (!scope || !scope->msg || w.size() < 2 || (static_cast<unsigned char>(w[w.size() - 2]) & 0xc0) != 0xc0) return false;
  std::int64_t at = static_cast<std::int64_t>(s.bit_offset / 8) + scope->shift;
  if (at < 0 || static_cast<std::size_t>(at) + w.size() > scope->len ||
      std::memcmp(scope->msg + at, w.data(), w.size()) != 0)
    return false;  // the bytes are not where the field says (a packet not built yet)
  std::vector<std::string_view> labels;
  std::string why;
  if (scope->len > 0xffffffffu || !follow_name(scope->msg, static_cast<std::uint32_t>(scope->len), static_cast<std::uint32_t>(at), why, &labels))
    return false;
  std::string out;
  for (std::string_view label : labels) {
    for (unsigned char c : label)
      if (c == '.' || c < 0x20 || c > 0x7e) return false;
    out += (out.empty() ? "" : ".") + std::string(label);
  }
  text = out.empty() ? "." : out;
  return true;
}

std::string quote_text(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string format_value(const FieldDef& f, const FieldValue& v) { return f.type().format(f, v); }

std::string format_dim(const FieldDef& f, const Dim& d, std::size_t max_values) {
  if (d.is_range)
    return d.ipv4 ? format_value(f, d.at(0)) + ".." + format_value(f, d.at(d.size() - 1)) : fmt::format("{}..{}", d.lo, d.hi);
  std::string out = "[";
  for (std::size_t i = 0; i < d.values.size(); ++i) {
    if (i == max_values && d.values.size() > max_values + 1) {
      out += fmt::format(", ... ({} values)", d.values.size());
      break;
    }
    out += (i ? ", " : "") + format_value(f, d.values[i]);
  }
  return out + "]";
}

namespace {

bool has_option_list(const Registry* reg, const LayerDef& def, const FieldDef& f) {
  return reg && f.kind == FieldKind::Bytes && reg->has_options(def.name, f.name);
}

// The value a field would take on a rebuild if it were not written: its
// binding to the layer above, or its default.
const FieldValue& implied_value(const Packet& p, std::size_t l, std::size_t f, const Registry* reg) {
  const LayerInst& li = p.layers()[l];
  if (reg && l + 1 < p.layers().size())
    if (const Binding* b = reg->binding(li.def->name, p.layers()[l + 1].def->name, f)) return b->value;
  return li.def->fields[f].default_value;
}

bool reads_present(const AutoExpr& e, std::size_t f) {
  if ((e.op == AutoExpr::Op::Present || e.op == AutoExpr::Op::Given) && e.index == f) return true;
  for (auto& a : e.args)
    if (reads_present(a, f)) return true;
  return false;
}

bool reads_given(const AutoExpr& e) {
  if (e.op == AutoExpr::Op::Given) return true;
  for (auto& a : e.args)
    if (reads_given(a)) return true;
  return false;
}

// Whether a rule of the layer asks present(field f) or given(field f).
bool named_by_present(const LayerDef& def, std::size_t f) {
  for (auto& fd : def.fields)
    for (auto* r : {fd.auto_rule.get(), fd.cond.get(), fd.size_rule.get()})
      if (r && reads_present(*r, f)) return true;
  return false;
}

// Whether a field must be written for the packet to rebuild the same.
bool must_write(const Packet& p, std::size_t l, std::size_t f, const Registry* reg) {
  const LayerInst& li = p.layers()[l];
  const FieldSlot& s = li.fields[f];
  const FieldDef& d = li.def->fields[f];
  if (!s.present) return false;
  if (s.origin == Origin::User) return true;
  // A flag computed from whether another field was given (GRE's c, by
  // given(checksum)) is written when set: read back, that field is only
  // computed, and the text would not give it.
  if (s.origin == Origin::Auto && d.auto_rule && reads_given(*d.auto_rule) && !(s.value == d.default_value)) return true;
  if (s.origin != Origin::Wire) return false;
  if (d.auto_rule) return true;
  // A conditional field whose presence a present() rule reads (GRE's key
  // sets k) is written; one present by another field's value (ICMP's mtu,
  // by type) is left out where the text gives it anyway.
  if (d.cond && named_by_present(*li.def, f)) return true;
  return !(s.value == implied_value(p, l, f, reg));
}

// With a scope (show), a name ending in a compression pointer is shown
// expanded, `"example.com" (compressed: "@12")`; without one (the pkt
// text) as written, which builds the same bytes.
std::string option_text(const Registry& reg, const OptionElem& el, const std::string& bytes, const NameScope* scope = nullptr) {
  const std::string as_hex = "hex\"" + hex_encode(std::string_view(bytes).substr(el.offset, el.size)) + "\"";
  if (!el.def) return as_hex;
  Packet op = option_packet(reg, el, bytes);
  const LayerInst& li = op.layers()[0];
  const LayerDef& od = *el.def;
  // A variadic option alone needs at least one element to be written by
  // name (`sack()` does not build): an empty one read from the wire stays bytes.
  if (od.variadic && od.params.size() == 1 && li.fields[od.params.back()].value.bytes.empty()) return as_hex;
  auto value = [&](std::size_t fi) {
    const FieldDef& fd = od.fields[fi];
    std::string v = format_value(fd, li.fields[fi].value), text;
    if (is_name(fd) && expand_name(scope, li.fields[fi], text)) v = fmt::format("{} (compressed: {})", quote_text(text), v);
    return v;
  };
  std::vector<std::string> args;
  for (std::size_t k = 0; k < od.params.size(); ++k) {
    std::size_t fi = od.params[k];
    const FieldDef& fd = od.fields[fi];
    if (od.variadic && k + 1 == od.params.size() && fd.kind == FieldKind::Array) {
      std::string arr = format_value(fd, li.fields[fi].value);  // "[a, b]"
      if (arr.size() > 2) args.push_back(arr.substr(1, arr.size() - 2));
    } else {
      args.push_back(value(fi));
    }
  }
  for (std::size_t f = 1; f < li.fields.size(); ++f) {
    if (std::find(od.params.begin(), od.params.end(), f) != od.params.end()) continue;
    if (must_write(op, 0, f, &reg)) args.push_back(fmt::format("{}={}", od.fields[f].name, value(f)));
  }
  if (args.empty() && od.params.empty()) return od.name;
  return fmt::format("{}({})", od.name, fmt::join(args, ", "));
}

// `at`: where the list starts in its layer. With `scope` (the layer's),
// compressed names are shown expanded.
std::string options_text(const Registry& reg, const LayerDef& def, const FieldDef& f, const std::string& bytes, std::uint32_t at,
                         const NameScope* scope = nullptr) {
  std::vector<std::string> parts;
  for (auto& el : read_options(reg, def, f, bytes, at)) {
    // An option's field offsets are from the option's start.
    NameScope inner;
    if (scope) inner = {scope->msg, scope->len, static_cast<std::int64_t>(at) + el.offset};
    parts.push_back(option_text(reg, el, bytes, scope ? &inner : nullptr));
  }
  return "[" + fmt::format("{}", fmt::join(parts, ", ")) + "]";
}

std::string json_escape(const std::string& s, bool keep_utf8 = false) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f || (c > 0x7f && !keep_utf8)) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out;
}

// An option's fields (from 1: past its kind; from 0 for a record with no
// kind) leave out what its rules compute.
// A name ending in a compression pointer is given expanded, its written
// form next to it as "NAME_wire": "@12" (where `scope` lets it be followed).
std::string json_fields(const Packet& p, std::size_t l, const Registry* reg, std::size_t from, bool option = false,
                        const NameScope* scope = nullptr) {
  const LayerInst& li = p.layers()[l];
  std::vector<std::string> parts;
  for (std::size_t f = from; f < li.fields.size(); ++f) {
    const FieldDef& d = li.def->fields[f];
    const FieldSlot& s = li.fields[f];
    if (!s.present || ((from > 0 || option) && is_computed(s.origin))) continue;
    std::string v;
    if (has_option_list(reg, *li.def, d)) {
      std::vector<std::string> opts;
      for (auto& el : read_options(*reg, *li.def, d, s.value.bytes, s.bit_offset / 8 - li.offset)) {
        if (!el.def) {
          opts.push_back(fmt::format("{{\"option\": null, \"bytes\": \"{}\"}}", hex_encode(std::string_view(s.value.bytes).substr(el.offset, el.size))));
          continue;
        }
        Packet op = option_packet(*reg, el, s.value.bytes);
        const FieldDef& tag = el.def->fields[0];
        bool tagged = tag.has_default && !tag.auto_rule && tag.fixed_size();
        NameScope in_list;
        // An option's field offsets are from the option's start.
        if (scope) in_list = {scope->msg, scope->len, static_cast<std::int64_t>(s.bit_offset / 8) + scope->shift + el.offset};
        std::string inner = json_fields(op, 0, reg, tagged ? 1 : 0, true, scope ? &in_list : nullptr);
        opts.push_back(fmt::format("{{\"option\": \"{}\"{}{}}}", el.def->name, inner.empty() ? "" : ", ", inner));
      }
      v = "[" + fmt::format("{}", fmt::join(opts, ", ")) + "]";
    } else {
      v = d.type().json(d, s.value);
      std::string text;
      if (is_name(d) && expand_name(scope, s, text)) {
        parts.push_back(fmt::format("\"{}\": \"{}\"", json_escape(d.name), json_escape(text)));
        parts.push_back(fmt::format("\"{}_wire\": {}", json_escape(d.name), v));
        continue;
      }
    }
    parts.push_back(fmt::format("\"{}\": {}", json_escape(d.name), v));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

std::string render_show(const Packet& p, bool color, const Registry* reg) {
  const char* bold = color ? "\033[1;36m" : "";
  const char* green = color ? "\033[32m" : "";
  const char* yellow = color ? "\033[33m" : "";
  const char* reset = color ? "\033[0m" : "";
  std::string out;
  for (std::size_t l = 0; l < p.layers().size(); ++l) {
    const LayerInst& li = p.layers()[l];
    out += fmt::format("{}{}{} ({} bytes)\n", bold, li.def->name, reset, li.size);
    std::size_t w = 0;
    for (auto& f : li.def->fields) w = std::max(w, f.name.size());
    const NameScope scope = layer_scope(p, l);
    for (std::size_t i = 0; i < li.fields.size(); ++i) {
      const FieldDef& f = li.def->fields[i];
      const FieldSlot& s = li.fields[i];
      if (!s.present) continue;
      std::string val = format_value(f, s.value);
      bool numeric_note = f.kind == FieldKind::UInt && (!f.enums.empty() || !f.flags.empty()) &&
                          val != std::to_string(s.value.num);
      if (numeric_note) val += fmt::format(" ({:#x})", s.value.num);
      std::string text;
      if (has_option_list(reg, *li.def, f)) {
        val = options_text(*reg, *li.def, f, s.value.bytes, s.bit_offset / 8 - li.offset, &scope);
      } else if (is_name(f) && expand_name(&scope, s, text)) {
        val = fmt::format("{}  (compressed: {})", quote_text(text), val);
      } else if (f.kind == FieldKind::Bytes && s.value.bytes.size() > 64) {
        FieldValue head;
        head.bytes = s.value.bytes.substr(0, 64);
        val = format_value(f, head) + fmt::format(" ... ({} bytes in all)", s.value.bytes.size());
      }
      if (f.kind == FieldKind::Bytes && !s.value.bytes.empty() && s.bit_size / 8 > s.value.bytes.size()) {
        std::size_t pad = s.bit_size / 8 - s.value.bytes.size();
        val += fmt::format(" (+{} byte{} of padding)", pad, pad == 1 ? "" : "s");
      }
      std::string note;
      if (s.origin == Origin::Auto) note = fmt::format("{}auto{}", green, reset);
      else if (s.origin == Origin::Route)
        note = s.value.bytes.find_first_not_of('\0') == std::string::npos
                   ? fmt::format("{}route: no route to the destination{}", yellow, reset)
                   : fmt::format("{}route{}", green, reset);
      else if (s.origin == Origin::Bound) note = fmt::format("{}bound{}", green, reset);
      // A value given for a field whose rule asks the kernel is not compared
      // with the kernel's answer (no route lookup for each packet read).
      else if (f.auto_rule && !f.asks_route && is_given(s.origin) && p.finalized()) {
        FieldValue c;
        bool ok = true;
        try {
          c = p.computed_value(l, i);
        } catch (const ScriptError&) {
          ok = false;
        }
        const char* who = s.origin == Origin::Wire ? "wire" : "user";
        note = !ok ? fmt::format("{}{}; its rule cannot be computed here{}", yellow, who, reset)
             : c == s.value ? fmt::format("{} (matches computed)", who)
             : s.origin == Origin::Wire ? fmt::format("{}wire, computed {}{}", yellow, format_value(f, c), reset)
                                         : fmt::format("{}user; computed would be {}{}", yellow, format_value(f, c), reset);
      }
      std::string line = fmt::format("  {:<{}} = {}", f.name, w, val);
      if (!note.empty()) line = fmt::format("{:<40} {}", line, note);
      out += line + "\n";
    }
  }
  for (std::size_t l = p.layers().size(); l-- > 0;) {
    const LayerInst& li = p.layers()[l];
    if (li.trailer.empty()) continue;
    FieldValue v;
    v.bytes = li.trailer.substr(0, 64);
    out += fmt::format("{}trailer{} of {} ({} bytes) = {}{}\n", bold, reset, li.def->name, li.trailer.size(),
                       format_value(FieldDef::of("trailer", "bytes"), v),
                       li.trailer.size() > 64 ? " ..." : "");
  }
  for (auto& n : p.notes()) out += fmt::format("{}note:{} {}\n", yellow, reset, n);
  return out;
}

std::string render_pkt(const PacketSet& set, const Registry* reg, std::size_t max_values) {
  const Packet& p = set.tmpl;
  // No layers (a zero-byte record): the empty payload, which builds to no bytes.
  if (p.layers().empty()) return "\"\"";
  std::string out;
  for (std::size_t l = 0; l < p.layers().size(); ++l) {
    const LayerInst& li = p.layers()[l];
    const LayerDef& def = *li.def;
    std::vector<std::string> args;
    bool only_load = true;
    for (std::size_t f = 0; f < li.fields.size(); ++f) {
      const FieldDef& d = def.fields[f];
      const Dim* dim = nullptr;
      for (auto& x : set.dims)
        if (x.layer == l && x.field == f) dim = &x;
      if (dim) {
        args.push_back(fmt::format("{}={}", d.name, format_dim(d, *dim, max_values)));
        only_load = false;
        continue;
      }
      if (!must_write(p, l, f, reg)) continue;
      std::string v = has_option_list(reg, def, d) ? options_text(*reg, def, d, li.fields[f].value.bytes,
                                                                  li.fields[f].bit_offset / 8 - li.offset)
                                                   : format_value(d, li.fields[f].value);
      if (v == "[]" && has_option_list(reg, def, d)) continue;  // only padding, which the rebuild adds back
      if (f != 0) only_load = false;
      args.push_back(fmt::format("{}={}", d.name, v));
    }
    if (!li.trailer.empty()) {
      FieldValue v;
      v.bytes = li.trailer;
      args.push_back("trailer=" + format_value(FieldDef::of("trailer", "bytes"), v));
      only_load = false;
    }
    std::string text;
    if (def.name == "raw" && only_load && def.fields.size() == 1 && args.size() == 1)
      text = format_value(def.fields[0], li.fields[0].value);
    else
      text = fmt::format("{}({})", def.name, fmt::join(args, ", "));
    out += (l ? " / " : "") + text;
  }
  return out;
}

std::string render_pkt(const Packet& p, const Registry* reg) {
  PacketSet set;
  set.tmpl = p;
  return render_pkt(set, reg);
}

std::string render_json_layers(const Packet& p, const Registry* reg, std::size_t from) {
  std::vector<std::string> layers;
  for (std::size_t l = from; l < p.layers().size(); ++l) {
    const LayerInst& li = p.layers()[l];
    std::string extra;
    if (!li.trailer.empty()) extra = fmt::format(", \"trailer\": \"{}\"", hex_encode(li.trailer));
    const NameScope scope = layer_scope(p, l);
    layers.push_back(fmt::format("{{\"layer\": \"{}\", \"fields\": {{{}}}{}}}", li.def->name, json_fields(p, l, reg, 0, false, &scope), extra));
  }
  std::string out = fmt::format("\"layers\": [{}]", fmt::join(layers, ", "));
  if (!p.notes().empty()) {
    std::vector<std::string> notes;
    for (auto& n : p.notes()) notes.push_back("\"" + json_escape(n) + "\"");
    out += fmt::format(", \"notes\": [{}]", fmt::join(notes, ", "));
  }
  return out;
}

std::string render_json(const Packet& p, const Registry* reg, const std::string& head, std::size_t from) {
  return fmt::format("{{{}{}{}}}", head, head.empty() ? "" : ", ", render_json_layers(p, reg, from));
}

std::string json_string(const std::string& s, bool keep_utf8) {
  std::string out(1, '"');
  out += json_escape(s, keep_utf8);
  out += '"';
  return out;
}

std::string json_time(std::int64_t sec, std::uint32_t nsec) { return fmt::format("{}.{:09d}", sec, nsec); }

std::string render_summary(const Packet& p, std::size_t from) {
  std::string out;
  for (std::size_t l = from; l < p.layers().size(); ++l) {
    const LayerInst& li = p.layers()[l];
    const LayerDef& def = *li.def;
    std::string part = def.name;
    if (!def.summary.empty()) {
      part += ' ';
      const std::string& t = def.summary;
      // A field absent from this packet (its `if` is false) is left out
      // with the text since the previous field: "{type} id {id}" is
      // "dest_unreach" for an ICMP error.
      std::size_t mark = part.size();
      for (std::size_t i = 0; i < t.size(); ++i) {
        std::size_t j;
        if (t[i] == '{' && (j = t.find('}', i)) != std::string::npos) {
          int fi = def.field_index(t.substr(i + 1, j - i - 1));
          if (fi >= 0 && li.fields[fi].present) {
            const FieldDef& d = def.fields[fi];
            FieldValue v = li.fields[fi].value;
            NameScope scope = layer_scope(p, l);
            std::string text;
            bool cut = d.kind == FieldKind::Bytes && v.bytes.size() > 24;
            if (is_name(d) && expand_name(&scope, li.fields[fi], text)) {
              part += quote_text(text);  // a compressed name, followed
            } else {
              if (cut) v.bytes.resize(24);
              part += format_value(d, v) + (cut ? "..." : "");
            }
          } else if (fi >= 0) {
            part.resize(mark);
          }
          mark = part.size();
          i = j;
        } else {
          part += t[i];
        }
      }
    }
    out += (l > from ? " / " : "") + part;
  }
  if (!p.notes().empty()) out += " [" + p.notes().front() + "]";
  return out;
}

std::string render_hex(const Packet& p) {
  return hex_encode(std::string_view(reinterpret_cast<const char*>(p.bytes().data()), p.size()));
}

}  // namespace pkt
