// --lua-memory, --lua-timeout and --sandbox, through the pkt binary: each
// escape a script might try is refused with a message naming what and why
// (and the same line is not refused without --sandbox), a busy loop stops at
// the time limit, a table bomb at the memory cap, and the sandbox needs a
// scope. Sends are --dry-run: nothing leaves the machine.
#include <catch2/catch.hpp>

#include "run_pkt.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "confine.hpp"
#include "run/lua_engine.hpp"

#if !defined(PKT_BINARY)
#error "PKT_BINARY (the pkt executable) must be defined"
#endif

using namespace pkt;

namespace {

using pkt_test::Proc;
using pkt_test::slurp;

// A scratch directory under /tmp (so ../../etc/passwd from it is /etc/passwd).
struct TempDir : pkt_test::TempDir {
  TempDir() : pkt_test::TempDir("/tmp") {}
};

// Runs `env -u PKT_SCOPE [ENV] pkt ARGS` (the scope comes from the args
// alone), stdout and stderr captured, timed.
Proc run_pkt(const std::vector<std::string>& args, const std::string& env = "") {
  return pkt_test::run_pkt(args, "env -u PKT_SCOPE" + (env.empty() ? std::string() : " " + env));
}

const std::string kScope = "--scope=127.0.0.0/8,::1/128";

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

// Runs one Lua line in a .pkt script, with and without --sandbox.
struct Both {
  Proc sandboxed, plain;
  std::string script;
};
Both lua_line(const TempDir& d, const std::string& code) {
  Both b;
  b.script = d.write("escape.pkt", "lua {\n" + code + "\n}\n");
  b.sandboxed = run_pkt({"run", "--sandbox", kScope, b.script});
  b.plain = run_pkt({"run", b.script});
  return b;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("sandbox: os.execute is refused, and runs without --sandbox", "[sandbox][binary]") {
  TempDir d;
  Both b = lua_line(d, "print(os.execute('id'))");
  INFO(b.sandboxed.err);
  CHECK(b.sandboxed.rc == 1);
  CHECK(has(b.sandboxed.err, b.script + ":2: os.execute is not available in --sandbox: only os.time, os.clock, "
                                        "os.date and os.difftime are"));
  CHECK(!has(b.sandboxed.out, "uid="));
  INFO(b.plain.err);
  CHECK(b.plain.rc == 0);
  CHECK(has(b.plain.out, "uid="));
}

TEST_CASE("sandbox: os keeps time, clock and date but refuses getenv and exit", "[sandbox][binary]") {
  TempDir d;
  Both b = lua_line(d, "print(type(os.time()), type(os.clock()), os.date('!%Y', 0))");
  INFO(b.sandboxed.err);
  CHECK(b.sandboxed.rc == 0);
  CHECK(b.sandboxed.out == "number\tnumber\t1970\n");
  for (const char* f : {"getenv('HOME')", "exit(0)", "remove('x')", "tmpname()"}) {
    Both r = lua_line(d, std::string("print(os.") + f + ")");
    INFO(f << ": " << r.sandboxed.err);
    CHECK(r.sandboxed.rc == 1);
    CHECK(has(r.sandboxed.err, std::string("os.") + std::string(f).substr(0, std::string(f).find('(')) +
                                   " is not available in --sandbox"));
  }
}

TEST_CASE("sandbox: io.open of /etc/shadow is refused, and opens without --sandbox", "[sandbox][binary]") {
  TempDir d;
  Both b = lua_line(d, "local f = io.open('/etc/shadow') print(f ~= nil)");
  INFO(b.sandboxed.err);
  CHECK(b.sandboxed.rc == 1);
  CHECK(has(b.sandboxed.err, b.script + ":2: io.open is not available in --sandbox: a script run with --sandbox "
                                        "opens no files"));
  CHECK(b.sandboxed.out.empty());
  INFO(b.plain.err);
  CHECK(b.plain.rc == 0);
  CHECK(b.plain.out == (geteuid() == 0 ? "true\n" : "false\n"));  // root reads it

  // require "io" gives the same table: writing to stdout and stderr works,
  // through stand-ins that hand out no file handle; nothing else does.
  Both r = lua_line(d, "local io2 = require 'io' io2.write('x', 1) io.stdout:write('y'):write('z') io.stdout:flush() "
                       "io.stderr:write('e') print(io.stdout:setvbuf('no')) io2.lines('/etc/passwd')");
  INFO(r.sandboxed.err);
  CHECK(r.sandboxed.rc == 1);
  CHECK(r.sandboxed.out == "x1yztrue\n");
  CHECK(r.sandboxed.err.rfind("e" + b.script + ":2: io.lines is not available in --sandbox", 0) == 0);
  CHECK(r.plain.rc == 0);
  CHECK(r.plain.out == "x1yztrue\n");
}

TEST_CASE("sandbox: require ffi and package.loadlib are refused, C modules named as the reason", "[sandbox][binary]") {
  TempDir d;
  Both b = lua_line(d, "require 'ffi'");
  INFO(b.sandboxed.err);
  CHECK(b.sandboxed.rc == 1);
  CHECK(has(b.sandboxed.err, b.script + ":2: module 'ffi' not found:"));
  CHECK(has(b.sandboxed.err, "no C module: C modules (package.cpath, package.loadlib) are not available in "
                             "--sandbox: they run outside the Lua VM"));
  // Without --sandbox the C searchers look in package.cpath (there is no ffi there either).
  CHECK(b.plain.rc == 1);
  CHECK(has(b.plain.err, "no file '/usr/local/lib/lua/5.4/ffi.so'"));

  Both l = lua_line(d, "print(package.cpath == '', type(package.loadlib)) package.loadlib('x.so', 'f')");
  CHECK(l.sandboxed.rc == 1);
  CHECK(l.sandboxed.out == "true\tfunction\n");
  CHECK(has(l.sandboxed.err, "package.loadlib is not available in --sandbox: C modules run outside the Lua VM"));
  CHECK(l.plain.rc == 0);
  CHECK(l.plain.out == "false\tfunction\n");
}

TEST_CASE("sandbox: a Lua module from the script's directory loads, as source text", "[sandbox][binary]") {
  TempDir d;
  d.write("helper.lua", "return {answer = 42}\n");
  std::string script = d.write("uses.pkt", "lua {\nprint(require('helper').answer)\n}\n");
  Proc p = run_pkt({"run", "--sandbox", kScope, script});
  INFO(p.err);
  CHECK(p.rc == 0);
  CHECK(p.out == "42\n");
  // require "pkt" (package.preload) works; package.searchpath, which probes files anywhere, does not.
  std::string pk = d.write("pk.pkt", "lua {\nprint(require('pkt').send == send)\nprint(package.searchpath('x', '/etc/?'))\n}\n");
  p = run_pkt({"run", "--sandbox", kScope, pk});
  CHECK(p.rc == 1);
  CHECK(p.out == "true\n");
  CHECK(has(p.err, pk + ":3: package.searchpath is not available in --sandbox"));
  // package.path pointed elsewhere cannot reach outside the directory.
  std::string out = d.write("out.pkt", "lua {\npackage.path = '/usr/share/lua/5.4/?.lua'\nrequire('nothere')\n}\n");
  p = run_pkt({"run", "--sandbox", kScope, out});
  CHECK(p.rc == 1);
  CHECK(has(p.err, "module 'nothere' not found"));
}

TEST_CASE("sandbox: string.dump and loading bytecode are refused", "[sandbox][binary]") {
  TempDir d;
  Both b = lua_line(d, "print(#string.dump(function() return 1 end) > 0)");
  INFO(b.sandboxed.err);
  CHECK(b.sandboxed.rc == 1);
  CHECK(has(b.sandboxed.err, b.script + ":2: string.dump is not available in --sandbox: bytecode can break out "
                                        "of the Lua VM; give Lua source text"));
  CHECK(b.plain.rc == 0);
  CHECK(b.plain.out == "true\n");

  // Real bytecode, made without --sandbox, then given to load() in it.
  std::string maker = d.write("dump.pkt", "lua {\nprint(hex.encode(string.dump(function() return 7 end)))\n}\n");
  Proc m = run_pkt({"run", maker});
  REQUIRE(m.rc == 0);
  std::string hex = m.out.substr(0, m.out.find('\n'));
  REQUIRE(hex.rfind("1b4c7561", 0) == 0);  // "\x1bLua"
  Both l = lua_line(d, "local f = load(hex.decode('" + hex + "')) print(f())");
  INFO(l.sandboxed.err);
  CHECK(l.sandboxed.rc == 1);
  CHECK(has(l.sandboxed.err, "load of a binary chunk is not available in --sandbox: bytecode can break out of the "
                             "Lua VM"));
  CHECK(l.plain.rc == 0);
  CHECK(l.plain.out == "7\n");
  // load() with mode "b" and a reader function still gets text only.
  Both r = lua_line(d, "local s = hex.decode('" + hex +
                           "') local once = s local f, e = load(function() local x = once once = nil return x end, "
                           "'c', 'b') print(f, e)");
  CHECK(r.sandboxed.rc == 0);
  CHECK(has(r.sandboxed.out, "nil\tattempt to load a binary chunk (mode is 't')"));
  // A bytecode file run as the script, or through loadfile, is refused too.
  std::string bin = d.file("chunk.lua");
  {
    std::ofstream out(bin, std::ios::binary);
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.put(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  Proc run_bin = run_pkt({"run", "--sandbox", kScope, bin});
  CHECK(run_bin.rc == 1);
  CHECK(has(run_bin.err, bin + ": a binary chunk (Lua bytecode) is not run in --sandbox; give the Lua source"));
  Proc plain_bin = run_pkt({"run", bin});
  CHECK(plain_bin.rc == 0);
  Both lf = lua_line(d, "print(loadfile('" + bin + "'))");
  CHECK(lf.sandboxed.rc == 0);
  CHECK(has(lf.sandboxed.out, "nil\tattempt to load a binary chunk (mode is 't')"));
}

TEST_CASE("sandbox: debug.sethook is refused, and works without --sandbox", "[sandbox][binary]") {
  TempDir d;
  Both b = lua_line(d, "debug.sethook() print('unhooked')");
  INFO(b.sandboxed.err);
  CHECK(b.sandboxed.rc == 1);
  CHECK(has(b.sandboxed.err, b.script + ":2: debug.sethook is not available in --sandbox: the debug library "
                                        "reaches past the sandbox and its limits"));
  CHECK(b.sandboxed.out.empty());
  CHECK(b.plain.rc == 0);
  CHECK(b.plain.out == "unhooked\n");
}

TEST_CASE("sandbox: file of ../../etc/passwd is refused but a file in the script's directory is read", "[sandbox][binary]") {
  TempDir d;
  d.write("payload.bin", "hello");
  std::string script = d.write("f.pkt",
                               "packet p = ipv4(dst=127.0.0.1) / udp(dport=9) / file(\"../../etc/passwd\")\n"
                               "hexdump p\n");
  Proc s = run_pkt({"run", "--sandbox", kScope, script});
  INFO(s.err);
  CHECK(s.rc == 1);
  CHECK(has(s.err, "file(\"../../etc/passwd\") refused: it leads to /etc/passwd, outside the script's directory " +
                       d.path + " (--sandbox reads files only there)"));
  CHECK(s.out.empty());
  Proc plain = run_pkt({"run", script});
  CHECK(plain.rc == 0);
  CHECK(has(plain.out, "root"));  // from /etc/passwd, in the hexdump's text column

  // An absolute path, and a symlink inside the directory that leads out.
  std::string abs = d.write("abs.pkt", "packet p = raw(load=file(\"/etc/passwd\"))\nhexdump p\n");
  Proc a = run_pkt({"run", "--sandbox", kScope, abs});
  CHECK(a.rc == 1);
  CHECK(has(a.err, "file(\"/etc/passwd\") refused: it is outside the script's directory " + d.path));
  REQUIRE(symlink("/etc/passwd", d.file("innocent.txt").c_str()) == 0);
  std::string link = d.write("link.pkt", "packet p = raw(load=file(\"innocent.txt\"))\nhexdump p\n");
  Proc l = run_pkt({"run", "--sandbox", kScope, link});
  CHECK(l.rc == 1);
  CHECK(has(l.err, "file(\"innocent.txt\") refused: it leads to /etc/passwd, outside the script's directory"));

  std::string ok = d.write("ok.pkt", "packet p = raw(load=file(\"payload.bin\"))\nhexdump p\n");
  Proc o = run_pkt({"run", "--sandbox", kScope, ok});
  INFO(o.err);
  CHECK(o.rc == 0);
  CHECK(has(o.out, "6865 6c6c 6f"));
}

TEST_CASE("sandbox: files named from Lua and by write stay in the script's directory", "[sandbox][binary]") {
  TempDir d;
  struct Case {
    std::string code, message;
  };
  std::vector<Case> cases = {
      {"lua {\nprint(loadfile('/etc/passwd'))\n}\n",
       "loadfile(\"/etc/passwd\") refused: it is outside the script's directory"},
      {"lua {\ndofile('../../etc/passwd')\n}\n", "dofile(\"../../etc/passwd\") refused:"},
      {"lua {\ndofile()\n}\n", "dofile() without a file name reads standard input, which is not available in --sandbox"},
      {"lua {\nfor p in pcap.read('/etc/passwd') do end\n}\n",
       "pcap.read(\"/etc/passwd\") refused: it is outside the script's directory"},
      {"lua {\nlocal p = packet('raw(load=file(\"/etc/hostname\"))')\n}\n", "file(\"/etc/hostname\") refused"},
      {"packet p = read(\"/etc/passwd\")\n", "read(\"/etc/passwd\") refused: it is outside the script's directory"},
      {"layer leak { secret : bytes = file(\"/etc/passwd\") }\n", "file(\"/etc/passwd\") refused"},
      {"packet p = raw(load=\"x\")\nwrite p to \"/tmp/pkt_sandbox_escape.pcap\"\n",
       "write to \"/tmp/pkt_sandbox_escape.pcap\" refused: it is outside the script's directory"},
      {"lua {\nlocal c, e = tcp.connect('localhost.example', 9)\n}\n",
       "tcp.connect to 'localhost.example' refused: --sandbox resolves no host names"},
  };
  for (auto& c : cases) {
    std::string script = d.write("c.pkt", c.code);
    Proc p = run_pkt({"run", "--sandbox", kScope, script});
    INFO(c.code << "\n" << p.err);
    CHECK(p.rc == 1);
    CHECK(has(p.err, c.message));
  }
  struct stat st;
  CHECK(stat("/tmp/pkt_sandbox_escape.pcap", &st) != 0);
  // Inside the directory, writing works.
  std::string w = d.write("w.pkt", "packet p = raw(load=\"x\")\nwrite p to \"" + d.file("in.pcap") + "\"\n");
  Proc p = run_pkt({"run", "--sandbox", kScope, w});
  INFO(p.err);
  CHECK(p.rc == 0);
  CHECK(stat(d.file("in.pcap").c_str(), &st) == 0);
}

TEST_CASE("sandbox: without a scope it refuses to run, and with one sends outside it are refused", "[sandbox][binary]") {
  TempDir d;
  std::string script = d.write("send.pkt",
                               "packet ok = ipv4(dst=127.0.0.1) / udp(dport=9)\n"
                               "send ok\n"
                               "packet far = ipv4(dst=192.0.2.1) / udp(dport=9)\n"
                               "send far\n");
  Proc none = run_pkt({"run", "--sandbox", "--dry-run", script});
  CHECK(none.rc == 2);
  CHECK(none.err == "pkt: --sandbox needs a send scope: give --scope CIDR[,CIDR...] (e.g. --scope "
                    "127.0.0.0/8,::1/128) or set PKT_SCOPE; a script you did not write may send only where you allow\n");
  CHECK(none.out.empty());

  Proc env = run_pkt({"run", "--sandbox", "--dry-run", script}, "PKT_SCOPE=127.0.0.1");
  INFO(env.err);
  CHECK(env.rc == 1);
  CHECK(has(env.err, "send to 192.0.2.1 refused: outside the scope 127.0.0.1"));
  CHECK(has(env.err, "sent 1 packet"));

  std::string lua = d.write("send.lua", "send(packet('ipv4(dst=127.0.0.1) / udp(dport=9)'))\n"
                                        "send(packet('ipv4(dst=192.0.2.1) / udp(dport=9)'))\n");
  Proc l = run_pkt({"run", "--sandbox", "--dry-run", "--scope", "127.0.0.0/8", lua});
  INFO(l.err);
  CHECK(l.rc == 1);
  CHECK(has(l.err, lua + ":2: send to 192.0.2.1 refused: outside the scope 127.0.0.0/8"));
  CHECK(has(l.err, "sent 1 packet"));
}

TEST_CASE("limits: --lua-timeout stops a busy loop, even one that catches the error", "[limits][binary]") {
  TempDir d;
  std::string script = d.write("spin.pkt",
                               "packet p = ipv4(dst=127.0.0.1) / udp(dport=9)\n"
                               "send p count 3\n"
                               "lua {\n"
                               "  while true do end\n"
                               "}\n"
                               "show p\n");
  Proc p = run_pkt({"run", "--dry-run", "--lua-timeout", "300ms", script});
  INFO(p.err);
  CHECK(p.rc == 1);
  CHECK(p.seconds < 3.0);
  CHECK(p.seconds >= 0.3);
  // The send's own final line, then the error (no total: that line said it all).
  CHECK(p.err == "sent 3 packets\n" + script +
                     ":4: Lua time limit reached: the script ran Lua for more than 300ms (--lua-timeout 300ms)\n");
  CHECK(p.out.empty());  // `show p` after the block never ran

  std::string sly = d.write("sly.lua",
                            "local n = 0\n"
                            "while true do\n"
                            "  local ok = pcall(function() while true do end end)\n"
                            "  n = n + 1\n"
                            "end\n");
  Proc s = run_pkt({"run", "--lua-timeout", "300ms", sly});
  INFO(s.err);
  CHECK(s.rc == 1);
  CHECK(s.seconds < 3.0);
  CHECK(has(s.err, "Lua time limit reached: the script ran Lua for more than 300ms (--lua-timeout 300ms)"));

  std::string nap = d.write("nap.lua", "sleep(60)\nprint('woke')\n");
  Proc n = run_pkt({"run", "--sandbox", kScope, "--lua-timeout", "0.5s", nap});
  INFO(n.err);
  CHECK(n.rc == 1);
  CHECK(n.seconds < 3.0);
  CHECK(n.err == nap + ":1: Lua time limit reached: the script ran Lua for more than 0.5s (--lua-timeout 0.5s)\n");
  CHECK(n.out.empty());
}

TEST_CASE("limits: --lua-timeout ends a long send from Lua and a __gc loop that no hook reaches", "[limits][binary]") {
  TempDir d;
  // The watchdog's SIGINT ends the send as Ctrl-C would; the error is the time limit.
  std::string send = d.write("flood.lua",
                             "local p = packet('ipv4(dst=127.0.0.1) / udp(dport=9)')\n"
                             "send(p, {count = 1000000000})\n"
                             "print('not reached')\n");
  Proc s = run_pkt({"run", "--dry-run", "--lua-timeout", "300ms", send});
  INFO(s.err);
  CHECK(s.rc == 1);
  CHECK(s.seconds < 3.0);
  CHECK(s.err.rfind(send + ":2: Lua time limit reached: the script ran Lua for more than 300ms (--lua-timeout 300ms)\n"
                           "sent ",
                    0) == 0);
  CHECK(s.out.empty());

  // Lua runs finalizers with hooks off: the watchdog ends the process 2 s past the limit.
  std::string gc = d.write("gc.lua",
                           "setmetatable({}, {__gc = function() while true do end end})\n"
                           "collectgarbage()\n"
                           "print('not reached')\n");
  Proc g = run_pkt({"run", "--lua-timeout", "300ms", gc});
  INFO(g.err);
  CHECK(g.rc == 1);
  CHECK(g.seconds < 5.0);
  CHECK(g.err == "pkt: Lua time limit reached: the script ran Lua for more than 300ms (--lua-timeout 300ms) in a call "
                 "that no hook reaches (a __gc finalizer or one long C function); stopped by force\n");
  CHECK(g.out.empty());
}

TEST_CASE("limits: --lua-memory stops a table bomb at the cap", "[limits][binary]") {
  TempDir d;
  std::string script = d.write("bomb.pkt",
                               "packet p = ipv4(dst=127.0.0.1) / udp(dport=9)\n"
                               "send p count 2\n"
                               "lua {\n"
                               "  local t = {} for i = 1, 1e9 do t[i] = string.rep(\"x\", 1000) .. i end\n"
                               "}\n");
  Proc p = run_pkt({"run", "--dry-run", "--lua-memory", "32M", script});
  INFO(p.err);
  CHECK(p.rc == 1);
  CHECK(p.seconds < 10.0);
  CHECK(p.err == "sent 2 packets\n" + script + ":4: Lua memory limit reached: the Lua heap may hold 32M (--lua-memory 32M)\n");
  rusage ru{};
  getrusage(RUSAGE_CHILDREN, &ru);
  // kB: the cap held (without it the loop grows to the default 1G). Under
  // AddressSanitizer freed blocks wait in its quarantine (256 MiB) first.
  CHECK(ru.ru_maxrss < (kAsan ? 700 : 200) * 1024);

  // The same under --sandbox's default cap (256M), in a .lua script (larger
  // strings: near a cap every allocation first runs a full collection).
  std::string lua = d.write("bomb.lua", "local t = {}\nfor i = 1, 1e9 do t[i] = string.rep('x', 100000) .. i end\n");
  Proc s = run_pkt({"run", "--sandbox", kScope, lua});
  INFO(s.err);
  CHECK(s.rc == 1);
  CHECK(s.err == lua + ":2: Lua memory limit reached: the Lua heap may hold 256M (--lua-memory 256M)\n");

  // A script that catches the error goes on, still within the cap.
  std::string caught = d.write("caught.lua",
                               "local ok, e = pcall(function() local t = {} for i = 1, 1e9 do t[i] = "
                               "string.rep('x', 1000) .. i end end)\n"
                               "collectgarbage()\n"
                               "print(ok, e, collectgarbage('count') < 32 * 1024)\n");
  Proc c = run_pkt({"run", "--lua-memory", "32M", caught});
  INFO(c.err);
  CHECK(c.rc == 0);
  CHECK(c.out == "false\tnot enough memory\ttrue\n");
}

TEST_CASE("limits: --lua-memory and --lua-timeout reject what is not a size or a duration", "[limits][binary]") {
  TempDir d;
  std::string script = d.write("x.pkt", "lua {\nprint('ran')\n}\n");
  Proc m = run_pkt({"run", "--lua-memory", "12X", script});
  CHECK(m.rc == 2);
  CHECK(m.err == "pkt: --lua-memory: '12X' is not a size (e.g. 64M, 1G, 512k: powers of 1024)\n");
  Proc small = run_pkt({"run", "--lua-memory", "100k", script});
  CHECK(small.rc == 2);
  CHECK(small.err == "pkt: --lua-memory 100k: the Lua state needs at least 1M\n");
  Proc t = run_pkt({"run", "--lua-timeout", "soon", script});
  CHECK(t.rc == 2);
  CHECK(t.err == "pkt: --lua-timeout: 'soon' is not a duration (e.g. 2s, 500ms, 1.5)\n");
  Proc ok = run_pkt({"run", "--lua-memory", "1M", "--lua-timeout", "10s", script});
  INFO(ok.err);
  CHECK(ok.rc == 0);
  CHECK(ok.out == "ran\n");
}

TEST_CASE("sizes: k, M and G are powers of 1024", "[limits]") {
  CHECK(LuaLimits::parse_memory("64M") == 64u << 20);
  CHECK(LuaLimits::parse_memory("1G") == 1u << 30);
  CHECK(LuaLimits::parse_memory("512k") == 512u << 10);
  CHECK(LuaLimits::parse_memory("512K") == 512u << 10);
  CHECK(LuaLimits::parse_memory("2MiB") == 2u << 20);
  CHECK(LuaLimits::parse_memory("1048576") == 1048576u);
  for (const char* bad : {"", "M", "-1M", "1.5G", "1T", "12 M", "99999999999999999999G"})
    CHECK_THROWS_AS(LuaLimits::parse_memory(bad), std::invalid_argument);
}

TEST_CASE("confine_path: .., absolute paths and symlinks that leave the directory", "[sandbox]") {
  TempDir d;
  REQUIRE(mkdir(d.file("sub").c_str(), 0700) == 0);
  d.write("sub/in.txt", "x");
  REQUIRE(symlink("/etc", d.file("sub/etc").c_str()) == 0);
  REQUIRE(symlink("in.txt", d.file("sub/alias").c_str()) == 0);
  REQUIRE(symlink("/nonexistent/target", d.file("sub/dangling").c_str()) == 0);
  std::string root = confine_root(d.file("sub"));
  CHECK(confine_path(root, d.file("sub/in.txt")) == "");
  CHECK(confine_path(root, d.file("sub/alias")) == "");
  CHECK(confine_path(root, d.file("sub/new.pcap")) == "");  // not there yet: judged by its directory
  CHECK(confine_path(root, d.file("sub/../sub/in.txt")) == "");
  CHECK(confine_path(root, d.file("sub/..")) == "it leads to " + d.path + ", outside the script's directory " + root);
  CHECK(confine_path(root, d.file("sub/../x")) == "it leads to " + d.path + "/x, outside the script's directory " + root);
  CHECK(confine_path(root, "/etc/passwd") == "it is outside the script's directory " + root);
  CHECK(confine_path(root, d.file("sub/etc/passwd")) == "it leads to /etc/passwd, outside the script's directory " + root);
  CHECK(confine_path(root, d.file("sub/dangling")) ==
        "it is a symbolic link to a missing file, which may be outside the script's directory " + root);
  CHECK(confine_path(root, d.file("sub/nodir/x")) ==
        "its directory cannot be resolved (No such file or directory), so it may be outside the script's directory " + root);
  // A directory whose name starts like the root is not inside it.
  REQUIRE(mkdir(d.file("subway").c_str(), 0700) == 0);
  d.write("subway/f", "x");
  CHECK(confine_path(root, d.file("subway/f")) != "");
}
