#!/usr/bin/python3
"""Validate pkt's checksums with tshark.

Builds two pcap files with `pkt build FILE --format pcap -o OUT`:
  raw.pcap  random ipv4/tcp, ipv4/udp, ipv4/icmp, ipv6/tcp, ipv6/udp,
            ipv6/icmpv6 packets (and a few generator sets, whose checksums
            pkt updates incrementally), which must be LINKTYPE_RAW (101);
  eth.pcap  the same kinds of packets under eth(...), LINKTYPE EN10MB (1).
Then runs tshark with checksum validation on (ip/tcp/udp prefs; ICMP and
ICMPv6 checksums are always checked) and requires every expected checksum
status to be Good. Each file also ends with packets whose checksums are
deliberately wrong, for which tshark must report Bad: that proves the
check can fail.

Usage: tshark_checksums.py [PKT] [--seed N] [--count N] [--keep DIR]
PKT defaults to $PKT, then build/pkt.
"""
import argparse
import base64
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

# tshark's checksum status values (epan/proto.h: PROTO_CHECKSUM_E_*).
STATUS = {"0": "Bad", "1": "Good", "2": "Unverified", "3": "Not present", "4": "Illegal"}
FIELDS = ["frame.number", "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
          "icmp.checksum.status", "icmpv6.checksum.status"]
PREFS = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
         # Keep each frame a dissection of its own bytes.
         "-o", "tcp.desegment_tcp_streams:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE"]


def rand_ipv4(r):
    return "%d.%d.%d.%d" % (r.randint(1, 223), r.randrange(256), r.randrange(256), r.randint(1, 254))


def rand_ipv6(r):
    words = ["%x" % r.randrange(65536) for _ in range(8)]
    if r.random() < 0.5:
        k = r.randint(1, 6)
        return ":".join(words[:k]) + "::" + ":".join(words[k + 1:])
    return ":".join(words)


def rand_payload(r):
    n = r.choice([0, 1, 2, 3, r.randint(4, 64), r.randint(100, 1400)])
    data = bytes(r.randrange(256) for _ in range(n))
    c = r.random()
    if n == 0:
        return ""
    if c < 0.4:
        return ' / hex"%s"' % data.hex()
    if c < 0.7:
        return ' / base64"%s"' % base64.b64encode(data).decode()
    return ' / "%s" * %d' % (r.choice(["A", "xy", "pkt "]), r.randint(1, 300))


def tcp_options(r):
    items = r.sample(["mss(%d)" % r.randrange(65536), "nop", "wscale(%d)" % r.randrange(15), "sackok",
                      "timestamp(%d, %d)" % (r.randrange(1 << 32), r.randrange(1 << 32)),
                      "sack(%d, %d)" % (r.randrange(1 << 32), r.randrange(1 << 32))], r.randint(1, 4))
    return "[%s]" % ", ".join(items)


def rand_packet(r, eth):
    """One random packet declaration and the checks tshark must report for each packet it expands to."""
    v6 = r.random() < 0.5
    upper = r.choice(["tcp", "udp", "icmpv6" if v6 else "icmp"])
    gen = r.random() < 0.1
    if v6:
        ip = "ipv6(src=%s, dst=%s, hlim=%d, tc=%d, flow=%d)" % (rand_ipv6(r), rand_ipv6(r), r.randint(1, 255),
                                                             r.randrange(256), r.randrange(1 << 20))
    else:
        opts = ""
        if r.random() < 0.2:
            opts = ', options=%s' % r.choice(['hex"01"', 'hex"94040000"', 'hex"010100"'])
        ip = "ipv4(src=%s, dst=%s, id=%d, ttl=%d, tos=%d%s%s)" % (
            rand_ipv4(r), rand_ipv4(r), r.randrange(65536), r.randint(1, 255), r.randrange(256),
            ", flags=DF" if r.random() < 0.5 else "", opts)
    count = 1
    if upper == "tcp":
        flags = "|".join(r.sample(["SYN", "ACK", "PSH", "FIN", "RST", "URG", "ECE", "CWR"], r.randint(1, 3)))
        dport = str(r.randint(1, 65535))
        if gen:
            lo, count = r.randint(1, 60000), r.randint(2, 5)
            dport = "%d..%d" % (lo, lo + count - 1)
        up = "tcp(sport=%d, dport=%s, seq=%d, ack=%d, flags=%s, window=%d%s)" % (
            r.randint(1, 65535), dport, r.randrange(1 << 32), r.randrange(1 << 32), flags, r.randrange(65536),
            ", options=" + tcp_options(r) if r.random() < 0.5 else "")
    elif upper == "udp":
        sport = str(r.randint(1, 65535))
        if gen:
            count = r.randint(2, 4)
            sport = "[%s]" % ", ".join(str(r.randint(1, 65535)) for _ in range(count))
        # High ports, so tshark hands the payload to no dissector that may complain.
        up = "udp(sport=%s, dport=%d)" % (sport, r.randint(49152, 65535))
    else:
        seq = str(r.randrange(65536))
        if gen:
            lo, count = r.randint(0, 60000), r.randint(2, 5)
            seq = "%d..%d" % (lo, lo + count - 1)
        up = "%s(type=%s, id=%d, seq=%s)" % (upper, r.choice(["echo_request", "echo_reply"]), r.randrange(65536), seq)
    src = ip + " / " + up + rand_payload(r)
    if eth:
        src = "eth(dst=%s, src=02:00:00:%02x:%02x:%02x) / %s" % (
            "ff:ff:ff:ff:ff:ff", r.randrange(256), r.randrange(256), r.randrange(256), src)
    checks = {} if v6 else {"ip": "1"}
    checks[upper] = "1"
    return src, [checks] * count


def bad_packets(eth):
    """Packets with deliberately wrong checksums, and what tshark must say about each."""
    pre = "eth(src=02:00:00:00:00:09) / " if eth else ""
    # The fixed values are not the right checksums of these packets; the
    # right ones (from scapy, without eth) are in the comments.
    return [
        (pre + 'ipv4(src=10.0.0.1, dst=10.0.0.2, checksum=0xdead) / udp(sport=50000, dport=50001) / "bad ip"',  # 0x66c8
         {"ip": "0", "udp": "1"}),
        (pre + 'ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(sport=50000, dport=50001, checksum=0x1234) / "bad tcp"',  # 0x4a51
         {"ip": "1", "tcp": "0"}),
        (pre + 'ipv6(src=2001:db8::1, dst=2001:db8::2) / udp(sport=50000, dport=50001, checksum=0x1234) / "bad udp"',  # 0x71d2
         {"udp": "0"}),
        (pre + 'ipv4(src=10.0.0.1, dst=10.0.0.2) / icmp(id=1, seq=1, checksum=0x0001) / "bad icmp"',  # 0x5aa8
         {"ip": "1", "icmp": "0"}),
        (pre + 'ipv6(src=2001:db8::1, dst=2001:db8::2) / icmpv6(id=1, seq=1, checksum=0x0001) / "bad icmpv6"',  # 0x10b0
         {"icmpv6": "0"}),
    ]


def pkt_path(arg):
    return arg or os.environ.get("PKT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "pkt")


def run_file(pkt, tmpdir, name, eth, r, count):
    """Builds and checks one pcap. Returns (good checks, bad checks as expected, failures)."""
    decls = [rand_packet(r, eth) for _ in range(count)]
    bads = bad_packets(eth)
    script = os.path.join(tmpdir, name + ".pkt")
    with open(script, "w") as f:
        for i, (src, _) in enumerate(decls):
            f.write("packet p%d = %s\n" % (i, src))
        for i, (src, _) in enumerate(bads):
            f.write("packet bad%d = %s\n" % (i, src))
    expect = []  # per frame: (declaration source, {proto: status})
    for src, checks in decls:
        expect += [(src, c) for c in checks]
    expect += [(src, c) for src, c in bads]
    out = os.path.join(tmpdir, name + ".pcap")
    res = subprocess.run([pkt, "build", script, "--format", "pcap", "-o", out], capture_output=True)
    if res.returncode != 0:
        print("%s: pkt build failed (exit %d):\n%s" % (name, res.returncode, res.stderr.decode(errors="replace")))
        return 0, 0, 1
    failures = 0
    with open(out, "rb") as f:
        head = f.read(24)
    if len(head) < 24:
        print("%s: pcap file too short" % name)
        return 0, 0, 1
    magic = struct.unpack("<I", head[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack(endian + "I", head[20:24])[0]
    want_lt = 1 if eth else 101
    if linktype != want_lt:
        print("%s: pcap linktype %d, expected %d" % (name, linktype, want_lt))
        failures += 1

    cmd = ["tshark", "-n", "-r", out] + PREFS + ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
                                                 "-E", "aggregator=,"]
    for fld in FIELDS:
        cmd += ["-e", fld]
    res = subprocess.run(cmd, capture_output=True)
    if res.returncode != 0:
        print("%s: tshark failed (exit %d):\n%s" % (name, res.returncode, res.stderr.decode(errors="replace")))
        return 0, 0, failures + 1
    rows = [line.split("\t") for line in res.stdout.decode().splitlines()]
    if len(rows) != len(expect):
        print("%s: tshark read %d frames, pkt should have written %d" % (name, len(rows), len(expect)))
        return 0, 0, failures + 1
    good = bad_ok = 0
    names = ["ip", "tcp", "udp", "icmp", "icmpv6"]
    for (src, checks), row in zip(expect, rows):
        got = {}
        for proto, val in zip(names, row[1:]):
            if val:
                got[proto] = val
        problems = []
        for proto, want in checks.items():
            have = got.get(proto, "")
            if have != want:
                problems.append("%s checksum %s, expected %s" % (proto, STATUS.get(have, have or "not checked"),
                                                                STATUS[want]))
            elif want == "1":
                good += 1
            else:
                bad_ok += 1
        for proto, have in got.items():
            if proto not in checks:
                problems.append("unexpected %s checksum status %s" % (proto, STATUS.get(have, have)))
        if problems:
            failures += 1
            print("FAIL %s frame %s: %s\n  pkt: %s" % (name, row[0], "; ".join(problems), src))
    print("%s: %d frames, %d checksums Good, %d deliberately wrong ones Bad (linktype %d)" % (
        name, len(rows), good, bad_ok, linktype))
    if good == 0:
        print("%s: no checksum was verified" % name)
        failures += 1
    if bad_ok != sum(len(c) - list(c.values()).count("1") for _, c in bads):
        failures += 1
    return good, bad_ok, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pkt", nargs="?")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=120, help="random declarations per file")
    ap.add_argument("--keep", help="keep the scripts and pcaps in this directory")
    args = ap.parse_args()
    if not shutil.which("tshark"):
        print("tshark not found")
        return 1
    pkt = pkt_path(args.pkt)
    tmpdir = args.keep or tempfile.mkdtemp(prefix="pkt-tshark-")
    os.makedirs(tmpdir, exist_ok=True)
    try:
        r = random.Random(args.seed)
        g1, b1, f1 = run_file(pkt, tmpdir, "raw", False, r, args.count)
        g2, b2, f2 = run_file(pkt, tmpdir, "eth", True, r, args.count)
        fails = f1 + f2
        print("tshark checksums: %d Good, %d Bad as intended, %d failures" % (g1 + g2, b1 + b2, fails))
        return 0 if fails == 0 else 1
    finally:
        if not args.keep:
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
