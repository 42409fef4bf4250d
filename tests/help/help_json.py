#!/usr/bin/python3
"""`pkt help LAYER --format json`: the JSON parses (python's json) and says
what the declarations say, for stdlib layers (tcp, ipv4, icmp, dns) and a
script's layer (--script); each layer's JSON is also checked against its
text help (the same walk prints both), and an unknown layer is an error.

Usage: help_json.py [PKT]
"""
import json
import os
import subprocess
import sys
import tempfile

PKT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PKT", "build/pkt"))
FAILS = []


def expect(what, got, want):
    if got != want:
        FAILS.append(what)
        print(f"FAIL {what}: got {got!r}, want {want!r}")
    else:
        print(f"ok   {what}")


def help_json(layer, *extra):
    p = subprocess.run([PKT, "help", layer, "--format", "json", *extra], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"pkt help {layer} --format json: exit {p.returncode}: {p.stderr}")
    return json.loads(p.stdout)


def field(doc, name):
    for f in doc["fields"]:
        if f["name"] == name:
            return f
    raise SystemExit(f"{doc['name']} has no field {name} in its JSON")


def main():
    tcp = help_json("tcp")
    expect("tcp: name, declared in the stdlib", (tcp["name"], tcp["declared_at"].startswith("stdlib/30-transport.pkt:")),
           ("tcp", True))
    expect("tcp: field order", [f["name"] for f in tcp["fields"]],
           ["sport", "dport", "seq", "ack", "offset", "reserved", "flags", "window", "checksum", "urgent", "options"])
    d = field(tcp, "dport")
    expect("tcp.dport: a 16-bit unsigned number, default 80",
           (d["type"], d["kind"], d["bits"], d["signed"], d["little_endian"], d["default"], d["auto"], d["doc"]),
           ("u16", "uint", 16, False, False, 80, None, "destination port"))
    fl = field(tcp, "flags")
    expect("tcp.flags: 9 bits, its flag names and values", (fl["bits"], fl["flags"][:3], {x["name"]: x["value"] for x in fl["flags"]}["SYN"]),
           (9, [{"name": "NS", "value": 256}, {"name": "CWR", "value": 128}, {"name": "ECE", "value": 64}], 2))
    expect("tcp.flags: default SYN", (fl["default"], fl["default_text"]), (2, "SYN"))
    off = field(tcp, "offset")
    expect("tcp.offset: an auto rule, no default value", (off["auto"], off["default"], off["default_text"]),
           ("len(this) / 4", None, "auto len(this) / 4"))
    o = field(tcp, "options")
    expect("tcp.options: bytes sized by a rule, aligned", (o["kind"], o["bits"], o["size"], o["align"], o["fixed_size"]),
           ("bytes", None, "offset * 4 - 20", 4, False))
    mss = [x for x in o["options"] if x["name"] == "mss"][0]
    expect("tcp.options: mss(value), tagged by kind = 2",
           (mss["params"], mss["tagged"], [f["name"] for f in mss["fields"]], mss["fields"][0]["default"]),
           (["value"], True, ["kind", "length", "value"], 2))
    expect("tcp: the Wireshark table of its ports", tcp["wireshark"], [{"table": "tcp.port", "fields": ["sport", "dport"]}])
    expect("tcp: size", tcp["size"], {"fixed_bytes": 20, "variable": True})
    expect("tcp: checksum rule", field(tcp, "checksum")["auto"], "inet_checksum(pseudo, this, payload)")
    expect("tcp: its reply rule", tcp["replies"][0],
           {"quoted": False, "rule": "reply tcp { sport == sent.dport; dport == sent.sport; sent.flags & SYN == 0 or ack == (sent.seq + 1) & 0xffffffff }"})
    expect("tcp: bound above ipv4.proto = 6 when frag == 0",
           {"lower": "ipv4", "field": "proto", "value": 6, "upper": "tcp", "when": "frag == 0"} in tcp["bindings"], True)
    expect("tcp: dns_tcp follows port 53", {"field": "sport", "value": 53, "layer": "dns_tcp", "when": None} in tcp["next"], True)

    ip = help_json("ipv4")
    p = field(ip, "proto")
    expect("ipv4.proto: enum names", {x["name"]: x["value"] for x in p["enum"]}["tcp"], 6)
    expect("ipv4: next protocol rules",
           [n for n in ip["next"] if n["field"] == "proto" and n["value"] in (1, 6, 17)],
           [{"field": "proto", "value": 1, "layer": "icmp", "when": "frag == 0"},
            {"field": "proto", "value": 6, "layer": "tcp", "when": "frag == 0"},
            {"field": "proto", "value": 17, "layer": "udp", "when": "frag == 0"}])
    expect("ipv4: bound above eth.type = 0x0800",
           {"lower": "eth", "field": "type", "value": 2048, "upper": "ipv4", "when": None} in ip["bindings"], True)
    expect("ipv4: payload size, pseudo-header, summary",
           (ip["payload_size"], ip["pseudo_header"], ip["summary"]), ("length - ihl * 4", True, "{src} > {dst}"))
    expect("ipv4: dst default, an address", (field(ip, "dst")["default"], field(ip, "dst")["kind"], field(ip, "dst")["bits"]),
           ("127.0.0.1", "ipv4addr", 32))
    expect("ipv4: flags u3 with DF", ({x["name"]: x["value"] for x in field(ip, "flags")["flags"]}, field(ip, "flags")["bits"]),
           ({"RF": 4, "DF": 2, "MF": 1}, 3))
    expect("ipv4: fragment rule", ip["fragment"], "fragment ipv4 { offset = frag; more = flags.MF }")
    expect("ipv4: aka", ip["aka"], ["IP"])

    icmp = help_json("icmp")
    expect("icmp.id: a condition", field(icmp, "id")["if"], "type != 3 and type != 5 and type != 11 and type != 12")
    codes = [x for x in field(icmp, "code")["enum"] if x["value"] == 0]
    expect("icmp.code: several names of 0, kept in order", [x["name"] for x in codes],
           ["net_unreach", "ttl_exceeded", "pointer_error"])

    dns = help_json("dns")
    qd = field(dns, "qd")
    expect("dns.qd: a counted list of questions", (qd["count"], [x["name"] for x in qd["options"]]), ("qdcount", ["question"]))
    qname = field(qd["options"][0], "qname")
    expect("dns question's qname: a name", (qname["type"], qname["kind"]), ("name", "bytes"))

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "hello.pkt")
        open(path, "w").write('layer hello "A toy protocol over UDP port 9999" {\n'
                              '    magic : u16 = 0xbeef\n    kind : u8 enum { ping = 1, pong = 2 } = ping\n'
                              '    length : u16 = auto len(this, payload)\n}\nbind udp.dport = 9999 -> hello\n')
        h = help_json("hello", "--script", path)
        expect("a script's layer: fields and binding",
               ([f["name"] for f in h["fields"]], h["bindings"], h["declared_at"], field(h, "kind")["default_text"]),
               (["magic", "kind", "length"], [{"lower": "udp", "field": "dport", "value": 9999, "upper": "hello", "when": None}],
                path + ":1", "ping"))
    p = subprocess.run([PKT, "help", "tpc", "--format", "json"], capture_output=True, text=True)
    expect("unknown layer: exit 2 and a hint", (p.returncode, p.stdout, p.stderr.strip()),
           (2, "", "pkt: unknown layer 'tpc'; did you mean 'tcp'?; `pkt layers` lists them"))
    p = subprocess.run([PKT, "help", "tcp", "--format", "yaml"], capture_output=True, text=True)
    expect("--format yaml: a usage error", p.returncode, 2)

    # The JSON and the text come from one walk: every field and binding of the text is in the JSON.
    for layer in ["eth", "ipv6", "udp", "sctp", "dhcp", "igmp"]:
        j = help_json(layer)
        text = subprocess.run([PKT, "help", layer], capture_output=True, text=True, check=True).stdout
        names = [line.split()[0] for line in text.split("\n\n")[1].splitlines()[1:]]
        expect(f"{layer}: text and JSON list the same fields", names, [f["name"] for f in j["fields"]])
        expect(f"{layer}: as many bindings", text.count("\n  ") >= len(j["bindings"]), True)
    if FAILS:
        print(f"{len(FAILS)} failure(s)")
        return 1
    print("all good")
    return 0


if __name__ == "__main__":
    sys.exit(main())
