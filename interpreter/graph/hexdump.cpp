// hexdump(): the byte dump of `tcpdump -X` (tcpdump 4.99, print-ascii.c).
// Each line: "\t0x%04x:  " + up to 8 space-separated groups of 4 hex digits
// (a last odd byte as 2), padded to 39 columns, two spaces, then the ASCII
// column where only graphic characters 0x21..0x7e appear as themselves
// (tcpdump prints a space as '.'), and "\n".
#include <cstdio>

#include "render.hpp"

namespace pkt {

std::string hexdump(const std::uint8_t* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve((n + 15) / 16 * 76);
  for (std::size_t off = 0; off < n; off += 16) {
    const std::size_t len = n - off < 16 ? n - off : 16;
    char head[32];
    std::snprintf(head, sizeof head, "\t0x%04zx: ", off);
    out += head;
    // tcpdump's hex column: " xxxx" per pair, " xx" for an odd byte, left
    // aligned in 40 columns (8 * 5).
    std::size_t hex_cols = 0;
    for (std::size_t i = 0; i < len; ++i) {
      if (i % 2 == 0) {
        out.push_back(' ');
        ++hex_cols;
      }
      const std::uint8_t b = data[off + i];
      out.push_back(digits[b >> 4]);
      out.push_back(digits[b & 0xf]);
      hex_cols += 2;
    }
    out.append(40 - hex_cols, ' ');
    out += "  ";
    for (std::size_t i = 0; i < len; ++i) {
      const std::uint8_t b = data[off + i];
      out.push_back(b > 0x20 && b < 0x7f ? static_cast<char>(b) : '.');
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace pkt
