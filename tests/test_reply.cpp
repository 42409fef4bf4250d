// Reply rules: which packet read back answers which probe, by the `reply`
// declarations of the stdlib (and of a user's layer). Replies are built as
// bytes, then read back by the dissector as sr reads them off the wire.
#include <catch2/catch.hpp>

#include "dissect.hpp"
#include "parse.hpp"
#include "reply.hpp"
#include "session.hpp"

using namespace pkt;

namespace {

Session& session() {
  static Session s = [] {
    Session s(Registry::with_stdlib());
    const char* decls = R"(
layer ping7 "A user's request/response layer" {
    op    : u8 enum { ask = 1, answer = 2 } = ask
    token : u32 = 0
}
bind udp.dport = 7777 -> ping7
reply ping7 when op == answer { sent.op == ask; token == sent.token + 1 }
)";
    for (auto& st : parse_script(Source::make("<decls>", decls)).stmts) s.declare(st);
    return s;
  }();
  return s;
}

Packet build(const std::string& expr) { return session().packets(*parse_expression(Source::make("<test>", expr)))->tmpl; }

// Built, then read back from its bytes (as a capture would give it).
Packet wire(const std::string& expr, std::uint32_t linktype = 101) {
  Packet built = build(expr);
  Dissector dis(session().registry());
  return dis.dissect(built.bytes().data(), built.size(), dis.first_for_linktype(linktype));
}

Packet wire_bytes(const std::vector<std::uint8_t>& b) {
  Dissector dis(session().registry());
  return dis.dissect(b.data(), b.size(), dis.first_for_linktype(101));
}

bool answers(const std::string& probe, const Packet& reply) { return pkt::answers(session().registry(), build(probe), reply); }

std::string error_of(const std::string& script) {
  try {
    Session s(Registry::with_stdlib());
    for (auto& st : parse_script(Source::make("<t>", script)).stmts) s.declare(st);
  } catch (const ScriptError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("an ICMP echo reply answers the request with its id and seq") {
  const std::string probe = "ipv4(src=10.0.0.1, dst=10.0.0.2) / icmp(id=7, seq=1)";
  CHECK(answers(probe, wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / icmp(type=echo_reply, id=7, seq=1)")));
  CHECK_FALSE(answers(probe, wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / icmp(type=echo_reply, id=7, seq=2)")));
  CHECK_FALSE(answers(probe, wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / icmp(type=echo_reply, id=8, seq=1)")));
  // From another host, or to another one: not an answer.
  CHECK_FALSE(answers(probe, wire("ipv4(src=10.0.0.3, dst=10.0.0.1) / icmp(type=echo_reply, id=7, seq=1)")));
  CHECK_FALSE(answers(probe, wire("ipv4(src=10.0.0.2, dst=10.0.0.9) / icmp(type=echo_reply, id=7, seq=1)")));
  // The request itself, seen on loopback, answers nothing.
  const std::string lo = "ipv4(src=127.0.0.1, dst=127.0.0.1) / icmp(id=7, seq=1)";
  CHECK_FALSE(answers(lo, wire(lo)));
  CHECK(answers(lo, wire("ipv4(src=127.0.0.1, dst=127.0.0.1) / icmp(type=echo_reply, id=7, seq=1)")));
}

TEST_CASE("a link-layer envelope before the probe's first layer is skipped") {
  const std::string probe = "ipv4(src=127.0.0.1, dst=127.0.0.1) / icmp(id=3, seq=9)";
  CHECK(answers(probe, wire("eth(type=0x0800) / ipv4(src=127.0.0.1, dst=127.0.0.1) / icmp(type=echo_reply, id=3, seq=9)", 1)));
}

TEST_CASE("a SYN-ACK or an RST answers a SYN with ports swapped and ack = seq + 1") {
  const std::string syn = "ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(sport=40000, dport=22, seq=1000, flags=SYN)";
  CHECK(answers(syn, wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / tcp(sport=22, dport=40000, flags=SYN|ACK, seq=5, ack=1001)")));
  CHECK(answers(syn, wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / tcp(sport=22, dport=40000, flags=RST|ACK, ack=1001)")));
  CHECK_FALSE(answers(syn, wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / tcp(sport=22, dport=40000, flags=SYN|ACK, ack=1000)")));
  CHECK_FALSE(answers(syn, wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / tcp(sport=23, dport=40000, flags=SYN|ACK, ack=1001)")));
  CHECK_FALSE(answers(syn, wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / tcp(sport=22, dport=40001, flags=SYN|ACK, ack=1001)")));
  // The sequence number wraps at 32 bits.
  CHECK(answers("ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(sport=1, dport=2, seq=0xffffffff)",
                wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / tcp(sport=2, dport=1, flags=SYN|ACK, ack=0)")));
  // A UDP datagram is no answer to a TCP probe.
  CHECK_FALSE(answers(syn, wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / udp(sport=22, dport=40000)")));
  // On loopback, a SYN from a port to the same port is not its own answer
  // by the rules either (no ack).
  const std::string self = "ipv4(src=127.0.0.1, dst=127.0.0.1) / tcp(sport=5000, dport=5000, seq=7, flags=SYN)";
  CHECK_FALSE(answers(self, wire(self)));
}

TEST_CASE("a UDP reply answers its datagram, and IPv6 too") {
  CHECK(answers("ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=5353, dport=53) / \"q\"",
                wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / udp(sport=53, dport=5353) / \"answer\"")));
  CHECK_FALSE(answers("ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=5353, dport=53)",
                      wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / udp(sport=53, dport=5354)")));
  CHECK(answers("ipv6(src=fd00::1, dst=fd00::2) / icmpv6(id=1, seq=2)",
                wire("ipv6(src=fd00::2, dst=fd00::1) / icmpv6(type=echo_reply, id=1, seq=2)")));
  CHECK_FALSE(answers("ipv6(src=fd00::1, dst=fd00::2) / icmpv6(id=1, seq=2)",
                      wire("ipv6(src=fd00::2, dst=fd00::1) / icmpv6(type=echo_reply, id=1, seq=3)")));
}

TEST_CASE("an ICMP error answers the probe it quotes, from any address") {
  const std::string probe = "ipv4(src=10.0.0.1, dst=10.0.0.2, ttl=1) / udp(sport=40000, dport=33434) / \"probe\"";
  // A router (10.9.9.9) says the TTL ran out; it quotes the probe with ttl 0.
  const std::string hop = "ipv4(src=10.9.9.9, dst=10.0.0.1) / icmp(type=time_exceeded) / "
                          "ipv4(src=10.0.0.1, dst=10.0.0.2, ttl=0) / udp(sport=40000, dport=33434) / \"probe\"";
  CHECK(answers(probe, wire(hop)));
  // A closed port: dest_unreach, quoting the probe.
  CHECK(answers(probe, wire("ipv4(src=10.0.0.2, dst=10.0.0.1) / icmp(type=dest_unreach, code=3) / "
                            "ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=40000, dport=33434)")));
  // The quote is of another probe (another port, another destination).
  CHECK_FALSE(answers(probe, wire("ipv4(src=10.9.9.9, dst=10.0.0.1) / icmp(type=time_exceeded) / "
                                  "ipv4(src=10.0.0.1, dst=10.0.0.2, ttl=0) / udp(sport=40000, dport=33435)")));
  CHECK_FALSE(answers(probe, wire("ipv4(src=10.9.9.9, dst=10.0.0.1) / icmp(type=time_exceeded) / "
                                  "ipv4(src=10.0.0.1, dst=10.0.0.3, ttl=0) / udp(sport=40000, dport=33434)")));
  // An echo request is no error: it quotes nothing.
  CHECK_FALSE(answers(probe, wire("ipv4(src=10.9.9.9, dst=10.0.0.1) / icmp(type=echo_request) / "
                                  "ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=40000, dport=33434)")));
  // IPv6: time exceeded quoting an ICMPv6 echo.
  CHECK(answers("ipv6(src=fd00::1, dst=fd00:2::2, hlim=1) / icmpv6(id=5, seq=1)",
                wire("ipv6(src=fd00::99, dst=fd00::1) / icmpv6(type=time_exceeded) / "
                     "ipv6(src=fd00::1, dst=fd00:2::2, hlim=0) / icmpv6(id=5, seq=1)")));
  CHECK_FALSE(answers("ipv6(src=fd00::1, dst=fd00:2::2, hlim=1) / icmpv6(id=5, seq=2)",
                      wire("ipv6(src=fd00::99, dst=fd00::1) / icmpv6(type=time_exceeded) / "
                           "ipv6(src=fd00::1, dst=fd00:2::2, hlim=0) / icmpv6(id=5, seq=1)")));
}

TEST_CASE("a quote cut short is compared byte by byte with the probe's start") {
  // A TCP probe quoted with only its first 8 bytes (ports and seq), as
  // RFC 792 routers do: the TCP header is too short to read and stays raw.
  const std::string probe = "ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(sport=40000, dport=80, seq=0x01020304)";
  Packet full = build("ipv4(src=10.9.9.9, dst=10.0.0.1) / icmp(type=time_exceeded) / "
                      "ipv4(src=10.0.0.1, dst=10.0.0.2, ttl=0) / tcp(sport=40000, dport=80, seq=0x01020304)");
  std::vector<std::uint8_t> cut(full.bytes().begin(), full.bytes().begin() + 20 + 8 + 20 + 8);
  Packet reply = wire_bytes(cut);
  CHECK(answers(probe, reply));
  CHECK_FALSE(answers("ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(sport=40000, dport=80, seq=0x01020305)", reply));
}

TEST_CASE("an ARP reply answers the request for its address") {
  const std::string who = "eth(src=02:00:00:00:00:01) / arp(op=request, sha=02:00:00:00:00:01, spa=10.0.0.1, tpa=10.0.0.2)";
  CHECK(answers(who, wire("eth(src=02:00:00:00:00:02, dst=02:00:00:00:00:01) / "
                          "arp(op=reply, sha=02:00:00:00:00:02, spa=10.0.0.2, tha=02:00:00:00:00:01, tpa=10.0.0.1)", 1)));
  CHECK_FALSE(answers(who, wire("eth(src=02:00:00:00:00:03, dst=02:00:00:00:00:01) / "
                                "arp(op=reply, sha=02:00:00:00:00:03, spa=10.0.0.3, tpa=10.0.0.1)", 1)));
  CHECK_FALSE(answers(who, wire(who, 1)));  // the request itself
}

TEST_CASE("a user's layer declares its own reply rule") {
  const std::string probe = "ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=7777, dport=7777) / ping7(token=41)";
  CHECK(answers(probe, wire("ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=7777, dport=7777) / ping7(op=answer, token=42)")));
  CHECK_FALSE(answers(probe, wire("ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=7777, dport=7777) / ping7(op=answer, token=41)")));
  // Its own probe, looped back, is no answer: no rule applies to op == ask.
  CHECK_FALSE(answers(probe, wire(probe)));
}

TEST_CASE("bad reply rules are errors at their place") {
  CHECK_THAT(error_of("reply nosuch { a == sent.a }"), Catch::Contains("unknown layer 'nosuch'"));
  CHECK_THAT(error_of("reply udp { sprot == sent.dport }"), Catch::Contains("unknown name 'sprot'") &&
                                                               Catch::Contains("did you mean 'sport'?"));
  CHECK_THAT(error_of("reply udp { sport == sent.dprot }"), Catch::Contains("udp has no field 'dprot'"));
  CHECK_THAT(error_of("reply icmp when type == 3 { payload quotes sent; id == sent.id }"),
             Catch::Contains("cannot read sent.FIELD"));
  CHECK_THAT(error_of("reply udp { sport == }"), Catch::Contains("after the comparison"));
  CHECK_THAT(error_of("reply udp sport == sent.dport"), Catch::Contains("expected '{'"));
  CHECK_THAT(error_of("reply udp { sport == sent.dport"), Catch::Contains("expected a condition, ';' or '}'"));
  CHECK_THAT(error_of("reply udp { sport in 1, 2 }"), Catch::Contains("expected '[' and a list"));
}

TEST_CASE("a DNS response answers its query by id") {
  const char* probe = "ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=5353, dport=53) / dns(id=0x1234, qd=[question(\"example.com\", a)])";
  const char* lo = "ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=53, dport=5353) / ";
  CHECK(answers(probe, wire(std::string(lo) + "dns(id=0x1234, qr=response, qd=[question(\"example.com\", a)], "
                                              "an=[rr(\"example.com\", a, addr=127.0.0.1)])")));
  CHECK_FALSE(answers(probe, wire(std::string(lo) + "dns(id=0x1235, qr=response)")));
  // A query with the same id is not an answer.
  CHECK_FALSE(answers(probe, wire(std::string(lo) + "dns(id=0x1234, qr=query)")));
  // Nor a response to another port.
  CHECK_FALSE(answers(probe, wire("ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=53, dport=5354) / dns(id=0x1234, qr=response)")));
}

TEST_CASE("a DHCP reply answers the request by xid and client address") {
  const char* probe = "ipv4(src=0.0.0.0, dst=255.255.255.255) / udp(sport=68, dport=67) / bootp(chaddr=02:00:00:00:00:01, xid=0x1234)"
                      " / dhcp(options=[msgtype(discover), end])";
  // The server answers from its own address, to the broadcast address.
  const char* srv = "ipv4(src=10.0.0.1, dst=255.255.255.255) / udp(sport=67, dport=68) / ";
  CHECK(answers(probe, wire(std::string(srv) + "bootp(op=reply, xid=0x1234, chaddr=02:00:00:00:00:01, yiaddr=10.0.0.5)"
                                               " / dhcp(options=[msgtype(offer), server_id(10.0.0.1), end])")));
  CHECK_FALSE(answers(probe, wire(std::string(srv) + "bootp(op=reply, xid=0x1235, chaddr=02:00:00:00:00:01) / dhcp()")));
  CHECK_FALSE(answers(probe, wire(std::string(srv) + "bootp(op=reply, xid=0x1234, chaddr=02:00:00:00:00:02) / dhcp()")));
  CHECK_FALSE(answers(probe, wire(std::string(srv) + "bootp(op=request, xid=0x1234, chaddr=02:00:00:00:00:01) / dhcp()")));
  // A unicast probe is still answered only by the address it went to.
  CHECK_FALSE(answers("ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=5353, dport=53)",
                      wire("ipv4(src=10.0.0.3, dst=10.0.0.1) / udp(sport=53, dport=5353)")));
}

TEST_CASE("a neighbour advertisement answers the solicitation for its target (reply icmpv6_na to icmpv6_ns)") {
  const std::string ns = "ipv6(src=fe80::1, dst=ff02::1:ff00:2) / icmpv6_ns(target=fe80::2, options=[slla(02:00:00:00:00:01)])";
  // From the target's own address, to the solicitation's source: the probe went to a multicast group.
  CHECK(answers(ns, wire("ipv6(src=fe80::2, dst=fe80::1) / icmpv6_na(r=0, s=1, target=fe80::2, "
                         "options=[tlla(02:00:00:00:00:02)])")));
  CHECK_FALSE(answers(ns, wire("ipv6(src=fe80::3, dst=fe80::1) / icmpv6_na(s=1, target=fe80::3)")));  // another target
  CHECK_FALSE(answers(ns, wire("ipv6(src=fe80::2, dst=fe80::1) / icmpv6_na(s=0, target=fe80::2)")));  // unsolicited
  CHECK_FALSE(answers(ns, wire("ipv6(src=fe80::2, dst=fe80::9) / icmpv6_na(s=1, target=fe80::2)")));  // to someone else
  CHECK_FALSE(answers(ns, wire(ns)));  // the solicitation itself
  // A unicast probe is still answered only from where it went.
  CHECK_FALSE(answers("ipv6(src=fd00::1, dst=fd00::2) / icmpv6(id=1, seq=1)",
                      wire("ipv6(src=fd00::3, dst=fd00::1) / icmpv6(type=echo_reply, id=1, seq=1)")));
}

TEST_CASE("reply ... to PROBE: errors name the probe's layer and refuse quotes") {
  Session s(Registry::with_stdlib());
  auto declare = [&](const std::string& text) {
    for (auto& st : parse_script(Source::make("<t>", text)).stmts) s.declare(st);
  };
  CHECK_THROWS_WITH(declare("reply icmpv6_na to icmpv6_nx { target == sent.target }"),
                    Catch::Contains("unknown layer 'icmpv6_nx'"));
  CHECK_THROWS_WITH(declare("reply icmpv6_na to icmpv6_ns { target == sent.targt }"),
                    Catch::Contains("icmpv6_ns has no field 'targt'"));
  CHECK_THROWS_WITH(declare("reply icmpv6_na quoted to icmpv6_ns { target == sent.target }"),
                    Catch::Contains("a quote"));
}
