// The one walk over a layer's declaration that `pkt help` (text and JSON)
// and `pkt export wireshark` share.
#include "layer_info.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "fragment.hpp"
#include "render.hpp"
#include "reply.hpp"

namespace pkt {

std::string json_quote(const std::string& s) { return json_string(s, true); }

namespace {

std::string one_line(const std::string& s) {
  std::string text;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) text += c;
    else if (!text.empty() && text.back() != ' ') text += ' ';
  return text;
}

std::string value_text(const FieldDef& f, const FieldValue& v) {
  return f.kind == FieldKind::UInt ? std::to_string(v.num) : format_value(f, v);
}

FieldInfo field_info(const Registry& reg, const LayerDef& def, const FieldDef& f) {
  FieldInfo fi;
  fi.def = &f;
  fi.type = f.describe_type();
  std::string d = f.auto_rule ? "auto " + f.auto_text : f.has_default ? format_value(f, f.default_value) : "";
  if (d.empty())
    d = f.kind == FieldKind::UInt                                    ? "0"
        : f.kind == FieldKind::Bytes || f.kind == FieldKind::Array ? "(empty)"
                                                                    : format_value(f, f.default_value);
  fi.default_text = d;
  fi.default_json = f.auto_rule ? "null" : f.type().json(f, f.default_value);
  for (auto& od : reg.options_of(def.name, f.name)) {
    OptionInfo oi;
    oi.def = od;
    for (auto p : od->params) oi.params.push_back(od->fields[p].name);
    oi.variadic = od->variadic;
    const FieldDef& tag = od->fields[0];
    oi.tagged = tag.has_default && !tag.auto_rule && tag.fixed_size();
    fi.options.push_back(std::move(oi));
  }
  if (!fi.options.empty())
    fi.list_bound = f.count_rule       ? fmt::format("as many as {}", f.count_text)
                    : !f.until.empty() ? fmt::format("the last one {}", f.until)
                    : f.strict         ? std::string("each element one of them")
                                       : fmt::format("padded with zeros to {} bytes", std::max(1u, f.align));
  for (auto& w : def.wireshark)
    for (auto idx : w.fields)
      if (&def.fields[idx] == &f) fi.wireshark_tables.push_back(w.table);
  return fi;
}

}  // namespace

LayerInfo layer_info(const Registry& reg, const LayerDef& def) {
  LayerInfo info;
  info.def = &def;
  if (def.pos.src) info.declared_at = fmt::format("{}:{}", def.pos.src->name, def.pos.line);
  unsigned bits = 0;
  for (auto& f : def.fields) {
    info.fields.push_back(field_info(reg, def, f));
    if (f.fixed_size()) bits += f.bits;
    else info.variable = true;
  }
  info.fixed_bytes = bits / 8;
  auto reads = reg.reads_from(def.name);
  auto binds = reg.bindings_of(def.name);
  for (auto& rb : *reads) {
    NextInfo n;
    n.upper = rb.upper;
    n.when = rb.when.get();
    if (rb.field == kNoField) n.when_text = rb.when_text;
    if (rb.field != kNoField) {
      n.field = &def.fields[rb.field];
      n.value = rb.value;
      n.value_text = value_text(*n.field, rb.value);
      n.value_json = n.field->type().json(*n.field, rb.value);
      for (auto& b : binds)
          if (b.lower == def.name && b.upper == rb.upper->name && b.field == rb.field && b.value == rb.value && b.when)
            n.when_text = b.when_text;
    }
    info.next.push_back(std::move(n));
  }
  for (auto& b : binds) {
    BindingInfo bi;
    bi.lower = b.lower;
    bi.upper = b.upper;
    bi.when_text = b.when ? b.when_text : "";
    if (b.field != kNoField) {
      const FieldDef& f = reg.layer(b.lower)->fields[b.field];
      bi.field = f.name;
      bi.value_text = value_text(f, b.value);
      bi.value_json = f.type().json(f, b.value);
    }
    info.bindings.push_back(std::move(bi));
  }
  for (bool quoted : {false, true})
    for (auto& r : reg.replies_of(def.name, quoted)) info.replies.push_back({quoted, one_line(r->text)});
  if (const FragmentRule* fr = reg.fragment_of(def.name)) info.fragment = fr->text;
  return info;
}

namespace {

void json_field(std::string& out, const FieldInfo& fi, const Registry& reg, const std::string& indent);

std::string json_strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + json_quote(v[i]);
  return out + "]";
}

std::string json_names(const std::vector<std::pair<std::string, std::uint64_t>>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i)
    out += fmt::format("{}{{\"name\": {}, \"value\": {}}}", i ? ", " : "", json_quote(v[i].first), v[i].second);
  return out + "]";
}

const char* kind_name(FieldKind k) {
  switch (k) {
    case FieldKind::UInt: return "uint";
    case FieldKind::IPv4: return "ipv4addr";
    case FieldKind::IPv6: return "ipv6addr";
    case FieldKind::MAC: return "mac";
    case FieldKind::Bytes: return "bytes";
    case FieldKind::Array: return "array";
  }
  return "bytes";
}

// The fields of a layer or an option, one JSON object each.
std::string json_fields(const Registry& reg, const LayerDef& def, const std::string& indent) {
  std::string out = "[";
  for (std::size_t i = 0; i < def.fields.size(); ++i) {
    FieldInfo fi = field_info(reg, def, def.fields[i]);
    out += i ? ",\n" + indent + "  " : "\n" + indent + "  ";
    json_field(out, fi, reg, indent + "  ");
  }
  return out + (def.fields.empty() ? "]" : "\n" + indent + "]");
}

void json_field(std::string& out, const FieldInfo& fi, const Registry& reg, const std::string& indent) {
  const FieldDef& f = *fi.def;
  std::vector<std::string> parts;
  parts.push_back("\"name\": " + json_quote(f.name));
  parts.push_back("\"type\": " + json_quote(f.type_name));
  parts.push_back(fmt::format("\"kind\": \"{}\"", kind_name(f.kind)));
  if (f.kind == FieldKind::Bytes) parts.push_back("\"bits\": null");
  else parts.push_back(fmt::format("\"bits\": {}", f.bits));  // an array: each element's
  parts.push_back(fmt::format("\"fixed_size\": {}", f.fixed_size() ? "true" : "false"));
  if (f.kind == FieldKind::UInt) {
    parts.push_back(fmt::format("\"signed\": {}", f.is_signed ? "true" : "false"));
    parts.push_back(fmt::format("\"little_endian\": {}", f.little_endian ? "true" : "false"));
  }
  parts.push_back("\"describe\": " + json_quote(fi.type));
  parts.push_back("\"default\": " + fi.default_json);
  parts.push_back("\"default_text\": " + json_quote(fi.default_text));
  parts.push_back(fmt::format("\"has_default\": {}", f.has_default ? "true" : "false"));
  parts.push_back("\"auto\": " + (f.auto_rule ? json_quote(f.auto_text) : std::string("null")));
  parts.push_back("\"size\": " + (f.size_rule ? json_quote(f.size_text) : std::string("null")));
  if (f.padded) parts.push_back(fmt::format("\"padded\": {}", f.padded));
  parts.push_back("\"if\": " + (f.cond ? json_quote(f.cond_text) : std::string("null")));
  if (f.count_rule) parts.push_back("\"count\": " + json_quote(f.count_text));
  if (!f.until.empty()) parts.push_back("\"until\": " + json_quote(f.until));
  if (f.strict) parts.push_back("\"strict\": true");
  if (f.align > 1) {
    parts.push_back(fmt::format("\"align\": {}", f.align));
    if (!f.pad_with.empty()) parts.push_back("\"pad_with\": " + json_quote(f.pad_with));
  }
  if (!f.enums.empty()) parts.push_back("\"enum\": " + json_names(f.enums));
  if (!f.flags.empty()) parts.push_back("\"flags\": " + json_names(f.flags));
  parts.push_back("\"doc\": " + json_quote(f.doc));
  if (!fi.wireshark_tables.empty()) parts.push_back("\"wireshark_tables\": " + json_strings(fi.wireshark_tables));
  if (!fi.options.empty()) {
    std::string opts = "[";
    for (std::size_t i = 0; i < fi.options.size(); ++i) {
      const OptionInfo& o = fi.options[i];
      opts += fmt::format("{}\n{}  {{\"name\": {}, \"doc\": {}, \"params\": {}, \"variadic\": {}, \"tagged\": {},\n{}   \"fields\": {}}}",
                          i ? "," : "", indent, json_quote(o.def->name), json_quote(o.def->doc), json_strings(o.params),
                          o.variadic ? "true" : "false", o.tagged ? "true" : "false", indent,
                          json_fields(reg, *o.def, indent + "   "));
    }
    parts.push_back("\"options\": " + opts + "\n" + indent + "]");
    parts.push_back("\"list_bound\": " + json_quote(fi.list_bound));
  }
  out += "{" + fmt::format("{}", fmt::join(parts, ", ")) + "}";
}

}  // namespace

std::string describe_layer_json(const Registry& reg, const LayerDef& def) {
  LayerInfo info = layer_info(reg, def);
  std::string out = "{\n";
  out += "  \"name\": " + json_quote(def.name) + ",\n";
  out += "  \"doc\": " + json_quote(def.doc) + ",\n";
  out += "  \"declared_at\": " + (info.declared_at.empty() ? std::string("null") : json_quote(info.declared_at)) + ",\n";
  out += "  \"aka\": " + json_strings(def.aka) + ",\n";
  out += fmt::format("  \"size\": {{\"fixed_bytes\": {}, \"variable\": {}}},\n", info.fixed_bytes, info.variable ? "true" : "false");
  out += "  \"fields\": " + json_fields(reg, def, "  ") + ",\n";
  out += "  \"payload_size\": " + (def.payload_size ? json_quote(def.payload_text) : std::string("null")) + ",\n";
  out += "  \"summary\": " + (def.summary.empty() ? std::string("null") : json_quote(def.summary)) + ",\n";
  out += fmt::format("  \"pseudo_header\": {},\n", def.pseudo.empty() ? "false" : "true");
  std::vector<std::string> ws;
  for (auto& w : def.wireshark) {
    std::vector<std::string> names;
    for (auto i : w.fields) names.push_back(def.fields[i].name);
    ws.push_back(fmt::format("{{\"table\": {}, \"fields\": {}}}", json_quote(w.table), json_strings(names)));
  }
  out += "  \"wireshark\": [" + fmt::format("{}", fmt::join(ws, ", ")) + "],\n";
  std::vector<std::string> next;
  for (auto& n : info.next)
    next.push_back(fmt::format("{{\"field\": {}, \"value\": {}, \"layer\": {}, \"when\": {}}}",
                               n.field ? json_quote(n.field->name) : "null", n.field ? n.value_json : "null",
                               json_quote(n.upper->name), n.when_text.empty() ? "null" : json_quote(n.when_text)));
  out += "  \"next\": [" + (next.empty() ? "" : "\n    " + fmt::format("{}", fmt::join(next, ",\n    ")) + "\n  ") + "],\n";
  std::vector<std::string> binds;
  for (auto& b : info.bindings)
    binds.push_back(fmt::format("{{\"lower\": {}, \"field\": {}, \"value\": {}, \"upper\": {}, \"when\": {}}}", json_quote(b.lower),
                                b.field.empty() ? "null" : json_quote(b.field), b.field.empty() ? "null" : b.value_json,
                                json_quote(b.upper), b.when_text.empty() ? "null" : json_quote(b.when_text)));
  out += "  \"bindings\": [" + (binds.empty() ? "" : "\n    " + fmt::format("{}", fmt::join(binds, ",\n    ")) + "\n  ") + "],\n";
  std::vector<std::string> replies;
  for (auto& r : info.replies)
    replies.push_back(fmt::format("{{\"quoted\": {}, \"rule\": {}}}", r.quoted ? "true" : "false", json_quote(r.text)));
  out += "  \"replies\": [" + (replies.empty() ? "" : "\n    " + fmt::format("{}", fmt::join(replies, ",\n    ")) + "\n  ") + "],\n";
  out += "  \"fragment\": " + (info.fragment.empty() ? std::string("null") : json_quote(one_line(info.fragment))) + "\n";
  return out + "}\n";
}

}  // namespace pkt
