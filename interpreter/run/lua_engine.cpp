#include "lua_engine.hpp"

#include <fmt/format.h>

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>

#include "lua_packet.hpp"
#include "lua_sandbox.hpp"
#include "net/send.hpp"
#include "parse.hpp"

namespace pkt {

// --lua-memory and --lua-timeout as a run goes on. The allocator counts every
// byte of the Lua heap; the count hook measures the time spent in Lua, and a
// watchdog thread stops what the hook cannot reach (lua_engine.hpp).
struct LuaBudget {
  // Memory (the allocator's user data).
  std::size_t cap = 0, used = 0;
  bool refused = false;        // the allocator refused growth over the cap
  std::string refused_where;   // "x.pkt:12" of the last refusal
  lua_State* main = nullptr;   // for that position; null while the state is made
  // Time. The watchdog reads running_since and used_ns from its thread.
  std::uint64_t timeout_ns = 0;
  std::atomic<std::uint64_t> used_ns{0}, running_since{0};  // 0: no Lua running
  int depth = 0;               // nested docall
  unsigned ticks = 0;
  bool expired = false;        // the time is up and a Lua error says so
  std::string expired_where;
  std::atomic<bool> nudged{false};  // the watchdog raised SIGINT to end a send, sleep or capture
  std::string memory_text, timeout_text;

  static std::uint64_t now() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(t.tv_nsec);
  }
  std::uint64_t elapsed() const {
    std::uint64_t since = running_since.load();
    return used_ns.load() + (since ? now() - since : 0);
  }
  bool over() const { return timeout_ns && elapsed() > timeout_ns; }
  void enter() {
    if (depth++ == 0) running_since = now();
  }
  void leave() {
    if (--depth) return;
    std::uint64_t since = running_since.exchange(0);
    used_ns += now() - since;
  }

  // The watchdog: once Lua has run past the limit, SIGINT ends a send, sleep
  // or capture it is waiting in (as Ctrl-C does; the hook then reports the
  // time limit); if Lua still runs 2 s later (a __gc finalizer, where hooks
  // are off, or a long C call such as a string.find), the process ends.
  std::thread watchdog;
  std::mutex m;
  std::condition_variable cv;
  bool stop = false;
  std::string forced_message;

  void watch() {
    constexpr std::uint64_t kNudgeNs = 100'000'000, kForceNs = 2'000'000'000;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, nullptr);  // the SIGINT is for the thread running Lua
    std::unique_lock<std::mutex> lock(m);
    while (!cv.wait_for(lock, std::chrono::milliseconds(50), [this] { return stop; })) {
      if (!running_since.load()) continue;
      std::uint64_t e = elapsed();
      if (e > timeout_ns + kForceNs) {
        ssize_t ignored = ::write(2, forced_message.data(), forced_message.size());
        (void)ignored;
        std::_Exit(1);
      }
      if (e > timeout_ns + kNudgeNs && !nudged) {
        struct sigaction sa {};
        sigaction(SIGINT, nullptr, &sa);  // only where pkt handles SIGINT (pkt run): never kill by it
        if (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN) {
          nudged = true;
          ::kill(::getpid(), SIGINT);
        }
      }
    }
  }
};

std::size_t LuaLimits::parse_memory(const std::string& text) {
  std::size_t used = 0;
  unsigned long long v = 0;
  bool digits = !text.empty() && std::isdigit(static_cast<unsigned char>(text[0]));
  if (digits) {
    try {
      v = std::stoull(text, &used);
    } catch (const std::exception&) {
      digits = false;
    }
  }
  const std::string unit = digits ? text.substr(used) : "";
  unsigned shift = 99;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "k" || unit == "K" || unit == "KiB") shift = 10;
  else if (unit == "M" || unit == "MiB") shift = 20;
  else if (unit == "G" || unit == "GiB") shift = 30;
  if (!digits || shift == 99 || v > (std::numeric_limits<std::size_t>::max() >> shift))
    throw std::invalid_argument("'" + text + "' is not a size (e.g. 64M, 1G, 512k: powers of 1024)");
  return static_cast<std::size_t>(v) << shift;
}

namespace lua {

LuaContext& context(lua_State* L) { return **static_cast<LuaContext**>(lua_getextraspace(L)); }

void note_time_up(lua_State* L);

void raise(lua_State* L, const std::string& message) {
  note_time_up(L);  // a send or sleep that the watchdog's SIGINT ended: the time limit is the reason
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

// "x.pkt:12", the innermost Lua line running (C functions skipped), or "".
// Reads the call stack only: safe inside the allocator.
std::string lua_where(lua_State* L) {
  lua_Debug ar;
  for (int level = 0; L && lua_getstack(L, level, &ar); ++level) {
    if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) return fmt::format("{}:{}", ar.short_src, ar.currentline);
  }
  return "";
}

// The Lua heap under --lua-memory: growth over the cap is refused, and Lua
// raises "not enough memory" (after an emergency collection).
void* budget_alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* b = static_cast<LuaBudget*>(ud);
  const std::size_t old = ptr ? osize : 0;  // without ptr, osize is a type tag
  if (nsize == 0) {
    std::free(ptr);
    b->used -= old;
    return nullptr;
  }
  if (b->cap && nsize > old && b->used - old + nsize > b->cap) {
    b->refused = true;
    b->refused_where = lua_where(b->main);
    return nullptr;
  }
  void* p = std::realloc(ptr, nsize);
  if (p) b->used = b->used - old + nsize;
  return p;
}

int panic(lua_State* L) {
  const char* msg = lua_tostring(L, -1);
  fmt::print(stderr, "pkt: Lua panic: {}\n", msg ? msg : "(not a string)");
  std::fflush(stderr);
  return 0;  // then abort()
}

// lauxlib's warning function: off until "@on", each message to stderr.
void warn_on(void* ud, const char* msg, int tocont);
void warn_off(void* ud, const char* msg, int tocont) {
  auto* L = static_cast<lua_State*>(ud);
  if (!tocont && msg[0] == '@' && std::strcmp(msg, "@on") == 0) lua_setwarnf(L, warn_on, L);
}
void warn_cont(void* ud, const char* msg, int tocont);
void warn_on(void* ud, const char* msg, int tocont) {
  auto* L = static_cast<lua_State*>(ud);
  if (!tocont && msg[0] == '@') {
    if (std::strcmp(msg, "@off") == 0) lua_setwarnf(L, warn_off, L);
    return;
  }
  std::fputs("Lua warning: ", stderr);
  warn_cont(ud, msg, tocont);
}
void warn_cont(void* ud, const char* msg, int tocont) {
  auto* L = static_cast<lua_State*>(ud);
  std::fputs(msg, stderr);
  if (tocont) {
    lua_setwarnf(L, warn_cont, L);
  } else {
    std::fputs("\n", stderr);
    lua_setwarnf(L, warn_on, L);
  }
}

// Every 1000 instructions: stop a loop on Ctrl-C (lua.c's lstop, polled),
// and every 10000 check --lua-timeout. Once the time is up the hook fires
// at every instruction and raises again, so a pcall cannot catch it for good.
// (The watchdog's SIGINT past the limit is the time limit, not Ctrl-C.)
void count_hook(lua_State* L, lua_Debug*) {
  LuaBudget& b = *lua::context(L).budget;
  if (b.timeout_ns && (b.expired || ((interrupted() || ++b.ticks % 10 == 0) && b.over()))) lua::time_up(L);
  if (interrupted()) luaL_error(L, "interrupted");
}

int setup(lua_State* L) {
  luaL_openlibs(L);
  lua::open_pkt_lib(L);
  if (lua::context(L).limits.sandbox) lua::open_sandbox(L);
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

LuaEngine::LuaEngine(LuaContext ctx) : budget_(std::make_unique<LuaBudget>()), ctx_(std::move(ctx)) {
  LuaBudget& b = *budget_;
  b.cap = ctx_.limits.memory;
  b.memory_text = ctx_.limits.memory_text;
  b.timeout_ns = ctx_.limits.timeout_ns;
  b.timeout_text = ctx_.limits.timeout_text;
  ctx_.budget = &b;
  L_ = lua_newstate(budget_alloc, &b);
  if (!L_)
    throw std::runtime_error(b.cap ? fmt::format("cannot create the Lua state within --lua-memory {}", b.memory_text)
                                   : std::string("cannot create the Lua state: out of memory"));
  b.main = L_;
  if (b.timeout_ns) {
    b.forced_message = fmt::format(
        "pkt: Lua time limit reached: the script ran Lua for more than {} (--lua-timeout {}) in a call that no hook "
        "reaches (a __gc finalizer or one long C function); stopped by force\n",
        b.timeout_text, b.timeout_text);
    b.watchdog = std::thread([&b] { b.watch(); });
  }
  lua_atpanic(L_, panic);
  lua_setwarnf(L_, warn_off, L_);
  *static_cast<LuaContext**>(lua_getextraspace(L_)) = &ctx_;
  lua_sethook(L_, count_hook, LUA_MASKCOUNT, 1000);
  lua_pushcfunction(L_, lua::guarded<setup>);
  try {
    docall(0);
  } catch (...) {
    lua_close(L_);
    L_ = nullptr;
    stop_watchdog();
    throw;
  }
}

LuaEngine::~LuaEngine() {
  if (L_) lua_close(L_);
  stop_watchdog();
}

void LuaEngine::stop_watchdog() {
  LuaBudget& b = *budget_;
  if (!b.watchdog.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(b.m);
    b.stop = true;
  }
  b.cv.notify_all();
  b.watchdog.join();
}

void LuaEngine::docall(int nargs) {
  LuaBudget& b = *budget_;
  int base = lua_gettop(L_) - nargs;  // the function's index
  lua_pushcfunction(L_, msghandler);
  lua_insert(L_, base);
  b.enter();
  int status = lua_pcall(L_, nargs, 0, base);
  b.leave();
  lua_remove(L_, base);
  if (b.nudged.exchange(false)) {
    clear_interrupt();  // the watchdog's SIGINT, not the user's
    if (b.over()) b.expired = true;
  }
  if (status == LUA_OK && !b.expired) return;
  std::string msg;
  if (status != LUA_OK) {
    if (const char* m = lua_tostring(L_, -1)) msg = m;
    else msg = "(error object is not a string)";
    lua_pop(L_, 1);
  }
  if (std::string limit = limit_error(); !limit.empty()) throw LuaError(limit);
  if (status == LUA_ERRMEM && b.cap && b.refused) {
    // A refused allocation that the script did not catch.
    throw LuaError(fmt::format("{}{}Lua memory limit reached: the Lua heap may hold {} (--lua-memory {})",
                               b.refused_where, b.refused_where.empty() ? "" : ": ", b.memory_text, b.memory_text));
  }
  if (interrupted()) throw Interrupted();
  throw LuaError(msg);
}

std::string LuaEngine::limit_error() const {
  const LuaBudget& b = *budget_;
  if (!b.expired) return "";
  return fmt::format("{}{}Lua time limit reached: the script ran Lua for more than {} (--lua-timeout {})",
                     b.expired_where, b.expired_where.empty() ? "" : ": ", b.timeout_text, b.timeout_text);
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
  // --sandbox runs source text only: bytecode can break out of the VM.
  int status = luaL_loadfilex(L_, path.c_str(), ctx_.limits.sandbox ? "t" : nullptr);
  if (status != LUA_OK) {
    std::string msg = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "cannot load " + path;
    lua_pop(L_, 1);
    if (ctx_.limits.sandbox && msg.find("binary chunk") != std::string::npos)
      msg = path + ": a binary chunk (Lua bytecode) is not run in --sandbox; give the Lua source";
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

namespace lua {

std::uint64_t time_left_ns(lua_State* L) {
  const LuaBudget& b = *context(L).budget;
  if (!b.timeout_ns) return std::numeric_limits<std::uint64_t>::max();
  std::uint64_t e = b.elapsed();
  return e >= b.timeout_ns ? 0 : b.timeout_ns - e;
}

void note_time_up(lua_State* L) {
  LuaBudget& b = *context(L).budget;
  if (!b.expired && b.over()) {
    b.expired = true;
    b.expired_where = lua_where(L);
  }
}

void time_up(lua_State* L) {
  LuaBudget& b = *context(L).budget;
  if (!b.expired) {
    b.expired = true;
    b.expired_where = lua_where(L);
  }
  lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
  luaL_error(L, "Lua time limit reached (--lua-timeout %s)", b.timeout_text.c_str());
  std::abort();  // luaL_error does not return
}

}  // namespace lua

}  // namespace pkt
