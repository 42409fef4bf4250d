// Runs a script's statements top to bottom: declarations go to the
// Session; show, hexdump and write print or save packets; send and lua
// blocks drive sockets and the embedded Lua state.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "session.hpp"

namespace pkt {

struct RunOptions {
  bool color = false;  // ANSI colour on stdout (a terminal without NO_COLOR)
};

class Runner {
 public:
  Runner(Session& session, RunOptions opts);
  ~Runner();

  void run(const ast::Script& script);
  void exec(const ast::Stmt& st);

  Session& session() { return session_; }
  const RunOptions& options() const { return opts_; }

  // Statements this runner does not handle yet (send, lua) go here; the
  // default raises a clear "not yet" error.
  std::function<void(const ast::Stmt&)> on_send, on_lua;

 private:
  std::vector<std::shared_ptr<PacketSet>> targets(const ast::Stmt& st);
  Session& session_;
  RunOptions opts_;
};

}  // namespace pkt
