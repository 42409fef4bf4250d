// Reading: one declaration builds and dissects. Sizes, conditions, option
// lists, bounded payloads and trailers, origins (auto or wire), the next
// layer from bindings (lowest value first, `when`), and what does not fit.
#include <catch2/catch.hpp>

#include "dissect.hpp"
#include "encodings.hpp"
#include "parse.hpp"
#include "pcap_reader.hpp"
#include "render.hpp"
#include "session.hpp"

using namespace pkt;

namespace {

// A session with the stdlib and the issue's two example layers.
Session& session() {
  static Session s = [] {
    Session s(Registry::with_stdlib());
    const char* decls = R"(
layer note "A length-prefixed note" {
    kind : u8 = 1
    n    : u8 = auto len(text)
    text : bytes size n
    summary "{text}"
}
bind udp.dport = 7000 -> note
layer tunnel "Optional key and sequence number, like GRE" {
    k     : u1 = auto present(key)
    s     : u1 = auto present(seq)
    rest  : u14 = 0
    proto : u16 = 0x0800
    key   : u32 if k
    seq   : u32 if s
}
bind udp.dport = 7001 -> tunnel
layer lowport "bound to udp.sport 5353" { x : u8 }
layer highport "bound to udp.dport 9000" { y : u8 }
bind udp.sport = 5353 -> lowport
bind udp.dport = 9000 -> highport
layer inventory "A count, then that many items" {
    n     : u8 = auto
    items : bytes count n
}
option inventory.items item(sku, qty) "One item" { sku : u16; qty : u8 }
bind udp.dport = 7010 -> inventory
layer tlvs "Records up to a stop record" {
    tag  : u16 = 0x7e7e
    recs : bytes until stop
    payload size 0
}
option tlvs.recs stop "The last record" { type : u8 = 0 }
option tlvs.recs note(text) "A text record" {
    type   : u8 = 1
    length : u8 = auto len(text)
    text   : bytes size length
}
bind udp.dport = 7011 -> tlvs
layer lookup "A name and a type" {
    qname : name = "localhost"
    qtype : u16 = 1
}
bind udp.dport = 7012 -> lookup
layer shape "A layout by kind" {
    kind   : u8 enum { circle = 1, rect = 2 } = circle
    size   : u8 = auto len(radius, width, height, other)
    radius : u16 if kind == circle
    width  : u16 if kind == rect
    height : u16 if kind == rect
    other  : bytes size size if not (kind in [circle, rect])
}
bind udp.dport = 7013 -> shape
layer pair "Two lists of one option" { na : u8 = auto; nb : u8 = auto; a : bytes count na; b : bytes count nb }
option pair.a, pair.b val(v) "A value" { v : u8 }
bind udp.dport = 7014 -> pair
layer framed "A message after its 2-byte length" {
    length : u16 = auto len(payload)
    payload size length
}
layer greeting "What the frame holds" { text : bytes }
bind tcp.dport = 7015 -> framed
bind framed -> greeting
layer names2 "Two names; the second may point into the first" {
    first  : name
    second : name
    summary "to {second}"
}
layer zone "Names in a list" { n : u8 = auto; recs : bytes count n }
option zone.recs rec(owner) "A record" { owner : name }
layer records "Type-length records up to the end of the layer" {
    tag  : u16 = 0x5252
    recs : bytes strict
}
option records.recs text(value) "A text record" {
    type   : u8 = 1
    length : u8 = auto 2 + len(value)
    value  : bytes size length - 2 if length >= 2
}
option records.recs ping "A record with no value" {
    type   : u8 = 2
    length : u8 = auto len(this)
}
bind udp.dport = 7016 -> records
layer label "A fixed-size name field" {
    name : bytes size 8 padded = hex"0000000000000000"
    kind : u8 = 1
}
bind udp.dport = 7017 -> label
layer sensor "A signed number, a list of addresses, a list of strings" {
    offset : i16 = 0
    npeer  : u8 = auto len(peers) / 4
    peers  : ipv4addr[] size npeer * 4
    labels : text[]
}
bind udp.dport = 7018 -> sensor
layer loose "The same records, not strict" { tag : u16 = 0x5252; recs : bytes }
option loose.recs ping "A record with no value" { type : u8 = 2; length : u8 = auto len(this) }
)";
    for (auto& st : parse_script(Source::make("<decls>", decls)).stmts) s.declare(st);
    return s;
  }();
  return s;
}

Packet build(const std::string& expr) {
  return session().packets(*parse_expression(Source::make("<test>", expr)))->tmpl;
}

std::string hex(const Packet& p) {
  return hex_encode(std::string_view(reinterpret_cast<const char*>(p.bytes().data()), p.size()));
}

std::string bytes_of_hex(const std::string& h) { return *hex_decode(h); }

Packet read(const std::string& bytes, const std::string& first = "") {
  Dissector dis(session().registry());
  auto firsts = first.empty() ? dis.first_for_linktype(101) : Dissector::first_is(session().registry().layer(first));
  Packet p = dis.dissect(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), firsts);
  p.resolve_wire_origins();
  return p;
}

std::string layers(const Packet& p) {
  std::string out;
  for (auto& l : p.layers()) out += (out.empty() ? "" : "/") + l.def->name;
  return out;
}

const FieldSlot& field(const Packet& p, const std::string& layer, const std::string& name) {
  const LayerInst& li = p.layers().at(p.layer_index(layer));
  return li.fields.at(li.def->field_index(name));
}

// Read -> DSL text -> build gives the same bytes.
std::string rebuilt(const Packet& p) { return hex(build(render_pkt(p, &session().registry()))); }

std::string error_of(const std::string& expr) {
  try {
    build(expr);
  } catch (const ScriptError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a size from another field: building fills it, reading uses it") {
  Packet a = build("ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=7000, dport=7000) / note(text=\"hello\")");
  CHECK(hex(a).substr(56) == "010568656c6c6f");
  Packet r = read(std::string(a.bytes().begin(), a.bytes().end()));
  CHECK(layers(r) == "ipv4/udp/note");
  CHECK(field(r, "note", "text").value.bytes == "hello");
  CHECK(field(r, "note", "n").origin == Origin::Auto);
  CHECK(rebuilt(r) == hex(a));
  // A size the user asked for is kept; a default that disagrees is an error.
  CHECK(hex(build("ipv4() / udp(dport=7000) / note(n=3, text=\"hello\")")).substr(56) == "010368656c6c6f");
}

TEST_CASE("optional fields follow their flag both ways") {
  Packet b = build("ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=7001, dport=7001) / tunnel(key=5) / \"x\"");
  CHECK(hex(b).substr(56) == "800008000000000578");
  Packet both = build("ipv4() / udp(sport=7001, dport=7001) / tunnel(key=5, seq=6)");
  CHECK(hex(both).substr(56) == "c000080000000005" "00000006");
  Packet none = build("ipv4() / udp(sport=7001, dport=7001) / tunnel()");
  CHECK(hex(none).substr(56) == "00000800");
  for (const Packet* p : {&b, &both, &none}) {
    Packet r = read(std::string(p->bytes().begin(), p->bytes().end()));
    CHECK(layers(r).rfind("ipv4/udp/tunnel", 0) == 0);
    CHECK(rebuilt(r) == hex(*p));
  }
  Packet r = read(std::string(b.bytes().begin(), b.bytes().end()));
  CHECK(field(r, "tunnel", "key").present);
  CHECK(field(r, "tunnel", "key").value.num == 5);
  CHECK_FALSE(field(r, "tunnel", "seq").present);
  // A value for a field whose condition is false is not dropped silently.
  CHECK_THAT(error_of("ipv4() / udp(dport=7001) / tunnel(k=0, key=5)"), Catch::Contains("condition `if k` is false"));
}

TEST_CASE("a size that disagrees with its field is an error unless asked for") {
  Session s(Registry::with_stdlib());
  for (auto& st : parse_script(Source::make("<d>", "layer fixedn { n : u8 = 2 \n text : bytes size n }")).stmts) s.declare(st);
  try {
    s.packets(*parse_expression(Source::make("<e>", "fixedn(text=\"hello\")")));
    FAIL("expected an error");
  } catch (const ScriptError& e) {
    CHECK_THAT(e.what(), Catch::Contains("fixedn.text is 5 bytes, but its size rule `size n` gives 2"));
  }
  auto ok = s.packets(*parse_expression(Source::make("<e>", "fixedn(n=2, text=\"hello\")")));
  CHECK(ok->tmpl.size() == 6);
}

TEST_CASE("TCP options read back as the list that builds them") {
  Packet p = build("ipv4() / tcp(options=[mss(1460), sackok, timestamp(1, 2), nop, wscale(7)])");
  Packet r = read(std::string(p.bytes().begin(), p.bytes().end()));
  const Registry& reg = session().registry();
  std::string text = render_pkt(r, &reg);
  CHECK_THAT(text, Catch::Contains("options=[mss(1460), sackok, timestamp(1, 2), nop, wscale(7)]"));
  CHECK(rebuilt(r) == hex(p));
  // An unknown kind is a bytes element; padding with eol is left out; a
  // wrong option length makes the rest one bytes element.
  Packet u = build("ipv4() / tcp(options=[nop, hex\"fe0401ff\", eol])");
  Packet ru = read(std::string(u.bytes().begin(), u.bytes().end()));
  CHECK_THAT(render_pkt(ru, &reg), Catch::Contains("options=[nop, hex\"fe0401ff\"])"));
  CHECK(rebuilt(ru) == hex(u));
  Packet bad = build("ipv4() / tcp(options=[hex\"020905b4\"])");  // mss with length 9
  Packet rb = read(std::string(bad.bytes().begin(), bad.bytes().end()));
  CHECK_THAT(render_pkt(rb, &reg), Catch::Contains("options=[hex\"020905b4\"]"));
  CHECK(rebuilt(rb) == hex(bad));
}

TEST_CASE("read values equal to their rule are auto, others are wire and win") {
  Packet p = build("ipv4(src=127.0.0.1, dst=127.0.0.2, checksum=0xdead) / udp(sport=1, dport=2, length=99) / \"abc\"");
  Packet r = read(std::string(p.bytes().begin(), p.bytes().end()));
  CHECK(field(r, "ipv4", "checksum").origin == Origin::Wire);
  CHECK(field(r, "ipv4", "checksum").value.num == 0xdead);
  CHECK(field(r, "ipv4", "length").origin == Origin::Auto);
  CHECK(field(r, "udp", "length").origin == Origin::Wire);
  CHECK(rebuilt(r) == hex(p));
  std::string show = render_show(r, false, &session().registry());
  CHECK_THAT(show, Catch::Contains("wire, computed 0x"));
  // Editing recomputes the auto fields, and leaves the wire one as read.
  const std::size_t ttl = static_cast<std::size_t>(r.layers()[0].def->field_index("ttl"));
  r.set(r.layer_index("ipv4"), ttl, 3);
  CHECK(field(r, "ipv4", "checksum").value.num == 0xdead);
  Packet q = build("ipv4(src=127.0.0.1, dst=127.0.0.2) / udp(sport=1, dport=2) / \"abc\"");
  Packet rq = read(std::string(q.bytes().begin(), q.bytes().end()));
  rq.set(rq.layer_index("ipv4"), ttl, 3);
  CHECK(hex(rq) == hex(build("ipv4(src=127.0.0.1, dst=127.0.0.2, ttl=3) / udp(sport=1, dport=2) / \"abc\"")));
}

TEST_CASE("bytes past a payload bound are a trailer, kept as such") {
  Packet p = build("eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4() / tcp(flags=SYN|ACK)");
  std::string bytes(p.bytes().begin(), p.bytes().end());
  bytes.append(60 - bytes.size(), '\0');  // Ethernet pads short frames to 60 bytes
  Packet r = read(bytes, "eth");
  CHECK(layers(r) == "eth/ipv4/tcp");
  CHECK(r.layers()[1].trailer == std::string(6, '\0'));
  CHECK(hex(r) == hex_encode(bytes));
  CHECK_THAT(render_pkt(r, &session().registry()), Catch::Contains("trailer=hex\"000000000000\""));
  CHECK(rebuilt(r) == hex_encode(bytes));
  // The TCP checksum covers the segment only, not the padding.
  CHECK(field(r, "tcp", "checksum").origin == Origin::Auto);
}

TEST_CASE("the next layer: bindings backwards, the lower port first, when") {
  Packet both = build("ipv4() / udp(sport=5353, dport=9000) / hex\"01\"");
  CHECK(layers(read(std::string(both.bytes().begin(), both.bytes().end()))) == "ipv4/udp/lowport");
  Packet high = build("ipv4() / udp(sport=40000, dport=9000) / hex\"01\"");
  CHECK(layers(read(std::string(high.bytes().begin(), high.bytes().end()))) == "ipv4/udp/highport");
  // LINKTYPE_RAW: IPv4 or IPv6 by the version, through `when`.
  Packet v6 = build("ipv6() / udp()");
  CHECK(layers(read(std::string(v6.bytes().begin(), v6.bytes().end()))) == "ipv6/udp");
  Packet ext = build("ipv6 / ipv6_hop / ipv6_frag(id=7) / udp(dport=53) / \"x\"");
  Packet rext = read(std::string(ext.bytes().begin(), ext.bytes().end()));
  CHECK(layers(rext) == "ipv6/ipv6_hop/ipv6_frag/udp/raw");
  CHECK(rebuilt(rext) == hex(ext));
}

TEST_CASE("the IPv6 pseudo-header carries the upper-layer protocol and length") {
  // From scapy 2.5: bytes(IPv6(src='::1',dst='::2')/IPv6ExtHdrHopByHop()/IPv6ExtHdrFragment(id=7)/UDP(dport=53)/b'x').hex()
  CHECK(hex(build("ipv6(src=::1, dst=::2) / ipv6_hop / ipv6_frag(id=7) / udp(dport=53) / \"x\"")) ==
        "600000000019004000000000000000000000000000000001000000000000000000000000000000022c0001040000000011000000"
        "00000007003500350009876f78");
  // bytes(IPv6()/IPv6ExtHdrDestOpt()/TCP()).hex()
  CHECK(hex(build("ipv6 / ipv6_dest / tcp()")) ==
        "60000000001c3c40000000000000000000000000000000010000000000000000000000000000000106000104000000000014005000"
        "00000000000000500220008f7d0000");
}

TEST_CASE("what does not fit becomes raw, with a note, nothing reads past the end") {
  // IHL 6 with no options: the options do not fit.
  Packet r = read(bytes_of_hex("4600001400010000400000007f0000017f000001"));
  CHECK(layers(r) == "raw");
  REQUIRE(r.notes().size() == 1);
  CHECK_THAT(r.notes()[0], Catch::Contains("ipv4.options has size ihl * 4 - 20 = 4 bytes, but 0 are left"));
  // IHL below 5: a negative size.
  Packet low = read(bytes_of_hex("4400001400010000400000007f0000017f000001"));
  CHECK(layers(low) == "raw");
  CHECK_FALSE(low.notes().empty());
  // A TCP header cut short after IPv4.
  Packet cut = read(bytes_of_hex("450000280001000040067cca7f0000017f0000010014005000000000"));
  CHECK(layers(cut) == "ipv4/raw");
  REQUIRE(cut.notes().size() == 2);
  CHECK_THAT(cut.notes().at(1), Catch::Equals("tcp.ack needs 4 bytes, 0 left; the rest (8 bytes) is raw"));
  // A total length past the end: read as far as the bytes go, with a note.
  Packet longer = read(bytes_of_hex("450000ff0001000040117cce7f0000017f00000100350035000800000000"));
  CHECK(layers(longer) == "ipv4/udp");
  CHECK_THAT(longer.notes().at(0), Catch::Contains("but 10 are left"));
  for (const Packet* p : {&r, &low, &cut, &longer}) CHECK(rebuilt(*p) == hex(*p));
}

TEST_CASE("a rule reads a field of the nearest layer below by name") {
  Session s(Registry::with_stdlib());
  const char* decls = R"(
layer echo_ttl "its value is the IPv4 TTL below it" {
    ttl_copy : u8 = auto ipv4.ttl
    big : u8 = auto ipv4.ttl > 100
}
)";
  for (auto& st : parse_script(Source::make("<d>", decls)).stmts) s.declare(st);
  auto p = s.packets(*parse_expression(Source::make("<e>", "ipv4(ttl=200) / echo_ttl()")));
  CHECK(hex(p->tmpl).substr(40) == "c801");
  try {
    s.packets(*parse_expression(Source::make("<e>", "echo_ttl()")));
    FAIL("expected an error");
  } catch (const ScriptError& e) {
    CHECK_THAT(e.what(), Catch::Contains("there is no ipv4 layer below echo_ttl"));
  }
}

TEST_CASE("a routing header offers the final destination to upper checksums, edits below reach them") {
  const std::string route = "ipv6_route(type=0, segleft=1, data=hex\"00000000 20010db8000000000000000000000009\")";
  Packet p = build("ipv6(src=2001:db8::1, dst=2001:db8::2) / " + route + " / udp(sport=3, dport=4) / \"rt\"");
  // From scapy 2.5: IPv6(...)/IPv6ExtHdrRouting(type=0, segleft=1, addresses=['2001:db8::9'])/UDP(sport=3, dport=4)/b'rt'
  CHECK(hex(p).substr(hex(p).size() - 8) == "31e37274");
  // ipv6.src is read through LAYER.FIELD by the routing header's pseudo-header:
  // changing it after the build recomputes the UDP checksum.
  Packet q = p;
  const std::size_t src = static_cast<std::size_t>(q.layers()[0].def->field_index("src"));
  q.set(0, src, FieldValue{0, bytes_of_hex("20010db8000000000000000000000005")});
  CHECK(hex(q) == hex(build("ipv6(src=2001:db8::5, dst=2001:db8::2) / " + route + " / udp(sport=3, dport=4) / \"rt\"")));
  // No segment left: IPv6's own destination.
  Packet none = build("ipv6(src=2001:db8::1, dst=2001:db8::2) / ipv6_route(type=0, data=hex\"00000000 20010db8000000000000000000000009\") / udp(sport=3, dport=4) / \"rt\"");
  CHECK(hex(none).substr(hex(none).size() - 8, 4) != "31e3");
  CHECK(field(read(std::string(none.bytes().begin(), none.bytes().end())), "udp", "checksum").origin == Origin::Auto);
}

TEST_CASE("`= auto` alone is the inverse of a linear size rule that reads the field") {
  Session s(Registry::with_stdlib());
  const char* decls = R"(
layer note2 "n derived from `size n`" {
    kind : u8 = 1
    n    : u8 = auto   # the inverse of `size n`
    text : bytes size n
}
layer hdr "ihl derived from `size ihl * 4 - 4`" {
    ver  : u4 = 4
    ihl  : u4 = auto "header length in words"
    x    : u24 = 0
    opts : bytes size ihl * 4 - 4 align 4
}
)";
  for (auto& st : parse_script(Source::make("<d>", decls)).stmts) s.declare(st);
  auto hexof = [&](const std::string& e) { return hex(s.packets(*parse_expression(Source::make("<e>", e)))->tmpl); };
  CHECK(hexof("note2(text=\"hello\")") == "010568656c6c6f");
  CHECK(hexof("hdr(opts=hex\"0102\")") == "4200000001020000");
  CHECK(hexof("hdr()") == "41000000");
  CHECK(s.registry().layer("hdr")->fields[1].auto_text == "(len(opts) + 4) / 4");
  try {
    Session t(Registry::with_stdlib());
    for (auto& st : parse_script(Source::make("<d>", "layer bad { n : u8 = auto\n t : bytes }")).stmts) t.declare(st);
    FAIL("expected an error");
  } catch (const ScriptError& e) {
    CHECK_THAT(e.what(), Catch::Contains("'n = auto' needs a rule"));
  }
}

TEST_CASE("a read value whose rule cannot run there stays as read") {
  // A routing header read with no ipv6 below it: the UDP checksum's
  // pseudo-header reads ipv6.src, which is not there. The checksum on the
  // wire is 0, as is what an unfinished rule leaves: it must stay wire.
  Packet r = read(bytes_of_hex("1100000900000001" "0000000000000000" "0000000000000000"), "ipv6_route");
  REQUIRE(r.layer_index("udp") >= 0);
  CHECK(field(r, "udp", "checksum").origin == Origin::Wire);
  CHECK(rebuilt(r) == hex(r));
}

// tests/data/sll{,2}_veth.pcap: tcpdump -i any -y LINUX_SLL{,2} on one end of a
// veth pair (10.9.0.1, 02:00:00:00:0a:01, ifindex 2) in a namespace sending a
// UDP datagram to 10.9.0.2 (02:00:00:00:0b:02): ARP request, reply, the datagram.
// The expected values are tshark 4.0's: -e sll.pkttype -e sll.hatype -e sll.halen
// -e sll.src.eth -e sll.ifindex -e sll.etype.
TEST_CASE("Linux cooked captures (sll, sll2) dissect as tshark reads them") {
  struct Want {
    std::uint64_t pkttype, proto;
    std::string addr, layers;
  };
  const Want want[] = {{4, 0x0806, "020000000a010000", "arp"},
                       {0, 0x0806, "020000000b020000", "arp"},
                       {4, 0x0800, "020000000a010000", "ipv4/udp/raw"}};
  for (std::string first : {"sll", "sll2"}) {
    CAPTURE(first);
    PcapReader in(std::string(PKT_TEST_DATA) + "/" + first + "_veth.pcap");
    CHECK(in.linktype() == (first == "sll" ? 113 : 276));
    Dissector dis(session().registry());
    auto firsts = dis.first_for_linktype(static_cast<std::uint32_t>(in.linktype()));
    PcapRecord r;
    std::size_t k = 0;
    while (in.next(r)) {
      REQUIRE(k < 3);
      Packet p = dis.dissect(r.data, r.caplen, firsts);
      p.resolve_wire_origins();
      CHECK(layers(p) == first + "/" + want[k].layers);
      CHECK(p.layers().at(0).size == (first == "sll" ? 16u : 20u));
      CHECK(field(p, first, "pkttype").value.num == want[k].pkttype);
      CHECK(field(p, first, "hatype").value.num == 1);
      CHECK(field(p, first, "halen").value.num == 6);
      CHECK(hex_encode(field(p, first, "addr").value.bytes) == want[k].addr);
      CHECK(field(p, first, "proto").value.num == want[k].proto);
      if (first == "sll2") CHECK(field(p, first, "ifindex").value.num == 2);
      if (k == 2) {
        CHECK(field(p, "udp", "dport").value.num == 9);
        CHECK(field(p, "raw", "load").value.bytes == "cooked");
      }
      // What reading gives rebuilds the same bytes.
      CHECK(rebuilt(p) == hex_encode(std::string_view(reinterpret_cast<const char*>(r.data), r.caplen)));
      ++k;
    }
    CHECK(k == 3);
  }
}

namespace {
std::string wire_of(const Packet& p) { return std::string(p.bytes().begin(), p.bytes().end()); }
const char* kUdp = "ipv4(src=127.0.0.1, dst=127.0.0.1) / ";
}  // namespace

TEST_CASE("a counted list: the count is computed, and reading takes that many") {
  Packet a = build(std::string(kUdp) + "udp(sport=7010, dport=7010) / inventory(items=[item(1001, 3), item(1002, 1)])");
  CHECK(hex(a).substr(56) == "0203e90303ea01");
  Packet r = read(wire_of(a));
  CHECK(layers(r) == "ipv4/udp/inventory");
  CHECK(field(r, "inventory", "n").origin == Origin::Auto);
  CHECK(field(r, "inventory", "items").value.num == 2);
  CHECK_THAT(render_pkt(r, &session().registry()), Catch::Contains("items=[item(1001, 3), item(1002, 1)]"));
  CHECK(rebuilt(r) == hex(a));
  // A count the user sets is kept, and reading it past the bytes is raw with a note.
  Packet lie = build(std::string(kUdp) + "udp(sport=7010, dport=7010) / inventory(n=3, items=[item(1, 1), item(2, 2)])");
  Packet lr = read(wire_of(lie));
  CHECK(layers(lr) == "ipv4/udp/raw");
  REQUIRE_FALSE(lr.notes().empty());
  CHECK_THAT(lr.notes()[0], Catch::Contains("inventory.items has count n = 3, but the bytes end after 2"));
  // Bytes after the counted items are the payload.
  Packet more = build(std::string(kUdp) + "udp(sport=7010, dport=7010) / inventory(items=[item(1, 1)]) / \"tail\"");
  CHECK(layers(read(wire_of(more))) == "ipv4/udp/inventory/raw");
  // One option for two fields, each counted on its own.
  Packet pr = build(std::string(kUdp) + "udp(sport=7014, dport=7014) / pair(a=[val(1), val(2)], b=[val(3)])");
  CHECK(hex(pr).substr(56) == "0201010203");
  CHECK(rebuilt(read(wire_of(pr))) == hex(pr));
}

TEST_CASE("a list that ends at a marker option") {
  Packet t = build(std::string(kUdp) + "udp(sport=7011, dport=7011) / tlvs(recs=[note(\"hi\"), stop], trailer=hex\"0000\")");
  CHECK(hex(t).substr(56) == "7e7e01026869000000");
  Packet r = read(wire_of(t));
  CHECK(layers(r) == "ipv4/udp/tlvs");
  CHECK(r.layers().back().trailer == std::string(2, '\0'));
  CHECK(rebuilt(r) == hex(t));
  CHECK_THAT(error_of(std::string(kUdp) + "udp(dport=7011) / tlvs(recs=[note(\"hi\")])"), Catch::Contains("ends with 'stop'"));
  CHECK_THAT(error_of(std::string(kUdp) + "udp(dport=7011) / tlvs(recs=[stop, note(\"hi\")])"), Catch::Contains("nothing may follow it"));
  Packet cut = read(bytes_of_hex("7e7e010268"), "tlvs");
  CHECK(layers(cut) == "raw");
  REQUIRE_FALSE(cut.notes().empty());
  Packet open = read(bytes_of_hex("7e7e01026869"), "tlvs");
  CHECK_THAT(open.notes().at(0), Catch::Contains("runs past the end without its 'stop'"));
}

TEST_CASE("names: labels when building, up to a zero or a pointer when reading") {
  Packet l = build(std::string(kUdp) + "udp(sport=7012, dport=7012) / lookup(qname=\"mail.example.org\")");
  CHECK(hex(l).substr(56) == "046d61696c076578616d706c65036f7267000001");
  CHECK(hex(build(std::string(kUdp) + "udp(sport=7012, dport=7012) / lookup()")).substr(56) == "096c6f63616c686f7374000001");
  CHECK(hex(build(std::string(kUdp) + "udp(sport=7012, dport=7012) / lookup(qname=\".\")")).substr(56) == "000001");
  Packet r = read(wire_of(l));
  CHECK(layers(r) == "ipv4/udp/lookup");
  CHECK_THAT(render_pkt(r, &session().registry()), Catch::Contains("qname=\"mail.example.org\""));
  CHECK(rebuilt(r) == hex(l));
  CHECK_THAT(error_of("lookup(qname=\"" + std::string(64, 'a') + ".com\")"), Catch::Contains("is 64 bytes; a label is at most 63"));
  std::string big;
  for (int i = 0; i < 26; ++i) big += (i ? "." : "") + std::string(9, 'b');
  CHECK_THAT(error_of("lookup(qname=\"" + big + "\")"), Catch::Contains("a name is at most 255"));
  CHECK_THAT(error_of("lookup(qname=\"a..b\")"), Catch::Contains("empty label"));
  // A pointer must point before the labels it ends: to the name's own
  // start is a loop, and so is a pointer to itself. Raw with a note.
  for (const char* h : {"0161c0000001", "c0000001", "0161c0020001"}) {
    Packet loop = read(bytes_of_hex(h), "lookup");
    CHECK(layers(loop) == "raw");
    REQUIRE_FALSE(loop.notes().empty());
    CHECK_THAT(loop.notes().at(0), Catch::Contains(": a loop"));
  }
  Packet runs = read(bytes_of_hex("05616263"), "lookup");
  CHECK(layers(runs) == "raw");
}

TEST_CASE("a compressed name is shown followed, its text keeps the pointer") {
  const Registry* reg = &session().registry();
  // "www.example.com", then "mail." and a pointer to byte 4 ("example.com").
  std::string h = "03777777076578616d706c6503636f6d00" "046d61696cc004";
  Packet r = read(bytes_of_hex(h), "names2");
  REQUIRE(layers(r) == "names2");
  CHECK_THAT(render_show(r, false, reg), Catch::Contains("second = \"mail.example.com\"  (compressed: \"mail.@4\")"));
  CHECK_THAT(render_show(r, false, reg), Catch::Contains("first  = \"www.example.com\"\n"));
  CHECK_THAT(render_json_layers(r, reg), Catch::Contains("\"second\": \"mail.example.com\", \"second_wire\": \"mail.@4\""));
  CHECK_THAT(render_pkt(r, reg), Catch::Contains("second=\"mail.@4\""));
  CHECK(render_summary(r) == "names2 to \"mail.example.com\"");
  CHECK(rebuilt(r) == h);
  // In a list, offsets are from the start of the layer that holds it: the
  // second record points to byte 5, "example" in the first.
  std::string z = "02" "03777777076578616d706c6500" "046d61696cc005";
  Packet zr = read(bytes_of_hex(z), "zone");
  REQUIRE(layers(zr) == "zone");
  CHECK_THAT(render_show(zr, false, reg), Catch::Contains("rec(\"www.example\"), rec(\"mail.example\" (compressed: \"mail.@5\"))"));
  CHECK_THAT(render_json_layers(zr, reg), Catch::Contains("\"owner\": \"mail.example\", \"owner_wire\": \"mail.@5\""));
  CHECK_THAT(render_pkt(zr, reg), Catch::Contains("rec(\"mail.@5\")"));
  CHECK(rebuilt(zr) == z);
  // A pointer that cannot be followed (forward: built from text, never
  // read) is shown as written.
  Packet fwd = build("names2(first=\"a\", second=\"@40\")");
  CHECK_THAT(render_show(fwd, false, reg), Catch::Contains("second = \"@40\"\n"));
  CHECK(render_summary(fwd) == "names2 to \"@40\"");
  CHECK_THAT(render_json_layers(fwd, reg), Catch::Contains("\"second\": \"@40\"}"));
  // A label that is not text: the written form.
  Packet odd = build("names2(first=hex\"02610000\", second=\"b.@0\")");
  CHECK_THAT(render_show(odd, false, reg), Catch::Contains("second = \"b.@0\"\n"));
}

TEST_CASE("a choice of layout by a field's value") {
  std::string u = std::string(kUdp) + "udp(sport=7013, dport=7013) / ";
  CHECK(hex(build(u + "shape(radius=5)")).substr(56) == "01020005");
  CHECK(hex(build(u + "shape(kind=rect, width=3, height=4)")).substr(56) == "020400030004");
  CHECK(hex(build(u + "shape(kind=9, other=hex\"0102\")")).substr(56) == "09020102");
  CHECK_THAT(error_of(u + "shape(kind=rect, radius=5)"), Catch::Contains("condition `if kind == circle` is false"));
  for (const char* e : {"shape(radius=5)", "shape(kind=rect, width=3, height=4)", "shape(kind=9, other=hex\"0102\")"}) {
    Packet b = build(u + e);
    CHECK(rebuilt(read(wire_of(b))) == hex(b));
  }
  Packet r = read(bytes_of_hex("020400030004"), "shape");
  CHECK_FALSE(field(r, "shape", "radius").present);
  CHECK(field(r, "shape", "height").value.num == 4);
}

TEST_CASE("bind LOWER -> UPPER: a length prefix always followed by its message") {
  Packet f = build(std::string(kUdp) + "tcp(sport=7015, dport=7015, flags=PSH|ACK) / framed() / greeting(text=\"hello\") / \"!\"");
  CHECK(hex(f).substr(80) == "0006" "68656c6c6f21");
  Packet r = read(wire_of(f));
  CHECK(layers(r) == "ipv4/tcp/framed/greeting");
  CHECK(field(r, "greeting", "text").value.bytes == "hello!");
  CHECK(rebuilt(r) == hex(f));
  // Bytes past the length are the frame's trailer.
  Packet t = read(bytes_of_hex("000268690a0a"), "framed");
  CHECK(layers(t) == "framed/greeting");
  CHECK(t.layers().front().trailer == "\n\n");
  // Stacking sets no field (there is none to set).
  CHECK(field(build("framed() / greeting(text=\"x\")"), "framed", "length").value.num == 1);
}

TEST_CASE("ICMP errors: fields by type, codes with several names as numbers, summaries without absent fields") {
  const auto& reg = session().registry();
  Packet err = build("ipv4(src=192.0.2.254, dst=192.0.2.1) / icmp(type=time_exceeded, code=ttl_exceeded) / "
                     "ipv4(src=192.0.2.1, dst=198.51.100.7, ttl=1) / udp(sport=33000, dport=33434)");
  Packet r = read(std::string(err.bytes().begin(), err.bytes().end()));
  CHECK(layers(r) == "ipv4/icmp/ipv4/udp");
  CHECK_FALSE(field(r, "icmp", "id").present);   // no id/seq in an error: unused, length, unused
  CHECK(field(r, "icmp", "length").present);
  // Code 0 is net_unreach, ttl_exceeded and pointer_error: shown as the number, never a wrong name.
  std::string show = render_show(r, false, &reg);
  CHECK_THAT(show, Catch::Contains("code     = 0\n"));
  CHECK_THAT(render_summary(r), Catch::Contains("icmp time_exceeded / ipv4 192.0.2.1 > 198.51.100.7"));
  CHECK(render_pkt(r, &reg).find("code") == std::string::npos);
  CHECK(rebuilt(r) == hex(err));
  // Code 3 has one name.
  Packet pu = build("ipv4() / icmp(type=dest_unreach, code=port_unreach, mtu=1400) / ipv4() / udp()");
  Packet rp = read(std::string(pu.bytes().begin(), pu.bytes().end()));
  CHECK_THAT(render_pkt(rp, &reg), Catch::Contains("icmp(type=dest_unreach, code=port_unreach, mtu=1400)"));
  CHECK(rebuilt(rp) == hex(pu));
  // The echo form is unchanged, and a field the type does not have is an error.
  Packet e = build("ipv4() / icmp(id=7, seq=1)");
  Packet echo = read(std::string(e.bytes().begin(), e.bytes().end()));
  CHECK_THAT(render_summary(echo), Catch::EndsWith("icmp echo_request id 7 seq 1"));
  CHECK_THROWS_WITH(build("ipv4() / icmp(type=dest_unreach, id=1)"), Catch::Contains("icmp.id is set, but its condition"));
}

TEST_CASE("neighbour discovery reads as its own layers, other ICMPv6 stays icmpv6") {
  Packet ns = build("ipv6(src=fe80::1, dst=ff02::1:ff00:2) / icmpv6_ns(target=fe80::2, options=[slla(02:00:00:00:00:01)])");
  CHECK(field(ns, "ipv6", "hlim").value.num == 255);   // the second binding of the pair
  CHECK(field(ns, "ipv6", "hlim").origin == Origin::Bound);
  Packet r = read(std::string(ns.bytes().begin(), ns.bytes().end()));
  CHECK(layers(r) == "ipv6/icmpv6_ns");
  CHECK_THAT(render_pkt(r, &session().registry()), Catch::Contains("options=[slla(02:00:00:00:00:01)]"));
  CHECK(render_pkt(r, &session().registry()).find("hlim") == std::string::npos);
  CHECK(rebuilt(r) == hex(ns));
  // An echo with hop limit 255 is icmpv6, not a solicitation.
  Packet echo = build("ipv6(hlim=255) / icmpv6(id=1, seq=2)");
  CHECK(layers(read(std::string(echo.bytes().begin(), echo.bytes().end()))) == "ipv6/icmpv6");
  // A solicitation cut short does not fit icmpv6_ns: the next binding, icmpv6, reads its first 8 bytes.
  std::string cut(ns.bytes().begin(), ns.bytes().begin() + 50);
  Packet rc = read(cut);
  CHECK(layers(rc) == "ipv6/icmpv6/raw");
  CHECK_FALSE(rc.notes().empty());
}

TEST_CASE("neighbour discovery after a hop-by-hop or destination options header is still its own layer") {
  Packet hop = build("ipv6(src=fe80::1, dst=ff02::1:ff00:2) / ipv6_hop(options=[router_alert(0)]) / icmpv6_ns(target=fe80::2)");
  Packet r = read(wire_of(hop));
  CHECK(layers(r) == "ipv6/ipv6_hop/icmpv6_ns");
  CHECK(rebuilt(r) == hex(hop));
  Packet dst = build("ipv6(src=fe80::1, dst=ff02::1) / ipv6_dest() / icmpv6_ra(options=[mtu(1500)])");
  CHECK(layers(read(wire_of(dst))) == "ipv6/ipv6_dest/icmpv6_ra");
  // A later fragment is not read as a solicitation.
  Packet frag = build("ipv6(src=fe80::1, dst=fe80::2) / ipv6_frag(offset=1) / icmpv6_na(target=fe80::2)");
  CHECK(layers(read(wire_of(frag))) == "ipv6/ipv6_frag/raw");
}

TEST_CASE("signed fields, lists of addresses and of strings: written, shown and read back") {
  const Registry* reg = &session().registry();
  Packet s = build(std::string(kUdp) + "udp(sport=7018) / sensor(offset=-300, peers=[10.0.0.1, 10.0.0.2], labels=[\"kitchen\", \"floor 2\"])");
  CHECK(hex(s).substr(56) == "fed4" "02" "0a000001" "0a000002" "076b69746368656e" "07666c6f6f722032");
  Packet r = read(wire_of(s));
  CHECK(layers(r) == "ipv4/udp/sensor");
  CHECK_THAT(render_pkt(r, reg), Catch::Contains("sensor(offset=-300, peers=[10.0.0.1, 10.0.0.2], labels=[\"kitchen\", \"floor 2\"])"));
  CHECK(rebuilt(r) == hex(s));
  // The extremes of i16, and out of range on both sides.
  CHECK(hex(build("sensor(offset=-32768)")).substr(0, 4) == "8000");
  CHECK(hex(build("sensor(offset=32767)")).substr(0, 4) == "7fff");
  CHECK_THAT(error_of("sensor(offset=32768)"), Catch::Contains("offset=32768 is out of range: offset is i16, -32768..32767"));
  CHECK_THAT(error_of("sensor(offset=-32769)"), Catch::Contains("offset=-32769 is out of range"));
  CHECK_THAT(error_of("ipv4(ttl=-1)"), Catch::Contains("ttl=-1 is out of range: ttl is u8, 0..255"));
  // A range over a signed field goes through zero in order.
  auto set = session().packets(*parse_expression(Source::make("<test>", "sensor(offset=-2..1)")));
  std::vector<std::string> offs;
  set->for_each([&](const Packet& p) { offs.push_back(hex(p).substr(0, 4)); return true; });
  CHECK(offs == std::vector<std::string>{"fffe", "ffff", "0000", "0001"});
  // One string alone; a string of 255 bytes is the most.
  CHECK(hex(build("sensor(labels=\"a\")")).substr(6) == "0161");
  CHECK_THAT(error_of("sensor(labels=[\"" + std::string(256, 'x') + "\"])"), Catch::Contains("a string is at most 255 bytes"));
  CHECK_THAT(error_of("sensor(peers=[10.0.0.1, \"nope\"])"), Catch::Contains("invalid IPv4 address 'nope'"));
  // Strings whose lengths do not add up are shown as the bytes, which build them back.
  Packet odd = read(bytes_of_hex("0000000563"), "sensor");
  CHECK(layers(odd) == "sensor");
  CHECK_THAT(render_pkt(odd, reg), Catch::Contains("labels=hex\"0563\""));
  CHECK(rebuilt(odd) == "0000000563");
  // Addresses that are not a whole number of elements do not fit.
  CHECK(layers(read(bytes_of_hex("0000010a0000"), "sensor")) == "raw");
}

TEST_CASE("a strict list: read option by option, each built option reads back") {
  Packet r = build(std::string(kUdp) + "udp(sport=7016, dport=7016) / records(recs=[text(\"hi\"), ping])");
  CHECK(hex(r).substr(56) == "5252010468690202");
  Packet back = read(wire_of(r));
  CHECK(layers(back) == "ipv4/udp/records");
  CHECK(back.notes().empty());
  CHECK(field(back, "records", "recs").value.num == 2);
  CHECK(rebuilt(back) == hex(r));
  // A length that leaves no room for the record's own fields: raw with a note, never a hang.
  Packet zero = read(bytes_of_hex("52520200"), "records");
  CHECK(layers(zero) == "raw");
  REQUIRE(zero.notes().size() == 1);
  CHECK_THAT(zero.notes()[0], Catch::Contains("records.recs: element 1 (at byte 0) is none of its options: ping.length is 0, but len(this) gives 2"));
  Packet second = read(bytes_of_hex("525202020200"), "records");
  CHECK(layers(second) == "raw");
  CHECK_THAT(second.notes().at(0), Catch::Contains("element 2 (at byte 2)"));
  Packet cut = read(bytes_of_hex("525201056869"), "records");
  CHECK(layers(cut) == "raw");
  CHECK_THAT(cut.notes().at(0), Catch::Contains("records.recs: element 1"));
  // The same bytes in a list that is not strict read as one bytes element.
  Packet loose = read(bytes_of_hex("52520200"), "loose");
  CHECK(layers(loose) == "loose");
  CHECK(loose.notes().empty());
  // Building: an option that would not read back is an error at it; bytes are sent as given.
  CHECK_THAT(error_of(std::string(kUdp) + "udp(dport=7016) / records(recs=[text(\"a\"), ping(length=0)])"),
             Catch::Contains("option ping would not read back as one of records.recs's options: ping.length is 0, but len(this) gives 2"));
  CHECK_THAT(error_of(std::string(kUdp) + "udp(dport=7016) / records(recs=ping(length=3))"),
             Catch::Contains("ping.length is 3, but len(this) gives 2"));
  CHECK(hex(build(std::string(kUdp) + "udp(dport=7016) / records(recs=[hex\"0200\"])")).substr(56) == "52520200");
  // `strict` is for lists of options.
  Session s(Registry::with_stdlib());
  CHECK_THROWS_WITH(s.declare(parse_script(Source::make("<t>", "layer bad \"x\" { n : u8 strict }")).stmts.at(0)),
                    Catch::Contains("'strict' applies to lists of options"));
}

TEST_CASE("sctp: a chunk length of 0 is an error building and makes the layer raw with a note reading") {
  const std::string v4 = "ipv4(src=127.0.0.1, dst=127.0.0.1) / ";
  Packet ok = read(wire_of(build(v4 + "sctp(chunks=[shutdown(cum_tsn=1), data(data=\"abc\")])")));
  CHECK(layers(ok) == "ipv4/sctp");
  CHECK(ok.notes().empty());
  CHECK(field(ok, "sctp", "chunks").value.num == 2);
  // Chunks given as bytes are sent as given; reading them back is raw with a note, never a hang.
  Packet zero = read(wire_of(build(v4 + "sctp(chunks=[hex\"0700000000000001\"])")));
  CHECK(layers(zero) == "ipv4/raw");
  REQUIRE(zero.notes().size() == 1);
  CHECK_THAT(zero.notes()[0],
             Catch::Contains("sctp.chunks: element 1 (at byte 0) is none of its options: shutdown.length is 0, but len(this) gives 8"));
  Packet data0 = read(wire_of(build(v4 + "sctp(chunks=[hex\"00000000000000000000000000000000\"])")));
  CHECK(layers(data0) == "ipv4/raw");
  CHECK_THAT(data0.notes().at(0), Catch::Contains("data.length is 0, but 16 + len(data) gives 16"));
  Packet second = read(wire_of(build(v4 + "sctp(chunks=[shutdown(cum_tsn=1), hex\"00000000\"])")));
  CHECK(layers(second) == "ipv4/raw");
  CHECK_THAT(second.notes().at(0), Catch::Contains("sctp.chunks: element 2 (at byte 8) is none of its options"));
  // Building a chunk whose length does not fit it is an error at the chunk.
  CHECK_THAT(error_of(v4 + "sctp(chunks=[shutdown(length=0)])"),
             Catch::Contains("option shutdown would not read back as one of sctp.chunks's options: shutdown.length is 0, but len(this) gives 8"));
  CHECK_THAT(error_of(v4 + "sctp(chunks=[data(length=0)])"),
             Catch::Contains("option data would not read back as one of sctp.chunks's options: data.length is 0, but 16 + len(data) gives 16"));
  CHECK_THAT(error_of(v4 + "sctp(chunks=[data(length=0, data=\"x\")])"), Catch::Contains("condition `if length >= 16` is false"));
}

TEST_CASE("size N padded: a shorter value is sent with zeros after it") {
  CHECK(hex(build(std::string(kUdp) + "udp(sport=7017, dport=7017) / label(name=\"ab\")")).substr(56) == "616200000000000001");
  CHECK(hex(build(std::string(kUdp) + "udp(sport=7017, dport=7017) / label()")).substr(56) == "000000000000000001");
  CHECK(hex(build(std::string(kUdp) + "udp(sport=7017, dport=7017) / label(name=\"abcdefgh\")")).substr(56) == "616263646566676801");
  CHECK_THAT(error_of(std::string(kUdp) + "udp(dport=7017) / label(name=\"abcdefghi\")"),
             Catch::Contains("label.name is 9 bytes, but it has room for 8"));
  Packet r = read(wire_of(build(std::string(kUdp) + "udp(sport=7017, dport=7017) / label(name=\"ab\")")));
  CHECK(layers(r) == "ipv4/udp/label");
  CHECK(field(r, "label", "name").value.bytes == std::string("ab\0\0\0\0\0\0", 8));
  Session s(Registry::with_stdlib());
  CHECK_THROWS_WITH(s.declare(parse_script(Source::make("<t>", "layer bad \"x\" { n : u8; b : bytes size n padded }")).stmts.at(0)),
                    Catch::Contains("'padded' applies to bytes fields of a fixed size"));
}
