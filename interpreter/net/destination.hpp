// Where a built packet goes: the destination address a raw IP packet or an
// Ethernet frame carries, for the scope check and for error messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pkt::net {

struct Destination {
  int family = 0;              // AF_INET or AF_INET6; 0 = the frame carries none we know
  std::uint8_t addr[16] = {};  // network order (4 bytes for AF_INET)
  const char* kind = "";       // "IPv4", "IPv6", "ARP target"
  std::string text() const;    // "10.0.0.1", "::1"; "" when family is 0
  bool link_local() const;     // fe80::/10 or a link-scope multicast (ff02::/16): needs an interface
};

// The destination of a packet that starts at IP (pcap LINKTYPE_RAW): bytes
// 16..19 of an IPv4 header, 24..39 of an IPv6 header. Throws SendError when
// the packet is too short for its header or its version nibble is not 4 or 6.
Destination ip_destination(const std::uint8_t* p, std::size_t n);

// The destination of an Ethernet frame: the IPv4 (0x0800) or IPv6 (0x86dd)
// destination, or ARP's (0x0806) target protocol address, after up to two
// VLAN tags (0x8100, 0x88a8). family 0 when there is nothing to check.
// `ethertype` receives the innermost EtherType (or 0 for a frame under 14 bytes).
Destination frame_destination(const std::uint8_t* p, std::size_t n, std::uint16_t* ethertype = nullptr);

}  // namespace pkt::net
