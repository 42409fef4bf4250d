#include "runner.hpp"

#include "lua_packet.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "confine.hpp"
#include "net/capture.hpp"
#include "net/prober.hpp"
#include "packet_io.hpp"
#include "printer.hpp"
#include "render.hpp"

namespace pkt {

Runner::Runner(Session& session, RunOptions opts) : session_(session), opts_(std::move(opts)) {
  session_.external.sniff = [this](const ast::Expr& call) { return sniff_call(call); };
}
Runner::~Runner() { session_.external = {}; }

Sender& Runner::sender() {
  if (!sender_) sender_ = std::make_unique<Sender>(opts_.send, session_.registry());
  return *sender_;
}

std::uint64_t Runner::sent() const { return sender_ ? sender_->total_sent() : 0; }

LuaEngine& Runner::lua() {
  if (!lua_) {
    LuaContext ctx;
    ctx.session = &session_;
    ctx.send = [this](const PacketSet& set, const SendOptions& o) {
      sender().send(set, o);
      return sender().last_stats();
    };
    ctx.sr = [this](const std::vector<std::shared_ptr<PacketSet>>& sets, const SrOptions& o) {
      return send_receive(sender(), session_.registry(), sets, o);
    };
    ctx.scope = &opts_.send.scope;
    ctx.color = opts_.color;
    ctx.limits = opts_.lua;
    lua_ = std::make_unique<LuaEngine>(std::move(ctx));
    // Lua globals are names in the DSL too (numbers, strings and packets).
    lua_State* L = lua_->state();
    // Raw reads of the globals table: no metamethod (which could raise) runs
    // outside a protected call.
    auto raw_global = [L](const std::string& name) {
      lua_pushglobaltable(L);
      lua_pushlstring(L, name.data(), name.size());
      lua_rawget(L, -2);
      lua_remove(L, -2);
    };
    session_.external.value = [L, raw_global](const std::string& name) -> ast::ExprPtr {
      raw_global(name);
      auto e = std::make_shared<ast::Expr>();
      bool ok = true;
      if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0) {
        e->kind = ast::Expr::Kind::Int;
        e->i = static_cast<std::uint64_t>(lua_tointeger(L, -1));
      } else if (lua_type(L, -1) == LUA_TSTRING) {
        e->kind = ast::Expr::Kind::String;
        std::size_t n = 0;
        const char* text = lua_tolstring(L, -1, &n);
        e->s.assign(text, n);  // bytes, NULs included
      } else {
        ok = false;
      }
      lua_pop(L, 1);
      if (!ok) return nullptr;
      std::string text = e->kind == ast::Expr::Kind::Int ? std::to_string(e->i) : e->s;
      e->pos = Pos{Source::make("lua global " + name, text), 0, 1, 1};
      return e;
    };
    session_.external.packet = [L, raw_global](const std::string& name) -> std::shared_ptr<PacketSet> {
      raw_global(name);
      std::shared_ptr<PacketSet> out;
      if (auto* p = lua::test_packet(L, -1)) out = *p;
      lua_pop(L, 1);
      return out;
    };
  }
  return *lua_;
}

void Runner::run_lua_file(const std::string& path, const std::vector<std::pair<std::string, std::string>>& globals) {
  LuaEngine& L = lua();
  for (auto& [name, text] : globals) L.set_global_text(name, text);
  L.run_file(path);
}

// Follows a param or let name to its value expression.
const ast::Expr& Runner::deref(const ast::Expr& e) const {
  const ast::Expr* x = &e;
  for (int depth = 0; x->kind == ast::Expr::Kind::Name && depth < 32; ++depth) {
    const NameEntry* n = session_.lookup(x->s);
    if (!n || !n->expr || n->kind == NameEntry::Kind::Packet) break;
    x = n->expr.get();
  }
  return *x;
}

std::uint64_t Runner::number_option(const ast::ExprPtr& e, const char* what) const {
  const ast::Expr& c = deref(*e);
  if (c.kind != ast::Expr::Kind::Int) throw ScriptError(e->pos, fmt::format("expected {}", what));
  return c.i;
}

std::uint64_t Runner::time_option(const ast::ExprPtr& e, const char* keyword) const {
  const ast::Expr& t = deref(*e);
  if (t.kind == ast::Expr::Kind::Duration || (t.kind == ast::Expr::Kind::Int && t.i == 0)) return t.i;
  throw ScriptError(e->pos, fmt::format("expected a time after '{}', with its unit (e.g. 10ms)", keyword));
}

// `rate 100kpps` (kept as written), or a name or string holding such text.
Rate Runner::rate_option(const ast::ExprPtr& e) const {
  const ast::Expr& r = deref(*e);
  if (r.kind != ast::Expr::Kind::String)
    throw ScriptError(e->pos, "expected a rate after 'rate', with its unit (e.g. 100kpps or 1Gbit)");
  Rate out;
  std::string why;
  if (!parse_rate(r.s, out, why))
    throw ScriptError(e->pos, e->kind == ast::Expr::Kind::Name ? fmt::format("{} is \"{}\": {}", e->s, r.s, why) : why);
  return out;
}

void Runner::send(const ast::Stmt& st) {
  SendOptions o;
  if (st.count) o.count = number_option(st.count, "a number of times after 'count'");
  if (st.interval) o.interval_ns = time_option(st.interval, "interval");
  if (st.threads) {
    const std::uint64_t n = number_option(st.threads, "a number of sender threads after 'threads' (e.g. threads 2)");
    if (n < 1 || n > Sender::kMaxThreads)
      throw ScriptError(st.threads->pos, fmt::format("threads {}: expected 1 to {} sender threads", n, Sender::kMaxThreads));
    o.threads = static_cast<unsigned>(n);
  }
  if (st.rate) {
    Rate r = rate_option(st.rate);
    o.rate_pps = r.pps;
    o.rate_bps = r.bps;
  }
  o.iface = st.iface;
  o.bypass = st.bypass;
  for (auto& ps : targets(st)) {
    try {
      sender().send(*ps, o);
    } catch (const SendError& e) {
      throw ScriptError(st.pos, e.what());
    } catch (const PcapWriteError& e) {  // --pcap: a full disk names the file
      throw ScriptError(st.pos, e.what());
    }
    report(sender().last_stats());
    if (interrupted()) throw Interrupted();
  }
}

// The send's final line on stderr, and the rate it missed if it did.
void Runner::report(const SendStats& s) {
  std::fflush(stdout);
  fmt::print(stderr, "{}\n", final_line(s));
  if (std::string miss = shortfall_line(s); !miss.empty()) fmt::print(stderr, "{}\n", miss);
  std::fflush(stderr);
  reported_ += s.packets;
  ++reports_;
}

bool Runner::total_adds(std::uint64_t sent_before, std::uint64_t reported_before, unsigned reports_before) const {
  const std::uint64_t n = sent() - sent_before;
  return n && !(reports_ - reports_before == 1 && reported_ - reported_before == n);
}

void Runner::sr(const ast::Stmt& st) {
  SrOptions o;
  if (st.timeout) o.timeout_ns = time_option(st.timeout, "timeout");
  if (st.retry) {
    std::uint64_t n = number_option(st.retry, "a number of rounds after 'retry'");
    if (n > 1000) throw ScriptError(st.retry->pos, fmt::format("retry {} is more than 1000 rounds", n));
    o.retry = static_cast<unsigned>(n);
  }
  if (st.interval) o.interval_ns = time_option(st.interval, "interval");
  o.iface = st.iface;
  SrResult r;
  try {
    r = send_receive(sender(), session_.registry(), targets(st), o);
  } catch (const SendError& e) {
    throw ScriptError(st.pos, e.what());
  } catch (const PcapWriteError& e) {
    throw ScriptError(st.pos, e.what());
  } catch (const CaptureError& e) {
    throw ScriptError(st.pos, e.what());
  }
  std::uint64_t n = 0;
  for (auto& p : r.probes)
    fmt::print("{}\n", opts_.json ? sr_json(p, ++n, session_.registry()) : sr_line(p));
  // With --format json standard output holds only the objects: the counts go to standard error.
  std::fflush(stdout);
  fmt::print(opts_.json ? stderr : stdout, "{} answered, {} unanswered{}\n", r.answered, r.probes.size() - r.answered,
             r.dry_run ? " (dry run: nothing was sent)" : "");
  if (r.dropped) fmt::print(stderr, "pkt: the kernel dropped {} captured packet{}\n", r.dropped, r.dropped == 1 ? "" : "s");
  std::fflush(stdout);
}

SniffOptions Runner::sniff_options(const std::string& iface, const ast::ExprPtr& filter, const ast::ExprPtr& count,
                                   const ast::ExprPtr& timeout) const {
  using K = ast::Expr::Kind;
  SniffOptions o;
  o.capture.iface = iface.empty() ? default_sniff_interface() : iface;
  if (filter) {
    const ast::Expr& f = deref(*filter);
    if (f.kind != K::String) throw ScriptError(filter->pos, "expected a \"BPF filter\" string after 'filter' (e.g. filter \"udp port 53\")");
    o.capture.filter = f.s;
  }
  if (count) {
    const ast::Expr& c = deref(*count);
    if (c.kind != K::Int) throw ScriptError(count->pos, "expected a number of packets after 'count'");
    o.count = c.i;
  }
  if (timeout) {
    const ast::Expr& t = deref(*timeout);
    if (t.kind == K::Duration || (t.kind == K::Int && t.i == 0)) o.timeout_ns = t.i;
    else throw ScriptError(timeout->pos, "expected a time after 'timeout', with its unit (e.g. 2s)");
  }
  return o;
}

// Ctrl-C ends a sniff (with no count and no timeout it is the only end) and
// the script goes on; a second Ctrl-C stops the script.
void Runner::sniff(const ast::Stmt& st) {
  SniffOptions o = sniff_options(st.iface, st.filter, st.count, st.timeout);
  o.capture.immediate = isatty(1);  // as pkt sniff: each packet at once only on a terminal
  std::fflush(stdout);
  SniffResult r;
  try {
    Sniffer sn(session_.registry(), o);
    Output out("");
    Printer pr(opts_.json ? "json" : "summary", session_.registry(), out);
    r = sn.run(
        [&](std::uint64_t n, const CapturedPacket& rec, Packet& p) {
          pr.packet(n, rec.sec, rec.nsec, rec.len, p);
          return true;
        },
        true, [&] { out.flush(); });
    out.flush();
  } catch (const ScriptError&) {
    throw;
  } catch (const std::runtime_error& e) {  // CaptureError, or no layer bound to the link type
    throw ScriptError(st.pos, e.what());
  }
  fmt::print(stderr, "{}", sniff_report(r));
  if (r.interrupted) clear_interrupt();
}

PacketSet Runner::sniff_call(const ast::Expr& call) {
  std::string iface;
  ast::ExprPtr filter, count, timeout;
  sniff_call_args(call, iface, filter, count, timeout);
  SniffOptions o = sniff_options(iface, filter, count, timeout);
  o.capture.immediate = false;  // kept, not acted upon one by one: blocks keep up with a flood
  std::vector<Packet> packets;
  SniffResult r;
  try {
    Sniffer sn(session_.registry(), o);
    r = sn.run([&](std::uint64_t, const CapturedPacket&, Packet& p) {
      packets.push_back(p);
      packets.back().resolve_wire_origins();
      packets.back().set_pos(call.pos);
      return true;
    });
  } catch (const ScriptError&) {
    throw;
  } catch (const std::runtime_error& e) {  // CaptureError, or no layer bound to the link type
    throw ScriptError(call.pos, e.what());
  }
  if (r.interrupted) clear_interrupt();
  if (r.stats.dropped) fmt::print(stderr, "sniff(): {}", sniff_report(r));
  if (packets.empty())
    throw ScriptError(call.pos, fmt::format("sniff() captured no packets on {}{}", o.capture.iface,
                                            o.capture.filter.empty() ? "" : fmt::format(" (filter \"{}\")", o.capture.filter)));
  PacketSet ps;
  ps.tmpl = packets.front();
  if (packets.size() > 1) ps.list = std::make_shared<const std::vector<Packet>>(std::move(packets));
  return ps;
}

std::vector<std::shared_ptr<PacketSet>> Runner::targets(const ast::Stmt& st) {
  std::vector<std::shared_ptr<PacketSet>> out;
  std::vector<ast::ExprPtr> exprs = st.targets;
  if (st.kind == ast::Stmt::Kind::Expr && st.value) exprs.push_back(st.value);  // a bare expression
  for (auto& t : exprs) {
    if (t->kind == ast::Expr::Kind::Name)
      if (auto* e = session_.lookup(t->s); e && e->packet) {
        out.push_back(e->packet);
        continue;
      }
    out.push_back(session_.packets(*t));
  }
  return out;
}

// As JSON, each packet is one object numbered from 1 across the statement,
// with the name it was declared under ("name") and, for hexdump, its bytes
// ("hex"), as `pkt build --format json` prints them.
void Runner::print_packets(const ast::Stmt& st, bool hexdump) {
  std::vector<ast::ExprPtr> exprs = st.targets;
  if (st.kind == ast::Stmt::Kind::Expr && st.value) exprs.push_back(st.value);
  std::vector<std::shared_ptr<PacketSet>> sets = targets(st);
  std::uint64_t j = 0;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    std::uint64_t n = sets[i]->count();
    std::uint64_t k = 0;
    std::string name;
    if (i < exprs.size() && exprs[i]->kind == ast::Expr::Kind::Name) name = exprs[i]->s;
    sets[i]->for_each([&](const Packet& p) {
      if (opts_.json) {
        std::string head = fmt::format("\"n\": {}", ++j);
        if (!name.empty()) head += fmt::format(", \"name\": {}", json_string(name));
        head += fmt::format(", \"len\": {}", p.size());
        if (hexdump) head += fmt::format(", \"hex\": \"{}\"", render_hex(p));
        fmt::print("{}\n", render_json(p, &session_.registry(), head));
        return true;
      }
      if (n > 1) fmt::print("# packet {} of {}\n", ++k, n);
      fmt::print("{}", hexdump ? render_hexdump(p) : render_show(p, opts_.color, &session_.registry()));
      return true;
    });
  }
  std::fflush(stdout);
}

void Runner::run(const ast::Script& script) {
  for (auto& st : script.stmts) exec(st);
}

void Runner::exec(const ast::Stmt& st) {
  using SK = ast::Stmt::Kind;
  if (session_.declare(st)) return;
  switch (st.kind) {
    case SK::Show: case SK::Expr: return print_packets(st, false);
    case SK::Hexdump: return print_packets(st, true);
    case SK::Write: {
      // libpcap takes "-" as stdout and would close it afterwards.
      if (st.path == "-") throw ScriptError(st.path_pos, "write needs a file name; to print packets use show or hexdump");
      if (!session_.confine().empty())
        if (std::string why = confine_path(session_.confine(), st.path); !why.empty())
          throw ScriptError(st.path_pos, fmt::format("write to \"{}\" refused: {} (--sandbox writes files only there)", st.path, why));
      std::uint64_t n = write_pcap(st.path, targets(st), session_.registry(), st.path_pos);
      fmt::print(stderr, "wrote {} packet{} to {}\n", n, n == 1 ? "" : "s", st.path);
      return;
    }
    case SK::Send: return send(st);
    case SK::Sr: return sr(st);
    case SK::Sniff: return sniff(st);
    case SK::Lua: return lua().run_block(st);
    default: throw ScriptError(st.pos, "unexpected statement");
  }
}

}  // namespace pkt
