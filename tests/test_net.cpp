// Scope, Sender and the interrupt helpers. Real sends go to loopback only
// (127.0.0.1, ::1, the `lo` interface) and are checked byte for byte by an
// AF_PACKET capture socket bound to lo. Tests tagged [root] need CAP_NET_RAW
// and are skipped when not run as root (exit 77: ctest shows "Skipped").
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "graph/checksum.hpp"
#include "graph/packet_set.hpp"
#include "graph/session.hpp"
#include "parse.hpp"
#include "net/destination.hpp"
#include "net/scope.hpp"
#include "net/send.hpp"
#include "skip.hpp"

using pkt::PacketSet;
using pkt::Scope;
using pkt::SendConfig;
using pkt::Sender;
using pkt::SendError;
using pkt::SendOptions;
using Bytes = std::vector<std::uint8_t>;

namespace {

// ---- a registry with three one-field layers --------------------------------
// rawip (pcap link type 101), ether (1), blob (147, the pcap layer's default),
// each a single `data : bytes` field, so any bytes make a packet.

pkt::ast::ExprPtr int_expr(std::uint64_t v) {
  auto e = std::make_shared<pkt::ast::Expr>();
  e->kind = pkt::ast::Expr::Kind::Int;
  e->i = v;
  return e;
}

const pkt::Registry& registry() {
  static const pkt::Registry reg = [] {
    pkt::Registry r;
    pkt::ast::LayerDecl pcap;
    pcap.name = "pcap";
    pkt::ast::FieldDecl lt;
    lt.name = "linktype";
    lt.type = "u32";
    lt.default_value = int_expr(147);
    pcap.fields.push_back(lt);
    r.define(pcap);
    for (const char* name : {"rawip", "ether", "blob"}) {
      pkt::ast::LayerDecl d;
      d.name = name;
      pkt::ast::FieldDecl f;
      f.name = "data";
      f.type = "bytes";
      d.fields.push_back(f);
      r.define(d);
    }
    for (auto [upper, value] : {std::pair{"rawip", 101}, std::pair{"ether", 1}}) {
      pkt::ast::Stmt s;
      s.kind = pkt::ast::Stmt::Kind::Bind;
      s.bind_lower = "pcap";
      s.bind_field = "linktype";
      s.bind_upper = upper;
      s.value = int_expr(static_cast<std::uint64_t>(value));
      r.bind(s);
    }
    return r;
  }();
  return reg;
}

pkt::FieldValue bytes_value(const Bytes& b) {
  pkt::FieldValue v;
  v.bytes.assign(b.begin(), b.end());
  return v;
}

// A set of packets on `layer`, one per element, in this order.
PacketSet make_set(const char* layer, const std::vector<Bytes>& packets) {
  PacketSet set;
  set.tmpl.push_layer(registry().layer(layer));
  set.tmpl.set(0, 0, bytes_value(packets.at(0)));
  set.tmpl.finalize();
  if (packets.size() > 1) {
    pkt::Dim d;
    d.layer = 0;
    d.field = 0;
    for (auto& p : packets) d.values.push_back(bytes_value(p));
    set.dims.push_back(d);
  }
  return set;
}

// ---- packet builders ---------------------------------------------------------

std::uint16_t csum(const std::uint8_t* p, std::size_t n) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) s += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (n & 1) s += static_cast<std::uint32_t>(p[n - 1] << 8);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(~s);
}

// A marker unique to this process and call, so captures find our packets only.
std::string marker() {
  static int n = 0;
  return "pkt-test-" + std::to_string(getpid()) + "-" + std::to_string(++n);
}

Bytes ipv4(const char* src, const char* dst, const std::string& payload, std::uint8_t proto = 253) {
  Bytes p(20 + payload.size());
  p[0] = 0x45;
  p[2] = static_cast<std::uint8_t>(p.size() >> 8);
  p[3] = static_cast<std::uint8_t>(p.size());
  p[4] = 0x12;  // a non-zero id: the kernel keeps it
  p[5] = 0x34;
  p[6] = 0x40;  // DF
  p[8] = 64;
  p[9] = proto;
  inet_pton(AF_INET, src, &p[12]);
  inet_pton(AF_INET, dst, &p[16]);
  std::uint16_t c = csum(p.data(), 20);
  p[10] = static_cast<std::uint8_t>(c >> 8);
  p[11] = static_cast<std::uint8_t>(c);
  std::memcpy(&p[20], payload.data(), payload.size());
  return p;
}

Bytes ipv6(const char* src, const char* dst, const std::string& payload, std::uint8_t nh = 253) {
  Bytes p(40 + payload.size());
  p[0] = 0x60;
  p[1] = 0x0a;  // traffic class and flow label: the kernel must keep them
  p[2] = 0xbc;
  p[3] = 0xde;
  p[4] = static_cast<std::uint8_t>(payload.size() >> 8);
  p[5] = static_cast<std::uint8_t>(payload.size());
  p[6] = nh;
  p[7] = 7;
  inet_pton(AF_INET6, src, &p[8]);
  inet_pton(AF_INET6, dst, &p[24]);
  std::memcpy(&p[40], payload.data(), payload.size());
  return p;
}

Bytes ether(std::uint16_t type, const Bytes& body) {
  // dst and src 00:00:00:00:00:00: lo's own address
  Bytes f = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type)};
  f.resize(14 + body.size());
  std::copy(body.begin(), body.end(), f.begin() + 14);
  return f;
}

Bytes ether_payload(const std::string& s) { return ether(0x88b5, Bytes(s.begin(), s.end())); }

// ---- files -------------------------------------------------------------------

struct TempPath {
  std::string path;
  TempPath() {
    const char* dir = std::getenv("TMPDIR");
    path = std::string(dir && *dir ? dir : "/tmp") + "/pkt_test_net_" + std::to_string(getpid()) + "_" +
           std::to_string(++counter()) + ".pcap";
    std::remove(path.c_str());
  }
  ~TempPath() { std::remove(path.c_str()); }
  static int& counter() {
    static int n = 0;
    return n;
  }
  bool exists() const { return access(path.c_str(), F_OK) == 0; }
};

struct PcapRecord {
  Bytes bytes;
  long sec, usec;
};

std::vector<PcapRecord> read_pcap(const std::string& path, int* linktype = nullptr) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (!p) throw std::runtime_error(err);
  if (linktype) {
    // The LINKTYPE_ value in the file header (libpcap maps 101 to DLT_RAW).
    std::FILE* f = std::fopen(path.c_str(), "rb");
    std::uint8_t h[24] = {};
    if (!f || std::fread(h, 1, 24, f) != 24) throw std::runtime_error("short pcap header");
    std::fclose(f);
    *linktype = h[20] | h[21] << 8 | h[22] << 16 | h[23] << 24;  // written little-endian here
  }
  std::vector<PcapRecord> out;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1)
    out.push_back({Bytes(data, data + h->caplen), static_cast<long>(h->ts.tv_sec), static_cast<long>(h->ts.tv_usec)});
  pcap_close(p);
  return out;
}

// ---- capture on lo -------------------------------------------------------------

// Every frame on lo (with its 14-byte Ethernet header) that the kernel
// transmits (PACKET_OUTGOING): each packet sent on lo shows up exactly once.
class LoCapture {
 public:
  LoCapture() {
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd_ < 0) throw std::runtime_error(std::string("capture socket: ") + std::strerror(errno));
    // Other tests may flood lo while this one waits to read: a large buffer
    // keeps this test's frames from being dropped before it reads them.
    int size = 64 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    sockaddr_ll a{};
    a.sll_family = AF_PACKET;
    a.sll_protocol = htons(ETH_P_ALL);
    a.sll_ifindex = static_cast<int>(if_nametoindex("lo"));
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error(std::string("capture bind: ") + std::strerror(errno));
  }
  ~LoCapture() { close(fd_); }

  // Outgoing frames that contain `needle`, until `want` are found or the time is up.
  std::vector<Bytes> frames_with(const std::string& needle, std::size_t want, int timeout_ms = 2000) {
    std::vector<Bytes> out;
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::vector<std::uint8_t> buf(70000);
    while (out.size() < want) {
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, left) <= 0) continue;
      sockaddr_ll from{};
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n <= 0 || from.sll_pkttype != PACKET_OUTGOING) continue;
      // Not the ICMP errors about our packets, which quote them.
      std::uint16_t type = static_cast<std::uint16_t>(buf[12] << 8 | buf[13]);
      if (n > 14 + 20 && type == 0x0800 && buf[14 + 9] == 1) continue;
      if (n > 14 + 40 && type == 0x86dd && buf[14 + 6] == 58) continue;
      std::string s(reinterpret_cast<char*>(buf.data()), static_cast<std::size_t>(n));
      if (s.find(needle) != std::string::npos) out.emplace_back(buf.begin(), buf.begin() + n);
    }
    return out;
  }

 private:
  int fd_ = -1;
};

Bytes strip_link(const Bytes& frame) { return Bytes(frame.begin() + 14, frame.end()); }

bool is_root() { return geteuid() == 0; }


SendConfig dry_config(const std::string& pcap, const std::string& scope = "") {
  SendConfig c;
  c.dry_run = true;
  c.pcap_path = pcap;
  c.scope = Scope::parse(scope);
  return c;
}

}  // namespace

// ============================================================================
// Scope

TEST_CASE("scope: parsing CIDRs and hosts", "[scope]") {
  Scope s = Scope::parse("127.0.0.0/8, ::1/128,10.1.2.3");
  CHECK(s.restricted());
  CHECK(s.text() == "127.0.0.0/8,::1/128,10.1.2.3");
  CHECK(s.allows("127.0.0.1"));
  CHECK(s.allows("127.255.255.254"));
  CHECK_FALSE(s.allows("128.0.0.1"));
  CHECK(s.allows("::1"));
  CHECK_FALSE(s.allows("::2"));
  CHECK(s.allows("10.1.2.3"));  // a bare address is one host
  CHECK_FALSE(s.allows("10.1.2.4"));
  CHECK_FALSE(s.allows("not an address"));
  // An IPv4-mapped IPv6 address reaches the IPv4 host.
  CHECK(s.allows("::ffff:127.0.0.1"));
  CHECK_FALSE(s.allows("::ffff:10.0.0.1"));

  std::uint8_t a4[4] = {127, 1, 2, 3};
  CHECK(s.allows(AF_INET, a4));
  std::uint8_t a6[16] = {};
  a6[15] = 1;
  CHECK(s.allows(AF_INET6, a6));
  a6[0] = 0xfe;
  a6[1] = 0x80;
  CHECK_FALSE(s.allows(AF_INET6, a6));
}

TEST_CASE("scope: prefixes that do not end on a byte", "[scope]") {
  Scope s = Scope::parse("192.168.4.0/22,fd00:ab::/33");
  CHECK(s.allows("192.168.4.0"));
  CHECK(s.allows("192.168.7.255"));
  CHECK_FALSE(s.allows("192.168.8.0"));
  CHECK_FALSE(s.allows("192.168.3.255"));
  CHECK(s.allows("fd00:ab:7fff::1"));
  CHECK_FALSE(s.allows("fd00:ab:8000::1"));
  // Host bits are ignored: 10.9.9.9/8 is 10.0.0.0/8.
  CHECK(Scope::parse("10.9.9.9/8").allows("10.0.0.1"));
  CHECK(Scope::parse("0.0.0.0/0").allows("203.0.113.7"));
  CHECK_FALSE(Scope::parse("0.0.0.0/0").allows("::1"));
  CHECK(Scope::parse("::/0").allows("2001:db8::1"));
}

TEST_CASE("scope: empty is unrestricted", "[scope]") {
  Scope s = Scope::parse("");
  CHECK_FALSE(s.restricted());
  CHECK(s.allows("203.0.113.9"));
  CHECK(Scope{}.allows("::1"));
  CHECK_FALSE(Scope::parse("  ").restricted());
}

TEST_CASE("scope: invalid entries are rejected with the bad part named", "[scope]") {
  auto msg = [](const std::string& t) {
    try {
      Scope::parse(t);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(msg("127.0.0.0/33") ==
        "invalid scope entry '127.0.0.0/33': the prefix length must be 0..32 for an IPv4 address");
  CHECK(msg("::1/129") == "invalid scope entry '::1/129': the prefix length must be 0..128 for an IPv6 address");
  CHECK(msg("10.0.0.0/x").find("invalid scope entry '10.0.0.0/x'") == 0);
  CHECK(msg("10.0.0.0/").find("invalid scope entry '10.0.0.0/'") == 0);
  CHECK(msg("localhost").find("invalid scope entry 'localhost': 'localhost' is not a numeric address") == 0);
  CHECK(msg("10.0.0.256").find("'10.0.0.256' is not a numeric address") != std::string::npos);
  CHECK(msg("127.0.0.1,,::1").find("empty entry") != std::string::npos);
  CHECK(msg("127.0.0.1,").find("empty entry") != std::string::npos);
}

TEST_CASE("scope: the flag wins over PKT_SCOPE", "[scope]") {
  setenv("PKT_SCOPE", "10.0.0.0/8", 1);
  CHECK(Scope::from_env("").text() == "10.0.0.0/8");
  CHECK(Scope::from_env("127.0.0.1").text() == "127.0.0.1");
  setenv("PKT_SCOPE", "10.0.0.0/99", 1);
  try {
    Scope::from_env("");
    FAIL("expected invalid_argument");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("PKT_SCOPE: invalid scope entry '10.0.0.0/99'") == 0);
  }
  try {
    Scope::from_env("nope");
    FAIL("expected invalid_argument");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("--scope: invalid scope entry 'nope'") == 0);
  }
  unsetenv("PKT_SCOPE");
  CHECK_FALSE(Scope::from_env("").restricted());
}

TEST_CASE("scope: refusal text", "[scope]") {
  Scope s = Scope::parse("127.0.0.0/8,::1/128");
  CHECK(s.refusal("send", "10.3.0.2") ==
        "send to 10.3.0.2 refused: outside the scope 127.0.0.0/8,::1/128 (set by --scope or PKT_SCOPE)");
}

// ============================================================================
// Destinations

TEST_CASE("destinations of raw IP packets and Ethernet frames", "[send]") {
  using pkt::net::frame_destination;
  using pkt::net::ip_destination;
  Bytes v4 = ipv4("127.0.0.1", "10.3.0.2", "x");
  CHECK(ip_destination(v4.data(), v4.size()).text() == "10.3.0.2");
  Bytes v6 = ipv6("::1", "fe80::1", "x");
  auto d6 = ip_destination(v6.data(), v6.size());
  CHECK(d6.text() == "fe80::1");
  CHECK(d6.link_local());
  CHECK_THROWS_WITH(ip_destination(v4.data(), 19),
                    "cannot send this packet: an IPv4 header needs 20 bytes, the packet has 19");
  Bytes bad = v4;
  bad[0] = 0x55;
  CHECK_THROWS_WITH(ip_destination(bad.data(), bad.size()),
                    "cannot send this packet: it starts at IP (pcap link type 101) but its version nibble is 5, not 4 or 6");

  std::uint16_t type = 0;
  Bytes f4 = ether(0x0800, v4);
  CHECK(frame_destination(f4.data(), f4.size(), &type).text() == "10.3.0.2");
  CHECK(type == 0x0800);
  Bytes f6 = ether(0x86dd, ipv6("::1", "2001:db8::5", "x"));
  CHECK(frame_destination(f6.data(), f6.size()).text() == "2001:db8::5");
  // One 802.1Q tag (TPID 0x8100, TCI 0x0064), then IPv4.
  Bytes tagged = ether(0x8100, Bytes{0x00, 0x64, 0x08, 0x00});
  tagged.insert(tagged.end(), v4.begin(), v4.end());
  CHECK(frame_destination(tagged.data(), tagged.size(), &type).text() == "10.3.0.2");
  CHECK(type == 0x0800);
  // ARP request for 192.0.2.77: the target protocol address at 24..27 of the body.
  Bytes arp = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 77};
  Bytes farp = ether(0x0806, arp);
  auto da = frame_destination(farp.data(), farp.size());
  CHECK(da.text() == "192.0.2.77");
  CHECK(std::string(da.kind) == "ARP target");
  Bytes other = ether_payload("hello");
  CHECK(frame_destination(other.data(), other.size(), &type).family == 0);
  CHECK(type == 0x88b5);
}

// ============================================================================
// Sender without privileges: dry runs, checks, errors

TEST_CASE("dry run writes the exact bytes to the pcap and sends nothing", "[send]") {
  TempPath pcap;
  std::vector<Bytes> pkts = {ipv4("127.0.0.1", "127.0.0.2", marker()), ipv4("127.0.0.1", "127.0.0.3", marker()),
                             ipv6("::1", "::1", marker())};
  {
    Sender s(dry_config(pcap.path), registry());
    CHECK(s.send(make_set("rawip", pkts), SendOptions{}) == 3);
    CHECK(s.total_sent() == 3);
  }
  int link = 0;
  auto recs = read_pcap(pcap.path, &link);
  CHECK(link == 101);
  REQUIRE(recs.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(recs[i].bytes == pkts[i]);
}

// Linux replaces a zero source of a raw IPv4 packet with its route's choice:
// the UDP checksum must be over that address, the header keeps 0.0.0.0.
TEST_CASE("src=0.0.0.0 on raw IPv4: upper checksums over the kernel's choice, one warning", "[send]") {
  TempPath pcap;
  std::vector<std::string> warnings;
  SendConfig c = dry_config(pcap.path);
  c.warn = [&](const std::string& w) { warnings.push_back(w); };
  pkt::Session session(pkt::Registry::with_stdlib());
  auto set_of = [&](const std::string& e) {
    return session.packets(*pkt::parse_expression(pkt::Source::make("<test>", e)));
  };
  auto zero = set_of("ipv4(src=0.0.0.0, dst=127.0.0.1) / udp(sport=1, dport=2) / \"x\"");
  auto routed = set_of("ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=1, dport=2) / \"x\"");
  {
    Sender s(c, session.registry());
    SendOptions o;
    o.count = 2;
    CHECK(s.send(*zero, o) == 2);
  }
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "src=0.0.0.0: the kernel fills in the source of a raw IPv4 packet; checksums use 127.0.0.1, "
                       "its choice for 127.0.0.1 (to keep 0.0.0.0 on the wire, send from eth on an interface)");
  auto recs = read_pcap(pcap.path);
  REQUIRE(recs.size() == 2);
  const Bytes& b = recs[0].bytes;
  const std::vector<std::uint8_t>& r = routed->tmpl.bytes();
  REQUIRE(b.size() == r.size());
  CHECK(Bytes(b.begin() + 12, b.begin() + 16) == Bytes(4, 0));              // the kernel fills it in
  CHECK(pkt::ones_fold(pkt::ones_sum(b.data(), 20)) == 0xffff);              // a header checksum over 0.0.0.0
  CHECK(Bytes(b.begin() + 20, b.end()) == Bytes(r.begin() + 20, r.end()));  // UDP as over 127.0.0.1
  CHECK(Bytes(zero->tmpl.bytes().begin() + 26, zero->tmpl.bytes().begin() + 28) !=
        Bytes(r.begin() + 26, r.begin() + 28));  // which differs from the checksum as built
  CHECK(recs[1].bytes == b);
}

TEST_CASE("dry run: Ethernet frames, count and interval timestamps", "[send]") {
  TempPath pcap;
  std::vector<Bytes> frames = {ether_payload(marker()), ether_payload(marker())};
  {
    Sender s(dry_config(pcap.path), registry());
    SendOptions o;
    o.count = 3;
    o.interval_ns = 250'000'000;  // 250 ms, not waited for in a dry run
    o.iface = "lo";
    auto t0 = std::chrono::steady_clock::now();
    CHECK(s.send(make_set("ether", frames), o) == 6);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(500));
  }
  int link = 0;
  auto recs = read_pcap(pcap.path, &link);
  CHECK(link == 1);
  REQUIRE(recs.size() == 6);
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(recs[i].bytes == frames[i % 2]);
    if (i) {
      long dt = (recs[i].sec - recs[i - 1].sec) * 1000000 + (recs[i].usec - recs[i - 1].usec);
      CHECK(dt == 250000);
    }
  }
}

TEST_CASE("one out-of-scope packet refuses the whole set before anything is written", "[send][scope]") {
  TempPath pcap;
  std::vector<Bytes> pkts = {ipv4("127.0.0.1", "127.0.0.1", marker()), ipv4("127.0.0.1", "10.3.0.2", marker()),
                             ipv4("127.0.0.1", "127.0.0.3", marker())};
  Sender s(dry_config(pcap.path, "127.0.0.0/8,::1/128"), registry());
  SendOptions o;
  o.count = 5;
  CHECK_THROWS_WITH(s.send(make_set("rawip", pkts), o),
                    "send to 10.3.0.2 refused: outside the scope 127.0.0.0/8,::1/128 (set by --scope or PKT_SCOPE) "
                    "(packet 2 of 3; nothing was sent)");
  CHECK(s.total_sent() == 0);
  CHECK_FALSE(pcap.exists());

  // A single packet: the plain message.
  CHECK_THROWS_WITH(s.send(make_set("rawip", {ipv6("::1", "2001:db8::1", "x")}), o),
                    "send to 2001:db8::1 refused: outside the scope 127.0.0.0/8,::1/128 (set by --scope or PKT_SCOPE)");
  CHECK_FALSE(pcap.exists());
  // In scope: written.
  CHECK(s.send(make_set("rawip", {pkts[0], pkts[2]}), SendOptions{}) == 2);
  CHECK(read_pcap(pcap.path).size() == 2);
}

TEST_CASE("scope of Ethernet frames: IPv4, IPv6, VLAN, ARP and frames with nothing to check", "[send][scope]") {
  TempPath pcap;
  Sender s(dry_config(pcap.path, "127.0.0.0/8,::1"), registry());
  SendOptions lo;
  lo.iface = "lo";
  SendOptions other;
  other.iface = "eth0";  // a dry run: nothing leaves on it

  CHECK(s.send(make_set("ether", {ether(0x0800, ipv4("127.0.0.1", "127.0.0.9", "x"))}), other) == 1);
  CHECK_THROWS_WITH(s.send(make_set("ether", {ether(0x0800, ipv4("127.0.0.1", "10.0.0.9", "x"))}), other),
                    Catch::StartsWith("send to 10.0.0.9 refused: outside the scope 127.0.0.0/8,::1"));
  CHECK_THROWS_WITH(s.send(make_set("ether", {ether(0x86dd, ipv6("::1", "::2", "x"))}), other),
                    Catch::StartsWith("send to ::2 refused"));
  Bytes tagged = ether(0x8100, Bytes{0x00, 0x64, 0x08, 0x00});
  Bytes inner = ipv4("127.0.0.1", "192.0.2.1", "x");
  tagged.insert(tagged.end(), inner.begin(), inner.end());
  CHECK_THROWS_WITH(s.send(make_set("ether", {tagged}), other), Catch::StartsWith("send to 192.0.2.1 refused"));
  Bytes arp = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 77};
  CHECK_THROWS_WITH(s.send(make_set("ether", {ether(0x0806, arp)}), other),
                    Catch::StartsWith("send to 192.0.2.77 refused"));
  // Nothing to check: refused unless on a loopback interface.
  Bytes plain = ether_payload("no address here");
  CHECK_THROWS_WITH(s.send(make_set("ether", {plain}), other),
                    "send on eth0 refused: the frame (EtherType 0x88b5) carries no IPv4, IPv6 or ARP destination to "
                    "check against the scope 127.0.0.0/8,::1 (set by --scope or PKT_SCOPE); such frames may only be "
                    "sent on a loopback interface");
  CHECK(s.send(make_set("ether", {plain}), lo) == 1);
  // Unrestricted: anything goes.
  TempPath pcap2;
  Sender u(dry_config(pcap2.path), registry());
  CHECK(u.send(make_set("ether", {plain}), other) == 1);
}

TEST_CASE("send paths: link types, interfaces, pcap link type", "[send]") {
  TempPath pcap;
  Sender s(dry_config(pcap.path), registry());
  CHECK_THROWS_WITH(s.send(make_set("blob", {Bytes{1, 2, 3}}), SendOptions{}),
                    Catch::StartsWith("cannot send a packet that starts with blob (link type 147)"));
  CHECK_THROWS_WITH(s.send(make_set("ether", {ether_payload("x")}), SendOptions{}),
                    "sending an Ethernet frame needs an interface: send p on IFACE");
  CHECK_THROWS_WITH(s.send(make_set("ether", {Bytes{1, 2, 3}}), SendOptions{1, 0, "lo"}),
                    Catch::Contains("an Ethernet header needs 14 bytes, the frame has 3"));
  CHECK_THROWS_WITH(s.send(make_set("rawip", {Bytes{0x45, 0, 0}}), SendOptions{}),
                    Catch::Contains("an IPv4 header needs 20 bytes"));
  CHECK_THROWS_WITH(s.send(make_set("rawip", {ipv6("::1", "fe80::1", "x")}), SendOptions{}),
                    "sending to fe80::1 (link-local) needs an interface: send p on IFACE");
  // The pcap file takes the first link type; another one is an error.
  CHECK(s.send(make_set("rawip", {ipv4("127.0.0.1", "127.0.0.1", "x")}), SendOptions{}) == 1);
  SendOptions lo;
  lo.iface = "lo";
  CHECK_THROWS_WITH(s.send(make_set("ether", {ether_payload("x")}), lo),
                    Catch::StartsWith("--pcap " + pcap.path + " holds LINKTYPE_RAW (101) packets, but this packet "
                                      "starts with ether (EN10MB (1)): a pcap file holds one link type"));
  // send_as: the link type given explicitly.
  CHECK(s.send_as(make_set("blob", {ipv4("127.0.0.1", "127.0.0.1", "y")}), SendOptions{}, 101) == 1);
  CHECK(read_pcap(pcap.path).size() == 2);
  // count 0 sends nothing.
  SendOptions zero;
  zero.count = 0;
  CHECK(s.send(make_set("rawip", {ipv4("127.0.0.1", "127.0.0.1", "x")}), zero) == 0);
}

TEST_CASE("an unknown interface is named, with the available ones", "[send]") {
  Sender s(SendConfig{}, registry());
  SendOptions o;
  o.iface = "nosuch0";
  try {
    s.send(make_set("ether", {ether_payload("x")}), o);
    FAIL("expected SendError");
  } catch (const SendError& e) {
    std::string m = e.what();
    CHECK(m.find("no interface named 'nosuch0'") == 0);
    CHECK(m.find("available: ") != std::string::npos);
    CHECK(m.find("lo") != std::string::npos);
  }
  CHECK(s.total_sent() == 0);
}

TEST_CASE("without CAP_NET_RAW the error says how to get it", "[send]") {
  auto attempt = [] {
    Sender s(SendConfig{}, registry());
    try {
      s.send(make_set("rawip", {ipv4("127.0.0.1", "127.0.0.1", marker())}), SendOptions{});
    } catch (const SendError& e) {
      return std::string(e.what());
    }
    return std::string("sent");
  };
  char exe[4096];
  ssize_t exe_len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  REQUIRE(exe_len > 0);
  const std::string expected =
      "raw sockets need CAP_NET_RAW, which this process lacks: run as root (with its capabilities), or `sudo setcap "
      "cap_net_raw+ep " + std::string(exe, static_cast<std::size_t>(exe_len)) +
      "`; --dry-run --pcap FILE writes the packets without sending";
  if (!is_root()) {
    CHECK(attempt() == expected);
    return;
  }
  // As root: drop to nobody in a child, which loses every capability.
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    std::string r = setgid(65534) == 0 && setuid(65534) == 0 ? attempt() : "setuid failed";
    (void)!write(fds[1], r.data(), r.size());
    _exit(0);
  }
  close(fds[1]);
  std::string got;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  CHECK(got == expected);
}

// ============================================================================
// Interrupts

TEST_CASE("sleep_interruptible sleeps, and wakes on SIGINT", "[interrupt]") {
  pkt::install_interrupt_handler();
  pkt::clear_interrupt();
  auto t0 = std::chrono::steady_clock::now();
  CHECK(pkt::sleep_interruptible(30'000'000));
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(30));

  std::thread killer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    kill(getpid(), SIGINT);
  });
  t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(pkt::sleep_interruptible(10'000'000'000ULL));
  auto took = std::chrono::steady_clock::now() - t0;
  killer.join();
  CHECK(took < std::chrono::seconds(2));
  CHECK(pkt::interrupted());
  pkt::clear_interrupt();
  CHECK_FALSE(pkt::interrupted());
}

TEST_CASE("an interrupted flag stops a send before the next packet", "[interrupt][send]") {
  pkt::install_interrupt_handler();
  TempPath pcap;
  Sender s(dry_config(pcap.path), registry());
  raise(SIGINT);
  REQUIRE(pkt::interrupted());
  SendOptions o;
  o.count = 1000;
  CHECK(s.send(make_set("rawip", {ipv4("127.0.0.1", "127.0.0.1", "x")}), o) == 0);
  pkt::clear_interrupt();
  CHECK(s.send(make_set("rawip", {ipv4("127.0.0.1", "127.0.0.1", "x")}), o) == 1000);
}

// ============================================================================
// Real sends on loopback, captured on lo

TEST_CASE("raw IPv4 to 127.0.0.1 leaves byte for byte", "[send][root]") {
  NEED_ROOT();
  LoCapture cap;
  std::string m = marker();
  Bytes p = ipv4("127.0.0.1", "127.0.0.1", m);
  TempPath pcap;
  SendConfig c;
  c.pcap_path = pcap.path;
  c.scope = Scope::parse("127.0.0.0/8,::1/128");
  Sender s(c, registry());
  CHECK(s.send(make_set("rawip", {p}), SendOptions{}) == 1);
  auto frames = cap.frames_with(m, 1);
  REQUIRE(frames.size() == 1);
  CHECK(strip_link(frames[0]) == p);
  auto recs = read_pcap(pcap.path);  // the tee
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].bytes == p);
}

TEST_CASE("raw IPv6 to ::1 leaves byte for byte (IPPROTO_RAW passes our header)", "[send][root]") {
  NEED_ROOT();
  LoCapture cap;
  std::string m = marker();
  Bytes p = ipv6("::1", "::1", m);
  Sender s(SendConfig{}, registry());
  CHECK(s.send(make_set("rawip", {p}), SendOptions{}) == 1);
  auto frames = cap.frames_with(m, 1);
  REQUIRE(frames.size() == 1);
  CHECK(strip_link(frames[0]) == p);
  // Even a payload length that does not match is sent as built.
  std::string m2 = marker();
  Bytes q = ipv6("::1", "::1", m2);
  q[5] = 3;
  CHECK(s.send(make_set("rawip", {q}), SendOptions{}) == 1);
  frames = cap.frames_with(m2, 1);
  REQUIRE(frames.size() == 1);
  CHECK(strip_link(frames[0]) == q);
}

TEST_CASE("an Ethernet frame on lo leaves byte for byte", "[send][root]") {
  NEED_ROOT();
  LoCapture cap;
  std::string m = marker();
  Bytes f = ether_payload(m);
  Sender s(SendConfig{}, registry());
  SendOptions o;
  o.iface = "lo";
  CHECK(s.send(make_set("ether", {f}), o) == 1);
  auto frames = cap.frames_with(m, 1);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0] == f);
}

TEST_CASE("a set is sent in order, count times, paced by the interval", "[send][root]") {
  NEED_ROOT();
  LoCapture cap;
  std::string tag = marker();
  std::vector<Bytes> pkts = {ipv4("127.0.0.1", "127.0.0.1", tag + "/a"), ipv4("127.0.0.1", "127.0.0.2", tag + "/b"),
                             ipv6("::1", "::1", tag + "/c")};
  Sender s(SendConfig{}, registry());
  SendOptions o;
  o.count = 2;
  o.interval_ns = 20'000'000;
  auto t0 = std::chrono::steady_clock::now();
  CHECK(s.send(make_set("rawip", pkts), o) == 6);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took >= std::chrono::milliseconds(100));  // five intervals between six packets
  CHECK(took < std::chrono::milliseconds(1000));
  CHECK(s.total_sent() == 6);
  auto frames = cap.frames_with(tag, 6);
  REQUIRE(frames.size() == 6);
  for (std::size_t i = 0; i < 6; ++i) CHECK(strip_link(frames[i]) == pkts[i % 3]);
}

TEST_CASE("last_stats: the packets and bytes that left, with one thread or several", "[send][root]") {
  NEED_ROOT();
  std::string tag = marker();
  std::vector<Bytes> pkts = {ipv4("127.0.0.1", "127.0.0.1", tag + "/a"), ipv6("::1", "::1", tag + "/bb"),
                             ipv4("127.0.0.1", "127.0.0.2", tag + "/ccc")};
  const std::uint64_t round_bytes = pkts[0].size() + pkts[1].size() + pkts[2].size();
  Sender s(SendConfig{}, registry());
  for (unsigned threads : {1u, 2u, 3u, 7u}) {
    INFO("threads " << threads);
    SendOptions o;
    o.count = 5;
    o.threads = threads;
    CHECK(s.send(make_set("rawip", pkts), o) == 15);
    const pkt::SendStats& st = s.last_stats();
    CHECK(st.packets == 15);
    CHECK(st.bytes == 5 * round_bytes);
    CHECK(st.seconds > 0);
    CHECK(st.asked_pps == 0);
    CHECK(!st.interrupted);
  }
  CHECK(s.total_sent() == 60);
  SendOptions bad;
  bad.threads = Sender::kMaxThreads + 1;
  CHECK_THROWS_WITH(s.send(make_set("rawip", pkts), bad), "threads 257: expected 1 to 256 sender threads");
}

TEST_CASE("a failing send stops and says how many were sent before it", "[send][root]") {
  NEED_ROOT();
  LoCapture cap;
  std::string tag = marker();
  // lo's MTU is 65536: the second packet is too big for it.
  Bytes ok = ipv6("::1", "::1", tag);
  Bytes big = ipv6("::1", "::1", tag + std::string(70000, 'x'));
  TempPath pcap;
  SendConfig c;
  c.pcap_path = pcap.path;
  Sender s(c, registry());
  try {
    s.send(make_set("rawip", {ok, big, ok}), SendOptions{});
    FAIL("expected SendError");
  } catch (const SendError& e) {
    CHECK(std::string(e.what()) == "sending packet 2 (" + std::to_string(big.size()) +
                                       " bytes) to ::1 failed: the packet is larger than the outgoing interface's "
                                       "MTU; 1 packet was sent before it");
  }
  CHECK(s.total_sent() == 1);
  CHECK(read_pcap(pcap.path).size() == 1);  // only what left
  CHECK(cap.frames_with(tag, 2, 300).size() == 1);
}

TEST_CASE("a failing threaded send names the first failed packet, and --pcap holds what left", "[send][root]") {
  NEED_ROOT();
  std::string tag = marker();
  Bytes ok = ipv6("::1", "::1", tag);
  Bytes big = ipv6("::1", "::1", tag + std::string(70000, 'x'));
  TempPath pcap;
  SendConfig c;
  c.pcap_path = pcap.path;
  Sender s(c, registry());
  SendOptions o;
  o.count = 2;
  o.threads = 2;  // thread 1: packets 1-3 (the 2nd fails), thread 2: packets 4-6 (the 5th fails)
  try {
    s.send(make_set("rawip", {ok, big, ok}), o);
    FAIL("expected SendError");
  } catch (const SendError& e) {
    // The first failure seen: the 2nd packet, or the 5th when the second
    // thread fails first and the first one stops before its 2nd packet.
    const std::string what = e.what(), tail = " (" + std::to_string(big.size()) +
                                               " bytes) to ::1 failed: the packet is larger than the outgoing "
                                               "interface's MTU; ";
    INFO(what);
    CHECK((what.rfind("sending packet 2" + tail, 0) == 0 || what.rfind("sending packet 5" + tail, 0) == 0));
    CHECK(std::string(e.what()).find("sent by the 2 threads") != std::string::npos);
  }
  CHECK(s.total_sent() >= 1);
  CHECK(s.total_sent() <= 2);
  CHECK(s.last_stats().packets == s.total_sent());
  CHECK(read_pcap(pcap.path).size() == s.total_sent());
}

TEST_CASE("Ctrl-C stops a long send, every counted packet left", "[send][root][interrupt]") {
  NEED_ROOT();
  pkt::install_interrupt_handler();
  pkt::clear_interrupt();
  LoCapture cap;
  std::string tag = marker();
  TempPath pcap;
  SendConfig c;
  c.pcap_path = pcap.path;
  Sender s(c, registry());
  SendOptions o;
  o.count = 1000;
  o.interval_ns = 10'000'000;  // 10 s in all
  std::thread killer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    kill(getpid(), SIGINT);
  });
  auto t0 = std::chrono::steady_clock::now();
  std::uint64_t n = s.send(make_set("rawip", {ipv4("127.0.0.1", "127.0.0.1", tag)}), o);
  auto took = std::chrono::steady_clock::now() - t0;
  killer.join();
  CHECK(pkt::interrupted());
  pkt::clear_interrupt();
  CHECK(n > 0);
  CHECK(n < 100);
  CHECK(took < std::chrono::seconds(2));
  CHECK(s.total_sent() == n);
  CHECK(read_pcap(pcap.path).size() == n);
  CHECK(cap.frames_with(tag, n + 1, 300).size() == n);
}

TEST_CASE("the kernel's rewrites of raw IPv4 headers are reported once", "[send][root]") {
  NEED_ROOT();
  std::vector<std::string> warnings;
  SendConfig c;
  c.warn = [&](const std::string& w) { warnings.push_back(w); };
  Sender s(c, registry());
  Bytes good = ipv4("127.0.0.1", "127.0.0.1", marker());
  CHECK(s.send(make_set("rawip", {good}), SendOptions{}) == 1);
  CHECK(warnings.empty());
  Bytes bad = good;
  bad[10] ^= 0xff;  // a deliberately wrong checksum
  CHECK(s.send(make_set("rawip", {bad}), SendOptions{}) == 1);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("for raw IPv4 packets the kernel recomputes the header checksum;") == 0);
  Bytes worse = good;
  worse[12] = worse[13] = worse[14] = worse[15] = 0;
  worse[3] = 99;  // total length
  Sender s2(c, registry());
  CHECK(s2.send(make_set("rawip", {worse}), SendOptions{}) == 1);
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[1].find("for raw IPv4 packets the kernel sets the total length to " + std::to_string(good.size()) +
                         " (the packet says 99), recomputes the header checksum and replaces the source 0.0.0.0 "
                         "with the route's address;") == 0);
  CHECK(s.send(make_set("rawip", {bad}), SendOptions{}) == 1);
  CHECK(warnings.size() == 2);
}
