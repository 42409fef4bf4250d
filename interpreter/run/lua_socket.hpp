// Stream (TCP) and datagram (UDP) sockets for Lua: the globals `tcp` and
// `udp` (also fields of require "pkt"). Network failures return nil and a
// message; wrong arguments raise. Every connect and sendto is checked
// against the scope first.
#pragma once

struct lua_State;

namespace pkt {
class Scope;

// Creates the socket metatables and sets `tcp` and `udp` in the table at
// the top of the stack. `scope` must outlive the state. With
// `numeric_hosts_only` (--sandbox), a host name is refused before any lookup.
void open_socket_lib(lua_State* L, const Scope* scope, bool numeric_hosts_only = false);
}  // namespace pkt
