#!/usr/bin/python3
"""`pkt export wireshark` judged by a real tshark running the exported Lua.

For each case, pkt builds packets into a pcap, exports the layers, and
tshark (-X lua_script:) dissects the capture: every field value tshark
prints must be the value pkt built (and pkt's own `read --format json` of
the same file), for
  - the README's `hello` layer on UDP port 9999 (enum and flag names too);
  - a layer with variable-size fields (a size from another field, and from
    an expression), a conditional field in both cases of its condition, a
    counted list of options and a length-prefixed list of numbers;
  - stdlib layers: tcp's flags and ipv4's enum by name under --replace and
    with Decode As, and tshark's own `ip` untouched without --replace;
  - what the export refuses or warns about (exact messages).
Skips (exit 77) when tshark or its Lua is missing.

Usage: wireshark_export.py [PKT]
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

PKT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PKT", "build/pkt"))
FAILS = []

HELLO = """\
layer hello "A toy protocol over UDP port 9999" {
    magic    : u16 = 0xbeef
    kind     : u8 enum { ping = 1, pong = 2 } = ping
    flags    : u8 flags { URGENT = 0x02, ACK = 0x01 } = 0
    length   : u16 = auto len(this, payload)
    checksum : u16 = auto inet_checksum(this, payload)
}
bind udp.dport = 9999 -> hello
packet h = ipv4(src=127.0.0.1, dst=127.0.0.1, id=1) / udp(sport=40001) / hello(kind=pong, flags=URGENT|ACK) / "hi"
packet h2 = ipv4(src=127.0.0.1, dst=127.0.0.1, id=2) / udp(sport=40002) / hello() / "hello, wireshark"
packet h3 = ipv4(src=127.0.0.1, dst=127.0.0.1, id=3) / udp(sport=40003) / hello(kind=7, flags=ACK, length=3)
"""

VARCOND = """\
layer varcond "Variable sizes, a condition, a counted list" {
    kind   : u8 enum { short = 1, long = 2 } = short
    has_x  : u1 = auto present(x)     "x follows"
    spare  : u3 = 0
    level  : u4 = 5
    n      : u8 = auto len(text)
    text   : bytes size n             "n bytes"
    x      : u32 if has_x             "only when has_x"
    m      : u8 = auto len(words) / 2
    words  : u16[] size m * 2
    count  : u8 = auto
    items  : bytes count count
    tail   : u16 = 0x7777
    rest   : bytes size (n + 3) / 4 * 4 - n   "pads text to 4 bytes"
}
option varcond.items item(sku, qty) "One item" {
    sku : u16
    qty : u8
}
bind udp.dport = 7100 -> varcond
packet a = ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=40100, dport=7100)
         / varcond(kind=long, text="hello", x=0xdeadbeef, words=[1, 2, 65535], items=[item(1001, 3), item(1002, 1)], rest=hex"000000")
packet b = ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=40101, dport=7100)
         / varcond(text="abcd", level=9, words=[], items=[], tail=0x1234)
"""


def run(cmd, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise SystemExit(f"FAILED: {' '.join(cmd)}\nexit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def expect(what, got, want):
    if got != want:
        FAILS.append(f"{what}: got {got!r}, want {want!r}")
        print(f"FAIL {what}: got {got!r}, want {want!r}")
    else:
        print(f"ok   {what}")


def tshark_fields(lua, pcap, fields, extra=()):
    cmd = ["tshark", "-n", "-X", f"lua_script:{lua}", "-r", pcap, *extra, "-T", "fields", "-E", "separator=|"]
    for f in fields:
        cmd += ["-e", f]
    p = run(cmd)
    if "Lua" in p.stderr and "rror" in p.stderr:
        FAILS.append(f"tshark reported a Lua error: {p.stderr}")
    return [line.split("|") for line in p.stdout.splitlines()]


def tshark_verbose(lua, pcap, extra=()):
    p = run(["tshark", "-n", "-X", f"lua_script:{lua}", "-r", pcap, *extra, "-V"])
    return p.stdout


def pkt_json(pcap, script):
    p = run([PKT, "read", pcap, "--script", script, "--format", "json"])
    return [json.loads(line) for line in p.stdout.splitlines()]


def layer_of(pkt_packet, name):
    for l in pkt_packet["layers"]:
        if l["layer"] == name:
            return l["fields"]
    return None


def main():
    if not shutil.which("tshark"):
        print("skipped: tshark is not installed")
        return 77
    v = run(["tshark", "-v"]).stdout
    if "with Lua" not in v:
        print("skipped: this tshark has no Lua")
        return 77
    d = tempfile.mkdtemp(prefix="pkt-wireshark-")
    try:
        os.chdir(d)
        hello_case(d)
        varcond_case(d)
        stdlib_case(d)
        stdlib_all_case(d)
        refusals(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if FAILS:
        print(f"{len(FAILS)} failure(s)")
        return 1
    print("all good")
    return 0


def hello_case(d):
    open("hello.pkt", "w").write(HELLO)
    run([PKT, "build", "hello.pkt", "--format", "pcap", "-o", "hello.pcap"])
    p = run([PKT, "export", "wireshark", "--script", "hello.pkt", "-o", "pkt_layers.lua"])
    expect("export says what it wrote", p.stderr.strip(),
           "wrote pkt_layers.lua: hello (load it with tshark -X lua_script:pkt_layers.lua)")
    rows = tshark_fields("pkt_layers.lua", "hello.pcap",
                         ["hello.magic", "hello.kind", "hello.flags", "hello.length", "hello.checksum", "udp.dstport"])
    ours = pkt_json("hello.pcap", "hello.pkt")
    want = []
    for pk in ours:
        h = layer_of(pk, "hello")
        want.append([str(h["magic"]), str(h["kind_value"] if "kind_value" in h else h["kind"]), None, str(h["length"]), None, "9999"])
    # The values pkt built (and pkt reads back), as tshark prints them.
    expect("hello: tshark's hello.kind and hello.length (-T fields)", [(r[1], r[3]) for r in rows],
           [("2", "10"), ("1", "24"), ("7", "3")])
    expect("hello: magic, flags, checksum", [(r[0], r[2], r[4]) for r in rows],
           [("48879", "0x03", rows[0][4] if rows else None), ("48879", "0x00", rows[1][4] if len(rows) > 1 else None),
            ("48879", "0x01", rows[2][4] if len(rows) > 2 else None)])
    expect("hello: pkt read gives the same lengths", [str(layer_of(pk, "hello")["length"]) for pk in ours], ["10", "24", "3"])
    sums = [layer_of(pk, "hello")["checksum"] for pk in ours]
    expect("hello: checksums equal pkt's", [int(r[4], 16) if r[4] else None for r in rows], sums)
    # The exact command of the issue.
    p = run(["tshark", "-X", "lua_script:pkt_layers.lua", "-r", "hello.pcap", "-T", "fields", "-e", "hello.kind", "-e", "hello.length"])
    expect("hello: the issue's tshark command", p.stdout.splitlines(), ["2\t10", "1\t24", "7\t3"])
    text = tshark_verbose("pkt_layers.lua", "hello.pcap")
    for pat in [r"kind: pong \(2\)", r"flags: 0x03 \(URGENT\|ACK\)", r"\.\.\.\. \.\.1\. = URGENT: True",
                r"\.\.\.\. \.\.\.1 = ACK: True", r"kind: ping \(1\)", r"kind: Unknown \(7\)",
                r"hello: A toy protocol over UDP port 9999", r"payload size|length: 3"]:
        expect(f"hello -V shows /{pat}/", bool(re.search(pat, text)), True)
    # Info column: the layer's name (no summary declared), the protocol column too.
    p = run(["tshark", "-n", "-X", "lua_script:pkt_layers.lua", "-r", "hello.pcap", "-T", "fields", "-e", "_ws.col.Protocol"])
    expect("hello: protocol column", p.stdout.split(), ["hello", "hello", "hello"])


def varcond_case(d):
    open("varcond.pkt", "w").write(VARCOND)
    run([PKT, "build", "varcond.pkt", "--format", "pcap", "-o", "varcond.pcap"])
    run([PKT, "export", "wireshark", "--script", "varcond.pkt", "-o", "vc.lua"])
    fields = ["varcond.kind", "varcond.has_x", "varcond.level", "varcond.n", "varcond.text", "varcond.x", "varcond.m",
              "varcond.words", "varcond.count", "varcond.items.item.sku", "varcond.items.item.qty", "varcond.tail",
              "varcond.rest"]
    rows = tshark_fields("vc.lua", "varcond.pcap", fields)
    got = [dict(zip(fields, r)) for r in rows]
    ours = [layer_of(pk, "varcond") for pk in pkt_json("varcond.pcap", "varcond.pkt")]
    expect("varcond: pkt read it as varcond both times", [o is not None for o in ours], [True, True])
    # Case 1: x present (has_x = 1), five text bytes, three words, two items.
    want_a = {"varcond.kind": "2", "varcond.has_x": "1", "varcond.level": "5", "varcond.n": "5",
              "varcond.text": "68656c6c6f", "varcond.x": "3735928559", "varcond.m": "3", "varcond.words": "1,2,65535",
              "varcond.count": "2", "varcond.items.item.sku": "1001,1002", "varcond.items.item.qty": "3,1",
              "varcond.tail": "30583", "varcond.rest": "000000"}
    # Case 2: x absent (has_x = 0): tail comes right after the (empty) list, rest is empty.
    want_b = {"varcond.kind": "1", "varcond.has_x": "0", "varcond.level": "9", "varcond.n": "4",
              "varcond.text": "61626364", "varcond.x": "", "varcond.m": "0", "varcond.words": "",
              "varcond.count": "0", "varcond.items.item.sku": "", "varcond.items.item.qty": "",
              "varcond.tail": "4660", "varcond.rest": ""}
    expect("varcond: x present, every field", got[0] if got else None, want_a)
    expect("varcond: x absent, every field", got[1] if len(got) > 1 else None, want_b)
    # And the same as pkt's own reading.
    if len(ours) == 2 and all(ours):
        expect("varcond: pkt's x", [o.get("x") for o in ours], [3735928559, None])
        expect("varcond: pkt's tail", [o["tail"] for o in ours], [0x7777, 0x1234])
    text = tshark_verbose("vc.lua", "varcond.pcap")
    expect("varcond -V lists the items as pkt writes them", all(s in text for s in ["item(1001, 3)", "item(1002, 1)"]), True)
    expect("varcond -V: an empty field says so", "rest: (empty)" in text, True)
    expect("varcond -V: no malformed packet", "Malformed" in text or "pkt note" in text, False)


def stdlib_case(d):
    open("syn.pkt", "w").write(
        'packet s = ipv4(src=127.0.0.1, dst=127.0.0.2, id=7) / tcp(sport=40200, dport=80, flags=SYN|ECE, seq=1000)\n'
        'packet e = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=10.0.0.1, dst=10.0.0.2, ttl=3) '
        '/ udp(sport=40201, dport=40202) / "x"\n')
    run([PKT, "build", "-e", "eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=127.0.0.1, dst=127.0.0.2, id=7) "
         "/ tcp(sport=40200, dport=80, flags=SYN|ECE, seq=1000)", "--format", "pcap", "-o", "syn.pcap"])
    run([PKT, "build", "syn.pkt", "e", "--format", "pcap", "-o", "eth.pcap"])
    # --replace: pkt's ipv4 and tcp take over from Wireshark's ip and tcp.
    p = run([PKT, "export", "wireshark", "ipv4", "tcp", "--replace", "-o", "std.lua"])
    expect("stdlib export names", p.stderr.strip(), "wrote std.lua: pkt.ipv4, pkt.tcp (load it with tshark -X lua_script:std.lua)")
    rows = tshark_fields("std.lua", "syn.pcap", ["pkt.ipv4.proto", "pkt.ipv4.ttl", "pkt.ipv4.src", "pkt.tcp.dport",
                                                 "pkt.tcp.flags", "pkt.tcp.flags.SYN", "pkt.tcp.flags.ACK", "pkt.tcp.seq"])
    expect("stdlib --replace: tcp and ipv4 fields", rows, [["6", "64", "127.0.0.1", "80", "0x0042", "1", "0", "1000"]])
    text = tshark_verbose("std.lua", "syn.pcap")
    for pat in [r"proto: tcp \(6\)", r"flags: 0x042 \(ECE\|SYN\)", r"= SYN: True", r"= ECE: True", r"= ACK: False",
                r"pkt\.ipv4: Internet Protocol version 4"]:
        expect(f"stdlib -V shows /{pat}/", bool(re.search(pat, text)), True)
    # Without --replace: Wireshark's own ip stays; pkt's ipv4 is offered in Decode As.
    run([PKT, "export", "wireshark", "ipv4", "udp", "-o", "plain.lua"])
    rows = tshark_fields("plain.lua", "eth.pcap", ["ip.src", "ip.ttl", "pkt.ipv4.src", "udp.dstport"])
    expect("stdlib without --replace: tshark's ip untouched", rows, [["10.0.0.1", "3", "", "40202"]])
    rows = tshark_fields("plain.lua", "eth.pcap", ["ip.src", "pkt.ipv4.src", "pkt.ipv4.ttl", "pkt.udp.dport", "pkt.udp.length"],
                         extra=["-d", "ethertype==0x0800,pkt.ipv4"])
    expect("stdlib with Decode As: pkt.ipv4, then pkt.udp inside it", rows, [["", "10.0.0.1", "3", "40202", "9"]])


MIX = """\
packet a1 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / dot1q(vid=100, pcp=3) / ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=1, dport=2) / "x"
packet a2 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / mpls(label=100) / mpls(label=200, ttl=5, s=1) / ipv4(src=10.0.0.1, dst=10.0.0.2) / udp()
packet a3 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=192.0.2.1, dst=192.0.2.2) / gre(key=4660, seq=7) / ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=1, dport=2)
packet a4 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=192.0.2.1, dst=192.0.2.2) / udp(sport=49152) / vxlan(vni=42) / eth() / ipv4() / icmp()
packet a5 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(dst=127.0.0.1) / udp(sport=40000) / ntp(poll=6, precision=-20, xmit_ts=0xe9a1b2c4c0000000)
packet a6 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(tos=192, src=192.0.2.1, dst=224.0.0.22) / igmp(type=report_v3, records=[to_exclude(239.2.2.2), block(239.1.1.1, 192.0.2.1, 192.0.2.2)])
packet a7 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=192.0.2.254, dst=192.0.2.1) / icmp(type=dest_unreach, code=frag_needed, mtu=1400) / ipv4(src=192.0.2.1, dst=192.0.2.9) / udp(sport=4, dport=5)
packet a8 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv6(src=2001:db8::1, dst=ff02::1:ff00:2) / icmpv6_ns(target=fe80::2, options=hex"0101020000000001")
packet a9 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=127.0.0.1, dst=127.0.0.1) / sctp(sport=5000, dport=5001, chunks=[init(init_tag=0x1234, a_rwnd=65535, n_out=10, n_in=10, init_tsn=1)])
packet b1 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(dport=5353, sport=53) / dns(id=4660, qr=response, ra=1, qd=[question("example.com", a)], an=[rr("example.com", a, ttl=300, addr=93.184.216.34), rr("example.com", txt, strings=["hello", "v=spf1 -all"])])
packet b2 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=127.0.0.1, dst=127.0.0.1) / tcp(sport=40000, dport=53, flags=PSH|ACK, options=[mss(1460), nop, wscale(7), sackok, timestamp(1, 2)]) / dns_tcp() / dns(id=7, qd=[question("example.com", aaaa)])
packet b3 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=10.0.0.1, dst=255.255.255.255) / udp(sport=67, dport=68) / bootp(op=reply, xid=4660, yiaddr=10.0.0.5, chaddr=02:00:00:00:00:01) / dhcp(options=[msgtype(offer), server_id(10.0.0.1), lease_time(3600), end])
packet b4 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / arp(op=reply, spa=10.0.0.1, tpa=10.0.0.2)
packet b5 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv6(src=2001:db8::1, dst=2001:db8::2) / ipv6_hop(options=[router_alert(0)]) / ipv6_frag(id=5) / udp(sport=7, dport=8) / "frag"
packet b6 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=10.0.0.1, dst=10.0.0.2, options=hex"94040000") / tcp(sport=1, dport=2) / "x"
packet b7 = eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=10.0.0.1, dst=10.0.0.2) / udp(sport=9, dport=10) / "short" / hex"00000000000000000000"
"""


def stdlib_all_case(d):
    # Every stdlib layer exported at once, taking over from Wireshark's own
    # dissectors: each number, address and bytes field tshark prints for
    # pkt.LAYER.FIELD must be what pkt's own reading of the file gives.
    open("mix.pkt", "w").write(MIX)
    run([PKT, "build", "mix.pkt", "--format", "pcap", "-o", "mix.pcap"])
    layers = run([PKT, "layers"]).stdout.split("\n")
    layers = [l.split()[0] for l in layers if l.strip()]
    p = run([PKT, "export", "wireshark", *layers, "--replace", "-o", "all.lua"])
    ours = [json.loads(l) for l in run([PKT, "read", "mix.pcap", "--format", "json"]).stdout.splitlines()]
    names = []
    for pk in ours:
        for l in pk["layers"]:
            for k, v in l["fields"].items():
                if isinstance(v, (int, str)) and f"pkt.{l['layer']}.{k}" not in names:
                    names.append(f"pkt.{l['layer']}.{k}")
    cmd = ["tshark", "-n", "-X", "lua_script:all.lua", "-r", "mix.pcap", "-T", "fields", "-E", "separator=|", "-E", "occurrence=a"]
    for n in names:
        cmd += ["-e", n]
    rows = [line.split("|") for line in run(cmd).stdout.splitlines()]
    checked = 0
    for i, pk in enumerate(ours):
        want = {n: [] for n in names}
        for l in pk["layers"]:
            if l["layer"] == "eth" and i != 3:
                continue  # the first Ethernet header is Wireshark's (bound to the link type, no table)
            for k, v in l["fields"].items():
                n = f"pkt.{l['layer']}.{k}"
                if n in want and v != "":
                    want[n].append(v)
        got = dict(zip(names, rows[i] if i < len(rows) else []))
        for n in names:
            g = [x for x in got.get(n, "").split(",") if x != ""]
            w = want[n]
            if n.startswith("pkt.eth.") and i == 3:
                w = w[1:]  # vxlan's inner frame only
            norm = [int(x, 0) if isinstance(wv, int) and re.fullmatch(r"-?(0x[0-9a-f]+|\d+)", x) else x for x, wv in zip(g, w)]
            if len(g) != len(w):
                norm = g
            if norm != w:
                FAILS.append(f"packet {i + 1} {n}: tshark {g}, pkt {w}")
                print(f"FAIL packet {i + 1} {n}: tshark {g}, pkt {w}")
            checked += len(w)
    expect(f"every stdlib layer: {checked} field values equal pkt's (none missing)", checked > 300, True)


def refusals(d):
    # A number that spans 9 bytes (a u64 after 4 bits): Wireshark has no such field; refused, naming it.
    open("bad.pkt", "w").write('layer wide "x" {\n  a : u4 = 0\n  b : u64 = 0\n  c : u4 = 0\n}\n'
                               'bind udp.dport = 7200 -> wide\n')
    p = run([PKT, "export", "wireshark", "--script", "bad.pkt", "-o", "bad.lua"], check=False)
    expect("refused: exit code", p.returncode, 1)
    expect("refused: message", p.stderr.strip(),
           "pkt: export wireshark: wide.b: a 64-bit number starting at bit 4 of a byte spans 9 bytes; "
           "the export cannot express it (leave wide out of the layers to export)")
    expect("refused: no file written", os.path.exists("bad.lua"), False)
    # A layer bound where Wireshark has no table pkt knows: a warning naming it.
    open("icmpish.pkt", "w").write('layer after_icmp "x" { v : u8 = 1 }\nbind icmp.type = 42 -> after_icmp\n')
    p = run([PKT, "export", "wireshark", "--script", "icmpish.pkt", "-o", "w.lua"])
    expect("warning for an unreachable binding", p.stderr.splitlines()[0],
           "pkt: warning: after_icmp is bound to icmp.type = 42, but icmp declares no Wireshark table for type "
           "(`wireshark \"TABLE\" = type` in layer icmp) and is not exported: Wireshark cannot reach after_icmp that way")
    p = run([PKT, "export", "wireshark"], check=False)
    expect("no layer: exit 2", p.returncode, 2)
    expect("no layer: message", p.stderr.strip(),
           "pkt: export wireshark: name the layers to export (pkt export wireshark ipv4 tcp -o pkt_layers.lua), "
           "or give --script FILE to export the layers it declares")
    p = run([PKT, "export", "wireshark", "helo", "--script", "hello.pkt"], check=False)
    expect("unknown layer: message", p.stderr.strip(),
           "pkt: export wireshark: unknown layer 'helo'; did you mean 'hello'?; `pkt layers` lists them")


if __name__ == "__main__":
    sys.exit(main())
