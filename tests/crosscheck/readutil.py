"""Helpers shared by the `pkt read` tests: running pkt with a timeout,
writing pcap files, expression layer names, and option lists from JSON back
to bytes (an encoder written from the RFCs, independent of pkt's)."""
import json
import os
import struct
import subprocess

TIMEOUT = 60  # seconds for any one pkt run; a hang fails the test


def pkt_path(arg):
    return arg or os.environ.get("PKT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "pkt")


class Result:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def describe(self):
        return "%s\n  exit %s\n  stdout: %s\n  stderr: %s" % (
            " ".join(self.argv), self.rc, self.out[:2000], self.err[:2000])


def run(argv, stdin=None):
    """Runs argv; a timeout or a signal is reported as rc None / negative."""
    try:
        r = subprocess.run(argv, capture_output=True, timeout=TIMEOUT, input=stdin)
    except subprocess.TimeoutExpired:
        return Result(argv, None, "", "TIMEOUT after %d s" % TIMEOUT)
    return Result(argv, r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace"))


def write_pcap(path, linktype, packets, snaplen=262144):
    """A classic microsecond pcap of `packets` (bytes each)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, snaplen, linktype))
        for i, p in enumerate(packets):
            f.write(struct.pack("<IIII", 1700000000 + i, i, len(p), len(p)))
            f.write(p)


def split_top(expr, sep="/"):
    """Splits a pkt expression at `sep` outside quotes, parentheses and brackets."""
    parts, depth, cur, q, i = [], 0, [], False, 0
    while i < len(expr):
        c = expr[i]
        if q:
            cur.append(c)
            if c == "\\" and i + 1 < len(expr):
                cur.append(expr[i + 1]); i += 1
            elif c == '"':
                q = False
        elif c == '"':
            q = True; cur.append(c)
        elif c in "([":
            depth += 1; cur.append(c)
        elif c in ")]":
            depth -= 1; cur.append(c)
        elif c == sep and depth == 0:
            parts.append("".join(cur).strip()); cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur).strip())
    return parts


def expr_layer_names(expr):
    """The layer names a dissection of expr's bytes should give: payload
    literals are raw, consecutive raws are one, an empty one is nothing."""
    names = []
    for part in split_top(expr):
        head = part.split("(", 1)[0].strip()
        if part.startswith('"') or part[:4] in ('hex"', "base") or part.startswith("file("):
            empty = part in ('""', 'hex""', 'base64""')
            name = "raw"
        else:
            name = head
            empty = name == "raw" and part.replace(" ", "") == "raw()"
        if empty:
            continue
        if name == "raw" and names and names[-1] == "raw":
            continue
        names.append(name)
    return names


def parse_json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def parse_pkt_lines(text):
    """`packet pN = EXPR` lines -> [(name, EXPR)]."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.startswith("packet ") or " = " not in line:
            raise ValueError("not a `packet pN = ...` line: %r" % line)
        name, expr = line[len("packet "):].split(" = ", 1)
        out.append((name, expr))
    return out


# ---- option lists from JSON back to bytes (RFC 793/7323/2018, RFC 791/2113, RFC 8200/2711) ----

def _u(n, v):
    return v.to_bytes(n, "big")


def encode_option(layer, o):
    name = o["option"]
    if name is None:
        return bytes.fromhex(o["bytes"])
    if layer == "tcp":
        if name == "eol":
            return b"\x00"
        if name == "nop":
            return b"\x01"
        if name == "mss":
            return b"\x02\x04" + _u(2, o["value"])
        if name == "wscale":
            return b"\x03\x03" + _u(1, o["shift"])
        if name == "sackok":
            return b"\x04\x02"
        if name == "sack":
            return bytes([5, 2 + 4 * len(o["edges"])]) + b"".join(_u(4, e) for e in o["edges"])
        if name == "timestamp":
            return b"\x08\x0a" + _u(4, o["val"]) + _u(4, o["ecr"])
    if layer == "ipv4":
        if name == "eol":
            return b"\x00"
        if name == "nop":
            return b"\x01"
        if name == "rr":
            return bytes([7, 3 + 4 * len(o["addrs"]), o["ptr"]]) + b"".join(_u(4, a) for a in o["addrs"])
        if name == "router_alert":
            return b"\x94\x04" + _u(2, o["value"])
    if layer in ("ipv6_hop", "ipv6_dest"):
        if name == "pad1":
            return b"\x00"
        if name == "padn":
            d = bytes.fromhex(o["data"])
            return bytes([1, len(d)]) + d
        if name == "router_alert" and layer == "ipv6_hop":
            return b"\x05\x02" + _u(2, o["value"])
    raise ValueError("%s option %r: not known to this test's encoder" % (layer, o))


def encode_options(layer, opts):
    return b"".join(encode_option(layer, o) for o in opts)


def pad_options(layer, data, header_before):
    """Option bytes padded as the layer pads them: zeros to 4 bytes (tcp, ipv4),
    pad1/padn to make the extension header a multiple of 8 (ipv6_hop/dest)."""
    if layer in ("tcp", "ipv4"):
        return data + b"\0" * (-len(data) % 4)
    n = -(header_before + len(data)) % 8
    if n == 0:
        return data
    if n == 1:
        return data + b"\x00"
    return data + bytes([1, n - 2]) + b"\0" * (n - 2)


class Failures:
    """fail(msg, *details): prints FAIL and the details, and counts."""

    def __init__(self):
        self.count = 0

    def __call__(self, msg, *details):
        self.count += 1
        print("FAIL: " + msg)
        for d in details:
            print("  " + str(d).replace("\n", "\n  "))


def build_hex(pkt, expr):
    """(hex of `pkt build -e expr`, or None on failure; the run)."""
    r = run([pkt, "build", "-e", expr, "--format", "hex"])
    return (r.out.strip() if r.rc == 0 else None), r


def build_pcap(pkt, tmpdir, name, exprs):
    """Builds the expressions (one packet each) into tmpdir/NAME.pcap; returns (path, the run)."""
    pcap, script = os.path.join(tmpdir, name + ".pcap"), os.path.join(tmpdir, name + ".pkt")
    with open(script, "w") as f:
        for i, e in enumerate(exprs):
            f.write("packet c%d = %s\n" % (i, e))
    return pcap, run([pkt, "build", script, "--format", "pcap", "-o", pcap])


def read_back(pkt, pcap, n, fail, what="pkt read"):
    """`pkt read` as JSON and as pkt text: (jsons, texts), or None (after
    fail) when it fails or gives other than n packets."""
    rj = run([pkt, "read", pcap, "--format", "json"])
    rp = run([pkt, "read", pcap, "--format", "pkt"])
    if rj.rc != 0 or rp.rc != 0:
        fail(what + " failed", rj.describe(), rp.describe())
        return None
    jsons, texts = parse_json_lines(rj.out), parse_pkt_lines(rp.out)
    if len(jsons) != n or len(texts) != n:
        fail("%s gave %d/%d packets for %d" % (what, len(jsons), len(texts), n))
        return None
    return jsons, texts
