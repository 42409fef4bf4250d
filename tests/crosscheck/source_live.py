#!/usr/bin/python3
"""The source address pkt chooses, judged by a real peer's kernel.

Two network namespaces the test creates and always deletes, joined by a veth
pair (10.77.0.1/24 - 10.77.0.2/24, fd00:77::1/64 - fd00:77::2/64). In the
first, pkt sends UDP datagrams with no `src`; in the second, ordinary UDP
sockets bound to 0.0.0.0:9999 and [::]:9999 receive them. The peer's kernel
delivers a datagram only when its UDP checksum (over the pseudo-header, that
is over the source address) is right, so a datagram received from 10.77.0.1
shows that pkt chose the veth's address and computed the checksum with it.

  1. ipv4(dst=10.77.0.2) / udp / "hello"          received from 10.77.0.1
  2. ipv6(dst=fd00:77::2) / udp / "hello6"        received from fd00:77::1
  3. ipv4(src=0.0.0.0, dst=10.77.0.2) / udp       received from 10.77.0.1 (the
     kernel fills in the source; pkt computed the checksum over its choice)
     and pkt warns once
  4. `show` in the namespace says `src = 10.77.0.1 ... route`, and with no
     route (192.0.2.99, 2001:db8::99 there) `src = 0.0.0.0 ... route: no
     route to the destination` (and `::`)
  5. control: the same datagram with a wrong UDP checksum is not delivered
     (so the listener really depends on the checksum)

Needs root and iproute2; otherwise prints `SKIP: reason` and exits 77.
Usage: source_live.py [PKT]   (PKT defaults to $PKT, then build/pkt)
"""
import os
import re
import shutil
import signal
import sys
import tempfile

import netns
from netns import in_ns, sh

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
NS_A, NS_B = ("pkt-src-%s-%d" % (k, os.getpid()) for k in ("a", "b"))
NS_PATTERN = re.compile(r"^pkt-src-(?:a|b)-(\d+)$")
V4_A, V4_B = "10.77.0.1", "10.77.0.2"
V6_A, V6_B = "fd00:77::1", "fd00:77::2"
SCOPE = "10.77.0.0/24,fd00:77::/64"   # the namespaces' own networks, nothing else
PORT = 9999


def delete_namespaces(stale=False):
    """This run's namespaces; with stale, also those of runs that died without deleting theirs."""
    netns.delete_namespaces((NS_A, NS_B), NS_PATTERN, stale)


def make_namespaces():
    netns.veth_pair(NS_A, "vsrc-a", (V4_A, V6_A), NS_B, "vsrc-b", (V4_B, V6_B))


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
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("source_live: terminated"))
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

    delete_namespaces(stale=True)
    try:
        make_namespaces()
        with tempfile.TemporaryDirectory() as tmp:
            # 1 and 2: no src; the route's source, the checksum over it.
            for name, text, want_from, data in (
                    ("ipv4 without src", 'send ipv4(dst=%s) / udp(sport=40001, dport=%d) / "hello"\n' % (V4_B, PORT),
                     V4_A, "hello"),
                    ("ipv6 without src", 'send ipv6(dst=%s) / udp(sport=40002, dport=%d) / "hello6"\n' % (V6_B, PORT),
                     V6_A, "hello6")):
                got, run = exchange(pkt, text, 1, tmp)
                check(name, run.returncode == 0 and got == [{"from": want_from, "sport": int(text.split("sport=")[1][:5]),
                                                             "data": data}],
                      "pkt exit %d, stderr %r; received %r (expected %r from %s)" %
                      (run.returncode, run.stderr, got, data, want_from))
            # 3: src=0.0.0.0: the kernel fills it in; pkt computes the checksum over its choice and warns.
            got, run = exchange(pkt, 'send ipv4(src=0.0.0.0, dst=%s) / udp(sport=40003, dport=%d) / "zero" count 2\n'
                                % (V4_B, PORT), 2, tmp)
            check("ipv4 src=0.0.0.0 filled in by the kernel",
                  run.returncode == 0 and got == [{"from": V4_A, "sport": 40003, "data": "zero"}] * 2,
                  "pkt exit %d, stderr %r; received %r" % (run.returncode, run.stderr, got))
            warning = ("src=0.0.0.0: the kernel fills in the source of a raw IPv4 packet; checksums use %s, its "
                       "choice for %s (to keep 0.0.0.0 on the wire, send from eth on an interface)" % (V4_A, V4_B))
            check("src=0.0.0.0 warns once", run.stderr.count(warning) == 1,
                  "expected the warning %r once in %r" % (warning, run.stderr))
            # 4: show says where the source came from.
            show = sh(*in_ns(NS_A, pkt, "build", "-e", "ipv4(dst=%s) / udp()" % V4_B, "--format", "show"))
            check("show marks the source as route",
                  re.search(r"^\s+src\s+= %s\s+route$" % re.escape(V4_A), show.stdout, re.M) is not None, show.stdout)
            show6 = sh(*in_ns(NS_A, pkt, "build", "-e", "ipv6(dst=%s) / udp()" % V6_B, "--format", "show"))
            check("show marks the IPv6 source as route",
                  re.search(r"^\s+src\s+= %s\s+route$" % re.escape(V6_A), show6.stdout, re.M) is not None, show6.stdout)
            # No route (the namespace has none to 192.0.2.0/24 or 2001:db8::/32): 0.0.0.0 or ::, and show says so.
            for layer, dst, zero in (("ipv4", "192.0.2.99", "0.0.0.0"), ("ipv6", "2001:db8::99", "::")):
                out = sh(*in_ns(NS_A, pkt, "build", "-e", "%s(dst=%s) / udp()" % (layer, dst), "--format", "show"))
                check("no route to %s: %s, and show says so" % (dst, zero),
                      re.search(r"^\s+src\s+= %s\s+route: no route to the destination$" % re.escape(zero),
                                out.stdout, re.M) is not None, out.stdout)
            # 5: control: a wrong checksum is dropped by the peer, so 1-3 mean the checksums were right.
            got, run = exchange(pkt, 'send ipv4(dst=%s) / udp(sport=40004, dport=%d, checksum=0x1234) / "bad"\n'
                                % (V4_B, PORT), 1, tmp, limit=1.5)
            check("control: a wrong UDP checksum is not delivered", run.returncode == 0 and got == [],
                  "pkt exit %d, stderr %r; received %r" % (run.returncode, run.stderr, got))
    finally:
        delete_namespaces()
    left = [ns for ns in sh("ip", "netns", "list", check=False).stdout.split() if ns in (NS_A, NS_B)]
    check("namespaces deleted", not left, "left behind: %s" % left)
    print("source_live: %d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
