#!/usr/bin/python3
"""VLAN, MPLS, GRE, VXLAN, NTP, IGMP, ICMP errors and ICMPv6 neighbour
discovery (stdlib/15-vlan.pkt, 30-transport.pkt, 35-tunnel.pkt,
40-app.pkt) against scapy and tshark, and through `pkt read`.

For each case, a pkt expression and the scapy packet it must equal, and the
fields to compare (pkt layer.field, scapy Class.field, tshark field):
  1. `pkt build --format hex` equals bytes(scapy packet);
  2. tshark dissects a pcap of every built packet with no malformed packet
     and no expert item of warning or error severity (so every checksum it
     can verify is good), and its fields equal the values pkt set;
  3. a pcap that scapy writes (wrpcap) reads back with `pkt read`: the
     expression's layers, no notes, the same field values as scapy's
     dissection of its own bytes, and --format pkt text that builds the same
     bytes.

`encap_control.py --golden` prints, for each case, the scapy command and
its bytes, the source of the golden vectors in tests/test_layers.cpp.

Usage: encap_control.py [PKT] [--keep DIR] [--golden]
"""
import argparse
import ipaddress
import logging
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import readutil as ru  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ARP, GRE, ICMP, IP, UDP, Dot1AD, Dot1Q, Ether, ICMPv6DestUnreach,  # noqa: E402
                       ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_Redirect, ICMPv6ND_RS,
                       ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptUnknown, ICMPv6PacketTooBig, ICMPv6ParamProblem, ICMPv6TimeExceeded, IPv6,
                       IPerror, UDPerror, IPerror6, wrpcap, raw)
from scapy.contrib.igmp import IGMP  # noqa: E402
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3gr, IGMPv3mr  # noqa: E402
from scapy.contrib.mpls import MPLS  # noqa: E402
from scapy.layers.ntp import NTPHeader  # noqa: E402
from scapy.layers.vxlan import VXLAN  # noqa: E402

E = "eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02)"
M1, M2 = "02:00:00:00:00:01", "02:00:00:00:00:02"


def eth(**kw):
    return Ether(src=M1, dst=M2, **kw)


def ip4(**kw):
    kw.setdefault("src", "127.0.0.1")
    kw.setdefault("dst", "127.0.0.1")
    return IP(**kw)


def ip6(**kw):
    kw.setdefault("src", "::1")
    kw.setdefault("dst", "::1")
    return IPv6(**kw)


class Case:
    """`fields`: (pkt layer index, pkt field, scapy layer class, scapy field, tshark field or None)."""

    def __init__(self, layer, expr, scapy_pkt, fields=(), first="ipv4", malformed_ok=None):
        self.layer, self.expr, self.scapy, self.fields = layer, expr, scapy_pkt, list(fields)
        self.malformed_ok = malformed_ok  # why tshark may call this one malformed (it is, on purpose)
        self.first = "eth" if expr.startswith("eth") else first


C = Case
CASES = [
    # ---- dot1q -----------------------------------------------------------------
    C("dot1q", E + " / dot1q()", eth() / Dot1Q(),
      [(1, "vid", Dot1Q, "vlan", "vlan.id"), (1, "pcp", Dot1Q, "prio", "vlan.priority")],
      malformed_ok="type 0 (scapy's default too) is an 802.3 length: tshark expects an LLC header after the tag"),
    C("dot1q", E + " / dot1q(vid=100, pcp=3) / ipv4(dst=127.0.0.1) / udp()",
      eth() / Dot1Q(vlan=100, prio=3) / ip4() / UDP(),
      [(1, "vid", Dot1Q, "vlan", "vlan.id"), (1, "pcp", Dot1Q, "prio", "vlan.priority"),
       (1, "type", Dot1Q, "type", "vlan.etype")]),
    C("dot1q", E + " / dot1q(pcp=7, dei=1, vid=4094, type=0x86dd) / ipv6(src=::1, dst=::1) / udp(sport=1, dport=2) / \"v6\"",
      eth() / Dot1Q(prio=7, id=1, vlan=4094, type=0x86dd) / ip6() / UDP(sport=1, dport=2) / b"v6",
      [(1, "vid", Dot1Q, "vlan", "vlan.id"), (1, "pcp", Dot1Q, "prio", "vlan.priority"),
       (1, "dei", Dot1Q, "id", "vlan.dei")]),
    C("dot1q", "eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02, type=0x88a8) / dot1q(vid=10) / dot1q(vid=20)"
      " / arp(op=request, sha=02:00:00:00:00:01, spa=192.0.2.1, tpa=192.0.2.2)",
      eth(type=0x88a8) / Dot1AD(vlan=10) / Dot1Q(vlan=20) / ARP(hwsrc=M1, psrc="192.0.2.1", hwdst="00:00:00:00:00:00",
                                                               pdst="192.0.2.2"),
      [(1, "vid", Dot1AD, "vlan", None), (2, "vid", Dot1Q, "vlan", None), (1, "type", Dot1AD, "type", None)]),
    # ---- mpls ------------------------------------------------------------------
    C("mpls", E + " / mpls() / ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=7, dport=9)",
      eth() / MPLS(ttl=64) / ip4(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=7, dport=9),
      [(1, "label", MPLS, "label", "mpls.label"), (1, "s", MPLS, "s", "mpls.bottom"), (1, "ttl", MPLS, "ttl", "mpls.ttl")]),
    C("mpls", E + " / mpls(label=100) / mpls(label=200, ttl=5) / ipv4(dst=127.0.0.1) / udp(sport=7, dport=9)",
      eth() / MPLS(label=100, ttl=64) / MPLS(label=200, ttl=5) / ip4() / UDP(sport=7, dport=9),
      [(1, "label", MPLS, "label", "mpls.label"), (1, "s", MPLS, "s", "mpls.bottom")]),
    C("mpls", E + " / mpls(label=0xfffff, tc=7, s=1, ttl=1) / ipv6(src=::1, dst=::1) / udp(sport=7, dport=9)",
      eth() / MPLS(label=0xfffff, cos=7, s=1, ttl=1) / ip6() / UDP(sport=7, dport=9),
      [(1, "label", MPLS, "label", "mpls.label"), (1, "tc", MPLS, "cos", "mpls.exp"), (1, "ttl", MPLS, "ttl", "mpls.ttl")]),
    # ---- gre -------------------------------------------------------------------
    C("gre", "ipv4(src=192.0.2.1, dst=192.0.2.2) / gre()", ip4(src="192.0.2.1", dst="192.0.2.2") / GRE(),
      [(1, "proto", GRE, "proto", "gre.proto")]),
    C("gre", "ipv4(src=192.0.2.1, dst=192.0.2.2) / gre(key=0x1234, seq=7) / ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=1, dport=2)",
      ip4(src="192.0.2.1", dst="192.0.2.2") / GRE(key_present=1, key=0x1234, seqnum_present=1, sequence_number=7)
      / ip4(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2),
      [(1, "key", GRE, "key", "gre.key"), (1, "seq", GRE, "sequence_number", "gre.sequence_number"),
       (1, "k", GRE, "key_present", "gre.flags.key"), (1, "s", GRE, "seqnum_present", "gre.flags.sequence_number")]),
    C("gre", "ipv4(src=192.0.2.1, dst=192.0.2.2) / gre(c=1) / " + E + " / ipv4(src=10.0.0.1, dst=10.0.0.2) / icmp(id=1, seq=2)",
      ip4(src="192.0.2.1", dst="192.0.2.2") / GRE(chksum_present=1, proto=0x6558) / eth()
      / ip4(src="10.0.0.1", dst="10.0.0.2") / ICMP(id=1, seq=2),
      [(1, "c", GRE, "chksum_present", "gre.flags.checksum"), (1, "checksum", GRE, "chksum", "gre.checksum"),
       (1, "proto", GRE, "proto", "gre.proto")]),
    C("gre", "ipv6(src=::1, dst=::1) / gre(c=1, reserved1=5, key=0xffffffff, seq=0x01020304, proto=0x86dd)"
      " / ipv6(src=fd00::1, dst=fd00::2) / udp(sport=3, dport=4) / \"gre\"",
      ip6() / GRE(chksum_present=1, offset=5, key_present=1, key=0xffffffff, seqnum_present=1,
                  sequence_number=0x01020304, proto=0x86dd) / IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=3, dport=4)
      / b"gre",
      [(1, "key", GRE, "key", "gre.key"), (1, "reserved1", GRE, "offset", None)], first="ipv6"),
    # ---- vxlan -----------------------------------------------------------------
    # scapy marks a VXLAN header above Ethernet with VXLAN-GPE's next protocol
    # (flags 0x0c, NextProtocol=3); RFC 7348's header has the I flag only.
    C("vxlan", "ipv4(src=192.0.2.1, dst=192.0.2.2) / udp(sport=49152) / vxlan() / " + E + " / arp()",
      ip4(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=49152, dport=4789) / VXLAN(flags=0x08) / eth()
      / ARP(hwsrc="00:00:00:00:00:00", psrc="0.0.0.0", hwdst="00:00:00:00:00:00", pdst="0.0.0.0"),
      [(2, "vni", VXLAN, "vni", "vxlan.vni"), (2, "flags", VXLAN, "flags", None)]),
    C("vxlan", "ipv4(src=192.0.2.1, dst=192.0.2.2) / udp(sport=49152) / vxlan(vni=42) / " + E
      + " / ipv4(src=10.0.0.1, dst=10.0.0.2) / icmp(id=3, seq=4) / \"inner\"",
      ip4(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=49152, dport=4789) / VXLAN(flags=0x08, vni=42) / eth()
      / ip4(src="10.0.0.1", dst="10.0.0.2") / ICMP(id=3, seq=4) / b"inner",
      [(2, "vni", VXLAN, "vni", "vxlan.vni")]),
    C("vxlan", "ipv4(src=192.0.2.1, dst=192.0.2.2) / udp(sport=1000, dport=4789) / vxlan(flags=I, reserved1=0x123456,"
      " vni=0xffffff, reserved2=0xab) / " + E + " / arp(sha=02:00:00:00:00:01, spa=10.0.0.1, tpa=10.0.0.2)",
      ip4(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=1000, dport=4789)
      / VXLAN(flags=0x08, reserved1=0x123456, vni=0xffffff, reserved2=0xab) / eth()
      / ARP(hwsrc=M1, psrc="10.0.0.1", hwdst="00:00:00:00:00:00", pdst="10.0.0.2"),
      [(2, "vni", VXLAN, "vni", "vxlan.vni"), (2, "reserved2", VXLAN, "reserved2", None)]),
    # ---- ntp ----  (scapy's timestamps are NTP seconds, fractions as float; its defaults are the time now)
    # -------------------------------------------------------------------
    C("ntp", "ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=123) / ntp()",
      ip4() / UDP(sport=123, dport=123) / NTPHeader(stratum=0, poll=10, id="0.0.0.0", orig=0, sent=0),
      [(2, "mode", NTPHeader, "mode", "ntp.flags.mode"), (2, "version", NTPHeader, "version", "ntp.flags.vn"),
       (2, "poll", NTPHeader, "poll", "ntp.ppoll")]),
    C("ntp", "ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=123, dport=40000) / ntp(leap=unsynchronized, mode=server,"
      " stratum=2, poll=6, precision=-23, root_delay=0x00000123, root_disp=0x00000456, ref_id=0xc0000201,"
      " ref_ts=0xe9a1b2c300000000, orig_ts=0xe9a1b2c480000000, recv_ts=0xe9a1b2c400000000, xmit_ts=0xe9a1b2c4c0000000)",
      ip4() / UDP(sport=123, dport=40000) / NTPHeader(
          leap=3, mode=4, stratum=2, poll=6, precision=-23, delay=0x123 / 65536, dispersion=0x456 / 65536,
          id="192.0.2.1", ref=0xe9a1b2c3, orig=0xe9a1b2c4 + 0.5, recv=0xe9a1b2c4, sent=0xe9a1b2c4 + 0.75),
      [(2, "stratum", NTPHeader, "stratum", "ntp.stratum"), (2, "mode", NTPHeader, "mode", "ntp.flags.mode"),
       (2, "leap", NTPHeader, "leap", "ntp.flags.li")]),
    C("ntp", "ipv6(src=::1, dst=::1) / udp(sport=123, dport=123) / ntp(version=3, mode=symmetric_active, stratum=16,"
      " xmit_ts=0x0000000100000000)",
      ip6() / UDP(sport=123, dport=123) / NTPHeader(version=3, mode=1, stratum=16, poll=10, id="0.0.0.0", orig=0,
                                                    sent=1),
      [(2, "stratum", NTPHeader, "stratum", "ntp.stratum"), (2, "version", NTPHeader, "version", "ntp.flags.vn")],
      first="ipv6"),
    # ---- igmp ------------------------------------------------------------------
    C("igmp", "ipv4(src=192.0.2.1, dst=224.0.0.1) / igmp()", ip4(src="192.0.2.1", dst="224.0.0.1") / IGMP(mrcode=0),
      [(1, "type", IGMP, "type", "igmp.type"), (1, "group", IGMP, "gaddr", None)]),
    C("igmp", "ipv4(src=192.0.2.1, dst=239.1.2.3) / igmp(type=report_v2, mrt=0, group=239.1.2.3)",
      ip4(src="192.0.2.1", dst="239.1.2.3", ttl=1) / IGMP(type=0x16, mrcode=0, gaddr="239.1.2.3"),
      [(1, "type", IGMP, "type", "igmp.type"), (1, "group", IGMP, "gaddr", "igmp.maddr")]),
    C("igmp", "ipv4(src=192.0.2.1, dst=224.0.0.2) / igmp(type=leave, mrt=100, group=239.1.2.3)",
      ip4(src="192.0.2.1", dst="224.0.0.2", ttl=1) / IGMP(type=0x17, mrcode=100, gaddr="239.1.2.3"),
      [(1, "mrt", IGMP, "mrcode", None), (1, "group", IGMP, "gaddr", "igmp.maddr")]),
    C("igmp", "ipv4(src=192.0.2.1, dst=224.0.0.22, tos=0xc0) / igmp(type=report_v3, numrec=3, records=[is_include(239.1.1.1,"
      " 192.0.2.1, 192.0.2.2), to_exclude(239.2.2.2), allow(239.3.3.3, 192.0.2.3)])",
      ip4(src="192.0.2.1", dst="224.0.0.22", ttl=1) / IGMPv3(type=0x22, mrcode=0) / IGMPv3mr(records=[
          IGMPv3gr(rtype=1, maddr="239.1.1.1", srcaddrs=["192.0.2.1", "192.0.2.2"]),
          IGMPv3gr(rtype=4, maddr="239.2.2.2"), IGMPv3gr(rtype=5, maddr="239.3.3.3", srcaddrs=["192.0.2.3"])]),
      [(1, "numrec", IGMPv3mr, "numgrp", "igmp.num_grp_recs")]),
    # ---- icmp ------------------------------------------------------------------
    C("icmp", "ipv4(dst=127.0.0.1) / icmp(type=dest_unreach, code=port_unreach) / ipv4(src=127.0.0.1, dst=127.0.0.1)"
      " / udp(sport=4000, dport=33434)",
      ip4() / ICMP(type=3, code=3) / ip4() / UDP(sport=4000, dport=33434),
      [(1, "type", ICMP, "type", "icmp.type"), (1, "code", ICMP, "code", "icmp.code")]),
    C("icmp", "ipv4(dst=127.0.0.1) / icmp(type=echo_request, id=7, seq=1) / \"ping\"",
      ip4() / ICMP(type=8, id=7, seq=1) / b"ping",
      [(1, "id", ICMP, "id", "icmp.ident"), (1, "seq", ICMP, "seq", "icmp.seq")]),
    C("icmp", "ipv4(src=192.0.2.254, dst=192.0.2.1) / icmp(type=dest_unreach, code=frag_needed, length=7, mtu=1400)"
      " / ipv4(src=192.0.2.1, dst=198.51.100.7, flags=DF) / udp(sport=5000, dport=6000) / \"x\"",
      ip4(src="192.0.2.254", dst="192.0.2.1") / ICMP(type=3, code=4, length=7, nexthopmtu=1400)
      / ip4(src="192.0.2.1", dst="198.51.100.7", flags="DF") / UDP(sport=5000, dport=6000) / b"x",
      [(1, "mtu", ICMP, "nexthopmtu", "icmp.mtu"), (1, "code", ICMP, "code", "icmp.code")]),
    C("icmp", "ipv4(src=192.0.2.254, dst=192.0.2.1) / icmp(type=time_exceeded, code=ttl_exceeded)"
      " / ipv4(src=192.0.2.1, dst=198.51.100.7, ttl=1) / udp(sport=33000, dport=33434)",
      ip4(src="192.0.2.254", dst="192.0.2.1") / ICMP(type=11, code=0) / ip4(src="192.0.2.1", dst="198.51.100.7", ttl=1)
      / UDP(sport=33000, dport=33434),
      [(1, "type", ICMP, "type", "icmp.type")]),
    C("icmp", "ipv4(src=192.0.2.254, dst=192.0.2.1) / icmp(type=redirect, code=1, gateway=192.0.2.253)"
      " / ipv4(src=192.0.2.1, dst=198.51.100.7) / udp(sport=1, dport=2)",
      ip4(src="192.0.2.254", dst="192.0.2.1") / ICMP(type=5, code=1, gw="192.0.2.253")
      / ip4(src="192.0.2.1", dst="198.51.100.7") / UDP(sport=1, dport=2),
      [(1, "gateway", ICMP, "gw", "icmp.redir_gw")]),
    C("icmp", "ipv4(src=192.0.2.254, dst=192.0.2.1) / icmp(type=param_problem, pointer=20, length=6, unused=0)"
      " / ipv4(src=192.0.2.1, dst=198.51.100.7) / udp(sport=1, dport=2)",
      ip4(src="192.0.2.254", dst="192.0.2.1") / ICMP(type=12, ptr=20, length=6)
      / ip4(src="192.0.2.1", dst="198.51.100.7") / UDP(sport=1, dport=2),
      [(1, "pointer", ICMP, "ptr", "icmp.pointer")]),
    C("icmp", "ipv4(src=192.0.2.1, dst=192.0.2.2) / icmp(type=timestamp_request, id=9, seq=10, ts_ori=1000, ts_rx=2000,"
      " ts_tx=3000)",
      ip4(src="192.0.2.1", dst="192.0.2.2") / ICMP(type=13, id=9, seq=10, ts_ori=1000, ts_rx=2000, ts_tx=3000),
      [(1, "ts_ori", ICMP, "ts_ori", "icmp.originate_timestamp"), (1, "id", ICMP, "id", "icmp.ident")]),
    C("icmp", "ipv4(src=192.0.2.254, dst=192.0.2.1) / icmp(type=source_quench) / ipv4(src=192.0.2.1, dst=198.51.100.7)"
      " / udp(sport=1, dport=2)",
      ip4(src="192.0.2.254", dst="192.0.2.1") / ICMP(type=4) / ip4(src="192.0.2.1", dst="198.51.100.7")
      / UDP(sport=1, dport=2),
      [(1, "type", ICMP, "type", "icmp.type")]),
    # ---- icmpv6 errors -----------------------------------------------------------
    C("icmpv6", "ipv6(src=2001:db8::fe, dst=2001:db8::1) / icmpv6(type=dest_unreach, code=4)"
      " / ipv6(src=2001:db8::1, dst=2001:db8::2) / udp(sport=4000, dport=33434)",
      IPv6(src="2001:db8::fe", dst="2001:db8::1") / ICMPv6DestUnreach(code=4)
      / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=4000, dport=33434),
      [(1, "type", ICMPv6DestUnreach, "type", "icmpv6.type"), (1, "code", ICMPv6DestUnreach, "code", "icmpv6.code")],
      first="ipv6"),
    C("icmpv6", "ipv6(src=2001:db8::fe, dst=2001:db8::1) / icmpv6(type=packet_too_big, mtu=1400)"
      " / ipv6(src=2001:db8::1, dst=2001:db8::2) / udp(sport=4000, dport=33434) / \"big\"",
      IPv6(src="2001:db8::fe", dst="2001:db8::1") / ICMPv6PacketTooBig(mtu=1400)
      / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=4000, dport=33434) / b"big",
      [(1, "mtu", ICMPv6PacketTooBig, "mtu", "icmpv6.mtu")], first="ipv6"),
    C("icmpv6", "ipv6(src=2001:db8::fe, dst=2001:db8::1) / icmpv6(type=time_exceeded, code=1, length=0)"
      " / ipv6(src=2001:db8::1, dst=2001:db8::2, hlim=1) / udp(sport=1, dport=2)",
      IPv6(src="2001:db8::fe", dst="2001:db8::1") / ICMPv6TimeExceeded(code=1)
      / IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=1) / UDP(sport=1, dport=2),
      [(1, "code", ICMPv6TimeExceeded, "code", "icmpv6.code")], first="ipv6"),
    C("icmpv6", "ipv6(src=2001:db8::fe, dst=2001:db8::1) / icmpv6(type=param_problem, code=1, pointer=40)"
      " / ipv6(src=2001:db8::1, dst=2001:db8::2) / udp(sport=1, dport=2)",
      IPv6(src="2001:db8::fe", dst="2001:db8::1") / ICMPv6ParamProblem(code=1, ptr=40)
      / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=1, dport=2),
      [(1, "pointer", ICMPv6ParamProblem, "ptr", "icmpv6.pointer")], first="ipv6"),
    C("icmpv6", "ipv6(src=::1, dst=::1) / icmpv6(id=1, seq=2) / \"echo\"",
      ip6() / ICMPv6EchoRequest(id=1, seq=2) / b"echo",
      [(1, "id", ICMPv6EchoRequest, "id", "icmpv6.echo.identifier")], first="ipv6"),
    # ---- neighbour discovery ---------------------------------------------------------
    C("icmpv6_ns", "ipv6(src=::1, dst=ff02::1:ff00:2) / icmpv6_ns(target=fe80::2, options=[slla(02:00:00:00:00:01)])",
      IPv6(src="::1", dst="ff02::1:ff00:2") / ICMPv6ND_NS(tgt="fe80::2") / ICMPv6NDOptSrcLLAddr(lladdr=M1),
      [(1, "target", ICMPv6ND_NS, "tgt", "icmpv6.nd.ns.target_address"),
       (0, "hlim", IPv6, "hlim", "ipv6.hlim")], first="ipv6"),
    C("icmpv6_ns", "ipv6(src=::, dst=ff02::1:ff00:2) / icmpv6_ns()",
      IPv6(src="::", dst="ff02::1:ff00:2") / ICMPv6ND_NS(), [(1, "target", ICMPv6ND_NS, "tgt", None)], first="ipv6"),
    C("icmpv6_ns", "ipv6(src=fe80::1, dst=fe80::2) / icmpv6_ns(code=0, reserved=7, target=fe80::2,"
      " options=[slla(02:00:00:00:00:01), unknown(99, hex\"010203040506\")])",
      IPv6(src="fe80::1", dst="fe80::2") / ICMPv6ND_NS(res=7, tgt="fe80::2") / ICMPv6NDOptSrcLLAddr(lladdr=M1)
      / ICMPv6NDOptUnknown(type=99, len=1, data=b"\x01\x02\x03\x04\x05\x06"),
      [(1, "reserved", ICMPv6ND_NS, "res", None)], first="ipv6"),
    C("icmpv6_na", "ipv6(src=fe80::2, dst=fe80::1) / icmpv6_na(r=0, s=1, o=1, target=fe80::2,"
      " options=[tlla(02:00:00:00:00:02)])",
      IPv6(src="fe80::2", dst="fe80::1") / ICMPv6ND_NA(R=0, S=1, O=1, tgt="fe80::2") / ICMPv6NDOptDstLLAddr(lladdr=M2),
      [(1, "target", ICMPv6ND_NA, "tgt", "icmpv6.nd.na.target_address"), (1, "s", ICMPv6ND_NA, "S", None)],
      first="ipv6"),
    C("icmpv6_na", "ipv6(src=fe80::2, dst=ff02::1) / icmpv6_na()",
      IPv6(src="fe80::2", dst="ff02::1") / ICMPv6ND_NA(), [(1, "r", ICMPv6ND_NA, "R", None)], first="ipv6"),
    C("icmpv6_rs", "ipv6(src=fe80::1, dst=ff02::2) / icmpv6_rs(options=[slla(02:00:00:00:00:01)])",
      IPv6(src="fe80::1", dst="ff02::2") / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=M1), [], first="ipv6"),
    C("icmpv6_rs", "ipv6(src=::, dst=ff02::2) / icmpv6_rs()", IPv6(src="::", dst="ff02::2") / ICMPv6ND_RS(), [],
      first="ipv6"),
    C("icmpv6_ra", "ipv6(src=fe80::1, dst=ff02::1) / icmpv6_ra()", IPv6(src="fe80::1", dst="ff02::1") / ICMPv6ND_RA(prf=0),
      [(1, "lifetime", ICMPv6ND_RA, "routerlifetime", "icmpv6.nd.ra.router_lifetime")], first="ipv6"),
    C("icmpv6_ra", "ipv6(src=fe80::1, dst=ff02::1) / icmpv6_ra(hlim=64, m=1, o=1, prf=high, lifetime=600,"
      " reachable=30000, retrans=1000, options=[slla(02:00:00:00:00:01), mtu(1500), prefix(2001:db8::, 64)])",
      IPv6(src="fe80::1", dst="ff02::1") / ICMPv6ND_RA(chlim=64, M=1, O=1, prf=1, routerlifetime=600,
                                                       reachabletime=30000, retranstimer=1000)
      / ICMPv6NDOptSrcLLAddr(lladdr=M1) / ICMPv6NDOptMTU(mtu=1500) / ICMPv6NDOptPrefixInfo(prefix="2001:db8::"),
      [(1, "hlim", ICMPv6ND_RA, "chlim", "icmpv6.nd.ra.cur_hop_limit"),
       (1, "reachable", ICMPv6ND_RA, "reachabletime", "icmpv6.nd.ra.reachable_time")], first="ipv6"),
    C("icmpv6_redirect", "ipv6(src=fe80::1, dst=fe80::2) / icmpv6_redirect(target=fe80::3, dst=2001:db8::9,"
      " options=[tlla(02:00:00:00:00:03)])",
      IPv6(src="fe80::1", dst="fe80::2") / ICMPv6ND_Redirect(tgt="fe80::3", dst="2001:db8::9")
      / ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:03"),
      [(1, "target", ICMPv6ND_Redirect, "tgt", None), (1, "dst", ICMPv6ND_Redirect, "dst", None)], first="ipv6"),
    C("icmpv6_redirect", "ipv6(src=fe80::1, dst=fe80::2) / icmpv6_redirect()",
      IPv6(src="fe80::1", dst="fe80::2") / ICMPv6ND_Redirect(), [], first="ipv6"),
]

TSHARK_PREFS = ["-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"]


def command(p):
    try:
        return p.command()
    except TypeError:  # scapy cannot print some values it fills in itself (NTP timestamps)
        return repr(p)


def norm(v):
    """A value as pkt's JSON, scapy or tshark gives it, made comparable."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if hasattr(v, "value") and isinstance(getattr(v, "value"), int):  # scapy flag values
        return int(v)
    s = str(v).strip()
    if s in ("True", "False"):
        return int(s == "True")
    try:
        return int(s, 0)
    except ValueError:
        pass
    try:
        return str(ipaddress.ip_address(s))
    except ValueError:
        return s.lower()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pkt", nargs="?")
    ap.add_argument("--keep", help="keep the generated files in this directory")
    ap.add_argument("--golden", action="store_true", help="print each case's scapy bytes (for tests/test_layers.cpp)")
    args = ap.parse_args()
    if args.golden:
        for c in CASES:
            print("%s\n  pkt:   %s\n  scapy: %s\n  %s" % (c.layer, c.expr, command(c.scapy), raw(c.scapy).hex()))
        return 0
    if not shutil.which("tshark"):
        print("tshark not found")
        return 1
    pkt = ru.pkt_path(args.pkt)
    tmpdir = args.keep or tempfile.mkdtemp(prefix="pkt-encap-")
    os.makedirs(tmpdir, exist_ok=True)
    fail = ru.Failures()

    try:
        # 1. bytes against scapy.
        built = []
        for i, c in enumerate(CASES):
            want = raw(c.scapy).hex()
            got, r = ru.build_hex(pkt, c.expr)
            built.append(bytes.fromhex(got) if got else None)
            if got != want:
                fail("case %d (%s): pkt and scapy differ" % (i, c.layer), "pkt:   " + c.expr,
                     "scapy: " + command(c.scapy), "pkt   hex: %s" % (got if got is not None else r.describe()),
                     "scapy hex: " + want)
        scapy_ok = len(CASES) - fail.count

        # 2. tshark on pkt's pcaps; 3. pkt read of scapy's pcaps. One pcap per first layer.
        tshark_values = pkt_values = rebuilt = 0
        for first, linktype in (("eth", 1), ("ipv4", 101), ("ipv6", 101)):
            idx = [i for i, c in enumerate(CASES) if c.first == first and built[i] is not None]
            if not idx:
                continue
            pcap, r = ru.build_pcap(pkt, tmpdir, "pkt_%s" % first, [CASES[i].expr for i in idx])
            if r.rc != 0:
                fail("pkt build --format pcap failed", r.describe())
                continue
            tfields = sorted({fl[4] for i in idx for fl in CASES[i].fields if fl[4]})
            cmd = ["tshark", "-n", "-r", pcap] + TSHARK_PREFS + ["-T", "fields", "-E", "separator=\t", "-E",
                                                                 "occurrence=f", "-e", "_ws.malformed", "-e",
                                                                 "_ws.expert.severity", "-e", "_ws.expert.message"]
            for fld in tfields:
                cmd += ["-e", fld]
            r = ru.run(cmd)
            rows = [line.split("\t") for line in r.out.splitlines()]
            if r.rc != 0 or len(rows) != len(idx):
                fail("tshark read %d frames of %d" % (len(rows), len(idx)), r.describe())
            else:
                for i, row in zip(idx, rows):
                    c = CASES[i]
                    malformed, severity, message = row[0], row[1], row[2]
                    # Severities: chat 0x200000, note 0x400000, warn 0x600000, error 0x800000.
                    if (malformed or (severity and int(severity, 0) >= 0x600000)) and not c.malformed_ok:
                        fail("case %d (%s): tshark: malformed %r, expert %s %r" % (i, c.layer, malformed, severity,
                                                                                     message), c.expr)
                    values = dict(zip(tfields, row[3:]))
                    pl = c.scapy.__class__(raw(c.scapy))
                    for li, pf, scls, sf, tf in c.fields:
                        if not tf:
                            continue
                        want = norm(getattr(pl[scls], sf))
                        got = norm(values.get(tf, ""))
                        tshark_values += 1
                        if got != want:
                            fail("case %d (%s): tshark %s = %r, pkt set %s = %r" % (i, c.layer, tf, got, pf, want),
                                 c.expr)
            # scapy writes, pkt reads.
            spcap = os.path.join(tmpdir, "scapy_%s.pcap" % first)
            wrpcap(spcap, [CASES[i].scapy for i in idx], linktype=linktype)
            back = ru.read_back(pkt, spcap, len(idx), fail, "pkt read of scapy's pcap")
            if back is None:
                continue
            jsons, texts = back
            for i, js, (_, text) in zip(idx, jsons, texts):
                c = CASES[i]
                names = [l["layer"] for l in js["layers"]]
                if names != ru.expr_layer_names(c.expr) or js.get("notes"):
                    fail("case %d (%s): read as layers %s (notes %s), built from %s" % (
                        i, c.layer, names, js.get("notes"), ru.expr_layer_names(c.expr)), c.expr)
                    continue
                pl = c.scapy.__class__(raw(c.scapy))
                for li, pf, scls, sf, tf in c.fields:
                    want = norm(getattr(pl[scls], sf))
                    got = norm(js["layers"][li]["fields"].get(pf))
                    pkt_values += 1
                    if got != want:
                        fail("case %d (%s): pkt read %s.%s = %r, scapy %s.%s = %r" % (
                            i, c.layer, names[li], pf, got, scls.__name__, sf, want), c.expr)
                again, rb = ru.build_hex(pkt, text)
                if again != raw(c.scapy).hex():
                    fail("case %d (%s): read text does not rebuild scapy's bytes" % (i, c.layer), "expr:    " + c.expr,
                         "read as: " + text, "want: " + raw(c.scapy).hex(), rb.describe())
                else:
                    rebuilt += 1
        layers = sorted({c.layer for c in CASES})
        print("encap_control: %d cases (%s); %d equal scapy's bytes; tshark: %d field values equal; pkt read of "
              "scapy's pcaps: %d field values equal, %d rebuilt byte for byte; %d failures" % (
                  len(CASES), ", ".join(layers), scapy_ok, tshark_values, pkt_values, rebuilt, fail.count))
        for layer in layers:
            if sum(1 for c in CASES if c.layer == layer) < 2:
                fail("layer %s has fewer than two cases" % layer)
        return 0 if fail.count == 0 else 1
    finally:
        if not args.keep:
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
