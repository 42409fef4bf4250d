// route_source(dst) in a rule: the source address the kernel would choose
// for a destination (as `ip route get` says). The graph has no sockets: it
// caches the answers of an asker that the sockets side installs
// (net/route_query.hpp); with none, only loopback has a source.
#pragma once

#include <cstdint>
#include <string>

namespace pkt {

// The source for `dst` (4 bytes for IPv4, 16 for IPv6), as many bytes.
// Loopback destinations (127.0.0.0/8, ::1) give 127.0.0.1 and ::1 without
// asking; otherwise the kernel's answer, cached per destination. With no
// route (or no asker installed), all zeros (0.0.0.0 or ::), as scapy does.
std::string route_source(const std::string& dst);

// Asks the kernel for dst's source (zeros with no route). Called with the
// cache's lock held, once per destination.
using RouteAsker = std::string (*)(const std::string& dst);
void set_route_asker(RouteAsker asker);

// How many times the kernel was asked (tests: reading must never ask).
std::uint64_t route_queries();

}  // namespace pkt
