#include "runner.hpp"

#include <fmt/format.h>

#include "packet_io.hpp"
#include "render.hpp"

namespace pkt {

Runner::Runner(Session& session, RunOptions opts) : session_(session), opts_(opts) {}
Runner::~Runner() = default;

std::vector<std::shared_ptr<PacketSet>> Runner::targets(const ast::Stmt& st) {
  std::vector<std::shared_ptr<PacketSet>> out;
  for (auto& t : st.targets) {
    if (t->kind == ast::Expr::Kind::Name)
      if (auto* e = session_.lookup(t->s); e && e->packet) {
        out.push_back(e->packet);
        continue;
      }
    out.push_back(session_.packets(*t));
  }
  return out;
}

void Runner::run(const ast::Script& script) {
  for (auto& st : script.stmts) exec(st);
}

void Runner::exec(const ast::Stmt& st) {
  using SK = ast::Stmt::Kind;
  if (session_.declare(st)) return;
  switch (st.kind) {
    case SK::Show: case SK::Expr:
      for (auto& ps : targets(st)) {
        std::uint64_t n = ps->count();
        std::uint64_t k = 0;
        ps->for_each([&](const Packet& p) {
          if (n > 1) fmt::print("# packet {} of {}\n", ++k, n);
          fmt::print("{}", render_show(p, opts_.color));
          return true;
        });
      }
      std::fflush(stdout);
      return;
    case SK::Hexdump:
      for (auto& ps : targets(st)) {
        std::uint64_t n = ps->count();
        std::uint64_t k = 0;
        ps->for_each([&](const Packet& p) {
          if (n > 1) fmt::print("# packet {} of {}\n", ++k, n);
          fmt::print("{}", render_hexdump(p));
          return true;
        });
      }
      std::fflush(stdout);
      return;
    case SK::Write: {
      std::uint64_t n = write_pcap(st.path, targets(st), session_.registry(), st.path_pos);
      fmt::print(stderr, "wrote {} packet{} to {}\n", n, n == 1 ? "" : "s", st.path);
      return;
    }
    case SK::Send:
      if (on_send) return on_send(st);
      throw ScriptError(st.pos, "send is not available in this build yet; use write to save packets to a pcap file");
    case SK::Lua:
      if (on_lua) return on_lua(st);
      throw ScriptError(st.pos, "lua blocks are not available in this build yet");
    default: throw ScriptError(st.pos, "unexpected statement");
  }
}

}  // namespace pkt
