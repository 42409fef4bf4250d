#!/usr/bin/python3
"""`pkt read` against real captures and two independent readers.

The test makes real traffic and captures it with tcpdump (-U --immediate-mode),
all inside network namespaces it creates itself and always deletes:

  lo.pcap    on `lo` of a private namespace pkt-rt-lo (so no other test's
             loopback traffic lands in it): TCP handshakes with the kernel's
             options (mss, sackok, timestamp, nop, wscale), data and FIN on
             127.0.0.1 and ::1; UDP datagrams to a listener and to a closed
             port (ICMP and ICMPv6 port unreachable); ping 127.0.0.1 and
             ping -6 ::1. Linux `lo` is EN10MB with zero MACs.
  veth.pcap  on veth-a of pkt-rt-a, joined by a veth to pkt-rt-b
             (10.199.0.1/24 - 10.199.0.2/24, fd00:199::1/64 - ::2/64): ARP
             request and reply, ICMP echo with real MACs, an IPv4 and an IPv6
             echo too big for the MTU (fragments, the IPv6 fragment header),
             neighbour discovery, a TCP connection, and whatever the kernel
             adds (MLD reports with a hop-by-hop header, router solicitations).

Then, for every packet of every capture:
  1. round trip: `pkt read --format pkt`, rebuilt by `pkt build --format hex`,
     equals `pkt read --format hex` and the bytes scapy's rdpcap reads;
  2. tshark: the layer stack and each field of each layer pkt dissected
     (`tshark -T fields`, units converted explicitly) equal `pkt read
     --format json`;
  3. scapy: the same fields of scapy's dissection (Ether, IP, IPv6 and its
     hop-by-hop and fragment headers, TCP with its options list, UDP, ICMP,
     ICMPv6, ARP) and the bytes after the last header pkt dissected.

A missing dependency (not root, no tcpdump, tshark, ip or ping) prints
`SKIP: reason` for what it prevents; a skipped part is never counted as passed.
Usage: read_live.py [PKT] [--keep DIR]   (PKT defaults to $PKT, then build/pkt)
"""
import argparse
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import netns
from netns import in_ns, sh

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
# Named by this run's pid, so that two runs at once (two work trees) keep apart.
NS_LO, NS_A, NS_B = ("pkt-rt-%s-%d" % (k, os.getpid()) for k in ("lo", "a", "b"))
NAMESPACES = (NS_LO, NS_A, NS_B)
NS_PATTERN = re.compile(r"^pkt-rt-(?:lo|a|b)-(\d+)$")
V4_A, V4_B = "10.199.0.1", "10.199.0.2"
V6_A, V6_B = "fd00:199::1", "fd00:199::2"
HELPER = "--traffic"   # argv[1] of this script when it runs inside a namespace

# Keep each tshark frame a dissection of its own bytes only.
TSHARK_PREFS = ["-o", "tcp.desegment_tcp_streams:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE",
                "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]


class Mismatch(Exception):
    pass


# ---------------------------------------------------------------------------
# Traffic, run inside a namespace (`ip netns exec NS read_live.py --traffic KIND ...`)

def tcp_exchange(family, host, port=0, server=True, client=True):
    """A server and/or a client on host: connect, a little data each way, close."""
    srv = None
    if server:
        srv = socket.socket(family, socket.SOCK_STREAM)
        srv.bind((host, port))
        srv.listen(1)
        port = srv.getsockname()[1]

        def serve():
            conn, _ = srv.accept()
            with conn:
                data = conn.recv(100)
                conn.sendall(b"pong:" + data)
                conn.recv(100)          # the client's FIN
        t = threading.Thread(target=serve)
        t.start()
    if client:
        with socket.create_connection((host, port), timeout=5) as c:
            c.sendall(b"ping from pkt read_live")
            c.recv(100)
    if server:
        t.join(5)
        srv.close()


def udp_exchange(family, host):
    rx = socket.socket(family, socket.SOCK_DGRAM)
    rx.bind((host, 0))
    with rx, socket.socket(family, socket.SOCK_DGRAM) as tx:
        tx.bind((host, 0))
        tx.sendto(b"udp datagram", rx.getsockname()[:2])
        data, peer = rx.recvfrom(100)
        rx.sendto(b"reply:" + data, peer)
        tx.recvfrom(100)
        # A closed port: the kernel answers port unreachable.
        closed = socket.socket(family, socket.SOCK_DGRAM)
        closed.bind((host, 0))
        dead = closed.getsockname()[:2]
        closed.close()
        tx.sendto(b"nobody listens", dead)
        time.sleep(0.05)


def ping(*args):
    subprocess.run(["ping", "-n", "-q", "-i", "0.1", "-W", "2", *args],
                   check=True, stdout=subprocess.DEVNULL, timeout=20)


def traffic(kind, *args):
    if kind == "lo":
        tcp_exchange(socket.AF_INET, "127.0.0.1")
        tcp_exchange(socket.AF_INET6, "::1")
        udp_exchange(socket.AF_INET, "127.0.0.1")
        udp_exchange(socket.AF_INET6, "::1")
        if shutil.which("ping"):
            ping("-c", "2", "127.0.0.1")
            ping("-6", "-c", "2", "::1")
    elif kind == "tcp-server":            # tcp-server HOST PORT: one connection, then exit
        family = socket.AF_INET6 if ":" in args[0] else socket.AF_INET
        srv = socket.socket(family, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((args[0], int(args[1])))
        srv.listen(1)
        print("ready", flush=True)
        srv.settimeout(15)
        conn, _ = srv.accept()
        with conn:
            conn.sendall(b"pong:" + conn.recv(100))
            conn.recv(100)
    elif kind == "tcp-client":            # tcp-client HOST PORT
        tcp_exchange(socket.AF_INET6 if ":" in args[0] else socket.AF_INET, args[0], int(args[1]),
                     server=False)
    elif kind == "veth":
        ping("-c", "2", V4_B)                      # ARP, then echo over Ethernet
        ping("-6", "-c", "2", V6_B)                # neighbour discovery, echo
    elif kind == "frag":
        ping("-c", "1", "-s", "3000", V4_B)        # IPv4 fragments
        ping("-6", "-c", "1", "-s", "3000", V6_B)  # IPv6 fragment headers
    else:
        raise SystemExit("unknown traffic kind %r" % kind)
    return 0


# ---------------------------------------------------------------------------
# Namespaces and captures









def delete_namespaces(stale=False):
    """This run's namespaces; with stale, also those of runs that died without deleting theirs."""
    netns.delete_namespaces(NAMESPACES, NS_PATTERN, stale)


def helper(ns, kind, *args):
    return in_ns(ns, sys.executable, os.path.abspath(__file__), HELPER, kind, *args)


class Capture:
    """tcpdump -U --immediate-mode on IFACE inside NS, ready when it says it listens."""

    def __init__(self, ns, iface, path):
        self.path = path
        self.err = open(path + ".err", "w+")
        self.proc = subprocess.Popen(in_ns(ns, "tcpdump", "-i", iface, "-n", "-U", "--immediate-mode",
                                           "-w", path), stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.monotonic() + 10
        while True:
            self.err.seek(0)
            text = self.err.read()
            if "listening on" in text and os.path.exists(path) and os.path.getsize(path) >= 24:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError("tcpdump did not start: %s" % text)
            time.sleep(0.05)

    def stop(self):
        time.sleep(0.3)          # let the last packets reach the file
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.seek(0)
        text = self.err.read()
        self.err.close()
        if not re.search(r"^0 packets dropped by kernel", text, re.M):
            raise RuntimeError("tcpdump dropped packets: %s" % text)
        return text


def capture_lo(tmp):
    path = os.path.join(tmp, "lo.pcap")
    sh("ip", "netns", "add", NS_LO)
    sh(*in_ns(NS_LO, "ip", "link", "set", "lo", "up"))
    cap = Capture(NS_LO, "lo", path)
    try:
        sh(*helper(NS_LO, "lo"), timeout=60)
    finally:
        cap.stop()
    return [path]


def capture_veth(tmp):
    """veth.pcap, then frag.pcap (the fragments kept apart: see the report of each)."""
    path = os.path.join(tmp, "veth.pcap")
    sh("ip", "netns", "add", NS_A)
    sh("ip", "netns", "add", NS_B)
    sh("ip", "link", "add", "veth-a", "netns", NS_A, "type", "veth", "peer", "name", "veth-b", "netns", NS_B)
    for ns, dev, v4, v6 in ((NS_A, "veth-a", V4_A, V6_A), (NS_B, "veth-b", V4_B, V6_B)):
        sh(*in_ns(ns, "ip", "link", "set", "lo", "up"))
        sh(*in_ns(ns, "ip", "addr", "add", v4 + "/24", "dev", dev))
        sh(*in_ns(ns, "ip", "addr", "add", v6 + "/64", "dev", dev, "nodad"))
    # Capture from before the carrier comes up, so as to see what the kernel sends then.
    sh(*in_ns(NS_A, "ip", "link", "set", "veth-a", "up"))
    cap = Capture(NS_A, "veth-a", path)
    try:
        sh(*in_ns(NS_B, "ip", "link", "set", "veth-b", "up"))
        deadline = time.monotonic() + 10
        while "LOWER_UP" not in sh(*in_ns(NS_A, "ip", "link", "show", "veth-a")).stdout:
            if time.monotonic() > deadline:
                raise RuntimeError("veth-a has no carrier")
            time.sleep(0.05)
        sh(*helper(NS_A, "veth"), timeout=60)
        for host in (V4_B, V6_B):
            port = "7199"
            server = subprocess.Popen(helper(NS_B, "tcp-server", host, port), stdout=subprocess.PIPE, text=True)
            try:
                assert server.stdout.readline().strip() == "ready", "tcp-server did not start"
                sh(*helper(NS_A, "tcp-client", host, port))
                server.wait(10)
            finally:
                if server.poll() is None:
                    server.kill()
                    server.wait()
    finally:
        cap.stop()
    frag = os.path.join(tmp, "frag.pcap")
    cap = Capture(NS_A, "veth-a", frag)
    try:
        sh(*helper(NS_A, "frag"), timeout=60)
    finally:
        cap.stop()
    return [path, frag]


# ---------------------------------------------------------------------------
# Readers: pkt, tshark, scapy

def pkt(*args, stdin=None):
    r = subprocess.run([PKT, *args], capture_output=True, text=True, input=stdin, timeout=60,
                       env=dict(os.environ, NO_COLOR="1"))
    if r.returncode != 0:
        raise Mismatch("pkt %s: exit %d\n%s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout


def raw_packets(path):
    """Packet bytes as scapy's rdpcap reads them (an independent reader of the file)."""
    from scapy.all import rdpcap  # noqa: PLC0415
    return list(rdpcap(path))


def check_round_trip(path, tmp, scapy_pkts, stats):
    hex_read = pkt("read", path, "--format", "hex").split()
    text = pkt("read", path, "--format", "pkt")
    script = os.path.join(tmp, os.path.basename(path) + ".pkt")
    with open(script, "w", encoding="utf-8") as f:
        f.write(text)
    hex_built = pkt("build", script, "--format", "hex").split()
    want = [bytes(p).hex() for p in scapy_pkts]
    if not (len(want) == len(hex_read) == len(hex_built)):
        raise Mismatch("%s: %d packets by scapy, %d by pkt read, %d rebuilt"
                       % (path, len(want), len(hex_read), len(hex_built)))
    lines = [l for l in text.splitlines() if l.startswith("packet ")]
    for i, (w, r, b) in enumerate(zip(want, hex_read, hex_built), 1):
        if not (w == r == b):
            raise Mismatch("%s packet %d does not round-trip:\n  scapy %s\n  read  %s\n  build %s\n  pkt   %s"
                           % (path, i, w, r, b, lines[i - 1] if i <= len(lines) else "?"))
        stats["round-trip packets"] += 1
        stats["round-trip bytes"] += len(w) // 2


# tshark names of the protocols pkt declares; the others in frame.protocols
# (ethertype, data, application protocols) are not layers of pkt's.
TSHARK_PROTOS = {"eth": "eth", "ip": "ipv4", "ipv6": "ipv6", "ipv6.hopopts": "ipv6_hop",
                 "ipv6.fraghdr": "ipv6_frag", "ipv6.dstopts": "ipv6_dest", "ipv6.routing": "ipv6_route",
                 "tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "icmpv6", "arp": "arp"}
FINAL = {"tcp", "udp", "arp"}   # pkt dissects nothing inside these (ICMP errors: the quoted packet)


def num(s):
    return int(s, 0)


def flag(s):
    return {"True": 1, "False": 0, "1": 1, "0": 0}[s]


def lower(s):
    return s.lower()


# pkt layer -> [(pkt field, tshark field, tshark text -> pkt value)]
TSHARK_FIELDS = {
    "eth": [("dst", "eth.dst", lower), ("src", "eth.src", lower), ("type", "eth.type", num)],
    "ipv4": [("version", "ip.version", num), ("ihl", "ip.hdr_len", lambda s: num(s) // 4),  # bytes -> words
             ("tos", "ip.dsfield", num), ("length", "ip.len", num), ("id", "ip.id", num),
             ("flags", "ip.flags", num), ("frag", "ip.frag_offset", num),  # 8-byte units, as pkt (tshark 4.0)
             ("ttl", "ip.ttl", num), ("proto", "ip.proto", num), ("checksum", "ip.checksum", num),
             ("src", "ip.src", str), ("dst", "ip.dst", str)],
    "ipv6": [("version", "ipv6.version", num), ("tc", "ipv6.tclass", num), ("flow", "ipv6.flow", num),
             ("length", "ipv6.plen", num), ("next", "ipv6.nxt", num), ("hlim", "ipv6.hlim", num),
             ("src", "ipv6.src", str), ("dst", "ipv6.dst", str)],
    "ipv6_hop": [("next", "ipv6.hopopts.nxt", num), ("hlen", "ipv6.hopopts.len", num)],
    "ipv6_frag": [("next", "ipv6.fraghdr.nxt", num), ("offset", "ipv6.fraghdr.offset", num),
                  ("m", "ipv6.fraghdr.more", flag), ("id", "ipv6.fraghdr.ident", num)],
    "tcp": [("sport", "tcp.srcport", num), ("dport", "tcp.dstport", num), ("seq", "tcp.seq_raw", num),
            ("ack", "tcp.ack_raw", num), ("offset", "tcp.hdr_len", lambda s: num(s) // 4),  # bytes -> words
            # tcp.flags is the 12 bits after the data offset: 3 reserved, then NS..FIN.
            ("reserved", "tcp.flags", lambda s: num(s) >> 9), ("flags", "tcp.flags", lambda s: num(s) & 0x1FF),
            ("window", "tcp.window_size_value", num), ("checksum", "tcp.checksum", num),
            ("urgent", "tcp.urgent_pointer", num)],
    "udp": [("sport", "udp.srcport", num), ("dport", "udp.dstport", num), ("length", "udp.length", num),
            ("checksum", "udp.checksum", num)],
    "icmp": [("type", "icmp.type", num), ("code", "icmp.code", num), ("checksum", "icmp.checksum", num),
             ("id", "icmp.ident", num), ("seq", "icmp.seq", num)],
    "icmpv6": [("type", "icmpv6.type", num), ("code", "icmpv6.code", num), ("checksum", "icmpv6.checksum", num),
               ("id", "icmpv6.echo.identifier", num), ("seq", "icmpv6.echo.sequence_number", num)],
    "arp": [("htype", "arp.hw.type", num), ("ptype", "arp.proto.type", num), ("hlen", "arp.hw.size", num),
            ("plen", "arp.proto.size", num), ("op", "arp.opcode", num), ("sha", "arp.src.hw_mac", lower),
            ("spa", "arp.src.proto_ipv4", str), ("tha", "arp.dst.hw_mac", lower),
            ("tpa", "arp.dst.proto_ipv4", str)],
}
# Neighbour discovery (the veth capture has solicitations and advertisements):
# one pkt layer per message, tshark's icmpv6.
ND = {"icmpv6_ns": ("ICMPv6ND_NS", "icmpv6.nd.ns.target_address"), "icmpv6_na": ("ICMPv6ND_NA", "icmpv6.nd.na.target_address"),
      "icmpv6_rs": ("ICMPv6ND_RS", None), "icmpv6_ra": ("ICMPv6ND_RA", None), "icmpv6_redirect": ("ICMPv6ND_Redirect", None)}
for _nd, (_cls, _target) in ND.items():
    TSHARK_PROTOS.setdefault("icmpv6", "icmpv6")
    TSHARK_FIELDS[_nd] = TSHARK_FIELDS["icmpv6"][:3] + ([("target", _target, str)] if _target else [])
# Layers where a field is only in tshark's tree for some packets (id and seq of echo messages).
TSHARK_OPTIONAL = {("icmp", "id"), ("icmp", "seq"), ("icmpv6", "id"), ("icmpv6", "seq")}
TCP_OPTION_KINDS = {"eol": 0, "nop": 1, "mss": 2, "wscale": 3, "sackok": 4, "sack": 5, "timestamp": 8}
TSHARK_TCP_OPTIONS = ["tcp.option_kind", "tcp.options.mss_val", "tcp.options.wscale.shift",
                      "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr"]


def tshark_rows(path):
    names = ["frame.number", "frame.len", "frame.protocols"] + TSHARK_TCP_OPTIONS + sorted(
        {t for fields in TSHARK_FIELDS.values() for _, t, _ in fields})
    cmd = ["tshark", "-r", path, "-n", *TSHARK_PREFS, "-T", "fields",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for n in names:
        cmd += ["-e", n]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise Mismatch("tshark: %s" % r.stderr)
    rows = []
    for line in r.stdout.splitlines():
        values = line.split("\t")
        rows.append({n: (v.split(",") if v else []) for n, v in zip(names, values)})
    return rows


def fail(source, path, n, layer, field, pkt_value, other, third=None, note=""):
    """third: the value of the other reader (scapy's for tshark, tshark's for scapy), if it has one."""
    third_name = "scapy" if source == "tshark" else "tshark"
    raise Mismatch("%s: %s packet %d, %s.%s: pkt %r, %s %r%s%s"
                   % (source, os.path.basename(path), n, layer, field, pkt_value, source, other,
                      "" if third is None else ", %s %r" % (third_name, third), note))


def tshark_field(row, name, pf, k):
    """pkt field pf of the k-th pkt layer `name` as tshark reads it (None when tshark has none)."""
    for f, tf, conv in TSHARK_FIELDS.get(name, []) if row else []:
        if f == pf and k < len(row[tf]):
            return conv(row[tf][k])
    return None


def each_packet(errors, compare, *columns):
    """compare(*row) for each packet; a mismatch is kept in errors and the next packet compared."""
    for row in zip(*columns):
        try:
            compare(*row)
        except Mismatch as e:
            errors.append(str(e))


def compare_tshark(path, decoded, rows, scapy_pkts, stats, errors):
    each_packet(errors, lambda d, row, sp: compare_tshark_packet(path, d, row, sp, stats), decoded, rows, scapy_pkts)


def compare_tshark_packet(path, d, row, sp, stats):
    n = d["n"]
    stack = [TSHARK_PROTOS[p] for p in row["frame.protocols"][0].split(":") if p in TSHARK_PROTOS]
    for i, name in enumerate(stack):       # nothing inside ICMP errors or past the transport
        if name in FINAL:
            stack = stack[:i + 1]
            break
    headers = ["icmpv6" if l["layer"] in ND else l["layer"] for l in d["layers"] if l["layer"] != "raw"]
    if headers != stack:
        fail("tshark", path, n, "stack", "layers", headers, row["frame.protocols"][0],
             [l.__class__.__name__ for l in scapy_layers(sp)])
    if d["len"] != num(row["frame.len"][0]):
        fail("tshark", path, n, "frame", "len", d["len"], row["frame.len"][0])
    stats["tshark fields"] += 1
    seen = {}
    for layer in d["layers"]:
        name = layer["layer"]
        k = seen[name] = seen.get(name, -1) + 1      # the k-th occurrence of this layer
        for pf, tf, conv in TSHARK_FIELDS.get(name, []):
            values = row[tf]
            if not values and (name, pf) in TSHARK_OPTIONAL:
                continue
            if k >= len(values):
                fail("tshark", path, n, name, pf, layer["fields"][pf], None, scapy_field(sp, name, pf, k))
            theirs = conv(values[k])
            if layer["fields"][pf] != theirs:
                fail("tshark", path, n, name, pf, layer["fields"][pf], theirs, scapy_field(sp, name, pf, k),
                     " (tshark %s = %s)" % (tf, values[k]))
            stats["tshark fields"] += 1
        if name == "tcp":
            stats["tshark fields"] += compare_tcp_options_tshark(path, n, layer["fields"]["options"], row)


def compare_tcp_options_tshark(path, n, options, row):
    kinds = [TCP_OPTION_KINDS.get(o["option"], o.get("kind")) for o in options]
    theirs = [num(k) for k in row["tcp.option_kind"]]
    if kinds != theirs:
        fail("tshark", path, n, "tcp", "options", options, row["tcp.option_kind"], note=" (option kinds)")
    mine = {"tcp.options.mss_val": [o["value"] for o in options if o["option"] == "mss"],
            "tcp.options.wscale.shift": [o["shift"] for o in options if o["option"] == "wscale"],
            "tcp.options.timestamp.tsval": [o["val"] for o in options if o["option"] == "timestamp"],
            "tcp.options.timestamp.tsecr": [o["ecr"] for o in options if o["option"] == "timestamp"]}
    for tf, values in mine.items():
        if values != [num(v) for v in row[tf]]:
            fail("tshark", path, n, "tcp", "options", values, row[tf], note=" (%s)" % tf)
    return 1 + sum(len(v) for v in mine.values())


# pkt layer -> (scapy class names, [(pkt field, scapy field)])
SCAPY_FIELDS = {
    "eth": (["Ether"], [("dst", "dst"), ("src", "src"), ("type", "type")]),
    "ipv4": (["IP", "IPerror"], [("version", "version"), ("ihl", "ihl"), ("tos", "tos"), ("length", "len"),
                                 ("id", "id"), ("flags", "flags"), ("frag", "frag"), ("ttl", "ttl"),
                                 ("proto", "proto"), ("checksum", "chksum"), ("src", "src"), ("dst", "dst")]),
    "ipv6": (["IPv6", "IPerror6"], [("version", "version"), ("tc", "tc"), ("flow", "fl"), ("length", "plen"),
                                    ("next", "nh"), ("hlim", "hlim"), ("src", "src"), ("dst", "dst")]),
    "ipv6_hop": (["IPv6ExtHdrHopByHop"], [("next", "nh"), ("hlen", "len")]),
    "ipv6_frag": (["IPv6ExtHdrFragment"], [("next", "nh"), ("reserved", "res1"), ("offset", "offset"),
                                           ("res", "res2"), ("m", "m"), ("id", "id")]),
    "tcp": (["TCP", "TCPerror"], [("sport", "sport"), ("dport", "dport"), ("seq", "seq"), ("ack", "ack"),
                      ("offset", "dataofs"), ("reserved", "reserved"), ("flags", "flags"), ("window", "window"),
                      ("checksum", "chksum"), ("urgent", "urgptr")]),
    "udp": (["UDP", "UDPerror"], [("sport", "sport"), ("dport", "dport"), ("length", "len"), ("checksum", "chksum")]),
    "icmp": (["ICMP", "ICMPerror"], [("type", "type"), ("code", "code"), ("checksum", "chksum")]),
    # Every ICMPv6 class of scapy's starts with type, code and checksum, though
    # some name the code `res` (ICMPv6MLReport2): these are read by position.
    "icmpv6": (None, [("type", 0), ("code", 1), ("checksum", 2)]),
    **{nd: ([cls], [("type", "type"), ("code", "code"), ("checksum", "cksum")] + ([("target", "tgt")] if t else []))
       for nd, (cls, t) in ND.items()},
    "arp": (["ARP"], [("htype", "hwtype"), ("ptype", "ptype"), ("hlen", "hwlen"), ("plen", "plen"),
                      ("op", "op"), ("sha", "hwsrc"), ("spa", "psrc"), ("tha", "hwdst"), ("tpa", "pdst")]),
}


def scapy_layers(sp):
    """The layers of a scapy packet, outermost first."""
    out, layer = [], sp
    while layer is not None and layer.__class__.__name__ not in ("NoPayload",):
        out.append(layer)
        layer = layer.payload if layer.payload.__class__.__name__ != "NoPayload" else None
    return out


def scapy_match(name, layer):
    classes = SCAPY_FIELDS[name][0]
    cls = layer.__class__.__name__
    if classes is None:                       # every ICMPv6 message class
        return cls.startswith("ICMPv6") and not cls.startswith("ICMPv6NDOpt") and hasattr(layer, "cksum")
    return cls in classes


def scapy_field(sp, name, pf, k=0):
    """pkt field pf of the k-th pkt layer `name` as scapy reads it (None when scapy has none)."""
    if name not in SCAPY_FIELDS:
        return None
    found = [l for l in scapy_layers(sp) if scapy_match(name, l)]
    sf = dict(SCAPY_FIELDS[name][1]).get(pf)
    if k >= len(found) or sf is None:
        return None
    return scapy_value(found[k], sf)


def scapy_value(layer, sf):
    if isinstance(sf, int):
        sf = layer.fields_desc[sf].name
    v = layer.getfieldval(sf)
    if isinstance(v, str):
        return v.lower()
    return int(v)


def scapy_tcp_options(opts):
    out = []
    for name, value in opts:
        if name == "MSS":
            out.append({"option": "mss", "value": value})
        elif name == "NOP":
            out.append({"option": "nop"})
        elif name == "EOL":
            out.append({"option": "eol"})
        elif name == "WScale":
            out.append({"option": "wscale", "shift": value})
        elif name == "SAckOK":
            out.append({"option": "sackok"})
        elif name == "Timestamp":
            out.append({"option": "timestamp", "val": value[0], "ecr": value[1]})
        elif name == "SAck":
            out.append({"option": "sack", "edges": list(value)})
        else:
            out.append({"option": "scapy:%s" % name, "value": value})
    return out


def compare_scapy(path, decoded, scapy_pkts, rows, stats, errors):
    each_packet(errors, lambda d, sp, row: compare_scapy_packet(path, d, sp, row, stats), decoded, scapy_pkts, rows)


def compare_scapy_packet(path, d, sp, row, stats):
    n = d["n"]
    seen = {}
    layers = scapy_layers(sp)
    pos = 0          # scapy layers are walked in step with pkt's
    last = None
    for layer in d["layers"]:
        name = layer["layer"]
        if name == "raw":
            continue
        k = seen[name] = seen.get(name, -1) + 1
        while pos < len(layers) and not scapy_match(name, layers[pos]):
            pos += 1
        if pos == len(layers):
            fail("scapy", path, n, name, "(layer)", name, [l.__class__.__name__ for l in layers],
                 row and row["frame.protocols"][0])
        theirs = layers[pos]
        for pf, sf in SCAPY_FIELDS[name][1]:
            if layer["fields"][pf] != scapy_value(theirs, sf):
                fail("scapy", path, n, name, pf, layer["fields"][pf], scapy_value(theirs, sf), tshark_field(row, name, pf, k))
            stats["scapy fields"] += 1
        if name == "ipv4" and not layer["fields"]["options"] and theirs.options:
            fail("scapy", path, n, name, "options", [], theirs.options)
        if name == "tcp":
            if layer["fields"]["options"] != scapy_tcp_options(theirs.options):
                fail("scapy", path, n, name, "options", layer["fields"]["options"], theirs.options)
            stats["scapy fields"] += 1 + len(layer["fields"]["options"])
        if name in ("icmp", "icmpv6") and layer["fields"]["type"] in ((0, 8) if name == "icmp" else (128, 129)):
            for pf in ("id", "seq"):
                if layer["fields"][pf] != scapy_value(theirs, pf):
                    fail("scapy", path, n, name, pf, layer["fields"][pf], scapy_value(theirs, pf),
                         tshark_field(row, name, pf, k))
                stats["scapy fields"] += 1
        last = (layer, theirs)
        pos += 1
    # The bytes after the last header pkt dissected, and the Ethernet trailer.
    layer, theirs = last
    rest = bytes(theirs.payload)
    if layer["layer"] in ("icmp", "icmpv6"):
        rest = bytes(theirs)[8:]       # scapy's ICMPv6 classes take in more than pkt's 8 bytes
    elif layer["layer"] in ND:
        opt = theirs.payload           # scapy's ND options are layers; pkt's are the layer's options field
        while opt.__class__.__name__.startswith("ICMPv6NDOpt"):
            opt = opt.payload
        rest = bytes(opt)
        # Options scapy 2.5 does not know (the kernel's nonce, RFC 3971) are its raw
        # payload, and pkt's options read as bytes: the same bytes, in the same place.
        undeclared = bytes.fromhex("".join(o["bytes"] for o in layer["fields"]["options"] if o["option"] is None))
        if undeclared and rest.startswith(undeclared):
            rest = rest[len(undeclared):]
    raw = "".join(l["fields"]["load"] for l in d["layers"] if l["layer"] == "raw")
    trailer = "".join(l.get("trailer", "") for l in d["layers"])
    if raw + trailer != rest.hex():
        fail("scapy", path, n, layer["layer"], "(payload)", raw + "|" + trailer, rest.hex())
    stats["scapy fields"] += 1


# ---------------------------------------------------------------------------

def control(path, d, sp, row):
    """Each comparison can fail: a changed field of each layer of d makes both readers object."""
    for i, layer in enumerate(d["layers"]):
        for pf in [pf for pf, _ in SCAPY_FIELDS.get(layer["layer"], (None, []))[1]][-1:]:
            bad = json.loads(json.dumps(d))
            v = bad["layers"][i]["fields"][pf]
            bad["layers"][i]["fields"][pf] = v + 1 if isinstance(v, int) else "not " + v
            scratch = collections.defaultdict(int)
            for source, compare in (("scapy", lambda: compare_scapy_packet(path, bad, sp, row, scratch)),
                                    ("tshark", lambda: row and compare_tshark_packet(path, bad, row, sp, scratch))):
                try:
                    compare()
                except Mismatch:
                    continue
                if source == "scapy" or row:
                    raise Mismatch("control: %s did not see %s.%s changed in packet %d of %s"
                                   % (source, layer["layer"], pf, d["n"], path))


def check_capture(path, tmp, stats, have_tshark):
    scapy_pkts = raw_packets(path)
    if not scapy_pkts:
        raise Mismatch("%s: no packets captured" % path)
    decoded = [json.loads(l) for l in pkt("read", path, "--format", "json").splitlines()]
    if [d["n"] for d in decoded] != list(range(1, len(scapy_pkts) + 1)):
        raise Mismatch("%s: pkt read --format json numbers %s, scapy reads %d packets"
                       % (path, [d["n"] for d in decoded], len(scapy_pkts)))
    for d, sp in zip(decoded, scapy_pkts):
        if d["len"] != len(bytes(sp)):
            fail("scapy", path, d["n"], "frame", "len", d["len"], len(bytes(sp)))
    stats["packets"] += len(decoded)
    check_round_trip(path, tmp, scapy_pkts, stats)
    errors = []
    rows = tshark_rows(path) if have_tshark else [None] * len(decoded)
    if len(rows) != len(decoded):
        raise Mismatch("tshark reads %d packets of %s, pkt %d" % (len(rows), path, len(decoded)))
    compare_scapy(path, decoded, scapy_pkts, rows, stats, errors)
    if have_tshark:
        compare_tshark(path, decoded, rows, scapy_pkts, stats, errors)
    for d, sp, row in zip(decoded, scapy_pkts, rows):
        control(path, d, sp, row)
    if errors:
        shown = errors[:15] + (["... and %d more" % (len(errors) - 15)] if len(errors) > 15 else [])
        raise Mismatch("%d mismatches:\n  %s" % (len(errors), "\n  ".join(shown)))
    return decoded


def main():
    if len(sys.argv) > 2 and sys.argv[1] == HELPER:
        return traffic(*sys.argv[2:])
    ap = argparse.ArgumentParser()
    ap.add_argument("pkt", nargs="?", default=os.environ.get("PKT") or os.path.join(ROOT, "build", "pkt"))
    ap.add_argument("--keep", help="copy the captures to DIR")
    args = ap.parse_args()
    global PKT
    PKT = os.path.abspath(args.pkt)
    if not os.access(PKT, os.X_OK):
        print("no pkt binary at %s" % PKT)
        return 1
    if os.geteuid() != 0:
        print("SKIP: not root (capturing and network namespaces need root); nothing was checked")
        return 0
    missing = [t for t in ("tcpdump", "ip") if not shutil.which(t)]
    if missing:
        print("SKIP: %s not installed (scripts/dev test installs it); nothing was checked" % " and ".join(missing))
        return 0
    have_tshark = bool(shutil.which("tshark"))
    if not have_tshark:
        print("SKIP: tshark not installed: the tshark comparison does not run")
    if not shutil.which("ping"):
        print("SKIP: ping not installed (iputils-ping): no ICMP echo on lo, no veth capture (ARP, fragments)")

    # ctest's timeout sends SIGTERM: leave through the finally blocks that delete the namespaces.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("read_live: terminated"))
    t0 = time.monotonic()
    passed = failed = 0
    stats = {k: 0 for k in ("packets", "round-trip packets", "round-trip bytes", "scapy fields", "tshark fields")}
    with tempfile.TemporaryDirectory() as tmp:
        delete_namespaces(stale=True)
        captures = [("lo", capture_lo)]
        if shutil.which("ping"):
            captures.append(("veth", capture_veth))
        paths = []
        for name, make in captures:
            try:
                try:
                    paths += make(tmp)
                finally:
                    delete_namespaces()
            except Exception as e:  # noqa: BLE001 -- report each capture and go on
                failed += 1
                print("FAIL capture %s: %s: %s" % (name, type(e).__name__, e))
        for path in paths:
            name = os.path.basename(path)
            if args.keep:
                os.makedirs(args.keep, exist_ok=True)
                shutil.copy(path, args.keep)
            try:
                before = dict(stats)
                decoded = check_capture(path, tmp, stats, have_tshark)
            except Exception as e:  # noqa: BLE001 -- report each capture and go on
                failed += 1
                print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
                continue
            passed += 1
            kinds = sorted({"/".join(l["layer"] for l in d["layers"]) for d in decoded})
            print("ok   %s: %d packets (%s); round trip %d bytes; scapy %d fields; tshark %s"
                  % (name, stats["packets"] - before["packets"], ", ".join(kinds),
                     stats["round-trip bytes"] - before["round-trip bytes"],
                     stats["scapy fields"] - before["scapy fields"],
                     "%d fields" % (stats["tshark fields"] - before["tshark fields"]) if have_tshark else "skipped"))
    print("compared %d packets: %d rebuilt byte for byte (%d bytes), %d fields against scapy, %s (%.1f s)"
          % (stats["packets"], stats["round-trip packets"], stats["round-trip bytes"], stats["scapy fields"],
             "%d fields against tshark" % stats["tshark fields"] if have_tshark else "tshark skipped",
             time.monotonic() - t0))
    print("read_live: %d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
