// The Internet checksum: RFC 1071 examples, chaining across any split, and
// RFC 1624 incremental updates against full recomputation; CRC32c (RFC 3720).
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "graph/checksum.hpp"

using pkt::ones_checksum;
using pkt::ones_fold;
using pkt::ones_sum;
using pkt::ones_sum_update;

namespace {

using Bytes = std::vector<std::uint8_t>;

// Byte-at-a-time reference: even offsets are high bytes, odd offsets low.
std::uint16_t reference_sum(const Bytes& b) {
  std::uint64_t s = 0;
  for (std::size_t i = 0; i < b.size(); ++i) s += (i % 2 == 0) ? std::uint32_t{b[i]} << 8 : b[i];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

Bytes random_bytes(std::mt19937& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

}  // namespace

TEST_CASE("RFC 1071 section 3 example", "[checksum]") {
  const Bytes b = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK(ones_sum(b.data(), b.size()) == 0xddf2);
  CHECK(ones_checksum(ones_sum(b.data(), b.size())) == 0x220d);
}

TEST_CASE("IPv4 header checksum", "[checksum]") {
  Bytes h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
             0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  const std::uint16_t c = ones_checksum(ones_sum(h.data(), h.size()));
  CHECK(c == 0xb861);
  // With the checksum in place the header verifies: sum is 0xffff.
  h[10] = static_cast<std::uint8_t>(c >> 8);
  h[11] = static_cast<std::uint8_t>(c);
  CHECK(ones_fold(ones_sum(h.data(), h.size())) == 0xffff);
  CHECK(ones_checksum(ones_sum(h.data(), h.size())) == 0);
}

TEST_CASE("small and odd lengths", "[checksum]") {
  const Bytes empty;
  CHECK(ones_sum(empty.data(), 0) == 0);
  CHECK(ones_checksum(ones_sum(empty.data(), 0)) == 0xffff);

  const Bytes one = {0xab};
  CHECK(ones_sum(one.data(), 1) == 0xab00);
  CHECK(ones_sum(one.data(), 1, 0, true) == 0x00ab);

  const Bytes three = {0x12, 0x34, 0x56};
  CHECK(ones_sum(three.data(), 3) == 0x6834);

  // End-around carry: 0xffff + 0x0001 = 0x0001 (never 0 for non-zero data).
  const Bytes carry = {0xff, 0xff, 0x00, 0x01};
  CHECK(ones_sum(carry.data(), 4) == 0x0001);
  const Bytes ff = {0xff, 0xff, 0xff, 0xff, 0xff};
  CHECK(ones_sum(ff.data(), 4) == 0xffff);
  CHECK(ones_sum(ff.data(), 5) == 0xff00);  // 0xffff + 0xffff + 0xff00
  const Bytes zeros(9, 0);
  CHECK(ones_sum(zeros.data(), zeros.size()) == 0);

  std::mt19937 rng(1071);
  for (std::size_t n = 0; n <= 80; ++n) {
    const Bytes b = random_bytes(rng, n);
    INFO("length " << n);
    CHECK(ones_sum(b.data(), b.size()) == reference_sum(b));
  }
  // Large buffers exercise the unrolled loop and its accumulators.
  const Bytes big = random_bytes(rng, 100003);
  CHECK(ones_sum(big.data(), big.size()) == reference_sum(big));
  const Bytes allff(65537, 0xff);
  CHECK(ones_sum(allff.data(), allff.size()) == reference_sum(allff));
}

TEST_CASE("unaligned start address", "[checksum]") {
  std::mt19937 rng(7);
  const Bytes b = random_bytes(rng, 200);
  for (std::size_t start = 0; start < 8; ++start) {
    const Bytes sub(b.begin() + static_cast<long>(start), b.end());
    CHECK(ones_sum(b.data() + start, b.size() - start) == reference_sum(sub));
  }
}

TEST_CASE("a split at every point equals the whole", "[checksum]") {
  std::mt19937 rng(42);
  for (std::size_t n : {0u, 1u, 2u, 3u, 20u, 21u, 64u, 67u, 333u}) {
    const Bytes b = random_bytes(rng, n);
    const std::uint32_t whole = ones_sum(b.data(), b.size());
    for (std::size_t k = 0; k <= n; ++k) {
      const std::uint32_t s1 = ones_sum(b.data(), k);
      const std::uint32_t s2 = ones_sum(b.data() + k, n - k, s1, k % 2 == 1);
      INFO("n " << n << " split " << k);
      CHECK(ones_checksum(s2) == ones_checksum(whole));
      CHECK(s2 == whole);
    }
  }
  // Three pieces: the parity is the running offset.
  const Bytes b = random_bytes(rng, 101);
  const std::uint32_t whole = ones_sum(b.data(), b.size());
  for (std::size_t i = 0; i <= b.size(); i += 3)
    for (std::size_t j = i; j <= b.size(); j += 5) {
      std::uint32_t s = ones_sum(b.data(), i);
      s = ones_sum(b.data() + i, j - i, s, i % 2 == 1);
      s = ones_sum(b.data() + j, b.size() - j, s, j % 2 == 1);
      REQUIRE(s == whole);
    }
}

TEST_CASE("incremental update equals full recomputation", "[checksum]") {
  std::mt19937 rng(1624);
  Bytes b = random_bytes(rng, 97);
  b[0] = 0x45;  // never all zero, so the sum's zero is always 0xffff
  std::uint32_t sum = ones_sum(b.data(), b.size());
  for (int iter = 0; iter < 10000; ++iter) {
    const std::size_t n = 1 + rng() % 8;
    const std::size_t off = 1 + rng() % (b.size() - n);  // keep b[0]
    Bytes old_bytes(b.begin() + static_cast<long>(off), b.begin() + static_cast<long>(off + n));
    Bytes new_bytes = random_bytes(rng, n);
    if (rng() % 4 == 0) std::fill(new_bytes.begin(), new_bytes.end(), std::uint8_t{0});
    if (rng() % 8 == 0) std::fill(new_bytes.begin(), new_bytes.end(), std::uint8_t{0xff});
    std::copy(new_bytes.begin(), new_bytes.end(), b.begin() + static_cast<long>(off));
    sum = ones_sum_update(sum, old_bytes.data(), new_bytes.data(), n, off % 2 == 1);
    const std::uint32_t full = ones_sum(b.data(), b.size());
    if (sum != full) {
      INFO("iteration " << iter << " offset " << off << " length " << n);
      REQUIRE(sum == full);
    }
    REQUIRE(ones_checksum(sum) == ones_checksum(full));
  }
}

TEST_CASE("RFC 1624 example: a field update in a header", "[checksum]") {
  // The IPv4 header above, TTL 0x40 -> 0x3f (the TTL/protocol word at offset 8).
  Bytes h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
             0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  std::uint32_t sum = ones_sum(h.data(), h.size());
  const std::uint8_t old_ttl = h[8], new_ttl = 0x3f;
  h[8] = new_ttl;
  sum = ones_sum_update(sum, &old_ttl, &new_ttl, 1, false);
  CHECK(ones_checksum(sum) == ones_checksum(ones_sum(h.data(), h.size())));
  CHECK(ones_checksum(sum) == 0xb961);
  // An odd-offset single byte: the protocol at offset 9.
  const std::uint8_t old_proto = h[9], new_proto = 0x06;
  h[9] = new_proto;
  sum = ones_sum_update(sum, &old_proto, &new_proto, 1, true);
  CHECK(sum == ones_sum(h.data(), h.size()));
}

// RFC 3720 B.4: the CRC bytes as sent (least significant first), read here
// as the little-endian number crc32c() returns.
TEST_CASE("CRC32c: RFC 3720 B.4 test vectors", "[checksum][crc32c]") {
  Bytes zeros(32, 0x00), ones(32, 0xff), inc(32), dec(32);
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<std::uint8_t>(i), dec[i] = static_cast<std::uint8_t>(31 - i);
  CHECK(pkt::crc32c(zeros.data(), zeros.size()) == 0x8a9136aa);  // aa 36 91 8a
  CHECK(pkt::crc32c(ones.data(), ones.size()) == 0x62a8ab43);    // 43 ab a8 62
  CHECK(pkt::crc32c(inc.data(), inc.size()) == 0x46dd794e);      // 4e 79 dd 46
  CHECK(pkt::crc32c(dec.data(), dec.size()) == 0x113fdb5c);      // 5c db 3f 11
  // An iSCSI read command PDU (48 bytes).
  Bytes pdu = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
               0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
               0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  CHECK(pkt::crc32c(pdu.data(), pdu.size()) == 0xd9963a56);      // 56 3a 96 d9
  // The usual check value ("123456789") and the empty string.
  const std::uint8_t digits[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  CHECK(pkt::crc32c(digits, 9) == 0xe3069283);
  CHECK(pkt::crc32c(digits, 0) == 0);
}

TEST_CASE("CRC32c chains across any split", "[checksum][crc32c]") {
  std::mt19937 rng(9);
  for (int round = 0; round < 50; ++round) {
    Bytes b = random_bytes(rng, 1 + rng() % 300);
    const std::uint32_t whole = pkt::crc32c(b.data(), b.size());
    std::size_t cut = rng() % (b.size() + 1);
    std::uint32_t c = pkt::crc32c(b.data(), cut);
    REQUIRE(pkt::crc32c(b.data() + cut, b.size() - cut, c) == whole);
  }
}
