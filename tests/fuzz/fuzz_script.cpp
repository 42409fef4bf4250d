// libFuzzer target: the input as script text, through the parser and the
// evaluator. The text is parsed (parse_script; parse_repl_input too) and its
// statements run against a fresh Session over the stdlib: param, let,
// packet, layer, option, bind, reply and fragment are declared as `pkt run`
// declares them; show, hexdump and bare expressions render their first
// packets (show, hexdump, json, summary, pkt text); write, send and sr only
// evaluate their targets and build the first packets' bytes. Nothing is
// sent, written, captured or read: lua, sniff and send/sr/write's I/O are
// skipped, and a statement that mentions file("..."), read(...) or sniff(...)
// anywhere is not run (PKT_FUZZ_VERBOSE=1 says which). A ScriptError is the
// expected answer to bad text (its diagnostic is formatted, caret and all);
// any other exception, a crash, a leak or UB is a bug.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "parse.hpp"
#include "render.hpp"
#include "session.hpp"

using namespace pkt;

namespace {

using K = ast::Expr::Kind;
using SK = ast::Stmt::Kind;

constexpr std::uint64_t kPacketsPerTarget = 4;  // a range of 2^32 packets is evaluated, not expanded

bool verbose() {
  static const bool v = [] {
    const char* e = std::getenv("PKT_FUZZ_VERBOSE");
    return e && *e && *e != '0';
  }();
  return v;
}

// Whether evaluating e could touch the file system or the network.
bool has_io(const ast::ExprPtr& e, int depth = 0) {
  if (!e) return false;
  if (depth > 200) return true;  // too deep to be sure: do not run it
  if (e->kind == K::File) return true;
  if (e->kind == K::Call && (e->s == "read" || e->s == "sniff")) return true;
  for (auto& it : e->items)
    if (has_io(it, depth + 1)) return true;
  for (auto& a : e->args)
    if (has_io(a.value, depth + 1)) return true;
  return false;
}

bool has_io(const ast::Stmt& st) {
  if (has_io(st.value) || has_io(st.count) || has_io(st.interval) || has_io(st.filter) || has_io(st.timeout) ||
      has_io(st.retry) || has_io(st.bind_when))
    return true;
  for (auto& t : st.targets)
    if (has_io(t)) return true;
  if (st.layer) {
    for (auto& f : st.layer->fields) {
      if (has_io(f.align) || has_io(f.default_value) || has_io(f.auto_rule) || has_io(f.size_rule) || has_io(f.cond) ||
          has_io(f.count_rule))
        return true;
      for (auto& v : f.enums)
        if (has_io(v.value)) return true;
      for (auto& v : f.flags)
        if (has_io(v.value)) return true;
    }
    for (auto& p : st.layer->pseudo)
      if (has_io(p)) return true;
    if (has_io(st.layer->payload_size)) return true;
  }
  if (st.reply) {
    if (has_io(st.reply->when)) return true;
    for (auto& c : st.reply->conds)
      if (has_io(c)) return true;
  }
  return false;
}

struct Fixture {
  Registry stdlib = Registry::with_stdlib();
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// What `show`/`hexdump` print and what `write`/`send` would put on the wire,
// for the first few packets of each target.
void run_targets(Session& s, const ast::Stmt& st) {
  std::vector<ast::ExprPtr> exprs = st.targets;
  if (st.kind == SK::Expr && st.value) exprs.push_back(st.value);
  for (auto& t : exprs) {
    std::shared_ptr<PacketSet> ps;
    if (t->kind == K::Name)
      if (const NameEntry* e = s.lookup(t->s); e && e->packet) ps = e->packet;
    if (!ps) ps = s.packets(*t);
    std::uint64_t k = 0;
    ps->for_each([&](const Packet& p) {
      switch (st.kind) {
        case SK::Show: case SK::Expr:
          (void)render_show(p, false, &s.registry());
          (void)render_show(p, true, &s.registry());
          (void)render_json_layers(p, &s.registry());
          (void)render_summary(p);
          break;
        case SK::Hexdump: (void)render_hexdump(p); break;
        default: (void)render_hex(p); break;  // write, send, sr: the bytes they would write or send
      }
      return ++k < kPacketsPerTarget;
    });
    (void)render_pkt(*ps, &s.registry(), 4);
  }
}

void run(Session& s, const ast::Script& script) {
  for (const ast::Stmt& st : script.stmts) {
    if (has_io(st)) {
      if (verbose()) std::fprintf(stderr, "fuzz_script: line %u not run (file, read or sniff)\n", st.pos.line);
      continue;
    }
    if (s.declare(st)) continue;
    switch (st.kind) {
      case SK::Show: case SK::Hexdump: case SK::Expr: case SK::Write: case SK::Send: case SK::Sr:
        run_targets(s, st);
        break;
      default: break;  // lua, sniff
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fixture& fx = fixture();
  Source src{"<fuzz>", std::string(reinterpret_cast<const char*>(data), size)};
  for (bool repl : {false, true}) {
    try {
      ast::Script script = repl ? parse_repl_input(&src) : parse_script(&src);
      Session s(fx.stdlib);
      s.allow_redefine = repl;
      s.set_base_dir("/nonexistent");
      run(s, script);
    } catch (const ScriptError& e) {
      std::string text = format_error(e);
      if (verbose()) std::fprintf(stderr, "%s\n", text.c_str());
    }
  }
  return 0;
}
