// route_source(dst) in a rule: the source address the kernel would choose
// for a destination (as `ip route get` says). A read-only question to the
// kernel: it needs no privilege and sends nothing.
#pragma once

#include <cstdint>
#include <string>

namespace pkt {

// The source for `dst` (4 bytes for IPv4, 16 for IPv6), as many bytes.
// Loopback destinations (127.0.0.0/8, ::1) give 127.0.0.1 and ::1 without
// asking; otherwise the kernel's answer, cached per destination. With no
// route, all zeros (0.0.0.0 or ::), as scapy does.
std::string route_source(const std::string& dst);

// How many times the kernel was asked (tests: reading must never ask).
std::uint64_t route_queries();

// One uncached question by one method (tests: the two agree): netlink's
// RTM_GETROUTE, which route_source uses, or a connected UDP socket, its
// fallback where netlink is unavailable. Zeros with no route.
enum class RouteQuery { Netlink, Udp };
std::string ask_route_source(const std::string& dst, RouteQuery how);

}  // namespace pkt
