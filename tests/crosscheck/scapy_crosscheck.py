#!/usr/bin/python3
"""Cross-check pkt's packet bytes against scapy's.

Generates random packets (fixed seed) over every stdlib layer -- eth, arp,
ipv4 (with raw option bytes), ipv6, icmp (echo form, types 0 and 8), icmpv6
(echo form), tcp (every option kind, random flags and reserved bits), udp --
with random field values, some fields left at their defaults, payloads in
every encoding (escaped strings, hex"..", base64"..", file(".."), "AB" * n,
payload lists), generators (ranges and lists, expanded first-slowest) and a
few deliberately wrong checksums and lengths (the user's value wins in both
tools). Writes one .pkt file of `packet pN = ...` lines, runs
`pkt build FILE --format hex` and compares each line with
bytes(scapy_packet).hex().

Where pkt's defaults differ from scapy's (scapy picks addresses by routing)
the field is always set explicitly on both sides. Field combinations where
the two tools legitimately disagree are avoided:
  * a user ipv4 `length` above a tcp/udp with an auto checksum (scapy builds
    the pseudo-header from the IP length field, pkt from the real length);
  * a user ipv4 `proto` / ipv6 `next` above tcp/udp/icmpv6 that differs from
    the bound value (scapy's pseudo-header uses the real protocol number);
  * arp hlen/plen other than 6/4 (scapy's address fields change size).

Usage: scapy_crosscheck.py [PKT] [--seed N] [--count N] [--keep DIR]
PKT defaults to $PKT, then build/pkt. Exit 0 when every packet matches.
Run with Debian's /usr/bin/python3 (the one that has scapy).
"""
import argparse
import base64
import ipaddress
import itertools
import json
import logging
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, ICMPv6EchoReply, ICMPv6EchoRequest, IPv6, Raw  # noqa: E402
from scapy.config import conf  # noqa: E402

conf.verb = 0


class Gen:
    """A generator field value: pkt text (a range or a list) and the values in order."""

    def __init__(self, text, values):
        self.text = text
        self.values = values


# pkt's default source is the kernel's choice for the destination (the
# route_source() rule, a netlink route lookup): the cases that leave src unset
# tell scapy the address `ip route get` gives (loopback without asking;
# 0.0.0.0 or :: when there is no route).
ROUTE = object()


def kernel_source(family, dst):
    if family == socket.AF_INET and dst.startswith("127."):
        return "127.0.0.1"
    if family == socket.AF_INET6 and ipaddress.IPv6Address(dst) == ipaddress.IPv6Address("::1"):
        return "::1"
    r = subprocess.run(["ip", "-j", "-4" if family == socket.AF_INET else "-6", "route", "get", dst],
                       capture_output=True, text=True)
    routes = json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else []
    if routes and routes[0].get("prefsrc"):
        return routes[0]["prefsrc"]
    return "0.0.0.0" if family == socket.AF_INET else "::"


def resolve_route_source(layer, family):
    dst = next(a[3] for a in layer.args if a[0] == "dst")
    layer.args = [(f, t, sf, kernel_source(family, dst) if v is ROUTE else v) for f, t, sf, v in layer.args]


class Layer:
    def __init__(self, name, scapy_cls):
        self.name = name
        self.scapy_cls = scapy_cls
        self.args = []  # (pkt field, pkt value text, scapy field, value or Gen)
        self.fixup = None  # kwargs -> kwargs, applied per expanded packet

    def set(self, field, text, sfield, value):
        self.args.append((field, text, sfield, value))

    def has(self, field):
        return any(a[0] == field for a in self.args)

    def text(self):
        parts = []
        for f, t, _, v in self.args:
            if t is None and not isinstance(v, Gen):
                continue  # left at pkt's default; given to scapy explicitly
            parts.append("%s=%s" % (f, v.text if isinstance(v, Gen) else t))
        return "%s(%s)" % (self.name, ", ".join(parts))


class Payload:
    def __init__(self, text, value):
        self.text = text
        self.value = value  # bytes or Gen of bytes


class Case:
    def __init__(self, layers, payload, note=""):
        self.layers = layers
        self.payload = payload
        self.note = note

    def text(self):
        parts = [layer.text() for layer in self.layers]
        if self.payload is not None:
            parts.append(self.payload.text)
        return " / ".join(parts)

    def gens(self):
        out = []
        for li, layer in enumerate(self.layers):
            for f, _, sf, v in layer.args:
                if isinstance(v, Gen):
                    out.append((li, sf, v.values))
        if self.payload is not None and isinstance(self.payload.value, Gen):
            out.append((-1, None, self.payload.value.values))
        return out

    def scapy_packets(self):
        gens = self.gens()
        combos = itertools.product(*[g[2] for g in gens]) if gens else [()]
        out = []
        for combo in combos:
            chosen = {(g[0], g[1]): c for g, c in zip(gens, combo)}
            pkt = None
            for li, layer in enumerate(self.layers):
                kw = {}
                for f, _, sf, v in layer.args:
                    kw[sf] = chosen[(li, sf)] if isinstance(v, Gen) else v
                if layer.fixup:
                    kw = layer.fixup(kw)
                obj = layer.scapy_cls(**kw)
                pkt = obj if pkt is None else pkt / obj
            if self.payload is not None:
                load = chosen[(-1, None)] if isinstance(self.payload.value, Gen) else self.payload.value
                if load:
                    pkt = pkt / Raw(load=load)
            out.append(pkt)
        return out


class Fixed:
    """A hand-written case: pkt source and the scapy packets it must equal."""

    def __init__(self, text, packets):
        self._text = text
        self._packets = packets
        self.layers = []

    def text(self):
        return self._text

    def scapy_packets(self):
        return self._packets


def zero_sum_payload(lower, upper, head):
    """A payload (head + 2 bytes) that makes upper's computed checksum 0."""
    p = lower / upper / Raw(load=head + b"\0\0")
    p = p.__class__(bytes(p))
    ck = p[upper.__class__].chksum
    return head + ck.to_bytes(2, "big")


# Declared at the top of the generated script: a 3-byte layer puts what
# follows it at odd offsets, where incremental checksum updates are hardest.
PRELUDE = """layer odd "3 bytes" {
    a : u8 = 1
    b : u16 = 2
}
bind udp.dport = 7777 -> odd
"""


def edge_cases():
    """Corners the random cases reach rarely or never."""
    out = []
    # No src: the kernel's source for the destination (a route lookup), the
    # checksums over it; a set over destinations changes it with each one.
    out.append(Fixed('ipv4(dst=192.0.2.77) / udp(sport=1, dport=2) / "x"',
                     [IP(src=kernel_source(socket.AF_INET, "192.0.2.77"), dst="192.0.2.77") / UDP(sport=1, dport=2) / b"x"]))
    out.append(Fixed('ipv4(dst=[127.0.0.9, 192.0.2.78]) / tcp(sport=1, dport=2)',
                     [IP(src=kernel_source(socket.AF_INET, d), dst=d) / TCP(sport=1, dport=2)
                      for d in ("127.0.0.9", "192.0.2.78")]))
    out.append(Fixed('ipv6(dst=2001:db8::77) / tcp(sport=1, dport=2) / "x"',
                     [IPv6(src=kernel_source(socket.AF_INET6, "2001:db8::77"), dst="2001:db8::77")
                      / TCP(sport=1, dport=2) / b"x"]))
    out.append(Fixed('ipv6(dst=::1) / icmpv6(id=1)',
                     [IPv6(src="::1", dst="::1") / ICMPv6EchoRequest(id=1)]))
    # Generators at odd offsets inside checksummed regions (ipv4 tos, icmp code, odd.b).
    out.append(Fixed('ipv4(src=10.0.0.1, dst=10.0.0.2, tos=[0, 1, 255]) / udp(sport=5) / odd(b=[0, 0xffff, 0x1234, 0xfffe]) / "xyz"',
                     [IP(src="10.0.0.1", dst="10.0.0.2", tos=t) / UDP(sport=5, dport=7777)
                      / Raw(load=b"\x01" + b.to_bytes(2, "big") + b"xyz")
                      for t in (0, 1, 255) for b in (0, 0xffff, 0x1234, 0xfffe)]))
    out.append(Fixed('ipv6(src=::1, dst=::2) / udp(sport=5) / odd(a=0..255) / "xy"',
                     [IPv6(src="::1", dst="::2") / UDP(sport=5, dport=7777) / Raw(load=bytes([a]) + b"\x00\x02xy")
                      for a in range(256)]))
    out.append(Fixed('ipv4(src=10.0.0.1, dst=10.0.0.2) / icmp(code=0..255, seq=[1, 0xffff]) / "xy"',
                     [IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(code=c, seq=q) / b"xy"
                      for c in range(256) for q in (1, 0xffff)]))
    ip = dict(src="10.0.0.1", dst="10.0.0.2")
    # A UDP checksum that computes to 0 is sent as 0xffff (RFC 768), over IPv4 and IPv6.
    load = zero_sum_payload(IP(**ip), UDP(sport=1, dport=2), b"ab")
    out.append(Fixed('ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=1, dport=2) / hex"%s"' % load.hex(),
                     [IP(**ip) / UDP(sport=1, dport=2) / load]))
    load = zero_sum_payload(IPv6(src="::1", dst="::2"), UDP(sport=1, dport=2), b"ab")
    out.append(Fixed('ipv6(src=::1, dst=::2) / udp(sport=1, dport=2) / hex"%s"' % load.hex(),
                     [IPv6(src="::1", dst="::2") / UDP(sport=1, dport=2) / load]))
    # ... but a TCP checksum of 0 stays 0.
    load = zero_sum_payload(IP(**ip), TCP(sport=1, dport=2), b"ab")
    out.append(Fixed('ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(sport=1, dport=2) / hex"%s"' % load.hex(),
                     [IP(**ip) / TCP(sport=1, dport=2) / load]))
    # An IPv6 address whose groups all have two digits (not a MAC).
    out.append(Fixed("ipv6(src=10:20:30:40:50:60:70:80, dst=ab:cd:ef:1:2:3:4:5)",
                     [IPv6(src="10:20:30:40:50:60:70:80", dst="ab:cd:ef:1:2:3:4:5")]))
    # The largest TCP header: 40 option bytes; the largest IPv4 header: 40 option bytes.
    out.append(Fixed("ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(options=[sack(1, 2, 3, 4, 5, 6, 7, 8), nop, nop, eol, eol, eol, eol])",
                     [IP(**ip) / TCP(options=[("SAck", (1, 2, 3, 4, 5, 6, 7, 8))] + [("NOP", None)] * 2 + [("EOL", None)] * 4)]))
    out.append(Fixed('ipv4(src=10.0.0.1, dst=10.0.0.2, options=hex"%s") / icmp()' % ("01" * 39 + "00"),
                     [IP(options=[Raw(load=b"\x01" * 39 + b"\x00")], **ip) / ICMP()]))
    # Option bytes needing 1, 2 and 3 bytes of padding.
    for n in (3, 2, 1):
        out.append(Fixed('ipv4(src=10.0.0.1, dst=10.0.0.2, options=hex"%s") / udp()' % ("01" * n),
                         [IP(options=[Raw(load=b"\x01" * n)], **ip) / UDP()]))
    # Largest values of every width.
    out.append(Fixed("ipv4(src=255.255.255.255, dst=255.255.255.255, tos=255, id=65535, flags=7, frag=8191, ttl=255)"
                     " / tcp(sport=65535, dport=65535, seq=4294967295, ack=0xffffffff, reserved=7, flags=0x1ff,"
                     " window=65535, urgent=65535)",
                     [IP(src="255.255.255.255", dst="255.255.255.255", tos=255, id=65535, flags=7, frag=8191, ttl=255)
                      / TCP(sport=65535, dport=65535, seq=4294967295, ack=0xffffffff, reserved=7, flags=0x1ff,
                            window=65535, urgptr=65535)]))
    out.append(Fixed("ipv6(src=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff, dst=::, tc=255, flow=0xfffff, hlim=255)",
                     [IPv6(src="ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", dst="::", tc=255, fl=0xfffff, hlim=255)]))
    # A long range: the checksums of every packet are updated as the port counts up.
    out.append(Fixed("ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=7, dport=65000..65535) / \"xyz\"",
                     [IP(**ip) / UDP(sport=7, dport=d) / b"xyz" for d in range(65000, 65536)]))
    # Three generators, first slowest, feeding the IPv4 and TCP checksums.
    out.append(Fixed("ipv4(src=10.0.0.1..10.0.0.3, dst=10.0.0.2, ttl=[1, 255]) / tcp(seq=[0, 0xffffffff], flags=[SYN, ACK|FIN])",
                     [IP(src=s, dst="10.0.0.2", ttl=t) / TCP(seq=q, flags=f)
                      for s in ("10.0.0.1", "10.0.0.2", "10.0.0.3") for t in (1, 255) for q in (0, 0xffffffff)
                      for f in (0x02, 0x11)]))
    # A payload list changing the length (and every length and checksum with it).
    out.append(Fixed('eth(src=02:00:00:00:00:01) / ipv6(src=::1, dst=::2) / icmpv6(id=1) / ["", "a", "ab", "abc" * 100]',
                     [Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / IPv6(src="::1", dst="::2")
                      / ICMPv6EchoRequest(id=1) / Raw(load=x) for x in (b"", b"a", b"ab", b"abc" * 100)]))
    return out


class Generator:
    def __init__(self, rng, tmpdir):
        self.r = rng
        self.tmpdir = tmpdir
        self.files = 0

    # ---- values -------------------------------------------------------
    def chance(self, p):
        return self.r.random() < p

    def num_text(self, v, bits):
        c = self.r.random()
        if c < 0.55:
            return str(v)
        if c < 0.85 or bits > 16:
            return hex(v)
        return bin(v)

    def rand_bits(self, bits):
        # Mix edge values with uniform ones.
        c = self.r.random()
        if c < 0.1:
            return 0
        if c < 0.2:
            return (1 << bits) - 1
        return self.r.randrange(1 << bits)

    def uint(self, layer, field, sfield, bits, p_default=0.35, gen_ok=True):
        """Sets a number field to a random value (or leaves it at its default)."""
        if self.chance(p_default):
            return None
        if gen_ok and self.chance(0.05):
            self.generator(layer, field, sfield, bits)
            return None
        v = self.rand_bits(bits)
        layer.set(field, self.num_text(v, bits), sfield, v)
        return v

    def generator(self, layer, field, sfield, bits):
        n = self.r.randint(2, 4)
        if self.chance(0.5):
            lo = self.r.randrange(max(1, (1 << bits) - n))
            vals = list(range(lo, lo + n))
            layer.set(field, None, sfield, Gen("%s..%s" % (self.num_text(lo, bits), self.num_text(lo + n - 1, bits)), vals))
        else:
            vals = [self.r.randrange(1 << bits) for _ in range(n)]
            layer.set(field, None, sfield, Gen("[%s]" % ", ".join(self.num_text(v, bits) for v in vals), vals))

    def ipv4(self):
        c = self.r.random()
        if c < 0.1:
            return self.r.choice(["0.0.0.0", "255.255.255.255", "127.0.0.1"])
        return ".".join(str(self.r.randrange(256)) for _ in range(4))

    def ipv6(self):
        c = self.r.random()
        if c < 0.08:
            return self.r.choice(["::1", "::", "fe80::1", "2001:db8::", "ff02::1:ff00:1"])
        if c < 0.16:
            return "::ffff:" + self.ipv4()
        words = [self.r.randrange(65536) if self.chance(0.6) else 0 for _ in range(8)]
        if self.chance(0.3):
            start = self.r.randrange(8)
            for k in range(start, min(8, start + self.r.randint(1, 5))):
                words[k] = 0
        addr = ipaddress.IPv6Address(b"".join(w.to_bytes(2, "big") for w in words))
        return addr.exploded if self.chance(0.15) else addr.compressed

    def addr(self, layer, field, sfield, make, pkt_default):
        """An address field: usually random; sometimes left at pkt's default in
        the script while scapy (which would pick one by routing) is told it."""
        if self.chance(0.1):
            layer.set(field, None, sfield, pkt_default)
        else:
            a = make()
            layer.set(field, a, sfield, a)

    def mac(self):
        c = self.r.random()
        if c < 0.1:
            return self.r.choice(["ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "02:00:00:00:00:01"])
        return ":".join("%02x" % self.r.randrange(256) for _ in range(6))

    # ---- payloads -----------------------------------------------------
    def rand_bytes(self, n):
        return bytes(self.r.randrange(256) for _ in range(n))

    def payload_len(self):
        c = self.r.random()
        if c < 0.05:
            return 0
        if c < 0.12:
            return self.r.randint(600, 1400)
        return self.r.randint(1, 60)

    def string_payload(self):
        n = self.payload_len() if self.chance(0.8) else self.r.randint(1, 20)
        text, data = [], bytearray()
        for _ in range(n):
            c = self.r.random()
            if c < 0.06:
                text.append("\\n"); data += b"\n"
            elif c < 0.09:
                text.append("\\t"); data += b"\t"
            elif c < 0.12:
                text.append("\\\\"); data += b"\\"
            elif c < 0.15:
                text.append('\\"'); data += b'"'
            elif c < 0.20:
                v = self.r.randrange(0x100)  # \xNN is the byte NN, not a code point
                text.append("\\x%02x" % v if self.chance(0.7) else "\\x%02X" % v); data.append(v)
            elif c < 0.23:
                ch = self.r.choice(["\u00e9", "\u00fc", "\u65e5", "\u20ac", "\U0001f600"])
                text.append(ch); data += ch.encode("utf-8")
            else:
                ch = chr(self.r.randrange(0x20, 0x7f))
                if ch in '"\\':
                    ch = "a"
                text.append(ch); data += ch.encode()
        return Payload('"%s"' % "".join(text), bytes(data))

    def hex_payload(self):
        data = self.rand_bytes(self.payload_len())
        h = data.hex()
        if self.chance(0.2):
            h = h.upper()
        if self.chance(0.5):
            h = " ".join(h[i:i + 2] for i in range(0, len(h), 2))
        elif self.chance(0.3):
            h = " ".join(h[i:i + 8] for i in range(0, len(h), 8))
        return Payload('hex"%s"' % h, data)

    def b64_payload(self):
        data = self.rand_bytes(self.payload_len())
        return Payload('base64"%s"' % base64.b64encode(data).decode(), data)

    def file_payload(self):
        data = self.rand_bytes(self.payload_len())
        self.files += 1
        name = "payload%d.bin" % self.files
        with open(os.path.join(self.tmpdir, name), "wb") as f:
            f.write(data)
        return Payload('file("%s")' % name, data)

    def repeat_payload(self):
        unit = self.r.choice(["AB", "A", "xyz", "\\x00\\x01"])
        n = self.r.randint(1, 700) if self.chance(0.2) else self.r.randint(1, 40)
        raw = unit.replace("\\x00", "\x00").replace("\\x01", "\x01").encode()
        return Payload('"%s" * %d' % (unit, n), raw * n)

    def list_payload(self):
        items = [self.r.choice([self.string_payload, self.hex_payload, self.b64_payload])() for _ in range(self.r.randint(2, 3))]
        items = [it for it in items if it.value] or [Payload('"x"', b"x")]
        return Payload("[%s]" % ", ".join(it.text for it in items), Gen(None, [it.value for it in items]))

    def payload(self):
        c = self.r.random()
        if c < 0.12:
            return None
        if c < 0.14:
            return Payload('""', b"")
        if c < 0.17:
            return self.list_payload()
        return self.r.choice([self.string_payload, self.hex_payload, self.b64_payload, self.file_payload,
                              self.repeat_payload])()

    # ---- layers -------------------------------------------------------
    def eth(self, upper):
        l = Layer("eth", Ether)
        self.addr(l, "dst", "dst", self.mac, "ff:ff:ff:ff:ff:ff")
        self.addr(l, "src", "src", self.mac, "00:00:00:00:00:00")
        if upper is None or self.chance(0.1):
            if self.chance(0.5):
                name, v = self.r.choice([("ipv4", 0x0800), ("arp", 0x0806), ("ipv6", 0x86dd), ("vlan", 0x8100)])
                l.set("type", name, "type", v)
            else:
                self.uint(l, "type", "type", 16, p_default=0.3, gen_ok=False)
        return l

    def arp(self):
        l = Layer("arp", ARP)
        if self.chance(0.2):
            v = self.r.choice([1, 6, 0x20])
            l.set("htype", "ethernet" if v == 1 and self.chance(0.5) else self.num_text(v, 16), "hwtype", v)
        if self.chance(0.2):
            v = self.r.choice([0x0800, 0x86dd, 0x1234])
            l.set("ptype", self.num_text(v, 16), "ptype", v)
        if self.chance(0.2):
            l.set("hlen", "6", "hwlen", 6)
        if self.chance(0.2):
            l.set("plen", "4", "plen", 4)
        c = self.r.random()
        if c < 0.3:
            n = self.r.choice(["request", "reply"])
            l.set("op", n, "op", 1 if n == "request" else 2)
        elif c < 0.7:
            self.uint(l, "op", "op", 16, p_default=0)
        self.addr(l, "sha", "hwsrc", self.mac, "00:00:00:00:00:00")
        self.addr(l, "spa", "psrc", self.ipv4, "0.0.0.0")
        if self.chance(0.6):
            m = self.mac()
            l.set("tha", m, "hwdst", m)
        if self.chance(0.6):
            a = self.ipv4()
            l.set("tpa", a, "pdst", a)

        def fixup(kw):
            kw = dict(kw)
            kw.setdefault("hwlen", 6)
            kw.setdefault("plen", 4)
            hw = kw.get("hwtype", 1)
            pt = kw.get("ptype", 0x0800)
            if hw != 1:
                for k in ("hwsrc", "hwdst"):
                    kw[k] = bytes.fromhex(kw.get(k, "00:00:00:00:00:00").replace(":", ""))
            if pt != 0x0800:
                for k in ("psrc", "pdst"):
                    kw[k] = ipaddress.IPv4Address(kw.get(k, "0.0.0.0")).packed
            return kw

        l.fixup = fixup
        return l

    def ipv4_layer(self, upper, upper_auto_pseudo, force_len=False):
        l = Layer("ipv4", IP)
        if self.chance(0.03):
            l.set("version", str(v := self.r.randrange(16)), "version", v)
        if self.chance(0.04):
            l.set("ihl", str(v := self.r.randrange(16)), "ihl", v)
        self.uint(l, "tos", "tos", 8, p_default=0.6)
        if force_len:
            v = self.r.randrange(65536)
            l.set("length", self.num_text(v, 16), "len", v)
        self.uint(l, "id", "id", 16, p_default=0.3)
        if self.chance(0.3):
            if self.chance(0.5):
                names = [n for n in ("RF", "DF", "MF") if self.chance(0.5)]
                if names:
                    v = sum({"RF": 4, "DF": 2, "MF": 1}[n] for n in names)
                    l.set("flags", "|".join(names), "flags", v)
            else:
                self.uint(l, "flags", "flags", 3, p_default=0, gen_ok=False)
        if self.chance(0.2):
            self.uint(l, "frag", "frag", 13, p_default=0)
        self.uint(l, "ttl", "ttl", 8, p_default=0.4)
        if not upper_auto_pseudo and self.chance(0.3):
            if self.chance(0.5):
                names = {"hopopt": 0, "icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "udp": 17, "ipv6": 41, "gre": 47,
                         "esp": 50, "ah": 51, "icmpv6": 58, "sctp": 132}
                n = self.r.choice(sorted(names))
                l.set("proto", n, "proto", names[n])
            else:
                self.uint(l, "proto", "proto", 8, p_default=0, gen_ok=False)
        if self.chance(0.06):
            v = self.r.randrange(65536)
            l.set("checksum", self.num_text(v, 16), "chksum", v)
        if self.chance(0.04):
            lo = self.r.randrange(1, 250)
            n = self.r.randint(2, 3)
            vals = ["10.%d.0.%d" % (lo, lo + k) for k in range(n)]
            l.set("src", None, "src", Gen("%s..%s" % (vals[0], vals[-1]), vals))
        else:
            self.addr(l, "src", "src", self.ipv4, ROUTE)
        self.addr(l, "dst", "dst", self.ipv4, "127.0.0.1")
        resolve_route_source(l, socket.AF_INET)
        if self.chance(0.2):
            data = self.rand_bytes(self.r.randint(1, 40))
            l.set("options", 'hex"%s"' % data.hex(), "options", [Raw(load=data)])
        return l

    def ipv6_layer(self, upper, upper_auto_pseudo, force_len=False):
        l = Layer("ipv6", IPv6)
        if self.chance(0.03):
            l.set("version", str(v := self.r.randrange(16)), "version", v)
        self.uint(l, "tc", "tc", 8, p_default=0.5)
        self.uint(l, "flow", "fl", 20, p_default=0.5)
        if force_len:
            v = self.r.randrange(65536)
            l.set("length", self.num_text(v, 16), "plen", v)
        if not upper_auto_pseudo and self.chance(0.3):
            if self.chance(0.5):
                names = {"hopopt": 0, "tcp": 6, "udp": 17, "ipv6": 41, "routing": 43, "fragment": 44, "esp": 50,
                         "ah": 51, "icmpv6": 58, "none": 59, "dstopts": 60}
                n = self.r.choice(sorted(names))
                l.set("next", n, "nh", names[n])
            else:
                self.uint(l, "next", "nh", 8, p_default=0, gen_ok=False)
        self.uint(l, "hlim", "hlim", 8, p_default=0.4)
        self.addr(l, "src", "src", self.ipv6, ROUTE)
        self.addr(l, "dst", "dst", self.ipv6, "::1")
        resolve_route_source(l, socket.AF_INET6)
        return l

    def tcp_options(self):
        items, sc, size = [], [], 0
        for _ in range(self.r.randint(1, 7)):
            kind = self.r.choice(["mss", "nop", "eol", "wscale", "sackok", "sack", "timestamp", "raw", "raw_nop"])
            if kind == "mss":
                v = self.r.randrange(65536); it, s, n = "mss(%s)" % self.num_text(v, 16), ("MSS", v), 4
            elif kind == "nop":
                it, s, n = "nop", ("NOP", None), 1
            elif kind == "eol":
                it, s, n = "eol", ("EOL", None), 1
            elif kind == "wscale":
                v = self.r.randrange(256); it, s, n = "wscale(%d)" % v, ("WScale", v), 3
            elif kind == "sackok":
                it, s, n = "sackok", ("SAckOK", b""), 2
            elif kind == "sack":
                edges = [self.r.randrange(1 << 32) for _ in range(2 * self.r.randint(1, 4))]
                it, s, n = "sack(%s)" % ", ".join(str(e) for e in edges), ("SAck", tuple(edges)), 2 + 4 * len(edges)
            elif kind == "timestamp":
                a, b = self.r.randrange(1 << 32), self.r.randrange(1 << 32)
                it, s, n = "timestamp(%d, %s)" % (a, self.num_text(b, 32)), ("Timestamp", (a, b)), 10
            elif kind == "raw":
                k = self.r.choice([6, 7, 19, 28, 30, 34, 253, 254])
                data = self.rand_bytes(self.r.randint(0, 6))
                raw = bytes([k, 2 + len(data)]) + data
                it, s, n = 'hex"%s"' % raw.hex(), (k, data), len(raw)
            else:
                it, s, n = 'hex"01"', ("NOP", None), 1
            if size + n > 40:
                continue
            items.append(it); sc.append(s); size += n
        return "[%s]" % ", ".join(items), sc

    def tcp(self, user_checksum=False):
        l = Layer("tcp", TCP)
        self.uint(l, "sport", "sport", 16, p_default=0.2)
        self.uint(l, "dport", "dport", 16, p_default=0.2)
        self.uint(l, "seq", "seq", 32, p_default=0.3)
        self.uint(l, "ack", "ack", 32, p_default=0.5)
        if self.chance(0.05):
            l.set("offset", str(v := self.r.randrange(16)), "dataofs", v)
        if self.chance(0.3):
            l.set("reserved", str(v := self.r.randrange(8)), "reserved", v)
        c = self.r.random()
        if c < 0.45:
            table = {"NS": 0x100, "CWR": 0x80, "ECE": 0x40, "URG": 0x20, "ACK": 0x10, "PSH": 0x08, "RST": 0x04,
                     "SYN": 0x02, "FIN": 0x01}
            names = [n for n in table if self.chance(0.3)] or ["ACK"]
            self.r.shuffle(names)
            l.set("flags", "|".join(names), "flags", sum(table[n] for n in names))
        elif c < 0.75:
            self.uint(l, "flags", "flags", 9, p_default=0, gen_ok=True)
        self.uint(l, "window", "window", 16, p_default=0.3)
        if user_checksum or self.chance(0.05):
            v = self.r.randrange(65536)
            l.set("checksum", self.num_text(v, 16), "chksum", v)
        self.uint(l, "urgent", "urgptr", 16, p_default=0.6)
        if self.chance(0.55):
            text, sc = self.tcp_options()
            l.set("options", text, "options", sc)
        return l

    def udp(self, user_checksum=False):
        l = Layer("udp", UDP)
        self.uint(l, "sport", "sport", 16, p_default=0.2)
        self.uint(l, "dport", "dport", 16, p_default=0.2)
        if self.chance(0.05):
            v = self.r.randrange(65536)
            l.set("length", self.num_text(v, 16), "len", v)
        if user_checksum or self.chance(0.06):
            v = self.r.choice([0, 0xffff, self.r.randrange(65536)])
            l.set("checksum", self.num_text(v, 16), "chksum", v)
        return l

    def icmp(self):
        l = Layer("icmp", ICMP)
        c = self.r.random()
        if c < 0.3:
            n = self.r.choice(["echo_request", "echo_reply"])
            l.set("type", n, "type", 8 if n == "echo_request" else 0)
        elif c < 0.6:
            v = self.r.choice([0, 8])
            l.set("type", str(v), "type", v)
        self.uint(l, "code", "code", 8, p_default=0.6)
        if self.chance(0.06):
            v = self.r.randrange(65536)
            l.set("checksum", self.num_text(v, 16), "chksum", v)
        self.uint(l, "id", "id", 16, p_default=0.3)
        self.uint(l, "seq", "seq", 16, p_default=0.3)
        return l

    def icmpv6(self):
        reply = self.chance(0.5)
        l = Layer("icmpv6", ICMPv6EchoReply if reply else ICMPv6EchoRequest)
        if reply:
            l.set("type", self.r.choice(["echo_reply", "129"]), "type", 129)
        elif self.chance(0.5):
            l.set("type", self.r.choice(["echo_request", "128", "0x80"]), "type", 128)
        self.uint(l, "code", "code", 8, p_default=0.6)
        if self.chance(0.06):
            v = self.r.randrange(65536)
            l.set("checksum", self.num_text(v, 16), "cksum", v)
        self.uint(l, "id", "id", 16, p_default=0.3)
        self.uint(l, "seq", "seq", 16, p_default=0.3)
        return l

    # ---- stacks -------------------------------------------------------
    def transport(self, ip_kind):
        choices = ["tcp", "udp", "raw"] + (["icmp"] if ip_kind == "ipv4" else ["icmpv6"])
        return self.r.choice(choices + ["tcp", "udp"])

    def ip_stack(self, ip_kind, upper_kind):
        """An IP layer (and what is above it) as a list of layers."""
        auto_pseudo = upper_kind in ("tcp", "udp", "icmpv6")
        # A user length on ipv4 under tcp/udp goes with a user checksum above.
        force_len = self.chance(0.05)
        user_ck = force_len and ip_kind == "ipv4" and upper_kind in ("tcp", "udp")
        ip = self.ipv4_layer(upper_kind, auto_pseudo, force_len) if ip_kind == "ipv4" else self.ipv6_layer(upper_kind, auto_pseudo, force_len)
        if upper_kind == "tcp":
            return [ip, self.tcp(user_ck)]
        if upper_kind == "udp":
            return [ip, self.udp(user_ck)]
        if upper_kind == "icmp":
            return [ip, self.icmp()]
        if upper_kind == "icmpv6":
            return [ip, self.icmpv6()]
        return [ip]

    def case(self):
        c = self.r.random()
        if c < 0.28:
            kind = "ipv4"
            layers = self.ip_stack(kind, self.transport(kind))
        elif c < 0.50:
            kind = "ipv6"
            layers = self.ip_stack(kind, self.transport(kind))
        elif c < 0.66:
            kind = self.r.choice(["ipv4", "ipv6"])
            inner = self.ip_stack(kind, self.transport(kind))
            layers = [self.eth(kind)] + inner
        elif c < 0.76:
            arp = self.arp()
            layers = [self.eth("arp"), arp] if self.chance(0.8) else [arp]
        elif c < 0.79:
            layers = [self.eth(None)]
        else:
            # Tunnels: ipv4/ipv4, ipv4/ipv6, ipv6/ipv6, ipv6/ipv4.
            outer = self.r.choice(["ipv4", "ipv6"])
            inner = self.r.choice(["ipv4", "ipv6"])
            top = self.ip_stack(inner, self.transport(inner))
            out = self.ipv4_layer("ip", False) if outer == "ipv4" else self.ipv6_layer("ip", False)
            layers = [out] + top
            if self.chance(0.2):
                layers = [self.eth(outer)] + layers
        return Case(layers, self.payload())


def pkt_path(arg):
    return arg or os.environ.get("PKT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "pkt")


def first_diff(a, b):
    for i in range(0, min(len(a), len(b)), 2):
        if a[i:i + 2] != b[i:i + 2]:
            return i // 2
    return min(len(a), len(b)) // 2


def compare(case_lines, expected, outputs, label):
    """expected/outputs: lists of hex strings per case. Returns (passed, failed)."""
    passed = failed = 0
    for idx, (src, exp, got) in enumerate(zip(case_lines, expected, outputs)):
        if got is None:
            failed += len(exp)
            continue
        ok = True
        if len(got) != len(exp):
            print("MISMATCH p%d: pkt built %d packets, scapy %d" % (idx, len(got), len(exp)))
            print("  pkt:   %s" % src)
            failed += len(exp)
            continue
        for k, (e, g) in enumerate(zip(exp, got)):
            if e == g:
                passed += 1
                continue
            failed += 1
            if ok:
                print("MISMATCH p%d%s: first differing byte at offset %d (pkt %d bytes, scapy %d bytes)" % (
                    idx, "" if len(exp) == 1 else " (packet %d of %d)" % (k + 1, len(exp)), first_diff(e, g),
                    len(g) // 2, len(e) // 2))
                print("  pkt:   %s" % src)
                print("  pkt   hex: %s" % g)
                print("  scapy hex: %s" % e)
                ok = False
    return passed, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pkt", nargs="?", help="path to the pkt binary (default $PKT, then build/pkt)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=400, help="number of packet declarations")
    ap.add_argument("--keep", help="write the .pkt file and payloads to this directory and keep them")
    args = ap.parse_args()
    pkt = pkt_path(args.pkt)

    tmpdir = args.keep or tempfile.mkdtemp(prefix="pkt-crosscheck-")
    os.makedirs(tmpdir, exist_ok=True)
    try:
        g = Generator(random.Random(args.seed), tmpdir)
        cases = [g.case() for _ in range(args.count)] + edge_cases()
        srcs = [c.text() for c in cases]
        expected = [[bytes(p).hex() for p in c.scapy_packets()] for c in cases]
        script = os.path.join(tmpdir, "crosscheck.pkt")
        with open(script, "w", encoding="utf-8") as f:
            f.write("# generated by scapy_crosscheck.py --seed %d\n" % args.seed)
            f.write(PRELUDE)
            for i, s in enumerate(srcs):
                f.write("packet p%d = %s\n" % (i, s))

        res = subprocess.run([pkt, "build", script, "--format", "hex"], capture_output=True)
        outputs = None
        if res.returncode == 0:
            lines = res.stdout.decode().splitlines()
            total = sum(len(e) for e in expected)
            if len(lines) == total:
                outputs, k = [], 0
                for e in expected:
                    outputs.append(lines[k:k + len(e)])
                    k += len(e)
            else:
                print("pkt printed %d lines for %d packets; building each declaration on its own" % (len(lines), total))
        else:
            print("pkt build failed (exit %d) on the whole file; building each declaration on its own:" % res.returncode)
            print("  " + res.stderr.decode(errors="replace").strip().replace("\n", "\n  "))
        if outputs is None:
            outputs = []
            for i, s in enumerate(srcs):
                one = os.path.join(tmpdir, "one.pkt")
                with open(one, "w", encoding="utf-8") as f:
                    f.write(PRELUDE)
                    f.write("packet p%d = %s\n" % (i, s))
                r = subprocess.run([pkt, "build", one, "--format", "hex"], capture_output=True)
                if r.returncode != 0:
                    print("ERROR p%d: pkt exit %d" % (i, r.returncode))
                    print("  pkt:   %s" % s)
                    print("  " + r.stderr.decode(errors="replace").strip().replace("\n", "\n  "))
                    outputs.append(None)
                else:
                    outputs.append(r.stdout.decode().splitlines())

        passed, failed = compare(srcs, expected, outputs, "")
        layers = sorted({layer.name for c in cases for layer in c.layers})
        print("layers covered: %s" % ", ".join(layers))
        print("crosscheck: %d passed, %d failed (seed %d, %d declarations)" % (passed, failed, args.seed, len(cases)))
        return 0 if failed == 0 and passed > 0 else 1
    finally:
        if not args.keep:
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
