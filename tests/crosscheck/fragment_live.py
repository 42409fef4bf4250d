#!/usr/bin/python3
"""fragment(P, SIZE), judged by a real peer's kernel: it reassembles.

Two network namespaces the test creates and always deletes, joined by a veth
pair (10.78.0.1/24 - 10.78.0.2/24, fd00:78::1/64 - fd00:78::2/64). In the
first, pkt sends a UDP datagram of 1000 bytes split by fragment() (IPv4, and
IPv6 with a fragment header it inserts); in the second, ordinary UDP sockets
on 0.0.0.0:9998 and [::]:9998 must receive the whole datagram, which the
kernel delivers only once it has every fragment and the reassembled UDP
checksum is right.

  1. fragment(ipv4(dst=10.78.0.2) / udp / 1000 bytes, 64): 16 fragments
  2. fragment(ipv6(dst=fd00:78::2) / udp / 1000 bytes, 200): 6 fragments
  3. control: the same fragments but the last one are not delivered (so the
     listener really needs all of them)

Needs root and iproute2; otherwise prints `SKIP: reason` and exits 77.
Usage: fragment_live.py [PKT]   (PKT defaults to $PKT, then build/pkt)
"""
import os
import re
import shutil
import signal
import sys
import tempfile

import netns
from netns import sh

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
NS_A, NS_B = ("pkt-frag-%s-%d" % (k, os.getpid()) for k in ("a", "b"))
NS_PATTERN = re.compile(r"^pkt-frag-(?:a|b)-(\d+)$")
V4_A, V4_B = "10.78.0.1", "10.78.0.2"
V6_A, V6_B = "fd00:78::1", "fd00:78::2"
SCOPE = "10.78.0.0/24,fd00:78::/64"   # the namespaces' own networks, nothing else
PORT = 9998


def delete_namespaces(stale=False):
    """This run's namespaces; with stale, also those of runs that died without deleting theirs."""
    netns.delete_namespaces((NS_A, NS_B), NS_PATTERN, stale)


def make_namespaces():
    netns.veth_pair(NS_A, "vfrag-a", (V4_A, V6_A), NS_B, "vfrag-b", (V4_B, V6_B))


def exchange(pkt, script_text, want, tmp, limit=5.0):
    """Runs `pkt run` on the script in NS_A while NS_B listens; returns (datagrams, pkt's result)."""
    return netns.send_to_listener(pkt, script_text, NS_A, NS_B, PORT, want, SCOPE, tmp, limit)


def main():
    pkt = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PKT") or
                          os.path.join(ROOT, "build", "pkt"))
    if not os.access(pkt, os.X_OK):
        print("no pkt binary at %s" % pkt)
        return 1
    if os.geteuid() != 0:
        print("SKIP: not root (raw sends and network namespaces need root); nothing was checked")
        return 77
    if not shutil.which("ip"):
        print("SKIP: ip (iproute2) not installed; nothing was checked")
        return 77
    # ctest's timeout sends SIGTERM: leave through the finally block that deletes the namespaces.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("fragment_live: terminated"))
    failures = []
    passed = 0

    def check(name, ok, detail):
        nonlocal passed
        if ok:
            passed += 1
            print("ok   %s" % name)
        else:
            failures.append(name)
            print("FAIL %s: %s" % (name, detail))

    data = "".join(chr(ord("a") + i % 26) for i in range(1000))
    delete_namespaces(stale=True)
    try:
        make_namespaces()
        with tempfile.TemporaryDirectory() as tmp:
            for name, ip, size, n, sport, want_from in (
                    ("ipv4 in 16 fragments of 64 bytes", "ipv4(dst=%s, id=4242)" % V4_B, 64, 16, 40011, V4_A),
                    ("ipv6 in 6 fragments of 200 bytes", "ipv6(dst=%s)" % V6_B, 200, 6, 40012, V6_A)):
                text = ('packet f = fragment(%s / udp(sport=%d, dport=%d) / "%s", %d)\n'
                        'lua { assert(f:count() == %d, "expected %d fragments, got " .. f:count()) }\n'
                        'send f\n' % (ip, sport, PORT, data, size, n, n))
                got, run = exchange(pkt, text, 1, tmp)
                check(name, run.returncode == 0 and got == [{"from": want_from, "sport": sport, "data": data}],
                      "pkt exit %d, stderr %r; received %r" % (run.returncode, run.stderr, got))
            # 3: control: without its last fragment the datagram never arrives.
            for name, ip, sport in (("ipv4", "ipv4(dst=%s, id=4343)" % V4_B, 40013), ("ipv6", "ipv6(dst=%s)" % V6_B, 40014)):
                text = ('packet f = fragment(%s / udp(sport=%d, dport=%d) / "%s", 64)\n'
                        'lua {\n  local n, i = f:count(), 0\n'
                        '  for q in f:each() do i = i + 1; if i < n then send(q) end end\n}\n' % (ip, sport, PORT, data))
                got, run = exchange(pkt, text, 1, tmp, limit=1.5)
                check("control: %s without the last fragment is not delivered" % name, run.returncode == 0 and got == [],
                      "pkt exit %d, stderr %r; received %r" % (run.returncode, run.stderr, got))
    finally:
        delete_namespaces()
    left = [ns for ns in sh("ip", "netns", "list", check=False).stdout.split() if ns in (NS_A, NS_B)]
    check("namespaces deleted", not left, "left behind: %s" % left)
    print("fragment_live: %d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
