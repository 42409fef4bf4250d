// libFuzzer target: the Lua packet API (interpreter/run/lua_packet.cpp and
// the packet functions of lua_lib.cpp), through a real Lua state: a fresh
// LuaEngine and Session per input, as `pkt run` makes them. The input is a
// little program: each operation takes an opcode byte and operand bytes and
// becomes one line of Lua, run under pcall (a Lua error is a fine answer):
// build a layer (pkt.layers[NAME]{...}), stack two packets or a packet and a
// payload (/), clone, write a field (picked by layer position and field
// index) with a value of any Lua form (integer, bytes, address/flag/option
// text, tables of integers or strings, a sequence that makes a generator,
// pkt.default, pkt.auto, nil, a packet, a float, a boolean), read a field
// back and write it again, tostring of a packet and of a layer, bytes, hex,
// #, count, each, pairs, layers/layer/has, pkt.dissect and pkt.fragment.
// Nothing is sent: the program never calls send/sr/sniff/tcp/udp/pcap (the
// context's send and sr refuse anyway), and io/os are removed first.
// PKT_FUZZ_VERBOSE=1 prints the Lua program of each input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lua_engine.hpp"
#include "net/prober.hpp"
#include "session.hpp"

using namespace pkt;

namespace {

constexpr int kSlots = 8;
constexpr std::size_t kMaxOps = 64;

bool verbose() {
  static const bool v = [] {
    const char* e = std::getenv("PKT_FUZZ_VERBOSE");
    return e && *e && *e != '0';
  }();
  return v;
}

// Text values a field might take in one of its forms.
const char* const kTexts[] = {
    "127.0.0.1", "10.0.0.1", "255.255.255.255", "0.0.0.0", "::1", "fe80::1", "ff02::1:ff00:2", "2001:db8::1",
    "02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "SYN", "SYN|ACK", "FIN|PSH|URG", "MF", "DF", "echo_request",
    "echo_reply", "dest_unreach", "a", "tcp", "udp", "query", "response", "[mss(1460), nop, wscale(7)]",
    "[mss(1460), sackok, timestamp(1, 0), nop, wscale(7)]", "[nop, eol]", "[]", "[rr(2, 0)]",
    "[slla(02:00:00:00:00:01), mtu(1500)]", "[msgtype(discover), end]", "[padn(hex\"0000\")]",
    "[router_alert(0)]", "1..3", "[1, 2]", "0x10", "-1", "", "bogus", "example.com", "a.b.c", "1.2.3",
    "256.1.1.1", "::ffff:1.2.3.4", "\xff\xfe", "hex\"00\"", "[data(data=\"x\")]",
};

const std::int64_t kInts[] = {0, 1, -1, 2, 7, 8, 15, 64, 127, 128, 255, 256, 1500, 65535, 65536, -65536,
                              0xffffffffLL, 0x100000000LL, INT64_MAX, INT64_MIN};

// The input, read from the front; zeros when it runs out.
struct Bytes {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t u8() {
    if (!n) return 0;
    --n;
    return *p++;
  }
  std::uint64_t u64() {
    std::uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x = x << 8 | u8();
    return x;
  }
  bool empty() const { return n == 0; }
};

std::string lua_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) out += fmt::format("\\{}", static_cast<unsigned>(c));
  return out + "\"";
}

std::string slot(Bytes& in) { return fmt::format("P[{}]", in.u8() % kSlots + 1); }

std::string integer(Bytes& in) {
  std::uint8_t k = in.u8();
  if (k < 200) return fmt::format("({})", kInts[k % std::size(kInts)]);
  return fmt::format("math.tointeger({})", static_cast<std::int64_t>(in.u64()));
}

std::string text(Bytes& in) { return lua_quote(kTexts[in.u8() % std::size(kTexts)]); }

std::string raw_bytes(Bytes& in) {
  std::string s;
  for (std::size_t k = in.u8() % 24; k > 0; --k) s.push_back(static_cast<char>(in.u8()));
  return lua_quote(s);
}

// A Lua expression for a field value: any of the forms, right or wrong.
// Nested at most 8 deep: Lua's own parser stops at about 200 nested table
// constructors ("C stack overflow" when compiling, outside any pcall).
std::string value(Bytes& in, int depth = 0) {
  const std::uint8_t pick = in.u8() % 13;
  if (depth >= 8 && pick >= 12) return integer(in);
  switch (pick) {
    case 0: case 1: return integer(in);
    case 2: return raw_bytes(in);
    case 3: case 4: return text(in);
    case 5: {  // a table of integers: an array field, or a generator sequence
      std::string t = "{";
      for (std::size_t k = in.u8() % 6; k > 0; --k) t += integer(in) + ",";
      return t + "}";
    }
    case 6: {
      std::string t = "{";
      for (std::size_t k = in.u8() % 4; k > 0; --k) t += text(in) + ",";
      return t + "}";
    }
    case 7: return "pkt.default";
    case 8: return "pkt.auto";
    case 9: return "nil";
    case 10: return "G(" + slot(in) + ")";
    case 11: return in.u8() & 1 ? "1.5" : "true";
    default: {  // a sequence of any two values
      std::string a = value(in, depth + 1);
      return fmt::format("{{{}, {}}}", a, value(in, depth + 1));
    }
  }
}

// The Lua program for one input. Helpers: F(p, li, fi) is the layer proxy
// at position li (wrapping) and the name of its field fi (wrapping), by pairs().
constexpr const char* kPrelude = R"lua(
local stderr = io.stderr
local function R(ok, e) if VERBOSE and not ok then stderr:write("  -> ", tostring(e), "\n") end end
io = nil; os = nil; package = nil; require = nil; dofile = nil; loadfile = nil
local P = {eth{} / ipv4{} / tcp{}, ipv6{} / udp{} / "x", ipv4{} / icmp{}, eth{} / arp{}, nil, nil, nil, nil}
-- Stacking doubles a packet: P[1] = P[1] / P[1] twenty times is a million
-- layers. G keeps the programs to packets a script would build.
local function G(p) if #p:layers() > 64 or #p > 65536 then error("too big for the fuzzer") end return p end
local function F(p, li, fi)
  local ls = p:layers()
  local l = p[li % #ls + 1]
  local names = {}
  for k in pairs(l) do names[#names + 1] = k end
  if #names == 0 then error("no fields") end
  return l, names[fi % #names + 1]
end
)lua";

std::string program(Bytes in, const std::vector<std::string>& layers) {
  std::string out = verbose() ? "VERBOSE = true\n" : "";
  out += kPrelude;
  for (std::size_t op = 0; op < kMaxOps && !in.empty(); ++op) {
    std::string line;
    switch (in.u8() % 16) {
      case 0: {
        const std::string& name = layers[in.u8() % layers.size()];
        line = fmt::format("{} = pkt.layers[\"{}\"]{{}}", slot(in), name);
        break;
      }
      case 1: {  // a constructor with one field = value
        std::string dst = slot(in);
        const std::string& name = layers[in.u8() % layers.size()];
        unsigned fi = in.u8();
        line = fmt::format("local p = pkt.layers[\"{}\"]{{}}; local _, f = F(p, 0, {}); {} = pkt.layers[\"{}\"]{{[f] = {}}}",
                           name, fi, dst, name, value(in));
        break;
      }
      case 2: {
        std::string a = slot(in), b = slot(in);
        line = fmt::format("{} = G({}) / G({})", slot(in), a, b);
        break;
      }
      case 3: {
        std::string a = slot(in), b = raw_bytes(in);
        line = in.u8() & 1 ? fmt::format("{} = G({}) / {}", slot(in), a, b) : fmt::format("{} = {} / G({})", slot(in), b, a);
        break;
      }
      case 4: {
        std::string a = slot(in);
        line = fmt::format("{} = {}:clone()", slot(in), a);
        break;
      }
      case 5: case 6: case 7: {  // write a field
        std::string p = slot(in);
        unsigned li = in.u8(), fi = in.u8();
        line = fmt::format("local l, f = F({}, {}, {}); l[f] = {}", p, li, fi, value(in));
        break;
      }
      case 8: {  // read a field and write back what was read
        std::string p = slot(in);
        unsigned li = in.u8(), fi = in.u8();
        line = fmt::format("local l, f = F({}, {}, {}); local v = l[f]; l[f] = v", p, li, fi);
        break;
      }
      case 9: {
        std::string p = slot(in);
        line = fmt::format("local s = tostring({}); s = tostring({}[{}])", p, p, in.u8() % 6 + 1);
        break;
      }
      case 10: {
        std::string p = slot(in);
        line = fmt::format("local b = {0}:bytes(); local h = {0}:hex(); local n = #{0}; local c = {0}:count()", p);
        break;
      }
      case 11: {
        std::string p = slot(in);
        line = fmt::format("local k = 0; for q in {}:each() do local b = q:bytes(); k = k + 1; if k >= 3 then break end end", p);
        break;
      }
      case 12: {
        std::string p = slot(in);
        line = fmt::format("for k, v in pairs({}[{}]) do end; local t = {}:layers(); local h = {}:has(\"{}\"); local l = {}:layer({})",
                           p, in.u8() % 6 + 1, p, p, layers[in.u8() % layers.size()], p, in.u8() % 6 + 1);
        break;
      }
      case 13: {  // read back what was built, from a first layer
        std::string a = slot(in);
        const std::string& name = layers[in.u8() % layers.size()];
        line = in.u8() & 1 ? fmt::format("{} = pkt.dissect({}:bytes())", slot(in), a)
                           : fmt::format("{} = pkt.dissect({}:bytes(), \"{}\")", slot(in), a, name);
        break;
      }
      case 14: {
        std::string a = slot(in);
        int size = (in.u8() % 32 + 1) * 8;
        line = fmt::format("if {0}:count() <= 4 then {1} = pkt.fragment({0}, {2}) end", a, slot(in), size);
        break;
      }
      default: {  // a generator over two fields of one packet, then its packets
        std::string p = slot(in);
        unsigned li = in.u8(), fi = in.u8();
        line = fmt::format("local l, f = F({}, {}, {}); l[f] = {{{}, {}, {}}}", p, li, fi, integer(in), integer(in),
                           text(in));
        break;
      }
    }
    out += "R(pcall(function() " + line + " end))\n";
  }
  return out;
}

struct Fixture {
  Registry stdlib = Registry::with_stdlib();
  std::vector<std::string> layers = stdlib.layer_names();
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fixture& fx = fixture();
  const std::string code = program(Bytes{data, size}, fx.layers);
  if (verbose()) std::fprintf(stderr, "%s\n", code.c_str());
  Session s(fx.stdlib);
  LuaContext ctx;
  ctx.session = &s;
  ctx.send = [](const PacketSet&, const SendOptions&) -> SendStats {
    throw std::runtime_error("fuzz_lua: sending is disabled");
  };
  ctx.sr = [](const std::vector<std::shared_ptr<PacketSet>>&, const SrOptions&) -> SrResult {
    throw std::runtime_error("fuzz_lua: sending is disabled");
  };
  LuaEngine lua(std::move(ctx));
  try {
    lua.run_string(code, "=fuzz_lua");
  } catch (const LuaError& e) {
    // Every operation runs under pcall: an error here is the generator's own bug.
    std::fprintf(stderr, "fuzz_lua: the program failed outside pcall: %s\n%s\n", e.what(), code.c_str());
    std::abort();
  }
  return 0;
}
