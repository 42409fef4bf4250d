// Asking the kernel for the source address of a destination (see route.hpp,
// where the packet graph caches the answers).
#pragma once

#include <string>

namespace pkt::net {

// Makes route_source() (route.hpp) ask the kernel. main calls it once;
// without it, only loopback destinations have a source.
void install_route_asker();

// One uncached question by one method (tests: the two agree): netlink's
// RTM_GETROUTE, which the installed asker uses, or a connected UDP socket,
// its fallback where netlink is unavailable. Zeros with no route.
enum class RouteQuery { Netlink, Udp };
std::string ask_route_source(const std::string& dst, RouteQuery how);

}  // namespace pkt::net
