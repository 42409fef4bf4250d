#!/usr/bin/python3
"""End-to-end tests of scripts/course/ and scripts/examples/.

Every course scenario runs against a real peer on loopback that this test
starts itself (a Python socket, or another course script), on free ports the
test picks, and the test checks both what the peer received and what the
script printed. The raw scenarios are sent for real (as root) while an
AF_PACKET socket captures `lo`, and the captured bytes must equal the bytes
`--pcap` recorded and the bytes scapy builds from the course's values.

  - stream/dgram clients and servers against in-test peers and each other;
  - encodings: exact output;
  - ip_raw, tcp_raw: captured == --pcap == scapy, the TCP checksum recomputed
    the course's way (pseudo-header);
  - scope: tcp_raw with -D dst=10.3.0.2 --scope 127.0.0.0/8 is refused before
    anything leaves; this runs inside a network namespace of its own
    (`unshare --net`) with a route for 10.0.0.0/8 on its lo, so that even a
    broken pkt could not reach a real network, and a positive control in the
    same namespace proves the capture would have seen a leak;
  - missing CAP_NET_RAW: the error names the script line and the fix;
    --dry-run --pcap works without it;
  - a refused connection is a clear error; Ctrl-C stops a long send (130);
  - the examples write the expected packets with --dry-run --pcap.

Tests that need root skip themselves (with the reason) otherwise.
Usage: test_course.py [PKT]   (default $PKT, then build/pkt)
"""
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
COURSE = os.path.join(ROOT, "scripts", "course")
EXAMPLES = os.path.join(ROOT, "scripts", "examples")
PKT = os.path.abspath(
    (sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else None)
    or os.environ.get("PKT") or os.path.join(ROOT, "build", "pkt"))

ENV = dict(os.environ, NO_COLOR="1")
ENV.setdefault("PKT_SCOPE", "127.0.0.0/8,::1/128")   # as CI sets it; never wider by accident

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
CAP_NET_RAW = 13
IS_ROOT = os.geteuid() == 0


class Skip(Exception):
    pass


def course(name):
    return os.path.join(COURSE, name)


def example(name):
    return os.path.join(EXAMPLES, name)


def line_of(path, text):
    """1-based number of the first line of `path` that starts with `text`."""
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if line.startswith(text):
                return i
    raise AssertionError("%s has no line starting with %r" % (path, text))


def pkt_run(script, *args, timeout=30, prefix=(), env=None, cwd=None):
    cmd = [*prefix, PKT, "run", script, *args]
    r = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env or ENV, cwd=cwd)
    r.out = r.stdout.decode("utf-8", "replace")
    r.err = r.stderr.decode("utf-8", "replace")
    return r


def describe(r):
    return "exit %s\n--- stdout\n%s--- stderr\n%s" % (r.returncode, r.out, r.err)


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_pcap(path):
    """(linktype, [packet bytes]) of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
              b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}[magic]
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    out, off = [], 24
    while off < len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return linktype, out


def inet_checksum(data):
    """The course's checksum (003, 12.7.2), in network byte order."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


class Server:
    """A pkt server script as a child process, its stdout read as it comes."""

    def __init__(self, script, *args):
        self.p = subprocess.Popen([PKT, "run", script, *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=ENV, bufsize=0)
        self.buf = b""

    def wait_for(self, text, timeout=10):
        want = text.encode()
        deadline = time.monotonic() + timeout
        while want not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.p.poll() is not None and not select.select([self.p.stdout], [], [], 0)[0]:
                self.kill()
                raise AssertionError("server never printed %r; stdout so far %r, stderr %r"
                                     % (text, self.buf, self.p.stderr.read()))
            if select.select([self.p.stdout], [], [], min(left, 0.1))[0]:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk and self.p.poll() is not None:
                    continue
                self.buf += chunk

    def finish(self, timeout=10):
        try:
            out, err = self.p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("server did not exit within %s s; stdout %r" % (timeout, self.buf))
        return self.p.returncode, (self.buf + out).decode(), err.decode()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


class Capture:
    """Every frame on one interface (or all of them), via AF_PACKET."""

    def __init__(self, iface="lo"):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        if iface:
            self.s.bind((iface, 0))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)

    def ip_packets(self, quiet=0.3, limit=5.0):
        """[(pkttype, IP packet bytes)] received until `quiet` s pass with none."""
        out, deadline = [], time.monotonic() + limit
        while time.monotonic() < deadline:
            if not select.select([self.s], [], [], quiet)[0]:
                break
            frame, addr = self.s.recvfrom(65535)
            pkttype = addr[2]
            if len(frame) < 34 or frame[12:14] != b"\x08\x00":   # lo frames: 14-byte Ethernet header
                continue
            ip = frame[14:]
            total = struct.unpack("!H", ip[2:4])[0]
            out.append((pkttype, ip[:total]))
        return out

    def close(self):
        self.s.close()


def sent_copies(captured, match):
    """The captured packets `match` accepts, preferring the outgoing copies
    (loopback shows each packet leaving and arriving)."""
    hits = [(t, b) for t, b in captured if match(b)]
    outgoing = [b for t, b in hits if t == PACKET_OUTGOING]
    return outgoing or [b for _, b in hits]


def check_ipv4_header(b):
    ihl = (b[0] & 0x0F) * 4
    assert inet_checksum(b[:ihl]) == 0, "bad IPv4 header checksum in %s" % b.hex()
    assert struct.unpack("!H", b[2:4])[0] == len(b), "IPv4 total length is not the packet's size"


# ---------------------------------------------------------------------------
# 12.5.1 / 12.5.2: TCP stream client and server

def test_stream_client():
    got, err = {}, []
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)
    port = srv.getsockname()[1]

    def peer():   # the course's `echo "I got your message" | nc -l -p PORT`
        try:
            conn, addr = srv.accept()
            with conn:
                conn.settimeout(10)
                data = b""
                while not data.endswith(b"\n"):
                    chunk = conn.recv(1024)
                    if not chunk:
                        break
                    data += chunk
                got["data"], got["addr"] = data, addr
                conn.sendall(b"I got your message\n")
        except Exception as e:  # noqa: BLE001 -- reported by the main thread
            err.append(e)

    t = threading.Thread(target=peer)
    t.start()
    r = pkt_run(course("stream_client.pkt"), "-D", "port=%d" % port)
    t.join(15)
    srv.close()
    assert not err, "peer failed: %r" % err
    assert r.returncode == 0, describe(r)
    assert got.get("data") == b"Message\n", "the peer received %r" % got.get("data")
    assert got["addr"][0] == "127.0.0.1"
    assert r.out == "I got your message\n\n", "stdout %r" % r.out   # print() of the reply, like the course


def test_stream_client_message_param():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)
    port, got = srv.getsockname()[1], []

    def peer():
        conn, _ = srv.accept()
        with conn:
            conn.settimeout(10)
            got.append(conn.recv(1024))
            conn.sendall(b"ok")

    t = threading.Thread(target=peer)
    t.start()
    r = pkt_run(course("stream_client.pkt"), "-D", "port=%d" % port, "-D", "message=hello pkt")
    t.join(15)
    srv.close()
    assert r.returncode == 0, describe(r)
    assert got == [b"hello pkt"], "the peer received %r" % got
    assert r.out == "ok\n", "stdout %r" % r.out


def test_stream_client_refused():
    port = free_port()   # nothing listens: bound once, then closed
    r = pkt_run(course("stream_client.pkt"), "-D", "port=%d" % port)
    assert r.returncode == 1, describe(r)
    want = r"stream_client\.pkt:\d+: connect failed: connection refused: 127\.0\.0\.1:%d\n" % port
    assert re.search(want, r.err), "stderr does not match %r:\n%s" % (want, r.err)
    assert r.out == "", "stdout %r" % r.out


def test_stream_server():
    port = free_port()
    srv = Server(course("stream_server.pkt"), "-D", "port=%d" % port, "-D", "count=2")
    try:
        srv.wait_for("Waiting for TCP connections\n")
        lines = ["Waiting for TCP connections", ""]
        for msg in (b"Message\n", b"second one"):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
                c.sendall(msg)
                reply = b""
                while True:            # the server replies, then closes
                    chunk = c.recv(1024)
                    if not chunk:
                        break
                    reply += chunk
                assert reply == b"Connected to TCP Server on port %d\n" % port, "reply %r" % reply
                lines += ["Message Received - '%s'" % msg.decode(),
                          "Sent by - 127.0.0.1 port - %d" % c.getsockname()[1], ""]
        rc, out, err = srv.finish()
    finally:
        srv.kill()
    assert rc == 0, "exit %s, stderr %s" % (rc, err)
    want = "\n".join(lines) + "\n"
    assert out == want, "stdout\n%r\nwanted\n%r" % (out, want)


def test_stream_pair():
    """The two course scripts against each other, as scripts/README.md says."""
    port = free_port()
    srv = Server(course("stream_server.pkt"), "-D", "port=%d" % port, "-D", "count=1")
    try:
        srv.wait_for("Waiting for TCP connections")
        r = pkt_run(course("stream_client.pkt"), "-D", "port=%d" % port)
        rc, out, err = srv.finish()
    finally:
        srv.kill()
    assert r.returncode == 0, describe(r)
    assert r.out == "Connected to TCP Server on port %d\n\n" % port, "client stdout %r" % r.out
    assert rc == 0 and "Message Received - 'Message\n'\nSent by - 127.0.0.1 port - " in out, \
        "server exit %s stdout %r stderr %r" % (rc, out, err)


# ---------------------------------------------------------------------------
# 12.5.3 / 12.5.4: UDP datagram client and server

def test_dgram_client():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    u.settimeout(10)
    port, got, err = u.getsockname()[1], {}, []

    def peer():   # the course's `echo "I got your message" | nc -l -p PORT -u`
        try:
            data, addr = u.recvfrom(1024)
            got["data"], got["addr"] = data, addr
            u.sendto(b"I got your message\n", addr)
        except Exception as e:  # noqa: BLE001
            err.append(e)

    t = threading.Thread(target=peer)
    t.start()
    r = pkt_run(course("dgram_client.pkt"), "-D", "port=%d" % port)
    t.join(15)
    u.close()
    assert not err, "peer failed: %r" % err
    assert r.returncode == 0, describe(r)
    assert got.get("data") == b"Message\n", "the peer received %r" % got.get("data")
    assert r.out == "I got your message\n\n", "stdout %r" % r.out


def test_dgram_client_no_server():
    port = free_port(socket.SOCK_DGRAM)
    t0 = time.monotonic()
    r = pkt_run(course("dgram_client.pkt"), "-D", "port=%d" % port, "-D", "timeout=1")
    assert r.returncode == 1, describe(r)
    assert re.search(r"dgram_client\.pkt:\d+: no reply from 127\.0\.0\.1:%d: timeout" % port, r.err), r.err
    assert time.monotonic() - t0 < 10


def test_dgram_server():
    port = free_port(socket.SOCK_DGRAM)
    srv = Server(course("dgram_server.pkt"), "-D", "port=%d" % port, "-D", "count=2")
    try:
        srv.wait_for("Awaiting UDP Messages\n")
        lines = ["Awaiting UDP Messages"]
        for msg in (b"Message\n", b"another"):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
                c.settimeout(10)
                c.sendto(msg, ("127.0.0.1", port))
                reply, addr = c.recvfrom(1024)
                assert reply == b"Message received by the UDP Message Server!", "reply %r" % reply
                assert addr == ("127.0.0.1", port), "reply from %r" % (addr,)
                lines += ["", "Message Received: '%s'" % msg.decode(),
                          "Sent by - 127.0.0.1 port %d" % c.getsockname()[1]]
        rc, out, err = srv.finish()
    finally:
        srv.kill()
    assert rc == 0, "exit %s, stderr %s" % (rc, err)
    want = "\n".join(lines) + "\n"
    assert out == want, "stdout\n%r\nwanted\n%r" % (out, want)


def test_dgram_pair():
    port = free_port(socket.SOCK_DGRAM)
    srv = Server(course("dgram_server.pkt"), "-D", "port=%d" % port, "-D", "count=1")
    try:
        srv.wait_for("Awaiting UDP Messages")
        r = pkt_run(course("dgram_client.pkt"), "-D", "port=%d" % port)
        rc, out, err = srv.finish()
    finally:
        srv.kill()
    assert r.returncode == 0, describe(r)
    assert r.out == "Message received by the UDP Message Server!\n", "client stdout %r" % r.out
    assert rc == 0 and "Message Received: 'Message\n'\nSent by - 127.0.0.1 port " in out, \
        "server exit %s stdout %r stderr %r" % (rc, out, err)


# ---------------------------------------------------------------------------
# 12.6: encodings

def test_encodings():
    r = pkt_run(course("encodings.pkt"))
    assert r.returncode == 0, describe(r)
    want = ("message:        Message\n"
            "hex:            4d657373616765\n"
            "hex decoded:    Message\n"
            "base64:         TWVzc2FnZQ==\n"
            "base64 decoded: Message\n"
            "\t0x0000:  4d65 7373 6167 65                        Message\n")
    assert r.out == want, "stdout\n%r\nwanted\n%r" % (r.out, want)

    r = pkt_run(course("encodings.pkt"), "-D", "message=convert me")
    assert r.returncode == 0, describe(r)
    assert "hex:            636f6e76657274206d65\n" in r.out, r.out
    assert "base64:         Y29udmVydCBtZQ==\n" in r.out, r.out
    assert "hex decoded:    convert me\n" in r.out and "base64 decoded: convert me\n" in r.out, r.out


# ---------------------------------------------------------------------------
# 12.7: raw IPv4 and TCP, sent for real and captured on lo

def need_root():
    if not IS_ROOT:
        raise Skip("needs root (raw sockets and AF_PACKET capture)")


def send_and_capture(script, match, *args):
    """Run `script` for real with --pcap while capturing lo; return
    (result, pcap packets, captured copies of the packet `match` accepts)."""
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "out.pcap")
        cap = Capture("lo")
        try:
            r = pkt_run(script, "--pcap", pcap, *args)
            captured = cap.ip_packets()
        finally:
            cap.close()
        assert r.returncode == 0, describe(r)
        assert r.err.strip().endswith("sent 1 packet"), r.err
        link, pkts = read_pcap(pcap)
    assert link == 101, "pcap link type %d, wanted LINKTYPE_RAW (101)" % link
    assert len(pkts) == 1, "pcap holds %d packets" % len(pkts)
    copies = sent_copies(captured, match)
    assert copies, "the capture on lo saw no such packet (%d IPv4 packets seen)" % len(captured)
    return r, pkts[0], copies


def assert_hexdump(out, b):
    """Each 16-byte row of `b` appears in the `hexdump` output, tcpdump -X style."""
    for off in range(0, len(b), 16):
        row = b[off:off + 16].hex()
        groups = " ".join(row[i:i + 4] for i in range(0, len(row), 4))
        assert "0x%04x:  %s" % (off, groups) in out, "hexdump row %d (%s) missing:\n%s" % (off, groups, out)


def test_ip_raw():
    from scapy.all import IP, Raw  # noqa: PLC0415 -- scapy is slow to import

    def chaos(b):
        return b[9] == 16 and b[4:6] == struct.pack("!H", 12345) and b.endswith(b"This is a message")

    r, built, copies = send_and_capture(course("ip_raw.pkt"), chaos)
    # Our total length, id and checksum are all non-zero, so the kernel's
    # IP_HDRINCL fill-ins change nothing: the wire bytes are the built bytes.
    for wire in copies:
        assert wire == built, "captured %s\n    --pcap %s" % (wire.hex(), built.hex())
    want = bytes(IP(src="127.0.0.1", dst="127.0.0.1", id=12345, ttl=64, proto=16) / Raw(b"This is a message"))
    assert built == want, "pkt %s\nscapy %s" % (built.hex(), want.hex())
    check_ipv4_header(built)
    assert built[8] == 64 and built[9] == 16 and built[20:] == b"This is a message"
    assert "proto    = 16" in r.out and "id       = 12345" in r.out, r.out
    assert_hexdump(r.out, built)


def test_tcp_raw():
    from scapy.all import IP, TCP, Raw  # noqa: PLC0415

    def syn(b):
        return b[9] == 6 and b[20:24] == struct.pack("!HH", 54321, 7777)

    r, built, copies = send_and_capture(course("tcp_raw.pkt"), syn)
    for wire in copies:
        assert wire == built, "captured %s\n    --pcap %s" % (wire.hex(), built.hex())
    msg = b"Hello! Is this hidden?"
    want = bytes(IP(src="127.0.0.1", dst="127.0.0.1", id=12345, ttl=64)
                 / TCP(sport=54321, dport=7777, seq=454, flags="S", window=65535) / Raw(msg))
    assert built == want, "pkt %s\nscapy %s" % (built.hex(), want.hex())
    check_ipv4_header(built)

    # The TCP checksum, the course's way: over the pseudo-header (src, dst,
    # 0, proto 6, TCP length) and the segment with its checksum field zeroed.
    seg = built[20:]
    assert seg[13] == 0x02 and seg[12] >> 4 == 5 and seg.endswith(msg)
    zeroed = seg[:16] + b"\0\0" + seg[18:]
    pseudo = built[12:16] + built[16:20] + struct.pack("!BBH", 0, 6, len(seg))
    field = struct.unpack("!H", seg[16:18])[0]
    assert field == inet_checksum(pseudo + zeroed), "TCP checksum 0x%04x, recomputed 0x%04x" % (
        field, inet_checksum(pseudo + zeroed))
    assert "checksum = 0x%04x" % field in r.out, "show does not print the TCP checksum:\n" + r.out
    assert "flags    = SYN (0x2)" in r.out, r.out
    assert_hexdump(r.out, built)


def test_tcp_raw_params():
    """Every param of tcp_raw reaches the packet (dry run, loopback values)."""
    from scapy.all import IP, TCP, Raw  # noqa: PLC0415
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "p.pcap")
        r = pkt_run(course("tcp_raw.pkt"), "--dry-run", "--pcap", pcap, "-D", "src=127.0.0.2", "-D", "dst=127.0.0.3",
                    "-D", "sport=1234", "-D", "dport=80", "-D", "seq=99", "-D", "window=512",
                    "-D", "message=other text")
        assert r.returncode == 0, describe(r)
        _, pkts = read_pcap(pcap)
    want = bytes(IP(src="127.0.0.2", dst="127.0.0.3", id=12345, ttl=64)
                 / TCP(sport=1234, dport=80, seq=99, flags="S", window=512) / Raw(b"other text"))
    assert pkts == [want], "pkt %s\nscapy %s" % (pkts[0].hex() if pkts else None, want.hex())


# ---------------------------------------------------------------------------
# The scope, in a network namespace of the test's own

NETNS_HELPER = "--netns-scope-helper"


def netns_scope_helper(pkt, script, parent_ns):
    """Runs inside `unshare --net`: a fresh namespace whose lo routes
    10.0.0.0/8, so a packet to 10.3.0.2 could only ever reach this lo."""
    result = {}
    if os.stat("/proc/self/ns/net").st_ino == int(parent_ns):
        print(json.dumps({"error": "not in a new network namespace"}))
        return 1
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["ip", "route", "add", "10.0.0.0/8", "dev", "lo"], check=True)
    env = dict(ENV)
    env.pop("PKT_SCOPE", None)

    def to_10_3_0_2(b):
        return b[16:20] == socket.inet_aton("10.3.0.2")

    with tempfile.TemporaryDirectory() as tmp:
        for name, scope in (("refused", "127.0.0.0/8"), ("control", "10.0.0.0/8")):
            pcap = os.path.join(tmp, name + ".pcap")
            cap = Capture(None)   # every interface of the namespace
            try:
                r = subprocess.run([pkt, "run", script, "-D", "dst=10.3.0.2", "--scope", scope, "--pcap", pcap],
                                   capture_output=True, text=True, timeout=30, env=env)
                seen = [b.hex() for _, b in cap.ip_packets() if to_10_3_0_2(b)]
            finally:
                cap.close()
            result[name] = {"rc": r.returncode, "stderr": r.stderr, "seen": seen, "pcap": os.path.exists(pcap)}
    print(json.dumps(result))
    return 0


def test_scope_refusal():
    need_root()
    script = course("tcp_raw.pkt")
    parent_ns = os.stat("/proc/self/ns/net").st_ino
    try:
        h = subprocess.run(["unshare", "--net", sys.executable, os.path.abspath(__file__), NETNS_HELPER,
                            PKT, script, str(parent_ns)], capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise Skip("needs unshare (util-linux) for a private network namespace")
    if h.returncode != 0 and "unshare failed" in h.stderr:
        raise Skip("cannot create a network namespace here: " + h.stderr.strip())
    assert h.returncode == 0, "netns helper failed: %s\n%s" % (h.stdout, h.stderr)
    res = json.loads(h.stdout)
    ref, ctl = res["refused"], res["control"]
    line = line_of(script, "send syn")
    want = ("tcp_raw.pkt:%d:1: error: send to 10.3.0.2 refused: outside the scope 127.0.0.0/8 "
            "(set by --scope or PKT_SCOPE)" % line)
    assert ref["rc"] == 1, "refused run: exit %s\n%s" % (ref["rc"], ref["stderr"])
    assert want in ref["stderr"], "stderr %r lacks %r" % (ref["stderr"], want)
    assert "sent" not in ref["stderr"], "the refused run reports sending: %r" % ref["stderr"]
    assert ref["seen"] == [], "the capture saw a packet to 10.3.0.2: %s" % ref["seen"]
    assert not ref["pcap"], "the refused run created its --pcap file"
    # The positive control: with the scope widened, in the same isolated
    # namespace, the same packet is sent and the capture does see it.
    assert ctl["rc"] == 0, "control run: exit %s\n%s" % (ctl["rc"], ctl["stderr"])
    assert ctl["seen"], "the control packet to 10.3.0.2 was not captured: the capture proves nothing"


# ---------------------------------------------------------------------------
# Privileges

def no_net_raw_prefix():
    """A command prefix that runs without CAP_NET_RAW (still uid 0 as root)."""
    if not IS_ROOT:
        return []
    return ["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw"]


def test_missing_privilege():
    prefix = no_net_raw_prefix()
    caps = subprocess.run([*prefix, "grep", "^CapEff:", "/proc/self/status"], capture_output=True, text=True)
    eff = int(caps.stdout.split()[1], 16)
    if eff & (1 << CAP_NET_RAW):
        raise Skip("cannot run without CAP_NET_RAW here (CapEff %x)" % eff)
    script = course("ip_raw.pkt")
    r = pkt_run(script, prefix=prefix)
    if r.returncode == 0:
        raise Skip("pkt sent without CAP_NET_RAW in its effective set (file capabilities?)")
    assert r.returncode == 1, describe(r)
    where = "ip_raw.pkt:%d:1: error: raw sockets need CAP_NET_RAW" % line_of(script, "send chaos")
    assert where in r.err, "stderr lacks %r:\n%s" % (where, r.err)
    for fix in ("run as root", "setcap cap_net_raw+ep", "--dry-run --pcap"):
        assert fix in r.err, "stderr does not mention %r:\n%s" % (fix, r.err)
    assert "send chaos" in r.err and "^" in r.err, "no source line and caret:\n" + r.err

    # --dry-run --pcap needs no privilege, and records the same bytes.
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "chaos.pcap")
        r = pkt_run(script, "--dry-run", "--pcap", pcap, prefix=prefix)
        assert r.returncode == 0, describe(r)
        link, pkts = read_pcap(pcap)
    assert link == 101 and len(pkts) == 1, (link, len(pkts))
    assert pkts[0][9] == 16 and pkts[0].endswith(b"This is a message")


# ---------------------------------------------------------------------------
# Ctrl-C

def test_ctrl_c():
    need_root()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "flood.pcap")
        p = subprocess.Popen([PKT, "run", example("udp_flood.pkt"), "-D", "count=1000000", "-D", "interval=1ms",
                              "--pcap", pcap], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        try:
            # Ctrl-C once sending has begun (the first record is in the pcap):
            # a fixed sleep is too short for a slow start (ASan, a loaded machine).
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and p.poll() is None:
                if os.path.exists(pcap) and os.path.getsize(pcap) > 24:
                    break
                time.sleep(0.05)
            time.sleep(0.2)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        err = err.decode()
        assert p.returncode == 130, "exit %s, stderr %r" % (p.returncode, err)
        m = re.search(r"interrupted: sent (\d+) packets?\n", err)
        assert m, "stderr %r" % err
        n = int(m.group(1))
        assert 0 < n < 1000000, "sent %d" % n
        _, pkts = read_pcap(pcap)
    assert len(pkts) == n, "--pcap holds %d packets, pkt reports %d" % (len(pkts), n)


# ---------------------------------------------------------------------------
# The examples, as dry runs

def dry_run_pcap(script, *args):
    from scapy.all import rdpcap  # noqa: PLC0415
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "x.pcap")
        r = pkt_run(script, "--dry-run", "--pcap", pcap, *args)
        assert r.returncode == 0, describe(r)
        return r, list(rdpcap(pcap))


def assert_checksums(p):
    """scapy recomputes every checksum of p to the same value."""
    rebuilt = p.copy()
    for layer in rebuilt.layers():
        if hasattr(rebuilt[layer], "chksum"):
            rebuilt[layer].chksum = None
    assert bytes(rebuilt.__class__(bytes(rebuilt))) == bytes(p), "bad checksum in %s" % p.summary()


def test_example_syn_scan():
    from scapy.all import IP, TCP  # noqa: PLC0415
    r, pkts = dry_run_pcap(example("syn_scan.pkt"))
    assert len(pkts) == 1024, "%d packets" % len(pkts)
    assert [p[TCP].dport for p in pkts] == list(range(1, 1025))
    assert all(p[IP].dst == "127.0.0.1" and p[TCP].flags == "S" for p in pkts)
    assert "sent 1024 packets" in r.err, r.err
    assert "127.0.0.1: 0 open, 0 closed, 1024 filtered" in r.out, r.out  # a dry run: nothing answers
    assert_checksums(pkts[0])
    assert_checksums(pkts[-1])
    _, few = dry_run_pcap(example("syn_scan.pkt"), "-D", "first=20", "-D", "last=25")
    assert [p[TCP].dport for p in few] == [20, 21, 22, 23, 24, 25]


def test_example_icmp_echo():
    from scapy.all import ICMP, IP  # noqa: PLC0415
    _, pkts = dry_run_pcap(example("icmp_echo.pkt"))
    assert len(pkts) == 4, "%d packets" % len(pkts)
    assert [p[ICMP].seq for p in pkts] == [1, 2, 3, 4]
    assert all(p[ICMP].type == 8 and p[IP].dst == "127.0.0.1" for p in pkts)
    assert abs(float(pkts[1].time - pkts[0].time) - 1.0) < 0.01, "not 1 s apart"
    for p in pkts:
        assert_checksums(p)
    _, ten = dry_run_pcap(example("icmp_echo.pkt"), "-D", "count=10", "-D", "interval=200ms")
    assert [p[ICMP].seq for p in ten] == list(range(1, 11))


def test_example_ping_traceroute():
    from scapy.all import ICMP, IP, IPv6, UDP  # noqa: PLC0415
    r, pkts = dry_run_pcap(example("ping.pkt"))
    assert [p[ICMP].seq for p in pkts if IP in p] == [1, 2, 3, 4], r.out
    assert len([p for p in pkts if IPv6 in p]) == 4
    assert "0 answered, 8 unanswered (dry run: nothing was sent)" in r.out, r.out
    r, pkts = dry_run_pcap(example("traceroute.pkt"), "-D", "maxhops=3")
    assert [(p[IP].ttl, p[UDP].dport) for p in pkts] == [(1, 33435), (2, 33436), (3, 33437)], r.out
    assert " 3  *" in r.out, r.out


def test_sniffer():
    """The course's sniffer prints each packet sent while it runs, layer by layer."""
    port = free_port(socket.SOCK_DGRAM)
    cmd = [PKT, "run", course("sniffer.pkt"), "-D", "count=3", "-D", "filter=udp port %d" % port, "-D", "promisc=1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    try:
        first = proc.stdout.readline().decode()
        assert first == "sniffing on lo (udp port %d), 3 packets\n" % port, first + proc.stderr.read().decode()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(3):
                s.sendto(b"sniffed %d" % i, ("127.0.0.1", port))
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    out = out.decode()
    assert proc.returncode == 0, out + err.decode()
    assert len(re.findall(r"^# packet \d at \d+\.\d{6}, 51 bytes$", out, re.M)) == 3, out
    for layer in ("eth (14 bytes)", "ipv4 (20 bytes)", "udp (8 bytes)", "raw (9 bytes)"):
        assert out.count(layer + "\n") == 3, layer + "\n" + out
    assert out.count("  dport    = %d\n" % port) == 3, out
    assert ['load = "sniffed %d"' % i for i in range(3)] == re.findall(r'load = "sniffed \d"', out), out
    assert out.endswith("3 packets\n"), out


def test_example_udp_flood():
    from scapy.all import IP, UDP, Raw  # noqa: PLC0415
    _, pkts = dry_run_pcap(example("udp_flood.pkt"))
    assert len(pkts) == 1000, "%d packets" % len(pkts)
    assert all(p[IP].dst == "127.0.0.1" and p[UDP].dport == 9 and len(p[Raw].load) == 64 for p in pkts)
    assert_checksums(pkts[0])
    _, few = dry_run_pcap(example("udp_flood.pkt"), "-D", "count=7", "-D", "dport=5000")
    assert len(few) == 7 and few[0][UDP].dport == 5000


def test_headers():
    """Each course script says which course section it replays."""
    sections = {"stream_client.pkt": "12.5.1", "stream_server.pkt": "12.5.2", "dgram_client.pkt": "12.5.3",
                "dgram_server.pkt": "12.5.4", "encodings.pkt": "12.6.1", "ip_raw.pkt": "12.7.1",
                "tcp_raw.pkt": "12.7.2"}
    with open(course("sniffer.pkt"), encoding="utf-8") as f:
        assert f.readline().startswith("# Replays the course's packet sniffer, ../shared/course/004_8eccea06778a2364.txt")
    for name, section in sections.items():
        with open(course(name), encoding="utf-8") as f:
            first = f.readline()
        assert first.startswith("# Replays course %s " % section), "%s starts %r" % (name, first)
        assert "003_898f9dc866db3c6f.txt" in open(course(name), encoding="utf-8").read(2000), name
        r = subprocess.run([PKT, "check", course(name)], capture_output=True, text=True, env=ENV)
        assert r.returncode == 0, "pkt check %s: %s" % (name, r.stderr)


TESTS = [
    test_headers,
    test_stream_client, test_stream_client_message_param, test_stream_client_refused,
    test_stream_server, test_stream_pair,
    test_dgram_client, test_dgram_client_no_server, test_dgram_server, test_dgram_pair,
    test_encodings,
    test_ip_raw, test_tcp_raw, test_tcp_raw_params,
    test_scope_refusal, test_missing_privilege, test_ctrl_c,
    test_sniffer,
    test_example_syn_scan, test_example_icmp_echo, test_example_ping_traceroute, test_example_udp_flood,
]


def main():
    if len(sys.argv) > 1 and sys.argv[1] == NETNS_HELPER:
        return netns_scope_helper(*sys.argv[2:5])
    if not os.access(PKT, os.X_OK):
        print("no pkt binary at %s" % PKT)
        return 1
    only = [a for a in sys.argv[2:] if not a.startswith("-")]
    passed = failed = skipped = 0
    for t in TESTS:
        name = t.__name__[len("test_"):]
        if only and name not in only:
            continue
        t0 = time.monotonic()
        try:
            t()
        except Skip as e:
            skipped += 1
            print("SKIP %s: %s" % (name, e))
            continue
        except Exception as e:  # noqa: BLE001 -- report every failure and go on
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
            continue
        passed += 1
        print("ok   %s (%.1f s)" % (name, time.monotonic() - t0))
    print("course: %d passed, %d failed%s" % (passed, failed, ", %d skipped" % skipped if skipped else ""))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
