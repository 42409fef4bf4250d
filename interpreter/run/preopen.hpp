// What a run opens before it drops privileges (net/privilege.hpp): the raw
// IPv4 and IPv6 sockets, and for each interface named up front (by -i, or by
// a statement of the script: `send ... on IFACE`, `sr ... on IFACE`, `sniff
// on IFACE`, `sniff(on IFACE)`) the sockets bound to it, the packet sockets
// and a capture. The rest of the run takes its sockets from these.
#pragma once

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "ast.hpp"
#include "privilege.hpp"

namespace pkt {

// An -i that names no usable interface: a command-line error.
struct IfaceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SocketNeeds {
  std::set<std::string> send_ifaces;          // `send/sr ... on IFACE`
  std::map<std::string, bool> capture_ifaces;  // where sr and sniff capture -> promiscuous (a sniff)
};

// The interfaces a script's statements name; Lua code is not looked into.
SocketNeeds scan_script(const ast::Script& script);

// Opens what `needs` and `ifaces` (-i, each an interface or "any") ask for,
// then carries out `plan`. Only with an active plan: without one, sockets
// open when first used, as always. An -i that cannot be opened is an error
// (IfaceError naming it), also without a plan; a statement's
// interface that cannot be is left for the statement to report.
void open_then_drop(const net::DropPlan& plan, const SocketNeeds& needs, const std::vector<std::string>& ifaces);

}  // namespace pkt
