#!/usr/bin/env python3
"""sr and sr1 against real peers: the kernels of network namespaces answer.

The test builds its own world and always deletes it:

    A (prober) a0 --- r0 R (router) r1 --- b0 B (peer)
    10.88.1.1/24      10.88.1.254  10.88.2.254     10.88.2.2/24
    fd88:1::1/64      fd88:1::254  fd88:2::254     fd88:2::2/64

B listens on TCP port 22 (IPv4 and IPv6) and echoes UDP on port 7; an
nftables rule in B drops TCP port 24. pkt runs in A, with no `src` in its
probes (the kernel's route gives it), and checks:
  ping        scripts/examples/ping.pkt: IPv4 and IPv6 echo, each reply
              matched to its own seq, with an RTT;
  syn scan    scripts/examples/syn_scan.pkt: 22 open (SYN-ACK), 23 closed
              (RST), 24 filtered (unanswered);
  udp         a UDP reply to its datagram, and a closed port's ICMP and
              ICMPv6 port unreachable matched through the quoted probe;
  traceroute  scripts/examples/traceroute.pkt, UDP and ICMP: hop 1 is the
              router's time exceeded, hop 2 the peer;
  arp         scripts/examples/arp_scan.pkt on a0: the is-at carries R's MAC;
  nd          a neighbour solicitation to R's solicited-node group: R's
              kernel's advertisement answers it (reply icmpv6_na to icmpv6_ns);
  lua         sr1 and sr from Lua, as docs/receiving.md shows them.
Needs root, ip (iproute2), nft and ping; otherwise prints SKIP and exits 77
(skipped, for ctest).
Usage: sr_live.py [PKT]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import netns
from netns import in_ns, sh

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PID = os.getpid()
NS_A, NS_R, NS_B = ("pkt-sr-%s-%d" % (k, PID) for k in ("a", "r", "b"))
NAMESPACES = (NS_A, NS_R, NS_B)
NS_PATTERN = re.compile(r"^pkt-sr-(?:a|r|b)-(\d+)$")
SCOPE = "10.88.0.0/16,fd88::/16"
A4, R4A, R4B, B4 = "10.88.1.1", "10.88.1.254", "10.88.2.254", "10.88.2.2"
A6, R6A, R6B, B6 = "fd88:1::1", "fd88:1::254", "fd88:2::254", "fd88:2::2"

PEER = r"""
import socket, sys, threading
def tcp(family, host):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 22)); s.listen(64)
    while True:
        c, _ = s.accept(); c.close()
def udp_echo(family, host):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((host, 7))
    while True:
        data, peer = s.recvfrom(2000); s.sendto(b"echo:" + data, peer)
for target in ((tcp, socket.AF_INET, "10.88.2.2"), (tcp, socket.AF_INET6, "fd88:2::2"),
               (udp_echo, socket.AF_INET, "10.88.2.2"), (udp_echo, socket.AF_INET6, "fd88:2::2")):
    threading.Thread(target=target[0], args=target[1:], daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
"""

failures = []










def delete_namespaces(stale=False):
    netns.delete_namespaces(NAMESPACES, NS_PATTERN, stale)


def build_world():
    for ns in NAMESPACES:
        sh("ip", "netns", "add", ns)
        sh(*in_ns(ns, "ip", "link", "set", "lo", "up"))
    sh("ip", "link", "add", "a0", "netns", NS_A, "type", "veth", "peer", "name", "r0", "netns", NS_R)
    sh("ip", "link", "add", "r1", "netns", NS_R, "type", "veth", "peer", "name", "b0", "netns", NS_B)
    for ns, dev, v4, v6 in ((NS_A, "a0", A4, A6), (NS_R, "r0", R4A, R6A), (NS_R, "r1", R4B, R6B), (NS_B, "b0", B4, B6)):
        sh(*in_ns(ns, "ip", "addr", "add", v4 + "/24", "dev", dev))
        sh(*in_ns(ns, "ip", "addr", "add", v6 + "/64", "dev", dev, "nodad"))
        sh(*in_ns(ns, "ip", "link", "set", dev, "up"))
    sh(*in_ns(NS_A, "ip", "route", "add", "default", "via", R4A))
    sh(*in_ns(NS_A, "ip", "-6", "route", "add", "default", "via", R6A))
    sh(*in_ns(NS_B, "ip", "route", "add", "default", "via", R4B))
    sh(*in_ns(NS_B, "ip", "-6", "route", "add", "default", "via", R6B))
    sh(*in_ns(NS_R, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"))
    # Answer every probe: no ICMP rate limit in the test's own namespaces.
    for ns in (NS_R, NS_B):
        sh(*in_ns(ns, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0"))
    sh(*in_ns(NS_B, "nft", "add table inet pkttest"))
    sh(*in_ns(NS_B, "nft", "add chain inet pkttest input { type filter hook input priority 0 ; }"))
    sh(*in_ns(NS_B, "nft", "add rule inet pkttest input tcp dport 24 drop"))
    peer = subprocess.Popen(in_ns(NS_B, sys.executable, "-c", PEER), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    if peer.stdout.readline().strip() != "ready":
        raise RuntimeError("the peer's listeners did not start")
    # Neighbours resolved once, so the first probe's RTT is not an ARP's.
    sh(*in_ns(NS_A, "ping", "-c", "1", "-W", "2", B4), check=False)
    sh(*in_ns(NS_A, "ping", "-6", "-c", "1", "-W", "2", B6), check=False)
    return peer


def pkt(pkt_bin, *args, script=None, stdin=None):
    argv = [pkt_bin, "run"]
    if script is not None:
        argv.append(script)
    argv += ["--scope", SCOPE, *args]
    r = subprocess.run(in_ns(NS_A, *argv), capture_output=True, text=True, timeout=120, input=stdin)
    return r


def check(name, cond, r, what):
    if cond:
        print("ok   %s: %s" % (name, what))
    else:
        failures.append(name)
        print("FAIL %s: %s\n  exit %s\n  stdout:\n%s\n  stderr:\n%s" % (name, what, r.returncode, r.stdout, r.stderr))


def rtts(text):
    return [float(x) for x in re.findall(r"rtt (\d+\.\d+) ms", text)]


def test_ping(pkt_bin):
    r = pkt(pkt_bin, "-D", "dst=" + B4, "-D", "dst6=" + B6, "-D", "count=3", "-D", "interval=50ms",
            script=os.path.join(ROOT, "scripts/examples/ping.pkt"))
    lines = r.stdout.splitlines()
    ok = r.returncode == 0 and "6 answered, 0 unanswered" in r.stdout
    for seq in (1, 2, 3):
        ok = ok and any(re.search(r"ipv4 %s > %s / icmp echo_request id 28784 seq %d .*->  ipv4 %s > %s / icmp echo_reply "
                                  r"id 28784 seq %d .* rtt \d+\.\d+ ms$" % (A4, B4, seq, B4, A4, seq), l) for l in lines)
        ok = ok and any(re.search(r"ipv6 %s > %s / icmpv6 echo_request id 28784 seq %d .*->  ipv6 %s > %s / icmpv6 "
                                  r"echo_reply id 28784 seq %d .* rtt" % (A6, B6, seq, B6, A6, seq), l) for l in lines)
    ok = ok and len(rtts(r.stdout)) == 6 and all(0 < t < 1000 for t in rtts(r.stdout))
    check("ping", ok, r, "6 echo replies, each to its own seq, from the route's source, RTTs %s" % rtts(r.stdout))


def test_syn_scan(pkt_bin):
    r = pkt(pkt_bin, "-D", "dst=" + B4, "-D", "first=21", "-D", "last=25", "-D", "timeout=1s", "-D", "retry=0",
            script=os.path.join(ROOT, "scripts/examples/syn_scan.pkt"))
    want = ["21/tcp closed", "22/tcp open", "23/tcp closed", "24/tcp filtered", "25/tcp closed",
            "%s: 1 open, 3 closed, 1 filtered" % B4]
    got = [l for l in r.stdout.splitlines() if "/tcp" in l or "open," in l]
    check("syn scan", r.returncode == 0 and got == want, r, "22 open (SA), 24 filtered by nftables, the rest closed (RA)")


def test_udp(pkt_bin, tmp):
    script = os.path.join(tmp, "udp.pkt")
    with open(script, "w") as f:
        f.write('sr ipv4(dst=%s) / udp(sport=40001, dport=[7, 9999]) / "hi", '
                'ipv6(dst=%s) / udp(sport=40002, dport=[7, 9999]) / "hi" timeout 1s\n' % (B4, B6))
    r = pkt(pkt_bin, script=script)
    lines = r.stdout.splitlines()
    want = [
        r"udp 40001 > 7 .*->  ipv4 %s > %s / udp 7 > 40001 / raw \"echo:hi\"  rtt" % (B4, A4),
        r"udp 40001 > 9999 .*->  ipv4 %s > %s / icmp dest_unreach.* / ipv4 %s > %s / udp 40001 > 9999" % (B4, A4, A4, B4),
        r"udp 40002 > 7 .*->  ipv6 %s > %s / udp 7 > 40002 / raw \"echo:hi\"  rtt" % (B6, A6),
        r"udp 40002 > 9999 .*->  ipv6 %s > %s / icmpv6 dest_unreach.* / ipv6 %s > %s / udp 40002 > 9999" % (B6, A6, A6, B6),
    ]
    ok = r.returncode == 0 and "4 answered, 0 unanswered" in r.stdout and all(any(re.search(w, l) for l in lines) for w in want)
    check("udp", ok, r, "UDP replies matched, port unreachable (ICMP, ICMPv6) matched through the quote")


def test_traceroute(pkt_bin):
    for proto in ("udp", "icmp"):
        r = pkt(pkt_bin, "-D", "dst=" + B4, "-D", "proto=" + proto, "-D", "maxhops=5",
                script=os.path.join(ROOT, "scripts/examples/traceroute.pkt"))
        hops = [l.split()[:2] for l in r.stdout.splitlines() if re.match(r"^\s*\d+ ", l)]
        check("traceroute " + proto, r.returncode == 0 and hops == [["1", R4A], ["2", B4]], r,
              "hop 1 the router's time exceeded (%s), hop 2 the peer" % R4A)


def test_arp(pkt_bin):
    mac = sh(*in_ns(NS_R, "cat", "/sys/class/net/r0/address")).stdout.strip()
    r = pkt(pkt_bin, "-D", "iface=a0", "-D", "from=10.88.1.250", "-D", "to=" + R4A,
            script=os.path.join(ROOT, "scripts/examples/arp_scan.pkt"))
    ok = r.returncode == 0 and re.search(r"^%s is at %s " % (re.escape(R4A), mac), r.stdout, re.M) \
        and "a0: 1 of 5 answered" in r.stdout
    check("arp", bool(ok), r, "%s is at %s (R's r0)" % (R4A, mac))


def test_nd(pkt_bin, tmp):
    """A neighbour solicitation to R's solicited-node group: R's kernel advertises, matched by target."""
    mac_a = sh(*in_ns(NS_A, "cat", "/sys/class/net/a0/address")).stdout.strip()
    group = "ff02::1:ff00:254"  # the solicited-node address of fd88:1::254 (RFC 4291 2.7.1)
    script = os.path.join(tmp, "nd.pkt")
    with open(script, "w") as f:
        f.write("packet ns = ipv6(src=%s, dst=%s) / icmpv6_ns(target=%s, options=[slla(%s)])\n"
                "sr ns timeout 2s on a0\n" % (A6, group, R6A, mac_a))
    r = subprocess.run(in_ns(NS_A, pkt_bin, "run", script, "--scope", SCOPE + ",ff02::/16"),
                       capture_output=True, text=True, timeout=120)
    ok = r.returncode == 0 and "1 answered, 0 unanswered" in r.stdout and re.search(
        r"->  ipv6 %s > %s / icmpv6_na %s s 1  rtt" % (re.escape(R6A), re.escape(A6), re.escape(R6A)), r.stdout)
    check("nd", bool(ok), r, "%s's solicitation answered by R's solicited advertisement" % R6A)


def test_lua(pkt_bin, tmp):
    script = os.path.join(tmp, "sr.lua")
    with open(script, "w") as f:
        f.write('''
local t0 = now()
local r, rtt = sr1(ipv4{dst = "%s"} / icmp{id = 7, seq = 1}, {timeout = 2})
print("sr1", r.ipv4.src, r.icmp.type, r.icmp.id, r.icmp.seq, rtt > 0 and rtt < now() - t0)
local ans, unans = sr(packet("ipv4(dst=%s) / tcp(sport=40000, dport=20..30, flags=SYN)"), {timeout = 1})
for _, a in ipairs(ans) do print("ans", a.sent.tcp.dport, a.reply.tcp.flags, a.rtt > 0) end
print("counts", #ans, #unans)
print("none", sr1(ipv4{dst = "%s"} / tcp{sport = 40000, dport = 24}, {timeout = 0.3}))
''' % (B4, B4, B4))
    r = pkt(pkt_bin, script=script)
    lines = r.stdout.splitlines()
    want = ["sr1\t%s\t0\t7\t1\ttrue" % B4, "ans\t22\t18\ttrue", "ans\t23\t20\ttrue", "counts\t10\t1", "none\tnil"]
    check("lua", r.returncode == 0 and all(w in lines for w in want), r, "sr1, sr and now() from Lua")


def main():
    pkt_bin = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PKT") or os.path.join(ROOT, "build", "pkt")
    missing = [t for t in ("ip", "nft", "ping") if not shutil.which(t)]
    if os.geteuid() != 0 or missing:
        print("SKIP: needs root and %s" % (", ".join(missing) or "ip, nft, ping"))
        return 77
    delete_namespaces(stale=True)
    peer = None
    try:
        peer = build_world()
        with tempfile.TemporaryDirectory() as tmp:
            test_ping(pkt_bin)
            test_syn_scan(pkt_bin)
            test_udp(pkt_bin, tmp)
            test_traceroute(pkt_bin)
            test_arp(pkt_bin)
            test_nd(pkt_bin, tmp)
            test_lua(pkt_bin, tmp)
    finally:
        if peer:
            peer.kill()
            peer.wait()
        delete_namespaces()
    print("sr_live: %s" % ("%d failed: %s" % (len(failures), ", ".join(failures)) if failures else "all passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
