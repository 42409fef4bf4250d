// Lua's `tcp` and `udp`, in the style of liolib.c: one metatable per socket
// type (__gc, __close, __tostring, __index = methods). Network failures
// return nil and a message; wrong arguments and use of a closed socket
// raise. Every C function runs inside guarded<>, so no C++ exception but
// Lua's own ever crosses into Lua.
#include "lua_socket.hpp"

#include <fmt/format.h>
#include <lua.hpp>

#include <initializer_list>
#include <new>
#include <string>

#include "lua_sandbox.hpp"
#include "net/scope.hpp"
#include "net/socket_inet.hpp"

namespace pkt {

namespace {

using net::Socket;

constexpr const char* kConn = "pkt.tcp.conn";
constexpr const char* kServer = "pkt.tcp.server";
constexpr const char* kUdp = "pkt.udp.socket";
const char kScopeKey = 0;  // its address keys the Scope* in the registry
const char kNumericKey = 0;  // its address keys whether host names are refused (--sandbox)

// The userdata of every socket type.
struct LSock {
  Socket sock;
  double timeout = -1;  // the default for blocking calls; -1 = wait without limit
};

// A network failure (NetError) returns nil, message; anything else thrown
// by C++ (Interrupted, logic errors, bad_alloc) is raised as a Lua error.
// Lua's own errors (luaL_argerror, ...) are not std::exceptions and pass.
template <int (*F)(lua_State*)>
int guarded(lua_State* L) {
  try {
    return F(L);
  } catch (const net::NetError& e) {
    lua_pushnil(L);
    lua_pushstring(L, e.what());
    return 2;
  } catch (const std::exception& e) {
    return luaL_error(L, "%s", e.what());
  }
}

const Scope* scope_of(lua_State* L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kScopeKey);
  auto* s = static_cast<const Scope*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return s;
}

// Host names are refused when the library was opened for --sandbox. The flag
// is the library's own: a state need not be a LuaEngine's to hold sockets.
void check_host(lua_State* L, const std::string& host, const char* what) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kNumericKey);
  bool numeric_only = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (numeric_only) lua::check_host(host, what);
}

const char* type_word(const char* tname) {
  if (tname == kConn) return "tcp connection";
  if (tname == kServer) return "tcp server";
  return "udp socket";
}

LSock* to_sock(lua_State* L, int idx, const char* tname) {
  auto* u = static_cast<LSock*>(luaL_testudata(L, idx, tname));
  if (!u) luaL_typeerror(L, idx, type_word(tname));
  return u;
}

LSock* check_open(lua_State* L, int idx, const char* tname) {
  LSock* u = to_sock(L, idx, tname);
  if (!u->sock.is_open()) luaL_error(L, "attempt to use a closed %s", type_word(tname));
  return u;
}

LSock* push_sock(lua_State* L, const char* tname, Socket s, double timeout) {
  void* mem = lua_newuserdatauv(L, sizeof(LSock), 0);
  auto* u = new (mem) LSock{std::move(s), timeout};
  luaL_setmetatable(L, tname);
  return u;
}

int check_port(lua_State* L, int idx, bool allow_zero) {
  lua_Integer p = luaL_checkinteger(L, idx);
  if (p < (allow_zero ? 0 : 1) || p > 65535)
    luaL_argerror(L, idx, allow_zero ? "port must be 0..65535" : "port must be 1..65535");
  return static_cast<int>(p);
}

// A timeout argument in seconds: nil = `dflt`; math.huge = no limit.
double opt_timeout(lua_State* L, int idx, double dflt) {
  if (lua_isnoneornil(L, idx)) return dflt;
  double t = static_cast<double>(luaL_checknumber(L, idx));
  if (!(t >= 0)) luaL_argerror(L, idx, "timeout must be a number of seconds >= 0");
  return t;
}

std::size_t check_size(lua_State* L, int idx) {
  lua_Integer n = luaL_checkinteger(L, idx);
  if (n < 1) luaL_argerror(L, idx, "the number of bytes must be positive");
  return static_cast<std::size_t>(n);
}

// The options table at idx (absent or nil: none) may hold only `keys`.
bool opt_table(lua_State* L, int idx, std::initializer_list<const char*> keys) {
  if (lua_isnoneornil(L, idx)) return false;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) luaL_argerror(L, idx, "option names must be strings");
    const char* k = lua_tostring(L, -1);
    bool known = false;
    std::string expected;
    for (const char* key : keys) {
      known = known || std::string(key) == k;
      expected += (expected.empty() ? "" : ", ") + std::string(key);
    }
    if (!known) luaL_argerror(L, idx, lua_pushfstring(L, "unknown option '%s' (expected %s)", k, expected.c_str()));
  }
  return true;
}

// opts.timeout of the table at idx, or -1.
double field_timeout(lua_State* L, int idx) {
  double t = -1;
  if (lua_getfield(L, idx, "timeout") != LUA_TNIL) {
    if (!lua_isnumber(L, -1) || !(lua_tonumber(L, -1) >= 0))
      luaL_argerror(L, idx, "timeout must be a number of seconds >= 0");
    t = static_cast<double>(lua_tonumber(L, -1));
  }
  lua_pop(L, 1);
  return t;
}

int push_endpoint(lua_State* L, const net::Endpoint& e) {
  if (e.len == 0) {
    lua_pushnil(L);
    lua_pushstring(L, "not connected");
    return 2;
  }
  std::string h = e.host();
  lua_pushlstring(L, h.data(), h.size());
  lua_pushinteger(L, e.port());
  return 2;
}

// ---- shared methods -------------------------------------------------------

template <const char* const* T>
int m_close(lua_State* L) {
  to_sock(L, 1, *T)->sock.close();
  lua_pushboolean(L, 1);
  return 1;
}

template <const char* const* T>
int m_gc(lua_State* L) {
  // Never raises: __gc and __close must not fail on a closed socket.
  if (auto* u = static_cast<LSock*>(luaL_testudata(L, 1, *T))) u->sock.close();
  return 0;
}

template <const char* const* T>
int m_settimeout(lua_State* L) {
  LSock* u = to_sock(L, 1, *T);
  u->timeout = opt_timeout(L, 2, -1);
  lua_pushboolean(L, 1);
  return 1;
}

template <const char* const* T>
int m_getsockname(lua_State* L) {
  return push_endpoint(L, net::local_endpoint(check_open(L, 1, *T)->sock));
}

template <const char* const* T>
int m_getpeername(lua_State* L) {
  return push_endpoint(L, net::peer_endpoint(check_open(L, 1, *T)->sock));
}

template <const char* const* T>
int m_port(lua_State* L) {
  lua_pushinteger(L, net::local_endpoint(check_open(L, 1, *T)->sock).port());
  return 1;
}

template <const char* const* T>
int m_tostring(lua_State* L) {
  LSock* u = to_sock(L, 1, *T);
  std::string s;
  if (!u->sock.is_open()) {
    s = fmt::format("{} (closed)", type_word(*T));
  } else {
    net::Endpoint peer;
    if (*T != kServer) peer = net::peer_endpoint(u->sock);
    s = fmt::format("{} {}{}{}", type_word(*T), net::local_endpoint(u->sock).text(), peer.len ? " -> " : "",
                    peer.len ? peer.text() : "");
  }
  lua_pushlstring(L, s.data(), s.size());
  return 1;
}

// send(data [, timeout]) -> bytes sent
template <const char* const* T>
int m_send(lua_State* L) {
  LSock* u = check_open(L, 1, *T);
  std::size_t n = 0;
  const char* data = luaL_checklstring(L, 2, &n);
  double t = opt_timeout(L, 3, u->timeout);
  lua_pushinteger(L, static_cast<lua_Integer>(net::sock_send(u->sock, data, n, t)));
  return 1;
}

// recv(n [, timeout]) -> data ("" at the end of a stream) | nil, "timeout"
template <const char* const* T>
int m_recv(lua_State* L) {
  LSock* u = check_open(L, 1, *T);
  std::size_t n = check_size(L, 2);
  double t = opt_timeout(L, 3, u->timeout);
  std::string d = net::sock_recv(u->sock, n, t);
  lua_pushlstring(L, d.data(), d.size());
  return 1;
}

constexpr const char* const* kConnT = &kConn;
constexpr const char* const* kServerT = &kServer;
constexpr const char* const* kUdpT = &kUdp;

// ---- tcp ------------------------------------------------------------------

// tcp.connect(host, port [, {timeout=seconds}]) -> conn | nil, message
int tcp_connect(lua_State* L) {
  std::string host = luaL_checkstring(L, 1);
  int port = check_port(L, 2, false);
  double timeout = -1;
  if (opt_table(L, 3, {"timeout"})) timeout = field_timeout(L, 3);
  check_host(L, host, "tcp.connect");
  Socket s = net::tcp_connect(host, port, timeout, scope_of(L));
  push_sock(L, kConn, std::move(s), timeout);
  return 1;
}

// tcp.listen(port [, host [, backlog]]) -> server | nil, message
int tcp_listen(lua_State* L) {
  int port = check_port(L, 1, true);
  std::string host = luaL_optstring(L, 2, "0.0.0.0");
  lua_Integer backlog = luaL_optinteger(L, 3, 128);
  luaL_argcheck(L, backlog >= 1 && backlog <= 65535, 3, "backlog must be 1..65535");
  check_host(L, host, "tcp.listen");
  Socket s = net::tcp_listen(host, port, static_cast<int>(backlog));
  push_sock(L, kServer, std::move(s), -1);
  return 1;
}

// conn:sendall(data [, timeout]) -> true | nil, message, bytes sent
int conn_sendall(lua_State* L) {
  LSock* u = check_open(L, 1, kConn);
  std::size_t n = 0;
  const char* data = luaL_checklstring(L, 2, &n);
  double t = opt_timeout(L, 3, u->timeout);
  std::size_t sent = 0;
  try {
    net::sock_send_all(u->sock, data, n, t, sent);
  } catch (const net::NetError& e) {
    lua_pushnil(L);
    lua_pushstring(L, e.what());
    lua_pushinteger(L, static_cast<lua_Integer>(sent));
    return 3;
  }
  lua_pushboolean(L, 1);
  return 1;
}

// server:accept([timeout]) -> conn, peer host, peer port | nil, "timeout"
int server_accept(lua_State* L) {
  LSock* u = check_open(L, 1, kServer);
  double t = opt_timeout(L, 2, u->timeout);
  net::Endpoint peer;
  Socket s = net::tcp_accept(u->sock, t, &peer);
  push_sock(L, kConn, std::move(s), -1);
  push_endpoint(L, peer);
  return 3;
}

// ---- udp ------------------------------------------------------------------

// udp.open([{host=, port=, timeout=}]) -> socket | nil, message
int udp_open(lua_State* L) {
  double timeout = -1;
  std::string host;
  int port = -1;
  if (opt_table(L, 1, {"host", "port", "timeout"})) {
    timeout = field_timeout(L, 1);
    if (lua_getfield(L, 1, "host") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING) luaL_argerror(L, 1, "host must be a string");
      host = lua_tostring(L, -1);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "port") != LUA_TNIL) {
      if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0 || lua_tointeger(L, -1) > 65535)
        luaL_argerror(L, 1, "port must be an integer 0..65535");
      port = static_cast<int>(lua_tointeger(L, -1));
    }
    lua_pop(L, 1);
  }
  check_host(L, host, "udp.open");
  Socket s = host.empty() && port < 0 ? net::udp_open(AF_INET)
                                      : net::udp_bind(host.empty() ? "0.0.0.0" : host, port < 0 ? 0 : port);
  push_sock(L, kUdp, std::move(s), timeout);
  return 1;
}

// sock:sendto(data, host, port) -> bytes | nil, message
int udp_sendto(lua_State* L) {
  LSock* u = check_open(L, 1, kUdp);
  std::size_t n = 0;
  const char* data = luaL_checklstring(L, 2, &n);
  std::string host = luaL_checkstring(L, 3);
  int port = check_port(L, 4, false);
  check_host(L, host, "sendto");
  lua_pushinteger(L, static_cast<lua_Integer>(net::udp_sendto(u->sock, data, n, host, port, scope_of(L))));
  return 1;
}

// sock:recvfrom(n [, timeout]) -> data, host, port | nil, "timeout"
int udp_recvfrom(lua_State* L) {
  LSock* u = check_open(L, 1, kUdp);
  std::size_t n = check_size(L, 2);
  double t = opt_timeout(L, 3, u->timeout);
  net::Endpoint from;
  std::string d = net::udp_recvfrom(u->sock, n, t, &from);
  lua_pushlstring(L, d.data(), d.size());
  push_endpoint(L, from);
  return 3;
}

// sock:connect(host, port) -> true | nil, message
int udp_connect(lua_State* L) {
  LSock* u = check_open(L, 1, kUdp);
  std::string host = luaL_checkstring(L, 2);
  int port = check_port(L, 3, false);
  check_host(L, host, "udp connect");
  net::udp_connect(u->sock, host, port, scope_of(L));
  lua_pushboolean(L, 1);
  return 1;
}

// ---- tables ---------------------------------------------------------------

const luaL_Reg kConnMeta[] = {
    {"__gc", m_gc<kConnT>},
    {"__close", m_gc<kConnT>},
    {"__tostring", guarded<m_tostring<kConnT>>},
    {"__index", nullptr},
    {nullptr, nullptr},
};
const luaL_Reg kConnMethods[] = {
    {"send", guarded<m_send<kConnT>>},
    {"sendall", guarded<conn_sendall>},
    {"recv", guarded<m_recv<kConnT>>},
    {"close", guarded<m_close<kConnT>>},
    {"settimeout", guarded<m_settimeout<kConnT>>},
    {"getpeername", guarded<m_getpeername<kConnT>>},
    {"getsockname", guarded<m_getsockname<kConnT>>},
    {nullptr, nullptr},
};

const luaL_Reg kServerMeta[] = {
    {"__gc", m_gc<kServerT>},
    {"__close", m_gc<kServerT>},
    {"__tostring", guarded<m_tostring<kServerT>>},
    {"__index", nullptr},
    {nullptr, nullptr},
};
const luaL_Reg kServerMethods[] = {
    {"accept", guarded<server_accept>},
    {"close", guarded<m_close<kServerT>>},
    {"port", guarded<m_port<kServerT>>},
    {"settimeout", guarded<m_settimeout<kServerT>>},
    {"getsockname", guarded<m_getsockname<kServerT>>},
    {nullptr, nullptr},
};

const luaL_Reg kUdpMeta[] = {
    {"__gc", m_gc<kUdpT>},
    {"__close", m_gc<kUdpT>},
    {"__tostring", guarded<m_tostring<kUdpT>>},
    {"__index", nullptr},
    {nullptr, nullptr},
};
const luaL_Reg kUdpMethods[] = {
    {"sendto", guarded<udp_sendto>},
    {"recvfrom", guarded<udp_recvfrom>},
    {"connect", guarded<udp_connect>},
    {"send", guarded<m_send<kUdpT>>},
    {"recv", guarded<m_recv<kUdpT>>},
    {"close", guarded<m_close<kUdpT>>},
    {"port", guarded<m_port<kUdpT>>},
    {"settimeout", guarded<m_settimeout<kUdpT>>},
    {"getsockname", guarded<m_getsockname<kUdpT>>},
    {"getpeername", guarded<m_getpeername<kUdpT>>},
    {nullptr, nullptr},
};

const luaL_Reg kTcpLib[] = {
    {"connect", guarded<tcp_connect>},
    {"listen", guarded<tcp_listen>},
    {nullptr, nullptr},
};
const luaL_Reg kUdpLib[] = {
    {"open", guarded<udp_open>},
    {nullptr, nullptr},
};

void create_meta(lua_State* L, const char* tname, const luaL_Reg* meta, const luaL_Reg* methods) {
  luaL_newmetatable(L, tname);
  // Error messages name the type as a user knows it ("got tcp server").
  lua_pushstring(L, type_word(tname));
  lua_setfield(L, -2, "__name");
  luaL_setfuncs(L, meta, 0);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

}  // namespace

void open_socket_lib(lua_State* L, const Scope* scope, bool numeric_hosts_only) {
  lua_pushlightuserdata(L, const_cast<Scope*>(scope));
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kScopeKey);
  lua_pushboolean(L, numeric_hosts_only);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kNumericKey);
  create_meta(L, kConn, kConnMeta, kConnMethods);
  create_meta(L, kServer, kServerMeta, kServerMethods);
  create_meta(L, kUdp, kUdpMeta, kUdpMethods);
  luaL_newlib(L, kTcpLib);
  lua_setfield(L, -2, "tcp");
  luaL_newlib(L, kUdpLib);
  lua_setfield(L, -2, "udp");
}

}  // namespace pkt
