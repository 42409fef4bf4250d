// The Internet checksum (RFC 1071) and its incremental update (RFC 1624),
// and CRC32c (Castagnoli, RFC 3720 B.4), which SCTP uses (RFC 4960 B).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pkt {

// One's complement sum of a byte run, as if it started at an even (odd_start
// = false) or odd stream offset. Returns a folded 16-bit sum, never 0 unless
// all bytes are zero. Chain calls by passing the previous result as `sum`.
std::uint32_t ones_sum(const std::uint8_t* data, std::size_t n, std::uint32_t sum = 0, bool odd_start = false);

// Folds a 32-bit accumulator to 16 bits with end-around carry.
std::uint16_t ones_fold(std::uint32_t sum);

// The checksum of a finished sum: ~fold(sum).
inline std::uint16_t ones_checksum(std::uint32_t sum) { return static_cast<std::uint16_t>(~ones_fold(sum)); }

// RFC 1624 eqn. 3 applied to a running sum: the bytes at a stream offset
// with parity `odd_start` changed from old_bytes to new_bytes.
std::uint32_t ones_sum_update(std::uint32_t sum, const std::uint8_t* old_bytes, const std::uint8_t* new_bytes,
                              std::size_t n, bool odd_start);

// CRC32c of a byte run, chained: pass the previous result as `crc` (0 to
// start). The value is the CRC as RFC 3720 B.4 gives it (32 zero bytes:
// 0x8a9136aa); SCTP sends it least significant byte first.
std::uint32_t crc32c(const std::uint8_t* data, std::size_t n, std::uint32_t crc = 0);

}  // namespace pkt
