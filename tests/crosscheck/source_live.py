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
import re
import sys

import netns
from netns import in_ns, sh


def checks(pkt, pair, tmp, check):
    # 1 and 2: no src; the route's source, the checksum over it.
    for name, text, want_from, data in (
            ("ipv4 without src", 'send ipv4(dst=%s) / udp(sport=40001, dport=%d) / "hello"\n' % (pair.v4_b, pair.port),
             pair.v4_a, "hello"),
            ("ipv6 without src", 'send ipv6(dst=%s) / udp(sport=40002, dport=%d) / "hello6"\n' % (pair.v6_b, pair.port),
             pair.v6_a, "hello6")):
        got, run = pair.exchange(pkt, text, 1, tmp)
        check(name, run.returncode == 0 and got == [{"from": want_from, "sport": int(text.split("sport=")[1][:5]),
                                                     "data": data}],
              "pkt exit %d, stderr %r; received %r (expected %r from %s)" %
              (run.returncode, run.stderr, got, data, want_from))
    # 3: src=0.0.0.0: the kernel fills it in; pkt computes the checksum over its choice and warns.
    got, run = pair.exchange(pkt, 'send ipv4(src=0.0.0.0, dst=%s) / udp(sport=40003, dport=%d) / "zero" count 2\n'
                        % (pair.v4_b, pair.port), 2, tmp)
    check("ipv4 src=0.0.0.0 filled in by the kernel",
          run.returncode == 0 and got == [{"from": pair.v4_a, "sport": 40003, "data": "zero"}] * 2,
          "pkt exit %d, stderr %r; received %r" % (run.returncode, run.stderr, got))
    warning = ("src=0.0.0.0: the kernel fills in the source of a raw IPv4 packet; checksums use %s, its "
               "choice for %s (to keep 0.0.0.0 on the wire, send from eth on an interface)" % (pair.v4_a, pair.v4_b))
    check("src=0.0.0.0 warns once", run.stderr.count(warning) == 1,
          "expected the warning %r once in %r" % (warning, run.stderr))
    # 4: show says where the source came from.
    show = sh(*in_ns(pair.ns_a, pkt, "build", "-e", "ipv4(dst=%s) / udp()" % pair.v4_b, "--format", "show"))
    check("show marks the source as route",
          re.search(r"^\s+src\s+= %s\s+route$" % re.escape(pair.v4_a), show.stdout, re.M) is not None, show.stdout)
    show6 = sh(*in_ns(pair.ns_a, pkt, "build", "-e", "ipv6(dst=%s) / udp()" % pair.v6_b, "--format", "show"))
    check("show marks the IPv6 source as route",
          re.search(r"^\s+src\s+= %s\s+route$" % re.escape(pair.v6_a), show6.stdout, re.M) is not None, show6.stdout)
    # No route (the namespace has none to 192.0.2.0/24 or 2001:db8::/32): 0.0.0.0 or ::, and show says so.
    for layer, dst, zero in (("ipv4", "192.0.2.99", "0.0.0.0"), ("ipv6", "2001:db8::99", "::")):
        out = sh(*in_ns(pair.ns_a, pkt, "build", "-e", "%s(dst=%s) / udp()" % (layer, dst), "--format", "show"))
        check("no route to %s: %s, and show says so" % (dst, zero),
              re.search(r"^\s+src\s+= %s\s+route: no route to the destination$" % re.escape(zero),
                        out.stdout, re.M) is not None, out.stdout)
    # 5: control: a wrong checksum is dropped by the peer, so 1-3 mean the checksums were right.
    got, run = pair.exchange(pkt, 'send ipv4(dst=%s) / udp(sport=40004, dport=%d, checksum=0x1234) / "bad"\n'
                        % (pair.v4_b, pair.port), 1, tmp, limit=1.5)
    check("control: a wrong UDP checksum is not delivered", run.returncode == 0 and got == [],
          "pkt exit %d, stderr %r; received %r" % (run.returncode, run.stderr, got))


if __name__ == "__main__":
    sys.exit(netns.live_main("source_live", netns.ListenerPair("src", 77, 9999), checks))
