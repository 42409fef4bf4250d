// pkt: build, show, send and read packets described in .pkt scripts.
// main parses the command line and hands over; errors print as
// file:line:col with a caret and exit 1, usage errors exit 2.
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <sstream>

#include "packet_io.hpp"
#include "parse.hpp"
#include "render.hpp"
#include "pcap_reader.hpp"
#include "run/reader.hpp"
#include "run/repl.hpp"
#include "run/runner.hpp"
#include "net/route_query.hpp"
#include "run/sniffer.hpp"
#include "session.hpp"
#include "completion.hpp"
#include "confine.hpp"
#include "net/capture.hpp"
#include "net/privilege.hpp"
#include "run/preopen.hpp"
#include "export_wireshark.hpp"
#include "layer_info.hpp"

#ifndef PKT_VERSION
#define PKT_VERSION "0.0.0"
#endif

namespace {

using namespace pkt;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool stdout_color() { return isatty(1) && !std::getenv("NO_COLOR"); }
bool stderr_color() { return isatty(2) && !std::getenv("NO_COLOR"); }

// read(2) itself, so a directory (EISDIR) or a read error is an error, not an empty script.
const Source* read_source(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UsageError(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw UsageError(fmt::format("cannot read '{}': {}{}", path, std::strerror(err),
                                   err == EISDIR ? " (give a script file, e.g. DIR/NAME.pkt)" : ""));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return Source::make(path, text);
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

void apply_defines(Session& s, const std::vector<std::string>& defs) {
  for (auto& d : defs) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError(fmt::format("-D expects name=value, got '{}'", d));
    s.set_override(d.substr(0, eq), d.substr(eq + 1));
  }
}

void check_defines(const Session& s) {
  auto unused = s.unused_overrides();
  if (!unused.empty()) {
    std::vector<std::string> params;
    for (auto& n : s.order())
      if (s.lookup(n)->kind == NameEntry::Kind::Param) params.push_back(n);
    throw UsageError(fmt::format("-D {}: the script declares no such param (params: {})", unused.front(),
                                 params.empty() ? "none" : fmt::format("{}", fmt::join(params, ", "))));
  }
}

struct BuildArgs {
  std::string file, expr, format = "show", output;
  std::vector<std::string> names, defines;
};

int cmd_build(const BuildArgs& a) {
  if (a.file.empty() == a.expr.empty()) throw UsageError("build needs a FILE or -e 'EXPR' (one of them)");
  Session session(Registry::with_stdlib());
  apply_defines(session, a.defines);
  std::vector<std::shared_ptr<PacketSet>> sets;
  std::vector<std::string> set_names;  // each set's packet name ("" for -e), for --format json
  if (!a.expr.empty()) {
    if (!a.names.empty()) throw UsageError("NAMEs are for a FILE; with -e the expression is the packet");
    sets.push_back(session.packets(*parse_expression(Source::make("<expr>", a.expr))));
  } else {
    const Source* src = read_source(a.file);
    session.set_base_dir(dir_of(a.file));
    ast::Script script = parse_script(src);
    for (auto& st : script.stmts) session.declare(st);  // declarations only
    check_defines(session);
    if (a.names.empty()) {
      for (auto& n : session.order())
        if (auto* e = session.lookup(n); e->kind == NameEntry::Kind::Packet) {
          sets.push_back(e->packet);
          set_names.push_back(n);
        }
    } else {
      for (auto& n : a.names) {
        auto* e = session.lookup(n);
        if (!e || e->kind != NameEntry::Kind::Packet) {
          std::vector<std::string> pk;
          for (auto& m : session.order())
            if (session.lookup(m)->kind == NameEntry::Kind::Packet) pk.push_back(m);
          std::string hint = nearest_name(n, pk);
          throw UsageError(fmt::format("no packet named '{}' in {}{}", n, a.file,
                                       hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
        }
        sets.push_back(e->packet);
        set_names.push_back(n);
      }
    }
  }
  set_names.resize(sets.size());
  if (a.format == "pcap") {
    std::string out = a.output.empty() ? "-" : a.output;
    if (out == "-" && isatty(1)) throw UsageError("--format pcap writes binary data; give -o FILE or redirect stdout");
    write_pcap(out, sets, session.registry(), sets.empty() ? Pos{} : sets.front()->tmpl.pos());
    return 0;
  }
  std::FILE* out = stdout;
  if (!a.output.empty() && a.output != "-") {
    out = std::fopen(a.output.c_str(), "wb");
    if (!out) throw UsageError(fmt::format("cannot write '{}': {}", a.output, std::strerror(errno)));
  }
  bool color = out == stdout && stdout_color();
  std::uint64_t count = 0, bytes = 0;
  std::string line;
  for (std::size_t si = 0; si < sets.size(); ++si) {
    auto& ps = sets[si];
    std::uint64_t n = ps->count();
    std::uint64_t k = 0;
    if (a.format == "none") {
      ps->for_each([&](const Packet& p) {
        bytes += p.size();
        return true;
      });
      count += n;
      continue;
    }
    ps->for_each([&](const Packet& p) {
      ++k;
      if (a.format == "hex") {
        line = render_hex(p);
        line += '\n';
      } else if (a.format == "json") {
        // The schema of `pkt read --format json`, numbered across the output as
        // the pcap of the same packets would be; no capture time.
        ++count;
        std::string head = fmt::format("\"n\": {}", count);
        if (!set_names[si].empty()) head += fmt::format(", \"name\": {}", json_string(set_names[si]));
        line = render_json(p, &session.registry(), fmt::format("{}, \"len\": {}", head, p.size())) + "\n";
      } else if (a.format == "hexdump") {
        line = (n > 1 ? fmt::format("# packet {} of {}\n", k, n) : "") + render_hexdump(p);
      } else {
        line = (n > 1 ? fmt::format("# packet {} of {}\n", k, n) : "") + render_show(p, color, &session.registry());
      }
      std::fwrite(line.data(), 1, line.size(), out);
      return true;
    });
  }
  if (a.format == "none") fmt::print(out, "{} packets, {} bytes\n", count, bytes);
  // A full disk or a closed pipe is an error, not a silent success.
  bool failed = std::fflush(out) != 0 || std::ferror(out);
  if (out != stdout && std::fclose(out) != 0) failed = true;
  if (failed)
    throw std::runtime_error(fmt::format("cannot write {}: {}", a.output.empty() || a.output == "-" ? "the output" : a.output,
                                         std::strerror(errno)));
  return 0;
}

struct RunArgs {
  std::string file;
  std::vector<std::string> defines;
  std::string pcap, scope;
  bool dry_run = false;
  unsigned threads = 1;
  bool quiet = false;
  std::string lua_memory, lua_timeout;  // as given
  bool sandbox = false;
  std::vector<std::string> ifaces;  // -i: opened before privileges are dropped
  std::string user;                 // --user NAME
  bool no_drop = false;             // --no-drop
  std::string format = "text";  // text or json (show, hexdump, sniff, sr)
};

// --user and --no-drop, or sudo's SUDO_UID and SUDO_GID: who the run becomes
// once its sockets are open (docs/security.md, "Privileges").
net::DropPlan drop_plan(const std::string& user, bool no_drop) {
  try {
    return net::plan_drop(user, no_drop);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

// --lua-memory, --lua-timeout and --sandbox. Without --lua-memory the Lua
// heap may hold 1 GiB (256 MiB under --sandbox); there is no time limit
// unless --lua-timeout gives one (docs/security.md).
LuaLimits lua_limits(const RunArgs& a) {
  LuaLimits l;
  l.sandbox = a.sandbox;
  l.memory_text = !a.lua_memory.empty() ? a.lua_memory : a.sandbox ? "256M" : "1G";
  try {
    l.memory = a.lua_memory == "0" ? 0 : LuaLimits::parse_memory(l.memory_text);
  } catch (const std::invalid_argument& e) {
    throw UsageError(fmt::format("--lua-memory: {}", e.what()));
  }
  if (l.memory && l.memory < (1u << 20))
    throw UsageError(fmt::format("--lua-memory {}: the Lua state needs at least 1M", a.lua_memory));
  if (!a.lua_timeout.empty()) {
    try {
      l.timeout_ns = parse_duration(a.lua_timeout);
    } catch (const std::invalid_argument& e) {
      throw UsageError(fmt::format("--lua-timeout: {}", e.what()));
    }
    l.timeout_text = a.lua_timeout;
  }
  if (a.sandbox) {
    Scope scope;
    try {
      scope = Scope::from_env(a.scope);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());  // names --scope or PKT_SCOPE
    }
    if (!scope.restricted())
      throw UsageError("--sandbox needs a send scope: give --scope CIDR[,CIDR...] (e.g. --scope 127.0.0.0/8,::1/128) "
                       "or set PKT_SCOPE; a script you did not write may send only where you allow");
    try {
      l.root = confine_root(dir_of(a.file));
    } catch (const std::runtime_error& e) {
      throw UsageError(e.what());
    }
  }
  return l;
}

bool is_lua_file(const std::string& path) { return path.size() > 4 && path.compare(path.size() - 4, 4, ".lua") == 0; }

std::string plural(std::uint64_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

int cmd_run(const RunArgs& a) {
  install_interrupt_handler();
  Session session(Registry::with_stdlib());
  session.set_base_dir(dir_of(a.file));
  const LuaLimits limits = lua_limits(a);  // before the script is read: --sandbox without a scope runs nothing
  if (limits.sandbox) session.set_confine(limits.root);
  const bool lua_file = is_lua_file(a.file);
  ast::Script script;
  std::vector<std::pair<std::string, std::string>> globals;  // -D for a .lua script
  if (lua_file) {
    read_source(a.file);  // a clear error if it cannot be read
    for (auto& d : a.defines) {
      auto eq = d.find('=');
      if (eq == std::string::npos || eq == 0) throw UsageError(fmt::format("-D expects name=value, got '{}'", d));
      globals.emplace_back(d.substr(0, eq), d.substr(eq + 1));
    }
  } else {
    apply_defines(session, a.defines);
    script = parse_script(read_source(a.file));
    // A -D for a param the script never declares is a usage error, found before anything runs.
    std::vector<std::string> declared;
    for (auto& st : script.stmts)
      if (st.kind == ast::Stmt::Kind::Param) declared.push_back(st.name);
    for (auto& d : a.defines) {
      std::string n = d.substr(0, d.find('='));
      if (std::find(declared.begin(), declared.end(), n) == declared.end())
        throw UsageError(fmt::format("-D {}: the script declares no such param{}", n,
                                     declared.empty() ? "" : fmt::format(" (params: {})", fmt::join(declared, ", "))));
    }
  }
  RunOptions opts;
  opts.lua = limits;
  opts.color = stdout_color();
  opts.json = a.format == "json";
  opts.send.dry_run = a.dry_run;
  opts.send.pcap_path = a.pcap;
  opts.send.threads = a.threads;
  opts.send.progress = isatty(2) && !a.quiet;
  try {
    opts.send.scope = Scope::from_env(a.scope);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());  // names --scope or PKT_SCOPE
  }
  const net::DropPlan drop = drop_plan(a.user, a.no_drop);
  Runner runner(session, opts);
  // The sockets the script names, opened as root; then the rest runs as the user.
  try {
    open_then_drop(drop, lua_file || !drop.active() ? SocketNeeds{} : scan_script(script), a.ifaces);
  } catch (const IfaceError& e) {
    throw UsageError(e.what());
  }
  int rc = 0;
  try {
    if (lua_file) runner.run_lua_file(a.file, globals);
    else runner.run(script);
    if (interrupted()) throw Interrupted();
  } catch (const Interrupted&) {
    std::fflush(stdout);
    fmt::print(stderr, "interrupted: sent {}\n", plural(runner.sent(), "packet"));
    return 128 + (interrupt_signal() ? interrupt_signal() : SIGINT);
  } catch (const LuaError& e) {  // "script:line: message" and a traceback
    std::fflush(stdout);
    fmt::print(stderr, "{}\n", e.what());
    rc = 1;
  } catch (const ScriptError& e) {
    std::fflush(stdout);
    std::string msg = format_error(e, stderr_color());
    fmt::print(stderr, "{}{}", msg, !msg.empty() && msg.back() == '\n' ? "" : "\n");
    rc = 1;
  }
  std::fflush(stdout);
  // The total, unless one send statement's final line already said it.
  if (runner.total_adds()) fmt::print(stderr, "sent {}\n", plural(runner.sent(), "packet"));
  return rc;
}

int cmd_check(const std::string& file, const std::vector<std::string>& defines) {
  Session session(Registry::with_stdlib());
  apply_defines(session, defines);
  const Source* src = read_source(file);
  session.set_base_dir(dir_of(file));
  // Checking captures nothing: sniff(...)'s options are checked, and it stands for one packet.
  session.external.sniff = [&session](const ast::Expr& call) {
    std::string iface;
    ast::ExprPtr filter, count, timeout;
    sniff_call_args(call, iface, filter, count, timeout);
    return *session.packets(*parse_expression(Source::make("<sniff>", "raw()")));
  };
  ast::Script script = parse_script(src);
  std::size_t packets = 0;
  for (auto& st : script.stmts)
    if (session.declare(st) && st.kind == ast::Stmt::Kind::Packet) ++packets;
  check_defines(session);
  fmt::print("{}: ok ({} statements, {} packets)\n", file, script.stmts.size(), packets);
  return 0;
}

int cmd_layers() {
  Registry reg = Registry::with_stdlib();
  for (auto& n : reg.layer_names()) {
    auto d = reg.layer(n);
    fmt::print("{:<10} {}\n", n, d->doc);
  }
  return 0;
}

// Loads scripts' layer, option, bind, reply and fragment declarations; returns
// the layers they declare, in order.
std::vector<std::string> load_scripts(Session& session, const std::vector<std::string>& files) {
  std::vector<std::string> declared;
  for (auto& file : files) {
    ast::Script script = parse_script(read_source(file));
    for (auto& st : script.stmts) {
      using K = ast::Stmt::Kind;
      if (st.kind != K::Layer && st.kind != K::Bind && st.kind != K::Reply && st.kind != K::Fragment) continue;
      session.declare(st);
      if (st.kind == K::Layer && !st.layer->is_option &&
          std::find(declared.begin(), declared.end(), st.layer->name) == declared.end())
        declared.push_back(st.layer->name);
    }
  }
  return declared;
}

int cmd_help(const std::string& name, const std::string& format, const std::vector<std::string>& scripts) {
  Session session(Registry::with_stdlib());
  load_scripts(session, scripts);
  const Registry& reg = session.registry();
  auto d = reg.layer(name);
  if (!d) {
    throw UsageError(fmt::format("unknown layer '{}'{}; `pkt layers` lists them", name, reg.layer_hint(name)));
  }
  fmt::print("{}", format == "json" ? describe_layer_json(reg, *d) : describe_layer(reg, *d));
  return 0;
}

struct ExportArgs {
  std::vector<std::string> layers, scripts;
  std::string output, prefix;
  bool replace = false;
};

int cmd_export_wireshark(const ExportArgs& a, bool prefix_set) {
  Session session(Registry::with_stdlib());
  WiresharkExport opts;
  std::vector<std::string> declared = load_scripts(session, a.scripts);
  opts.own.insert(declared.begin(), declared.end());
  opts.layers = a.layers.empty() ? declared : a.layers;
  if (opts.layers.empty())
    throw UsageError(a.scripts.empty()
                         ? "export wireshark: name the layers to export (pkt export wireshark ipv4 tcp -o pkt_layers.lua), "
                           "or give --script FILE to export the layers it declares"
                         : "export wireshark: the scripts declare no layer; name the layers to export");
  opts.prefix_set = prefix_set;
  opts.prefix = a.prefix;
  opts.replace = a.replace;
  opts.version = PKT_VERSION;
  for (auto& l : opts.layers)
    if (!session.registry().layer(l))
      throw UsageError(fmt::format("export wireshark: unknown layer '{}'{}; `pkt layers` lists them{}", l,
                                   session.registry().layer_hint(l), a.scripts.empty() ? " (a script's: --script FILE)" : ""));
  std::vector<std::string> warnings;
  std::string lua;
  try {
    lua = export_wireshark(session.registry(), opts, warnings);
  } catch (const ExportError& e) {
    fmt::print(stderr, "pkt: export wireshark: {}\n", e.what());
    return 1;
  }
  for (auto& w : warnings) fmt::print(stderr, "pkt: warning: {}\n", w);
  if (a.output.empty() || a.output == "-") {
    fmt::print("{}", lua);
    return 0;
  }
  // Written whole or not at all: a temporary file renamed over the output.
  std::string tmp = a.output + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << lua;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw UsageError(fmt::format("cannot write '{}': {}", a.output, std::strerror(errno)));
    }
  }
  if (std::rename(tmp.c_str(), a.output.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw UsageError(fmt::format("cannot write '{}': {}", a.output, std::strerror(err)));
  }
  std::vector<std::string> ws;
  for (auto& l : opts.layers) ws.push_back(wireshark_name(opts, l));
  fmt::print(stderr, "wrote {}: {} (load it with tshark -X lua_script:{})\n", a.output, fmt::join(ws, ", "), a.output);
  return 0;
}

struct ReplArgs {
  std::string pcap, scope;
  bool dry_run = false, quiet = false;
  unsigned threads = 1;
};

int cmd_repl(const ReplArgs& a) {
  Session session(Registry::with_stdlib());
  RunOptions opts;
  opts.color = stdout_color();
  opts.send.dry_run = a.dry_run;
  opts.send.pcap_path = a.pcap;
  opts.send.threads = a.threads;
  opts.send.progress = isatty(2) && !a.quiet;
  try {
    opts.send.scope = Scope::from_env(a.scope);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  return run_repl(session, opts);
}

}  // namespace

int main(int argc, char** argv) {
  // Past a file size limit (ulimit -f) a write fails with EFBIG, reported with
  // the file's name, instead of the signal ending the program mid-record.
  signal(SIGXFSZ, SIG_IGN);
  pkt::net::install_route_asker();  // route_source() in rules asks the kernel (no privilege needed)
  CLI::App app{"pkt - describe packets declaratively, build them byte-exact, send them, and read them back"};
  app.set_version_flag("--version", std::string("pkt ") + PKT_VERSION);
  app.require_subcommand(0, 1);
  app.footer("Run `pkt SUBCOMMAND --help` for details, `man pkt` for all of them. The language: docs/language.md\n"
             "(installed: /usr/share/doc/pkt/docs/, or PREFIX/share/doc/pkt/docs/)");

  BuildArgs build;
  auto* b = app.add_subcommand("build", "Evaluate a script's declarations and print or write its packets");
  b->add_option("file", build.file, "Script (.pkt)")->type_name("SCRIPT");
  b->add_option("names", build.names, "Packets to build (default: all, in declaration order)")->type_name("PACKET");
  b->add_option("-e,--expr", build.expr, "Build this packet expression instead of a file")->type_name("EXPR");
  b->add_option("--format", build.format, "Output: show, hexdump, hex (one line per packet), json (one object per packet), pcap, none (count only)")
      ->check(CLI::IsMember({"show", "hexdump", "hex", "json", "pcap", "none"}));
  b->add_option("-o,--output", build.output, "Write the output to FILE")->type_name("FILE");
  b->add_option("-D,--define", build.defines, "Override a param: -D name=value")->type_name("NAME=VALUE");

  RunArgs run;
  auto* r = app.add_subcommand("run", "Run a script's statements top to bottom");
  r->add_option("file", run.file, "Script (.pkt), or a plain Lua script (.lua)")->type_name("SCRIPT|LUA")->required();
  r->add_option("-D,--define", run.defines, "Override a param: -D name=value (for a .lua script: set a global)")
      ->type_name("NAME=VALUE");
  r->add_option("--pcap", run.pcap, "Also write every packet sent to FILE (pcap)")->type_name("FILE");
  r->add_flag("--dry-run", run.dry_run, "Send nothing: only write the packets to --pcap and count them");
  r->add_option("--format", run.format,
                "What show, hexdump, sniff and sr print: text (default), or json (one object per packet or probe)")
      ->check(CLI::IsMember({"text", "json"}));
  r->add_flag("-q,--quiet", run.quiet, "No progress line while sending (each send's final line is still printed)");
  r->add_option("--scope", run.scope, "Refuse to send outside CIDR[,CIDR...] (default: $PKT_SCOPE; unset: anywhere)")
      ->type_name("CIDR");
  r->add_option("--threads", run.threads, "Sender threads for sends that name none (send ... threads N), each pinned to a core")
      ->check(CLI::Range(1u, Sender::kMaxThreads));
  r->add_option("--lua-memory", run.lua_memory,
                "Cap the Lua heap at SIZE (k, M, G: powers of 1024; default 1G, 256M with --sandbox; 0: no cap)")
      ->type_name("SIZE");
  r->add_option("--lua-timeout", run.lua_timeout, "Stop the script once its Lua has run this long (30s, 500ms; default: none)")
      ->type_name("DURATION");
  r->add_flag("--sandbox", run.sandbox,
              "For a script you did not write: Lua gets no file io, no os beyond the time, no debug, C modules or "
              "bytecode; files only in the script's directory; --scope (or PKT_SCOPE) required");
  r->add_option("-i,--iface", run.ifaces,
                "An interface the script sends or captures on (any: capture on all), opened before privileges are "
                "dropped; needed for interfaces only Lua code names (repeatable)")
      ->type_name("IFACE");
  r->add_option("--user", run.user,
                "Once the sockets are open, run as this user (default under sudo: the user who ran sudo)")
      ->type_name("USER");
  r->add_flag("--no-drop", run.no_drop, "Keep root (or this binary's capabilities) for the whole run");

  std::string check_file;
  std::vector<std::string> check_defs;
  auto* c = app.add_subcommand("check", "Parse and evaluate a script's declarations without output");
  c->add_option("file", check_file, "Script (.pkt)")->type_name("SCRIPT")->required();
  c->add_option("-D,--define", check_defs, "Override a param: -D name=value")->type_name("NAME=VALUE");

  auto* l = app.add_subcommand("layers", "List the layers");
  std::string help_layer;
  auto* h = app.add_subcommand("help", "Describe a layer: fields, widths, defaults, auto rules, flags, enums, bindings");
  h->add_option("layer", help_layer, "Layer name")->type_name("LAYER")->required();
  std::string help_format = "text";
  std::vector<std::string> help_scripts;
  h->add_option("--format", help_format, "Output: text (default) or json (the declaration as data)")
      ->check(CLI::IsMember({"text", "json"}));
  h->add_option("--script", help_scripts, "Load a script's layer, option and bind declarations first (repeatable)")
      ->type_name("SCRIPT");

  ExportArgs ex;
  auto* exc = app.add_subcommand("export", "Write layers' declarations for another tool (export wireshark: a Lua dissector)");
  exc->require_subcommand(1, 1);
  auto* exw = exc->add_subcommand("wireshark", "Write a Wireshark Lua dissector for layers (the stdlib's or a script's)");
  exw->add_option("layers", ex.layers, "Layers to export (default with --script: the layers the scripts declare)")
      ->type_name("LAYER");
  exw->add_option("--script", ex.scripts, "Load a script's layer, option and bind declarations first (repeatable)")
      ->type_name("SCRIPT")
      ->allow_extra_args(false);
  exw->add_option("-o,--output", ex.output, "Write the dissector to FILE (default: standard output)")->type_name("FILE");
  auto* ex_prefix = exw->add_option("--prefix", ex.prefix,
                                    "Prefix every protocol name (default: none for a script's layers, pkt. for the stdlib's)");
  exw->add_flag("--replace", ex.replace,
                "Stdlib layers take over the values Wireshark's own dissectors have (default: offered in Decode As)");

  ReadArgs rd;
  auto* rdc = app.add_subcommand("read", "Dissect the packets of a capture (pcap or pcapng) or of --hex, by the declarations");
  rdc->add_option("file", rd.file, "Capture file (pcap or pcapng; - for standard input)")->type_name("CAPTURE");
  rdc->add_option("--hex", rd.hex, "Dissect one packet given as hex instead (IPv4/IPv6 unless --first)")->type_name("HEX");
  rdc->add_option("--first", rd.first, "The first layer (default: from the capture's link type)")->type_name("LAYER");
  rdc->add_option("--format", rd.format, "Output: summary (default), show, hexdump, hex, pkt, json, pcap, none (count only)")
      ->check(CLI::IsMember({"summary", "show", "hexdump", "hex", "pkt", "json", "pcap", "none"}));
  rdc->add_option("-c,--count", rd.count, "Stop after N packets");
  rdc->add_option("--filter", rd.filter, "Only packets that pass this BPF filter (libpcap syntax)")->type_name("BPF");
  rdc->add_option("-o,--output", rd.output, "Write the output to FILE")->type_name("FILE");
  rdc->add_option("--script", rd.scripts, "Load a script's layer, option and bind declarations first (repeatable)")
      ->type_name("SCRIPT");

  SniffArgs sn;
  auto* snc = app.add_subcommand("sniff", "Capture live packets and dissect them by the declarations (like tcpdump)");
  snc->add_option("-i,--interface", sn.iface,
                  "Interface; any = all (Linux cooked); default: the first up, non-loopback interface")
      ->type_name("IFACE");
  snc->add_option("-c,--count", sn.count, "Stop after N packets");
  snc->add_option("--timeout", sn.timeout, "Stop after this long (2s, 500ms, 1.5)")->type_name("DURATION");
  snc->add_flag("--no-promisc", sn.no_promisc, "Do not put the interface into promiscuous mode");
  snc->add_option("--format", sn.format, "Output: summary (default), show, hexdump, hex, pkt, json, none (nothing per packet)")
      ->check(CLI::IsMember({"summary", "show", "hexdump", "hex", "pkt", "json", "none"}));
  snc->add_option("-w,--write", sn.write, "Write the captured packets to FILE.pcap (then nothing is printed unless --format)")
      ->type_name("FILE");
  snc->add_option("--script", sn.scripts, "Load a script's layer, option and bind declarations first (repeatable)")
      ->type_name("SCRIPT")
      ->allow_extra_args(false);  // `--script x.pkt udp port 9`: the filter is not more scripts
  snc->add_option("filter", sn.filter, "BPF filter (libpcap syntax), words joined as tcpdump does")->type_name("BPF");
  std::string sniff_user;
  bool sniff_no_drop = false;
  snc->add_option("--user", sniff_user,
                  "Once the capture is open, run as this user (default under sudo: the user who ran sudo)")
      ->type_name("USER");
  snc->add_flag("--no-drop", sniff_no_drop, "Keep root (or this binary's capabilities) for the whole capture");

  ReplArgs repl;
  auto* rp = app.add_subcommand("repl", "Interactive session (also `pkt` with no arguments on a terminal)");
  rp->add_option("--pcap", repl.pcap, "Also write every packet sent to FILE (pcap)")->type_name("FILE");
  rp->add_flag("--dry-run", repl.dry_run, "Send nothing: only write the packets to --pcap");
  rp->add_flag("-q,--quiet", repl.quiet, "No progress line while sending (each send's final line is still printed)");
  rp->add_option("--scope", repl.scope, "Refuse to send outside CIDR[,CIDR...] (default: $PKT_SCOPE)")->type_name("CIDR");
  rp->add_option("--threads", repl.threads, "Sender threads for sends that name none (send ... threads N), each pinned to a core")
      ->check(CLI::Range(1u, Sender::kMaxThreads));

  // After every other subcommand: the scripts describe all of them, from the
  // type names above (completion.hpp says which complete to what).
  std::string comp_shell;
  auto* comp = app.add_subcommand("completion", "Print a shell completion script (bash or zsh) for pkt");
  comp->add_option("shell", comp_shell, "bash or zsh")->check(CLI::IsMember({"bash", "zsh"}))->required();
  comp->footer("bash: source <(pkt completion bash); zsh: pkt completion zsh > ~/.zfunc/_pkt (a directory in $fpath)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  // Standard output that cannot be written (a full disk, /dev/full) is an
  // error, never a silent success.
  auto checked = [](int rc) {
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      fmt::print(stderr, "pkt: cannot write standard output: {}\n", std::strerror(errno ? errno : EIO));
      return rc ? rc : 1;
    }
    return rc;
  };
  try {
    if (*b) return checked(cmd_build(build));
    if (*r) return checked(cmd_run(run));
    if (*c) return checked(cmd_check(check_file, check_defs));
    if (*l) return checked(cmd_layers());
    if (*rdc) {
      if (rd.file.empty() == rd.hex.empty()) throw UsageError("read needs a FILE or --hex HEX (one of them)");
      return checked(run_read(rd));
    }
    if (*snc) {
      sn.drop = drop_plan(sniff_user, sniff_no_drop);
      return checked(run_sniff(sn));
    }
    if (*h) return checked(cmd_help(help_layer, help_format, help_scripts));
    if (*exw) return checked(cmd_export_wireshark(ex, ex_prefix->count() > 0));
    if (*comp) {
      fmt::print("{}", completion_script(app, comp_shell, Registry::with_stdlib().layer_names(), PKT_VERSION));
      return checked(0);
    }
    if (*rp || (argc == 1 && isatty(0) && isatty(1))) return cmd_repl(repl);
    std::cout << app.help();
    return 0;
  } catch (const UsageError& e) {
    fmt::print(stderr, "pkt: {}\n", e.what());
    return 2;
  } catch (const ScriptError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}\n", format_error(e, stderr_color()));
    return 1;
  } catch (const CaptureError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "pkt: {}\n", e.what());
    return 1;
  } catch (const PcapError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "pkt: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "pkt: error: {}\n", e.what());
    return 1;
  }
}
