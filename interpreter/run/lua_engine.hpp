// The embedded Lua state of a run: one per run, shared by every `lua { }`
// block of a script (and by `pkt run file.lua`). Creates the state with the
// standard libraries and the pkt API (lua_lib.cpp, lua_packet.cpp,
// lua_socket.cpp), runs chunks under a traceback message handler (as lua.c's
// docall/msghandler), and polls the Ctrl-C flag from a count hook.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "net/send.hpp"
#include "session.hpp"

struct lua_State;

namespace pkt {

class Scope;
struct SendOptions;

// A Lua error that ended a chunk: "script:line: message" and, for runtime
// errors, "\nstack traceback:\n..." (syntax errors carry no traceback).
struct LuaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Ctrl-C stopped a send, a sleep or a Lua loop: pkt::Interrupted (net/send.hpp).

// --lua-memory, --lua-timeout and --sandbox (docs/security.md).
struct LuaLimits {
  std::size_t memory = 0;         // bytes the Lua heap may hold; 0 = no cap
  std::uint64_t timeout_ns = 0;   // wall-clock time spent running Lua; 0 = none
  std::string memory_text;        // as given ("64M"), for the messages
  std::string timeout_text;       // as given ("30s")
  bool sandbox = false;           // no io, os, debug, C modules or bytecode
  std::string root;               // --sandbox: the real directory files must stay in

  // "64M", "1G", "512k", "1048576": k, M and G are powers of 1024.
  // Throws std::invalid_argument naming the text.
  static std::size_t parse_memory(const std::string& text);
};

// The state of the limits while a run goes on (lua_engine.cpp).
struct LuaBudget;

// What the Lua bindings reach through the state (stored in its extra space).
struct LuaContext {
  Session* session = nullptr;
  // Sends a set through the run's one Sender; returns what the send did.
  // Throws SendError.
  std::function<SendStats(const PacketSet&, const SendOptions&)> send;  // what the send did
  // Sends and matches replies (sr, sr1). Throws SendError, CaptureError.
  std::function<struct SrResult(const std::vector<std::shared_ptr<PacketSet>>&, const struct SrOptions&)> sr;
  const Scope* scope = nullptr;  // for tcp/udp sockets; null = unrestricted
  bool color = false;            // p:show() colours its output
  LuaLimits limits;              // --lua-memory, --lua-timeout, --sandbox
  LuaBudget* budget = nullptr;   // set by LuaEngine
};

class LuaEngine {
 public:
  explicit LuaEngine(LuaContext ctx);
  ~LuaEngine();
  LuaEngine(const LuaEngine&) = delete;
  LuaEngine& operator=(const LuaEngine&) = delete;

  lua_State* state() { return L_; }

  // Makes the session's params, lets and packets declared (or redefined)
  // since the last call Lua globals, and layers defined since then
  // constructors. run_block and run_file call it first.
  void refresh();

  // Runs a `lua { }` block: chunkname "@<script path>", the code shifted so
  // Lua's line numbers are the script's. Throws LuaError or Interrupted.
  void run_block(const ast::Stmt& st);
  // Runs Lua source text under `chunkname` ("@path" or "=name").
  void run_string(const std::string& code, const std::string& chunkname);
  // Runs a Lua file (pkt run file.lua).
  void run_file(const std::string& path);
  // Sets a global from a value expression, converted as params are
  // (integers, strings, address text, packets). Unconvertible: the text.
  void set_global(const std::string& name, const ast::Expr& e);
  void set_global_text(const std::string& name, const std::string& text);

 private:
  void docall(int nargs);
  // A limit stopped the chunk: the error that names it, or "" if none did.
  std::string limit_error() const;
  void stop_watchdog();
  std::unique_ptr<LuaBudget> budget_;  // before ctx_ and L_: the allocator's state outlives the state
  LuaContext ctx_;
  lua_State* L_ = nullptr;
  // Names already made globals, with what they were (a packet set or an
  // expression, kept alive so its address is not reused): a name the REPL
  // redefines is exported again.
  std::map<std::string, std::shared_ptr<const void>> exported_;
};

}  // namespace pkt
