#!/usr/bin/python3
"""Batched and threaded sends, counted on the wire.

In a network namespace of its own (only its `lo`, so no other test's
loopback traffic lands in the capture; created here and always deleted),
tcpdump captures `lo` with a 128 MiB buffer while `pkt run` sends:

  1. raw IPv4, one thread: 200,000 TCP packets (4 sports x dports 1..50000,
     TCP checksum 0 so the kernel drops them without answering), --pcap;
  2. the same with `threads 2`;
  3. raw IPv6 with --threads 2 (the CLI default): 20,000 packets to ::1;
  4. Ethernet frames on lo with `threads 2`: 50,000 frames;
  5. Ctrl-C during a threaded send of 50 million packets.

Each time: tcpdump saw exactly as many packets as pkt says it sent (and
dropped none), every (sport, dport) exactly once, each thread's share in
generator order (one thread: the whole send in order), and the --pcap file
holds exactly the captured packets, byte for byte (in the same order with one
thread; the same multiset with two). A missing dependency (not root, no
tcpdump or ip) prints `SKIP: reason` and exits 77.
Usage: send_batch_live.py [PKT]
"""
import collections
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time

import netns
from netns import in_ns, sh

NS = "pkt-sb-%d" % os.getpid()
NS_PATTERN = re.compile(r"^pkt-sb-(\d+)$")
SCOPE = "127.0.0.0/8,::1/128"
PAYLOAD = "x" * 35  # 20 + 20 + 35: the 75-byte packet of issue 10


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def read_pcap(path):
    """(linktype, [bytes]) of a pcap file (micro or nano, either byte order)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise AssertionError("%s: not a pcap file" % path)
    linktype = struct.unpack(e + "I", data[20:24])[0]
    out, off = [], 24
    while off + 16 <= len(data):
        caplen, wirelen = struct.unpack(e + "II", data[off + 8:off + 16])
        if caplen != wirelen:
            raise AssertionError("%s: a record cut to %d of %d bytes" % (path, caplen, wirelen))
        out.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    if off != len(data):
        raise AssertionError("%s: %d bytes left after the last record" % (path, len(data) - off))
    return linktype, out


class Capture:
    """tcpdump on the namespace's lo, started before the send and stopped after."""

    def __init__(self, path, bpf):
        self.path = path
        self.proc = subprocess.Popen(in_ns(NS, "tcpdump", "-i", "lo", "-n", "-B", "131072", "-s", "256", "-w", path,
                                           bpf), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()  # "listening on lo, ..." once the socket is bound
        if "listening on" not in line:
            raise AssertionError("tcpdump did not start: " + line + self.proc.stderr.read())

    def stop(self):
        # tcpdump reads the ring by blocks that the kernel hands over when full
        # or after libpcap's timeout (1 s); on SIGINT what it has not read is
        # lost without being counted as dropped: wait for the last block.
        time.sleep(2.5)
        self.proc.send_signal(signal.SIGINT)
        err = self.proc.stderr.read()
        self.proc.wait(timeout=60)
        m = re.search(r"(\d+) packets? dropped by kernel", err)
        if not m:
            raise AssertionError("tcpdump's report has no drop count: " + err)
        if int(m.group(1)):
            raise AssertionError("tcpdump lost packets (the test cannot count them): " + err)
        linktype, frames = read_pcap(self.path)
        if linktype != 1:
            raise AssertionError("lo captured as link type %d, expected 1 (Ethernet)" % linktype)
        return frames


def run_pkt(pkt, tmp, name, script, args=(), interrupt_after=None):
    path = os.path.join(tmp, name + ".pkt")
    with open(path, "w") as f:
        f.write(script)
    cmd = in_ns(NS, pkt, "run", "--scope", SCOPE, *args, path)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if interrupt_after is not None:
        time.sleep(interrupt_after)
        # ip netns exec runs pkt in its own process (exec): signal pkt itself.
        p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=300)
    return p.returncode, out, err


def ports(ip_packet, v6=False):
    """(sport, dport) of a TCP packet starting at IP."""
    off = 40 if v6 else (ip_packet[0] & 0x0F) * 4
    return struct.unpack("!HH", ip_packet[off:off + 4])


def check_send(what, wire, pcap, expected_pairs, order_of, threads, v6=False, ether=False):
    """wire: captured frames; pcap: --pcap records (IP packets, or Ethernet
    frames when ether); expected_pairs: the set of (sport, dport) sent;
    order_of(pair): its index in generator order."""
    n = len(expected_pairs)
    on_wire = wire if ether else [f[14:] for f in wire]  # lo's frames have a 14-byte Ethernet header
    if len(on_wire) != n:
        raise AssertionError("%s: the capture holds %d packets, %d were sent" % (what, len(on_wire), n))
    pairs = [ports(f[14:], v6) for f in wire]
    counts = collections.Counter(pairs)
    twice = [k for k, c in counts.items() if c > 1]
    if twice:
        raise AssertionError("%s: %d (sport, dport) pairs left more than once, e.g. %s" % (what, len(twice), twice[:3]))
    if set(pairs) != expected_pairs:
        raise AssertionError("%s: the (sport, dport) pairs on the wire differ from those sent: missing %s, extra %s"
                             % (what, sorted(expected_pairs - set(pairs))[:3], sorted(set(pairs) - expected_pairs)[:3]))
    # Each thread's share is a contiguous range of generator order, sent in order.
    shares = [[] for _ in range(threads)]
    for pr in pairs:
        i = order_of(pr)
        shares[i * threads // n].append(i)
    for t, s in enumerate(shares):
        if s != sorted(s):
            bad = next(k for k in range(1, len(s)) if s[k] < s[k - 1])
            raise AssertionError("%s: thread %d's packets left out of generator order (index %d after %d)"
                                 % (what, t, s[bad], s[bad - 1]))
    if len(pcap) != n:
        raise AssertionError("%s: --pcap holds %d packets, the wire %d" % (what, len(pcap), n))
    if threads == 1:
        if pcap != on_wire:
            k = next(i for i in range(n) if pcap[i] != on_wire[i])
            raise AssertionError("%s: --pcap packet %d differs from the wire's:\n  %s\n  %s"
                                 % (what, k + 1, pcap[k].hex(), on_wire[k].hex()))
    elif collections.Counter(pcap) != collections.Counter(on_wire):
        raise AssertionError("%s: --pcap's packets differ from the wire's" % what)
    print("ok   %s: %d packets on the wire, each once, in order per thread; --pcap equals the capture" % (what, n))


def sent_count(what, out, err):
    m = re.search(r"sent ([\d,]+) packets?", out + err)
    if not m:
        raise AssertionError("%s: pkt did not say how many it sent:\n%s%s" % (what, out, err))
    return int(m.group(1).replace(",", ""))


def main():
    pkt = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PKT", "build/pkt"))
    if os.geteuid() != 0:
        skip("needs root (network namespaces, raw sockets, tcpdump)")
    for tool in ("ip", "tcpdump"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            skip("needs " + tool)
    netns.delete_namespaces([], NS_PATTERN, stale=True)
    sh("ip", "netns", "add", NS)
    failures = 0
    try:
        sh(*in_ns(NS, "ip", "link", "set", "lo", "up"))
        with tempfile.TemporaryDirectory(prefix="pkt-sb-") as tmp:
            sports = [40000, 40001, 40002, 40003]
            big = {(s, d) for s in sports for d in range(1, 50001)}

            def order4(pr):
                return (pr[0] - 40000) * 50000 + pr[1] - 1

            cases = []
            for threads in (1, 2):
                opt = " threads 2" if threads == 2 else ""
                cases.append(dict(
                    what="raw IPv4, 200,000 packets, %d thread%s" % (threads, "s" if threads > 1 else ""),
                    script="packet p = ipv4(src=127.0.0.1, dst=127.0.0.1, id=1) / tcp(sport=[40000, 40001, 40002, "
                           "40003], dport=1..50000, flags=SYN, checksum=0) / \"%s\"\nsend p%s\n" % (PAYLOAD, opt),
                    bpf="ip and tcp and src portrange 40000-40003", pairs=big, order=order4, threads=threads))
            six = {(41000, d) for d in range(1, 20001)}
            cases.append(dict(
                what="raw IPv6, 20,000 packets, --threads 2",
                script="packet p = ipv6(src=::1, dst=::1) / tcp(sport=41000, dport=1..20000, flags=SYN, checksum=0)"
                       " / \"%s\"\nsend p\n" % PAYLOAD, args=("--threads", "2"),
                bpf="ip6 and tcp and src port 41000", pairs=six, order=lambda pr: pr[1] - 1, threads=2, v6=True))
            eth = {(42000, d) for d in range(1, 50001)}
            cases.append(dict(
                what="Ethernet on lo, 50,000 frames, 2 threads",
                script="packet p = eth() / ipv4(src=127.0.0.1, dst=127.0.0.1, id=1) / tcp(sport=42000, dport=1..50000,"
                       " flags=SYN, checksum=0) / \"%s\"\nsend p on lo threads 2\n" % PAYLOAD,
                bpf="ip and tcp and src port 42000", pairs=eth, order=lambda pr: pr[1] - 1, threads=2, ether=True))
            for i, c in enumerate(cases):
                try:
                    cap = Capture(os.path.join(tmp, "wire%d.pcap" % i), c["bpf"])
                    out_pcap = os.path.join(tmp, "out%d.pcap" % i)
                    rc, out, err = run_pkt(pkt, tmp, "case%d" % i, c["script"], ("--pcap", out_pcap, *c.get("args", ())))
                    wire = cap.stop()
                    if rc != 0:
                        raise AssertionError("%s: pkt exited %d:\n%s%s" % (c["what"], rc, out, err))
                    if sent_count(c["what"], out, err) != len(c["pairs"]):
                        raise AssertionError("%s: pkt says it sent %d" % (c["what"], sent_count(c["what"], out, err)))
                    _, pcap = read_pcap(out_pcap)
                    check_send(c["what"], wire, pcap, c["pairs"], c["order"], c["threads"], v6=c.get("v6", False),
                               ether=c.get("ether", False))
                except AssertionError as e:
                    failures += 1
                    print("FAIL " + str(e))

            # Ctrl-C: what pkt says it sent is exactly what left, and what --pcap holds.
            what = "Ctrl-C during a send with 2 threads"
            try:
                cap = Capture(os.path.join(tmp, "wire-int.pcap"), "ip and tcp and src port 43000")
                out_pcap = os.path.join(tmp, "out-int.pcap")
                rc, out, err = run_pkt(pkt, tmp, "interrupt",
                                       "packet p = ipv4(src=127.0.0.1, dst=127.0.0.1, id=1) / tcp(sport=43000, "
                                       "dport=1..50000, flags=SYN, checksum=0)\nsend p count 1000 threads 2\n",
                                       ("--pcap", out_pcap), interrupt_after=1.5)
                wire = cap.stop()
                if rc != 130:
                    raise AssertionError("%s: pkt exited %d, expected 130:\n%s%s" % (what, rc, out, err))
                n = sent_count(what, out, err)
                _, pcap = read_pcap(out_pcap)
                if not 0 < n < 50000000:
                    raise AssertionError("%s: pkt says it sent %d" % (what, n))
                if len(wire) != n or len(pcap) != n:
                    raise AssertionError("%s: pkt says %d left; the wire saw %d, --pcap holds %d"
                                         % (what, n, len(wire), len(pcap)))
                if collections.Counter(pcap) != collections.Counter(f[14:] for f in wire):
                    raise AssertionError("%s: --pcap's packets differ from the wire's" % what)
                print("ok   %s: %d packets left, all on the wire and in --pcap" % (what, n))
            except AssertionError as e:
                failures += 1
                print("FAIL " + str(e))
    finally:
        netns.delete_namespaces([NS], NS_PATTERN)
    print("send_batch_live: %s" % ("%d failed" % failures if failures else "all passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
