// The pkt Lua API besides packets: packet("dsl"), send, sleep, hex, base64,
// the layer constructors and `require "pkt"` (see docs/lua.md).
#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <deque>
#include <stdexcept>
#include <vector>

#include "dissect.hpp"
#include "fragment.hpp"
#include "encodings.hpp"
#include "lua_packet.hpp"
#include "pcap_reader.hpp"
#include "lua_sandbox.hpp"
#include "lua_socket.hpp"
#include "net/prober.hpp"
#include "net/send.hpp"
#include "sniffer.hpp"
#include "parse.hpp"

namespace pkt::lua {

namespace {

constexpr const char* kModule = "pkt.module";  // registry key of the module table

std::string arg_string(lua_State* L, int idx) {
  std::size_t n = 0;
  const char* p = luaL_checklstring(L, idx, &n);
  return std::string(p, n);
}

// packet("ipv4(dst=127.0.0.1) / icmp()"): a DSL expression, compiled
// against the session (its params, lets, packets and layers).
int l_packet(lua_State* L) {
  if (test_packet(L, 1)) {
    lua_settop(L, 1);
    return 1;
  }
  std::string text = arg_string(L, 1);
  Session& s = *context(L).session;
  ast::ExprPtr e = parse_expression(Source::make("<packet>", text));
  push_packet(L, s.packets(*e));
  return 1;
}

// A time: a number of seconds, or DSL text such as "10ms".
std::uint64_t duration_ns(lua_State* L, int idx, const char* what) {
  if (lua_type(L, idx) == LUA_TSTRING) {
    std::string text = lua_tostring(L, idx);
    ast::ExprPtr e = parse_expression(Source::make(fmt::format("<{}>", what), text));
    if (e->kind == ast::Expr::Kind::Duration) return e->i;
    if (e->kind == ast::Expr::Kind::Int && e->i == 0) return 0;
    throw std::runtime_error(fmt::format("{} '{}' needs a time unit (ns, us, ms, s), or give a number of seconds", what, text));
  }
  if (lua_type(L, idx) != LUA_TNUMBER)
    throw std::runtime_error(fmt::format("{} is a {}; expected seconds (a number) or a time such as \"10ms\"", what,
                                         luaL_typename(L, idx)));
  lua_Number sec = lua_tonumber(L, idx);
  if (!(sec >= 0) || !std::isfinite(sec) || sec > 1e9)
    throw std::runtime_error(fmt::format("{} {} is out of range: expected 0 or more seconds", what, sec));
  return static_cast<std::uint64_t>(std::llround(sec * 1e9));
}

// A rate: text such as "100kpps" or "1Gbit", or a number of packets/s.
void rate_option(lua_State* L, int idx, SendOptions& o) {
  Rate r;
  if (lua_type(L, idx) == LUA_TSTRING) {
    std::string why;
    if (!parse_rate(lua_tostring(L, idx), r, why)) throw std::runtime_error("send: " + why);
  } else if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Number pps = lua_tonumber(L, idx);
    if (!(pps > 0) || !std::isfinite(pps) || pps > 1e9)
      throw std::runtime_error(fmt::format("send: rate {} is out of range: expected packets/s above 0 and at most 1e9, "
                                           "or text such as \"100kpps\" or \"1Gbit\"", pps));
    r.pps = pps;
  } else {
    throw std::runtime_error(fmt::format("send: rate is a {}; expected text such as \"100kpps\" or \"1Gbit\", or a "
                                         "number of packets/s", luaL_typename(L, idx)));
  }
  o.rate_pps = r.pps;
  o.rate_bps = r.bps;
}

// What a send did, as a table: the figures of its final line.
void push_send_stats(lua_State* L, const SendStats& s) {
  lua_createtable(L, 0, 9);
  lua_pushinteger(L, static_cast<lua_Integer>(s.packets));
  lua_setfield(L, -2, "packets");
  lua_pushinteger(L, static_cast<lua_Integer>(s.bytes));
  lua_setfield(L, -2, "bytes");
  lua_pushnumber(L, s.seconds);
  lua_setfield(L, -2, "seconds");
  lua_pushnumber(L, s.pps());
  lua_setfield(L, -2, "pps");
  lua_pushnumber(L, s.bps());
  lua_setfield(L, -2, "bps");
  lua_pushnumber(L, s.asked_pps);
  lua_setfield(L, -2, "asked_pps");
  lua_pushnumber(L, s.asked_bps);
  lua_setfield(L, -2, "asked_bps");
  lua_pushboolean(L, s.interrupted);
  lua_setfield(L, -2, "interrupted");
  lua_pushstring(L, final_line(s).c_str());
  lua_setfield(L, -2, "line");
  std::string miss = shortfall_line(s);
  if (!miss.empty()) {
    lua_pushstring(L, miss.c_str());
    lua_setfield(L, -2, "shortfall");
  }
}

// send(p [, {count = N, interval = T, rate = R, iface = "eth0", threads = N, bypass = true}]) -> packets sent, stats
int l_send(lua_State* L) {
  std::shared_ptr<PacketSet> set = check_packet(L, 1);
  SendOptions o;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    static const std::vector<std::string> keys = {"count", "interval", "rate", "iface", "threads", "bypass"};
    lua_pushnil(L);
    while (lua_next(L, 2)) {
      int top = lua_gettop(L);  // key at top - 1, value at top
      std::string k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
      if (k == "count") {
        int isnum = 0;
        lua_Integer n = lua_tointegerx(L, -1, &isnum);
        if (!isnum || n < 0)
          throw std::runtime_error(fmt::format("send: count must be an integer >= 0, got {}", luaL_tolstring(L, -1, nullptr)));
        o.count = static_cast<std::uint64_t>(n);
      } else if (k == "interval") {
        o.interval_ns = duration_ns(L, -1, "interval");
      } else if (k == "rate") {
        rate_option(L, -1, o);
      } else if (k == "iface") {
        if (lua_type(L, -1) != LUA_TSTRING) throw std::runtime_error("send: iface must be a string such as \"eth0\"");
        o.iface = lua_tostring(L, -1);
      } else if (k == "threads") {
        int isnum = 0;
        lua_Integer n = lua_tointegerx(L, -1, &isnum);
        if (!isnum || n < 1 || n > static_cast<lua_Integer>(Sender::kMaxThreads))
          throw std::runtime_error(fmt::format("send: threads must be an integer from 1 to {}, got {}", Sender::kMaxThreads,
                                               luaL_tolstring(L, -1, nullptr)));
        o.threads = static_cast<unsigned>(n);
      } else if (k == "bypass") {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
          throw std::runtime_error(fmt::format("send: bypass must be true or false, got {}", luaL_tolstring(L, -1, nullptr)));
        o.bypass = lua_toboolean(L, -1) != 0;
      } else {
        std::string shown = lua_type(L, -2) == LUA_TSTRING ? k : luaL_tolstring(L, -2, nullptr);
        std::string hint = nearest_name(shown, keys);
        throw std::runtime_error(fmt::format("send: unknown option '{}'{}; options are count, interval, rate, iface, threads, bypass", shown,
                                             hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
      }
      lua_settop(L, top - 1);  // keep the key for lua_next
    }
  }
  LuaContext& ctx = context(L);
  if (!ctx.send) throw std::runtime_error("send is not available here");
  if ((o.rate_pps > 0 || o.rate_bps > 0) && o.interval_ns > 0)
    throw std::runtime_error("send: rate and interval cannot both be given (a rate is one packet every 1/rate)");
  SendStats s = ctx.send(*set, o);
  if (interrupted()) throw Interrupted();
  lua_pushinteger(L, static_cast<lua_Integer>(s.packets));
  push_send_stats(L, s);
  return 2;
}

// Options of sr and sr1: {timeout = T, retry = N, interval = T, iface = "eth0"}.
SrOptions sr_options(lua_State* L, int idx, const char* fn) {
  SrOptions o;
  if (lua_isnoneornil(L, idx)) return o;
  luaL_checktype(L, idx, LUA_TTABLE);
  static const std::vector<std::string> keys = {"timeout", "retry", "interval", "iface"};
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int top = lua_gettop(L);
    std::string k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    if (k == "timeout") {
      o.timeout_ns = duration_ns(L, -1, "timeout");
    } else if (k == "interval") {
      o.interval_ns = duration_ns(L, -1, "interval");
    } else if (k == "retry") {
      int isnum = 0;
      lua_Integer n = lua_tointegerx(L, -1, &isnum);
      if (!isnum || n < 0 || n > 1000)
        throw std::runtime_error(fmt::format("{}: retry must be an integer from 0 to 1000, got {}", fn, luaL_tolstring(L, -1, nullptr)));
      o.retry = static_cast<unsigned>(n);
    } else if (k == "iface") {
      if (lua_type(L, -1) != LUA_TSTRING) throw std::runtime_error(fmt::format("{}: iface must be a string such as \"eth0\"", fn));
      o.iface = lua_tostring(L, -1);
    } else {
      std::string shown = lua_type(L, -2) == LUA_TSTRING ? k : luaL_tolstring(L, -2, nullptr);
      std::string hint = nearest_name(shown, keys);
      throw std::runtime_error(fmt::format("{}: unknown option '{}'{}; options are timeout, retry, interval, iface", fn, shown,
                                           hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    lua_settop(L, top - 1);
  }
  return o;
}

SrResult run_sr(lua_State* L, const SrOptions& o, const char* fn) {
  std::shared_ptr<PacketSet> set = check_packet(L, 1);
  LuaContext& ctx = context(L);
  if (!ctx.sr) throw std::runtime_error(fmt::format("{} is not available here", fn));
  SrResult r = ctx.sr({set}, o);
  if (interrupted()) throw Interrupted();
  return r;
}

void push_single(lua_State* L, const Packet& p) {
  auto ps = std::make_shared<PacketSet>();
  ps->tmpl = p;
  push_packet(L, std::move(ps));
}

// sr(p [, options]) -> answered, unanswered: answered is a list of
// {sent = packet, reply = packet, rtt = seconds}, unanswered a list of packets.
int l_sr(lua_State* L) {
  SrOptions o = sr_options(L, 2, "sr");
  SrResult r = run_sr(L, o, "sr");
  lua_createtable(L, static_cast<int>(r.answered), 0);
  lua_createtable(L, static_cast<int>(r.probes.size() - r.answered), 0);
  lua_Integer na = 0, nu = 0;
  for (auto& p : r.probes) {
    if (!p.answered) {
      push_single(L, p.sent);
      lua_rawseti(L, -2, ++nu);
      continue;
    }
    lua_createtable(L, 0, 3);
    push_single(L, p.sent);
    lua_setfield(L, -2, "sent");
    push_single(L, p.reply);
    lua_setfield(L, -2, "reply");
    lua_pushnumber(L, p.rtt);
    lua_setfield(L, -2, "rtt");
    lua_rawseti(L, -3, ++na);
  }
  return 2;
}

// sr1(p [, options]) -> reply, rtt (of the first probe answered), or nil.
int l_sr1(lua_State* L) {
  SrOptions o = sr_options(L, 2, "sr1");
  SrResult r = run_sr(L, o, "sr1");
  for (auto& p : r.probes)
    if (p.answered) {
      push_single(L, p.reply);
      lua_pushnumber(L, p.rtt);
      return 2;
    }
  lua_pushnil(L);
  return 1;
}

// now() -> seconds on a monotonic clock, with nanosecond resolution.
int l_now(lua_State* L) {
  lua_pushnumber(L, monotonic_seconds());
  return 1;
}

int l_sleep(lua_State* L) {
  luaL_checkany(L, 1);
  std::uint64_t ns = duration_ns(L, 1, "sleep");
  if (std::uint64_t left = time_left_ns(L); ns > left) {  // --lua-timeout ends the sleep
    if (!sleep_interruptible(left)) throw Interrupted();
    time_up(L);
  }
  if (!sleep_interruptible(ns)) throw Interrupted();
  return 0;
}

std::string bytes_arg(lua_State* L, int idx) {
  if (auto* p = test_packet(L, idx)) {
    PacketSet& s = **p;
    if (!s.tmpl.finalized()) s.tmpl.finalize();
    return std::string(s.tmpl.bytes().begin(), s.tmpl.bytes().end());
  }
  return arg_string(L, idx);
}

int l_hex_encode(lua_State* L) {
  std::string out = hex_encode(bytes_arg(L, 1));
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

int l_hex_decode(lua_State* L) {
  std::string in = arg_string(L, 1);
  std::size_t bad = 0;
  auto out = hex_decode(in, &bad);
  if (!out) {
    if (bad < in.size() && !std::isxdigit(static_cast<unsigned char>(in[bad])))
      throw std::runtime_error(fmt::format("hex.decode: '{}' at offset {} is not a hex digit", in[bad], bad));
    throw std::runtime_error("hex.decode: odd number of hex digits (each byte is two)");
  }
  lua_pushlstring(L, out->data(), out->size());
  return 1;
}

int l_b64_encode(lua_State* L) {
  std::string out = base64_encode(bytes_arg(L, 1));
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

int l_b64_decode(lua_State* L) {
  std::string in = arg_string(L, 1);
  std::size_t bad = in.size();
  auto out = base64_decode(in, &bad);
  if (!out) {
    if (bad < in.size())
      throw std::runtime_error(fmt::format("base64.decode: invalid base64 at offset {} ('{}')", bad, in[bad]));
    throw std::runtime_error("base64.decode: invalid base64 (truncated or bad padding)");
  }
  lua_pushlstring(L, out->data(), out->size());
  return 1;
}

// The first layers to try: a layer named by the argument at idx, or those
// bound to `linktype` (raw, with a note, when none is).
std::vector<ReadBind> first_layers(lua_State* L, int idx, const Registry& reg, std::uint32_t linktype) {
  if (lua_isnoneornil(L, idx)) return Dissector(reg).first_for_linktype(linktype);
  std::string name = arg_string(L, idx);
  auto def = reg.layer(name);
  if (!def) {
    std::string hint = nearest_name(name, reg.layer_names());
    throw std::runtime_error(fmt::format("unknown layer '{}'{}", name, hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
  }
  return Dissector::first_is(def);
}

// dissect(bytes [, first_layer]): one packet read from bytes; IPv4 or IPv6
// by its version unless a first layer is named.
int l_dissect(lua_State* L) {
  std::string data = bytes_arg(L, 1);
  Session& s = *context(L).session;
  auto first = first_layers(L, 2, s.registry(), 101);
  Dissector dis(s.registry());
  auto ps = std::make_shared<PacketSet>();
  ps->tmpl = dis.dissect(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), first);
  ps->tmpl.resolve_wire_origins();
  push_packet(L, std::move(ps));
  return 1;
}

// for p, time in pcap.read(path [, filter]) do ... end
struct CaptureIter {
  std::unique_ptr<PcapReader> in;
  std::vector<ReadBind> first;
};
constexpr const char* kCaptureMT = "pkt.capture";

int capture_gc(lua_State* L) {
  auto* it = static_cast<CaptureIter*>(luaL_checkudata(L, 1, kCaptureMT));
  it->~CaptureIter();
  return 0;
}

int capture_next(lua_State* L) {
  auto* it = static_cast<CaptureIter*>(luaL_checkudata(L, lua_upvalueindex(1), kCaptureMT));
  if (!it->in) return 0;
  PcapRecord r;
  if (!it->in->next(r)) {
    it->in.reset();  // closes the file at the end, not at collection
    return 0;
  }
  Dissector dis(context(L).session->registry());
  auto ps = std::make_shared<PacketSet>();
  ps->tmpl = dis.dissect(r.data, r.caplen, it->first);
  ps->tmpl.resolve_wire_origins();
  push_packet(L, std::move(ps));
  lua_pushnumber(L, static_cast<lua_Number>(r.sec) + r.nsec / 1e9);
  return 2;
}

int l_pcap_read(lua_State* L) {
  std::string path = arg_string(L, 1);
  check_path(L, path, fmt::format("pcap.read(\"{}\")", path));
  std::string filter = lua_isnoneornil(L, 2) ? "" : arg_string(L, 2);
  auto in = std::make_unique<PcapReader>(path, filter);
  auto first = first_layers(L, 3, context(L).session->registry(), static_cast<std::uint32_t>(in->linktype()));
  void* mem = lua_newuserdatauv(L, sizeof(CaptureIter), 0);
  new (mem) CaptureIter{std::move(in), std::move(first)};
  if (luaL_newmetatable(L, kCaptureMT)) {
    lua_pushcfunction(L, capture_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_pushcclosure(L, guarded<capture_next>, 1);
  return 1;
}

// for p, time in sniff{iface = "lo", filter = "udp", count = 3, timeout = 2} do ... end
// Packets are copied out of libpcap's ring as a batch arrives and handed
// out one per call, each dissected when it is handed out.
struct SniffIter {
  struct Held {
    std::string bytes;
    std::int64_t sec;
    std::uint32_t nsec;
  };
  std::unique_ptr<Capture> cap;
  std::vector<ReadBind> first;
  std::deque<Held> queue;
  std::uint64_t count = 0, taken = 0;  // count 0: no limit
  std::uint64_t deadline = 0;          // steady-clock ns; 0: none
};
constexpr const char* kSniffMT = "pkt.sniff";

std::uint64_t steady_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

int sniff_gc(lua_State* L) {
  auto* it = static_cast<SniffIter*>(luaL_checkudata(L, 1, kSniffMT));
  it->~SniffIter();
  return 0;
}

int sniff_next(lua_State* L) {
  auto* it = static_cast<SniffIter*>(luaL_checkudata(L, lua_upvalueindex(1), kSniffMT));
  auto done = [&] {
    it->cap.reset();  // stops capturing at the end, not at collection
    it->queue.clear();
    return 0;
  };
  if (!it->cap) return 0;
  if (it->count && it->taken >= it->count) return done();
  while (it->queue.empty()) {
    if (interrupted()) return done();
    std::uint64_t wait = 1'000'000'000;
    if (it->deadline) {
      const std::uint64_t t = steady_ns();
      if (t >= it->deadline) return done();
      wait = std::min(wait, it->deadline - t);
    }
    it->cap->dispatch(wait, [&](const CapturedPacket& p) {
      it->queue.push_back({std::string(reinterpret_cast<const char*>(p.data), p.caplen), p.sec, p.nsec});
      return !it->count || it->taken + it->queue.size() < it->count;
    });
  }
  SniffIter::Held h = std::move(it->queue.front());
  it->queue.pop_front();
  ++it->taken;
  Dissector dis(context(L).session->registry());
  auto ps = std::make_shared<PacketSet>();
  ps->tmpl = dis.dissect(reinterpret_cast<const std::uint8_t*>(h.bytes.data()), h.bytes.size(), it->first);
  ps->tmpl.resolve_wire_origins();
  push_packet(L, std::move(ps));
  lua_pushnumber(L, static_cast<lua_Number>(h.sec) + h.nsec / 1e9);
  return 2;
}

int l_sniff(lua_State* L) {
  SniffOptions o;
  std::string iface;
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      const std::string key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
      if (key == "iface") {
        iface = arg_string(L, -1);
      } else if (key == "filter") {
        o.capture.filter = arg_string(L, -1);
      } else if (key == "count") {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
          throw std::runtime_error("sniff{count = N}: N must be a whole number, 0 or more");
        o.count = static_cast<std::uint64_t>(lua_tointeger(L, -1));
      } else if (key == "timeout") {
        o.timeout_ns = duration_ns(L, lua_gettop(L), "sniff{timeout}");
      } else if (key == "promisc") {
        o.capture.promisc = lua_toboolean(L, -1);
      } else {
        const std::string hint = nearest_name(key, {"iface", "filter", "count", "timeout", "promisc"});
        throw std::runtime_error(fmt::format("sniff{{}}: unknown option '{}'{}; expected iface, filter, count, timeout, promisc",
                                             key, hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
      }
      lua_pop(L, 1);
    }
  }
  o.capture.iface = iface.empty() ? default_sniff_interface() : iface;
  auto cap = std::make_unique<Capture>(o.capture);
  Dissector dis(context(L).session->registry());
  auto first = dis.first_for_linktype(static_cast<std::uint32_t>(cap->linktype()));
  if (first.empty())
    throw std::runtime_error(fmt::format("{}: no layer is bound to its link type {}", cap->iface(), cap->linktype()));
  void* mem = lua_newuserdatauv(L, sizeof(SniffIter), 0);
  auto* it = new (mem) SniffIter{};
  it->cap = std::move(cap);
  it->first = std::move(first);
  it->count = o.count;
  it->deadline = o.timeout_ns ? steady_ns() + o.timeout_ns : 0;
  if (luaL_newmetatable(L, kSniffMT)) {
    lua_pushcfunction(L, sniff_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_pushcclosure(L, guarded<sniff_next>, 1);
  return 1;
}

int l_preload(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kModule);
  return 1;
}

void push_module(lua_State* L) { lua_getfield(L, LUA_REGISTRYINDEX, kModule); }

// Names of the module the globals get: not the layers table, nor the reset
// values, which read as pkt.default and pkt.auto.
bool exported_key(const char* k) {
  const std::string key = k;
  return key != "layers" && key != "default" && key != "auto";
}

// fragment(p, size): every packet of p split as the DSL's fragment() does.
int l_fragment(lua_State* L) {
  std::shared_ptr<PacketSet> set = check_packet(L, 1);
  lua_Integer size = luaL_checkinteger(L, 2);
  if (size <= 0) throw std::runtime_error(fmt::format("fragment size {} is not a positive multiple of 8", size));
  Session& s = *context(L).session;
  std::vector<Packet> out;
  set->for_each([&](const Packet& p) {
    for (Packet& f : fragment_packet(s.registry(), p, static_cast<std::uint64_t>(size), p.pos()))
      out.push_back(std::move(f));
    return true;
  });
  auto ps = std::make_shared<PacketSet>();
  ps->tmpl = out.front();
  if (out.size() > 1) ps->list = std::make_shared<const std::vector<Packet>>(std::move(out));
  push_packet(L, std::move(ps));
  return 1;
}

}  // namespace

void open_pkt_lib(lua_State* L) {
  open_packet_lib(L);
  static const luaL_Reg funcs[] = {{"packet", guarded<l_packet>},
                                   {"send", guarded<l_send>},
                                   {"sr", guarded<l_sr>},
                                   {"sr1", guarded<l_sr1>},
                                   {"now", guarded<l_now>},
                                   {"sleep", guarded<l_sleep>},
                                   {"dissect", guarded<l_dissect>},
                                   {"fragment", guarded<l_fragment>},
                                   {"sniff", guarded<l_sniff>},
                                   {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  static const luaL_Reg pcap[] = {{"read", guarded<l_pcap_read>}, {nullptr, nullptr}};
  luaL_newlib(L, pcap);
  lua_setfield(L, -2, "pcap");
  static const luaL_Reg hex[] = {{"encode", guarded<l_hex_encode>}, {"decode", guarded<l_hex_decode>}, {nullptr, nullptr}};
  luaL_newlib(L, hex);
  lua_setfield(L, -2, "hex");
  static const luaL_Reg b64[] = {{"encode", guarded<l_b64_encode>}, {"decode", guarded<l_b64_decode>}, {nullptr, nullptr}};
  luaL_newlib(L, b64);
  lua_setfield(L, -2, "base64");
  lua_newtable(L);
  lua_setfield(L, -2, "layers");
  push_reset(L, Reset::Default);
  lua_setfield(L, -2, "default");
  push_reset(L, Reset::Auto);
  lua_setfield(L, -2, "auto");
  open_socket_lib(L, context(L).scope, context(L).limits.sandbox);  // tcp, udp
  lua_setfield(L, LUA_REGISTRYINDEX, kModule);

  // require "pkt"
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, l_preload);
  lua_setfield(L, -2, "pkt");
  lua_pop(L, 2);

  // The same API as globals, and the module itself as `pkt`.
  push_module(L);
  lua_pushvalue(L, -1);
  lua_setglobal(L, "pkt");
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_type(L, -2) == LUA_TSTRING && exported_key(lua_tostring(L, -2))) {
      lua_setglobal(L, lua_tostring(L, -2));  // pops the value
    } else {
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  register_layers(L);
}

void register_layers(lua_State* L) {
  Session& s = *context(L).session;
  push_module(L);                   // M
  int m = lua_gettop(L);
  lua_getfield(L, m, "layers");     // M.layers
  int layers = lua_gettop(L);
  lua_pushglobaltable(L);
  int g = lua_gettop(L);
  for (const std::string& name : s.registry().layer_names()) {
    const char* n = name.c_str();
    if (lua_getfield(L, layers, n) != LUA_TNIL) {  // already registered (constructors look their layer up by name)
      lua_pop(L, 1);
      continue;
    }
    lua_pop(L, 1);
    push_layer_constructor(L, name, false);
    lua_setfield(L, layers, n);

    int in_module = lua_getfield(L, m, n);
    if (in_module == LUA_TNIL) {
      lua_pop(L, 1);
      lua_getfield(L, layers, n);
      lua_setfield(L, m, n);
    } else if (in_module == LUA_TTABLE) {
      // tcp and udp are also the socket tables: calling them builds the layer.
      if (!lua_getmetatable(L, -1)) {
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setmetatable(L, -3);
      }
      if (lua_getfield(L, -1, "__call") == LUA_TNIL) {
        lua_pop(L, 1);
        push_layer_constructor(L, name, true);
        lua_setfield(L, -2, "__call");
      } else {
        lua_pop(L, 1);
      }
      lua_pop(L, 2);
    } else {
      lua_pop(L, 1);  // clashes with an API function: only pkt.layers.NAME
    }

    // The global, unless the name is taken (print, string, send, ...).
    if (lua_getfield(L, g, n) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_getfield(L, m, n);
      lua_getfield(L, layers, n);
      if (lua_type(L, -2) == LUA_TTABLE || lua_rawequal(L, -1, -2)) {
        lua_pop(L, 1);
        lua_setfield(L, g, n);
      } else {
        lua_pop(L, 2);
      }
    } else {
      lua_pop(L, 1);
    }
  }
  lua_settop(L, m - 1);
}

}  // namespace pkt::lua
