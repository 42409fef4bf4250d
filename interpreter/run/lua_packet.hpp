// Packets in Lua: a packet userdata holds a std::shared_ptr<PacketSet> (a
// DSL packet's is the session's own set, so Lua writes are what a later
// `send p` sends); `p.udp` is a layer proxy holding the same shared_ptr and
// the layer's index, so no handle ever dangles. Layer constructors
// (`ipv4{dst = "127.0.0.1"}`) build one-layer packets; `/` stacks them.
//
// Internal API shared by lua_engine.cpp, lua_packet.cpp and lua_lib.cpp.
#pragma once

#include <lua.hpp>

#include <exception>
#include <memory>
#include <string>

#include "diagnostic.hpp"
#include "lua_engine.hpp"
#include "packet_set.hpp"

namespace pkt::lua {

// The run's context, stored in the state's extra space.
LuaContext& context(lua_State* L);

// Raises a Lua error "where: message" (where = the calling Lua line).
[[noreturn]] void raise(lua_State* L, const std::string& message);

// The text a C++ exception becomes in Lua: a ScriptError that points into a
// source (DSL text compiled from Lua) is formatted with its caret.
std::string error_text(const ScriptError& e);

// Wraps every C function of the API: our C++ exceptions never cross a Lua
// frame; they are re-raised as Lua errors prefixed with the script line.
// (Lua's own errors are C++ exceptions of another type and pass through.)
template <int (*F)(lua_State*)>
int guarded(lua_State* L) {
  std::string message;
  try {
    return F(L);
  } catch (const ScriptError& e) {
    message = error_text(e);
  } catch (const std::exception& e) {
    message = e.what();
  }
  raise(L, message);
}

// Packet userdata.
void open_packet_lib(lua_State* L);  // creates the metatables
void push_packet(lua_State* L, std::shared_ptr<PacketSet> set);
std::shared_ptr<PacketSet>* test_packet(lua_State* L, int idx);  // null if not a packet
const std::shared_ptr<PacketSet>& check_packet(lua_State* L, int idx);

// pkt.default and pkt.auto: unique values that, assigned to a field, reset
// it to its default (or bound value) or hand it to its auto rule.
enum class Reset { None, Default, Auto };
Reset test_reset(lua_State* L, int idx);  // None for any other value
void push_reset(lua_State* L, Reset r);   // Default or Auto

// Pushes a layer constructor for `name` (a C closure). With `method` the
// first argument (the table it is called on, as __call) is skipped.
void push_layer_constructor(lua_State* L, const std::string& name, bool method);

// Pushes a param/let value expression as a Lua value (integer, number of
// seconds for a duration, string, address text, table for a list, packet for
// a packet expression). Returns false (pushing nothing) when it has none.
bool push_expr_value(lua_State* L, Session& s, const ast::Expr& e, int depth = 0);

// The pkt module table (hex, base64, sleep, send, packet, tcp, udp, layers,
// constructors): creates it, sets package.preload["pkt"] and the globals.
void open_pkt_lib(lua_State* L);
// Adds constructors (to pkt, pkt.layers and the globals) for layers the
// registry gained since the last call.
void register_layers(lua_State* L);

}  // namespace pkt::lua
