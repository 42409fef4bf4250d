// The source address: route_source(dst) in ipv4.src and ipv6.src. Loopback
// without asking the kernel, other destinations by the kernel's answer (asked
// here independently, through a connected UDP socket), the origin `route`, a
// user's value winning, checksums over the chosen address, lookups per
// destination never per packet, and reading that never asks. The case with
// no route needs a network namespace: tests/crosscheck/source_live.py.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "checksum.hpp"
#include "dissect.hpp"
#include "encodings.hpp"
#include "packet_set.hpp"
#include "parse.hpp"
#include "render.hpp"
#include "route.hpp"
#include "route_query.hpp"
#include "session.hpp"

using namespace pkt;

namespace {

Session& session() {
  static Session s = [] {
    net::install_route_asker();  // as main does: the graph asks the kernel through it
    return Session(Registry::with_stdlib());
  }();
  return s;
}

std::shared_ptr<PacketSet> build_set(const std::string& expr) {
  return session().packets(*parse_expression(Source::make("<test>", expr)));
}

Packet build(const std::string& expr) { return build_set(expr)->tmpl; }

std::string hex(const Packet& p) {
  return hex_encode(std::string_view(reinterpret_cast<const char*>(p.bytes().data()), p.size()));
}

const FieldSlot& field(const Packet& p, const std::string& layer, const std::string& name) {
  const LayerInst& li = p.layers().at(p.layer_index(layer));
  return li.fields.at(li.def->field_index(name));
}

std::string text_of(const FieldSlot& s) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(s.value.bytes.size() == 4 ? AF_INET : AF_INET6, s.value.bytes.data(), buf, sizeof buf);
  return buf;
}

// The kernel's source for a destination, asked independently of pkt; empty
// when it has no route.
std::string kernel_source(int family, const std::string& dst) {
  int fd = socket(family, SOCK_DGRAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_storage to{}, me{};
  socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&to);
    a->sin_family = AF_INET;
    a->sin_port = htons(7);
    inet_pton(AF_INET, dst.c_str(), &a->sin_addr);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&to);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(7);
    inet_pton(AF_INET6, dst.c_str(), &a->sin6_addr);
  }
  std::string out;
  socklen_t mlen = sizeof me;
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), len) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&me), &mlen) == 0) {
    char buf[INET6_ADDRSTRLEN] = {};
    const void* a = family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&me)->sin_addr)
                                      : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&me)->sin6_addr);
    inet_ntop(family, a, buf, sizeof buf);
    out = buf;
  }
  close(fd);
  return out;
}

}  // namespace

TEST_CASE("a loopback destination gives 127.0.0.1 or ::1, origin route, without asking the kernel") {
  const std::uint64_t before = route_queries();
  // From scapy 2.5: bytes(IP(src='127.0.0.1',dst='127.0.0.1',id=1)/UDP(sport=1234,dport=53)/b'hi').hex()
  Packet v4 = build("ipv4(dst=127.0.0.1, id=1) / udp(sport=1234, dport=53) / \"hi\"");
  CHECK(hex(v4) == "4500001e0001000040117ccc7f0000017f00000104d20035000a94676869");
  CHECK(field(v4, "ipv4", "src").origin == Origin::Route);
  CHECK(text_of(field(v4, "ipv4", "src")) == "127.0.0.1");
  // Any 127/8 destination: scapy's IP(src='127.0.0.1', dst='127.3.4.5', id=1)/TCP(sport=1234, dport=80)
  Packet other = build("ipv4(dst=127.3.4.5, id=1) / tcp(sport=1234, dport=80)");
  CHECK(hex(other) == "4500002800010000400678c67f0000017f03040504d2005000000000000000005002200088b70000");
  // scapy: bytes(IPv6(src='::1',dst='::1')/UDP(sport=1234,dport=53)/b'hi').hex()
  Packet v6 = build("ipv6(dst=::1) / udp(sport=1234, dport=53) / \"hi\"");
  CHECK(hex(v6) == "60000000000a1140000000000000000000000000000000010000000000000000000000000000000104d20035000a92686869");
  CHECK(field(v6, "ipv6", "src").origin == Origin::Route);
  CHECK(route_queries() == before);
  // show says where it came from; the DSL text and Lua's tostring leave it out (it is not the user's).
  std::string show = render_show(v4, false, &session().registry());
  CHECK_THAT(show, Catch::Matches("(.|\n)*\n  src      = 127\\.0\\.0\\.1 +route\n(.|\n)*"));
  CHECK(render_pkt(v4, &session().registry()).find("src=") == std::string::npos);
  CHECK_THAT(describe_layer(session().registry(), *session().registry().layer("ipv4")),
             Catch::Contains("auto route_source(dst)"));
}

TEST_CASE("a src the user set wins over the route") {
  // scapy: bytes(IP(src='10.0.0.1',dst='10.0.0.2',id=1)/UDP(sport=1234,dport=53)/b'hi').hex()
  Packet p = build("ipv4(src=10.0.0.1, dst=10.0.0.2, id=1) / udp(sport=1234, dport=53) / \"hi\"");
  CHECK(hex(p) == "4500001e00010000401166cc0a0000010a00000204d20035000a7e676869");
  CHECK(field(p, "ipv4", "src").origin == Origin::User);
  CHECK(render_pkt(p, &session().registry()).find("src=10.0.0.1") != std::string::npos);
  // A user's src shows no note: it is not compared with a route lookup.
  std::string show = render_show(p, false, &session().registry());
  CHECK_THAT(show, Catch::Matches("(.|\n)*\n  src      = 10\\.0\\.0\\.1\n(.|\n)*"));
}

TEST_CASE("another destination gives the kernel's source, and the checksums are computed over it") {
  for (auto [family, dst, layer] : {std::tuple{AF_INET, std::string("192.0.2.77"), std::string("ipv4")},
                                    std::tuple{AF_INET6, std::string("2001:db8::77"), std::string("ipv6")}}) {
    INFO(dst);
    std::string want = kernel_source(family, dst);
    Packet p = build(layer + "(dst=" + dst + ") / udp(sport=1234, dport=53) / \"hi\"");
    const FieldSlot& src = field(p, layer, "src");
    CHECK(src.origin == Origin::Route);
    if (want.empty()) {
      // No route: all zeros, as scapy does, and show says so.
      CHECK(src.value.bytes == std::string(src.value.bytes.size(), '\0'));
      CHECK_THAT(render_show(p, false, &session().registry()), Catch::Contains("route: no route to the destination"));
      continue;
    }
    CHECK(text_of(src) == want);
    // The same bytes as with that source written out (whose bytes the scapy
    // crosscheck compares), so the IPv4 header and UDP checksums are over it.
    Packet explicit_src = build(layer + "(src=" + want + ", dst=" + dst + ") / udp(sport=1234, dport=53) / \"hi\"");
    CHECK(hex(p) == hex(explicit_src));
    // And independently: the UDP checksum verifies over the pseudo-header with that source.
    const std::size_t ip_len = layer == "ipv4" ? 20 : 40;
    std::string pseudo = src.value.bytes + field(p, layer, "dst").value.bytes;
    pseudo += layer == "ipv4" ? std::string("\0\x11\0\x0a", 4) : std::string("\0\0\0\x0a\0\0\0\x11", 8);
    std::uint32_t sum = ones_sum(reinterpret_cast<const std::uint8_t*>(pseudo.data()), pseudo.size());
    sum = ones_sum(p.bytes().data() + ip_len, 10, sum);
    CHECK(ones_fold(sum) == 0xffff);
  }
}

TEST_CASE("netlink and the UDP fallback give the same source") {
  net::install_route_asker();
  for (const char* dst : {"192.0.2.77", "198.18.1.1", "127.0.0.9", "2001:db8::77", "::1"}) {
    INFO(dst);
    const bool v4 = std::string(dst).find(':') == std::string::npos;
    std::string bytes(v4 ? 4 : 16, '\0');
    REQUIRE(inet_pton(v4 ? AF_INET : AF_INET6, dst, bytes.data()) == 1);
    std::string by_netlink = net::ask_route_source(bytes, net::RouteQuery::Netlink);
    CHECK(by_netlink == net::ask_route_source(bytes, net::RouteQuery::Udp));
    // And route_source (loopback aside) is that answer.
    if (std::string(dst).rfind("127.", 0) != 0 && std::string(dst) != "::1") CHECK(route_source(bytes) == by_netlink);
  }
}

TEST_CASE("the kernel is asked once per destination, never per packet") {
  // 1000 destinations not asked before (198.18.0.0/15 is for benchmarks):
  // at most one question each; the same set again asks nothing.
  std::uint64_t before = route_queries();
  auto set = build_set("ipv4(dst=198.18.3.0..198.18.6.231) / udp(dport=[1, 2])");
  std::uint64_t n = 0;
  set->for_each([&](const Packet&) { return ++n, true; });
  CHECK(n == 2000);
  CHECK(route_queries() - before <= 1000);
  CHECK(route_queries() - before >= 1);
  before = route_queries();
  std::string last;
  set->for_each([&](const Packet& p) {
    last = text_of(field(p, "ipv4", "src"));
    return true;
  });
  CHECK(route_queries() == before);
  std::string want = kernel_source(AF_INET, "198.18.6.231");
  CHECK(last == (want.empty() ? "0.0.0.0" : want));
  // A generator over another field asks nothing more.
  before = route_queries();
  auto ports = build_set("ipv4(dst=198.18.9.9) / tcp(dport=1..5000)");
  ports->for_each([](const Packet&) { return true; });
  CHECK(route_queries() - before <= 1);
}

TEST_CASE("reading never asks the kernel: a read source stays wire") {
  Packet built = build("ipv4(src=10.1.2.3, dst=10.9.9.9, id=7) / udp(sport=1, dport=2) / \"abc\"");
  std::string bytes(built.bytes().begin(), built.bytes().end());
  const std::uint64_t before = route_queries();
  Dissector dis(session().registry());
  Packet r = dis.dissect(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), dis.first_for_linktype(101));
  r.resolve_wire_origins();
  CHECK(field(r, "ipv4", "src").origin == Origin::Wire);
  CHECK(field(r, "ipv4", "checksum").origin == Origin::Auto);  // the checksum over the read source
  CHECK(field(r, "udp", "checksum").origin == Origin::Auto);
  std::string show = render_show(r, false, &session().registry());
  std::string text = render_pkt(r, &session().registry());
  CHECK(route_queries() == before);
  CHECK_THAT(show, Catch::Matches("(.|\n)*\n  src      = 10\\.1\\.2\\.3\n(.|\n)*"));
  // The DSL text writes the read source, so it rebuilds the same bytes anywhere.
  CHECK_THAT(text, Catch::Contains("src=10.1.2.3"));
  CHECK(hex(build(text)) == hex(built));
}

TEST_CASE("route_source is for auto rules of address fields") {
  auto error_of = [](const std::string& decl) -> std::string {
    try {
      Session s(Registry::with_stdlib());
      for (auto& st : parse_script(Source::make("<decl>", decl)).stmts) s.declare(st);
    } catch (const ScriptError& e) {
      return e.what();
    }
    return "";
  };
  CHECK(error_of("layer ok \"\" { a : ipv4addr = auto route_source(b)\n b : ipv4addr = 10.0.0.1 }") == "");
  CHECK_THAT(error_of("layer bad \"\" { n : u8\n data : bytes size route_source(n) }"),
             Catch::Contains("route_source() asks the kernel for a route: it is for auto rules only"));
  CHECK_THAT(error_of("layer bad \"\" { a : ipv4addr = auto route_source(b)\n b : u8 = 1 }\n"
                      "packet p = bad() / \"x\""),
             Catch::Contains("route_source() takes an IPv4 or IPv6 address (4 or 16 bytes)"));
  CHECK_THAT(error_of("layer bad \"\" { a : ipv4addr = auto route_source(b)\n b : ipv6addr = ::2 }\n"
                      "packet p = bad() / \"x\""),
             Catch::Contains("the auto rule of bad.a gives 16 bytes; expected 4 bytes (ipv4addr)"));
}
