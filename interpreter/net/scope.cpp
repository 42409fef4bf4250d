// The send scope: parsing "127.0.0.0/8,::1/128" and prefix matching.
#include "scope.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace pkt {

namespace {

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// True when the first `prefix` bits of a and b are equal.
bool prefix_equal(const std::uint8_t* a, const std::uint8_t* b, unsigned prefix) {
  unsigned full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a, b, full) != 0) return false;
  if (!rest) return true;
  std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

bool is_v4_mapped(const std::uint8_t* a) {
  static const std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a, kPrefix, 12) == 0;
}

const char* kForm = "expected an IPv4 or IPv6 address with an optional /prefix, e.g. 127.0.0.0/8,::1/128";

}  // namespace

Scope Scope::parse(const std::string& text) {
  Scope s;
  std::string all = trim(text);
  if (all.empty()) return s;  // unrestricted
  std::size_t start = 0;
  std::string canon;
  while (true) {
    std::size_t comma = all.find(',', start);
    std::string item = trim(all.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty())
      throw std::invalid_argument("invalid scope '" + all + "': empty entry (entries are separated by single commas)");
    std::string addr = item, len;
    if (auto slash = item.find('/'); slash != std::string::npos) {
      addr = trim(item.substr(0, slash));
      len = trim(item.substr(slash + 1));
    }
    Net n{};
    if (inet_pton(AF_INET, addr.c_str(), n.addr) == 1) {
      n.family = AF_INET;
    } else if (inet_pton(AF_INET6, addr.c_str(), n.addr) == 1) {
      n.family = AF_INET6;
    } else {
      throw std::invalid_argument("invalid scope entry '" + item + "': '" + addr + "' is not a numeric address; " + kForm);
    }
    unsigned max = n.family == AF_INET ? 32 : 128;
    n.prefix = max;
    if (item.find('/') != std::string::npos) {
      bool digits = !len.empty() && len.size() <= 3 && len.find_first_not_of("0123456789") == std::string::npos;
      unsigned v = digits ? static_cast<unsigned>(std::stoul(len)) : max + 1;
      if (!digits || v > max)
        throw std::invalid_argument("invalid scope entry '" + item + "': the prefix length must be 0.." +
                                    std::to_string(max) + " for an " + (n.family == AF_INET ? "IPv4" : "IPv6") +
                                    " address");
      n.prefix = v;
    }
    // Host bits beyond the prefix are ignored (10.1.2.3/8 means 10.0.0.0/8).
    for (unsigned bit = n.prefix; bit < max; ++bit) n.addr[bit / 8] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
    s.nets_.push_back(n);
    if (!canon.empty()) canon += ',';
    canon += item;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  s.text_ = canon;
  return s;
}

Scope Scope::from_env(const std::string& flag) {
  if (!trim(flag).empty()) {
    try {
      return parse(flag);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("--scope: ") + e.what());
    }
  }
  const char* env = std::getenv("PKT_SCOPE");
  if (env && !trim(env).empty()) {
    try {
      return parse(env);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("PKT_SCOPE: ") + e.what());
    }
  }
  return Scope{};
}

bool Scope::allows(int family, const std::uint8_t* addr) const {
  if (nets_.empty()) return true;
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) reaches the IPv4 host: the
  // IPv4 entries apply to it as well as any IPv6 entry covering it.
  const std::uint8_t* v4 = family == AF_INET ? addr : (family == AF_INET6 && is_v4_mapped(addr) ? addr + 12 : nullptr);
  for (auto& n : nets_) {
    if (n.family == AF_INET && v4 && prefix_equal(n.addr, v4, n.prefix)) return true;
    if (n.family == AF_INET6 && family == AF_INET6 && prefix_equal(n.addr, addr, n.prefix)) return true;
  }
  return false;
}

bool Scope::allows(const std::string& address_text) const {
  if (nets_.empty()) return true;
  std::uint8_t a[16];
  std::string t = trim(address_text);
  // A zone index (fe80::1%lo) names the interface, not part of the address.
  if (auto pct = t.find('%'); pct != std::string::npos) t.resize(pct);
  if (inet_pton(AF_INET, t.c_str(), a) == 1) return allows(AF_INET, a);
  if (inet_pton(AF_INET6, t.c_str(), a) == 1) return allows(AF_INET6, a);
  return false;
}

std::string Scope::refusal(const std::string& what, const std::string& address) const {
  return what + " to " + address + " refused: outside the scope " + text_ + " (set by --scope or PKT_SCOPE)";
}

}  // namespace pkt
