// --sandbox: what a script you did not write may reach from Lua. The
// libraries it may not use become tables whose every field raises an error
// naming what is refused and why; loaders take source text only and open
// files only inside the script's directory (docs/security.md).
#include "lua_sandbox.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

#include "confine.hpp"
#include "lua_packet.hpp"

namespace pkt::lua {

namespace {

const char* kTail = "not available in --sandbox";

// __index of a refused library: upvalue 1 its name, upvalue 2 the reason.
int refused_field(lua_State* L) {
  const char* lib = lua_tostring(L, lua_upvalueindex(1));
  const char* why = lua_tostring(L, lua_upvalueindex(2));
  std::string key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : luaL_tolstring(L, 2, nullptr);
  raise(L, fmt::format("{}.{} is {}: {}", lib, key, kTail, why));
}

// A table that refuses every field it lacks, named `lib`.
void push_refusing(lua_State* L, const char* lib, const char* why) {
  lua_newtable(L);
  lua_newtable(L);  // its metatable
  lua_pushstring(L, lib);
  lua_pushstring(L, why);
  lua_pushcclosure(L, refused_field, 2);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, "refused by --sandbox");
  lua_setfield(L, -2, "__metatable");  // getmetatable cannot reach the closure's table
  lua_setmetatable(L, -2);
}

// A function that refuses to run: upvalue 1 its name, upvalue 2 the reason.
int refused_call(lua_State* L) {
  raise(L, fmt::format("{} is {}: {}", lua_tostring(L, lua_upvalueindex(1)), kTail,
                       lua_tostring(L, lua_upvalueindex(2))));
}

void push_refused_function(lua_State* L, const char* name, const char* why) {
  lua_pushstring(L, name);
  lua_pushstring(L, why);
  lua_pushcclosure(L, refused_call, 2);
}

// Sets global `name` and package.loaded[name] to the value on top (popped).
void set_library(lua_State* L, const char* name) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, name);
  lua_pop(L, 2);
  lua_setglobal(L, name);
}

// Fills the sandbox's io (argument 2) from the real one (argument 1):
// write, and stdout and stderr as stand-ins with write, flush and setvbuf.
const char* kOutputOnly = R"lua(
local real, io = ...
local function stand_in(f)
  local s = {}
  function s:write(...) f:write(...) return self end
  function s:flush() return f:flush() and self end
  function s:setvbuf(mode, size) return f:setvbuf(mode, size) end
  return s
end
rawset(io, "stdout", stand_in(real.stdout))
rawset(io, "stderr", stand_in(real.stderr))
local stdout = io.stdout
rawset(io, "write", function(...) real.write(...) return stdout end)
)lua";

const char* kBytecode = "bytecode can break out of the Lua VM; give Lua source text";

// load(chunk [, chunkname [, mode [, env]]]) with mode "t". Upvalue 1: the
// original load.
int sandbox_load(lua_State* L) {
  int n = lua_gettop(L);
  if (lua_type(L, 1) == LUA_TSTRING) {
    std::size_t len = 0;
    const char* s = lua_tolstring(L, 1, &len);
    if (len > 0 && s[0] == LUA_SIGNATURE[0])
      raise(L, fmt::format("load of a binary chunk is {}: {}", kTail, kBytecode));
  }
  if (n < 3) lua_settop(L, n = 3);
  lua_pushliteral(L, "t");
  lua_replace(L, 3);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

// The file name a loader was given; standard input is refused.
std::string loader_path(lua_State* L, const char* fn) {
  if (lua_isnoneornil(L, 1))
    raise(L, fmt::format("{}() without a file name reads standard input, which is {}", fn, kTail));
  std::string path = luaL_checkstring(L, 1);
  try {
    check_path(L, path, fmt::format("{}(\"{}\")", fn, path));
  } catch (const std::exception& e) {
    raise(L, e.what());
  }
  return path;
}

// loadfile(path [, mode [, env]]): source text inside the script's directory.
int sandbox_loadfile(lua_State* L) {
  std::string path = loader_path(L, "loadfile");
  bool env = !lua_isnone(L, 3);
  if (luaL_loadfilex(L, path.c_str(), "t") != LUA_OK) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;  // nil, message
  }
  if (env) {
    lua_pushvalue(L, 3);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  }
  return 1;
}

// dofile(path): as loadfile, then runs it.
int sandbox_dofile(lua_State* L) {
  std::string path = loader_path(L, "dofile");
  lua_settop(L, 1);
  if (luaL_loadfilex(L, path.c_str(), "t") != LUA_OK) return lua_error(L);
  lua_call(L, 0, LUA_MULTRET);
  return lua_gettop(L) - 1;
}

// package.searchers[2] for --sandbox: a Lua module from package.path, as
// source text, inside the script's directory. Upvalue 1: package.searchpath.
int sandbox_searcher_lua(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushstring(L, name);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_remove(L, -2);
  if (lua_type(L, -1) != LUA_TSTRING) raise(L, "package.path must be a string");
  lua_call(L, 2, 2);
  if (lua_isnil(L, -2)) return 1;  // the message: "no file '...'"
  lua_pop(L, 1);
  std::string file = lua_tostring(L, -1);
  try {
    check_path(L, file, fmt::format("require(\"{}\") from {}", name, file));
  } catch (const std::exception& e) {
    raise(L, e.what());
  }
  if (luaL_loadfilex(L, file.c_str(), "t") != LUA_OK)
    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, file.c_str(), lua_tostring(L, -1));
  lua_pushstring(L, file.c_str());
  return 2;
}

// package.searchers[3]: no C module is ever loaded; says why.
int sandbox_searcher_c(lua_State* L) {
  lua_pushfstring(L, "no C module: C modules (package.cpath, package.loadlib) are %s: they run outside the Lua VM",
                  kTail);
  return 1;
}

void sandbox_package(lua_State* L, const std::string& root) {
  lua_getglobal(L, "package");
  int pkg = lua_gettop(L);
  lua_pushstring(L, (root + "/?.lua;" + root + "/?/init.lua").c_str());
  lua_setfield(L, pkg, "path");
  lua_pushliteral(L, "");
  lua_setfield(L, pkg, "cpath");
  push_refused_function(L, "package.loadlib", "C modules run outside the Lua VM");
  lua_setfield(L, pkg, "loadlib");
  // searchers: preload, Lua source in the script's directory, the refusal.
  lua_getfield(L, pkg, "searchers");
  int searchers = lua_gettop(L);
  lua_getfield(L, pkg, "searchpath");
  lua_pushcclosure(L, sandbox_searcher_lua, 1);
  lua_rawseti(L, searchers, 2);
  lua_pushcfunction(L, sandbox_searcher_c);
  lua_rawseti(L, searchers, 3);
  for (lua_Integer i = luaL_len(L, searchers); i > 3; --i) {
    lua_pushnil(L);
    lua_rawseti(L, searchers, i);
  }
  // The searcher keeps the original; scripts cannot probe for files elsewhere.
  push_refused_function(L, "package.searchpath", "it tests files outside the script's directory; require finds modules");
  lua_setfield(L, pkg, "searchpath");
  lua_settop(L, pkg - 1);
}

}  // namespace

void open_sandbox(lua_State* L) {
  const std::string& root = context(L).limits.root;

  // io: only writing to stdout and stderr, through stand-ins (no file handle
  // is ever given out).
  push_refusing(L, "io", "a script run with --sandbox opens no files (it may write to io.stdout and io.stderr; "
                         "file(\"...\") reads payloads from the script's directory)");
  if (luaL_loadstring(L, kOutputOnly) != LUA_OK) lua_error(L);
  lua_getglobal(L, "io");
  lua_pushvalue(L, -3);
  lua_call(L, 2, 0);
  set_library(L, "io");

  // os: only time, clock and date.
  lua_newtable(L);
  lua_getglobal(L, "os");
  for (const char* f : {"time", "clock", "date", "difftime"}) {
    lua_getfield(L, -1, f);
    lua_setfield(L, -3, f);
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushliteral(L, "os");
  lua_pushliteral(L, "only os.time, os.clock, os.date and os.difftime are");
  lua_pushcclosure(L, refused_field, 2);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "refused by --sandbox");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  set_library(L, "os");

  push_refusing(L, "debug", "the debug library reaches past the sandbox and its limits (hooks, locals, "
                            "upvalues, the registry)");
  set_library(L, "debug");

  // Loaders: source text only, files only in the script's directory.
  lua_getglobal(L, "load");
  lua_pushcclosure(L, sandbox_load, 1);
  lua_setglobal(L, "load");
  lua_pushcfunction(L, sandbox_loadfile);
  lua_setglobal(L, "loadfile");
  lua_pushcfunction(L, sandbox_dofile);
  lua_setglobal(L, "dofile");
  lua_getglobal(L, "string");
  push_refused_function(L, "string.dump", kBytecode);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);

  sandbox_package(L, root);
}

void check_path(lua_State* L, const std::string& path, const std::string& what) {
  const LuaLimits& lim = context(L).limits;
  if (!lim.sandbox) return;
  std::string why = confine_path(lim.root, path);
  if (!why.empty()) throw std::runtime_error(fmt::format("{} refused: {} (--sandbox opens files only there)", what, why));
}

void check_host(const std::string& host, const char* what) {
  if (host.empty() || host == "localhost") return;
  unsigned char buf[16];
  std::string h = host.substr(0, host.find('%'));
  if (inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1) return;
  throw std::runtime_error(fmt::format("{} to '{}' refused: --sandbox resolves no host names (the lookup itself is "
                                       "a query sent outside --scope); give a numeric address",
                                       what, host));
}

}  // namespace pkt::lua
