// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// The sum is computed on native-order words (RFC 1071 §2(B): the one's
// complement sum is byte-order independent up to a final byte swap), 16 bytes
// per iteration into 64-bit accumulators that cannot overflow below 64 GiB
// (packets are at most 256 MiB), then folded and swapped into big-endian order.
#include "checksum.hpp"

#include <bit>
#include <cstring>

namespace pkt {

namespace {

inline std::uint16_t bswap16(std::uint16_t v) { return static_cast<std::uint16_t>((v << 8) | (v >> 8)); }

inline std::uint16_t fold64(std::uint64_t s) {
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffu) + (s >> 16);
  s = (s & 0xffffu) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

inline std::uint32_t load32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline std::uint16_t load16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// Folded one's complement sum of native-order 16-bit words; a trailing odd
// byte is padded with a zero byte after it (as in the stream).
std::uint16_t native_sum(const std::uint8_t* p, std::size_t n) {
  std::uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  // Each addend is < 2^32, so 2^32 iterations (64 GiB) could not overflow.
  while (n >= 16) {
    a0 += load32(p);
    a1 += load32(p + 4);
    a2 += load32(p + 8);
    a3 += load32(p + 12);
    p += 16;
    n -= 16;
  }
  std::uint64_t acc = (a0 & 0xffffffffu) + (a0 >> 32) + (a1 & 0xffffffffu) + (a1 >> 32) + (a2 & 0xffffffffu) +
                      (a2 >> 32) + (a3 & 0xffffffffu) + (a3 >> 32);
  while (n >= 4) {
    acc += load32(p);
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    acc += load16(p);
    p += 2;
    n -= 2;
  }
  if (n) {
    // The byte sits at an even offset: the high byte of a big-endian word,
    // which in native order is the low byte on little-endian hosts.
    if constexpr (std::endian::native == std::endian::little)
      acc += *p;
    else
      acc += static_cast<std::uint32_t>(*p) << 8;
  }
  return fold64(acc);
}

// The run's sum in big-endian word order, as seen from its stream parity.
inline std::uint16_t run_sum(const std::uint8_t* data, std::size_t n, bool odd_start) {
  std::uint16_t s = native_sum(data, n);
  const bool swap = (std::endian::native == std::endian::little) != odd_start;
  return swap ? bswap16(s) : s;
}

}  // namespace

std::uint16_t ones_fold(std::uint32_t sum) {
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

std::uint32_t ones_sum(const std::uint8_t* data, std::size_t n, std::uint32_t sum, bool odd_start) {
  if (n == 0) return ones_fold(sum);
  return fold64(static_cast<std::uint64_t>(sum) + run_sum(data, n, odd_start));
}

std::uint32_t ones_sum_update(std::uint32_t sum, const std::uint8_t* old_bytes, const std::uint8_t* new_bytes,
                              std::size_t n, bool odd_start) {
  if (n == 0) return ones_fold(sum);
  // RFC 1624 eqn. 3 on sums: HC' = ~(~HC + ~m + m'), i.e. sum' = sum + ~m + m'.
  // Note: like any incremental update, this yields 0xffff ("negative zero")
  // where a full recomputation over all-zero data would yield 0x0000.
  std::uint16_t m, m2;
  if (n <= 8) {
    // The generator's case (a port or sequence number): a few big-endian
    // words summed directly.
    std::uint32_t a = 0, b = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned shift = ((i & 1) == 0) != odd_start ? 8 : 0;  // even stream offset: the high byte
      a += static_cast<std::uint32_t>(old_bytes[i]) << shift;
      b += static_cast<std::uint32_t>(new_bytes[i]) << shift;
    }
    m = ones_fold(a);
    m2 = ones_fold(b);
  } else {
    m = run_sum(old_bytes, n, odd_start);
    m2 = run_sum(new_bytes, n, odd_start);
  }
  return fold64(static_cast<std::uint64_t>(ones_fold(sum)) + static_cast<std::uint16_t>(~m) + m2);
}

namespace {

// The reflected Castagnoli polynomial 0x1edc6f41; one table, built once.
struct Crc32cTable {
  std::uint32_t t[256];
  Crc32cTable() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (c & 1 ? 0x82f63b78u : 0);
      t[i] = c;
    }
  }
};

}  // namespace

std::uint32_t crc32c(const std::uint8_t* data, std::size_t n, std::uint32_t crc) {
  static const Crc32cTable table;
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i) crc = (crc >> 8) ^ table.t[(crc ^ data[i]) & 0xff];
  return ~crc;
}

}  // namespace pkt
