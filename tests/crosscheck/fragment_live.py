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
import sys

import netns


def checks(pkt, pair, tmp, check):
    data = "".join(chr(ord("a") + i % 26) for i in range(1000))
    for name, ip, size, n, sport, want_from in (
            ("ipv4 in 16 fragments of 64 bytes", "ipv4(dst=%s, id=4242)" % pair.v4_b, 64, 16, 40011, pair.v4_a),
            ("ipv6 in 6 fragments of 200 bytes", "ipv6(dst=%s)" % pair.v6_b, 200, 6, 40012, pair.v6_a)):
        text = ('packet f = fragment(%s / udp(sport=%d, dport=%d) / "%s", %d)\n'
                'lua { assert(f:count() == %d, "expected %d fragments, got " .. f:count()) }\n'
                'send f\n' % (ip, sport, pair.port, data, size, n, n))
        got, run = pair.exchange(pkt, text, 1, tmp)
        check(name, run.returncode == 0 and got == [{"from": want_from, "sport": sport, "data": data}],
              "pkt exit %d, stderr %r; received %r" % (run.returncode, run.stderr, got))
    # 3: control: without its last fragment the datagram never arrives.
    for name, ip, sport in (("ipv4", "ipv4(dst=%s, id=4343)" % pair.v4_b, 40013), ("ipv6", "ipv6(dst=%s)" % pair.v6_b, 40014)):
        text = ('packet f = fragment(%s / udp(sport=%d, dport=%d) / "%s", 64)\n'
                'lua {\n  local n, i = f:count(), 0\n'
                '  for q in f:each() do i = i + 1; if i < n then send(q) end end\n}\n' % (ip, sport, pair.port, data))
        got, run = pair.exchange(pkt, text, 1, tmp, limit=1.5)
        check("control: %s without the last fragment is not delivered" % name, run.returncode == 0 and got == [],
              "pkt exit %d, stderr %r; received %r" % (run.returncode, run.stderr, got))


if __name__ == "__main__":
    sys.exit(netns.live_main("fragment_live", netns.ListenerPair("frag", 78, 9998), checks))
