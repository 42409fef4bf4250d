// The send scope: a list of CIDRs (IPv4 and IPv6). Any raw send, connect or
// sendto to an address outside it is refused before anything leaves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pkt {

class Scope {
 public:
  // "127.0.0.0/8,::1/128"; an address without /N is a single host.
  // Throws std::invalid_argument naming the bad part.
  static Scope parse(const std::string& text);
  // --scope wins; else $PKT_SCOPE; else unrestricted.
  static Scope from_env(const std::string& flag);

  bool restricted() const { return !nets_.empty(); }
  // family AF_INET (4 bytes) or AF_INET6 (16 bytes), network order.
  bool allows(int family, const std::uint8_t* addr) const;
  bool allows(const std::string& address_text) const;  // numeric address text
  std::string text() const { return text_; }

  // The error text for a refused destination.
  std::string refusal(const std::string& what, const std::string& address) const;

 private:
  struct Net { int family; std::uint8_t addr[16]; unsigned prefix; };
  std::vector<Net> nets_;
  std::string text_;
};

}  // namespace pkt
