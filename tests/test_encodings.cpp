// hex and base64 (RFC 4648) encodings.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "encodings.hpp"

using pkt::base64_decode;
using pkt::base64_encode;
using pkt::hex_decode;
using pkt::hex_encode;

TEST_CASE("base64: RFC 4648 section 10 test vectors", "[encodings]") {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},          {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, enc] : vectors) {
    INFO("plain \"" << plain << "\"");
    CHECK(base64_encode(plain) == enc);
    const auto dec = base64_decode(enc);
    REQUIRE(dec.has_value());
    CHECK(*dec == plain);
  }
}

TEST_CASE("base64: binary round trip, every byte value and length", "[encodings]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); ++n) {
    const std::string s = all.substr(256 - n);
    const auto enc = base64_encode(s);
    CHECK(enc.size() == (n + 2) / 3 * 4);
    const auto dec = base64_decode(enc);
    REQUIRE(dec.has_value());
    CHECK(*dec == s);
  }
  CHECK(base64_encode(std::string("\xfb\xff", 2)) == "+/8=");
}

TEST_CASE("base64: whitespace is ignored", "[encodings]") {
  auto d = base64_decode("  Zm9v\nYmFy\r\n");
  REQUIRE(d);
  CHECK(*d == "foobar");
  d = base64_decode("Z m 9 v Y g = =");
  REQUIRE(d);
  CHECK(*d == "foob");
  d = base64_decode("\t\n ");
  REQUIRE(d);
  CHECK(d->empty());
}

TEST_CASE("base64: errors and their index", "[encodings]") {
  std::size_t bad = 999;
  // Missing padding: reported at the end of the text.
  CHECK_FALSE(base64_decode("Zg", &bad));
  CHECK(bad == 2);
  CHECK_FALSE(base64_decode("Zm8", &bad));
  CHECK(bad == 3);
  CHECK_FALSE(base64_decode("Zm9vY", &bad));
  CHECK(bad == 5);
  // A character outside the alphabet.
  CHECK_FALSE(base64_decode("Zm9v*mFy", &bad));
  CHECK(bad == 4);
  CHECK_FALSE(base64_decode("Zm9-", &bad));  // base64url is not accepted
  CHECK(bad == 3);
  // Padding in the wrong place or followed by data.
  CHECK_FALSE(base64_decode("=Zm9", &bad));
  CHECK(bad == 0);
  CHECK_FALSE(base64_decode("Z===", &bad));
  CHECK(bad == 1);
  CHECK_FALSE(base64_decode("Zm=v", &bad));
  CHECK(bad == 3);
  CHECK_FALSE(base64_decode("Zg==Zg==", &bad));
  CHECK(bad == 4);
  CHECK_FALSE(base64_decode("Zm8=\n=", &bad));
  CHECK(bad == 5);
  // Non-zero bits under the padding (non-canonical).
  CHECK_FALSE(base64_decode("Zh==", &bad));
  CHECK(bad == 3);
  CHECK_FALSE(base64_decode("Zm9=", &bad));
  CHECK(bad == 3);
  // Without bad_index the result is simply empty.
  CHECK_FALSE(base64_decode("@@@@"));
}

TEST_CASE("hex: encode is lowercase without separators", "[encodings]") {
  CHECK(hex_encode("") == "");
  CHECK(hex_encode(std::string("\x00\x01\xab\xff", 4)) == "0001abff");
  CHECK(hex_encode("E") == "45");
}

TEST_CASE("hex: round trip of random bytes", "[encodings]") {
  std::mt19937 rng(4648);
  for (int i = 0; i < 200; ++i) {
    std::string s(rng() % 64, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    const auto enc = hex_encode(s);
    CHECK(enc.size() == 2 * s.size());
    const auto dec = hex_decode(enc);
    REQUIRE(dec);
    CHECK(*dec == s);
  }
}

TEST_CASE("hex: case and whitespace", "[encodings]") {
  auto d = hex_decode("DEADbeef");
  REQUIRE(d);
  CHECK(*d == "\xde\xad\xbe\xef");
  d = hex_decode(" 45 00\n00 34\t");
  REQUIRE(d);
  CHECK(*d == std::string("\x45\x00\x00\x34", 4));
  d = hex_decode("");
  REQUIRE(d);
  CHECK(d->empty());
  d = hex_decode("   ");
  REQUIRE(d);
  CHECK(d->empty());
}

TEST_CASE("hex: errors and their index", "[encodings]") {
  std::size_t bad = 999;
  CHECK_FALSE(hex_decode("abc", &bad));  // odd count: the unpaired digit
  CHECK(bad == 2);
  CHECK_FALSE(hex_decode("ab c ", &bad));
  CHECK(bad == 3);
  CHECK_FALSE(hex_decode("0g", &bad));
  CHECK(bad == 1);
  CHECK_FALSE(hex_decode("00 11 x2", &bad));
  CHECK(bad == 6);
  CHECK_FALSE(hex_decode("0x45", &bad));
  CHECK(bad == 1);
  CHECK_FALSE(hex_decode("zz"));
}
