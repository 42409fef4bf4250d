#include "field_type.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "coerce.hpp"
#include "encodings.hpp"
#include "layer_def.hpp"

namespace pkt {

using K = ast::Expr::Kind;

std::string FieldType::describe(const FieldDef& f) const { return f.type_name; }

FieldValue FieldType::from_texts(const LayerDef& layer, const FieldDef& f, const std::vector<std::string>&, Pos pos) const {
  wrong_value_kind(layer, f, pos);
}

namespace {

bool rule_has_checksum(const AutoExpr& e) {
  if (e.op == AutoExpr::Op::Checksum || e.op == AutoExpr::Op::Crc32c) return true;
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

// uN and uNle: numbers, with the field's enum and flag names.
class UIntType final : public FieldType {
 public:
  std::string describe(const FieldDef& f) const override { return fmt::format("{}, 0..{}", f.type_name, f.max()); }
  std::string expected(const FieldDef& f) const override {
    return f.flags.empty() ? (f.enums.empty() ? "a number" : "a number or an enum name")
                           : "a number or flag names joined with |";
  }
  std::string format(const FieldDef& f, const FieldValue& v) const override {
    // A number with several names (ICMP codes of different types) is shown
    // as the number: the name would depend on another field.
    const std::string* name = nullptr;
    bool several = false;
    for (auto& [n, x] : f.enums)
      if (x == v.num) {
        several = name != nullptr;
        if (several) break;
        name = &n;
      }
    if (name && !several) return *name;
    if (several) return std::to_string(v.num);
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
  std::string json(const FieldDef&, const FieldValue& v) const override { return std::to_string(v.num); }
  FieldValue from_expr(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env) const override {
    FieldValue v;
    v.num = number_value(layer, f, e, env);
    return v;
  }
  FieldValue from_text(const LayerDef& layer, const FieldDef& f, const std::string& text, Pos pos) const override {
    FieldValue v;
    v.num = number_text(layer, f, text, pos);
    return v;
  }
  LuaForm lua_form() const override { return LuaForm::Integer; }
};

// iN and iNle: two's complement numbers (NTP's poll and precision). The
// value holds the N bits; written and shown with a sign, -20.
class SIntType final : public FieldType {
 public:
  static std::int64_t signed_of(const FieldDef& f, std::uint64_t bits) {
    if (f.bits >= 64) return static_cast<std::int64_t>(bits);
    const std::uint64_t sign = 1ULL << (f.bits - 1);
    return static_cast<std::int64_t>((bits ^ sign)) - static_cast<std::int64_t>(sign);
  }
  static std::uint64_t most(const FieldDef& f) { return (1ULL << (f.bits - 1)) - 1; }  // the largest positive value
  std::string describe(const FieldDef& f) const override {
    return fmt::format("{}, -{}..{}", f.type_name, most(f) + 1, most(f));
  }
  std::string expected(const FieldDef&) const override { return "a number, which may be negative (-20)"; }
  std::string format(const FieldDef& f, const FieldValue& v) const override { return std::to_string(signed_of(f, v.num)); }
  std::string json(const FieldDef& f, const FieldValue& v) const override { return format(f, v); }
  // The bits of -magnitude (negative) or magnitude, range checked.
  FieldValue make(const LayerDef& layer, const FieldDef& f, std::uint64_t magnitude, bool negative, Pos pos) const {
    if (negative ? magnitude > most(f) + 1 : magnitude > most(f))
      throw ScriptError(pos, fmt::format("{}={}{} is out of range: {} is {}", f.name, negative ? "-" : "", magnitude,
                                         f.name, describe(f)));
    FieldValue v;
    v.num = (negative ? ~magnitude + 1 : magnitude) & f.max();
    (void)layer;
    return v;
  }
  FieldValue from_expr(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env) const override {
    if (e.kind == K::Int || e.kind == K::NegInt) return make(layer, f, e.i, e.kind == K::NegInt, e.pos);
    if (e.kind == K::Name && env.resolve)
      if (auto x = (*env.resolve)(e.s)) return coerce_field(layer, f, *x, env);
    if (e.kind == K::Name) throw ScriptError(e.pos, fmt::format("unknown name '{}'", e.s));
    wrong_value_kind(layer, f, e.pos);
  }
  FieldValue from_text(const LayerDef& layer, const FieldDef& f, const std::string& text, Pos pos) const override {
    bool negative = !text.empty() && text[0] == '-';
    std::string digits = text.substr(negative ? 1 : 0);
    int base = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) base = 16, digits = digits.substr(2);
    char* end = nullptr;
    errno = 0;
    std::uint64_t m = digits.empty() ? 0 : std::strtoull(digits.c_str(), &end, base);
    if (digits.empty() || *end || errno || !isxdigit(static_cast<unsigned char>(digits[0])))
      throw ScriptError(pos, fmt::format("'{}' is not a number for {} ({})", text, f.name, describe(f)));
    return make(layer, f, m, negative, pos);
  }
  LuaForm lua_form() const override { return LuaForm::Integer; }
};

// ipv4addr, ipv6addr, mac: fixed bytes written as their usual text.
class AddressType final : public FieldType {
 public:
  AddressType(K literal, const char* expected) : literal_(literal), expected_(expected) {}
  std::string expected(const FieldDef&) const override { return expected_; }
  std::string format(const FieldDef& f, const FieldValue& v) const override {
    if (literal_ == K::MAC) {
      std::string out;
      for (unsigned char c : v.bytes) out += fmt::format("{}{:02x}", out.empty() ? "" : ":", c);
      return out;
    }
    char buf[INET6_ADDRSTRLEN] = {0};
    int af = literal_ == K::IPv4 ? AF_INET : AF_INET6;
    if (v.bytes.size() != (af == AF_INET ? 4u : 16u)) return "?";
    inet_ntop(af, v.bytes.data(), buf, sizeof buf);
    return buf;
  }
  std::string json(const FieldDef& f, const FieldValue& v) const override { return "\"" + format(f, v) + "\""; }
  FieldValue from_expr(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env) const override {
    FieldValue v;
    if (e.kind == literal_) {
      v.bytes = e.s;
      return v;
    }
    if (e.kind == K::String) return from_text(layer, f, e.s, e.pos);
    if (e.kind == K::Name && env.resolve)
      if (auto x = (*env.resolve)(e.s)) return coerce_field(layer, f, *x, env);
    if (e.kind == K::Name) throw ScriptError(e.pos, fmt::format("unknown name '{}'", e.s));
    wrong_value_kind(layer, f, e.pos);
  }
  FieldValue from_text(const LayerDef&, const FieldDef& f, const std::string& text, Pos pos) const override {
    FieldValue v;
    v.bytes = address_from_text(f, text, pos);
    return v;
  }
  LuaForm lua_form() const override { return LuaForm::Text; }

 private:
  K literal_;
  const char* expected_;
};

// bytes: strings, hex"..", base64"..", file(".."), repeats.
class BytesType final : public FieldType {
 public:
  std::string expected(const FieldDef&) const override { return "bytes: a string, hex\"..\", base64\"..\" or file(\"..\")"; }
  std::string format(const FieldDef&, const FieldValue& v) const override {
    if (v.bytes.empty()) return "\"\"";
    if (printable(v.bytes)) return quote(v.bytes);
    return "hex\"" + hex_encode(v.bytes) + "\"";
  }
  std::string json(const FieldDef&, const FieldValue& v) const override { return "\"" + hex_encode(v.bytes) + "\""; }
  FieldValue from_expr(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env) const override {
    FieldValue v;
    v.bytes = bytes_value(layer, f, e, env);
    return v;
  }
  FieldValue from_text(const LayerDef&, const FieldDef&, const std::string& text, Pos) const override {
    FieldValue v;
    v.bytes = text;
    return v;
  }
  LuaForm lua_form() const override { return LuaForm::Bytes; }
};

// uN[]: a list of numbers, stored as big-endian elements.
class ArrayType final : public FieldType {
 public:
  std::string describe(const FieldDef& f) const override {
    return fmt::format("{} (u{} elements, 0..{} each)", f.type_name, f.bits, f.max());
  }
  std::string expected(const FieldDef&) const override { return "a number or a list of numbers"; }
  std::string format(const FieldDef& f, const FieldValue& v) const override {
    std::string out = "[";
    std::size_t w = f.bits / 8;
    for (std::size_t i = 0; w && i + w <= v.bytes.size(); i += w) {
      std::uint64_t x = 0;
      for (std::size_t j = 0; j < w; ++j) x = (x << 8) | static_cast<unsigned char>(v.bytes[i + j]);
      out += fmt::format("{}{}", i ? ", " : "", x);
    }
    return out + "]";
  }
  std::string json(const FieldDef& f, const FieldValue& v) const override { return format(f, v); }
  FieldValue from_expr(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env) const override {
    FieldValue v;
    auto put = [&](const ast::Expr& x) {
      std::uint64_t n = number_value(layer, f, x, env);
      for (int b = static_cast<int>(f.bits) - 8; b >= 0; b -= 8) v.bytes.push_back(static_cast<char>(n >> b));
    };
    if (e.kind == K::List)
      for (auto& it : e.items) put(*it);
    else
      put(e);
    return v;
  }
  FieldValue from_text(const LayerDef& layer, const FieldDef& f, const std::string&, Pos pos) const override {
    wrong_value_kind(layer, f, pos);
  }
  LuaForm lua_form() const override { return LuaForm::IntegerList; }
};

// A list whose elements cross into Lua as strings: each element has a text
// form and bytes; the list is the elements' bytes one after the other.
class TextListBase : public FieldType {
 public:
  // One element's bytes: from its text, or from a value expression (a
  // literal; names are followed before this is asked).
  virtual std::string element(const FieldDef& f, const std::string& text, Pos pos) const = 0;
  virtual std::string element(const LayerDef& layer, const FieldDef& f, const ast::Expr& x, const CoerceEnv& env) const = 0;
  FieldValue from_expr(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env) const override {
    FieldValue v;
    auto put = [&](const ast::Expr& x, auto& self) -> void {
      if (x.kind == K::Name && env.resolve)
        if (auto r = (*env.resolve)(x.s)) return self(*r, self);
      if (x.kind == K::Name)
        throw ScriptError(x.pos, fmt::format("unknown name '{}'; {} takes {}", x.s, f.name, expected(f)));
      v.bytes += element(layer, f, x, env);
    };
    if (e.kind == K::List)
      for (auto& it : e.items) put(*it, put);
    else
      put(e, put);
    return v;
  }
  FieldValue from_texts(const LayerDef&, const FieldDef& f, const std::vector<std::string>& texts, Pos pos) const override {
    FieldValue v;
    for (auto& t : texts) v.bytes += element(f, t, pos);
    return v;
  }
  LuaForm lua_form() const override { return LuaForm::TextList; }
};

// ipv4addr[], ipv6addr[], mac[]: a list of addresses, stored one after the
// other (IGMPv3's sources). Written and shown as [10.0.0.1, 10.0.0.2].
class AddressArrayType final : public TextListBase {
 public:
  AddressArrayType(const AddressType& one, FieldKind kind, unsigned width)
      : one_(one), kind_(kind), width_(width) {}
  std::string describe(const FieldDef& f) const override { return fmt::format("{} (a list of addresses)", f.type_name); }
  std::string expected(const FieldDef& f) const override { return fmt::format("{} or a list of them", one_.expected(f)); }
  std::vector<std::string> texts(const FieldDef& f, const FieldValue& v) const override {
    std::vector<std::string> out;
    for (std::size_t i = 0; i + width_ <= v.bytes.size(); i += width_) {
      FieldValue one;
      one.bytes = v.bytes.substr(i, width_);
      out.push_back(one_.format(f, one));
    }
    return out;
  }
  std::string format(const FieldDef& f, const FieldValue& v) const override {
    return fmt::format("[{}]", fmt::join(texts(f, v), ", "));
  }
  std::string json(const FieldDef& f, const FieldValue& v) const override {
    std::vector<std::string> q;
    for (auto& t : texts(f, v)) q.push_back("\"" + t + "\"");
    return fmt::format("[{}]", fmt::join(q, ", "));
  }
  FieldValue from_text(const LayerDef& layer, const FieldDef& f, const std::string& text, Pos pos) const override {
    // "10.0.0.1, 10.0.0.2" (or with the brackets).
    std::string t = text;
    if (t.size() >= 2 && t.front() == '[' && t.back() == ']') t = t.substr(1, t.size() - 2);
    std::vector<std::string> parts;
    for (std::size_t i = 0; i <= t.size();) {
      std::size_t j = std::min(t.find(',', i), t.size());
      std::string part = t.substr(i, j - i);
      part.erase(0, part.find_first_not_of(' '));
      part.erase(part.find_last_not_of(' ') + 1);
      if (!part.empty() || j < t.size()) parts.push_back(part);
      i = j + 1;
    }
    return from_texts(layer, f, parts, pos);
  }
  std::string element(const FieldDef& f, const std::string& text, Pos pos) const override {
    FieldDef one = f;
    one.kind = kind_;
    return address_from_text(one, text, pos);
  }
  std::string element(const LayerDef& layer, const FieldDef& f, const ast::Expr& x, const CoerceEnv& env) const override {
    if (x.kind == K::String) return element(f, x.s, x.pos);
    return one_.from_expr(layer, f, x, env).bytes;
  }

 private:
  const AddressType& one_;
  FieldKind kind_;
  std::size_t width_;
};

// text[]: character-strings (RFC 1035 3.3), each after its length in one
// byte: DNS TXT. Written and shown as ["v=spf1 -all", "hello"]; a string is
// at most 255 bytes. Bytes that are not such a list are shown as hex"..".
class TextListType final : public TextListBase {
 public:
  std::string describe(const FieldDef& f) const override {
    return fmt::format("{} (strings, each after its length byte)", f.type_name);
  }
  std::string expected(const FieldDef&) const override { return "a string or a list of strings, each at most 255 bytes"; }
  static bool split(const std::string& w, std::vector<std::string>& out) {
    for (std::size_t i = 0; i < w.size();) {
      std::size_t n = static_cast<unsigned char>(w[i]);
      if (i + 1 + n > w.size()) return false;
      out.push_back(w.substr(i + 1, n));
      i += 1 + n;
    }
    return true;
  }
  std::vector<std::string> texts(const FieldDef&, const FieldValue& v) const override {
    std::vector<std::string> out;
    split(v.bytes, out);
    return out;
  }
  std::string format(const FieldDef&, const FieldValue& v) const override {
    std::vector<std::string> parts;
    if (!split(v.bytes, parts)) return "hex\"" + hex_encode(v.bytes) + "\"";
    for (auto& p : parts) {
      if (!printable(p)) return "hex\"" + hex_encode(v.bytes) + "\"";
      p = quote(p);
    }
    return fmt::format("[{}]", fmt::join(parts, ", "));
  }
  std::string json(const FieldDef&, const FieldValue& v) const override {
    std::vector<std::string> parts;
    if (!split(v.bytes, parts)) return "\"" + hex_encode(v.bytes) + "\"";
    for (auto& p : parts) {
      std::string q = "\"";
      for (unsigned char c : p) {
        if (c == '"' || c == '\\') q += '\\';
        if (c < 0x20 || c > 0x7e) q += fmt::format("\\u{:04x}", c);
        else q += static_cast<char>(c);
      }
      p = q + "\"";
    }
    return fmt::format("[{}]", fmt::join(parts, ", "));
  }
  FieldValue from_expr(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env) const override {
    if (e.kind != K::Bytes) return TextListBase::from_expr(layer, f, e, env);
    FieldValue v;  // the wire form as is, even one that is not such a list (as read)
    v.bytes = e.s;
    return v;
  }
  FieldValue from_text(const LayerDef& layer, const FieldDef& f, const std::string& text, Pos pos) const override {
    return from_texts(layer, f, {text}, pos);
  }
  std::string element(const FieldDef& f, const std::string& s, Pos pos) const override {
    if (s.size() > 255)
      throw ScriptError(pos, fmt::format("{}: a string is at most 255 bytes (it follows its length byte); this one is {}",
                                         f.name, s.size()));
    std::string out(1, static_cast<char>(s.size()));
    return out.append(s);
  }
  std::string element(const LayerDef& layer, const FieldDef& f, const ast::Expr& x, const CoerceEnv& env) const override {
    return element(f, x.kind == K::String ? x.s : bytes_value(layer, f, x, env), x.pos);
  }
};

// name: a domain name (RFC 1035 3.1) written as text, "www.example.com",
// stored as its wire form: labels of 1..63 bytes, each after its length,
// then a zero byte. A name read from the wire may end in a compression
// pointer (two bytes, 0xc0 | offset); its text then ends in `@OFFSET`
// ("www.@12"), which builds the same bytes. hex"..." gives the wire form as is.
class NameType final : public FieldType {
 public:
  std::string expected(const FieldDef&) const override {
    return "a domain name such as \"www.example.com\" (labels of 1..63 bytes, 255 bytes in all)";
  }
  std::string format(const FieldDef&, const FieldValue& v) const override {
    std::string text;
    if (!to_text(v.bytes, text)) return "hex\"" + hex_encode(v.bytes) + "\"";
    return quote(text);
  }
  std::string json(const FieldDef&, const FieldValue& v) const override {
    std::string text;
    if (!to_text(v.bytes, text)) return "\"" + hex_encode(v.bytes) + "\"";
    std::string out = "\"";
    for (unsigned char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      if (c < 0x20 || c > 0x7e) out += fmt::format("\\u{:04x}", c);
      else out += static_cast<char>(c);
    }
    return out + "\"";
  }
  FieldValue from_expr(const LayerDef& layer, const FieldDef& f, const ast::Expr& e, const CoerceEnv& env) const override {
    if (e.kind == K::String) return from_text(layer, f, e.s, e.pos);
    if (e.kind == K::Bytes) {
      FieldValue v;
      v.bytes = e.s;
      std::string why;
      if (read_size(reinterpret_cast<const std::uint8_t*>(v.bytes.data()), v.bytes.size(), why) != v.bytes.size())
        throw ScriptError(e.pos, fmt::format("{} is not a name in wire form: {}", f.name,
                                             why.empty() ? "bytes follow its end" : why));
      return v;
    }
    if (e.kind == K::Name && env.resolve)
      if (auto x = (*env.resolve)(e.s)) return coerce_field(layer, f, *x, env);
    if (e.kind == K::Name) throw ScriptError(e.pos, fmt::format("unknown name '{}'; a domain name is written as a string, \"{}\"", e.s, e.s));
    wrong_value_kind(layer, f, e.pos);
  }
  FieldValue from_text(const LayerDef&, const FieldDef& f, const std::string& text, Pos pos) const override {
    FieldValue v;
    std::string& out = v.bytes;
    if (text.empty() || text == ".") {
      out.push_back('\0');
      return v;
    }
    std::size_t i = 0;
    bool pointer = false;
    while (i < text.size()) {
      std::size_t dot = text.find('.', i);
      std::string label = text.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
      i = dot == std::string::npos ? text.size() : dot + 1;
      if (label.size() > 1 && label[0] == '@' && i >= text.size() &&
          label.find_first_not_of("0123456789", 1) == std::string::npos) {
        unsigned long off = label.size() > 6 ? 0x4000 : std::stoul(label.substr(1));
        if (off > 0x3fff) throw ScriptError(pos, fmt::format("{}: a compression pointer '{}' is past offset 16383", f.name, label));
        out.push_back(static_cast<char>(0xc0 | (off >> 8)));
        out.push_back(static_cast<char>(off & 0xff));
        pointer = true;
        break;
      }
      if (label.empty()) {
        if (i >= text.size() && dot != std::string::npos) break;  // a trailing dot: the root
        throw ScriptError(pos, fmt::format("{}: \"{}\" has an empty label (two dots, or a leading dot)", f.name, text));
      }
      if (label.size() > 63)
        throw ScriptError(pos, fmt::format("{}: the label \"{}\" is {} bytes; a label is at most 63 (RFC 1035 2.3.4)",
                                           f.name, label.size() > 20 ? label.substr(0, 20) + "..." : label, label.size()));
      out.push_back(static_cast<char>(label.size()));
      out += label;
    }
    if (!pointer) out.push_back('\0');
    if (out.size() > 255)
      throw ScriptError(pos, fmt::format("{}: the name is {} bytes encoded; a name is at most 255 (RFC 1035 2.3.4)", f.name, out.size()));
    return v;
  }
  LuaForm lua_form() const override { return LuaForm::Text; }
  bool self_sized() const override { return true; }
  std::size_t read_size(const std::uint8_t* p, std::size_t left, std::string& why) const override {
    std::size_t i = 0;
    while (true) {
      if (i >= left) {
        why = fmt::format("the name runs past the end ({} bytes, no zero label)", left);
        return 0;
      }
      unsigned b = p[i];
      if (b == 0) return i + 1;
      if ((b & 0xc0) == 0xc0) {
        if (i + 2 > left) {
          why = "the name's compression pointer runs past the end";
          return 0;
        }
        return i + 2;
      }
      if (b & 0xc0) {
        why = fmt::format("a label length byte 0x{:02x} is neither a length (at most 63) nor a pointer", b);
        return 0;
      }
      i += 1 + b;
      if (i + 1 > 255) {
        why = "the name is longer than 255 bytes";
        return 0;
      }
    }
  }

  // Labels as text; false when the bytes are not a name whose text builds them.
  static bool to_text(const std::string& w, std::string& text) {
    std::size_t i = 0;
    while (i < w.size()) {
      unsigned b = static_cast<unsigned char>(w[i]);
      if (b == 0) {
        if (text.empty()) text = ".";
        return i + 1 == w.size();
      }
      if ((b & 0xc0) == 0xc0) {
        if (i + 2 != w.size()) return false;
        text += fmt::format("{}@{}", text.empty() ? "" : ".", ((b & 0x3f) << 8) | static_cast<unsigned char>(w[i + 1]));
        return true;
      }
      if (b > 63 || i + 1 + b > w.size()) return false;
      std::string label = w.substr(i + 1, b);
      for (unsigned char c : label)
        if (c == '.' || c < 0x20 || c > 0x7e) return false;
      if (label[0] == '@') return false;
      text += (text.empty() ? "" : ".") + label;
      i += 1 + b;
    }
    return false;
  }
};

const UIntType kUInt;
const AddressType kIPv4(K::IPv4, "an IPv4 address such as 127.0.0.1");
const AddressType kIPv6(K::IPv6, "an IPv6 address such as ::1");
const AddressType kMAC(K::MAC, "a MAC address such as 02:00:00:00:00:01");
const BytesType kBytes;
const ArrayType kArray;
const NameType kName;
const SIntType kSInt;
const AddressArrayType kIPv4Array(kIPv4, FieldKind::IPv4, 4);
const AddressArrayType kIPv6Array(kIPv6, FieldKind::IPv6, 16);
const AddressArrayType kMACArray(kMAC, FieldKind::MAC, 6);
const TextListType kTextList;

[[noreturn]] void bad_type(const std::string& t, Pos pos) {
  throw ScriptError(pos, fmt::format("unknown field type '{}'; expected u1..u64, uNle (N a multiple of 8), "
                                     "iN, iNle, uN[] (N a multiple of 8), ipv4addr, ipv6addr, mac, ipv4addr[], ipv6addr[], mac[], bytes, name or text[]", t));
}

}  // namespace

const FieldType& default_field_type(const FieldDef& f) {
  switch (f.kind) {
    case FieldKind::UInt: return kUInt;
    case FieldKind::IPv4: return kIPv4;
    case FieldKind::IPv6: return kIPv6;
    case FieldKind::MAC: return kMAC;
    case FieldKind::Bytes: return kBytes;
    case FieldKind::Array: return kArray;
  }
  return kBytes;
}

// The table of named types; uN, uNle and uN[] are families.
void declare_field_type(FieldDef& f, const std::string& t, Pos pos) {
  struct Named {
    const char* name;
    FieldKind kind;
    unsigned bits;
    const FieldType* type;
  };
  static const Named named[] = {{"ipv4addr", FieldKind::IPv4, 32, &kIPv4},
                                {"ipv6addr", FieldKind::IPv6, 128, &kIPv6},
                                {"mac", FieldKind::MAC, 48, &kMAC},
                                {"bytes", FieldKind::Bytes, 0, &kBytes},
                                {"name", FieldKind::Bytes, 0, &kName},
                                {"ipv4addr[]", FieldKind::Array, 32, &kIPv4Array},
                                {"ipv6addr[]", FieldKind::Array, 128, &kIPv6Array},
                                {"mac[]", FieldKind::Array, 48, &kMACArray},
                                {"text[]", FieldKind::Bytes, 0, &kTextList}};
  f.type_name = t;
  for (auto& n : named)
    if (t == n.name) {
      f.kind = n.kind;
      f.bits = n.bits;
      f.ftype = n.type;
      return;
    }
  if (t.size() < 2 || (t[0] != 'u' && t[0] != 'i') || !isdigit(static_cast<unsigned char>(t[1]))) bad_type(t, pos);
  const bool sign = t[0] == 'i';
  std::size_t i = 1;
  unsigned n = 0;
  while (i < t.size() && isdigit(static_cast<unsigned char>(t[i])) && n < 1000) n = n * 10 + (t[i++] - '0');
  std::string rest = t.substr(i);
  if (n < 1 || n > 64) bad_type(t, pos);
  if (sign && n < 2) bad_type(t, pos);
  f.bits = n;
  f.kind = FieldKind::UInt;
  f.ftype = sign ? static_cast<const FieldType*>(&kSInt) : &kUInt;
  f.is_signed = sign;
  if (rest.empty()) return;
  if (n % 8) bad_type(t, pos);
  if (rest == "le") {
    f.little_endian = true;
    return;
  }
  if (rest == "[]" && !sign) {
    f.kind = FieldKind::Array;
    f.ftype = &kArray;
    return;
  }
  bad_type(t, pos);
}

}  // namespace pkt
