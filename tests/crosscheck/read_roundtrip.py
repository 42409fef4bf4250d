#!/usr/bin/python3
"""Build -> read -> build round trips through `pkt read`.

1. Golden vectors: every `CHECK(bytes_of(EXPR) == "HEX")` in
   tests/test_layers.cpp (parsed from the .cpp). For each, `pkt read --hex HEX
   --first FIRST` must print HEX again (--format hex), its --format pkt text
   must build back to HEX, and the --format json layer names must be EXPR's
   layer names (payload literals are one raw layer).
2. Random packets from scapy_crosscheck.py's generator (every stdlib layer;
   generator fields expand to several packets), plus IPv6 extension header
   stacks (ipv6_hop, ipv6_route, ipv6_frag, ipv6_dest, which that generator
   does not make). Each group is built to pcap with its link type (eth first:
   EN10MB; ipv4/ipv6 first: RAW; arp first: read with --first arp), then
   `pkt read` must give: --format hex == the built bytes; --format pkt builds
   back to the same bytes; --format json holds every field value the generator
   set explicitly, option lists included (re-encoded from JSON by this test).
   JSON values are compared layer by layer while the dissected layer names
   match the expression's, and no further than a layer where the generator
   set a structural field (ipv4 version/ihl/length, tcp offset, udp length):
   past it the bytes legitimately dissect differently.
3. Deliberately wrong values survive a read: bad IPv4/TCP/UDP/ICMP/ICMPv6
   checksums, a wrong IPv4 total length, a wrong UDP length, an Ethernet frame
   padded to 60 bytes. `show` must say `wire, computed X` with X computed here
   (the checksum in Python, the length from the byte count), the padding must
   come back as `trailer=hex"..."` (JSON "trailer"), and every one rebuilds.

Usage: read_roundtrip.py [PKT] [--seed N] [--count N] [--keep DIR]
"""
import argparse
import ipaddress
import itertools
import os
import random
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import readutil as ru  # noqa: E402
import scapy_crosscheck as sc  # noqa: E402

LINKTYPE_EN10MB = 1
LINKTYPE_RAW = 101


class Checker:
    def __init__(self):
        self.failures = 0
        self.compared = 0
        self.golden_names_skipped = 0
        self.json_fields = 0

    def fail(self, what, *details):
        self.failures += 1
        if self.failures <= 40:
            print("FAIL: " + what)
            for d in details:
                print("  " + str(d).replace("\n", "\n  "))
        elif self.failures == 41:
            print("(further failures not shown)")


# ---- 1. golden vectors ------------------------------------------------------

def golden_vectors(cpp_path):
    text = open(cpp_path, encoding="utf-8").read()
    out = []
    for m in re.finditer(r'CHECK\(bytes_of\((.*?)\)\s*==\s*((?:"[0-9a-f]*"\s*)+)\);', text, re.S):
        pieces = re.findall(r'R"pkt\((.*?)\)pkt"', m.group(1), re.S)
        expr = "".join(pieces)
        hexs = "".join(re.findall(r'"([0-9a-f]*)"', m.group(2)))
        out.append((expr, hexs))
    return out


def check_golden(pkt, ck, tmpdir, cpp_path):
    vectors = golden_vectors(cpp_path)
    if len(vectors) < 30:
        ck.fail("found only %d golden vectors in %s (the regex no longer matches?)" % (len(vectors), cpp_path))
    texts = []
    for i, (expr, hexs) in enumerate(vectors):
        first = expr.split("(", 1)[0].strip()
        base = [pkt, "read", "--hex", hexs, "--first", first]
        r = ru.run(base + ["--format", "hex"])
        if r.rc != 0 or r.out.strip() != hexs:
            ck.fail("golden %d: read --format hex is not the input" % i, expr, r.describe())
        r = ru.run(base + ["--format", "json"])
        if r.rc != 0:
            ck.fail("golden %d: read --format json failed" % i, r.describe())
        else:
            got = [l["layer"] for l in ru.parse_json_lines(r.out)[0]["layers"]]
            want = ru.expr_layer_names(expr)
            if re.search(r"\b(ihl|offset)=", expr):
                # A user header length the bytes contradict (ihl=9 over 28 bytes, offset=14
                # under 60 bytes of tcp header) dissects differently; the bytes must still
                # come back, checked above and below.
                ck.golden_names_skipped += 1
            elif got != want:
                ck.fail("golden %d: dissected layers %s, the expression has %s" % (i, got, want), expr, r.out)
        r = ru.run(base + ["--format", "pkt"])
        if r.rc != 0:
            ck.fail("golden %d: read --format pkt failed" % i, r.describe())
            texts.append(None)
            continue
        texts.append(ru.parse_pkt_lines(r.out)[0][1])
    script = os.path.join(tmpdir, "golden_rebuild.pkt")
    idx = [i for i, t in enumerate(texts) if t is not None]
    with open(script, "w", encoding="utf-8") as f:
        for i in idx:
            f.write("packet g%d = %s\n" % (i, texts[i]))
    r = ru.run([pkt, "build", script, "--format", "hex"])
    if r.rc != 0:
        ck.fail("golden: pkt build of the read texts failed", r.describe())
        return len(vectors)
    lines = r.out.split()
    if len(lines) != len(idx):
        ck.fail("golden: rebuild gave %d packets for %d" % (len(lines), len(idx)))
        return len(vectors)
    for i, got in zip(idx, lines):
        ck.compared += 1
        if got != vectors[i][1]:
            ck.fail("golden %d: rebuild differs" % i, "expr:    " + vectors[i][0], "read as: " + texts[i],
                    "want: " + vectors[i][1], "got:  " + got)
    return len(vectors)


# ---- 2. random packets --------------------------------------------------------

EXT_NEXT = {  # from each header, the extension headers bound after it (stdlib/20-ip.pkt)
    "ipv6": ["ipv6_hop", "ipv6_route", "ipv6_frag", "ipv6_dest"],
    "ipv6_hop": ["ipv6_route", "ipv6_frag", "ipv6_dest"],
    "ipv6_dest": ["ipv6_route", "ipv6_frag"],
    "ipv6_route": ["ipv6_frag", "ipv6_dest"],
    "ipv6_frag": ["ipv6_dest"],
}


class ExtGenerator(sc.Generator):
    """scapy_crosscheck's generator, plus stacks with IPv6 extension headers."""

    def ext_options(self, hop):
        items, size = [], 0
        for _ in range(self.r.randint(0, 4)):
            k = self.r.choice(["pad1", "padn", "unknown"] + (["router_alert"] if hop else []))
            if k == "pad1":
                it, n = "pad1", 1
            elif k == "padn":
                d = self.rand_bytes(self.r.randint(0, 5))
                it, n = 'padn(hex"%s")' % d.hex(), 2 + len(d)
            elif k == "router_alert":
                it, n = "router_alert(%d)" % self.r.randrange(65536), 4
            else:
                # Option types 0x02..0x04 and 0x1e..: no declaration, read back as bytes.
                d = self.rand_bytes(self.r.randint(0, 6))
                it, n = 'hex"%s"' % (bytes([self.r.choice([0x1e, 0x3e, 0x63, 0xc2]), len(d)]) + d).hex(), 2 + len(d)
            if size + n > 60:
                break
            items.append(it); size += n
        return "[%s]" % ", ".join(items)

    def ext_layer(self, name):
        l = sc.Layer(name, None)
        if name in ("ipv6_hop", "ipv6_dest"):
            if self.chance(0.8):
                l.set("options", self.ext_options(name == "ipv6_hop"), "options", None)
        elif name == "ipv6_route":
            self.uint(l, "type", "type", 8, p_default=0.3, gen_ok=False)
            self.uint(l, "segleft", "segleft", 8, p_default=0.4, gen_ok=False)
            if self.chance(0.7):
                d = self.rand_bytes(self.r.choice([4, 12, self.r.randint(0, 30)]))
                l.set("data", 'hex"%s"' % d.hex(), "data", d)
        else:
            self.uint(l, "offset", "offset", 13, p_default=0.5, gen_ok=False)
            self.uint(l, "res", "res", 2, p_default=0.7, gen_ok=False)
            self.uint(l, "m", "m", 1, p_default=0.5, gen_ok=False)
            self.uint(l, "id", "id", 32, p_default=0.2)
            self.uint(l, "reserved", "reserved", 8, p_default=0.8, gen_ok=False)
        return l

    def ext_case(self):
        upper = self.r.choice(["tcp", "udp", "icmpv6", "raw", "ipv6", "ipv4"])
        ip = self.ipv6_layer(upper, True)
        layers, cur = [ip], "ipv6"
        for _ in range(self.r.randint(1, 3)):
            if cur not in EXT_NEXT:
                break
            cur = self.r.choice(EXT_NEXT[cur])
            layers.append(self.ext_layer(cur))
        if upper == "tcp":
            layers.append(self.tcp())
        elif upper == "udp":
            layers.append(self.udp())
        elif upper == "icmpv6":
            layers.append(self.icmpv6())
        elif upper in ("ipv6", "ipv4"):
            layers += self.ip_stack(upper, self.transport(upper))
        else:
            # A payload straight after an extension header: its next stays "none".
            pass
        if self.chance(0.15):
            layers = [self.eth("ipv6")] + layers
        return sc.Case(layers, self.payload())

    def any_case(self):
        return self.ext_case() if self.chance(0.2) else self.case()


STRUCTURAL = {"ipv4": {"version", "ihl", "length"}, "ipv6": {"version", "length"}, "tcp": {"offset"},
              "udp": {"length"}, "ipv6_hop": {"hlen"}, "ipv6_dest": {"hlen"}, "ipv6_route": {"hlen"}}


def case_count(case):
    n = 1
    for g in case.gens():
        n *= len(g[2])
    return n


def addr_equal(a, b):
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return str(a).lower() == str(b).lower()


def check_json_fields(ck, label, case, pkt_json):
    """Compares the explicitly set field values of case with the JSON of one packet."""
    got_layers = pkt_json["layers"]
    for li, layer in enumerate(case.layers):
        if li >= len(got_layers) or got_layers[li]["layer"] != layer.name:
            return
        fields = got_layers[li]["fields"]
        header_before = 2
        # A user ihl/offset/hlen decides where the options end, not the options set.
        structural = any(a[0] in STRUCTURAL.get(layer.name, ()) for a in layer.args)
        for f, text, sfield, v in layer.args:
            if text is None or isinstance(v, sc.Gen):
                continue
            if f not in fields:
                ck.fail("%s: layer %d (%s) has no field %s in JSON" % (label, li, layer.name, f), case.text())
                continue
            got = fields[f]
            ok = True
            if f == "options":
                if structural:
                    continue
                want = option_bytes_from_text(layer.name, text, v)
                if want is None:
                    continue
                try:
                    enc = ru.encode_options(layer.name, got)
                except ValueError as e:
                    ck.fail("%s: %s" % (label, e), case.text())
                    continue
                ok = ru.pad_options(layer.name, enc, header_before) == ru.pad_options(layer.name, want, header_before)
            elif isinstance(v, bool) or isinstance(v, int):
                ok = got == v
            elif isinstance(v, bytes):
                if layer.name == "ipv6_route" and f == "data":
                    v = v + b"\0" * (-(len(v) + 4) % 8)  # zeros to 8 bytes: part of the field on the wire
                ok = got == v.hex()
            elif isinstance(v, str):
                ok = addr_equal(got, v)
            else:
                continue
            ck.json_fields += 1
            if not ok:
                ck.fail("%s: layer %d %s.%s: set %s, JSON has %r" % (label, li, layer.name, f, text, got), case.text(),
                        "json: %s" % got_layers[li])
        if structural:
            return


def option_bytes_from_text(layer_name, text, value):
    """The option bytes a generator meant: ipv4 raw bytes, tcp's scapy tuples, or
    the ext-header item list this test writes."""
    if layer_name == "ipv4":
        return bytes.fromhex(text[4:-1])
    if layer_name == "tcp":
        out = b""
        for it in value:
            k, d = it
            if k == "MSS":
                out += b"\x02\x04" + d.to_bytes(2, "big")
            elif k == "NOP":
                out += b"\x01"
            elif k == "EOL":
                out += b"\x00"
            elif k == "WScale":
                out += b"\x03\x03" + bytes([d])
            elif k == "SAckOK":
                out += b"\x04\x02"
            elif k == "SAck":
                out += bytes([5, 2 + 4 * len(d)]) + b"".join(e.to_bytes(4, "big") for e in d)
            elif k == "Timestamp":
                out += b"\x08\x0a" + d[0].to_bytes(4, "big") + d[1].to_bytes(4, "big")
            else:
                out += bytes([k, 2 + len(d)]) + d
        return out
    if layer_name in ("ipv6_hop", "ipv6_dest"):
        out = b""
        for it in ru.split_top(text[1:-1], ","):
            if not it:
                continue
            if it == "pad1":
                out += b"\x00"
            elif it.startswith("padn("):
                d = bytes.fromhex(it[len('padn(hex"'):-2])
                out += bytes([1, len(d)]) + d
            elif it.startswith("router_alert("):
                out += b"\x05\x02" + int(it[len("router_alert("):-1]).to_bytes(2, "big")
            else:
                out += bytes.fromhex(it[4:-1])
        return out
    return None


def check_random(pkt, ck, tmpdir, seed, count):
    g = ExtGenerator(random.Random(seed), tmpdir)
    cases = [g.any_case() for _ in range(count)]
    prelude = os.path.join(tmpdir, "prelude.pkt")
    with open(prelude, "w") as f:
        f.write(sc.PRELUDE)
    groups = {"eth": [], "ip": [], "arp": []}
    for c in cases:
        first = c.layers[0].name
        groups["eth" if first == "eth" else "arp" if first == "arp" else "ip"].append(c)
    total = 0
    for gname, gcases in groups.items():
        if not gcases:
            continue
        script = os.path.join(tmpdir, "rand_%s.pkt" % gname)
        with open(script, "w", encoding="utf-8") as f:
            f.write("# generated by read_roundtrip.py --seed %d\n" % seed)
            f.write(sc.PRELUDE)
            for i, c in enumerate(gcases):
                f.write("packet p%d = %s\n" % (i, c.text()))
        pcap = os.path.join(tmpdir, "rand_%s.pcap" % gname)
        r = ru.run([pkt, "build", script, "--format", "hex"])
        if r.rc != 0:
            ck.fail("random %s: pkt build failed" % gname, r.describe())
            continue
        built = r.out.split()
        want_n = sum(case_count(c) for c in gcases)
        if len(built) != want_n:
            ck.fail("random %s: built %d packets, expected %d" % (gname, len(built), want_n))
            continue
        r = ru.run([pkt, "build", script, "--format", "pcap", "-o", pcap])
        if r.rc != 0:
            ck.fail("random %s: pkt build --format pcap failed" % gname, r.describe())
            continue
        with open(pcap, "rb") as f:
            head = f.read(24)
        linktype = int.from_bytes(head[20:24], "little" if head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else "big")
        want_lt = {"eth": LINKTYPE_EN10MB, "ip": LINKTYPE_RAW, "arp": None}[gname]
        if want_lt is not None and linktype != want_lt:
            ck.fail("random %s: pcap link type %d, expected %d" % (gname, linktype, want_lt))
        read = [pkt, "read", pcap, "--script", prelude] + (["--first", "arp"] if gname == "arp" else [])
        rh = ru.run(read + ["--format", "hex"])
        rp = ru.run(read + ["--format", "pkt"])
        rj = ru.run(read + ["--format", "json"])
        for r in (rh, rp, rj):
            if r.rc != 0:
                ck.fail("random %s: pkt read failed" % gname, r.describe())
        if any(r.rc != 0 for r in (rh, rp, rj)):
            continue
        hexes = rh.out.split()
        texts = ru.parse_pkt_lines(rp.out)
        jsons = ru.parse_json_lines(rj.out)
        if not (len(hexes) == len(texts) == len(jsons) == len(built)):
            ck.fail("random %s: read %d/%d/%d packets (hex/pkt/json), built %d" % (
                gname, len(hexes), len(texts), len(jsons), len(built)))
            continue
        rebuild = os.path.join(tmpdir, "rand_%s_rebuild.pkt" % gname)
        with open(rebuild, "w", encoding="utf-8") as f:
            f.write(sc.PRELUDE)
            for name, expr in texts:
                f.write("packet %s = %s\n" % (name, expr))
        rb = ru.run([pkt, "build", rebuild, "--format", "hex"])
        rebuilt = rb.out.split() if rb.rc == 0 else None
        if rb.rc != 0:
            ck.fail("random %s: pkt build of the read texts failed" % gname, rb.describe())
        elif len(rebuilt) != len(built):
            ck.fail("random %s: rebuild gave %d packets for %d" % (gname, len(rebuilt), len(built)))
            rebuilt = None
        k = 0
        for ci, c in enumerate(gcases):
            for j in range(case_count(c)):
                label = "random %s p%d%s" % (gname, ci, "" if case_count(c) == 1 else " (%d of %d)" % (j + 1, case_count(c)))
                ck.compared += 1
                if hexes[k] != built[k]:
                    ck.fail(label + ": read --format hex is not the built bytes", c.text(), "built: " + built[k],
                            "read:  " + hexes[k])
                if rebuilt is not None and rebuilt[k] != built[k]:
                    ck.fail(label + ": rebuild differs (first byte %d)" % sc.first_diff(built[k], rebuilt[k]),
                            "expr:    " + c.text(), "read as: " + texts[k][1], "built:   " + built[k],
                            "rebuilt: " + rebuilt[k])
                check_json_fields(ck, label, c, jsons[k])
                k += 1
        total += len(built)
    return total


# ---- 3. deliberately wrong values --------------------------------------------

def inet_sum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def correct_checksums(b, off):
    """The right checksums of an IPv4/IPv6 packet at offset off, from the bytes
    (with every other field as on the wire): {field path: value}."""
    out = {}
    if b[off] >> 4 == 4:
        ihl = (b[off] & 15) * 4
        hdr = bytearray(b[off:off + ihl]); hdr[10:12] = b"\0\0"
        out["ipv4.checksum"] = inet_sum(bytes(hdr))
        proto, up = b[off + 9], off + ihl
        upper = b[up:off + int.from_bytes(b[off + 2:off + 4], "big")]
        pseudo = b[off + 12:off + 20] + bytes([0, proto]) + len(upper).to_bytes(2, "big")
    else:
        proto, up = b[off + 6], off + 40
        upper = b[up:up + int.from_bytes(b[off + 4:off + 6], "big")]
        pseudo = b[off + 8:off + 40] + len(upper).to_bytes(4, "big") + bytes([0, 0, 0, proto])
    at = {1: 2, 6: 16, 17: 6, 58: 2}.get(proto)
    if at is not None:
        u = bytearray(upper); u[at:at + 2] = b"\0\0"
        v = inet_sum((b"" if proto == 1 else pseudo) + bytes(u))
        if proto == 17 and v == 0:
            v = 0xffff
        out[{1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}[proto] + ".checksum"] = v
    return out


def show_notes(show_text):
    """`show` output -> {layer.field: note text}."""
    notes, layer = {}, None
    for line in show_text.splitlines():
        m = re.match(r"^(\w+) \(\d+ bytes\)$", line)
        if m:
            layer = m.group(1)
            continue
        m = re.match(r"^  (\w+)\s*= (.*?)\s{2,}(\S.*)$", line)
        if m and layer:
            notes["%s.%s" % (layer, m.group(1))] = (m.group(2), m.group(3))
    return notes


BAD_CASES = [
    # (pkt expression, first layer, fields that must read `wire, computed X`, pad to N bytes)
    ("ipv4(src=192.0.2.1, dst=192.0.2.2, checksum=0xdead) / tcp(sport=1, dport=2) / \"x\"", "ipv4", ["ipv4.checksum"], 0),
    ("ipv4(src=192.0.2.1, dst=192.0.2.2) / tcp(sport=1, dport=2, checksum=0xdead) / \"x\"", "ipv4", ["tcp.checksum"], 0),
    ("ipv4(src=192.0.2.1, dst=192.0.2.2) / udp(sport=1, dport=2, checksum=0x1234) / \"hello\"", "ipv4", ["udp.checksum"], 0),
    ("ipv4(src=192.0.2.1, dst=192.0.2.2) / icmp(id=5, seq=6, checksum=0x0001) / \"ping\"", "ipv4", ["icmp.checksum"], 0),
    ("ipv6(src=2001:db8::1, dst=2001:db8::2) / icmpv6(id=5, checksum=0xbeef) / \"ping\"", "ipv6", ["icmpv6.checksum"], 0),
    ("ipv6(src=2001:db8::1, dst=2001:db8::2) / udp(checksum=0xffff) / \"x\"", "ipv6", ["udp.checksum"], 0),
    ("ipv4(src=192.0.2.1, dst=192.0.2.2, checksum=1) / udp(checksum=2) / \"two bad\"", "ipv4", ["ipv4.checksum", "udp.checksum"], 0),
    ("eth(src=02:00:00:00:00:01) / ipv4(src=10.0.0.1, dst=10.0.0.2, checksum=0xbeef) / tcp(flags=SYN|ACK, checksum=0xabcd)",
     "eth", ["ipv4.checksum", "tcp.checksum"], 0),
    # Wrong lengths: the value read is kept; computed is the real length.
    ("ipv4(src=192.0.2.1, dst=192.0.2.2, length=1000) / udp(sport=1, dport=2) / \"abc\"", "ipv4", ["ipv4.length"], 0),
    # A total length below the bytes: what is past it is a trailer, and the length is right for that.
    ("ipv4(src=192.0.2.1, dst=192.0.2.2, length=21) / tcp() / \"abcd\"", "ipv4", [], 0),
    ("ipv4(src=192.0.2.1, dst=192.0.2.2) / udp(sport=1, dport=2, length=3) / \"abcdef\"", "ipv4", ["udp.length"], 0),
    ("ipv4(src=192.0.2.1, dst=192.0.2.2) / udp(sport=1, dport=2, length=500) / \"abcdef\"", "ipv4", ["udp.length"], 0),
    ("ipv6(src=::1, dst=::2, length=3) / udp() / \"abcdef\"", "ipv6", [], 0),
    ("ipv6(src=::1, dst=::2, length=100) / udp() / \"abcdef\"", "ipv6", ["ipv6.length"], 0),
    # Ethernet padding to the 60-byte minimum: a trailer on ipv4.
    ("eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(flags=SYN|ACK)", "eth", [], 60),
    ("eth() / ipv4() / udp() / \"ab\"", "eth", [], 60),
    ("eth() / ipv6() / udp() / \"ab\"", "eth", [], 80),
    ("eth() / ipv4(checksum=0x1111) / icmp()", "eth", ["ipv4.checksum"], 60),
]


def correct_lengths(b, off):
    out = {}
    if b[off] >> 4 == 4:
        ihl = (b[off] & 15) * 4
        out["ipv4.length"] = len(b) - off
        proto, up = b[off + 9], off + ihl
    else:
        out["ipv6.length"] = len(b) - off - 40
        proto, up = b[off + 6], off + 40
    if proto == 17:
        out["udp.length"] = len(b) - up
    return out


def check_bad(pkt, ck, tmpdir):
    n = 0
    for i, (expr, first, fields, pad) in enumerate(BAD_CASES):
        r = ru.run([pkt, "build", "-e", expr, "--format", "hex"])
        if r.rc != 0:
            ck.fail("bad %d: build failed" % i, r.describe())
            continue
        b = bytes.fromhex(r.out.strip())
        padding = b""
        if pad and len(b) < pad:
            padding = b"\0" * (pad - len(b))
            b += padding
        off = 14 if first == "eth" else 0
        declared = int.from_bytes(b[off + 2:off + 4], "big") if first != "ipv6" and b[off] >> 4 == 4 \
            else 40 + int.from_bytes(b[off + 4:off + 6], "big")
        trailer = b[off + declared:]
        want = correct_checksums(b[:len(b) - len(padding)], off)
        want.update(correct_lengths(b[:len(b) - len(padding)], off))
        # Once through --hex, once through a pcap file.
        pcap = os.path.join(tmpdir, "bad%d.pcap" % i)
        ru.write_pcap(pcap, LINKTYPE_EN10MB if first == "eth" else LINKTYPE_RAW, [b])
        for how, base in (("--hex", [pkt, "read", "--hex", b.hex(), "--first", first]), ("pcap", [pkt, "read", pcap])):
            label = "bad %d via %s" % (i, how)
            n += 1
            rs, rp, rj = (ru.run(base + ["--format", f]) for f in ("show", "pkt", "json"))
            if any(x.rc != 0 for x in (rs, rp, rj)):
                ck.fail(label + ": pkt read failed", rs.describe(), rp.describe(), rj.describe())
                continue
            notes = show_notes(rs.out)
            for fld in fields:
                note = notes.get(fld)
                w = want[fld]
                text = "0x%04x" % w if fld.endswith("checksum") else str(w)
                if note is None or note[1] != "wire, computed %s" % text:
                    ck.fail("%s: %s should read `wire, computed %s`; show says %r" % (label, fld, text, note), expr, rs.out)
            # Fields not deliberately wrong say nothing of the kind.
            for fld, (_, note) in notes.items():
                if fld not in fields and "wire, computed" in note:
                    ck.fail("%s: %s is right but show says %r" % (label, fld, note), expr, rs.out)
            js = ru.parse_json_lines(rj.out)[0]
            lays = [l for l in js["layers"] if l.get("trailer")]
            if trailer:
                if len(lays) != 1 or lays[0]["trailer"] != trailer.hex() or lays[0]["layer"] not in ("ipv4", "ipv6"):
                    ck.fail(label + ": the bytes past the IP length (%s) are not the IP layer's JSON trailer" % trailer.hex(),
                            expr, rj.out)
                if 'trailer=hex"%s"' % trailer.hex() not in rp.out:
                    ck.fail(label + ": no trailer=hex\"...\" in --format pkt", rp.out)
                if "trailer of ipv" not in rs.out:
                    ck.fail(label + ": show does not print the trailer", rs.out)
            elif lays:
                ck.fail(label + ": a trailer where the IP length covers every byte", expr, rj.out)
            text = ru.parse_pkt_lines(rp.out)[0][1]
            rb = ru.run([pkt, "build", "-e", text, "--format", "hex"])
            ck.compared += 1
            if rb.rc != 0 or rb.out.strip() != b.hex():
                ck.fail(label + ": rebuild differs", "expr:    " + expr, "read as: " + text, "want: " + b.hex(),
                        rb.describe())
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pkt", nargs="?")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--count", type=int, default=2000, help="random packet declarations")
    ap.add_argument("--keep", help="keep the generated files in this directory")
    args = ap.parse_args()
    pkt = ru.pkt_path(args.pkt)
    tmpdir = args.keep or tempfile.mkdtemp(prefix="pkt-read-roundtrip-")
    os.makedirs(tmpdir, exist_ok=True)
    ck = Checker()
    try:
        cpp = os.path.join(HERE, "..", "test_layers.cpp")
        ng = check_golden(pkt, ck, tmpdir, cpp)
        nr = check_random(pkt, ck, tmpdir, args.seed, args.count)
        nb = check_bad(pkt, ck, tmpdir)
        print("read_roundtrip: %d golden vectors (%d with a contradicting ihl/offset: layer names not compared), "
              "%d random packets (seed %d, %d declarations), %d bad-value reads; %d byte comparisons, "
              "%d JSON field values compared, %d failures" % (
                  ng, ck.golden_names_skipped, nr, args.seed, args.count, nb, ck.compared, ck.json_fields, ck.failures))
        return 0 if ck.failures == 0 and ck.compared > 0 else 1
    finally:
        if not args.keep:
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
