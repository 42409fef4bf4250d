#!/usr/bin/python3
"""JSON everywhere (issue 12 section 5): every JSON line pkt prints parses
(Python's json), and its values equal tshark's for the same packets.

  json_tshark.py PKT build-read
      Packets of many layers (Ethernet, IPv4 with a deliberately bad
      checksum, TCP with options, UDP, ICMP, IPv6, ICMPv6, ARP, DNS with
      names, a compressed name and TXT strings) are printed by
      `pkt build --format json`, written by `pkt build --format pcap`, and
      printed again by `pkt read --format json`. Both must give the same
      objects (but for build's "name" and read's "time"), Lua's p:json()
      the same layers, `pkt run --format json` the same for show, and
      every field compared equals tshark's (-T fields) of that pcap.
  json_tshark.py PKT live     (root; exit 77, skipped, otherwise)
      In a network namespace it makes and deletes, on its loopback: sr a SYN to a port a Python socket listens on
      (the kernel answers SYN-ACK), a SYN to a closed port (RST) and an
      echo reply nobody answers, by `pkt run --format json`; tcpdump
      captures the same exchange and tshark reads it: the sent and reply
      objects equal tshark's fields and times, rtt is the difference of the
      two times. Then the sniff statement as JSON lines.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
PKT = os.path.abspath(sys.argv[1])
MODE = sys.argv[2]
failures = []
checked = {"fields": 0}


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def run(args, cwd, env=None, timeout=60):
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, NO_COLOR="1", **(env or {})))
    if r.returncode != 0:
        raise SystemExit("%s: exit %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def json_lines(text, what):
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            fail("%s line %d is not JSON (%s): %s" % (what, i, e, line[:200]))
    return out


def num(s):
    return int(s, 0)


def lower(s):
    return s.lower()


def flag(s):
    return {"True": 1, "False": 0, "1": 1, "0": 0}[s]


# pkt layer -> [(pkt field, tshark field, tshark text -> pkt value)]
FIELDS = {
    "eth": [("dst", "eth.dst", lower), ("src", "eth.src", lower), ("type", "eth.type", num)],
    "ipv4": [("version", "ip.version", num), ("ihl", "ip.hdr_len", lambda s: num(s) // 4),
             ("tos", "ip.dsfield", num), ("length", "ip.len", num), ("id", "ip.id", num),
             ("flags", "ip.flags", num), ("frag", "ip.frag_offset", num), ("ttl", "ip.ttl", num),
             ("proto", "ip.proto", num), ("checksum", "ip.checksum", num),
             ("src", "ip.src", str), ("dst", "ip.dst", str)],
    "ipv6": [("version", "ipv6.version", num), ("tc", "ipv6.tclass", num), ("flow", "ipv6.flow", num),
             ("length", "ipv6.plen", num), ("next", "ipv6.nxt", num), ("hlim", "ipv6.hlim", num),
             ("src", "ipv6.src", str), ("dst", "ipv6.dst", str)],
    "tcp": [("sport", "tcp.srcport", num), ("dport", "tcp.dstport", num), ("seq", "tcp.seq_raw", num),
            ("ack", "tcp.ack_raw", num), ("offset", "tcp.hdr_len", lambda s: num(s) // 4),
            ("flags", "tcp.flags", lambda s: num(s) & 0x1FF), ("window", "tcp.window_size_value", num),
            ("checksum", "tcp.checksum", num), ("urgent", "tcp.urgent_pointer", num)],
    "udp": [("sport", "udp.srcport", num), ("dport", "udp.dstport", num), ("length", "udp.length", num),
            ("checksum", "udp.checksum", num)],
    "icmp": [("type", "icmp.type", num), ("code", "icmp.code", num), ("checksum", "icmp.checksum", num),
             ("id", "icmp.ident", num), ("seq", "icmp.seq", num)],
    "icmpv6": [("type", "icmpv6.type", num), ("code", "icmpv6.code", num), ("checksum", "icmpv6.checksum", num),
               ("id", "icmpv6.echo.identifier", num), ("seq", "icmpv6.echo.sequence_number", num)],
    "arp": [("htype", "arp.hw.type", num), ("ptype", "arp.proto.type", num), ("op", "arp.opcode", num),
            ("sha", "arp.src.hw_mac", lower), ("spa", "arp.src.proto_ipv4", str),
            ("tha", "arp.dst.hw_mac", lower), ("tpa", "arp.dst.proto_ipv4", str)],
    "dns": [("id", "dns.id", num), ("qr", "dns.flags.response", flag), ("opcode", "dns.flags.opcode", num),
            ("rd", "dns.flags.recdesired", flag), ("ra", "dns.flags.recavail", flag),
            ("rcode", "dns.flags.rcode", num), ("qdcount", "dns.count.queries", num),
            ("ancount", "dns.count.answers", num), ("nscount", "dns.count.auth_rr", num),
            ("arcount", "dns.count.add_rr", num)],
}
# Fields tshark shows only in some packets: id and seq of echo messages, a
# DNS query's ra and rcode.
OPTIONAL = {("icmp", "id"), ("icmp", "seq"), ("icmpv6", "id"), ("icmpv6", "seq"), ("dns", "ra"), ("dns", "rcode")}
# Fields of DNS's lists: (list, pkt field, tshark field, conversion), one tshark value per element that has it.
DNS_LISTS = [("qd", "qname", "dns.qry.name", str), ("qd", "qtype", "dns.qry.type", num),
             ("qd", "qclass", "dns.qry.class", num), ("an", "rrname", "dns.resp.name", str),
             ("an", "type", "dns.resp.type", num), ("an", "ttl", "dns.resp.ttl", num),
             ("an", "addr", "dns.a", str), ("an", "pref", "dns.mx.preference", num),
             ("an", "exchange", "dns.mx.mail_exchange", str)]
TCP_OPTIONS = [("mss", "value", "tcp.options.mss_val"), ("wscale", "shift", "tcp.options.wscale.shift"),
               ("timestamp", "val", "tcp.options.timestamp.tsval"), ("timestamp", "ecr", "tcp.options.timestamp.tsecr")]
PREFS = ["-o", "tcp.desegment_tcp_streams:FALSE", "-o", "tcp.analyze_sequence_numbers:FALSE",
         "-o", "tcp.relative_sequence_numbers:FALSE"]


def tshark_rows(pcap):
    names = ["frame.len", "frame.time_epoch", "dns.txt"] + sorted(
        {t for fs in FIELDS.values() for _, t, _ in fs} | {t for *_, t, _ in DNS_LISTS} | {t for *_, t in TCP_OPTIONS})
    cmd = ["tshark", "-r", pcap, "-n", *PREFS, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
           "-E", "aggregator=/s"]
    for n in names:
        cmd += ["-e", n]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise SystemExit("tshark: " + r.stderr)
    return [{n: (v.split(" ") if v else []) for n, v in zip(names, line.split("\t"))} for line in r.stdout.splitlines()]


def compare(what, obj, row, stack):
    """Every field of FIELDS in obj's layers equals tshark's row; stack: the layers expected."""
    layers = [l["layer"] for l in obj["layers"]]
    if layers != stack:
        fail("%s: layers %s, expected %s" % (what, layers, stack))
        return
    if obj["len"] != num(row["frame.len"][0]):
        fail("%s: len %s, tshark frame.len %s" % (what, obj["len"], row["frame.len"]))
    seen = {}
    for layer in obj["layers"]:
        name = layer["layer"]
        k = seen[name] = seen.get(name, -1) + 1
        f = layer["fields"]
        for pf, tf, conv in FIELDS.get(name, []):
            values = row[tf]
            if pf not in f or (not values and (name, pf) in OPTIONAL):
                continue
            theirs = conv(values[k]) if k < len(values) else None
            if f[pf] != theirs:
                fail("%s: %s.%s is %r, tshark's %s %r" % (what, name, pf, f[pf], tf, values))
            checked["fields"] += 1
        if name == "tcp":
            for opt, key, tf in TCP_OPTIONS:
                mine = [o[key] for o in f["options"] if o["option"] == opt]
                if mine != [num(v) for v in row[tf]]:
                    fail("%s: tcp option %s.%s %r, tshark's %s %r" % (what, opt, key, mine, tf, row[tf]))
                checked["fields"] += len(mine)
        if name == "dns":
            for lst, key, tf, conv in DNS_LISTS:
                mine = [e[key] for e in f[lst] if key in e]
                if mine != [conv(v) for v in row[tf]]:
                    fail("%s: dns %s[].%s %r, tshark's %s %r" % (what, lst, key, mine, tf, row[tf]))
                checked["fields"] += len(mine)
            txt = [s for e in f["an"] for s in e.get("strings", [])]
            # tshark prints each TXT string; aggregated with spaces, so compare joined.
            if " ".join(txt) != " ".join(row["dns.txt"]):
                fail("%s: dns TXT strings %r, tshark's %r" % (what, txt, row["dns.txt"]))
            checked["fields"] += len(txt)


# One pcap per first layer: pcap files have one link type.
ETH = r"""
packet syn = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02)
           / ipv4(src=10.0.0.1, dst=10.0.0.2, id=7, ttl=37, tos=0x10, flags=2)
           / tcp(sport=40000, dport=80, seq=1000, flags=SYN, window=65535,
                 options=[mss(1460), sackok, timestamp(123456, 0), nop, wscale(7)])
packet synack = eth() / ipv4(src=10.0.0.2, dst=10.0.0.1, ttl=64)
           / tcp(sport=80, dport=40000, seq=4000000000, ack=1001, flags=SYN|ACK, window=512)
packet rst = eth() / ipv4(src=10.0.0.2, dst=10.0.0.1) / tcp(sport=81, dport=40000, ack=1001, flags=RST|ACK, window=0)
packet bad = eth() / ipv4(src=10.0.0.1, dst=10.0.0.2, checksum=0xdead) / udp(sport=1234, dport=9, checksum=0xbeef) / "bad"
packet ping = eth() / ipv4(src=10.0.0.1, dst=10.0.0.2) / icmp(id=7, seq=1..2) / "ping"
packet query = eth() / ipv4(src=10.0.0.1, dst=10.0.0.53) / udp(sport=5353, dport=53)
             / dns(id=0x1234, rd=1, qd=[question("example.com", a)])
packet answer = eth() / ipv4(src=10.0.0.53, dst=10.0.0.1) / udp(sport=53, dport=5353)
              / dns(id=0x1234, qr=response, ra=1, qd=[question("example.com", a)],
                    an=[rr("@12", a, ttl=300, addr=93.184.216.34),
                        rr("example.com", mx, ttl=60, pref=10, exchange="mail.example.com"),
                        rr("example.com", txt, strings=["hello", "v=spf1"])])
packet v6 = eth() / ipv6(src=fd00::1, dst=fd00::2, hlim=9, tc=0x20, flow=0x12345) / udp(sport=1, dport=2) / "x"
packet v6ping = eth() / ipv6(src=fd00::1, dst=fd00::2) / icmpv6(type=echo_request, id=3, seq=4)
packet who = eth(dst=ff:ff:ff:ff:ff:ff, src=02:00:00:00:00:01)
           / arp(sha=02:00:00:00:00:01, spa=10.0.0.1, tpa=10.0.0.2)
"""
IP = r"""
packet raw4 = ipv4(src=127.0.0.1, dst=127.0.0.2, ttl=3) / udp(sport=7, dport=[7, 9]) / "hi"
packet raw6 = ipv6(src=::1, dst=::1) / tcp(sport=1, dport=2, flags=FIN|PSH|ACK|URG, urgent=5)
"""


def strip(obj, *keys):
    return {k: v for k, v in obj.items() if k not in keys}


def build_read(tmp):
    for tag, text in (("eth", ETH), ("ip", IP)):
        script = os.path.join(tmp, tag + ".pkt")
        pcap = os.path.join(tmp, tag + ".pcap")
        with open(script, "w") as f:
            f.write(text)
        built = json_lines(run([PKT, "build", script, "--format", "json"], tmp).stdout, "build " + tag)
        run([PKT, "build", script, "--format", "pcap", "-o", pcap], tmp)
        read = json_lines(run([PKT, "read", pcap, "--format", "json"], tmp).stdout, "read " + tag)
        rows = tshark_rows(pcap)
        if not (len(built) == len(read) == len(rows)) or not built:
            fail("%s: %d built, %d read, %d by tshark" % (tag, len(built), len(read), len(rows)))
            continue
        for b, r, row in zip(built, read, rows):
            n = b["n"]
            if r["n"] != n or b["len"] != r["len"] or not isinstance(r["time"], float):
                fail("%s %d: n/len/time differ: build %s, read %s" % (tag, n, strip(b, "layers"), strip(r, "layers")))
            if "time" in b or "name" in r or not b.get("name"):
                fail("%s %d: build has a name and no time, read the opposite: %s / %s" % (tag, n, b.keys(), r.keys()))
            stack = [l["layer"] for l in b["layers"]]
            compare("build %s %d (%s)" % (tag, n, b["name"]), b, row, stack)
            compare("read %s %d" % (tag, n), r, row, stack)
            if strip(b, "name") != strip(r, "time"):
                fail("%s %d: build and read JSON differ:\n  build %s\n  read  %s" % (tag, n, b, r))
        # -o FILE, and -e: no name.
        out = os.path.join(tmp, tag + ".json")
        run([PKT, "build", script, "--format", "json", "-o", out], tmp)
        with open(out) as f:
            if json_lines(f.read(), "build -o") != built:
                fail("%s: build --format json -o differs from standard output" % tag)
    one = json_lines(run([PKT, "build", "-e", "ipv4(dst=10.0.0.2) / tcp(dport=22)", "--format", "json"], tmp).stdout, "-e")
    if len(one) != 1 or "name" in one[0] or one[0]["n"] != 1 or [l["layer"] for l in one[0]["layers"]] != ["ipv4", "tcp"]:
        fail("build -e --format json: %s" % one)

    # pkt run --format json: show and hexdump print the objects of build; Lua's p:json() the same layers.
    script = os.path.join(tmp, "run.pkt")
    with open(script, "w") as f:
        f.write(ETH + r"""
show syn, ping
hexdump answer
lua {
  print(answer:json())
  print(ping:json())
}
""")
    lines = json_lines(run([PKT, "run", "--format", "json", script], tmp).stdout, "run --format json")
    built = {(o["name"], o["n"]): o for o in json_lines(run([PKT, "build", os.path.join(tmp, "eth.pkt"), "--format", "json"], tmp).stdout, "build")}
    by_name = {}
    for o in built.values():
        by_name.setdefault(o["name"], []).append(o)
    if len(lines) != 6:
        fail("run --format json printed %d objects, expected 6 (3 show, 1 hexdump, 2 Lua)" % len(lines))
        return
    show = lines[:3]
    want = by_name["syn"] + by_name["ping"]
    for i, (got, w) in enumerate(zip(show, want), 1):
        if got["n"] != i or got["name"] != w["name"] or got["layers"] != w["layers"] or got["len"] != w["len"]:
            fail("show as JSON, object %d: %s, expected the layers of %s" % (i, got, w))
    hd = lines[3]
    ans = by_name["answer"][0]
    if hd["layers"] != ans["layers"] or hd["name"] != "answer":
        fail("hexdump as JSON: %s" % hd)
    hexes = run([PKT, "build", os.path.join(tmp, "eth.pkt"), "answer", "--format", "hex"], tmp).stdout.split()
    if [hd.get("hex")] != hexes:
        fail("hexdump as JSON: hex %r, build --format hex %r" % (hd.get("hex"), hexes))
    if lines[4] != {"len": ans["len"], "layers": ans["layers"]}:
        fail("Lua answer:json(): %s" % lines[4])
    pings = lines[5]
    if not isinstance(pings, list) or [p["layers"] for p in pings] != [o["layers"] for o in by_name["ping"]] \
            or [p["n"] for p in pings] != [1, 2]:
        fail("Lua ping:json() (a set of 2): %s" % pings)


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


NS = "pkt-json-%d" % os.getpid()
NS_PATTERN = re.compile(r"^pkt-json-(\d+)$")


def live(tmp):
    """Runs live_inner in a network namespace of its own, whose `lo` carries
    nothing but this test's packets (on the host's, another test's traffic
    between 127.0.0.1 and itself could answer a probe), and deletes it."""
    if os.geteuid() != 0:
        print("SKIP: not root (sr and sniff send raw packets and capture; the namespace needs root)")
        return SKIP
    missing = [t for t in ("tcpdump", "ip") if not shutil.which(t)]
    if missing:
        print("SKIP: %s not installed" % " and ".join(missing))
        return SKIP
    import netns  # noqa: PLC0415  (tests/crosscheck/netns.py)
    netns.delete_namespaces((NS,), NS_PATTERN, stale=True)
    try:
        netns.sh("ip", "netns", "add", NS)
        netns.sh(*netns.in_ns(NS, "ip", "link", "set", "lo", "up"))
        r = subprocess.run(netns.in_ns(NS, sys.executable, os.path.abspath(__file__), PKT, "live-inner"), timeout=100)
        return r.returncode
    finally:
        netns.delete_namespaces((NS,), NS_PATTERN)


def live_inner(tmp):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    open_port = listener.getsockname()[1]
    closed_port = free_port()
    sport = free_port()
    echo_id = os.getpid() & 0xffff
    script = os.path.join(tmp, "sr.pkt")
    with open(script, "w") as f:
        f.write("""packet syns = ipv4(dst=127.0.0.1) / tcp(sport=%d, dport=[%d, %d], flags=SYN, seq=1000)
packet nobody = ipv4(dst=127.0.0.1) / icmp(type=echo_reply, id=%d, seq=1)
sr syns, nobody timeout 500ms
""" % (sport, open_port, closed_port, echo_id))
    pcap = os.path.join(tmp, "sr.pcap")
    flt = "(tcp and port %d) or (icmp and icmp[4:2] = %d)" % (sport, echo_id)
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "--time-stamp-precision=nano",
                             "-w", pcap, flt], stderr=subprocess.PIPE, text=True)
    try:
        dump.stderr.readline()   # "tcpdump: listening on lo ...": the capture is open
        time.sleep(0.2)
        r = run([PKT, "run", "--format", "json", script], tmp, env={"PKT_SCOPE": "127.0.0.0/8"})
        time.sleep(0.3)
    finally:
        dump.terminate()
        dump.wait(10)
        listener.close()
    objs = json_lines(r.stdout, "sr --format json")
    if "2 answered, 1 unanswered" not in r.stderr:
        fail("sr's counts are not on standard error: %r" % r.stderr)
    if len(objs) != 3:
        fail("sr printed %d objects, expected 3: %s" % (len(objs), r.stdout))
        return 1
    rows = tshark_rows(pcap)
    # tcpdump on lo: eth (zero MACs) / ipv4 / ...; sr's objects start at ipv4, the probe's first layer.
    def find(layer, test):
        for row in rows:
            if test(row):
                return row
        fail("tshark saw no %s" % layer)
        return None

    for o, dport, want_flags in ((objs[0], open_port, 0x12), (objs[1], closed_port, 0x14)):
        sent, reply = o["sent"], o["reply"]
        if o["n"] not in (1, 2) or not reply:
            fail("sr to %d: no reply: %s" % (dport, o))
            continue
        if [l["layer"] for l in sent["layers"]] != ["ipv4", "tcp"] or [l["layer"] for l in reply["layers"]] != ["ipv4", "tcp"]:
            fail("sr to %d: layers %s -> %s" % (dport, sent["layers"], reply["layers"]))
            continue
        st, rt = sent["layers"][1]["fields"], reply["layers"][1]["fields"]
        if st["dport"] != dport or st["flags"] != 0x02 or rt["flags"] != want_flags or rt["sport"] != dport \
                or rt["ack"] != 1001:
            fail("sr to %d: sent %s, reply %s (flags expected %#x)" % (dport, st, rt, want_flags))
        rtt = o["rtt"]
        if not (isinstance(rtt, float) and 0 < rtt < 0.5):
            fail("sr to %d: rtt %r is not a positive number of seconds under the timeout" % (dport, rtt))
        elif abs((reply["time"] - sent["time"]) - rtt) > 2e-6:
            fail("sr to %d: rtt %r is not reply.time - sent.time (%r - %r)" % (dport, rtt, reply["time"], sent["time"]))
        srow = find("probe to %d" % dport, lambda w: w["tcp.dstport"] == [str(dport)] and num(w["tcp.flags"][0]) == 0x02)
        rrow = find("reply from %d" % dport, lambda w: w["tcp.srcport"] == [str(dport)] and num(w["tcp.flags"][0]) & 0x1FF == want_flags)
        for what, obj, row in (("sent", sent, srow), ("reply", reply, rrow)):
            if row is None:
                continue
            framed = dict(obj, len=obj["len"] + 14)   # tshark's frame holds lo's Ethernet header too
            compare("sr %s to %d" % (what, dport), dict(framed, layers=[{"layer": "eth", "fields": {}}] + obj["layers"]),
                    row, ["eth", "ipv4", "tcp"])
            if abs(obj["time"] - float(row["frame.time_epoch"][0])) > 0.05:
                fail("sr %s to %d: time %r, tcpdump's %s" % (what, dport, obj["time"], row["frame.time_epoch"]))
    last = objs[2]
    if last["reply"] is not None or last["rtt"] is not None or last["sent"]["layers"][1]["fields"]["type"] != 0:
        fail("the echo reply probe should be unanswered (reply and rtt null): %s" % last)

    # The sniff statement prints read's objects.
    port = free_port(socket.SOCK_DGRAM)
    sniff = os.path.join(tmp, "sniff.pkt")
    with open(sniff, "w") as f:
        f.write('sniff on lo filter "udp port %d" count 2 timeout 5s\n' % port)
    stop = threading.Event()

    def send():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        while not stop.wait(0.05):
            s.sendto(b"json", ("127.0.0.1", port))
    t = threading.Thread(target=send, daemon=True)
    t.start()
    try:
        r = run([PKT, "run", "--format", "json", sniff], tmp)
    finally:
        stop.set()
    got = json_lines(r.stdout, "sniff --format json")
    if [o.get("n") for o in got] != [1, 2] or any(
            set(o) != {"n", "time", "len", "layers"} or o["layers"][-1] != {"layer": "raw", "fields": {"load": "6a736f6e"}}
            or o["layers"][2]["fields"]["dport"] != port for o in got):
        fail("sniff statement as JSON: %s" % r.stdout)
    return 0


def main():
    if not shutil.which("tshark"):
        print("SKIP: tshark not installed")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="pkt-json-")
    try:
        if MODE == "live":
            return live(tmp)   # the namespace's run prints its own result
        rc = build_read(tmp) if MODE == "build-read" else live_inner(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if rc == SKIP:
        return SKIP
    print("%d fields compared with tshark" % checked["fields"])
    if failures:
        print("%d failures" % len(failures))
        return 1
    if checked["fields"] == 0:
        print("FAIL: nothing was compared")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
