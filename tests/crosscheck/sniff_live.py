#!/usr/bin/env python3
"""Live tests of `pkt sniff`, the DSL's sniff statement and sniff(...), and
Lua's sniff{}. Everything runs in two network namespaces this test creates
(pkt-sn-PID-a and -b, joined by a veth pair) and always deletes: scapy sends
known frames from b, pkt and tcpdump capture them on a at the same time.

Checks: exact counts and summary lines; `pkt sniff -w` equal to tcpdump's
capture of the same traffic, record by record and byte for byte; `-i any`
dissecting sll2 down to UDP; --timeout with no traffic; Ctrl-C (SIGINT)
ending cleanly with the count; a bad filter, an unknown interface and no
privilege (as nobody), each with its message.

Needs root, tcpdump, ip, setpriv and Debian's python3 with scapy; skips
(exit 77) otherwise. Usage: sniff_live.py [PKT]
"""
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import netns
from netns import in_ns, sh

SKIP = 77
PID = os.getpid()
NS_A, NS_B = "pkt-sn-%d-a" % PID, "pkt-sn-%d-b" % PID
NS_PATTERN = re.compile(r"^pkt-sn-(\d+)-[ab]$")
DEV_A, DEV_B = "sn%d-a" % (PID % 100000), "sn%d-b" % (PID % 100000)
MAC_A, MAC_B = "02:00:00:77:00:01", "02:00:00:77:00:02"
IP_A, IP_B = "10.77.0.1", "10.77.0.2"
PORT = 9999
PKT = None
failures = []


def check(cond, what, detail=""):
    if cond:
        print("ok   %s" % what)
    else:
        print("FAIL %s\n%s" % (what, detail))
        failures.append(what)










def delete_namespaces(stale=False):
    netns.delete_namespaces((NS_A, NS_B), NS_PATTERN, stale)


def setup():
    delete_namespaces(stale=True)
    sh("ip", "netns", "add", NS_A)
    sh("ip", "netns", "add", NS_B)
    sh("ip", "link", "add", DEV_A, "netns", NS_A, "address", MAC_A, "type", "veth",
       "peer", "name", DEV_B, "netns", NS_B, "address", MAC_B)
    for ns, dev, ip in ((NS_A, DEV_A, IP_A), (NS_B, DEV_B, IP_B)):
        # No IPv6: no router solicitations or DAD probes among the counted packets.
        sh(*in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"))
        sh(*in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"))
        sh(*in_ns(ns, "ip", "addr", "add", ip + "/24", "dev", dev))
        sh(*in_ns(ns, "ip", "link", "set", dev, "up"))
        sh(*in_ns(ns, "ip", "link", "set", "lo", "up"))
    deadline = time.monotonic() + 10
    while "LOWER_UP" not in sh(*in_ns(NS_A, "ip", "link", "show", DEV_A)).stdout:
        if time.monotonic() > deadline:
            raise RuntimeError("%s has no carrier" % DEV_A)
        time.sleep(0.05)


class Proc:
    """A capture process inside a namespace, ready when its stderr says it listens."""

    def __init__(self, argv, tmp, name, ns=NS_A, wait_listening=True):
        self.out = open(os.path.join(tmp, name + ".out"), "w+")
        self.err = open(os.path.join(tmp, name + ".err"), "w+")
        self.argv = in_ns(ns, *argv) if ns else argv
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdout=self.out, stderr=self.err)
        if wait_listening:
            deadline = time.monotonic() + 10
            while "listening on" not in self.stderr():
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.proc.kill()
                    raise RuntimeError("%s did not start: %s" % (" ".join(argv), self.stderr()))
                time.sleep(0.02)

    def stdout(self):
        self.out.seek(0)
        return self.out.read()

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def wait(self, timeout=20):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.elapsed = time.monotonic() - self.t0
        return rc

    def describe(self):
        return "  %s\n  exit %s\n  stdout: %s\n  stderr: %s" % (
            " ".join(self.argv), self.proc.returncode, self.stdout()[:2000], self.stderr()[:2000])


def send_frames(ports, payloads, ns=NS_B, dev=DEV_B):
    """Ethernet/IPv4/UDP frames from b to a, sent with scapy inside ns."""
    code = (
        "import sys\n"
        "from scapy.all import Ether, IP, UDP, Raw, sendp\n"
        "ports = %r; payloads = %r\n"
        "frames = [Ether(src=%r, dst=%r) / IP(src=%r, dst=%r, id=100 + i) / UDP(sport=1000 + i, dport=p) / Raw(payloads[i])"
        " for i, p in enumerate(ports)]\n"
        "sendp(frames, iface=%r, verbose=False)\n" % (ports, payloads, MAC_B, MAC_A, IP_B, IP_A, dev))
    sh(*in_ns(ns, "/usr/bin/python3", "-c", code), timeout=60)


def pcap_records(path):
    data = open(path, "rb").read()
    magic, vmaj, vmin, _, _, snaplen, link = struct.unpack("<IHHiIII", data[:24])
    recs, off = [], 24
    while off < len(data):
        sec, frac, caplen, length = struct.unpack("<IIII", data[off:off + 16])
        recs.append((sec, frac, caplen, length, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return (magic, snaplen, link), recs


def summary_bodies(text):
    """Summary lines without their timestamps: (number, rest)."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^(\d+) \d+\.\d{6} (.*)$", line)
        out.append((int(m.group(1)), m.group(2)) if m else (None, line))
    return out


def test_counts_summaries_and_write(tmp):
    n = 5
    ports = [PORT, 9998, PORT, PORT, 9998, PORT, PORT, 9998]  # 5 to PORT, 3 the filter drops
    payloads = [("sniff%d" % i).encode() for i in range(len(ports))]
    summ = Proc([PKT, "sniff", "-i", DEV_A, "-c", str(n), "udp", "port", str(PORT)], tmp, "summary")
    wr = Proc([PKT, "sniff", "-i", DEV_A, "-c", str(n), "-w", os.path.join(tmp, "pkt.pcap"), "udp port %d" % PORT],
              tmp, "write")
    td = Proc(["tcpdump", "-i", DEV_A, "-n", "-U", "--immediate-mode", "--time-stamp-precision=nano", "-c", str(n),
               "-w", os.path.join(tmp, "tcpdump.pcap"), "udp", "port", str(PORT)], tmp, "tcpdump")
    formats = {f: Proc([PKT, "sniff", "-i", DEV_A, "-c", str(n), "--format", f, "udp", "port", str(PORT)], tmp, "fmt_" + f)
               for f in ("show", "json", "pkt", "hexdump")}
    send_frames(ports, payloads)
    rcs = [p.wait() for p in (summ, wr, td)]
    for f, p in formats.items():
        p.wait()
        r = sh(PKT, "read", os.path.join(tmp, "tcpdump.pcap"), "--format", f, check=False)
        check(p.proc.returncode == 0 and p.stdout() == r.stdout and r.stdout,
              "--format %s prints exactly what pkt read prints for tcpdump's capture of it" % f,
              p.describe() + "\n  pkt read: " + r.stdout[:2000])
    check(rcs[0] == 0 and rcs[1] == 0 and rcs[2] == 0, "pkt sniff -c %d (twice) and tcpdump -c %d end by themselves" % (n, n),
          summ.describe() + "\n" + wr.describe() + "\n" + td.describe())
    want = [(k + 1, 'eth %s > %s / ipv4 %s > %s / udp %d > %d / raw "sniff%d"' % (MAC_B, MAC_A, IP_B, IP_A, 1000 + i, PORT, i))
            for k, i in enumerate(i for i, p in enumerate(ports) if p == PORT)]
    got = summary_bodies(summ.stdout())
    check(got == want, "the %d summary lines, in order, the filter's 3 others left out" % n,
          "  want %s\n  got  %s" % (want, got))
    check(re.search(r"^%d packets captured$" % n, summ.stderr(), re.M) is not None, "stderr: '%d packets captured'" % n,
          summ.describe())
    check("dropped" not in summ.stderr(), "no drops reported when there were none", summ.describe())
    check(wr.stdout() == "", "-w with no --format prints nothing per packet", wr.describe())
    hp, rp = pcap_records(os.path.join(tmp, "pkt.pcap"))
    ht, rt = pcap_records(os.path.join(tmp, "tcpdump.pcap"))
    check(hp == ht == (0xa1b23c4d, 262144, 1), "-w: nanosecond pcap, snaplen 262144, link type 1, as tcpdump's",
          "  pkt %s, tcpdump %s" % (hp, ht))
    check(len(rp) == n and rp == rt, "-w: %d records equal to tcpdump's byte for byte (timestamps too)" % n,
          "  pkt %s\n  tcpdump %s" % (rp, rt))
    same_file = open(os.path.join(tmp, "pkt.pcap"), "rb").read() == open(os.path.join(tmp, "tcpdump.pcap"), "rb").read()
    check(same_file, "-w: the whole file equals tcpdump --time-stamp-precision=nano -w")


def test_any(tmp):
    p = Proc([PKT, "sniff", "-i", "any", "-c", "2", "udp", "port", str(PORT)], tmp, "any")
    send_frames([PORT, PORT], [b"any0", b"any1"])
    rc = p.wait()
    got = summary_bodies(p.stdout())
    ok = rc == 0 and len(got) == 2 and all(
        re.fullmatch(r'sll2 if \d+ host ipv4 / ipv4 %s > %s / udp %d > %d / raw "any%d"' % (IP_B, IP_A, 1000 + k, PORT, k),
                     body or "") for k, (_, body) in enumerate(got))
    check(ok, "-i any: Linux cooked v2 (sll2) dissected down to udp", p.describe())
    check("link type LINUX_SLL2 (276)" in p.stderr(), "-i any: link type 276 announced", p.describe())
    j = Proc([PKT, "sniff", "-i", "any", "-c", "1", "--format", "json", "udp", "port", str(PORT)], tmp, "anyjson")
    send_frames([PORT], [b"json"])
    j.wait()
    check(re.search(r'"layer": "sll2", "fields": \{"proto": 2048, "reserved": 0, "ifindex": \d+, "hatype": 1, '
                    r'"pkttype": 0, "halen": 6, "addr": "0200007700020000"\}', j.stdout()) is not None,
          "-i any --format json: the sll2 fields", j.describe())


def test_timeout(tmp):
    p = Proc([PKT, "sniff", "-i", DEV_A, "--timeout", "1s", "udp", "port", str(PORT)], tmp, "timeout")
    rc = p.wait()
    check(rc == 0 and p.stdout() == "" and "0 packets captured" in p.stderr() and 0.9 <= p.elapsed < 3.5,
          "--timeout 1s with no traffic: exit 0 after %.2f s, 0 packets" % p.elapsed, p.describe())
    p = Proc([PKT, "sniff", "-i", DEV_A, "--timeout", "300ms", "-c", "1", "udp", "port", str(PORT)], tmp, "timeout_ms")
    rc = p.wait()
    check(rc == 0 and 0.25 <= p.elapsed < 2.5, "--timeout 300ms: %.2f s" % p.elapsed, p.describe())
    r = sh(PKT, "sniff", "-i", "lo", "--timeout", "soon", check=False)
    check(r.returncode == 1 and "'soon' is not a duration" in r.stderr, "--timeout soon: a clear error, exit 1",
          r.stderr)


def test_sigint(tmp):
    p = Proc([PKT, "sniff", "-i", DEV_A, "udp", "port", str(PORT)], tmp, "sigint")
    send_frames([PORT] * 3, [b"c0", b"c1", b"c2"])
    deadline = time.monotonic() + 10
    while p.stdout().count("\n") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    t = time.monotonic()
    p.proc.send_signal(signal.SIGINT)
    rc = p.wait(10)
    check(rc == 0 and re.search(r"^3 packets captured$", p.stderr(), re.M) and len(summary_bodies(p.stdout())) == 3
          and time.monotonic() - t < 2, "Ctrl-C (SIGINT): exit 0 at once, '3 packets captured'", p.describe())


def test_errors(tmp):
    r = sh(*in_ns(NS_A, PKT, "sniff", "-i", DEV_A, "-c", "1", "udp", "port", "nonsense"), check=False)
    check(r.returncode == 1 and "bad filter 'udp port nonsense'" in r.stderr and "nonsense" in r.stderr.split(":", 2)[-1],
          "a bad filter: exit 1, the filter and libpcap's message", r.stderr)
    r = sh(PKT, "sniff", "-i", "lo", "-c", "1", "tcp", "and", check=False)
    check(r.returncode == 1 and "bad filter 'tcp and': " in r.stderr and "syntax error" in r.stderr, "filter words joined: 'tcp and'",
          r.stderr)
    r = sh(PKT, "sniff", "-i", "lo", "-c", "1", "-w", "-", "--format", "summary", check=False)
    check(r.returncode == 1 and "-w - and --format summary would both write to standard output" in r.stderr,
          "-w - beside --format summary is refused", r.stderr)
    r = sh(*in_ns(NS_A, PKT, "sniff", "-i", "nosuch0", "-c", "1"), check=False)
    check(r.returncode == 1 and "cannot capture on nosuch0: no such interface" in r.stderr
          and re.search(r"interfaces: .*\b%s\b" % DEV_A, r.stderr) and re.search(r"\blo\b", r.stderr),
          "an unknown interface: named, and the interfaces that exist listed", r.stderr)
    if not shutil.which("setpriv"):
        print("SKIP the no-privilege case: setpriv not installed")
        return
    # A copy nobody can run (the build tree may be private).
    d = tempfile.mkdtemp(prefix="pkt-sn-nobody-")
    try:
        os.chmod(d, 0o755)
        exe = os.path.join(d, "pkt")
        shutil.copy(PKT, exe)
        os.chmod(exe, 0o755)
        for extra, what in (([], "promiscuous"), (["--no-promisc"], "--no-promisc")):
            r = sh("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
                   exe, "sniff", "-i", "lo", "-c", "1", "--timeout", "1s", *extra, check=False, cwd=d)
            check(r.returncode == 1 and "permission denied" in r.stderr and "CAP_NET_RAW" in r.stderr
                  and "CAP_NET_ADMIN" in r.stderr and "setcap cap_net_raw,cap_net_admin+ep" in r.stderr,
                  "as nobody (%s): permission denied, the capabilities and how to grant them" % what, r.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def udp_sender(ns, port, seconds=8):
    """Sends 'n<k>' to 127.0.0.1:port inside ns every 50 ms (the script under test starts listening at some point)."""
    code = ("import socket, time\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "t = time.monotonic(); k = 0\n"
            "while time.monotonic() - t < %d:\n"
            "    s.sendto(b'n%%d' %% k, ('127.0.0.1', %d)); k += 1; time.sleep(0.05)\n" % (seconds, port))
    return subprocess.Popen(in_ns(ns, "/usr/bin/python3", "-c", code))


def run_script(tmp, name, text, port):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    sender = udp_sender(NS_A, port)
    try:
        p = Proc([PKT, "run", path], tmp, name, wait_listening=False)
        rc = p.wait(30)
    finally:
        sender.kill()
        sender.wait()
    return rc, p


def test_dsl_and_lua(tmp):
    port = 47001
    rc, p = run_script(tmp, "stmt.pkt", 'sniff on lo filter "udp port %d" count 3 timeout 10s\n' % port, port)
    got = summary_bodies(p.stdout())
    ok = rc == 0 and len(got) == 3 and [k for k, _ in got] == [1, 2, 3] and all(
        re.fullmatch(r'eth 00:00:00:00:00:00 > 00:00:00:00:00:00 / ipv4 127\.0\.0\.1 > 127\.0\.0\.1 / udp \d+ > %d / raw "n\d+"'
                     % port, b or "") for _, b in got) and "3 packets captured" in p.stderr()
    check(ok, "DSL: sniff on lo filter ... count 3: three summary lines", p.describe())

    rc, p = run_script(tmp, "expr.pkt", (
        'param port = %d\n'
        'packet got = sniff(on lo, filter "udp port %d", count 2, timeout 10s)\n'
        'show got\n'
        'lua { print("count", got:count()) }\n') % (port, port), port)
    out = p.stdout()
    check(rc == 0 and out.count("# packet") == 2 and "# packet 2 of 2" in out and out.count("dport    = %d" % port) == 2
          and "count\t2" in out, "DSL: packet got = sniff(on lo, ...count 2...): a set of 2, shown, seen from Lua",
          p.describe())

    rc, p = run_script(tmp, "empty.pkt", 'packet got = sniff(on lo, filter "udp port 1", timeout 300ms)\n', port)
    check(rc == 1 and "sniff() captured no packets on lo (filter \"udp port 1\")" in p.stderr(),
          "DSL: sniff() that captures nothing is an error at the call", p.describe())

    rc, p = run_script(tmp, "badfilter.pkt", 'sniff on lo filter "udp port" count 1\n', port)
    check(rc == 1 and "badfilter.pkt:1:1: error: bad filter 'udp port'" in p.stderr(),
          "DSL: a bad filter is an error at the statement", p.describe())

    path = os.path.join(tmp, "ctrlc.pkt")
    with open(path, "w") as f:
        f.write('sniff on lo filter "udp port 1"\nlua { print("after the sniff") }\n')
    p = Proc([PKT, "run", path], tmp, "ctrlc", wait_listening=False)
    time.sleep(1)
    p.proc.send_signal(signal.SIGINT)
    rc = p.wait(10)
    check(rc == 0 and p.stdout() == "after the sniff\n" and "0 packets captured" in p.stderr(),
          "DSL: Ctrl-C ends a sniff with no count or timeout; the script goes on", p.describe())

    rc, p = run_script(tmp, "iter.lua", (
        'local n = 0\n'
        'for p, t in sniff{iface = "lo", filter = "udp port %d", count = 3, timeout = 10} do\n'
        '  n = n + 1\n'
        '  print(n, p.udp.dport, p.raw.load:match("^n%%d+$") ~= nil, math.abs(t - os.time()) < 30)\n'
        'end\n'
        'print("done", n)\n'
        'local ok, err = pcall(sniff, {iface = "nosuch0"})\n'
        'print(err)\n') % port, port)
    out = p.stdout()
    check(rc == 0 and "1\t%d\ttrue\ttrue\n2\t%d\ttrue\ttrue\n3\t%d\ttrue\ttrue\ndone\t3\n" % (port, port, port) in out
          and "no such interface" in out, "Lua: for p, t in sniff{...count = 3} gives 3 dissected packets with times",
          p.describe())


def main():
    global PKT
    PKT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.environ.get("PKT") or os.path.join(os.path.dirname(__file__), "..", "..", "build", "pkt"))
    if os.geteuid() != 0:
        print("SKIP: not root (capturing and network namespaces need root)")
        return SKIP
    missing = [t for t in ("tcpdump", "ip") if not shutil.which(t)]
    if missing:
        print("SKIP: %s not installed" % " and ".join(missing))
        return SKIP
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("sniff_live: terminated"))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            setup()
            for t in (test_counts_summaries_and_write, test_any, test_timeout, test_sigint, test_errors, test_dsl_and_lua):
                try:
                    t(tmp)
                except Exception as e:  # a broken step fails its test, the others still run
                    check(False, t.__name__, "  %s: %s" % (type(e).__name__, e))
        finally:
            delete_namespaces()
    left = [ns for ns in sh("ip", "netns", "list").stdout.split() if ns in (NS_A, NS_B)]
    check(not left, "the namespaces are deleted", str(left))
    print("sniff_live: %d failed" % len(failures) if failures else "sniff_live: all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
