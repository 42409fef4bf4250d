// The Lua API: lua { } blocks in scripts, `pkt run file.lua`, packets and
// layers from Lua, send, errors with script lines, Ctrl-C. Runs real
// scripts, in-process through Runner (with a dry-run Sender writing a pcap)
// and end to end through the pkt binary.
#include <catch2/catch.hpp>

#include "run_pkt.hpp"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "parse.hpp"
#include "run/runner.hpp"

#if !defined(PKT_BINARY) || !defined(PKT_SOURCE_DIR)
#error "PKT_BINARY (the pkt executable) and PKT_SOURCE_DIR (the source tree) must be defined"
#endif

using namespace pkt;

namespace {

using pkt_test::Proc;
using pkt_test::run_pkt;
using pkt_test::slurp;
using pkt_test::TempDir;

// Redirects this process's stdout (C stdio and fd 1) to a file.
class CaptureStdout {
 public:
  CaptureStdout() : path_(dir_.file("stdout")) {
    std::fflush(stdout);
    saved_ = dup(1);
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    close(fd);
  }
  ~CaptureStdout() { finish(); }
  std::string finish() {
    if (saved_ >= 0) {
      std::fflush(stdout);
      dup2(saved_, 1);
      close(saved_);
      saved_ = -1;
      text_ = slurp(path_);
    }
    return text_;
  }

 private:
  TempDir dir_;
  std::string path_;
  int saved_ = -1;
  std::string text_;
};

struct Result {
  std::string out;    // stdout
  std::string error;  // a LuaError's or ScriptError's text; empty when the run succeeded
  std::uint64_t sent = 0;
};

// Runs script text (named `name` for messages) in-process.
Result run_script(const std::string& name, const std::string& text, SendConfig cfg = {}) {
  Result r;
  Session session(Registry::with_stdlib());
  ast::Script script = parse_script(Source::make(name, text));
  RunOptions opts;
  opts.send = std::move(cfg);
  CaptureStdout cap;
  {
    Runner runner(session, opts);
    try {
      runner.run(script);
    } catch (const LuaError& e) {
      r.error = e.what();
    } catch (const ScriptError& e) {
      r.error = format_error(e);
    }
    r.sent = runner.sent();
  }  // the Sender (and its pcap) is closed here
  r.out = cap.finish();
  return r;
}

// The UDP destination ports of the packets in a LINKTYPE_RAW pcap file.
std::vector<int> pcap_udp_dports(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t* pc = pcap_open_offline(path.c_str(), errbuf);
  REQUIRE(pc != nullptr);
  CHECK(pcap_datalink(pc) == DLT_RAW);
  std::vector<int> out;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(pc, &h, &data) == 1) {
    REQUIRE(h->caplen >= 28);
    std::size_t ihl = (data[0] & 0x0f) * 4u;
    REQUIRE(data[9] == 17);
    out.push_back(data[ihl + 2] << 8 | data[ihl + 3]);
  }
  pcap_close(pc);
  return out;
}

// The example of the issue, verbatim.
const char* kContract = R"pkt(param dst = 127.0.0.1
packet p = ipv4(dst=dst) / udp(sport=1000, dport=9) / "x"
lua {
  for i = 1, 5 do
    p.udp.dport = 9000 + i          -- range-checked: p.udp.dport = 70000 raises an error naming the field and range
    send(p)
  end
  local q = ipv4{dst = dst, ttl = 3} / tcp{dport = 80, flags = "SYN|ACK"} / "hi"   -- layers built from Lua
  local r = packet("ipv4(dst=127.0.0.1) / icmp(type=8, id=1, seq=1)")              -- DSL text compiled from Lua
  print(#q, q:hex(), r.icmp.type)
  q:show()
}
send p count 3 interval 10ms
)pkt";

// q's bytes, from scapy (/usr/bin/python3):
//   bytes(IP(src="127.0.0.1", dst="127.0.0.1", ttl=3, id=1) /
//         TCP(sport=20, dport=80, flags="SA", window=8192) / b"hi").hex()
// (the ipv4 and tcp defaults of stdlib/: id 1, sport 20, window 8192).
const char* kQHex = "4500002a000100000306b9cb7f0000017f00000100140050000000000000000050122000290100006869";

const std::vector<int> kContractPorts = {9001, 9002, 9003, 9004, 9005, 9005, 9005, 9005};

}  // namespace

TEST_CASE("the contract example runs: Lua writes reach the DSL's send, one Sender, one pcap", "[lua]") {
  TempDir d;
  SendConfig cfg;
  cfg.dry_run = true;
  cfg.pcap_path = d.file("out.pcap");
  Result r = run_script("contract.pkt", kContract, cfg);
  INFO(r.error);
  REQUIRE(r.error.empty());
  CHECK(r.sent == 8);
  CHECK(pcap_udp_dports(cfg.pcap_path) == kContractPorts);
  // print(#q, q:hex(), r.icmp.type)
  CHECK(r.out.rfind(std::string("42\t") + kQHex + "\t8\n", 0) == 0);
  // q:show()
  CHECK(r.out.find("ttl      = 3") != std::string::npos);
  CHECK(r.out.find("flags    = ACK|SYN (0x12)") != std::string::npos);
  CHECK(r.out.find("load = \"hi\"") != std::string::npos);
}

TEST_CASE("the contract example end to end through the binary", "[lua][binary]") {
  TempDir d;
  std::string script = d.write("contract.pkt", kContract);
  Proc p = run_pkt({"run", script, "--dry-run", "--pcap", d.file("out.pcap")});
  INFO(p.err);
  CHECK(p.rc == 0);
  CHECK(p.out.rfind(std::string("42\t") + kQHex + "\t8\n", 0) == 0);
  CHECK(p.out.find("proto    = tcp (0x6)") != std::string::npos);
  CHECK(p.err.find("sent 8 packets") != std::string::npos);
  CHECK(pcap_udp_dports(d.file("out.pcap")) == kContractPorts);
}

TEST_CASE("a nil write raises at the script line through the binary", "[lua][binary]") {
  TempDir d;
  std::string script = d.write("typo.pkt",
                               "packet p = ipv4(dst=127.0.0.1) / tcp(dport=443)\n"
                               "lua {\n"
                               "  local ports = {22, 80}\n"
                               "  for i = 1, 3 do\n"
                               "    p.tcp.dport = ports[i]\n"
                               "    send(p)\n"
                               "  end\n"
                               "}\n");
  Proc p = run_pkt({"run", script, "--dry-run"});
  CHECK(p.rc == 1);
  CHECK(p.err.rfind(script + ":5: cannot set tcp.dport to nil (use pkt.default to reset a field to its default, or "
                             "pkt.auto to let its rule compute it)\nstack traceback:",
                    0) == 0);
  CHECK(p.err.find("sent 2 packets") != std::string::npos);
}

TEST_CASE("an out-of-range write raises at the script line, naming the field and range", "[lua][binary]") {
  TempDir d;
  std::string script = d.write("range.pkt",
                               "packet p = ipv4() / udp(dport=9)\n"
                               "lua {\n"
                               "  p.udp.dport = 9001\n"
                               "  p.udp.dport = 70000\n"
                               "}\n");
  Proc p = run_pkt({"run", script, "--dry-run"});
  CHECK(p.rc == 1);
  CHECK(p.err.find(script + ":4: dport=70000 is out of range: dport is u16, 0..65535") != std::string::npos);
  CHECK(p.err.find("stack traceback:") != std::string::npos);

  Result r = run_script("neg.pkt", "packet p = ipv4() / udp()\nlua {\n  p.ipv4.ttl = -1\n}\n");
  CHECK(r.error.find("neg.pkt:3: ttl=-1 is out of range: ttl is u8, 0..255") != std::string::npos);
}

TEST_CASE("unknown layers and fields suggest the nearest name", "[lua]") {
  Result r = run_script("unknown.pkt",
                        "packet p = ipv4() / udp()\n"
                        "lua {\n"
                        "  local ok, e = pcall(function() return p.udp.dprt end)\n"
                        "  print(e)\n"
                        "  ok, e = pcall(function() return p.udpp end)\n"
                        "  print(e)\n"
                        "  ok, e = pcall(function() return ipv4{tll = 3} end)\n"
                        "  print(e)\n"
                        "}\n");
  REQUIRE(r.error.empty());
  CHECK(r.out.find("unknown.pkt:3: udp has no field 'dprt'; did you mean 'dport'?") != std::string::npos);
  CHECK(r.out.find("unknown.pkt:5: the packet has no layer or method 'udpp' (did you mean 'udp'?)") != std::string::npos);
  CHECK(r.out.find("unknown.pkt:7: ipv4 has no field 'tll'; did you mean 'ttl'?") != std::string::npos);
}

TEST_CASE("clone is a deep copy, handles share the session's set", "[lua]") {
  Result r = run_script("clone.pkt",
                        "packet p = ipv4() / udp(dport=9)\n"
                        "lua {\n"
                        "  local c = p:clone()\n"
                        "  local u = c.udp\n"
                        "  u.dport = 1\n"
                        "  c.ipv4.ttl = 7\n"
                        "  print(p.udp.dport, c.udp.dport, p.ipv4.ttl, c.ipv4.ttl, p:hex() ~= c:hex())\n"
                        "  local h = p.udp\n"
                        "  p.udp.dport = 42\n"
                        "  print(h.dport)\n"
                        "}\n");
  INFO(r.error);
  REQUIRE(r.error.empty());
  CHECK(r.out == "9\t1\t64\t7\ttrue\n42\n");
}

TEST_CASE("iterating a set of 6 gives single packets in generator order", "[lua]") {
  Result r = run_script("each.pkt",
                        "packet s = ipv4() / udp(dport=1..3, sport=[7, 8])\n"
                        "lua {\n"
                        "  print(s:count(), #s)\n"
                        "  local n = 0\n"
                        "  for q in s:each() do\n"
                        "    n = n + 1\n"
                        "    io.write(q:count(), ':', q.udp.dport, ':', q.udp.sport, ' ')\n"
                        "  end\n"
                        "  print(n)\n"
                        "  local t = ipv4{dst = {'127.0.0.1', '127.0.0.2'}} / udp{dport = {5, 6, 7}}\n"
                        "  print(t:count(), tostring(t))\n"
                        "  t.udp.dport = 9\n"
                        "  print(t:count())\n"
                        "}\n");
  INFO(r.error);
  REQUIRE(r.error.empty());
  CHECK(r.out ==
        "6\t28\n"
        "1:1:7 1:1:8 1:2:7 1:2:8 1:3:7 1:3:8 6\n"
        "6\tipv4(dst=[127.0.0.1, 127.0.0.2]) / udp(dport=[5, 6, 7]) (6 packets, the first 28 bytes)\n"
        "2\n");
}

TEST_CASE("packet() compiles DSL text, a syntax error raises the formatted diagnostic", "[lua]") {
  Result r = run_script("dsl.pkt",
                        "param port = 7\n"
                        "lua {\n"
                        "  local a = packet('ipv4() / udp(dport=port) / \"x\"')\n"
                        "  print(a.udp.dport, a.raw.load, a.ipv4.proto)\n"
                        "  local ok, e = pcall(packet, 'ipv4(dst=) / udp()')\n"
                        "  print(e)\n"
                        "  packet('ipv4(ttl=300)')\n"
                        "}\n");
  CHECK(r.out ==
        "7\tx\t17\n"
        "<packet>:1:10: error: expected a value after '='\n"
        "    ipv4(dst=) / udp()\n"
        "             ^\n");
  CHECK(r.error.find("dsl.pkt:7: <packet>:1:10: error: ttl=300 is out of range: ttl is u8, 0..255") != std::string::npos);
}

TEST_CASE("Lua errors carry the script's line numbers and a traceback", "[lua]") {
  // The block starts on line 5; the error is raised on line 7, called from line 8.
  Result r = run_script("trace.pkt",
                        "param dst = 127.0.0.1\n"
                        "packet p = ipv4(dst=dst) / udp()\n"
                        "# a comment\n"
                        "\n"
                        "lua {\n"
                        "  local x = 1\n"
                        "  local function f() error('deep failure') end\n"
                        "  f()\n"
                        "}\n");
  CHECK(r.error.rfind("trace.pkt:7: deep failure\nstack traceback:", 0) == 0);
  CHECK(r.error.find("trace.pkt:7: in local 'f'") != std::string::npos);
  CHECK(r.error.find("trace.pkt:8: in main chunk") != std::string::npos);

  // Code on the line of `lua {`, after other statements; syntax errors too.
  Result one = run_script("oneline.pkt", "let a = 1\n\n\nlua { local t = nil; print(t.x) }\n");
  CHECK(one.error.rfind("oneline.pkt:4: attempt to index a nil value (local 't')", 0) == 0);
  Result syn = run_script("syntax.pkt", "let a = 1\nlua {\n  x = = 1\n}\n");
  CHECK(syn.error.rfind("syntax.pkt:3: unexpected symbol near '='", 0) == 0);

  TempDir d;
  std::string script = d.write("trace.pkt", "let a = 1\n\n\n\nlua {\n\n  error('boom')\n}\n");
  Proc p = run_pkt({"run", script});
  CHECK(p.rc == 1);
  CHECK(p.err.rfind(script + ":7: boom\nstack traceback:", 0) == 0);
}

TEST_CASE("params, lets and packets above a block are globals, one state per run", "[lua]") {
  Result r = run_script("globals.pkt",
                        "param n = 5\n"
                        "param dst = 10.0.0.1\n"
                        "param six = ::1\n"
                        "param mac = 02:00:00:00:00:01\n"
                        "let s = \"text\"\n"
                        "let b = hex\"0001ff\"\n"
                        "let f = SYN|ACK\n"
                        "let t = 10ms\n"
                        "let alias = n\n"
                        "packet p = ipv4(dst=dst) / tcp(flags=f)\n"
                        "lua {\n"
                        "  print(math.type(n), n, dst, six, mac, s, #b, b:byte(3), f, t, alias)\n"
                        "  print(p.ipv4.dst, p.tcp.flags, later)\n"
                        "  kept = 'from the first block'\n"
                        "}\n"
                        "packet later = udp()\n"
                        "lua { print(kept, later.udp.dport) }\n");
  INFO(r.error);
  REQUIRE(r.error.empty());
  CHECK(r.out ==
        "integer\t5\t10.0.0.1\t::1\t02:00:00:00:00:01\ttext\t3\t255\tSYN|ACK\t0.01\t5\n"
        "10.0.0.1\t18\tnil\n"
        "from the first block\t53\n");
}

TEST_CASE("the packet API, line by line", "[lua]") {
  auto lua_out = [](const std::string& code) {
    Result r = run_script("line.pkt", "lua {\n" + code + "\n}\n");
    INFO(r.error);
    REQUIRE(r.error.empty());
    return r.out;
  };
  CHECK(lua_out("local x = ipv4() / tcp{options = '[mss(1460), nop, nop, sackok]'}\n"
                "print(hex.encode(x.tcp.options), x.tcp.offset, #x)") == "020405b401010402\t7\t48\n");
  CHECK(lua_out("local e = eth{src = '02:00:00:00:00:01'} / arp{op = 'reply', spa = '10.0.0.1'}\n"
                "print(e.eth.src, e.eth.type, e.arp.op, e.arp.spa, table.concat(e:layers(), ','))") ==
        "02:00:00:00:00:01\t2054\t2\t10.0.0.1\teth,arp\n");
  CHECK(lua_out("local p = ipv4{ttl = 3} / udp() / 'abc'\n"
                "print(p[3].load, p[2].dport, p[4], p:layer('udp').sport, p:bytes():sub(-3))") ==
        "abc\t53\tnil\t53\tabc\n");
  // A user value replaces an auto rule; pkt.auto gives the field back to it,
  // pkt.default to its binding.
  CHECK(lua_out("local p = ipv4() / udp()\n"
                "local sum = p.ipv4.checksum\n"
                "p.ipv4.checksum = 0\n"
                "io.write(p.ipv4.checksum, ' ')\n"
                "p.ipv4.checksum = pkt.auto\n"
                "io.write(tostring(p.ipv4.checksum == sum), ' ')\n"
                "p.ipv4.proto = 6\n"
                "p.ipv4.proto = pkt.default\n"
                "print(p.ipv4.proto)") == "0 true 17\n");
  // The source is the route's until set; pkt.auto gives it back to the route
  // lookup (127.0.0.1 for a loopback destination), and tostring leaves it out.
  CHECK(lua_out("local p = ipv4{src = '10.0.0.1', dst = '127.0.0.5'} / udp()\n"
                "print(tostring(p))\n"
                "p.ipv4.src = pkt.auto\n"
                "print(tostring(p), p.ipv4.src, p:hex():sub(25, 40))") ==
        "ipv4(src=10.0.0.1, dst=127.0.0.5) / udp() (28 bytes)\n"
        "ipv4(dst=127.0.0.5) / udp() (28 bytes)\t127.0.0.1\t7f0000017f000005\n");
  CHECK(lua_out("local p = ipv4{src = '10.0.0.1', dst = '127.0.0.5'} / udp()\n"
                "local q = ipv4{dst = '127.0.0.5'} / udp()\n"
                "p.ipv4.src = pkt.auto\n"
                "print(p:hex() == q:hex())") == "true\n");
  CHECK(lua_out("local p = ipv4() / udp{sport = 1000, dport = 9} / 'x'\n"
                "local names = {}\n"
                "for k in pairs(p.udp) do names[#names + 1] = k end\n"
                "print(table.concat(names, ','))\n"
                "print(tostring(p))\n"
                "print(tostring(p.udp))") ==
        "sport,dport,length,checksum\n"
        "ipv4() / udp(sport=1000, dport=9) / \"x\" (29 bytes)\n"
        "udp(sport=1000, dport=9, length=9, checksum=0x85e8)\n");
  CHECK(lua_out("local inner = ipv4() / udp{dport = 9}\n"
                "local outer = ipv4{proto = 4} / raw{load = inner}\n"
                "print(#outer, outer.raw.load == inner:bytes())") == "48\ttrue\n");
  CHECK(lua_out("print(hex.encode('hi'), hex.decode('68 69'), base64.encode('hi'), base64.decode('aGk='))") ==
        "6869\thi\taGk=\thi\n");
  CHECK(lua_out("print(select(2, pcall(hex.decode, 'abc')))\nprint(select(2, pcall(hex.decode, 'zz')))") ==
        "hex.decode: odd number of hex digits (each byte is two)\n"
        "hex.decode: 'z' at offset 0 is not a hex digit\n");
  CHECK(lua_out("local pk = require 'pkt'\n"
                "print(pk.packet == packet, pk.layers.ipv4 == ipv4, pk.send == send, type(tcp), type(udp))\n"
                "print(#tcp{dport = 80}, #udp())") == "true\ttrue\ttrue\ttable\ttable\n20\t8\n");
  CHECK(lua_out("local ok, e = pcall(function() local p = ipv4() p.ipv4 = 1 end)\nprint(e)") ==
        "line.pkt:2: cannot assign to packet.ipv4: set a layer's fields instead (p.udp.dport = 9)\n");
  CHECK(lua_out("print(pcall(function() return ipv4() / 5 end))") ==
        "false\tline.pkt:2: cannot stack a number: expected a packet (e.g. udp{dport = 9}) or a string payload\n");
  CHECK(lua_out("sleep(0.001) sleep('1ms') print(pcall(sleep, -1))") ==
        "false\tsleep -1 is out of range: expected 0 or more seconds\n");
}

// A nil from a typo (ports[3] of a two-element table) must not reset a field
// silently; resetting is spelled pkt.default or pkt.auto.
TEST_CASE("nil is not a field value, pkt.default and pkt.auto reset a field", "[lua]") {
  const std::string nil_message =
      "cannot set tcp.dport to nil (use pkt.default to reset a field to its default, or pkt.auto to let its rule "
      "compute it)";
  Result r = run_script("nil.pkt",
                        "packet p = ipv4(dst=127.0.0.1) / tcp(dport=443)\n"
                        "lua {\n"
                        "  local ports = {22, 80}\n"
                        "  p.tcp.dport = ports[3]\n"
                        "}\n");
  CHECK(r.error.rfind("nil.pkt:4: " + nil_message + "\nstack traceback:", 0) == 0);

  auto lua_out = [](const std::string& code) {
    Result r = run_script("reset.pkt", "packet p = ipv4(dst=127.0.0.1) / tcp(dport=443)\nlua {\n" + code + "\n}\n");
    INFO(r.error);
    REQUIRE(r.error.empty());
    return r.out;
  };
  // The field keeps its value after the failed write.
  CHECK(lua_out("print(pcall(function() p.tcp.dport = nil end))\nprint(p.tcp.dport)") ==
        "false\treset.pkt:3: " + nil_message + "\n443\n");
  // Unique values with a name, in the module (also as require 'pkt'), not globals of their own.
  CHECK(lua_out("print(pkt.default, pkt.auto, pkt.default == pkt.auto, require('pkt').auto == pkt.auto, default, auto)") ==
        "pkt.default\tpkt.auto\tfalse\ttrue\tnil\tnil\n");
  // pkt.default: the declared default, or the bound value when the layer above binds the field.
  CHECK(lua_out("p.tcp.dport = pkt.default\n"
                "p.ipv4.ttl = 1\n"
                "p.ipv4.ttl = pkt.default\n"
                "p.ipv4.proto = 99\n"
                "p.ipv4.proto = pkt.default\n"
                "print(p.tcp.dport, p.ipv4.ttl, p.ipv4.proto)") == "80\t64\t6\n");
  // pkt.auto: back to the rule, which recomputes it (the packet is unchanged from the original).
  CHECK(lua_out("local before = p:hex()\n"
                "p.ipv4.checksum = 0xdead\n"
                "p.tcp.checksum = 0xbeef\n"
                "p.ipv4.length = 1000\n"
                "p.ipv4.checksum = pkt.auto\n"
                "p.tcp.checksum = pkt.auto\n"
                "p.ipv4.length = pkt.auto\n"
                "print(p:hex() == before, p.ipv4.length)") == "true\t40\n");
  CHECK(lua_out("print(pcall(function() p.tcp.dport = pkt.auto end))") ==
        "false\treset.pkt:3: tcp.dport has no auto rule: use pkt.default to reset it to its default\n");
  // Writing a reset value ends a generator; inside a sequence neither nil nor a reset value is one value.
  CHECK(lua_out("p.tcp.dport = {1, 2, 3}\n"
                "p.tcp.dport = pkt.default\n"
                "print(p:count(), p.tcp.dport)\n"
                "print(pcall(function() p.tcp.dport = {1, nil, 3} end))\n"
                "print(pcall(function() p.tcp.dport = {1, pkt.default} end))") ==
        "1\t80\n"
        "false\treset.pkt:6: cannot set tcp.dport (element 2 of the sequence) to nil (use pkt.default to reset a "
        "field to its default, or pkt.auto to let its rule compute it)\n"
        "false\treset.pkt:7: pkt.default is not a value for one packet of a set: assign it to tcp.dport itself\n");
  // Constructors take the same values.
  CHECK(lua_out("local q = ipv4{ttl = pkt.default, checksum = pkt.auto} / udp{dport = pkt.default}\n"
                "print(q.ipv4.ttl, q.udp.dport, q:hex() == (ipv4() / udp()):hex())\n"
                "print(pcall(ipv4, {ttl = pkt.auto}))") ==
        "64\t53\ttrue\n"
        "false\tipv4.ttl has no auto rule: use pkt.default to reset it to its default\n");
}

TEST_CASE("a layer named like a Lua global does not clobber it", "[lua]") {
  Result r = run_script("clash.pkt",
                        "layer print \"a layer named print\" { a : u8 = 1 }\n"
                        "lua {\n"
                        "  print(type(print), require('pkt').layers.print{a = 7}.print.a)\n"
                        "}\n");
  INFO(r.error);
  REQUIRE(r.error.empty());
  CHECK(r.out == "function\t7\n");
}

TEST_CASE("send from Lua: options, the count it returns, and its errors", "[lua]") {
  TempDir d;
  SendConfig cfg;
  cfg.dry_run = true;
  cfg.pcap_path = d.file("s.pcap");
  Result r = run_script("send.pkt",
                        "packet p = ipv4() / udp(dport=[1, 2])\n"
                        "lua {\n"
                        "  print(send(p), send(p, {count = 2, interval = 0}), (send(p, {interval = '1ms'})))\n"
                        "  print(pcall(function() send(p, {cout = 1}) end))\n"
                        "  print(pcall(function() send(p, {interval = '10'}) end))\n"
                        "  print(send(p, {threads = 2}), pcall(function() send(p, {threads = 0}) end))\n"
                        "  local n, s = send(p, {count = 3, rate = '10kpps'})\n"
                        "  print(n, s.packets, s.bytes, s.seconds, s.pps, s.bps, s.asked_pps, s.asked_bps, s.interrupted)\n"
                        "  print(s.line, s.shortfall)\n"
                        "  n, s = send(p, {rate = 250})\n"
                        "  print(n, s.asked_pps, select('#', send(p, {count = 0})))\n"
                        "  n, s = send(p, {rate = '1Mbit'})\n"
                        "  print(s.asked_pps, s.asked_bps)\n"
                        "  print(pcall(function() send(p, {rate = '10kbps'}) end))\n"
                        "  print(pcall(function() send(p, {rate = '1kpps', interval = '1ms'}) end))\n"
                        "  print(pcall(function() send(p, {rate = 0}) end))\n"
                        "  print(pcall(function() send(p, {rate = true}) end))\n"
                        "  print(pcall(function() send(p, {bypass = 'yes'}) end))\n"
                        "  print(pcall(function() send(p, {bypass = true}) end))\n"
                        "}\n",
                        cfg);
  INFO(r.error);
  REQUIRE(r.error.empty());
  CHECK(r.out ==
        "2\t4\t2\n"
        "false\tsend.pkt:4: send: unknown option 'cout' (did you mean 'count'?); options are count, interval, rate, iface, threads, bypass\n"
        "false\tsend.pkt:5: interval '10' needs a time unit (ns, us, ms, s), or give a number of seconds\n"
        // A dry run waits for nothing: no time, no rate reached, the count alone.
        "2\tfalse\tsend.pkt:6: send: threads must be an integer from 1 to 256, got 0\n"
        "6\t6\t168\t0.0\t0.0\t0.0\t10000.0\t0.0\tfalse\n"
        "sent 6 packets\tnil\n"
        "2\t250.0\t2\n"
        "0.0\t1000000.0\n"
        "false\tsend.pkt:14: send: unknown rate unit 'kbps'; expected pps, kpps, Mpps, Gpps (packets/s) or bit, kbit, "
        "Mbit, Gbit (bits/s) (bits/s are written kbit)\n"
        "false\tsend.pkt:15: send: rate and interval cannot both be given (a rate is one packet every 1/rate)\n"
        "false\tsend.pkt:16: send: rate 0 is out of range: expected packets/s above 0 and at most 1e9, or text such as "
        "\"100kpps\" or \"1Gbit\"\n"
        "false\tsend.pkt:17: send: rate is a boolean; expected text such as \"100kpps\" or \"1Gbit\", or a number of "
        "packets/s\n"
        "false\tsend.pkt:18: send: bypass must be true or false, got yes\n"
        "false\tsend.pkt:19: bypass (PACKET_QDISC_BYPASS) is an option of Ethernet frames sent on an interface, but this "
        "packet starts with ipv4 and is sent on a raw IP socket; build it on eth() and send it `on IFACE bypass`, or "
        "leave bypass out\n");
  CHECK(r.sent == 20);
  CHECK(pcap_udp_dports(cfg.pcap_path) ==
        std::vector<int>{1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2});

  // A SendError: from Lua a raised error at the line; from the DSL at the send statement.
  SendConfig scoped;
  scoped.dry_run = true;
  scoped.scope = Scope::parse("10.0.0.0/8");
  Result lua = run_script("scope.pkt", "packet p = ipv4(dst=127.0.0.1) / udp()\nlua {\n  send(p)\n}\n", scoped);
  CHECK(lua.error.rfind("scope.pkt:3: send to 127.0.0.1 refused: outside the scope 10.0.0.0/8", 0) == 0);
  Result dsl = run_script("scope.pkt", "packet p = ipv4(dst=127.0.0.1) / udp()\n\nsend p\n", scoped);
  CHECK(dsl.error.rfind("scope.pkt:3:1: error: send to 127.0.0.1 refused: outside the scope 10.0.0.0/8", 0) == 0);
  CHECK(dsl.sent == 0);
}

TEST_CASE("pkt run file.lua: the same API, -D globals", "[lua][binary]") {
  TempDir d;
  std::string script = d.write("plain.lua",
                               "local pkt = require 'pkt'\n"
                               "local p = pkt.ipv4{dst = dst} / pkt.udp{dport = port} / greeting\n"
                               "print(math.type(port), p.ipv4.dst, p.udp.dport, p.raw.load)\n"
                               "print((send(p, {count = 2})))\n");
  Proc p = run_pkt({"run", script, "-D", "dst=127.0.0.2", "-D", "port=9999", "-D", "greeting=hello world",
                    "--dry-run", "--pcap", d.file("p.pcap")});
  INFO(p.err);
  CHECK(p.rc == 0);
  CHECK(p.out == "integer\t127.0.0.2\t9999\thello world\n2\n");
  CHECK(p.err == "sent 2 packets\n");
  CHECK(pcap_udp_dports(d.file("p.pcap")) == std::vector<int>{9999, 9999});

  std::string bad = d.write("bad.lua", "\nlocal x = nil\nprint(x.y)\n");
  Proc b = run_pkt({"run", bad});
  CHECK(b.rc == 1);
  CHECK(b.err.rfind(bad + ":3: attempt to index a nil value (local 'x')\nstack traceback:", 0) == 0);
}

TEST_CASE("Ctrl-C stops a Lua loop: 'interrupted: sent N packets', exit 130", "[lua][binary]") {
  TempDir d;
  std::string ready = d.file("ready");
  std::string script = d.write("loop.pkt",
                               "packet p = ipv4() / udp(dport=9) / \"x\"\n"
                               "lua {\n"
                               "  send(p)\n"
                               "  io.open('" + ready + "', 'w'):close()\n"
                               "  local n = 0\n"
                               "  while true do n = n + 1 end\n"
                               "}\n");
  std::string err = d.file("err");
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    int nul = open("/dev/null", O_WRONLY);
    dup2(nul, 1);
    execl(PKT_BINARY, "pkt", "run", script.c_str(), "--dry-run", static_cast<char*>(nullptr));
    _exit(127);
  }
  struct stat st;
  for (int i = 0; i < 200 && stat(ready.c_str(), &st) != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(slurp(err) == "interrupted: sent 1 packet\n");
}

TEST_CASE("every pkt and lua example of docs/lua.md runs", "[lua][binary][docs]") {
  std::string doc = slurp(std::string(PKT_SOURCE_DIR) + "/docs/lua.md");
  REQUIRE(!doc.empty());
  TempDir d;
  int n = 0;
  for (std::size_t at = doc.find("```"); at != std::string::npos; at = doc.find("```", at)) {
    std::size_t eol = doc.find('\n', at);
    std::string lang = doc.substr(at + 3, eol - at - 3);
    std::size_t end = doc.find("\n```", eol);
    REQUIRE(end != std::string::npos);
    std::string body = doc.substr(eol + 1, end - eol);
    at = end + 4;
    if (lang != "pkt" && lang != "lua") continue;
    std::string file = d.write("example" + std::to_string(++n) + "." + lang, body);
    Proc p = run_pkt({"run", file, "--dry-run", "--pcap", d.file("example.pcap")});
    INFO(file << ":\n" << body << "\nstderr:\n" << p.err);
    CHECK(p.rc == 0);
  }
  CHECK(n >= 6);
}

TEST_CASE("reading from Lua: dissect, pcap.read, has, nil for an absent layer", "[lua]") {
  TempDir dir;
  auto lua_out = [&](const std::string& code) {
    Result r = run_script(dir.file("read.pkt"), "lua {\n" + code + "\n}\n");
    INFO(r.error);
    REQUIRE(r.error.empty());
    return r.out;
  };
  // dissect: IPv4 by its version; a first layer by name; fields read as built.
  CHECK(lua_out("local b = (ipv4{src = '127.0.0.1', dst = '127.0.0.2', ttl = 9} / udp{dport = 7} / 'hi'):bytes()\n"
                "local p = dissect(b)\n"
                "print(table.concat(p:layers(), ','), p.ipv4.ttl, p.ipv4.dst, p.udp.dport, p.raw.load, #p == #b)\n"
                "print(p:has('udp'), p:has('tcp'), p.tcp == nil)\n"
                "local e = dissect((eth() / arp{op = 'reply'}):bytes(), 'eth')\n"
                "print(e.arp.op, tostring(e))") ==
        "ipv4,udp,raw\t9\t127.0.0.2\t7\thi\ttrue\ntrue\tfalse\ttrue\n"
        "2\teth() / arp(op=reply) (42 bytes)\n");
  // A name that is no layer at all still raises.
  Result bad = run_script(dir.file("bad.pkt"), "lua {\nlocal p = dissect((ipv4() / udp()):bytes())\nprint(p.udpp)\n}\n");
  CHECK_THAT(bad.error, Catch::Contains("no layer or method 'udpp' (did you mean 'udp'?)"));
  // pcap.read: every record with its time, and a BPF filter.
  Result w = run_script(dir.file("w.pkt"),
                        "packet a = ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(dport=[7, 8, 9])\n"
                        "packet t = ipv4(src=127.0.0.1, dst=127.0.0.1) / tcp(dport=80)\n"
                        "write a, t to \"" + dir.file("c.pcap") + "\"\n");
  REQUIRE(w.error.empty());
  CHECK(lua_out("local ports = {}\n"
                "for p, time in pcap.read('" + dir.file("c.pcap") + "') do\n"
                "  ports[#ports + 1] = (p.udp and p.udp.dport or p.tcp.dport) .. (time > 1e9 and '' or '?')\n"
                "end\n"
                "print(table.concat(ports, ' '))\n"
                "local n = 0\n"
                "for p in pcap.read('" + dir.file("c.pcap") + "', 'tcp') do n = n + 1 end\n"
                "print(n)") == "7 8 9 80\n1\n");
  Result nofile = run_script(dir.file("nofile.pkt"), "lua {\nfor p in pcap.read('/nonexistent.pcap') do end\n}\n");
  CHECK_THAT(nofile.error, Catch::Contains("cannot read /nonexistent.pcap"));
}

TEST_CASE("signed fields are Lua integers with their sign, address and string lists are tables of strings", "[lua]") {
  SendConfig cfg;
  cfg.dry_run = true;
  Result r = run_script("types.pkt", R"(
layer sensor "x" {
    offset : i16 = 0
    npeer  : u8 = auto len(peers) / 4
    peers  : ipv4addr[] size npeer * 4
    labels : text[]
}
packet n = ipv4(dst=127.0.0.1) / udp(dport=123) / ntp(precision=-20)
packet s = ipv4(dst=127.0.0.1) / udp(dport=7013) / sensor(labels=["a"])
lua {
  print(n.ntp.precision, n.ntp.poll)
  n.ntp.precision = -7
  print(n:hex():sub(-90, -89))
  print(pcall(function() n.ntp.precision = 128 end))
  s.sensor.peers = {"10.1.1.1", "10.2.2.2"}
  s.sensor.labels = {"x", "yy"}
  print(#s.sensor.peers, s.sensor.peers[2], s.sensor.labels[2], s.sensor.npeer)
  print(s:hex():sub(-24))
  print(pcall(function() s.sensor.peers = {"nope"} end))
  print(pcall(function() s.sensor.labels = {1} end))
}
)", cfg);
  INFO(r.error);
  REQUIRE(r.error.empty());
  INFO(r.out);
  CHECK(r.out.rfind("-20\t10\nf9\nfalse\t", 0) == 0);
  CHECK(r.out.find("precision=128 is out of range: precision is i8, -128..127") != std::string::npos);
  CHECK(r.out.find("2\t10.2.2.2\tyy\t2\n") != std::string::npos);
  CHECK(r.out.find("0a0202020178027979\n") != std::string::npos);
  CHECK(r.out.find("invalid IPv4 address 'nope'") != std::string::npos);
  CHECK(r.out.find("sensor.labels[1] is a number; expected a string") != std::string::npos);
}
