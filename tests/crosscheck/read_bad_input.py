#!/usr/bin/python3
"""`pkt read` on damaged packets and damaged capture files.

Packets (each through `pkt read --hex` and through a pcap file):
  * damaged headers -- an IHL below 5, a TCP data offset below 5, an IPv4
    total length, UDP length or IPv6 payload length larger than the bytes, an
    IPv6 extension header length past the end, an Ethernet frame cut inside
    its header: the layer that cannot be read and what follows become a raw
    layer, with a note naming the layer. The note is in the JSON "notes" and
    each JSON note appears as `note: TEXT` in --format show;
  * option lengths of 0 or past the end (TCP and IPv4 options, IPv6 hop
    options): the options before it are decoded, the rest of the option
    bytes are kept as one unknown option ({"option": null, "bytes": ...});
  * every proper prefix of a few packets (truncation at each byte): each
    prefix gets at least one note.
Every read exits 0 within the timeout, `--format hex` gives back the input
and `--format pkt` builds back the identical bytes.

Capture files: bad magic, a truncated file header, a truncated record
header, a truncated record, a caplen above the snap length, a caplen of
4 GiB - 1: exit 1 with the exact message (naming the record), after printing
the records before it. A record snapped by its capture and pcapng with blocks
of an unknown type read without error.

Usage: read_bad_input.py [PKT] [--keep DIR]
"""
import argparse
import os
import re
import shutil
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import readutil as ru  # noqa: E402

ru.TIMEOUT = 20
LINKTYPE = {"eth": 1, "ipv4": 101, "ipv6": 101}


class Checker:
    def __init__(self):
        self.failures = 0
        self.reads = 0

    def fail(self, what, *details):
        self.failures += 1
        if self.failures <= 40:
            print("FAIL: " + what)
            for d in details:
                print("  " + str(d).replace("\n", "\n  "))


def build(pkt, expr):
    r = ru.run([pkt, "build", "-e", expr, "--format", "hex"])
    if r.rc != 0:
        raise RuntimeError(r.describe())
    return bytearray(bytes.fromhex(r.out.strip()))


def setb(b, at, v):
    b = bytearray(b)
    b[at] = v
    return bytes(b)


def set16(b, at, v):
    b = bytearray(b)
    b[at:at + 2] = v.to_bytes(2, "big")
    return bytes(b)


def damaged_headers(pkt):
    """(name, bytes, first layer, note regex, layer the raw layer follows or None)."""
    t4 = bytes(build(pkt, 'ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(sport=1, dport=2, options=[mss(1460), nop, wscale(7)]) / "hi"'))
    u4 = bytes(build(pkt, 'ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=1, dport=2) / "hello"'))
    u6 = bytes(build(pkt, 'ipv6(src=::1, dst=::2) / udp(sport=1, dport=2) / "hello"'))
    h6 = bytes(build(pkt, 'ipv6(src=::1, dst=::2) / ipv6_hop(options=[router_alert(0)]) / udp() / "x"'))
    d6 = bytes(build(pkt, 'ipv6(src=::1, dst=::2) / ipv6_hop() / ipv6_dest() / tcp()'))
    e4 = bytes(build(pkt, 'eth() / ipv4() / udp()'))
    out = []
    for ihl in (0, 1, 4):
        out.append(("ihl %d" % ihl, setb(t4, 0, 0x40 | ihl), "ipv4", r"^ipv4\.options: .*negative; the rest \(\d+ bytes\) is raw$", None))
    out.append(("ihl 15 over 20 bytes", setb(t4, 0, 0x4f)[:40], "ipv4", r"^ipv4\.options has size .* but \d+ are left", None))
    for off in (0, 1, 4):
        b = setb(t4, 32, (off << 4) | (t4[32] & 0x0f))
        out.append(("tcp offset %d" % off, b, "ipv4", r"^tcp\.options: .*negative; the rest \(\d+ bytes\) is raw$", "ipv4"))
    out.append(("tcp offset 15 past the end", setb(t4, 32, 0xf0 | (t4[32] & 0x0f)), "ipv4",
                r"^tcp\.options has size .* but \d+ are left", "ipv4"))
    out.append(("ipv4 length 0xffff", set16(u4, 2, 0xffff), "ipv4", r"^ipv4: payload size .* is 65515 bytes, but 13 are left$", "udp"))
    out.append(("ipv4 length below the header", set16(u4, 2, 10), "ipv4", r"^ipv4: payload size .*: 10 - 20 is negative$", "udp"))
    out.append(("udp length 0xffff", set16(u4, 24, 0xffff), "ipv4", r"^udp: payload size .* is 65527 bytes, but 5 are left$", None))
    out.append(("udp length 0", set16(u4, 24, 0), "ipv4", r"^udp: payload size .*: 0 - 8 is negative$", None))
    out.append(("ipv6 payload length 0xffff", set16(u6, 4, 0xffff), "ipv6", r"^ipv6: payload size .* is 65535 bytes, but 13 are left$", None))
    out.append(("ipv6 hop hlen past the end", setb(h6, 41, 10), "ipv6", r"^ipv6_hop\.options has size .* but \d+ are left", "ipv6"))
    out.append(("ipv6 dest hlen past the end", setb(d6, 49, 0xff), "ipv6", r"^ipv6_dest\.options has size .* but \d+ are left", "ipv6_hop"))
    out.append(("eth cut in its header", e4[:9], "eth", r"^eth\.src needs 6 bytes, 3 left; the rest \(9 bytes\) is raw$", None))
    out.append(("ipv4 cut in its header", e4[:14 + 11], "eth", r"^ipv4\.checksum needs 2 bytes, 1 left; the rest \(11 bytes\) is raw$", "eth"))
    return out


def bad_options(pkt):
    """(name, bytes, first layer, layer, option field offset in the packet, decoded option names before the bad one)."""
    out = []

    def tcp_case(name, opts_hex, good):
        b = bytes(build(pkt, 'ipv4(src=10.0.0.1, dst=10.0.0.2) / tcp(options=[%s]) / "data"' % ", ".join(
            ['hex"%s"' % opts_hex])))
        out.append((name, b, "ipv4", "tcp", 40, opts_hex, good))

    tcp_case("tcp mss length 0", "0200", [])
    tcp_case("tcp nop, mss length 0", "01020005b4", ["nop"])
    tcp_case("tcp timestamp length past the end", "0101080a0000", ["nop", "nop"])
    tcp_case("tcp sack length 255", "05ff00000001", [])
    tcp_case("tcp mss, length 1", "020405b40301", ["mss"])

    def ip_case(name, opts_hex, good):
        b = bytes(build(pkt, 'ipv4(src=10.0.0.1, dst=10.0.0.2, options=hex"%s") / udp(sport=1, dport=2)' % opts_hex))
        out.append((name, b, "ipv4", "ipv4", 20, opts_hex, good))

    ip_case("ipv4 rr length 0", "0700", [])
    ip_case("ipv4 nop, rr length past the end", "010727040a000001", ["nop"])
    ip_case("ipv4 router alert length 1", "9401", [])

    b = bytes(build(pkt, 'ipv6(src=::1, dst=::2) / ipv6_hop(options=[hex"05ff0102"]) / udp()'))
    out.append(("ipv6 hop router alert length 255", b, "ipv6", "ipv6_hop", 42, "05ff0102", []))
    b = bytes(build(pkt, 'ipv6(src=::1, dst=::2) / ipv6_dest(options=[pad1, hex"0109"]) / udp()'))
    out.append(("ipv6 dest padn length past the end", b, "ipv6", "ipv6_dest", 42, "000109", ["pad1"]))
    return out


def reads(pkt, data, first, tmpdir, tag):
    """Reads data via --hex and via a one-record pcap; yields (how, {format: Result})."""
    pcap = os.path.join(tmpdir, tag + ".pcap")
    ru.write_pcap(pcap, LINKTYPE[first], [data])
    for how, base in (("--hex", [pkt, "read", "--hex", data.hex(), "--first", first]), ("pcap", [pkt, "read", pcap])):
        yield how, {f: ru.run(base + ["--format", f]) for f in ("hex", "pkt", "json", "show", "summary")}


def common_checks(ck, pkt, label, data, res):
    """Exit 0 for every format, hex gives back the input, pkt text rebuilds it, notes in show."""
    ck.reads += 1
    for f, r in res.items():
        if r.rc != 0:
            ck.fail("%s: --format %s exit %s" % (label, f, r.rc), r.describe())
            return None
    if res["hex"].out.strip() != data.hex():
        ck.fail(label + ": --format hex is not the input", data.hex(), res["hex"].out)
    text = ru.parse_pkt_lines(res["pkt"].out)[0][1]
    rb = ru.run([pkt, "build", "-e", text, "--format", "hex"])
    if rb.rc != 0 or rb.out.strip() != data.hex():
        ck.fail(label + ": --format pkt does not rebuild the bytes", "read as: " + text, "want: " + data.hex(), rb.describe())
    js = ru.parse_json_lines(res["json"].out)[0]
    for n in js.get("notes", []):
        if "note: " + n not in res["show"].out.splitlines():
            ck.fail(label + ": JSON note %r is not in --format show" % n, res["show"].out)
    return js


def check_packets(pkt, ck, tmpdir):
    for i, (name, data, first, note_re, after) in enumerate(damaged_headers(pkt)):
        for how, res in reads(pkt, data, first, tmpdir, "hdr%d" % i):
            label = "%s via %s" % (name, how)
            js = common_checks(ck, pkt, label, data, res)
            if js is None:
                continue
            notes = js.get("notes", [])
            if not any(re.search(note_re, n) for n in notes):
                ck.fail(label + ": no note matching %r" % note_re, res["json"].out)
            names = [l["layer"] for l in js["layers"]]
            if note_re.startswith("^ipv4: payload") or note_re.startswith("^udp: payload") or note_re.startswith("^ipv6: payload"):
                continue  # a length past the bytes: the layers are read, the note says it
            want_raw_at = 0 if after is None else names.index(after) + 1 if after in names else -1
            if want_raw_at < 0 or want_raw_at >= len(names) or names[want_raw_at] != "raw" or want_raw_at != len(names) - 1:
                ck.fail(label + ": expected a raw layer %s, got %s" % ("first" if after is None else "after " + after, names),
                        res["json"].out)
    for i, (name, data, first, layer, at, opts_hex, good) in enumerate(bad_options(pkt)):
        for how, res in reads(pkt, data, first, tmpdir, "opt%d" % i):
            label = "%s via %s" % (name, how)
            js = common_checks(ck, pkt, label, data, res)
            if js is None:
                continue
            lays = [l for l in js["layers"] if l["layer"] == layer]
            if len(lays) != 1:
                ck.fail(label + ": no %s layer" % layer, res["json"].out)
                continue
            opts = lays[0]["fields"]["options"]
            names = [o["option"] for o in opts]
            # The option bytes as written (padding included), from the packet itself.
            if data[at:at + len(bytes.fromhex(opts_hex))].hex() != opts_hex:
                ck.fail(label + ": test set-up: option bytes not at offset %d" % at, data.hex())
            if names[:len(good)] != good or len(names) != len(good) + 1 or names[-1] is not None:
                ck.fail(label + ": options %s; expected %s then one unknown option" % (names, good), res["json"].out)
                continue
            try:
                decoded = ru.encode_options(layer, opts[:-1])
            except ValueError as e:
                ck.fail("%s: %s" % (label, e))
                continue
            got = bytes.fromhex(opts[-1]["bytes"])
            # The unknown option runs to the end of the field: the bad option and the padding after it.
            if layer == "tcp":
                size = (data[at - 8] >> 4) * 4 - 20  # the data offset, 12 bytes into tcp
            elif layer == "ipv4":
                size = (data[0] & 15) * 4 - 20
            else:
                size = (data[at - 1] + 1) * 8 - 2  # hlen, the byte before the options
            whole = data[at:at + size]
            if decoded + got != whole or not got.startswith(bytes.fromhex(opts_hex)[len(decoded):]):
                ck.fail(label + ": decoded %s + unknown option %s is not the option field %s" % (
                    decoded.hex(), got.hex(), whole.hex()), res["json"].out)


def check_truncations(pkt, ck, tmpdir):
    """Every proper prefix of a few packets, through one pcap per packet."""
    bases = [
        ("eth", 'eth(src=02:00:00:00:00:01) / ipv4(src=10.0.0.1, dst=10.0.0.2, options=hex"94040000") '
                '/ tcp(sport=1, dport=2, options=[mss(1460), sackok, timestamp(1, 2), nop, wscale(7)]) / "payload"'),
        ("ipv6", 'ipv6(src=::1, dst=::2) / ipv6_hop(options=[router_alert(0)]) / ipv6_frag(id=7) / udp() / "xyz"'),
        ("ipv4", 'ipv4(src=10.0.0.1, dst=10.0.0.2) / icmp(id=1, seq=2) / "ping"'),
        ("eth", 'eth() / arp(op=reply, sha=02:00:00:00:00:01, spa=10.0.0.1)'),
    ]
    n = 0
    for bi, (first, expr) in enumerate(bases):
        full = bytes(build(pkt, expr))
        prefixes = [full[:k] for k in range(1, len(full))]  # every proper prefix
        pcap = os.path.join(tmpdir, "trunc%d.pcap" % bi)
        ru.write_pcap(pcap, LINKTYPE[first], prefixes)
        res = {f: ru.run([pkt, "read", pcap, "--format", f]) for f in ("hex", "pkt", "json", "show")}
        if any(r.rc != 0 for r in res.values()):
            ck.fail("truncations of %s: pkt read failed" % expr, *[r.describe() for r in res.values() if r.rc != 0])
            continue
        hexes = res["hex"].out.split("\n")[:-1]
        texts = ru.parse_pkt_lines(res["pkt"].out)
        jsons = ru.parse_json_lines(res["json"].out)
        if not (len(hexes) == len(texts) == len(jsons) == len(prefixes)):
            ck.fail("truncations of %s: %d/%d/%d packets read for %d" % (expr, len(hexes), len(texts), len(jsons), len(prefixes)))
            continue
        script = os.path.join(tmpdir, "trunc%d_rebuild.pkt" % bi)
        with open(script, "w") as f:
            for name, text in texts:
                f.write("packet %s = %s\n" % (name, text))
        rb = ru.run([pkt, "build", script, "--format", "hex"])
        rebuilt = rb.out.split("\n")[:-1] if rb.rc == 0 else []
        if len(rebuilt) != len(prefixes):
            ck.fail("truncations of %s: rebuild failed" % expr, rb.describe())
            rebuilt = [None] * len(prefixes)
        show = set(res["show"].out.splitlines())
        for k, p in enumerate(prefixes):
            n += 1
            label = "%s cut to %d bytes" % (expr, len(p))
            if hexes[k] != p.hex():
                ck.fail(label + ": --format hex is not the input", hexes[k])
            if rebuilt[k] is not None and rebuilt[k] != p.hex():
                ck.fail(label + ": --format pkt does not rebuild the bytes", "read as: " + texts[k][1], "want: " + p.hex(),
                        "got:  " + rebuilt[k])
            notes = jsons[k].get("notes", [])
            # Cut right after the Ethernet header, nothing contradicts the bytes (eth has no length).
            if not notes and not (first == "eth" and len(p) == 14):
                ck.fail(label + ": no note", json_line(jsons[k]))
            for note in notes:
                if "note: " + note not in show:
                    ck.fail(label + ": JSON note %r not in --format show" % note)
    return n


def json_line(js):
    import json
    return json.dumps(js)


def check_files(pkt, ck, tmpdir):
    good = bytes.fromhex("4500001c0001000040117cce7f0000017f0000010035003500080172")

    def fhdr(snap=65535):
        return struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, snap, 101)

    def rec(p, caplen=None):
        return struct.pack("<IIII", 1, 0, len(p) if caplen is None else caplen, len(p)) + p

    cases = [
        ("bad magic", b"\x00\x01\x02\x03" + fhdr()[4:] + rec(good), 0,
         "pkt: '{path}' is not a pcap or pcapng file (bad magic 0x00010203)"),
        ("truncated file header", fhdr()[:10], 0,
         "pkt: cannot read {path}: truncated dump file; tried to read 24 file header bytes, only got 6"),
        ("truncated record", fhdr() + rec(good) + rec(good) + rec(good, caplen=100)[:16 + 10], 2,
         "pkt: {path}: record 3 is truncated (truncated dump file; tried to read 100 captured bytes, only got 10)"),
        ("truncated record header", fhdr() + rec(good) + b"\x01\x02\x03", 1,
         "pkt: {path}: record 2 is truncated (truncated dump file; tried to read 16 header bytes, only got 3)"),
        ("caplen 4 GiB - 1", fhdr() + rec(good) + struct.pack("<IIII", 1, 0, 0xffffffff, 0xffffffff) + good, 1,
         "pkt: {path}: record 2 is damaged (invalid packet capture length 4294967295, bigger than snaplen of 65535)"),
        # libpcap itself cuts such a record to the snap length without a word.
        ("caplen above the snap length", fhdr(100) + rec(good) + rec(bytes(200)) + rec(good), 1,
         "pkt: {path}: record 2 is damaged (its caplen 200 is above the snap length 100 in the file header, which "
         "libpcap would cut it to): the header's snap length or this record's caplen is wrong"),
        ("caplen 4 GiB - 1, snaplen 4 GiB - 1", fhdr(0xffffffff) + struct.pack("<IIII", 1, 0, 0xffffffff, 0xffffffff) + good, 0,
         "pkt: {path}: record 1 is damaged (invalid packet capture length 4294967295, bigger than snaplen of 262144)"),
    ]
    for i, (name, content, before, msg) in enumerate(cases):
        path = os.path.join(tmpdir, "file%d.pcap" % i)
        with open(path, "wb") as f:
            f.write(content)
        for fmt in ("summary", "json", "pkt"):
            r = ru.run([pkt, "read", path, "--format", fmt])
            ck.reads += 1
            want = msg.format(path=path)
            if r.rc != 1 or r.err.strip() != want:
                ck.fail("%s (--format %s): expected exit 1 and %r" % (name, fmt, want), r.describe())
            if len([l for l in r.out.splitlines() if l.strip()]) != before:
                ck.fail("%s (--format %s): %d packets printed before the error, expected %d" % (
                    name, fmt, len(r.out.splitlines()), before), r.out)
    # A record cut to the snap length by its capture (len > caplen == snaplen) is no error.
    path = os.path.join(tmpdir, "snapped.pcap")
    with open(path, "wb") as f:
        f.write(fhdr(20) + struct.pack("<IIII", 1, 0, 20, len(good)) + good[:20] + rec(good[:20]))
    r = ru.run([pkt, "read", path, "--format", "summary"])
    if r.rc != 0 or len(r.out.splitlines()) != 2:
        ck.fail("a record snapped by its capture: expected exit 0 and 2 packets", r.describe())
    # pcapng with blocks of a type nobody knows: skipped (pcapng section 3.1), the packets read.
    def blk(t, body):
        body += b"\0" * ((4 - len(body) % 4) % 4)
        return struct.pack("<II", t, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
    epb = blk(6, struct.pack("<IIIII", 0, 0, 1, len(good), len(good)) + good)
    unknown = blk(0x0BADCAFE, b"not a block pkt knows")
    path = os.path.join(tmpdir, "unknown_blocks.pcapng")
    with open(path, "wb") as f:
        f.write(blk(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)) + blk(1, struct.pack("<HHI", 101, 0, 65535))
                + unknown + epb + unknown + unknown + epb)
    r = ru.run([pkt, "read", path, "--format", "summary"])
    ck.reads += 1
    if r.rc != 0 or len(r.out.splitlines()) != 2 or "udp 53 > 53" not in r.out:
        ck.fail("pcapng with unknown blocks: expected exit 0 and its 2 packets", r.describe())
    # A record of zero bytes is no error: no layers, and its text builds no bytes.
    path = os.path.join(tmpdir, "zero.pcap")
    ru.write_pcap(path, 101, [b""])
    res = {f: ru.run([pkt, "read", path, "--format", f]) for f in ("hex", "pkt", "json", "show", "summary")}
    common_checks(ck, pkt, "a zero-byte record", b"", res)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pkt", nargs="?")
    ap.add_argument("--keep", help="keep the generated files in this directory")
    args = ap.parse_args()
    pkt = ru.pkt_path(args.pkt)
    tmpdir = args.keep or tempfile.mkdtemp(prefix="pkt-read-bad-")
    os.makedirs(tmpdir, exist_ok=True)
    ck = Checker()
    try:
        check_packets(pkt, ck, tmpdir)
        nt = check_truncations(pkt, ck, tmpdir)
        check_files(pkt, ck, tmpdir)
        print("read_bad_input: %d damaged packets and files read, %d truncations; %d failures" % (ck.reads, nt, ck.failures))
        return 0 if ck.failures == 0 else 1
    finally:
        if not args.keep:
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
