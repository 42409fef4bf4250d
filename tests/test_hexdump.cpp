// hexdump() against literals captured from real `tcpdump -X -nn -r FILE`
// (tcpdump 4.99.3, libpcap 1.10.3) for pcaps holding the same bytes.
// Note tcpdump prints a space (0x20) as '.': only 0x21..0x7e are shown as is.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "graph/render.hpp"

using pkt::hexdump;

namespace {
using Bytes = std::vector<std::uint8_t>;
std::string dump(const Bytes& b) { return hexdump(b.data(), b.size()); }
Bytes range(int from, int to) {
  Bytes b;
  for (int i = from; i < to; ++i) b.push_back(static_cast<std::uint8_t>(i));
  return b;
}
}  // namespace

TEST_CASE("hexdump: an IPv4/UDP datagram, odd length", "[hexdump]") {
  // IP(src="192.168.0.1", dst="192.168.0.199", id=1)/UDP(sport=1234, dport=53)/"hello world ~\x7f\x80 !"
  const Bytes b = {0x45, 0x00, 0x00, 0x2d, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0xf8, 0xa6, 0xc0, 0xa8, 0x00,
                   0x01, 0xc0, 0xa8, 0x00, 0xc7, 0x04, 0xd2, 0x00, 0x35, 0x00, 0x19, 0xc7, 0x0d, 'h',  'e',
                   'l',  'l',  'o',  ' ',  'w',  'o',  'r',  'l',  'd',  ' ',  '~',  0x7f, 0x80, ' ',  '!'};
  REQUIRE(b.size() == 45);
  CHECK(dump(b) ==
      "\t0x0000:  4500 002d 0001 0000 4011 f8a6 c0a8 0001  E..-....@.......\n"
      "\t0x0010:  c0a8 00c7 04d2 0035 0019 c70d 6865 6c6c  .......5....hell\n"
      "\t0x0020:  6f20 776f 726c 6420 7e7f 8020 21         o.world.~...!\n");
}

TEST_CASE("hexdump: a single byte", "[hexdump]") {
  CHECK(dump({0x45}) ==
      "\t0x0000:  45                                       E\n");
}

TEST_CASE("hexdump: exactly one full line", "[hexdump]") {
  CHECK(dump(range(0x70, 0x80)) ==
      "\t0x0000:  7071 7273 7475 7677 7879 7a7b 7c7d 7e7f  pqrstuvwxyz{|}~.\n");
}

TEST_CASE("hexdump: one byte past a full line", "[hexdump]") {
  const std::string s = "GET / HTTP/1.1\r\n";
  Bytes b(s.begin(), s.end());
  b.push_back(0);
  CHECK(dump(b) ==
      "\t0x0000:  4745 5420 2f20 4854 5450 2f31 2e31 0d0a  GET./.HTTP/1.1..\n"
      "\t0x0010:  00                                       .\n");
}

TEST_CASE("hexdump: every byte value", "[hexdump]") {
  CHECK(dump(range(0, 256)) ==
      "\t0x0000:  0001 0203 0405 0607 0809 0a0b 0c0d 0e0f  ................\n"
      "\t0x0010:  1011 1213 1415 1617 1819 1a1b 1c1d 1e1f  ................\n"
      "\t0x0020:  2021 2223 2425 2627 2829 2a2b 2c2d 2e2f  .!\"#$%&'()*+,-./\n"
      "\t0x0030:  3031 3233 3435 3637 3839 3a3b 3c3d 3e3f  0123456789:;<=>?\n"
      "\t0x0040:  4041 4243 4445 4647 4849 4a4b 4c4d 4e4f  @ABCDEFGHIJKLMNO\n"
      "\t0x0050:  5051 5253 5455 5657 5859 5a5b 5c5d 5e5f  PQRSTUVWXYZ[\\]^_\n"
      "\t0x0060:  6061 6263 6465 6667 6869 6a6b 6c6d 6e6f  `abcdefghijklmno\n"
      "\t0x0070:  7071 7273 7475 7677 7879 7a7b 7c7d 7e7f  pqrstuvwxyz{|}~.\n"
      "\t0x0080:  8081 8283 8485 8687 8889 8a8b 8c8d 8e8f  ................\n"
      "\t0x0090:  9091 9293 9495 9697 9899 9a9b 9c9d 9e9f  ................\n"
      "\t0x00a0:  a0a1 a2a3 a4a5 a6a7 a8a9 aaab acad aeaf  ................\n"
      "\t0x00b0:  b0b1 b2b3 b4b5 b6b7 b8b9 babb bcbd bebf  ................\n"
      "\t0x00c0:  c0c1 c2c3 c4c5 c6c7 c8c9 cacb cccd cecf  ................\n"
      "\t0x00d0:  d0d1 d2d3 d4d5 d6d7 d8d9 dadb dcdd dedf  ................\n"
      "\t0x00e0:  e0e1 e2e3 e4e5 e6e7 e8e9 eaeb eced eeef  ................\n"
      "\t0x00f0:  f0f1 f2f3 f4f5 f6f7 f8f9 fafb fcfd feff  ................\n");
}

TEST_CASE("hexdump: empty input and line structure", "[hexdump]") {
  CHECK(hexdump(nullptr, 0).empty());
  for (int n = 1; n <= 40; ++n) {
    const std::string d = dump(range(0, n));
    INFO("length " << n);
    CHECK(static_cast<int>(std::count(d.begin(), d.end(), '\n')) == (n + 15) / 16);
    // The ASCII column starts at the same place on every line.
    std::size_t start = 0;
    int line_no = 0;
    while (start < d.size()) {
      const std::size_t end = d.find('\n', start);
      const std::string line = d.substr(start, end - start);
      CHECK(line.substr(0, 3) == "\t0x");
      CHECK(static_cast<int>(line.size()) == 1 + 7 + 1 + 40 + 2 + std::min(16, n - line_no * 16));
      CHECK(line.substr(49, 2) == "  ");
      start = end + 1;
      ++line_no;
    }
  }
}

TEST_CASE("hexdump: offsets past 0xffff widen", "[hexdump]") {
  const Bytes b(0x10001, 0x41);
  const std::string d = dump(b);
  const std::string last = "\t0x10000:  41                                       A\n";
  REQUIRE(d.size() > last.size());
  CHECK(d.substr(d.size() - last.size()) == last);
}
