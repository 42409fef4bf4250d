// Text encodings of bytes: hex and base64 (RFC 4648).
#include "encodings.hpp"

#include <array>
#include <cstdint>

namespace pkt {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::array<std::int8_t, 256> make_b64_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kB64[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kB64Table = make_b64_table();

inline void set_bad(std::size_t* bad_index, std::size_t i) {
  if (bad_index) *bad_index = i;
}

}  // namespace

std::string hex_encode(std::string_view bytes) {
  std::string out;
  out.resize(bytes.size() * 2);
  std::size_t j = 0;
  for (unsigned char c : bytes) {
    out[j++] = kHexDigits[c >> 4];
    out[j++] = kHexDigits[c & 0xf];
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view text, std::size_t* bad_index) {
  std::string out;
  out.reserve(text.size() / 2);
  int hi = -1;            // pending high nibble
  std::size_t hi_at = 0;  // its index, reported if it stays unpaired
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_space(c)) continue;
    const int v = hex_value(c);
    if (v < 0) {
      set_bad(bad_index, i);
      return std::nullopt;
    }
    if (hi < 0) {
      hi = v;
      hi_at = i;
    } else {
      out.push_back(static_cast<char>((hi << 4) | v));
      hi = -1;
    }
  }
  if (hi >= 0) {  // odd digit count: the unpaired last digit
    set_bad(bad_index, hi_at);
    return std::nullopt;
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size(), i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  if (n - i == 1) {
    const std::uint32_t v = std::uint32_t{p[i]} << 16;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out += "==";
  } else if (n - i == 2) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

// Strict: the non-whitespace characters form whole quartets; '=' appears only
// as the last one or two characters of the final quartet; the unused bits
// before the padding are zero (RFC 4648 §3.5, canonical encoding).
std::optional<std::string> base64_decode(std::string_view text, std::size_t* bad_index) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t quad = 0;
  int count = 0;     // symbols in the current quartet (data + padding)
  int pad = 0;       // '=' seen in the current quartet
  bool done = false; // a padded quartet ended the data
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_space(c)) continue;
    if (done) {  // nothing may follow padding
      set_bad(bad_index, i);
      return std::nullopt;
    }
    if (c == '=') {
      if (count < 2) {  // "=" cannot be the 1st or 2nd symbol of a quartet
        set_bad(bad_index, i);
        return std::nullopt;
      }
      ++pad;
      quad <<= 6;
    } else {
      const int v = kB64Table[static_cast<unsigned char>(c)];
      if (v < 0 || pad > 0) {  // bad symbol, or data after '='
        set_bad(bad_index, i);
        return std::nullopt;
      }
      quad = (quad << 6) | static_cast<std::uint32_t>(v);
    }
    if (++count == 4) {
      if (pad == 2 && (quad & 0xffffu) != 0) {  // non-zero bits under the padding
        set_bad(bad_index, i);
        return std::nullopt;
      }
      if (pad == 1 && (quad & 0xffu) != 0) {
        set_bad(bad_index, i);
        return std::nullopt;
      }
      out.push_back(static_cast<char>((quad >> 16) & 0xff));
      if (pad < 2) out.push_back(static_cast<char>((quad >> 8) & 0xff));
      if (pad < 1) out.push_back(static_cast<char>(quad & 0xff));
      done = pad > 0;
      quad = 0;
      count = 0;
      pad = 0;
    }
  }
  if (count != 0) {  // an incomplete quartet: padding missing
    set_bad(bad_index, text.size());
    return std::nullopt;
  }
  return out;
}

}  // namespace pkt
