// Runs a script's statements top to bottom: declarations go to the
// Session; show, hexdump and write print or save packets; send goes through
// the run's one Sender; lua blocks run in the run's one Lua state, where the
// names declared above them are globals.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lua_engine.hpp"
#include "net/send.hpp"
#include "sniffer.hpp"
#include "session.hpp"

namespace pkt {

struct RunOptions {
  bool color = false;  // ANSI colour on stdout (a terminal without NO_COLOR)
  SendConfig send;     // --dry-run, --pcap, --scope (PKT_SCOPE)
  LuaLimits lua;       // --lua-memory, --lua-timeout, --sandbox
  // --format json: show, hexdump, sniff and sr print one JSON object per
  // packet (or probe) on standard output, the schema of docs/reading.md.
  bool json = false;
};

class Runner {
 public:
  Runner(Session& session, RunOptions opts);
  ~Runner();

  // Throw ScriptError, LuaError (a Lua error with its traceback) or
  // Interrupted (Ctrl-C stopped a send, a sleep or a Lua loop).
  void run(const ast::Script& script);
  void exec(const ast::Stmt& st);
  // `pkt run file.lua`: a plain Lua script with the same API. `globals`
  // (from -D name=value) are converted as params are.
  void run_lua_file(const std::string& path, const std::vector<std::pair<std::string, std::string>>& globals = {});

  Session& session() { return session_; }
  const RunOptions& options() const { return opts_; }
  Sender& sender();   // created on first use
  LuaEngine& lua();   // created on first use
  std::uint64_t sent() const;  // packets sent (or written, with dry_run) so far
  // Each send statement prints its final line ("sent N packets in T (...)");
  // these count them, so that a total printed at the end of a run (or of a
  // REPL input) is left out when one such line already said it all.
  std::uint64_t reported() const { return reported_; }
  unsigned reports() const { return reports_; }
  // Whether "sent N packets" for what was sent since these snapshots adds
  // anything to the final lines printed since.
  bool total_adds(std::uint64_t sent_before = 0, std::uint64_t reported_before = 0, unsigned reports_before = 0) const;

 private:
  std::vector<std::shared_ptr<PacketSet>> targets(const ast::Stmt& st);
  const ast::Expr& deref(const ast::Expr& e) const;
  void send(const ast::Stmt& st);
  void sr(const ast::Stmt& st);
  std::uint64_t number_option(const ast::ExprPtr& e, const char* what) const;
  std::uint64_t time_option(const ast::ExprPtr& e, const char* keyword) const;
  Rate rate_option(const ast::ExprPtr& e) const;
  void report(const SendStats& s);
  // sniff statement and sniff(...) expression (a packet set of what arrived).
  SniffOptions sniff_options(const std::string& iface, const ast::ExprPtr& filter, const ast::ExprPtr& count,
                             const ast::ExprPtr& timeout) const;
  void sniff(const ast::Stmt& st);
  void print_packets(const ast::Stmt& st, bool hexdump);  // show, a bare expression, hexdump
  PacketSet sniff_call(const ast::Expr& call);
  Session& session_;
  RunOptions opts_;
  std::unique_ptr<Sender> sender_;
  std::uint64_t reported_ = 0;
  unsigned reports_ = 0;
  std::unique_ptr<LuaEngine> lua_;  // declared after sender_: closed first
};

}  // namespace pkt
