// --sandbox for Lua (lua_sandbox.cpp): the state loses io beyond writing to
// stdout and stderr, os beyond time/clock/date, debug, C modules, bytecode
// and string.dump; loadfile, dofile, require and pcap.read open files only
// inside the script's directory. --lua-timeout's budget as the bindings see
// it (lua_engine.cpp).
#pragma once

#include <cstdint>
#include <string>

struct lua_State;

namespace pkt::lua {

// Applies --sandbox to a state with the standard libraries open.
void open_sandbox(lua_State* L);

// Under --sandbox, throws std::runtime_error "WHAT refused: why" when `path`
// (as it will be opened) leads outside the script's directory; else nothing.
void check_path(lua_State* L, const std::string& path, const std::string& what);

// Throws std::runtime_error unless `host` is a numeric address or localhost:
// under --sandbox, resolving a name is itself a query sent outside the scope.
// The socket library calls it when opened for --sandbox (open_socket_lib).
void check_host(const std::string& host, const char* what);

// --lua-timeout: the wall-clock time Lua may still run (UINT64_MAX without a
// timeout), and the error raised when it has run out.
std::uint64_t time_left_ns(lua_State* L);
[[noreturn]] void time_up(lua_State* L);

}  // namespace pkt::lua
