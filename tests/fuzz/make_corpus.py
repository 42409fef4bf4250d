#!/usr/bin/python3
"""Writes the seed corpus of fuzz_dissect: tests/fuzz/corpus/dissect/NAME.

Each file is one selector byte (which first layer: a pcap link type or a
layer by name, as `PKT_FUZZ_CHOICES=1 FUZZ_DISSECT` prints them) followed by
packet bytes that `pkt build -e EXPR --format hex` makes, plus truncated and
damaged variants. Reproducers of fixed bugs are kept there by hand (bug-*)
and left alone.

Usage: make_corpus.py PKT FUZZ_DISSECT   (e.g. build/pkt build-fuzz/fuzz_dissect)
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "dissect")

E = "eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02)"
TCP_OPTS = "options=[mss(1460), sackok, timestamp(1, 0), nop, wscale(7)]"
# (name, first layer, expression)
PACKETS = [
    ("eth_ipv4_tcp_syn_opts", "linktype 1", f"{E} / ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(sport=40000, dport=80, flags=SYN, {TCP_OPTS})"),
    ("eth_ipv4_tcp_sack", "linktype 1", f"{E} / ipv4 / tcp(flags=ACK, options=[nop, nop, sack(1, 2, 3, 4), unknown(30, hex\"0102\"), eol]) / \"data\""),
    ("eth_ipv4_udp_hi", "linktype 1", f"{E} / ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=5353, dport=53) / \"hi\""),
    ("eth_ipv4_udp_trailer", "linktype 1", f"{E} / ipv4 / udp(trailer=hex\"000000000000\")"),
    ("eth_ipv4_icmp", "linktype 1", f"{E} / ipv4(dst=192.0.2.1) / icmp(id=7, seq=1) / \"ping\""),
    ("eth_ipv4_opts_rr", "linktype 1", f"{E} / ipv4(options=[rr(1, 2), nop, router_alert(0)]) / udp"),
    ("eth_ipv4_opts_unknown", "linktype 1", f"{E} / ipv4(options=[unknown(68, hex\"0102\"), eol]) / icmp"),
    ("eth_ipv4_frag", "linktype 1", f"{E} / ipv4(flags=MF, frag=100, id=99) / \"fragment\""),
    ("eth_ipv4_ipip", "linktype 1", f"{E} / ipv4 / ipv4(src=1.2.3.4) / tcp"),
    ("eth_ipv4_6in4", "linktype 1", f"{E} / ipv4 / ipv6 / udp / \"x\""),
    ("eth_ipv4_bad_checksum", "linktype 1", f"{E} / ipv4(checksum=0x1234) / tcp(checksum=0) / \"x\""),
    ("eth_arp", "linktype 1", f"{E} / arp(op=reply, sha=02:00:00:00:00:01, spa=10.0.0.1, tpa=10.0.0.2)"),
    ("eth_vlan_raw", "linktype 1", "eth(src=02:00:00:00:00:01, type=vlan) / hex\"00640800\""),
    ("eth_unknown_type", "linktype 1", "eth(type=0x1234) / \"payload\""),
    ("eth_ipv6_tcp", "linktype 1", f"{E} / ipv6(src=2001:db8::1, dst=2001:db8::2, flow=12345) / tcp(dport=443, {TCP_OPTS})"),
    ("eth_ipv6_udp", "linktype 1", f"{E} / ipv6 / udp(dport=547) / \"dhcp\""),
    ("eth_ipv6_icmpv6", "linktype 1", f"{E} / ipv6 / icmpv6(id=1, seq=2) / \"echo\""),
    ("eth_ipv6_hop_icmpv6", "linktype 1", f"{E} / ipv6 / ipv6_hop(options=[unknown(5, hex\"0000\")]) / icmpv6"),
    ("eth_ipv6_hop_padn", "linktype 1", f"{E} / ipv6 / ipv6_hop(options=[pad1, padn(hex\"000000\")]) / udp"),
    ("eth_ipv6_ext_chain", "linktype 1", f"{E} / ipv6 / ipv6_hop / ipv6_dest / ipv6_route(data=hex\"00000000\") / ipv6_frag / icmpv6"),
    ("eth_ipv6_route_tcp", "linktype 1", f"{E} / ipv6 / ipv6_route(type=2, segleft=1, data=hex\"0000000020010db8000000000000000000000001\") / tcp"),
    ("eth_ipv6_frag_udp", "linktype 1", f"{E} / ipv6 / ipv6_frag(id=7, m=1) / udp / \"frag\""),
    ("eth_ipv6_dest_opts", "linktype 1", f"{E} / ipv6 / ipv6_dest(options=[unknown(200, hex\"01020304\")]) / tcp"),
    ("eth_ipv6_6in6", "linktype 1", f"{E} / ipv6 / ipv6 / udp"),
    ("eth_ipv6_4in6", "linktype 1", f"{E} / ipv6 / ipv4 / icmp"),
    # stdlib/15-vlan.pkt, 35-tunnel.pkt, 40-app.pkt, ICMP errors and neighbour discovery
    ("eth_dot1q_ipv4_udp", "linktype 1", f"{E} / dot1q(vid=100, pcp=3) / ipv4 / udp / \"v\""),
    ("eth_qinq_arp", "linktype 1", "eth(type=0x88a8) / dot1q(vid=10) / dot1q(vid=20) / arp"),
    ("eth_mpls_ipv4", "linktype 1", f"{E} / mpls(label=100) / mpls(label=200) / ipv4 / icmp"),
    ("eth_mpls_ipv6", "linktype 1", f"{E} / mpls / ipv6 / udp"),
    ("raw_gre_key_seq", "linktype 101", "ipv4 / gre(key=1, seq=2) / ipv4 / udp"),
    ("raw_gre_csum_eth", "linktype 101", f"ipv4 / gre(c=1) / {E} / ipv4 / tcp"),
    ("raw_vxlan", "linktype 101", f"ipv4 / udp(sport=4000) / vxlan(vni=42) / {E} / ipv4 / udp"),
    ("raw_ntp", "linktype 101", "ipv4 / udp(sport=123) / ntp(mode=server, stratum=2)"),
    ("raw_igmp_v2", "linktype 101", "ipv4(dst=224.0.0.1) / igmp(type=report_v2, group=239.1.2.3)"),
    ("raw_igmp_v3", "linktype 101", "ipv4(dst=224.0.0.22) / igmp(type=report_v3, numrec=2, records=[is_include(239.1.1.1, 0.0.0.1, 0.0.0.2), to_exclude(239.2.2.2)])"),
    ("raw_icmp_port_unreach", "linktype 101", "ipv4 / icmp(type=dest_unreach, code=port_unreach) / ipv4 / udp(sport=4000, dport=33434)"),
    ("raw_icmp_redirect", "linktype 101", "ipv4 / icmp(type=redirect, gateway=10.0.0.1) / ipv4 / tcp"),
    ("raw_icmp_timestamp", "linktype 101", "ipv4 / icmp(type=timestamp_request, ts_ori=1)"),
    ("raw_icmpv6_too_big", "linktype 101", "ipv6 / icmpv6(type=packet_too_big, mtu=1400) / ipv6 / udp"),
    ("raw_icmpv6_ns", "linktype 101", "ipv6(dst=ff02::1:ff00:2) / icmpv6_ns(target=fe80::2, options=[slla(02:00:00:00:00:01)])"),
    ("raw_icmpv6_na", "linktype 101", "ipv6 / icmpv6_na(target=fe80::2, options=[tlla(02:00:00:00:00:02)])"),
    ("raw_icmpv6_ra", "linktype 101", "ipv6 / icmpv6_ra(options=[slla(02:00:00:00:00:01), mtu(1500), prefix(2001:db8::, 64), unknown(99, hex\"01\")])"),
    ("raw_icmpv6_rs", "linktype 101", "ipv6 / icmpv6_rs(options=[slla(02:00:00:00:00:01)])"),
    ("raw_icmpv6_redirect", "linktype 101", "ipv6 / icmpv6_redirect(target=fe80::3, dst=2001:db8::9)"),
    ("raw_ipv4_tcp", "linktype 101", "ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(flags=SYN|ACK)"),
    ("raw_ipv6_udp", "linktype 101", "ipv6 / udp / \"x\""),
    ("lt228_ipv4_udp", "linktype 228", "ipv4 / udp / \"y\""),
    ("sll_ipv4_udp", "linktype 113", "sll(pkttype=outgoing, addr=hex\"0200000000010000\") / ipv4 / udp / \"s\""),
    ("sll_arp", "linktype 113", "sll / arp(op=reply)"),
    ("sll2_ipv6_tcp", "linktype 276", "sll2(ifindex=1, hatype=loopback) / ipv6 / tcp(flags=SYN)"),
    ("sll2_dot1q_ipv4", "linktype 276", "sll2 / dot1q(vid=5) / ipv4 / icmp"),
    ("lt229_ipv6_tcp", "linktype 229", "ipv6 / tcp"),
    ("eth_alone", "eth", "eth"),
    ("ipv4_alone", "ipv4", "ipv4(proto=tcp) / tcp"),
    ("ipv6_alone", "ipv6", "ipv6(next=59)"),
    ("tcp_alone", "tcp", f"tcp({TCP_OPTS}) / \"GET /\""),
    ("udp_alone", "udp", "udp / \"hello\""),
    ("icmp_alone", "icmp", "icmp(type=dest_unreach, code=3)"),
    ("icmpv6_alone", "icmpv6", "icmpv6(type=packet_too_big)"),
    ("arp_alone", "arp", "arp"),
    ("ipv6_hop_alone", "ipv6_hop", "ipv6_hop(next=tcp) / tcp"),
    ("ipv6_frag_alone", "ipv6_frag", "ipv6_frag(next=udp) / udp"),
    ("ipv6_dest_alone", "ipv6_dest", "ipv6_dest(options=[padn(hex\"0000\")])"),
    ("ipv6_route_alone", "ipv6_route", "ipv6_route(data=hex\"0000000000000000\")"),
    ("raw_alone", "raw", "\"just bytes\""),
    ("pcap_alone", "pcap", "pcap(linktype=1) / \"x\""),
    ("raw_ipv4_sctp_chunks", "linktype 101", "ipv4 / sctp(sport=1, dport=2, vtag=3, chunks=[data(flags=B|E, tsn=1, data=\"abc\"), "
     "init(init_tag=5, params=hex\"000500087f000001\"), sack(cum_tsn=1, gaps=[1, 2], dups=[3]), heartbeat(info=\"hb\"), "
     "abort(flags=T), shutdown(cum_tsn=9), init_ack(params=hex\"00070005ff000000\"), unknown(200, \"xyz\")])"),
    ("eth_ipv6_sctp", "linktype 1", f"{E} / ipv6 / sctp(chunks=[data(data=\"x\"), data(data=\"yy\")])"),
    ("sctp_alone", "sctp", "sctp(chunks=[shutdown(cum_tsn=1)])"),
    ("raw_ipv4_frag_first", "linktype 101", "ipv4(flags=MF, id=5) / udp(sport=1, dport=2, length=40) / \"0123456789abcdefghijklmnopqrstuv\""),
    ("raw_ipv6_frag_later", "linktype 101", "ipv6 / ipv6_frag(next=udp, offset=2, id=5) / \"0123456789abcdef\""),
]
# DNS and DHCP: counted lists, names (compressed too, by hand below), lists ending at `end`.
DNS_RECORDS = ('an=[rr("example.com", a, ttl=300, addr=93.184.216.34), rr("example.com", aaaa, addr6=2001:db8::1), '
               'rr("www.example.com", cname, target="example.com"), rr("example.com", mx, pref=10, exchange="mail.example.com"), '
               'rr("example.com", txt, strings=["hello"]), rr("example.com", srv, rdata=hex"00010002000300")], '
               'ns=[rr("example.com", ns, target="ns1.example.com")], ar=[rr("1.0.0.127.in-addr.arpa", ptr, target="localhost")]')
NEW_PACKETS = [
    ("raw_ipv4_udp_dns_query", "linktype 101", "ipv4 / udp(sport=5353, dport=53) / dns(id=0x1234, qd=[question(\"example.com\", a)])"),
    ("raw_ipv4_udp_dns_response", "linktype 101",
     "ipv4 / udp(sport=53, dport=5353) / dns(id=0x1234, qr=response, qd=[question(\"example.com\", a)], " + DNS_RECORDS + ")"),
    ("dns_alone", "dns", "dns(qd=[question(\"a.b\", aaaa), question(\".\", any)])"),
    ("raw_ipv4_udp_dhcp_discover", "linktype 101", "ipv4(src=0.0.0.0, dst=255.255.255.255) / udp(sport=68, dport=67) / "
     "bootp(chaddr=02:00:00:00:00:01, xid=0x1234) / dhcp(options=[msgtype(discover), param_req_list(1, 3, 6), end])"),
    ("bootp_alone", "bootp", "bootp(op=reply, xid=7) / dhcp(options=[msgtype(offer), server_id(10.0.0.1), lease_time(60), "
     "requested_addr(10.0.0.5), unknown(12, \"host\"), pad, end], trailer=hex\"0000\")"),
    ("dhcp_alone", "dhcp", "dhcp(options=[msgtype(ack), end])"),
    ("raw_ipv4_tcp_dns_tcp", "linktype 101", "ipv4 / tcp(sport=53, dport=40000, flags=PSH|ACK) / dns_tcp() / "
     "dns(id=7, qr=response, qd=[question(\"example.com\", a)], an=[rr(\"example.com\", a, addr=1.2.3.4)])"),
    ("dns_tcp_alone", "dns_tcp", "dns_tcp() / dns(qd=[question(\"x.y\", mx)])"),
]
PACKETS += NEW_PACKETS

# Hand-made damaged packets: (name, first layer, hex).
ETH = "020000000002" "020000000001"
DAMAGED = [
    ("ipv4_ihl_too_big", "linktype 1", ETH + "0800" + "4f00002800010000400600000a0000010a000002"),
    ("ipv4_ihl_too_small", "linktype 1", ETH + "0800" + "4200002800010000400600000a0000010a000002"),
    ("ipv4_length_too_big", "linktype 101", "4500ffff00010000401100007f0000017f000001003500350008ffff"),
    ("ipv4_length_too_small", "linktype 101", "4500000400010000401100007f0000017f000001003500350008ffff"),
    ("ipv4_opt_len_zero", "linktype 101", "4600001c000100004001000000000000000000000700000000000000"),
    ("ipv4_opt_len_huge", "linktype 101", "4600001c0001000040010000000000000000000007ff04000000000000"),
    ("tcp_offset_15", "tcp", "00140050000000000000000000f0022000000000" + "02"),
    ("tcp_offset_0", "tcp", "001400500000000000000000000002200000000000"),
    ("tcp_opt_len_1", "tcp", "00140050000000000000000060022000000000000201ffff"),
    ("tcp_opt_sack_odd", "tcp", "0014005000000000000000007002200000000000050701020304050000"),
    ("udp_length_short", "udp", "0035003500040000aabbcc"),
    ("udp_length_long", "udp", "003500350fff0000aabbcc"),
    ("ipv6_length_too_big", "linktype 229", "60000000ffff11400000000000000000000000000000000100000000000000000000000000000001"),
    ("ipv6_hop_hlen_huge", "ipv6_hop", "06ff0000000000000000"),
    ("ipv6_hop_opt_overrun", "ipv6_hop", "3b000120000000000000"),
    ("ipv6_route_short", "ipv6_route", "3b01000000"),
    ("ipv6_version_5", "linktype 101", "5000000000003b40"),
    ("arp_short", "arp", "000108000604000102"),
    ("one_byte", "linktype 101", "45"),
    ("icmpv6_nd_opt_len_zero", "linktype 101", "6000000000183aff00000000000000000000000000000001ff0200000000000000000001ff000002870000000000000000000000000000000000000000000000000100000000000000"),
    ("igmp_v3_nsrc_huge", "linktype 101", "46c000240001000001020000c0000201e0000016940400002200000000000001" + "01 00 ffff ef010101".replace(" ", "")),
    ("gre_key_cut", "linktype 101", "4500001c00010000402f0000000000000000000020000800000012"),
    ("sctp_chunk_len_zero", "sctp", "00010002000000000000000000000000" "00000000" "0700000800000001"),
    ("sctp_chunk_len_huge", "sctp", "000100020000000000000000" "0003ffff00000000"),
    ("sctp_data_len_short", "sctp", "000100020000000000000000" "0003000800000000"),
    ("dns_compressed", "dns", "123481800001000100000000076578616d706c6503636f6d0000010001c00c000100010000012c00045db8d822"),
    ("dns_pointer_loop", "dns", "123481800001000000000000c00c00010001"),
    ("dns_pointer_forward", "dns", "123481800001000000000000c00e00010001c00c"),
    ("dns_pointer_chain", "dns", "1234818000010001000000000161c00c00010001" + "c00e000100010000000000040a000001"),
    ("dns_label_64", "dns", "123401000001000000000000" + "40" + "61" * 64 + "0000010001"),
    ("dns_count_huge", "dns", "1234818000ffffffffffffff00"),
    ("dns_rdlen_wrong", "dns", "1234818000000001000000000000010001000000000004c000"),
    ("dhcp_no_end", "dhcp", "63825363350101"),
    ("dns_tcp_length_long", "dns_tcp", "ffff1234"),
    ("dhcp_option_overrun", "dhcp", "6382536335ff01"),
]


def build_hex(pkt, expr):
    r = subprocess.run([pkt, "build", "-e", expr, "--format", "hex"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"make_corpus: {expr}: {r.stderr.strip()}")
    return r.stdout.strip()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    pkt, fuzz = sys.argv[1:]
    table = subprocess.run([fuzz], env={**os.environ, "PKT_FUZZ_CHOICES": "1"}, capture_output=True, text=True,
                           check=True).stdout
    sel = {}
    for line in table.splitlines():
        i, name = line.split(" ", 1)
        sel[name] = int(i)
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if not f.startswith("bug-"):
            os.remove(os.path.join(OUT, f))

    def write(name, first, data):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([sel[first]]) + data)

    # Every link type the stdlib binds (and the selector table offers) has a seed.
    seeded = {first for _, first, _ in PACKETS + DAMAGED}
    missing = [name for name in sel if name.startswith("linktype ") and name not in seeded]
    if missing:
        sys.exit(f"make_corpus: no seed for {', '.join(missing)}: add one to PACKETS")
    n = 0
    for name, first, expr in PACKETS:
        data = bytes.fromhex(build_hex(pkt, expr))
        write(name, first, data)
        n += 1
    # Truncated copies of a few: cut inside each header.
    for name, first, expr in PACKETS[:6] + PACKETS[14:22] + NEW_PACKETS:
        data = bytes.fromhex(build_hex(pkt, expr))
        for cut in (len(data) // 3, len(data) * 2 // 3, len(data) - 1):
            write(f"{name}.cut{cut}", first, data[:cut])
            n += 1
    for name, first, hx in DAMAGED:
        write(name, first, bytes.fromhex(hx))
        n += 1
    print(f"make_corpus: {n} files in {OUT}")


main()
