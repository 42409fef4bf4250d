#include "lua_engine.hpp"

#include <fmt/format.h>

#include <cstdlib>

#include "lua_packet.hpp"
#include "net/send.hpp"
#include "parse.hpp"

namespace pkt {

namespace lua {

LuaContext& context(lua_State* L) { return **static_cast<LuaContext**>(lua_getextraspace(L)); }

void raise(lua_State* L, const std::string& message) {
  luaL_where(L, 1);
  lua_pushlstring(L, message.data(), message.size());
  lua_concat(L, 2);
  lua_error(L);
  std::abort();  // lua_error does not return
}

std::string error_text(const ScriptError& e) {
  if (e.pos().src && e.pos().line) return format_error(e);
  return e.what();
}

}  // namespace lua

namespace {

// lua.c's msghandler: the message plus a traceback.
int msghandler(lua_State* L) {
  const char* msg = lua_tostring(L, 1);
  if (msg == nullptr) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

// Every 1000 instructions: stop a loop on Ctrl-C (lua.c's lstop, polled).
void count_hook(lua_State* L, lua_Debug*) {
  if (interrupted()) luaL_error(L, "interrupted");
}

int setup(lua_State* L) {
  luaL_openlibs(L);
  lua::open_pkt_lib(L);
  return 0;
}

struct RefreshArgs {
  Session* session;
  std::map<std::string, std::shared_ptr<const void>>* exported;
};

int refresh_globals(lua_State* L) {
  auto* a = static_cast<RefreshArgs*>(lua_touserdata(L, 1));
  Session& s = *a->session;
  for (const std::string& name : s.order()) {
    const NameEntry* e = s.lookup(name);
    if (!e) continue;
    std::shared_ptr<const void> what = e->kind == NameEntry::Kind::Packet ? std::shared_ptr<const void>(e->packet)
                                                                          : std::shared_ptr<const void>(e->expr);
    auto it = a->exported->find(name);
    if (it != a->exported->end() && it->second == what) continue;
    (*a->exported)[name] = what;
    bool pushed = false;
    if (e->kind == NameEntry::Kind::Packet && e->packet) {
      lua::push_packet(L, e->packet);
      pushed = true;
    } else if (e->expr) {
      pushed = lua::push_expr_value(L, s, *e->expr);
    }
    if (pushed) lua_setglobal(L, name.c_str());
  }
  lua::register_layers(L);
  return 0;
}

struct GlobalArgs {
  Session* session;
  const std::string* name;
  const ast::Expr* expr;
  const std::string* text;
};

int set_global_cb(lua_State* L) {
  auto* a = static_cast<GlobalArgs*>(lua_touserdata(L, 1));
  if (!a->expr || !lua::push_expr_value(L, *a->session, *a->expr)) lua_pushlstring(L, a->text->data(), a->text->size());
  lua_setglobal(L, a->name->c_str());
  return 0;
}

}  // namespace

LuaEngine::LuaEngine(LuaContext ctx) : ctx_(std::move(ctx)) {
  L_ = luaL_newstate();
  if (!L_) throw std::runtime_error("cannot create the Lua state: out of memory");
  *static_cast<LuaContext**>(lua_getextraspace(L_)) = &ctx_;
  lua_sethook(L_, count_hook, LUA_MASKCOUNT, 1000);
  lua_pushcfunction(L_, lua::guarded<setup>);
  try {
    docall(0);
  } catch (...) {
    lua_close(L_);
    throw;
  }
}

LuaEngine::~LuaEngine() {
  if (L_) lua_close(L_);
}

void LuaEngine::docall(int nargs) {
  int base = lua_gettop(L_) - nargs;  // the function's index
  lua_pushcfunction(L_, msghandler);
  lua_insert(L_, base);
  int status = lua_pcall(L_, nargs, 0, base);
  lua_remove(L_, base);
  if (status == LUA_OK) return;
  std::string msg;
  if (const char* m = lua_tostring(L_, -1)) msg = m;
  else msg = "(error object is not a string)";
  lua_pop(L_, 1);
  if (interrupted()) throw Interrupted();
  throw LuaError(msg);
}

void LuaEngine::refresh() {
  RefreshArgs args{ctx_.session, &exported_};
  lua_pushcfunction(L_, lua::guarded<refresh_globals>);
  lua_pushlightuserdata(L_, &args);
  docall(1);
}

void LuaEngine::run_string(const std::string& code, const std::string& chunkname) {
  int status = luaL_loadbuffer(L_, code.data(), code.size(), chunkname.c_str());
  if (status != LUA_OK) {
    std::string msg = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "cannot load the chunk";
    lua_pop(L_, 1);
    throw LuaError(msg);
  }
  docall(0);
}

void LuaEngine::run_block(const ast::Stmt& st) {
  refresh();
  const Pos& p = st.code_pos;
  std::string code;
  // Pad so that Lua's line numbers are the script's lines.
  if (p.line > 1) code.assign(p.line - 1, '\n');
  if (p.col > 1) code.append(p.col - 1, ' ');
  code += st.code;
  run_string(code, "@" + (p.src ? p.src->name : std::string("lua")));
}

void LuaEngine::run_file(const std::string& path) {
  refresh();
  int status = luaL_loadfile(L_, path.c_str());
  if (status != LUA_OK) {
    std::string msg = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "cannot load " + path;
    lua_pop(L_, 1);
    throw LuaError(msg);
  }
  docall(0);
}

void LuaEngine::set_global(const std::string& name, const ast::Expr& e) {
  std::string none;
  GlobalArgs args{ctx_.session, &name, &e, &none};
  lua_pushcfunction(L_, lua::guarded<set_global_cb>);
  lua_pushlightuserdata(L_, &args);
  docall(1);
}

void LuaEngine::set_global_text(const std::string& name, const std::string& text) {
  ast::ExprPtr e;
  try {
    e = parse_expression(Source::make("-D " + name, text));
  } catch (const ScriptError&) {
    e = nullptr;  // not a value expression: the text itself
  }
  GlobalArgs args{ctx_.session, &name, e.get(), &text};
  lua_pushcfunction(L_, lua::guarded<set_global_cb>);
  lua_pushlightuserdata(L_, &args);
  docall(1);
}

}  // namespace pkt
