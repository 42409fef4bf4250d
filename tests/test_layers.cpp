// Golden bytes for every stdlib layer: eth, arp, ipv4 (with and without
// options), ipv6, icmp, icmpv6, tcp (with options), udp and raw, in stacks
// that start at eth or IP. Each expected literal comes from an independent
// source, named in the comment above it:
//
//  * scapy 2.5.0 (Debian's /usr/bin/python3): `bytes(EXPR).hex()` for the
//    EXPR quoted. Where scapy's defaults differ from pkt's (scapy picks
//    addresses by routing) the value is given to scapy explicitly.
//  * real captures (tcpdump -w, bytes read back with `tcpdump -r F -xx`),
//    with every field pkt cannot know (id, seq, flow label, timestamps,
//    payload) set to the captured value. Checksums are left to pkt.
//    On lo (`ping`, `ping -6`, `ping -R`), the ICMP checksums are final.
//    TCP and UDP were captured on a veth pair with checksum offload off
//    (loopback leaves them partial), set up as:
//      ip netns add pktA; ip netns add pktB
//      ip link add vethA netns pktA type veth peer name vethB netns pktB
//      ip -n pktA link set vethA address 02:00:00:00:00:01
//      ip -n pktB link set vethB address 02:00:00:00:00:02
//      ip -n pktA addr add 10.99.0.1/24 dev vethA; ip -n pktA addr add fd00::1/64 dev vethA nodad
//      ip -n pktB addr add 10.99.0.2/24 dev vethB; ip -n pktB addr add fd00::2/64 dev vethB nodad
//      ip -n pktA link set vethA up; ip -n pktB link set vethB up
//      ip netns exec pktA ethtool -K vethA tx off; ip netns exec pktB ethtool -K vethB tx off
//
// For each layer there is a case with every field at its default and one
// with every field set to a non-default value.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "encodings.hpp"
#include "packet_set.hpp"
#include "parse.hpp"
#include "session.hpp"

using namespace pkt;

namespace {

Session& stdlib_session() {
  static Session s(Registry::with_stdlib());
  return s;
}

// The bytes of a single packet built from a pkt expression, as lowercase hex.
std::string bytes_of(const std::string& expr) {
  auto ps = stdlib_session().packets(*parse_expression(Source::make("<test>", expr)));
  REQUIRE(ps->is_single());
  const Packet& p = ps->tmpl;
  return hex_encode(std::string_view(reinterpret_cast<const char*>(p.bytes().data()), p.size()));
}

}  // namespace

TEST_CASE("golden bytes, eth: Ethernet II header") {
  // Every field at its default (scapy takes src from an interface, so it is given).
  // scapy 2.5.0: bytes(Ether(dst='ff:ff:ff:ff:ff:ff', src='00:00:00:00:00:00',
  //   type=0x9000)).hex()
  CHECK(bytes_of(R"pkt(eth())pkt") ==
        "ffffffffffff0000000000009000");

  // Every field set to a non-default value.
  // scapy 2.5.0: bytes(Ether(dst='0a:1b:2c:3d:4e:5f', src='02:42:ac:11:00:02',
  //   type=0x88b5)/Raw(b'eth payload')).hex()
  CHECK(bytes_of(R"pkt(eth(dst=0a:1b:2c:3d:4e:5f, src=02:42:ac:11:00:02, type=0x88b5))pkt"
                 R"pkt( / "eth payload")pkt") ==
        "0a1b2c3d4e5f0242ac11000288b5657468207061796c6f6164");

  // type bound by the layer above.
  // scapy 2.5.0: bytes(Ether(dst='ff:ff:ff:ff:ff:ff', src='00:00:00:00:00:00')/IPv6(src='::1',
  //   dst='::1')).hex()
  CHECK(bytes_of(R"pkt(eth())pkt"
                 R"pkt( / ipv6())pkt") ==
        "ffffffffffff00000000000086dd6000000000003b4000000000000000000000"
        "00000000000100000000000000000000000000000001");
}

TEST_CASE("golden bytes, arp: request, reply, every field") {
  // Captured: `ip netns exec pktA tcpdump -i vethA -w arp.pcap -c1 arp` while `ip netns exec
  //   pktA ping -c1 10.99.0.2` ran with an empty neighbour table
  CHECK(bytes_of(R"pkt(eth(dst=ff:ff:ff:ff:ff:ff, src=02:00:00:00:00:01))pkt"
                 R"pkt( / arp(op=request, sha=02:00:00:00:00:01, spa=10.99.0.1, tpa=10.99.0.2))pkt") ==
        "ffffffffffff020000000001080600010800060400010200000000010a630001"
        "0000000000000a630002");

  // Every field at its default (scapy picks hwsrc/psrc by routing, so they are given).
  // scapy 2.5.0: bytes(Ether(dst='ff:ff:ff:ff:ff:ff',
  //   src='00:00:00:00:00:00')/ARP(hwsrc='00:00:00:00:00:00', psrc='0.0.0.0',
  //   hwdst='00:00:00:00:00:00', pdst='0.0.0.0')).hex()
  CHECK(bytes_of(R"pkt(eth())pkt"
                 R"pkt( / arp())pkt") ==
        "ffffffffffff0000000000000806000108000604000100000000000000000000"
        "00000000000000000000");

  // A reply with every field written out.
  // scapy 2.5.0: bytes(Ether(dst='02:00:00:00:00:02', src='02:00:00:00:00:01')/ARP(hwtype=1,
  //   ptype=0x0800, hwlen=6, plen=4, op=2, hwsrc='02:00:00:00:00:02', psrc='192.0.2.2',
  //   hwdst='02:00:00:00:00:01', pdst='192.0.2.1')).hex()
  CHECK(bytes_of(R"pkt(eth(dst=02:00:00:00:00:02, src=02:00:00:00:00:01))pkt"
                 R"pkt( / arp(htype=1, ptype=0x0800, hlen=6, plen=4, op=reply, sha=02:00:00:00:00:02,)pkt"
                 R"pkt( spa=192.0.2.2, tha=02:00:00:00:00:01, tpa=192.0.2.1))pkt") ==
        "02000000000202000000000108060001080006040002020000000002c0000202"
        "020000000001c0000201");

  // Every field set to a non-default value. pkt's address fields stay 6+4 bytes whatever
  //   hlen/plen say; scapy sizes them by hwlen/plen, so it is given the same 20 address bytes
  //   in 5-byte pieces.
  // scapy 2.5.0: bytes(Ether(dst='0a:1b:2c:3d:4e:5f', src='fe:dc:ba:98:76:54',
  //   type=0x0806)/ARP(hwtype=6, ptype=0x86dd, hwlen=5, plen=5, op=0x1234,
  //   hwsrc=bytes.fromhex('0a1b2c3d4e'), psrc=bytes.fromhex('5fc0000201'),
  //   hwdst=bytes.fromhex('fedcba9876'), pdst=bytes.fromhex('54c6336407'))).hex()
  CHECK(bytes_of(R"pkt(eth(dst=0a:1b:2c:3d:4e:5f, src=fe:dc:ba:98:76:54, type=0x0806))pkt"
                 R"pkt( / arp(htype=6, ptype=0x86dd, hlen=5, plen=5, op=0x1234, sha=0a:1b:2c:3d:4e:5f,)pkt"
                 R"pkt( spa=192.0.2.1, tha=fe:dc:ba:98:76:54, tpa=198.51.100.7))pkt") ==
        "0a1b2c3d4e5ffedcba9876540806000686dd050512340a1b2c3d4e5fc0000201"
        "fedcba987654c6336407");
}

TEST_CASE("golden bytes, ipv4: defaults, every field, options") {
  // Every field at its default (scapy picks src by routing, so it is given).
  // scapy 2.5.0: bytes(IP(src='127.0.0.1', dst='127.0.0.1')).hex()
  CHECK(bytes_of(R"pkt(ipv4())pkt") ==
        "450000140001000040007ce77f0000017f000001");

  // Every field set to a non-default value (options padded with a zero to 32 bits on both
  //   sides).
  // scapy 2.5.0: bytes(IP(version=5, ihl=9, tos=0xb8, len=0x1234, id=0xbeef,
  //   flags='MF+DF+evil', frag=0x1abc, ttl=3, proto=99, chksum=0xdead, src='192.0.2.1',
  //   dst='198.51.100.7', options=[IPOption(b'\x94\x04\x00\x00'),
  //   IPOption(b'\x01\x01\x01')])).hex()
  CHECK(bytes_of(R"pkt(ipv4(version=5, ihl=9, tos=0xb8, length=0x1234, id=0xbeef, flags=RF|DF|MF,)pkt"
                 R"pkt( frag=0x1abc, ttl=3, proto=99, checksum=0xdead, src=192.0.2.1, dst=198.51.100.7,)pkt"
                 R"pkt( options=hex"94040000 010101"))pkt") ==
        "59b81234beeffabc0363deadc0000201c63364079404000001010100");

  // With options (router alert): ihl, length and checksum computed.
  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='198.51.100.7',
  //   options=[IPOption(b'\x94\x04\x00\x00')])/UDP(sport=1000, dport=2000)/Raw(b'opt')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=198.51.100.7, options=hex"94040000"))pkt"
                 R"pkt( / udp(sport=1000, dport=2000))pkt"
                 R"pkt( / "opt")pkt") ==
        "46000023000100004011f988c0000201c63364079404000003e807d0000b2473"
        "6f7074");

  // Captured: `tcpdump -i lo -w ping4.pcap -c1 'icmp and icmp[0]=8'` during `ping -c1
  //   127.0.0.1`
  // (payload: ping's 16-byte timestamp, then its 0x10.. pattern)
  CHECK(bytes_of(R"pkt(eth(dst=00:00:00:00:00:00, src=00:00:00:00:00:00))pkt"
                 R"pkt( / ipv4(id=0xb045, flags=DF, src=127.0.0.1, dst=127.0.0.1))pkt"
                 R"pkt( / icmp(type=echo_request, id=0x77d7, seq=1))pkt"
                 R"pkt( / hex"0e87046b00000000248a0b0000000000")pkt"
                 R"pkt( / hex"101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637")pkt") ==
        "000000000000000000000000080045000054b045400040018c617f0000017f00"
        "000108007ed877d700010e87046b00000000248a0b0000000000101112131415"
        "161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435"
        "3637");

  // Captured: `tcpdump -i lo -w ping4.pcap -c1 'icmp and icmp[0]=8'` during `ping -c1
  //   127.0.0.1`
  // (the bytes after the 14-byte Ethernet header)
  CHECK(bytes_of(R"pkt(ipv4(id=0xb045, flags=DF, src=127.0.0.1, dst=127.0.0.1))pkt"
                 R"pkt( / icmp(type=echo_request, id=0x77d7, seq=1))pkt"
                 R"pkt( / hex"0e87046b00000000248a0b0000000000 101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637")pkt") ==
        "45000054b045400040018c617f0000017f00000108007ed877d700010e87046b"
        "00000000248a0b0000000000101112131415161718191a1b1c1d1e1f20212223"
        "2425262728292a2b2c2d2e2f3031323334353637");

  // Captured: `tcpdump -i lo -w pingR.pcap -c1 'icmp and icmp[0]=8'` during `ping -R -c1
  //   127.0.0.1`
  // (IPv4 options: NOP, then record route with 127.0.0.1 already recorded: ihl=15)
  CHECK(bytes_of(R"pkt(eth(dst=00:00:00:00:00:00, src=00:00:00:00:00:00))pkt"
                 R"pkt( / ipv4(id=0x45b5, flags=DF, src=127.0.0.1, dst=127.0.0.1,)pkt"
                 R"pkt( options=hex"01 07 27 08 7f000001 0000000000000000 0000000000000000 0000000000000000 0000000000000000"))pkt"
                 R"pkt( / icmp(id=0x73c3, seq=1))pkt"
                 R"pkt( / hex"8186046b00000000 6917030000000000 101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637")pkt") ==
        "00000000000000000000000008004f00007c45b54000400145b97f0000017f00"
        "0001010727087f00000100000000000000000000000000000000000000000000"
        "000000000000000000000800d35f73c300018186046b00000000691703000000"
        "0000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d"
        "2e2f3031323334353637");

  // Captured: `ip netns exec pktA tcpdump -i vethA -w vpingR.pcap -c1 'icmp and icmp[0]=8'`
  //   during `ip netns exec pktA ping -R -c1 -s 8 10.99.0.2`
  // (the bytes after the 14-byte Ethernet header)
  CHECK(bytes_of(R"pkt(ipv4(id=0x8892, flags=DF, src=10.99.0.1, dst=10.99.0.2,)pkt"
                 R"pkt( options=hex"01 07 27 08 0a630001 0000000000000000 0000000000000000 0000000000000000 0000000000000000"))pkt"
                 R"pkt( / icmp(id=0x765a, seq=1))pkt"
                 R"pkt( / hex"0001020304050607")pkt") ==
        "4f00004c88924000400160e30a6300010a630002010727080a63000100000000"
        "0000000000000000000000000000000000000000000000000000000008007594"
        "765a00010001020304050607");
}

TEST_CASE("golden bytes, ipv6: defaults, every field, IPv4 in IPv6") {
  // Every field at its default (scapy picks src by routing, so it is given).
  // scapy 2.5.0: bytes(IPv6(src='::1', dst='::1')).hex()
  CHECK(bytes_of(R"pkt(ipv6())pkt") ==
        "6000000000003b40000000000000000000000000000000010000000000000000"
        "0000000000000001");

  // Every field set to a non-default value.
  // scapy 2.5.0: bytes(IPv6(version=7, tc=0xb8, fl=0xabcde, plen=0x1234, nh=51, hlim=1,
  //   src='2001:db8::1', dst='fe80::1:2:3:4')).hex()
  CHECK(bytes_of(R"pkt(ipv6(version=7, tc=0xb8, flow=0xabcde, length=0x1234, next=ah, hlim=1,)pkt"
                 R"pkt( src=2001:db8::1, dst=fe80::1:2:3:4))pkt") ==
        "7b8abcde1234330120010db8000000000000000000000001fe80000000000000"
        "0001000200030004");

  // IPv4 in IPv6: next bound to 4, length computed.
  // scapy 2.5.0: bytes(IPv6(src='2001:db8::1', dst='2001:db8::2')/IP(src='192.0.2.1',
  //   dst='192.0.2.2')/Raw(b'6in4')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=2001:db8::1, dst=2001:db8::2))pkt"
                 R"pkt( / ipv4(src=192.0.2.1, dst=192.0.2.2))pkt"
                 R"pkt( / "6in4")pkt") ==
        "600000000018044020010db800000000000000000000000120010db800000000"
        "000000000000000245000018000100004000f6e1c0000201c000020236696e34");

  // Captured: `tcpdump -i lo -w ping6.pcap -c1 'icmp6 and ip6[40]=128'` during `ping -6 -c1
  //   ::1`
  CHECK(bytes_of(R"pkt(eth(dst=00:00:00:00:00:00, src=00:00:00:00:00:00))pkt"
                 R"pkt( / ipv6(flow=0x47edf, src=::1, dst=::1))pkt"
                 R"pkt( / icmpv6(id=0x73bf, seq=1))pkt"
                 R"pkt( / hex"7f86046b00000000fb9a020000000000 101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637")pkt") ==
        "00000000000000000000000086dd60047edf00403a4000000000000000000000"
        "000000000001000000000000000000000000000000018000cb6373bf00017f86"
        "046b00000000fb9a020000000000101112131415161718191a1b1c1d1e1f2021"
        "22232425262728292a2b2c2d2e2f3031323334353637");
}

TEST_CASE("golden bytes, icmp: echo request and reply") {
  // Every icmp field at its default.
  // scapy 2.5.0: bytes(IP(src='127.0.0.1', dst='127.0.0.1')/ICMP()).hex()
  CHECK(bytes_of(R"pkt(ipv4())pkt"
                 R"pkt( / icmp())pkt") ==
        "4500001c0001000040017cde7f0000017f0000010800f7ff00000000");

  // Every field set to a non-default value (a deliberately wrong checksum goes out as written).
  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='192.0.2.2')/ICMP(type=0, code=7, chksum=0x1234,
  //   id=0xabcd, seq=0xfedc)/Raw(b'pong')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=192.0.2.2))pkt"
                 R"pkt( / icmp(type=echo_reply, code=7, checksum=0x1234, id=0xabcd, seq=0xfedc))pkt"
                 R"pkt( / "pong")pkt") ==
        "45000020000100004001f6d8c0000201c000020200071234abcdfedc706f6e67");

  // The same with the checksum computed.
  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='192.0.2.2')/ICMP(type=0, code=7, id=0xabcd,
  //   seq=0xfedc)/Raw(b'pong')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=192.0.2.2))pkt"
                 R"pkt( / icmp(type=echo_reply, code=7, id=0xabcd, seq=0xfedc))pkt"
                 R"pkt( / "pong")pkt") ==
        "45000020000100004001f6d8c0000201c000020200077677abcdfedc706f6e67");

  // Captured: `ip netns exec pktA tcpdump -i vethA -w vping4.pcap -c1 'icmp and icmp[0]=8'`
  //   during `ip netns exec pktA ping -c1 -s 8 10.99.0.2`
  CHECK(bytes_of(R"pkt(eth(dst=02:00:00:00:00:02, src=02:00:00:00:00:01))pkt"
                 R"pkt( / ipv4(id=0x7ae7, flags=DF, src=10.99.0.1, dst=10.99.0.2))pkt"
                 R"pkt( / icmp(id=0x7531, seq=1))pkt"
                 R"pkt( / hex"0001020304050607")pkt") ==
        "0200000000020200000000010800450000247ae740004001ab290a6300010a63"
        "0002080076bd753100010001020304050607");

  // Captured: `ip netns exec pktA tcpdump -i vethA -w vpong4.pcap -c1 'icmp and icmp[0]=0'`
  //   during `ip netns exec pktA ping -c1 -s 4 10.99.0.2` (the reply)
  CHECK(bytes_of(R"pkt(eth(dst=02:00:00:00:00:01, src=02:00:00:00:00:02))pkt"
                 R"pkt( / ipv4(id=0xbeee, src=10.99.0.2, dst=10.99.0.1))pkt"
                 R"pkt( / icmp(type=echo_reply, id=0x76a2, seq=1))pkt"
                 R"pkt( / hex"00010203")pkt") ==
        "020000000001020000000002080045000020beee00004001a7260a6300020a63"
        "00010000875876a2000100010203");
}

TEST_CASE("golden bytes, icmpv6: echo request and reply") {
  // Every icmpv6 field at its default.
  // scapy 2.5.0: bytes(IPv6(src='::1', dst='::1')/ICMPv6EchoRequest()).hex()
  CHECK(bytes_of(R"pkt(ipv6())pkt"
                 R"pkt( / icmpv6())pkt") ==
        "6000000000083a40000000000000000000000000000000010000000000000000"
        "000000000000000180007fbb00000000");

  // Every field set to a non-default value.
  // scapy 2.5.0: bytes(IPv6(src='2001:db8::1', dst='2001:db8::2')/ICMPv6EchoReply(code=3,
  //   cksum=0xbeef, id=0x1234, seq=0x5678)/Raw(b'\xc0\xff\xee')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=2001:db8::1, dst=2001:db8::2))pkt"
                 R"pkt( / icmpv6(type=echo_reply, code=3, checksum=0xbeef, id=0x1234, seq=0x5678))pkt"
                 R"pkt( / hex"c0ffee")pkt") ==
        "60000000000b3a4020010db800000000000000000000000120010db800000000"
        "00000000000000028103beef12345678c0ffee");

  // The same with the checksum computed over the pseudo-header.
  // scapy 2.5.0: bytes(IPv6(src='2001:db8::1', dst='2001:db8::2')/ICMPv6EchoReply(code=3,
  //   id=0x1234, seq=0x5678)/Raw(b'\xc0\xff\xee')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=2001:db8::1, dst=2001:db8::2))pkt"
                 R"pkt( / icmpv6(type=echo_reply, code=3, id=0x1234, seq=0x5678))pkt"
                 R"pkt( / hex"c0ffee")pkt") ==
        "60000000000b3a4020010db800000000000000000000000120010db800000000"
        "000000000000000281030b9512345678c0ffee");

  // Captured: `ip netns exec pktA tcpdump -i vethA -w vping6.pcap -c1 'icmp6 and ip6[40]=128'`
  //   during `ip netns exec pktA ping -6 -c1 -s 8 fd00::2`
  CHECK(bytes_of(R"pkt(eth(dst=02:00:00:00:00:02, src=02:00:00:00:00:01))pkt"
                 R"pkt( / ipv6(flow=0x05138, src=fd00::1, dst=fd00::2))pkt"
                 R"pkt( / icmpv6(id=0x75ec, seq=1))pkt"
                 R"pkt( / hex"0001020304050607")pkt") ==
        "02000000000202000000000186dd6000513800103a40fd000000000000000000"
        "000000000001fd000000000000000000000000000002800003b375ec00010001"
        "020304050607");

  // Captured: `tcpdump -i lo -w ping6.pcap -c1 'icmp6 and ip6[40]=128'` during `ping -6 -c1
  //   ::1`
  // (the bytes after the 14-byte Ethernet header)
  CHECK(bytes_of(R"pkt(ipv6(flow=0x47edf, src=::1, dst=::1))pkt"
                 R"pkt( / icmpv6(id=0x73bf, seq=1))pkt"
                 R"pkt( / hex"7f86046b00000000fb9a020000000000 101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637")pkt") ==
        "60047edf00403a40000000000000000000000000000000010000000000000000"
        "00000000000000018000cb6373bf00017f86046b00000000fb9a020000000000"
        "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
        "3031323334353637");
}

TEST_CASE("golden bytes, tcp: defaults, every field and option kind, real SYN and data segments") {
  // Every tcp field at its default.
  // scapy 2.5.0: bytes(IP(src='127.0.0.1', dst='127.0.0.1')/TCP()).hex()
  CHECK(bytes_of(R"pkt(ipv4())pkt"
                 R"pkt( / tcp())pkt") ==
        "450000280001000040067ccd7f0000017f000001001400500000000000000000"
        "50022000917c0000");

  // Every tcp field at its default, over IPv6.
  // scapy 2.5.0: bytes(IPv6(src='::1', dst='::1')/TCP()).hex()
  CHECK(bytes_of(R"pkt(ipv6())pkt"
                 R"pkt( / tcp())pkt") ==
        "6000000000140640000000000000000000000000000000010000000000000000"
        "0000000000000001001400500000000000000000500220008f7d0000");

  // Every field set to a non-default value, every option kind (padded with zeros to 32 bits on
  //   both sides).
  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='198.51.100.7')/TCP(sport=0xfedc, dport=0x0102,
  //   seq=0xdeadbeef, ack=0x01020304, dataofs=14, reserved=5, flags='FSRPAUECN', window=0xffff,
  //   chksum=0xabcd, urgptr=0x8000, options=[('MSS', 1460), ('NOP', None), ('WScale', 7),
  //   ('SAckOK', b''), ('SAck', (1, 2, 3, 4)), ('Timestamp', (0x11223344, 0x55667788)), ('EOL',
  //   None)])).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=198.51.100.7))pkt"
                 R"pkt( / tcp(sport=0xfedc, dport=0x0102, seq=0xdeadbeef, ack=0x01020304, offset=14,)pkt"
                 R"pkt( reserved=5, flags=NS|CWR|ECE|URG|ACK|PSH|RST|SYN|FIN, window=0xffff,)pkt"
                 R"pkt( checksum=0xabcd, urgent=0x8000, options=[mss(1460), nop, wscale(7), sackok,)pkt"
                 R"pkt( sack(1, 2, 3, 4), timestamp(0x11223344, 0x55667788), eol]))pkt") ==
        "450000500001000040068e6bc0000201c6336407fedc0102deadbeef01020304"
        "ebffffffabcd8000020405b40103030704020512000000010000000200000003"
        "00000004080a11223344556677880000");

  // Options with offset and checksum computed.
  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='198.51.100.7')/TCP(sport=0xfedc, dport=0x0102,
  //   seq=0xdeadbeef, ack=0x01020304, flags='PA', window=512, urgptr=7, options=[('MSS', 1460),
  //   ('NOP', None), ('WScale', 7), ('SAckOK', b''), ('SAck', (1, 2)), ('Timestamp',
  //   (0x11223344, 0x55667788))])/Raw(b'data')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=198.51.100.7))pkt"
                 R"pkt( / tcp(sport=0xfedc, dport=0x0102, seq=0xdeadbeef, ack=0x01020304,)pkt"
                 R"pkt( flags=PSH|ACK, window=512, urgent=7, options=[mss(1460), nop, wscale(7),)pkt"
                 R"pkt( sackok, sack(1, 2), timestamp(0x11223344, 0x55667788)]))pkt"
                 R"pkt( / "data")pkt") ==
        "4500004c0001000040068e6fc0000201c6336407fedc0102deadbeef01020304"
        "d018020098ef0007020405b4010303070402050a0000000100000002080a1122"
        "334455667788000064617461");

  // Captured: `ip netns exec pktA tcpdump -i vethA -w vtcp4syn.pcap -c1 'tcp port 7777 and
  //   tcp[13]=2'` while a Python client in pktA (10.99.0.1 port 40000) connected to a listener
  //   on 10.99.0.2:7777 in pktB (Linux's SYN)
  CHECK(bytes_of(R"pkt(eth(dst=02:00:00:00:00:02, src=02:00:00:00:00:01))pkt"
                 R"pkt( / ipv4(id=0x4c37, flags=DF, src=10.99.0.1, dst=10.99.0.2))pkt"
                 R"pkt( / tcp(sport=40000, dport=7777, seq=0xb223a5d4, flags=SYN, window=64240,)pkt"
                 R"pkt( options=[mss(1460), sackok, timestamp(0x8e74e260, 0), nop, wscale(10)]))pkt") ==
        "02000000000202000000000108004500003c4c3740004006d9bc0a6300010a63"
        "00029c401e61b223a5d400000000a002faf0b4d40000020405b40402080a8e74"
        "e260000000000103030a");

  // Captured: `ip netns exec pktA tcpdump -i vethA -w vtcp4psh.pcap -c1 'tcp port 7777 and
  //   (tcp[13]&8)!=0 and src host 10.99.0.1'` while the same client (port 40011) sent b'hello
  //   pkt\n'
  // (the bytes after the 14-byte Ethernet header)
  CHECK(bytes_of(R"pkt(ipv4(id=0x31fb, flags=DF, src=10.99.0.1, dst=10.99.0.2))pkt"
                 R"pkt( / tcp(sport=40011, dport=7777, seq=0xe671031f, ack=0x3f128b94, flags=PSH|ACK,)pkt"
                 R"pkt( window=63, options=[nop, nop, timestamp(0x25fe14b2, 0xcaf0db01)]))pkt"
                 R"pkt( / "hello pkt\n")pkt") ==
        "4500003e31fb40004006f3f60a6300010a6300029c4b1e61e671031f3f128b94"
        "8018003fe9b400000101080a25fe14b2caf0db0168656c6c6f20706b740a");

  // Captured: `ip netns exec pktA tcpdump -i vethA -w vtcp6syn.pcap -c1 'tcp port 7777 and
  //   ip6[53]=2'` while a Python client in pktA ([fd00::1]:40000) connected to [fd00::2]:7777
  //   in pktB
  CHECK(bytes_of(R"pkt(eth(dst=02:00:00:00:00:02, src=02:00:00:00:00:01))pkt"
                 R"pkt( / ipv6(flow=0x16cfe, src=fd00::1, dst=fd00::2))pkt"
                 R"pkt( / tcp(sport=40000, dport=7777, seq=0xed756578, flags=SYN, window=64800,)pkt"
                 R"pkt( options=[mss(1440), sackok, timestamp(0x1d5cfe32, 0), nop, wscale(10)]))pkt") ==
        "02000000000202000000000186dd60016cfe00280640fd000000000000000000"
        "000000000001fd0000000000000000000000000000029c401e61ed7565780000"
        "0000a002fd2027cd0000020405a00402080a1d5cfe32000000000103030a");

  // Captured: `ip netns exec pktA tcpdump -i vethA -w vtcp6psh.pcap -c1 'tcp port 7777 and
  //   (ip6[53]&8)!=0 and src host fd00::1'` while the same client ([fd00::1]:40012) sent
  //   b'hello pkt\n'
  // (the bytes after the 14-byte Ethernet header)
  CHECK(bytes_of(R"pkt(ipv6(flow=0x6b423, src=fd00::1, dst=fd00::2))pkt"
                 R"pkt( / tcp(sport=40012, dport=7777, seq=0xa94c4ba9, ack=0x6b8c70af, flags=PSH|ACK,)pkt"
                 R"pkt( window=64, options=[nop, nop, timestamp(0xb0b1dc2c, 0x173a597f)]))pkt"
                 R"pkt( / "hello pkt\n")pkt") ==
        "6006b423002a0640fd000000000000000000000000000001fd00000000000000"
        "00000000000000029c4c1e61a94c4ba96b8c70af80180040ca8700000101080a"
        "b0b1dc2c173a597f68656c6c6f20706b740a");
}

TEST_CASE("golden bytes, udp: defaults, every field, no checksum") {
  // Every udp field at its default.
  // scapy 2.5.0: bytes(IP(src='127.0.0.1', dst='127.0.0.1')/UDP()).hex()
  CHECK(bytes_of(R"pkt(ipv4())pkt"
                 R"pkt( / udp())pkt") ==
        "4500001c0001000040117cce7f0000017f0000010035003500080172");

  // Every udp field at its default, over IPv6.
  // scapy 2.5.0: bytes(IPv6(src='::1', dst='::1')/UDP()).hex()
  CHECK(bytes_of(R"pkt(ipv6())pkt"
                 R"pkt( / udp())pkt") ==
        "6000000000081140000000000000000000000000000000010000000000000000"
        "0000000000000001003500350008ff72");

  // Every field set to a non-default value (wrong length and checksum go out as written).
  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='198.51.100.7')/UDP(sport=0xfedc, dport=0x0102,
  //   len=0x0100, chksum=0xabcd)/Raw(b'x')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=198.51.100.7))pkt"
                 R"pkt( / udp(sport=0xfedc, dport=0x0102, length=0x0100, checksum=0xabcd))pkt"
                 R"pkt( / "x")pkt") ==
        "4500001d0001000040118e93c0000201c6336407fedc01020100abcd78");

  // checksum=0: no checksum (RFC 768).
  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='198.51.100.7')/UDP(sport=1, dport=2,
  //   chksum=0)/Raw(b'no checksum')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=198.51.100.7))pkt"
                 R"pkt( / udp(sport=1, dport=2, checksum=0))pkt"
                 R"pkt( / "no checksum")pkt") ==
        "450000270001000040118e89c0000201c633640700010002001300006e6f2063"
        "6865636b73756d");

  // Captured: `ip netns exec pktA tcpdump -i vethA -w vudp4.pcap -c1 'udp port 9999'` while a
  //   Python socket in pktA (10.99.0.1:4321) sent b'hello udp' to 10.99.0.2:9999
  CHECK(bytes_of(R"pkt(eth(dst=02:00:00:00:00:02, src=02:00:00:00:00:01))pkt"
                 R"pkt( / ipv4(id=0xf267, flags=DF, src=10.99.0.1, dst=10.99.0.2))pkt"
                 R"pkt( / udp(sport=4321, dport=9999))pkt"
                 R"pkt( / "hello udp")pkt") ==
        "020000000002020000000001080045000025f2674000401133980a6300010a63"
        "000210e1270f001189bc68656c6c6f20756470");

  // Captured: `ip netns exec pktA tcpdump -i vethA -w vudp6.pcap -c1 'udp port 9999'` while a
  //   Python socket in pktA ([fd00::1]:4321) sent b'hello udp' to [fd00::2]:9999
  // (the bytes after the 14-byte Ethernet header)
  CHECK(bytes_of(R"pkt(ipv6(flow=0x3d287, src=fd00::1, dst=fd00::2))pkt"
                 R"pkt( / udp(sport=4321, dport=9999))pkt"
                 R"pkt( / "hello udp")pkt") ==
        "6003d28700111140fd000000000000000000000000000001fd00000000000000"
        "000000000000000210e1270f0011a48068656c6c6f20756470");
}

TEST_CASE("golden bytes, raw: empty, explicit load, several payloads") {
  // raw with load left at its default (empty).
  // scapy 2.5.0: bytes(IP(src='127.0.0.1', dst='127.0.0.1')/Raw(b'')).hex()
  CHECK(bytes_of(R"pkt(ipv4())pkt"
                 R"pkt( / raw())pkt") ==
        "450000140001000040007ce77f0000017f000001");

  // load set explicitly, directly on Ethernet.
  // scapy 2.5.0: bytes(Ether(dst='02:00:00:00:00:02', src='02:00:00:00:00:01',
  //   type=0x9000)/Raw(b'\xde\xad\xbe\xef')).hex()
  CHECK(bytes_of(R"pkt(eth(dst=02:00:00:00:00:02, src=02:00:00:00:00:01))pkt"
                 R"pkt( / raw(load=hex"deadbeef"))pkt") ==
        "0200000000020200000000019000deadbeef");

  // Several raw layers: an escaped UTF-8 string, base64, a repeat.
  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='192.0.2.2',
  //   proto=253)/Raw('caf\xe9\n\t\x00'.encode())/Raw(b'Hello')/Raw(b'A' * 100)).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=192.0.2.2, proto=253))pkt"
                 R"pkt( / raw(load="caf\xc3\xa9\n\t\0"))pkt"
                 R"pkt( / base64"SGVsbG8=")pkt"
                 R"pkt( / "A" * 100)pkt") ==
        "450000850001000040fdf577c0000201c0000202636166c3a90a090048656c6c"
        "6f41414141414141414141414141414141414141414141414141414141414141"
        "4141414141414141414141414141414141414141414141414141414141414141"
        "4141414141414141414141414141414141414141414141414141414141414141"
        "4141414141");
}

// dot1q, mpls, gre, vxlan, ntp, igmp, ICMP errors, ICMPv6 errors and neighbour
// discovery: each case of tests/crosscheck/encap_control.py, whose `--golden`
// prints scapy's command and bytes (the literals below).

TEST_CASE("golden bytes, dot1q: defaults, the contract tag, every field, QinQ") {
  // scapy 2.5.0: bytes(Ether(dst='02:00:00:00:00:02', src='02:00:00:00:00:01')/Dot1Q()).hex()
  CHECK(bytes_of(R"pkt(eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02))pkt"
                 R"pkt( / dot1q())pkt") ==
        "020000000002020000000001810000010000");

  // scapy 2.5.0: bytes(Ether(dst='02:00:00:00:00:02', src='02:00:00:00:00:01')/Dot1Q(prio=3,
  //   vlan=100)/IP(src='127.0.0.1', dst='127.0.0.1')/UDP()).hex()
  CHECK(bytes_of(R"pkt(eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02))pkt"
                 R"pkt( / dot1q(vid=100, pcp=3))pkt"
                 R"pkt( / ipv4(dst=127.0.0.1))pkt"
                 R"pkt( / udp())pkt") ==
        "0200000000020200000000018100606408004500001c0001000040117cce7f00"
        "00017f0000010035003500080172");

  // scapy 2.5.0: bytes(Ether(dst='02:00:00:00:00:02', src='02:00:00:00:00:01')/Dot1Q(prio=7, id=1,
  //   vlan=4094, type=34525)/IPv6(src='::1', dst='::1')/UDP(sport=1, dport=2)/Raw(load=b'v6')).hex()
  CHECK(bytes_of(R"pkt(eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02))pkt"
                 R"pkt( / dot1q(pcp=7, dei=1, vid=4094, type=0x86dd))pkt"
                 R"pkt( / ipv6(src=::1, dst=::1))pkt"
                 R"pkt( / udp(sport=1, dport=2))pkt"
                 R"pkt( / "v6")pkt") ==
        "0200000000020200000000018100fffe86dd60000000000a1140000000000000"
        "000000000000000000010000000000000000000000000000000100010002000a"
        "899f7636");

  // scapy 2.5.0: bytes(Ether(dst='02:00:00:00:00:02', src='02:00:00:00:00:01',
  //   type=34984)/Dot1AD(vlan=10)/Dot1Q(vlan=20)/ARP(hwsrc='02:00:00:00:00:01', psrc='192.0.2.1',
  //   hwdst='00:00:00:00:00:00', pdst='192.0.2.2')).hex()
  CHECK(bytes_of(R"pkt(eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02, type=0x88a8))pkt"
                 R"pkt( / dot1q(vid=10))pkt"
                 R"pkt( / dot1q(vid=20))pkt"
                 R"pkt( / arp(op=request, sha=02:00:00:00:00:01, spa=192.0.2.1, tpa=192.0.2.2))pkt") ==
        "02000000000202000000000188a8000a81000014080600010800060400010200"
        "00000001c0000201000000000000c0000202");
}

TEST_CASE("golden bytes, mpls: defaults, a stack of two, every field") {
  // scapy 2.5.0: bytes(Ether(dst='02:00:00:00:00:02',
  //   src='02:00:00:00:00:01')/MPLS(ttl=64)/IP(src='10.0.0.1', dst='10.0.0.2')/UDP(sport=7,
  //   dport=9)).hex()
  CHECK(bytes_of(R"pkt(eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02))pkt"
                 R"pkt( / mpls())pkt"
                 R"pkt( / ipv4(src=10.0.0.1, dst=10.0.0.2))pkt"
                 R"pkt( / udp(sport=7, dport=9))pkt") ==
        "0200000000020200000000018847000001404500001c00010000401166ce0a00"
        "00010a000002000700090008ebcb");

  // scapy 2.5.0: bytes(Ether(dst='02:00:00:00:00:02', src='02:00:00:00:00:01')/MPLS(label=100,
  //   ttl=64)/MPLS(label=200, ttl=5)/IP(src='127.0.0.1', dst='127.0.0.1')/UDP(sport=7, dport=9)).hex()
  CHECK(bytes_of(R"pkt(eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02))pkt"
                 R"pkt( / mpls(label=100))pkt"
                 R"pkt( / mpls(label=200, ttl=5))pkt"
                 R"pkt( / ipv4(dst=127.0.0.1))pkt"
                 R"pkt( / udp(sport=7, dport=9))pkt") ==
        "020000000002020000000001884700064040000c81054500001c000100004011"
        "7cce7f0000017f00000100070009000801cc");

  // scapy 2.5.0: bytes(Ether(dst='02:00:00:00:00:02', src='02:00:00:00:00:01')/MPLS(label=1048575,
  //   cos=7, s=1, ttl=1)/IPv6(src='::1', dst='::1')/UDP(sport=7, dport=9)).hex()
  CHECK(bytes_of(R"pkt(eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02))pkt"
                 R"pkt( / mpls(label=0xfffff, tc=7, s=1, ttl=1))pkt"
                 R"pkt( / ipv6(src=::1, dst=::1))pkt"
                 R"pkt( / udp(sport=7, dport=9))pkt") ==
        "0200000000020200000000018847ffffff016000000000081140000000000000"
        "0000000000000000000100000000000000000000000000000001000700090008"
        "ffcc");
}

TEST_CASE("golden bytes, gre: defaults, key and sequence, checksum over Ethernet, a checksum given, every field") {
  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='192.0.2.2')/GRE()).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=192.0.2.2))pkt"
                 R"pkt( / gre())pkt") ==
        "4500001800010000402ff6b2c0000201c000020200000000");

  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='192.0.2.2')/GRE(key_present=1, seqnum_present=1,
  //   key=4660, sequence_number=7)/IP(src='10.0.0.1', dst='10.0.0.2')/UDP(sport=1, dport=2)).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=192.0.2.2))pkt"
                 R"pkt( / gre(key=0x1234, seq=7))pkt"
                 R"pkt( / ipv4(src=10.0.0.1, dst=10.0.0.2))pkt"
                 R"pkt( / udp(sport=1, dport=2))pkt") ==
        "4500003c00010000402ff68ec0000201c0000202300008000000123400000007"
        "4500001c00010000401166ce0a0000010a000002000100020008ebd8");

  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='192.0.2.2')/GRE(chksum_present=1,
  //   proto=25944)/Ether(dst='02:00:00:00:00:02', src='02:00:00:00:00:01')/IP(src='10.0.0.1',
  //   dst='10.0.0.2')/ICMP(id=1, seq=2)).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=192.0.2.2))pkt"
                 R"pkt( / gre(c=1))pkt"
                 R"pkt( / eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02))pkt"
                 R"pkt( / ipv4(src=10.0.0.1, dst=10.0.0.2))pkt"
                 R"pkt( / icmp(id=1, seq=2))pkt") ==
        "4500004600010000402ff684c0000201c0000202800065580ea4000002000000"
        "000202000000000108004500001c00010000400166de0a0000010a0000020800"
        "f7fc00010002");

  // A checksum given sets c (given(checksum)), as chksum_present=1 with it:
  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='192.0.2.2')/GRE(chksum_present=1, chksum=0x1234)/
  //   IP(src='10.0.0.1', dst='10.0.0.2')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=192.0.2.2))pkt"
                 R"pkt( / gre(checksum=0x1234))pkt"
                 R"pkt( / ipv4(src=10.0.0.1, dst=10.0.0.2))pkt") ==
        "4500003000010000402ff69ac0000201c000020280000800123400004500001400010000400066e70a0000010a000002");

  // scapy 2.5.0: bytes(IPv6(src='::1', dst='::1')/GRE(chksum_present=1, key_present=1,
  //   seqnum_present=1, proto=34525, offset=5, key=4294967295,
  //   sequence_number=16909060)/IPv6(src='fd00::1', dst='fd00::2')/UDP(sport=3,
  //   dport=4)/Raw(load=b'gre')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=::1, dst=::1))pkt"
                 R"pkt( / gre(c=1, reserved1=5, key=0xffffffff, seq=0x01020304, proto=0x86dd))pkt"
                 R"pkt( / ipv6(src=fd00::1, dst=fd00::2))pkt"
                 R"pkt( / udp(sport=3, dport=4))pkt"
                 R"pkt( / "gre")pkt") ==
        "6000000000432f40000000000000000000000000000000010000000000000000"
        "0000000000000001b00086dd53e70005ffffffff0102030460000000000b1140"
        "fd000000000000000000000000000001fd000000000000000000000000000002"
        "00030004000b395a677265");
}

TEST_CASE("golden bytes, vxlan: defaults, a VNI, every field") {
  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='192.0.2.2')/UDP(sport=49152,
  //   dport=4789)/VXLAN(flags=8)/Ether(dst='02:00:00:00:00:02',
  //   src='02:00:00:00:00:01')/ARP(hwsrc='00:00:00:00:00:00', psrc='0.0.0.0',
  //   hwdst='00:00:00:00:00:00', pdst='0.0.0.0')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=192.0.2.2))pkt"
                 R"pkt( / udp(sport=49152))pkt"
                 R"pkt( / vxlan())pkt"
                 R"pkt( / eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02))pkt"
                 R"pkt( / arp())pkt") ==
        "4500004e000100004011f69ac0000201c0000202c00012b5003a86b108000000"
        "0000000002000000000202000000000108060001080006040001000000000000"
        "0000000000000000000000000000");

  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='192.0.2.2')/UDP(sport=49152,
  //   dport=4789)/VXLAN(flags=8, vni=42)/Ether(dst='02:00:00:00:00:02',
  //   src='02:00:00:00:00:01')/IP(src='10.0.0.1', dst='10.0.0.2')/ICMP(id=3,
  //   seq=4)/Raw(load=b'inner')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=192.0.2.2))pkt"
                 R"pkt( / udp(sport=49152))pkt"
                 R"pkt( / vxlan(vni=42))pkt"
                 R"pkt( / eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02))pkt"
                 R"pkt( / ipv4(src=10.0.0.1, dst=10.0.0.2))pkt"
                 R"pkt( / icmp(id=3, seq=4))pkt"
                 R"pkt( / "inner")pkt") ==
        "45000053000100004011f695c0000201c0000202c00012b5003f6ab308000000"
        "00002a0002000000000202000000000108004500002100010000400166d90a00"
        "00010a0000020800ae2400030004696e6e6572");

  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='192.0.2.2')/UDP(sport=1000,
  //   dport=4789)/VXLAN(flags=8, reserved1=1193046, vni=16777215,
  //   reserved2=171)/Ether(dst='02:00:00:00:00:02',
  //   src='02:00:00:00:00:01')/ARP(hwsrc='02:00:00:00:00:01', psrc='10.0.0.1',
  //   hwdst='00:00:00:00:00:00', pdst='10.0.0.2')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=192.0.2.2))pkt"
                 R"pkt( / udp(sport=1000, dport=4789))pkt"
                 R"pkt( / vxlan(flags=I, reserved1=0x123456, vni=0xffffff, reserved2=0xab))pkt"
                 R"pkt( / eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02))pkt"
                 R"pkt( / arp(sha=02:00:00:00:00:01, spa=10.0.0.1, tpa=10.0.0.2))pkt") ==
        "4500004e000100004011f69ac0000201c000020203e812b5003af8b108123456"
        "ffffffab02000000000202000000000108060001080006040001020000000001"
        "0a0000010000000000000a000002");
}

TEST_CASE("golden bytes, ntp: defaults, every field, NTPv3 over IPv6") {
  // scapy 2.5.0: bytes(IP(src='127.0.0.1', dst='127.0.0.1')/UDP(sport=123,
  //   dport=123)/NTPHeader(stratum=0, poll=10, id=None, orig=Decimal('0'), sent=Decimal('0'))).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=127.0.0.1, dst=127.0.0.1))pkt"
                 R"pkt( / udp(sport=123))pkt"
                 R"pkt( / ntp())pkt") ==
        "4500004c0001000040117c9e7f0000017f000001007b007b0038d38523000a00"
        "0000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000");

  // scapy 2.5.0: bytes(IP(src='127.0.0.1', dst='127.0.0.1')/UDP(sport=123,
  //   dport=40000)/NTPHeader(leap=3, mode=4, stratum=2, poll=6, precision=-23,
  //   delay=Decimal('0.00444'), dispersion=Decimal('0.01694'), id='192.0.2.1',
  //   ref=Decimal('3919688387'), orig=Decimal('3919688388.5'), recv=Decimal('3919688388'),
  //   sent=Decimal('3919688388.75'))).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=127.0.0.1, dst=127.0.0.1))pkt"
                 R"pkt( / udp(sport=123, dport=40000))pkt"
                 R"pkt( / ntp(leap=unsynchronized, mode=server, stratum=2, poll=6, precision=-23, root_delay=0x00000123, root_disp=0x00000456, ref_id=0xc0000201, ref_ts=0xe9a1b2c300000000, orig_ts=0xe9a1b2c480000000, recv_ts=0xe9a1b2c400000000, xmit_ts=0xe9a1b2c4c0000000))pkt") ==
        "4500004c0001000040117c9e7f0000017f000001007b9c40003800bfe40206e9"
        "0000012300000456c0000201e9a1b2c300000000e9a1b2c480000000e9a1b2c4"
        "00000000e9a1b2c4c0000000");

  // scapy 2.5.0: bytes(IPv6(src='::1', dst='::1')/UDP(sport=123, dport=123)/NTPHeader(version=3,
  //   mode=1, stratum=16, poll=10, id='0.0.0.0', orig=Decimal('0'), sent=Decimal('1'))).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=::1, dst=::1))pkt"
                 R"pkt( / udp(sport=123, dport=123))pkt"
                 R"pkt( / ntp(version=3, mode=symmetric_active, stratum=16, xmit_ts=0x0000000100000000))pkt") ==
        "6000000000381140000000000000000000000000000000010000000000000000"
        "0000000000000001007b007b0038db7519100a00000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000100000000");
}

TEST_CASE("golden bytes, igmp: defaults, v2 report, leave, v3 report with records") {
  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='224.0.0.1')/IGMP(mrcode=0)).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=224.0.0.1))pkt"
                 R"pkt( / igmp())pkt") ==
        "4500001c00010000010217ddc0000201e00000011100eeff00000000");

  // scapy 2.5.0: bytes(IP(ttl=1, src='192.0.2.1', dst='239.1.2.3')/IGMP(type=22, mrcode=0,
  //   gaddr='239.1.2.3')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=239.1.2.3))pkt"
                 R"pkt( / igmp(type=report_v2, mrt=0, group=239.1.2.3))pkt") ==
        "4500001c00010000010206dac0000201ef0102031600f8faef010203");

  // scapy 2.5.0: bytes(IP(ttl=1, src='192.0.2.1', dst='224.0.0.2')/IGMP(type=23, mrcode=100,
  //   gaddr='239.1.2.3')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=224.0.0.2))pkt"
                 R"pkt( / igmp(type=leave, mrt=100, group=239.1.2.3))pkt") ==
        "4500001c00010000010217dcc0000201e00000021764f796ef010203");

  // scapy 2.5.0: bytes(IP(ttl=1, src='192.0.2.1', dst='224.0.0.22')/IGMPv3(type=34,
  //   mrcode=0)/IGMPv3mr(records=[IGMPv3gr(srcaddrs=['192.0.2.1', '192.0.2.2'], rtype=1,
  //   maddr='239.1.1.1'),IGMPv3gr(rtype=4, maddr='239.2.2.2'),IGMPv3gr(srcaddrs=['192.0.2.3'],
  //   rtype=5, maddr='239.3.3.3')])).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=224.0.0.22, tos=0xc0))pkt"
                 R"pkt( / igmp(type=report_v3, numrec=3, records=[is_include(239.1.1.1, 192.0.2.1, 192.0.2.2), to_exclude(239.2.2.2), allow(239.3.3.3, 192.0.2.3)]))pkt") ==
        "45c0004000010000010216e4c0000201e00000162200bae20000000301000002"
        "ef010101c0000201c000020204000000ef02020205000001ef030303c0000203");
}

TEST_CASE("golden bytes, icmp: the contract port unreachable, echo, frag needed, time exceeded, redirect, parameter problem, timestamp, source quench") {
  // scapy 2.5.0: bytes(IP(src='127.0.0.1', dst='127.0.0.1')/ICMP(type=3, code=3)/IP(src='127.0.0.1',
  //   dst='127.0.0.1')/UDP(sport=4000, dport=33434)).hex()
  CHECK(bytes_of(R"pkt(ipv4(dst=127.0.0.1))pkt"
                 R"pkt( / icmp(type=dest_unreach, code=port_unreach))pkt"
                 R"pkt( / ipv4(src=127.0.0.1, dst=127.0.0.1))pkt"
                 R"pkt( / udp(sport=4000, dport=33434))pkt") ==
        "450000380001000040017cc27f0000017f0000010303fb18000000004500001c"
        "0001000040117cce7f0000017f0000010fa0829a00086fa1");

  // scapy 2.5.0: bytes(IP(src='127.0.0.1', dst='127.0.0.1')/ICMP(type=8, id=7,
  //   seq=1)/Raw(load=b'ping')).hex()
  CHECK(bytes_of(R"pkt(ipv4(dst=127.0.0.1))pkt"
                 R"pkt( / icmp(type=echo_request, id=7, seq=1))pkt"
                 R"pkt( / "ping")pkt") ==
        "450000200001000040017cda7f0000017f000001080019270007000170696e67");

  // scapy 2.5.0: bytes(IP(src='192.0.2.254', dst='192.0.2.1')/ICMP(type=3, code=4, length=7,
  //   nexthopmtu=1400)/IP(flags=2, src='192.0.2.1', dst='198.51.100.7')/UDP(sport=5000,
  //   dport=6000)/Raw(load=b'x')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.254, dst=192.0.2.1))pkt"
                 R"pkt( / icmp(type=dest_unreach, code=frag_needed, length=7, mtu=1400))pkt"
                 R"pkt( / ipv4(src=192.0.2.1, dst=198.51.100.7, flags=DF))pkt"
                 R"pkt( / udp(sport=5000, dport=6000))pkt"
                 R"pkt( / "x")pkt") ==
        "45000039000100004001f5c3c00002fec00002010304e3d3000705784500001d"
        "0001400040114e93c0000201c633640713881770000970a778");

  // scapy 2.5.0: bytes(IP(src='192.0.2.254', dst='192.0.2.1')/ICMP(type=11, code=0)/IP(ttl=1,
  //   src='192.0.2.1', dst='198.51.100.7')/UDP(sport=33000, dport=33434)).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.254, dst=192.0.2.1))pkt"
                 R"pkt( / icmp(type=time_exceeded, code=ttl_exceeded))pkt"
                 R"pkt( / ipv4(src=192.0.2.1, dst=198.51.100.7, ttl=1))pkt"
                 R"pkt( / udp(sport=33000, dport=33434))pkt") ==
        "45000038000100004001f5c4c00002fec00002010b00e155000000004500001c"
        "000100000111cd94c0000201c633640780e8829a0008101f");

  // scapy 2.5.0: bytes(IP(src='192.0.2.254', dst='192.0.2.1')/ICMP(type=5, code=1,
  //   gw='192.0.2.253')/IP(src='192.0.2.1', dst='198.51.100.7')/UDP(sport=1, dport=2)).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.254, dst=192.0.2.1))pkt"
                 R"pkt( / icmp(type=redirect, code=1, gateway=192.0.2.253))pkt"
                 R"pkt( / ipv4(src=192.0.2.1, dst=198.51.100.7))pkt"
                 R"pkt( / udp(sport=1, dport=2))pkt") ==
        "45000038000100004001f5c4c00002fec000020105012457c00002fd4500001c"
        "0001000040118e94c0000201c6336407000100020008139f");

  // scapy 2.5.0: bytes(IP(src='192.0.2.254', dst='192.0.2.1')/ICMP(type=12, ptr=20,
  //   length=6)/IP(src='192.0.2.1', dst='198.51.100.7')/UDP(sport=1, dport=2)).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.254, dst=192.0.2.1))pkt"
                 R"pkt( / icmp(type=param_problem, pointer=20, length=6, unused=0))pkt"
                 R"pkt( / ipv4(src=192.0.2.1, dst=198.51.100.7))pkt"
                 R"pkt( / udp(sport=1, dport=2))pkt") ==
        "45000038000100004001f5c4c00002fec00002010c00cc4f140600004500001c"
        "0001000040118e94c0000201c6336407000100020008139f");

  // scapy 2.5.0: bytes(IP(src='192.0.2.1', dst='192.0.2.2')/ICMP(type=13, id=9, seq=10, ts_ori=1000,
  //   ts_rx=2000, ts_tx=3000)).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.1, dst=192.0.2.2))pkt"
                 R"pkt( / icmp(type=timestamp_request, id=9, seq=10, ts_ori=1000, ts_rx=2000, ts_tx=3000))pkt") ==
        "45000028000100004001f6d0c0000201c00002020d00db7c0009000a000003e8"
        "000007d000000bb8");

  // scapy 2.5.0: bytes(IP(src='192.0.2.254', dst='192.0.2.1')/ICMP(type=4)/IP(src='192.0.2.1',
  //   dst='198.51.100.7')/UDP(sport=1, dport=2)).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=192.0.2.254, dst=192.0.2.1))pkt"
                 R"pkt( / icmp(type=source_quench))pkt"
                 R"pkt( / ipv4(src=192.0.2.1, dst=198.51.100.7))pkt"
                 R"pkt( / udp(sport=1, dport=2))pkt") ==
        "45000038000100004001f5c4c00002fec00002010400e855000000004500001c"
        "0001000040118e94c0000201c6336407000100020008139f");
}

TEST_CASE("golden bytes, icmpv6: dest unreachable, packet too big, time exceeded, parameter problem, echo") {
  // scapy 2.5.0: bytes(IPv6(src='2001:db8::fe',
  //   dst='2001:db8::1')/ICMPv6DestUnreach(code=4)/IPv6(src='2001:db8::1',
  //   dst='2001:db8::2')/UDP(sport=4000, dport=33434)).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=2001:db8::fe, dst=2001:db8::1))pkt"
                 R"pkt( / icmpv6(type=dest_unreach, code=4))pkt"
                 R"pkt( / ipv6(src=2001:db8::1, dst=2001:db8::2))pkt"
                 R"pkt( / udp(sport=4000, dport=33434))pkt") ==
        "6000000000383a4020010db80000000000000000000000fe20010db800000000"
        "0000000000000001010430e900000000600000000008114020010db800000000"
        "000000000000000120010db80000000000000000000000020fa0829a0008122f");

  // scapy 2.5.0: bytes(IPv6(src='2001:db8::fe',
  //   dst='2001:db8::1')/ICMPv6PacketTooBig(mtu=1400)/IPv6(src='2001:db8::1',
  //   dst='2001:db8::2')/UDP(sport=4000, dport=33434)/Raw(load=b'big')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=2001:db8::fe, dst=2001:db8::1))pkt"
                 R"pkt( / icmpv6(type=packet_too_big, mtu=1400))pkt"
                 R"pkt( / ipv6(src=2001:db8::1, dst=2001:db8::2))pkt"
                 R"pkt( / udp(sport=4000, dport=33434))pkt"
                 R"pkt( / "big")pkt") ==
        "60000000003b3a4020010db80000000000000000000000fe20010db800000000"
        "000000000000000102002a720000057860000000000b114020010db800000000"
        "000000000000000120010db80000000000000000000000020fa0829a000b48bf"
        "626967");

  // scapy 2.5.0: bytes(IPv6(src='2001:db8::fe',
  //   dst='2001:db8::1')/ICMPv6TimeExceeded(code=1)/IPv6(hlim=1, src='2001:db8::1',
  //   dst='2001:db8::2')/UDP(sport=1, dport=2)).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=2001:db8::fe, dst=2001:db8::1))pkt"
                 R"pkt( / icmpv6(type=time_exceeded, code=1, length=0))pkt"
                 R"pkt( / ipv6(src=2001:db8::1, dst=2001:db8::2, hlim=1))pkt"
                 R"pkt( / udp(sport=1, dport=2))pkt") ==
        "6000000000383a4020010db80000000000000000000000fe20010db800000000"
        "000000000000000103012f2b00000000600000000008110120010db800000000"
        "000000000000000120010db8000000000000000000000002000100020008a466");

  // scapy 2.5.0: bytes(IPv6(src='2001:db8::fe', dst='2001:db8::1')/ICMPv6ParamProblem(code=1,
  //   ptr=40)/IPv6(src='2001:db8::1', dst='2001:db8::2')/UDP(sport=1, dport=2)).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=2001:db8::fe, dst=2001:db8::1))pkt"
                 R"pkt( / icmpv6(type=param_problem, code=1, pointer=40))pkt"
                 R"pkt( / ipv6(src=2001:db8::1, dst=2001:db8::2))pkt"
                 R"pkt( / udp(sport=1, dport=2))pkt") ==
        "6000000000383a4020010db80000000000000000000000fe20010db800000000"
        "000000000000000104012dc400000028600000000008114020010db800000000"
        "000000000000000120010db8000000000000000000000002000100020008a466");

  // scapy 2.5.0: bytes(IPv6(src='::1', dst='::1')/ICMPv6EchoRequest(id=1,
  //   seq=2)/Raw(load=b'echo')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=::1, dst=::1))pkt"
                 R"pkt( / icmpv6(id=1, seq=2))pkt"
                 R"pkt( / "echo")pkt") ==
        "60000000000c3a40000000000000000000000000000000010000000000000000"
        "00000000000000018000b1e1000100026563686f");
}

TEST_CASE("golden bytes, icmpv6_ns: the contract solicitation, defaults, every field with an unknown option") {
  // scapy 2.5.0: bytes(IPv6(src='::1', dst='ff02::1:ff00:2')/ICMPv6ND_NS(tgt='fe80::2')/ICMPv6NDOptS
  //   rcLLAddr(lladdr='02:00:00:00:00:01')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=::1, dst=ff02::1:ff00:2))pkt"
                 R"pkt( / icmpv6_ns(target=fe80::2, options=[slla(02:00:00:00:00:01)]))pkt") ==
        "6000000000203aff00000000000000000000000000000001ff02000000000000"
        "00000001ff0000028700791800000000fe800000000000000000000000000002"
        "0101020000000001");

  // scapy 2.5.0: bytes(IPv6(src='::', dst='ff02::1:ff00:2')/ICMPv6ND_NS()).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=::, dst=ff02::1:ff00:2))pkt"
                 R"pkt( / icmpv6_ns())pkt") ==
        "6000000000183aff00000000000000000000000000000000ff02000000000000"
        "00000001ff00000287007aa60000000000000000000000000000000000000000");

  // scapy 2.5.0: bytes(IPv6(src='fe80::1', dst='fe80::2')/ICMPv6ND_NS(res=7,
  //   tgt='fe80::2')/ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:00:01')/ICMPv6NDOptUnknown(type=99,
  //   len=1, data=b'\x01\x02\x03\x04\x05\x06')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=fe80::1, dst=fe80::2))pkt"
                 R"pkt( / icmpv6_ns(code=0, reserved=7, target=fe80::2, options=[slla(02:00:00:00:00:01), unknown(99, hex"010203040506")]))pkt") ==
        "6000000000283afffe800000000000000000000000000001fe80000000000000"
        "000000000000000287000dff00000007fe800000000000000000000000000002"
        "01010200000000016301010203040506");
}

TEST_CASE("golden bytes, icmpv6_na: every field with tlla, defaults, tlla and an unknown option") {
  // scapy 2.5.0: bytes(IPv6(src='fe80::2', dst='fe80::1')/ICMPv6ND_NA(R=0, S=1, O=1,
  //   tgt='fe80::2')/ICMPv6NDOptDstLLAddr(lladdr='02:00:00:00:00:02')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=fe80::2, dst=fe80::1))pkt"
                 R"pkt( / icmpv6_na(r=0, s=1, o=1, target=fe80::2, options=[tlla(02:00:00:00:00:02)]))pkt") ==
        "6000000000203afffe800000000000000000000000000002fe80000000000000"
        "00000000000000018800181a60000000fe800000000000000000000000000002"
        "0201020000000002");

  // scapy 2.5.0: bytes(IPv6(src='fe80::2', dst='ff02::1')/ICMPv6ND_NA()).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=fe80::2, dst=ff02::1))pkt"
                 R"pkt( / icmpv6_na())pkt") ==
        "6000000000183afffe800000000000000000000000000002ff02000000000000"
        "00000000000000018800da25a000000000000000000000000000000000000000");

  // scapy 2.5.0: bytes(IPv6(src='2001:db8::2', dst='2001:db8::1', hlim=255)/ICMPv6ND_NA(R=1, S=1, O=0,
  //   res=5, tgt='2001:db8::2')/ICMPv6NDOptDstLLAddr(lladdr='02:00:00:00:00:02')/ICMPv6NDOptUnknown(
  //   type=99, len=1, data=b'\x01\x02\x03\x04\x05\x06')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=2001:db8::2, dst=2001:db8::1))pkt"
                 R"pkt( / icmpv6_na(r=1, s=1, o=0, reserved=5, target=2001:db8::2, options=[tlla(02:00:00:00:00:02), unknown(99, hex"010203040506")]))pkt") ==
        "6000000000283aff20010db800000000000000000000000220010db800000000"
        "00000000000000018800be56c000000520010db8000000000000000000000002"
        "02010200000000026301010203040506");
}

TEST_CASE("golden bytes, icmpv6_rs: with slla, defaults, every field with an unknown option") {
  // scapy 2.5.0: bytes(IPv6(src='fe80::1',
  //   dst='ff02::2')/ICMPv6ND_RS()/ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:00:01')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=fe80::1, dst=ff02::2))pkt"
                 R"pkt( / icmpv6_rs(options=[slla(02:00:00:00:00:01)]))pkt") ==
        "6000000000103afffe800000000000000000000000000001ff02000000000000"
        "000000000000000285007a2c000000000101020000000001");

  // scapy 2.5.0: bytes(IPv6(src='::', dst='ff02::2')/ICMPv6ND_RS()).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=::, dst=ff02::2))pkt"
                 R"pkt( / icmpv6_rs())pkt") ==
        "6000000000083aff00000000000000000000000000000000ff02000000000000"
        "000000000000000285007bb800000000");

  // scapy 2.5.0: bytes(IPv6(src='fe80::1', dst='ff02::2')/ICMPv6ND_RS(code=0, res=9)/ICMPv6NDOptSrcLLAddr(
  //   lladdr='02:00:00:00:00:01')/ICMPv6NDOptUnknown(type=99, len=1, data=b'\xaa' * 6)).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=fe80::1, dst=ff02::2))pkt"
                 R"pkt( / icmpv6_rs(code=0, reserved=9, options=[slla(02:00:00:00:00:01), unknown(99, hex"aaaaaaaaaaaa")]))pkt") ==
        "6000000000183afffe800000000000000000000000000001ff02000000000000"
        "00000000000000028500171a0000000901010200000000016301aaaaaaaaaaaa");
}

TEST_CASE("golden bytes, icmpv6_ra: defaults, every field with slla, mtu and prefix") {
  // scapy 2.5.0: bytes(IPv6(src='fe80::1', dst='ff02::1')/ICMPv6ND_RA(prf=0)).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=fe80::1, dst=ff02::1))pkt"
                 R"pkt( / icmpv6_ra())pkt") ==
        "6000000000103afffe800000000000000000000000000001ff02000000000000"
        "000000000000000186007527000007080000000000000000");

  // scapy 2.5.0: bytes(IPv6(src='fe80::1', dst='ff02::1')/ICMPv6ND_RA(chlim=64, M=1, O=1, prf=1,
  //   routerlifetime=600, reachabletime=30000, retranstimer=1000)/ICMPv6NDOptSrcLLAddr(lladdr='02:00:0
  //   0:00:00:01')/ICMPv6NDOptMTU(mtu=1500)/ICMPv6NDOptPrefixInfo(prefix='2001:db8::')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=fe80::1, dst=ff02::1))pkt"
                 R"pkt( / icmpv6_ra(hlim=64, m=1, o=1, prf=high, lifetime=600, reachable=30000, retrans=1000, options=[slla(02:00:00:00:00:01), mtu(1500), prefix(2001:db8::, 64)]))pkt") ==
        "6000000000403afffe800000000000000000000000000001ff02000000000000"
        "00000000000000018600406a40c8025800007530000003e80101020000000001"
        "05010000000005dc030440c0ffffffffffffffff0000000020010db800000000"
        "0000000000000000");
}

TEST_CASE("golden bytes, icmpv6_redirect: with tlla, defaults, every field with the redirected header") {
  // scapy 2.5.0: bytes(IPv6(src='fe80::1', dst='fe80::2')/ICMPv6ND_Redirect(tgt='fe80::3',
  //   dst='2001:db8::9')/ICMPv6NDOptDstLLAddr(lladdr='02:00:00:00:00:03')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=fe80::1, dst=fe80::2))pkt"
                 R"pkt( / icmpv6_redirect(target=fe80::3, dst=2001:db8::9, options=[tlla(02:00:00:00:00:03)]))pkt") ==
        "6000000000303afffe800000000000000000000000000001fe80000000000000"
        "00000000000000028900494600000000fe800000000000000000000000000003"
        "20010db80000000000000000000000090201020000000003");

  // scapy 2.5.0: bytes(IPv6(src='fe80::1', dst='fe80::2')/ICMPv6ND_Redirect()).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=fe80::1, dst=fe80::2))pkt"
                 R"pkt( / icmpv6_redirect())pkt") ==
        "6000000000283afffe800000000000000000000000000001fe80000000000000"
        "0000000000000002890079980000000000000000000000000000000000000000"
        "00000000000000000000000000000000");

  // scapy 2.5.0: inner = IPv6(src='2001:db8::1', dst='2001:db8::9')/UDP(sport=1000, dport=2000);
  //   bytes(IPv6(src='fe80::1', dst='fe80::2')/ICMPv6ND_Redirect(res=3, tgt='fe80::3', dst='2001:db8::9')
  //   /ICMPv6NDOptDstLLAddr(lladdr='02:00:00:00:00:03')/ICMPv6NDOptRedirectedHdr(pkt=inner)).hex()
  // The redirected header (type 4) is an unknown option here: 6 reserved bytes, then the packet.
  CHECK(bytes_of(R"pkt(ipv6(src=fe80::1, dst=fe80::2))pkt"
                 R"pkt( / icmpv6_redirect(reserved=3, target=fe80::3, dst=2001:db8::9, options=[tlla(02:00:00:00:00:03), unknown(4, hex"000000000000600000000008114020010db800000000000000000000000120010db800000000000000000000000903e807d0000898aa")]))pkt") ==
        "6000000000683afffe800000000000000000000000000001fe80000000000000"
        "00000000000000028900d3d400000003fe800000000000000000000000000003"
        "20010db800000000000000000000000902010200000000030407000000000000"
        "600000000008114020010db800000000000000000000000120010db800000000"
        "000000000000000903e807d0000898aa");
}

namespace {

// Every packet of a set (a generator, or fragment()'s list), as lowercase hex.
std::vector<std::string> all_bytes_of(const std::string& expr) {
  auto ps = stdlib_session().packets(*parse_expression(Source::make("<test>", expr)));
  std::vector<std::string> out;
  ps->for_each([&](const Packet& p) {
    out.push_back(hex_encode(std::string_view(reinterpret_cast<const char*>(p.bytes().data()), p.size())));
    return true;
  });
  return out;
}

}  // namespace

TEST_CASE("golden bytes, sctp: defaults, every field, several chunks") {
  // scapy 2.5.0: bytes(IP(src='127.0.0.1', dst='127.0.0.1')/SCTP()).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=127.0.0.1, dst=127.0.0.1) / sctp())pkt") ==
        "450000200001000040847c577f0000017f00000100000000000000005db5602b");
  // scapy 2.5.0: bytes(IP(src='127.0.0.1', dst='127.0.0.1')/SCTP(sport=5000, dport=80, tag=0xdeadbeef)
  //   /SCTPChunkData(reserved=0, delay_sack=1, unordered=1, beginning=1, ending=1, tsn=7, stream_id=1,
  //    stream_seq=2, proto_id=46, data=b'hello')
  //   /SCTPChunkSACK(flags=0, cumul_tsn_ack=4, a_rwnd=5, gap_ack_list=['1:2'], dup_tsn_list=[7])
  //   /SCTPChunkShutdown(flags=0, cumul_tsn_ack=8)).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=127.0.0.1, dst=127.0.0.1) / sctp(sport=5000, dport=80, vtag=0xdeadbeef, chunks=[)pkt"
                 R"pkt(data(flags=I|U|B|E, tsn=7, stream=1, ssn=2, ppid=46, data="hello"), )pkt"
                 R"pkt(sack(cum_tsn=4, a_rwnd=5, gaps=[1, 2], dups=[7]), shutdown(cum_tsn=8)]))pkt") ==
        "450000580001000040847c1f7f0000017f00000113880050deadbeef7cc07d6f000f001500000007000100020000002e68656c6c6f00"
        "00000300001800000004000000050001000100010002000000070700000800000008");
  // scapy 2.5.0: bytes(IPv6(src='::1', dst='::1')/SCTP(sport=1, dport=2, tag=3)/SCTPChunkInit(flags=0,
  //   init_tag=5, a_rwnd=1000, n_out_streams=3, n_in_streams=4, init_tsn=9)
  //   /SCTPChunkAbort(reserved=0, TCB=1, error_causes=b'')).hex()
  CHECK(bytes_of(R"pkt(ipv6(src=::1, dst=::1) / sctp(sport=1, dport=2, vtag=3, chunks=[)pkt"
                 R"pkt(init(init_tag=5, a_rwnd=1000, n_out=3, n_in=4, init_tsn=9), abort(flags=T)]))pkt") ==
        "60000000002484400000000000000000000000000000000100000000000000000000000000000001000100020000000327cdaf5d0100"
        "001400000005000003e8000300040000000906010004");
}

TEST_CASE("sctp: a generator over sport recomputes the whole CRC32c of each packet") {
  // scapy 2.5.0: bytes(IP(src='127.0.0.1', dst='127.0.0.1')/SCTP(sport=s)
  //   /SCTPChunkShutdown(flags=0, cumul_tsn_ack=1)).hex() for s in 1, 2, 3
  CHECK(all_bytes_of(R"pkt(ipv4(src=127.0.0.1, dst=127.0.0.1) / sctp(sport=1..3, chunks=[shutdown(cum_tsn=1)]))pkt") ==
        std::vector<std::string>{
            "450000280001000040847c4f7f0000017f00000100010000000000004f97abc80700000800000001",
            "450000280001000040847c4f7f0000017f000001000200000000000097340a060700000800000001",
            "450000280001000040847c4f7f0000017f0000010003000000000000707831bf0700000800000001"});
}

TEST_CASE("fragment(): IPv4 and IPv6 fragments equal scapy's") {
  // scapy 2.5.0: [bytes(q).hex() for q in fragment(IP(src='127.0.0.1', dst='127.0.0.1', id=7)
  //   /UDP(sport=1, dport=2)/(b'x'*20), 16)]
  CHECK(all_bytes_of(R"pkt(fragment(ipv4(src=127.0.0.1, dst=127.0.0.1, id=7) / udp(sport=1, dport=2) / "x" * 20, 16))pkt") ==
        std::vector<std::string>{"450000240007200040115cc07f0000017f00000100010002001c4cfc7878787878787878",
                                 "450000200007000240117cc27f0000017f000001787878787878787878787878"});
  // scapy 2.5.0: [bytes(q).hex() for q in fragment6(IPv6(src='::1', dst='::1')/IPv6ExtHdrFragment(id=5)
  //   /UDP(sport=1, dport=2)/(b'y'*20), 40+8+16)]
  CHECK(all_bytes_of(R"pkt(fragment(ipv6(src=::1, dst=::1) / ipv6_frag(id=5) / udp(sport=1, dport=2) / "y" * 20, 16))pkt") ==
        std::vector<std::string>{
            "6000000000182c400000000000000000000000000000000100000000000000000000000000000001110000010000000500010002001c40f37979797979797979",
            "6000000000142c4000000000000000000000000000000001000000000000000000000000000000011100001000000005797979797979797979797979"});
  // Inserted: the same bytes but the random id.
  auto six = all_bytes_of(R"pkt(fragment(ipv6(src=::1, dst=::1) / udp(sport=1, dport=2) / "y" * 20, 16))pkt");
  REQUIRE(six.size() == 2);
  CHECK(six[0].substr(0, 88) == "6000000000182c40000000000000000000000000000000010000000000000000000000000000000111000001");
  CHECK(six[0].substr(88, 8) == six[1].substr(88, 8));
  CHECK(six[0].substr(96) == "00010002001c40f37979797979797979");
  CHECK_THROWS_WITH(all_bytes_of(R"pkt(fragment(ipv4() / udp() / "x" * 20, 12))pkt"),
                    Catch::Contains("fragment size 12 is not a positive multiple of 8"));
  CHECK_THROWS_WITH(all_bytes_of(R"pkt(fragment(eth() / arp(), 8))pkt"), Catch::Contains("no layer that fragments"));
}

TEST_CASE("fragment declarations: bad ones are errors at their place") {
  Session s(Registry::with_stdlib());
  auto declare = [&](const std::string& text) {
    for (auto& st : parse_script(Source::make("<test>", text)).stmts) s.declare(st);
  };
  CHECK_THROWS_WITH(declare("fragment ipv4 { offset = fragg; more = flags.MF }"), Catch::Contains("did you mean 'frag'"));
  CHECK_THROWS_WITH(declare("fragment ipv4 { offset = frag; more = flags.XX }"), Catch::Contains("has no flag 'XX'"));
  CHECK_THROWS_WITH(declare("fragment ipv4 { offset = frag }"), Catch::Contains("needs 'more = FIELD'"));
  CHECK_THROWS_WITH(declare("fragment ipv4 { offset = frag; more = flags.MF; id = id }"), Catch::Contains("inserted header"));
  CHECK_THROWS_WITH(declare("fragment ipv4 { offset = src; more = flags.MF }"), Catch::Contains("must be a number"));
  CHECK_THROWS_WITH(declare("fragment nosuch { offset = a; more = b }"), Catch::Contains("unknown layer 'nosuch'"));
}

TEST_CASE("golden bytes, bootp: sname and file shorter than their size are padded with zeros, as scapy does") {
  // scapy 2.5.0: bytes(IP(src='0.0.0.0', dst='255.255.255.255')/UDP(sport=68, dport=67)
  //   /BOOTP(file=b'boot.img', sname=b'srv')).hex()
  CHECK(bytes_of(R"pkt(ipv4(src=0.0.0.0, dst=255.255.255.255) / udp(sport=68, dport=67) / bootp(file="boot.img", sname="srv"))pkt") ==
        "4500010800010000401179e500000000ffffffff0044004300f49f57010106000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000737276" + std::string(122, '0') + "626f6f742e696d67" + std::string(240, '0'));
}
