#include "destination.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

#include "send.hpp"

namespace pkt::net {

std::string Destination::text() const {
  if (!family) return "";
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, addr, buf, sizeof buf);
  return buf;
}

bool Destination::link_local() const {
  if (family != AF_INET6) return false;
  if (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80) return true;  // fe80::/10
  return addr[0] == 0xff && (addr[1] & 0x0f) <= 0x02;            // interface- and link-scope multicast
}

Destination ip_destination(const std::uint8_t* p, std::size_t n) {
  Destination d;
  if (n == 0) throw SendError("cannot send an empty packet");
  unsigned version = p[0] >> 4;
  if (version == 4) {
    if (n < 20)
      throw SendError("cannot send this packet: an IPv4 header needs 20 bytes, the packet has " + std::to_string(n));
    unsigned ihl = (p[0] & 0x0f) * 4u;
    if (ihl < 20 || ihl > n)
      throw SendError("cannot send this packet: its IPv4 header length (ihl " + std::to_string(p[0] & 0x0f) +
                      " = " + std::to_string(ihl) + " bytes) is not within 20.." + std::to_string(n) +
                      " (the packet's size); the kernel would refuse it");
    d.family = AF_INET;
    d.kind = "IPv4";
    std::memcpy(d.addr, p + 16, 4);
    return d;
  }
  if (version == 6) {
    if (n < 40)
      throw SendError("cannot send this packet: an IPv6 header needs 40 bytes, the packet has " + std::to_string(n));
    d.family = AF_INET6;
    d.kind = "IPv6";
    std::memcpy(d.addr, p + 24, 16);
    return d;
  }
  throw SendError("cannot send this packet: it starts at IP (pcap link type 101) but its version nibble is " +
                  std::to_string(version) + ", not 4 or 6");
}

Destination frame_destination(const std::uint8_t* p, std::size_t n, std::uint16_t* ethertype) {
  Destination d;
  if (ethertype) *ethertype = 0;
  if (n < 14) return d;
  std::size_t off = 12;
  auto u16 = [&](std::size_t at) { return static_cast<std::uint16_t>(p[at] << 8 | p[at + 1]); };
  std::uint16_t type = u16(off);
  for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8) && off + 6 <= n; ++tags) {
    off += 4;  // TPID + TCI
    type = u16(off);
  }
  if (ethertype) *ethertype = type;
  std::size_t l3 = off + 2;
  if (type == 0x8100 || type == 0x88a8) return d;  // more tags than we look through
  if (type == 0x0800 && n >= l3 + 20 && (p[l3] >> 4) == 4) {
    d.family = AF_INET;
    d.kind = "IPv4";
    std::memcpy(d.addr, p + l3 + 16, 4);
  } else if (type == 0x86dd && n >= l3 + 40 && (p[l3] >> 4) == 6) {
    d.family = AF_INET6;
    d.kind = "IPv6";
    std::memcpy(d.addr, p + l3 + 24, 16);
  } else if (type == 0x0806 && n >= l3 + 8) {
    // htype(2) ptype(2) hlen(1) plen(1) op(2) sha spa tha tpa: with Ethernet
    // and IPv4 (hlen 6, plen 4) the target protocol address is at 24..27.
    std::uint16_t ptype = u16(l3 + 2);
    std::size_t hlen = p[l3 + 4], plen = p[l3 + 5];
    std::size_t tpa = l3 + 8 + 2 * hlen + plen;
    if (ptype == 0x0800 && plen == 4 && n >= tpa + 4) {
      d.family = AF_INET;
      d.kind = "ARP target";
      std::memcpy(d.addr, p + tpa, 4);
    }
  }
  return d;
}

}  // namespace pkt::net
