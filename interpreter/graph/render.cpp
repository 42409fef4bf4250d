#include "render.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include "encodings.hpp"

namespace pkt {

namespace {

bool rule_has_checksum(const AutoExpr& e) {
  if (e.op == AutoExpr::Op::Checksum) return true;
  for (auto& a : e.args)
    if (rule_has_checksum(a)) return true;
  return false;
}

bool printable(const std::string& s) {
  for (unsigned char c : s)
    if ((c < 0x20 || c > 0x7e) && c != '\n' && c != '\t' && c != '\r') return false;
  return true;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string format_value(const FieldDef& f, const FieldValue& v) {
  switch (f.kind) {
    case FieldKind::UInt: {
      for (auto& [n, x] : f.enums)
        if (x == v.num) return n;
      if (!f.flags.empty()) {
        if (v.num == 0) return "0";
        std::string out;
        std::uint64_t rest = v.num;
        for (auto& [n, x] : f.flags)
          if (x && (v.num & x) == x) {
            out += (out.empty() ? "" : "|") + n;
            rest &= ~x;
          }
        if (rest) out += (out.empty() ? "" : "|") + fmt::format("0x{:x}", rest);
        return out;
      }
      if (f.auto_rule && rule_has_checksum(*f.auto_rule)) return fmt::format("0x{:04x}", v.num);
      return std::to_string(v.num);
    }
    case FieldKind::IPv4: case FieldKind::IPv6: {
      char buf[INET6_ADDRSTRLEN] = {0};
      int af = f.kind == FieldKind::IPv4 ? AF_INET : AF_INET6;
      if (v.bytes.size() != (af == AF_INET ? 4u : 16u)) return "?";
      inet_ntop(af, v.bytes.data(), buf, sizeof buf);
      return buf;
    }
    case FieldKind::MAC: {
      std::string out;
      for (unsigned char c : v.bytes) out += fmt::format("{}{:02x}", out.empty() ? "" : ":", c);
      return out;
    }
    case FieldKind::Bytes:
      if (v.bytes.empty()) return "\"\"";
      if (printable(v.bytes)) return quote(v.bytes);
      return "hex\"" + hex_encode(v.bytes) + "\"";
    case FieldKind::Array: {
      std::string out = "[";
      std::size_t w = f.bits / 8;
      for (std::size_t i = 0; i + w <= v.bytes.size(); i += w) {
        std::uint64_t x = 0;
        for (std::size_t j = 0; j < w; ++j) x = (x << 8) | static_cast<unsigned char>(v.bytes[i + j]);
        out += fmt::format("{}{}", i ? ", " : "", x);
      }
      return out + "]";
    }
  }
  return "?";
}

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

std::string render_show(const Packet& p, bool color) {
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
    for (std::size_t i = 0; i < li.fields.size(); ++i) {
      const FieldDef& f = li.def->fields[i];
      const FieldSlot& s = li.fields[i];
      std::string val = format_value(f, s.value);
      bool numeric_note = f.kind == FieldKind::UInt && (!f.enums.empty() || !f.flags.empty()) &&
                          val != std::to_string(s.value.num);
      if (numeric_note) val += fmt::format(" ({:#x})", s.value.num);
      if (f.kind == FieldKind::Bytes && s.value.bytes.size() > 64) {
        FieldValue head;
        head.bytes = s.value.bytes.substr(0, 64);
        val = format_value(f, head) + fmt::format(" ... ({} bytes in all)", s.value.bytes.size());
      } else if (f.kind == FieldKind::Bytes && !s.value.bytes.empty() && s.bit_size / 8 != s.value.bytes.size()) {
        std::size_t pad = s.bit_size / 8 - s.value.bytes.size();
        val += fmt::format(" (+{} byte{} of padding)", pad, pad == 1 ? "" : "s");
      }
      std::string note;
      if (s.origin == Origin::Auto) note = fmt::format("{}auto{}", green, reset);
      else if (s.origin == Origin::Bound) note = fmt::format("{}bound{}", green, reset);
      else if (f.auto_rule && s.origin == Origin::User && p.finalized()) {
        FieldValue c = p.computed_value(l, i);
        note = c == s.value ? "user (matches computed)"
                            : fmt::format("{}user; computed would be {}{}", yellow, format_value(f, c), reset);
      }
      std::string line = fmt::format("  {:<{}} = {}", f.name, w, val);
      if (!note.empty()) line = fmt::format("{:<40} {}", line, note);
      out += line + "\n";
    }
  }
  return out;
}

std::string render_hex(const Packet& p) {
  return hex_encode(std::string_view(reinterpret_cast<const char*>(p.bytes().data()), p.size()));
}

}  // namespace pkt
