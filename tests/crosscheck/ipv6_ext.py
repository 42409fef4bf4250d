#!/usr/bin/python3
"""IPv6 extension headers (ipv6_hop, ipv6_route, ipv6_frag, ipv6_dest) against
scapy and tshark, and through `pkt read`.

For each case, a pkt expression and the scapy packet it must equal
(IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrFragment, IPv6ExtHdrDestOpt
with Pad1, PadN, RouterAlert and unknown options; TCP, UDP and ICMPv6 behind
one or several headers; an IPv6 tunnel; Ethernet below):
  1. `pkt build --format hex` equals bytes(scapy packet);
  2. tshark, with checksum validation on, judges the upper-layer checksum of
     every packet Good -- and Bad for the one deliberately wrong checksum;
  3. `pkt read` of the pcap gives back the expression's layers (--format json)
     and --format pkt text that builds to the same bytes.

Usage: ipv6_ext.py [PKT] [--keep DIR]
"""
import argparse
import logging
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import readutil as ru  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ICMPv6EchoReply, ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,  # noqa: E402
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrSegmentRouting, Ether, HBHOptUnknown, PadN,
                       Pad1, Raw, RouterAlert, TCP, UDP)

A, B = "2001:db8::1", "2001:db8::2"
IP6 = "ipv6(src=%s, dst=%s)" % (A, B)


def ip6():
    return IPv6(src=A, dst=B)


# (pkt expression, scapy packet, upper-layer checksum tshark must report: (proto, "1" Good / "0" Bad) or None)
CASES = [
    # The two from the brief, with every header at its defaults.
    ("ipv6() / ipv6_hop() / ipv6_frag(id=7) / udp(dport=53) / \"x\"",
     IPv6(src="::1", dst="::1") / IPv6ExtHdrHopByHop() / IPv6ExtHdrFragment(id=7) / UDP(dport=53) / b"x", ("udp", "1")),
    ("ipv6() / ipv6_dest() / tcp()",
     IPv6(src="::1", dst="::1") / IPv6ExtHdrDestOpt() / TCP(), ("tcp", "1")),
    # Options: router alert (4 bytes: padn of 2 after), padn, pad1, an option pkt does not declare.
    (IP6 + " / ipv6_hop(options=[router_alert(0)]) / udp(sport=1000, dport=2000) / \"ra\"",
     ip6() / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) / UDP(sport=1000, dport=2000) / b"ra", ("udp", "1")),
    (IP6 + " / ipv6_hop(options=[router_alert(0x1234), pad1, padn(hex\"0000\")]) / tcp(sport=5, dport=6, flags=ACK)",
     ip6() / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0x1234), Pad1(), PadN(optdata=b"\0\0")])
     / TCP(sport=5, dport=6, flags="A"), ("tcp", "1")),
    # 2 + 5 option bytes: one byte short of 8, so a pad1 finishes the header.
    (IP6 + " / ipv6_hop(options=[padn(hex\"000000\")]) / icmpv6(id=1, seq=2) / \"one byte pad\"",
     ip6() / IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0\0\0"), Pad1()]) / ICMPv6EchoRequest(id=1, seq=2)
     / b"one byte pad", ("icmpv6", "1")),
    (IP6 + " / ipv6_dest(options=[hex\"3e02abcd\"]) / udp(sport=7, dport=9) / \"unknown option\"",
     ip6() / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3e, optdata=b"\xab\xcd")]) / UDP(sport=7, dport=9)
     / b"unknown option", ("udp", "1")),
    # Options past the first 8 bytes (hlen 1 and 2).
    (IP6 + " / ipv6_dest(options=[padn(hex\"0102030405060708090a\")]) / tcp(sport=1, dport=2)",
     ip6() / IPv6ExtHdrDestOpt(options=[PadN(optdata=bytes(range(1, 11)))]) / TCP(sport=1, dport=2), ("tcp", "1")),
    (IP6 + " / ipv6_hop(options=[router_alert(1), padn(hex\"%s\")]) / udp()" % ("ee" * 13),
     ip6() / IPv6ExtHdrHopByHop(options=[RouterAlert(value=1), PadN(optdata=b"\xee" * 13)]) / UDP(), ("udp", "1")),
    # Routing header, segments left 0 (the pseudo-header's destination is the IPv6 dst).
    (IP6 + " / ipv6_route(type=0, data=hex\"00000000 20010db8000000000000000000000009\") / udp(sport=3, dport=4) / \"rt\"",
     ip6() / IPv6ExtHdrRouting(type=0, segleft=0, addresses=["2001:db8::9"]) / UDP(sport=3, dport=4) / b"rt", ("udp", "1")),
    (IP6 + " / ipv6_route(type=2, data=hex\"00000000 20010db8000000000000000000000009\") / icmpv6(type=echo_reply, id=9)",
     ip6() / IPv6ExtHdrRouting(type=2, segleft=0, addresses=["2001:db8::9"]) / ICMPv6EchoReply(id=9), ("icmpv6", "1")),
    # Segments left: the pseudo-header carries the final destination (RFC 8200 8.1),
    # the last address of type 0, the first segment of a segment routing header.
    (IP6 + " / ipv6_route(type=0, segleft=1, data=hex\"00000000 20010db8000000000000000000000009\") / udp(sport=3, dport=4)"
     " / \"rt\"",
     ip6() / IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:db8::9"]) / UDP(sport=3, dport=4) / b"rt", ("udp", "1")),
    # Segments left but no address: IPv6's own destination, as scapy does.
    (IP6 + " / ipv6_route(type=0, segleft=1) / udp(sport=3, dport=4) / \"rt\"",
     ip6() / IPv6ExtHdrRouting(type=0, segleft=1) / UDP(sport=3, dport=4) / b"rt", ("udp", "1")),
    (IP6 + " / ipv6_route(type=4, segleft=1, data=hex\"01000000 20010db8000000000000000000000009"
     " 20010db8000000000000000000000002\") / tcp(sport=3, dport=4)",
     ip6() / IPv6ExtHdrSegmentRouting(segleft=1, addresses=["2001:db8::9", "2001:db8::2"]) / TCP(sport=3, dport=4),
     ("tcp", "1")),
    # Several headers, in RFC 8200's recommended order, each bound by the one before it.
    (IP6 + " / ipv6_hop() / ipv6_dest() / ipv6_route(data=hex\"00000000\") / ipv6_frag(id=0x12345678) / ipv6_dest()"
     " / tcp(sport=443, dport=5555, flags=PSH|ACK) / \"payload\"",
     ip6() / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(type=0, segleft=0)
     / IPv6ExtHdrFragment(id=0x12345678) / IPv6ExtHdrDestOpt() / TCP(sport=443, dport=5555, flags="PA") / b"payload",
     ("tcp", "1")),
    (IP6 + " / ipv6_hop(options=[router_alert(2)]) / ipv6_frag(id=1) / icmpv6(id=3, seq=4) / \"%s\"" % ("z" * 100),
     ip6() / IPv6ExtHdrHopByHop(options=[RouterAlert(value=2)]) / IPv6ExtHdrFragment(id=1)
     / ICMPv6EchoRequest(id=3, seq=4) / (b"z" * 100), ("icmpv6", "1")),
    # A fragment that is not the first (no upper layer for tshark; bytes still match).
    (IP6 + " / ipv6_frag(offset=185, m=1, id=99) / \"fragment body\"",
     ip6() / IPv6ExtHdrFragment(offset=185, m=1, id=99, nh=59) / b"fragment body", None),
    # A tunnel behind a hop-by-hop header, and Ethernet below.
    (IP6 + " / ipv6_hop() / ipv6(src=fd00::1, dst=fd00::2) / udp(sport=10, dport=20) / \"inner\"",
     ip6() / IPv6ExtHdrHopByHop() / IPv6(src="fd00::1", dst="fd00::2") / UDP(sport=10, dport=20) / b"inner", ("udp", "1")),
    ("eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / " + IP6 + " / ipv6_dest(options=[pad1]) / udp(sport=11, dport=12) / \"e\"",
     Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip6() / IPv6ExtHdrDestOpt(options=[Pad1()])
     / UDP(sport=11, dport=12) / b"e", ("udp", "1")),
    # Deliberately wrong: tshark must say Bad (this proves the check can fail).
    (IP6 + " / ipv6_hop() / udp(sport=1, dport=2, checksum=0x1234) / \"bad\"",
     ip6() / IPv6ExtHdrHopByHop() / UDP(sport=1, dport=2, chksum=0x1234) / b"bad", ("udp", "0")),
]

# Known bug, reported and not yet fixed: with segments left, the pseudo-header's
# destination must be the routing header's last address (RFC 8200 8.1; scapy and
# tshark both do so), but pkt's ipv6 pseudo rule uses the IPv6 dst. Printed on
# every run, not counted as a failure; when pkt matches, move it into CASES.
KNOWN_BUGS = []  # (expr, scapy packet): printed on each run, not counted

TSHARK_PREFS = ["-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
                "-o", "tcp.desegment_tcp_streams:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE"]
TSHARK_FIELDS = ["udp.checksum.status", "tcp.checksum.status", "icmpv6.checksum.status"]
STATUS = {"0": "Bad", "1": "Good", "2": "Unverified", "3": "Not present", "4": "Illegal"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pkt", nargs="?")
    ap.add_argument("--keep", help="keep the generated files in this directory")
    args = ap.parse_args()
    if not shutil.which("tshark"):
        print("tshark not found")
        return 1
    pkt = ru.pkt_path(args.pkt)
    tmpdir = args.keep or tempfile.mkdtemp(prefix="pkt-ipv6-ext-")
    os.makedirs(tmpdir, exist_ok=True)
    fail = ru.Failures()

    try:
        # 1. bytes against scapy.
        built = []
        for i, (expr, sp, _) in enumerate(CASES):
            want = bytes(sp).hex()
            got, r = ru.build_hex(pkt, expr)
            built.append(bytes.fromhex(got) if got else None)
            if got != want:
                fail("case %d: pkt and scapy differ" % i, "pkt:   " + expr, "scapy: " + sp.command(),
                     "pkt   hex: %s" % (got if got is not None else r.describe()), "scapy hex: " + want)
        scapy_ok = len(CASES) - fail.count

        # 2. tshark judges each checksum; 3. pkt read round trip. One pcap per link type.
        good = bad = rt = 0
        for eth in (False, True):
            idx = [i for i, c in enumerate(CASES) if c[0].startswith("eth") == eth and built[i] is not None]
            if not idx:
                continue
            pcap, r = ru.build_pcap(pkt, tmpdir, "ext_%s" % ("eth" if eth else "raw"), [CASES[i][0] for i in idx])
            if r.rc != 0:
                fail("pkt build --format pcap failed", r.describe())
                continue
            cmd = ["tshark", "-n", "-r", pcap] + TSHARK_PREFS + ["-T", "fields", "-E", "separator=\t"]
            for fld in TSHARK_FIELDS:
                cmd += ["-e", fld]
            r = ru.run(cmd)
            rows = [line.split("\t") for line in r.out.splitlines()]
            if r.rc != 0 or len(rows) != len(idx):
                fail("tshark read %d frames of %d" % (len(rows), len(idx)), r.describe())
                continue
            for i, row in zip(idx, rows):
                got = {p: v for p, v in zip(["udp", "tcp", "icmpv6"], row) if v}
                want = CASES[i][2]
                expect = {} if want is None else {want[0]: want[1]}
                if got != expect:
                    fail("case %d: tshark checksum status %s, expected %s" % (
                        i, {p: STATUS.get(v, v) for p, v in got.items()}, {p: STATUS[v] for p, v in expect.items()}),
                        CASES[i][0])
                elif want and want[1] == "1":
                    good += 1
                elif want:
                    bad += 1
            back = ru.read_back(pkt, pcap, len(idx), fail)
            if back is None:
                continue
            jsons, texts = back
            for i, js, (_, text) in zip(idx, jsons, texts):
                names = [l["layer"] for l in js["layers"]]
                # UDP port 53 is bound to dns: a one-byte "x" there is not a DNS
                # message, and says so in a note (the layers are as built).
                notes = [n for n in js.get("notes") or [] if not n.startswith("dns.")]
                if names != ru.expr_layer_names(CASES[i][0]) or notes:
                    fail("case %d: read as layers %s (notes %s), built from %s" % (
                        i, names, js.get("notes"), ru.expr_layer_names(CASES[i][0])), CASES[i][0])
                again, rb = ru.build_hex(pkt, text)
                if again != built[i].hex():
                    fail("case %d: read text does not rebuild the bytes" % i, "expr:    " + CASES[i][0],
                         "read as: " + text, "want: " + built[i].hex(), rb.describe())
                else:
                    rt += 1
        for expr, sp in KNOWN_BUGS:
            r = ru.run([pkt, "build", "-e", expr, "--format", "hex"])
            want = bytes(sp).hex()
            if r.rc == 0 and r.out.strip() == want:
                print("KNOWN BUG NOW FIXED (move the case into CASES): " + expr)
            else:
                print("KNOWN BUG (not counted): pkt and scapy differ\n  pkt:   %s\n  pkt   hex: %s\n  scapy hex: %s" % (
                    expr, r.out.strip() or r.err.strip(), want))
        print("ipv6_ext: %d cases; %d equal scapy's bytes; tshark: %d checksums Good, %d deliberately wrong Bad; "
              "%d read back and rebuilt; %d failures" % (len(CASES), scapy_ok, good, bad, rt, fail.count))
        if bad == 0 or good == 0:
            fail("tshark verified no Good or no Bad checksum")
        return 0 if fail.count == 0 else 1
    finally:
        if not args.keep:
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
