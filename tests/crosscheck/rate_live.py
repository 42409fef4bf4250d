#!/usr/bin/env python3
"""Rates held on the wire, and what the user sees (issue 10 §2, §3).

Sends only to 127.0.0.1 (TCP SYNs with checksum 0: the kernel drops them
without answering) and measures them on lo with tcpdump's nanosecond
timestamps: the rate is (N - 1) / (last - first), as pkt's final line counts it.

Checks:
- `send p count 10000 rate 10kpps`: exactly 10,000 packets captured, the rate
  within 5% of the asked one (the issue's bound is 2%; the test is generous
  for a loaded machine and prints the real figure), the final line's shape,
  no shortfall line;
- `interval 10us` for 20,000 packets (0.2 s; it took 0.86 s before) and
  `rate 100kpps`, within 5%;
- `rate 1Mbit` with 125-byte packets (1,000 packets/s of 1000 bits);
- Lua `send(p, {rate = "10kpps"})` returns the count and the table of figures;
- an unreachable rate prints `asked N packets/s, reached M`;
- the progress line on a pseudo-terminal (drawn with \\r, erased with \\r ESC[K
  before the final line), never without a terminal, never with --quiet.

Needs root and tcpdump; skips (exit 77) otherwise. Usage: rate_live.py PKT
With MEASURE=1 it also prints the accuracy at 1 pps, 1k, 10k, 100k and the
maximum (as in the report), without checking them.
"""
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77
PKT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "build/pkt"
ENV = dict(os.environ, PKT_SCOPE="127.0.0.0/8,::1/128", NO_COLOR="1")
BOUND = 0.05
failures = []
FINAL = re.compile(r"^sent ([0-9,]+) packets in ([0-9.]+) (s|ms|us) \(([0-9,.]+) packets/s, ([0-9.]+) (|k|M|G)bit/s\)$")


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)))
    if not ok:
        failures.append(name)


def read_pcap_ns(path):
    """Timestamps (ns) and lengths of a nanosecond pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic == 0xA1B23C4D, "not a nanosecond pcap (magic 0x%08x)" % magic
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        out.append((sec * 1_000_000_000 + frac, orig))
        off += 16 + incl
    return out


class Capture:
    """tcpdump on lo for TCP from one source port, nanosecond timestamps."""

    def __init__(self, sport, tmp):
        self.path = os.path.join(tmp, "cap%d.pcap" % sport)
        # --immediate-mode: a packet is not left in a ring block that tcpdump
        # never reads when it is stopped.
        self.p = subprocess.Popen(["tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-B", "65536",
                                   "--time-stamp-precision", "nano",
                                   "-w", self.path, "tcp and src port %d" % sport],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        line = self.p.stderr.readline().decode()  # "listening on lo, ..."
        if "listening" not in line:
            raise RuntimeError("tcpdump did not start: " + line)

    def stop(self):
        time.sleep(0.5)
        self.p.send_signal(signal.SIGINT)
        err = self.p.communicate(timeout=10)[1].decode()
        m = re.search(r"(\d+) packets? dropped by kernel", err)
        return read_pcap_ns(self.path), int(m.group(1)) if m else 0


def script(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def syn(sport, extra=""):
    return ("packet p = ipv4(dst=127.0.0.1) / tcp(sport=%d, dport=9, flags=SYN, checksum=0)%s\n" % (sport, extra))


def measured_send(tmp, sport, options, extra="", args=()):
    """Runs `send p OPTIONS` captured on lo: (pkt result, timestamps, drops)."""
    path = script(tmp, "s%d.pkt" % sport, syn(sport, extra) + "send p " + options + "\n")
    cap = Capture(sport, tmp)
    try:
        r = subprocess.run([PKT, "run", path, *args], capture_output=True, text=True, env=ENV, timeout=60)
    finally:
        pkts, drops = cap.stop()
    return r, pkts, drops


def wire_rate(pkts):
    if len(pkts) < 2:
        return 0.0
    return (len(pkts) - 1) / ((pkts[-1][0] - pkts[0][0]) / 1e9)


def rate_case(tmp, sport, options, count, asked_pps, name, top):
    if asked_pps > 0.7 * top:
        print("     %s: not checked: the path reaches %.0f packets/s here (a loaded machine)" % (name, top))
        return 0
    r, pkts, drops = measured_send(tmp, sport, options)
    got = wire_rate(pkts)
    err = abs(got - asked_pps) / asked_pps
    print("     %s: %d packets captured, %.1f packets/s on the wire (%+.2f%% of %d); pkt said %r" %
          (name, len(pkts), got, (got / asked_pps - 1) * 100, asked_pps, r.stderr.strip()))
    check(name + ": pkt exits 0", r.returncode == 0, r.stderr)
    check(name + ": every packet captured", len(pkts) == count and drops == 0,
          "%d of %d, %d dropped by the kernel" % (len(pkts), count, drops))
    check(name + ": rate within %d%%" % (BOUND * 100), err <= BOUND, "%.1f packets/s" % got)
    lines = r.stderr.splitlines()
    check(name + ": one final line, no shortfall", len(lines) == 1 and FINAL.match(lines[0]), r.stderr)
    return got


def pty_run(args):
    """Runs pkt on a pseudo-terminal; returns (exit code, everything it wrote)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(PKT, [PKT, *args], ENV)
    out = b""
    deadline = time.time() + 30
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def dry_run_timestamps():
    """--dry-run waits for nothing; its pcap is stamped on the rate's schedule."""
    with tempfile.TemporaryDirectory() as tmp:
        path = script(tmp, "dry.pkt", syn(47300) + "send p count 5 rate 1kpps\nsend p count 3 rate 32kbit\n")
        pcap = os.path.join(tmp, "dry.pcap")
        t0 = time.time()
        r = subprocess.run([PKT, "run", path, "--dry-run", "--pcap", pcap], capture_output=True, text=True, env=ENV)
        took = time.time() - t0
        with open(pcap, "rb") as f:
            data = f.read()
        stamps, off = [], 24
        while off + 16 <= len(data):
            sec, usec, incl, _ = struct.unpack("<IIII", data[off:off + 16])
            stamps.append(sec * 1_000_000 + usec)
            off += 16 + incl
        gaps = [b - a for a, b in zip(stamps, stamps[1:])]
        check("dry run: no waiting, the count alone", r.returncode == 0 and took < 2 and
              r.stderr == "sent 5 packets\nsent 3 packets\nsent 8 packets\n", r.stderr)
        # 1 kpps: 1000 us apart; 40-byte packets at 32 kbit/s: 10,000 us apart.
        check("dry run: pcap stamps on the schedule", gaps[:4] == [1000] * 4 and gaps[5:] == [10000] * 2, gaps)


def main():
    dry_run_timestamps()
    if os.geteuid() != 0 or not shutil.which("tcpdump"):
        print("skipped: needs root and tcpdump")
        return 1 if failures else SKIP
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # tcpdump may drop to its own user
        # 0. The path's maximum here, asked a rate it cannot reach: the final
        #    line, then the shortfall. Rates near the maximum are not checked
        #    below (other work on a shared machine can halve it).
        r, pkts, drops = measured_send(tmp, 47000, "count 50000 rate 1Gpps")
        top = wire_rate(pkts)
        lines = r.stderr.splitlines()
        print("     the maximum: %d captured (%d dropped by tcpdump), %.0f packets/s; pkt said %r" %
              (len(pkts), drops, top, r.stderr))
        check("1Gpps: the final line, then the shortfall", len(lines) == 2 and FINAL.match(lines[0]) and
              re.match(r"^asked 1,000,000,000 packets/s, reached [0-9,]+$", lines[1]), r.stderr)
        # 1. The check: 10,000 packets at 10 kpps, on the wire.
        rate_case(tmp, 47001, "count 10000 rate 10kpps", 10000, 10000, "rate 10kpps", top)
        # 2. interval 10us (0.86 s for 0.2 s before) and 100 kpps.
        rate_case(tmp, 47002, "count 20000 interval 10us", 20000, 100000, "interval 10us", top)
        rate_case(tmp, 47003, "count 20000 rate 100kpps", 20000, 100000, "rate 100kpps", top)
        # 3. Bits/s: 125-byte packets (20 + 20 + 85) at 1 Mbit/s are 1,000 packets/s.
        r, pkts, _ = measured_send(tmp, 47004, "count 1000 rate 1Mbit", extra=' / "%s"' % ("x" * 85))
        got = wire_rate(pkts)
        print("     rate 1Mbit: %.1f packets/s of %d bytes on lo (IP %d bytes)" % (got, pkts[0][1] if pkts else 0, 125))
        check("rate 1Mbit: 1,000 packets/s of 125 bytes", len(pkts) == 1000 and abs(got / 1000 - 1) <= BOUND,
              "%d packets, %.1f/s; %s" % (len(pkts), got, r.stderr))
        # 4. Lua: the count and the figures. The second send lasts 0.2 s, so one
        #    late wake-up (a few hundred us on a busy machine) is not a shortfall.
        lua = script(tmp, "l.pkt", syn(47005) +
                     'lua {\n  local n, s = send(p, {count = 2000, rate = "10kpps"})\n'
                     '  print(n, s.packets, s.bytes, s.asked_pps, s.asked_bps, s.interrupted)\n'
                     '  print(string.format("%.0f %.4f %.0f", s.pps, s.seconds, s.bps))\n  print(s.line)\n'
                     '  local m, t = send(p, {count = 200, rate = 1000})\n  print(m, t.asked_pps, t.shortfall)\n}\n')
        cap = Capture(47005, tmp)
        try:
            r = subprocess.run([PKT, "run", lua], capture_output=True, text=True, env=ENV, timeout=60)
        finally:
            pkts, _ = cap.stop()
        out = r.stdout.splitlines()
        check("lua: exits 0, prints", r.returncode == 0 and len(out) == 4, r.stdout + r.stderr)
        if len(out) == 4:
            check("lua: count and figures", out[0] == "2000\t2000\t80000\t10000.0\t0.0\tfalse", out[0])
            pps, secs, bps = (float(x) for x in out[1].split())
            check("lua: pps within 5%, seconds, bps", abs(pps / 10000 - 1) <= BOUND and abs(secs - 0.1999) < 0.01 and
                  abs(bps / (pps * 320) - 1) < 1e-3, out[1])
            check("lua: the final line", FINAL.match(out[2]) and out[2].startswith("sent 2,000 packets in "), out[2])
            check("lua: a number is packets/s; no shortfall", out[3] == "200\t1000.0\tnil", out[3])
        check("lua: no line of its own on stderr, the total at the end", r.stderr == "sent 2200 packets\n", r.stderr)
        check("lua: every packet on the wire", len(pkts) == 2200, len(pkts))
        # 5. The progress line: on a terminal only, and not with --quiet.
        prog = script(tmp, "prog.pkt", syn(47007) + "send p count 3000 rate 2kpps\n")
        rc, out = pty_run(["run", prog])
        print("     on a terminal: %r" % (out[:160] + " ... " + out[-120:]))
        check("progress: drawn on a terminal", rc == 0 and re.search(r"\rsent [0-9,]+ of 3,000 \(\d+%\)  [0-9,.]+ packets/s  "
                                                                      r"0:0\d  ETA 0:0\d\x1b\[K", out), out)
        check("progress: redrawn at most 4 times a second", 2 <= out.count("\rsent ") <= 7, out.count("\rsent "))
        check("progress: erased, then the final line", re.search(r"\r\x1b\[Ksent 3,000 packets in 1\.\d\d s \(", out) and
              out.rstrip("\r\n").endswith(")") and "\r" not in out.split("\x1b[K")[-1].rstrip("\r\n"), out[-200:])
        rc, out = pty_run(["run", prog, "--quiet"])
        check("progress: none with --quiet, the final line stays", rc == 0 and "\x1b[K" not in out and
              re.match(r"^sent 3,000 packets in 1\.\d\d s \(", out), out)
        r = subprocess.run([PKT, "run", prog], capture_output=True, text=True, env=ENV, timeout=60)
        check("progress: none without a terminal", r.returncode == 0 and "\r" not in r.stderr and
              len(r.stderr.splitlines()) == 1 and FINAL.match(r.stderr.strip()), r.stderr)
        # 6. Ctrl-C during a paced send: the final line, then exactly what left.
        slow = script(tmp, "slow.pkt", syn(47008) + "send p count 100000 rate 1kpps\n")
        cap = Capture(47008, tmp)
        try:
            p = subprocess.Popen([PKT, "run", slow], stderr=subprocess.PIPE, text=True, env=ENV)
            time.sleep(1.0)
            p.send_signal(signal.SIGINT)
            err = p.communicate(timeout=10)[1]
        finally:
            pkts, _ = cap.stop()
        m = re.search(r"interrupted: sent (\d+) packets?\n$", err)
        check("Ctrl-C: exit 130 and the count", p.returncode == 130 and m, err)
        if m:
            check("Ctrl-C: the count is what the capture saw", int(m.group(1)) == len(pkts), "%s vs %d" % (m.group(1), len(pkts)))
            check("Ctrl-C: the send's final line first", err.startswith("sent %s packets in " % format(len(pkts), ",")), err)
        if os.environ.get("MEASURE"):
            measure(tmp)
    if failures:
        print("%d failed: %s" % (len(failures), ", ".join(failures)))
        return 1
    return 0


def measure(tmp):
    """The report's figures: accuracy from capture timestamps."""
    print("measurements (rate from the capture's first and last timestamps):")
    for sport, opts, asked in [(47101, "count 5 rate 1pps", 1), (47102, "count 2000 rate 1kpps", 1000),
                               (47103, "count 10000 rate 10kpps", 10000), (47104, "count 100000 rate 100kpps", 100000),
                               (47105, "count 20000 interval 10us", 100000), (47106, "count 500000", 0),
                               (47107, "count 500000 rate 300kpps", 300000)]:
        r, pkts, drops = measured_send(tmp, sport, opts)
        got = wire_rate(pkts)
        secs = (pkts[-1][0] - pkts[0][0]) / 1e9 if len(pkts) > 1 else 0
        print("  %-28s %7d captured (%d dropped) in %.4f s: %12.1f packets/s%s | pkt: %s" %
              (opts, len(pkts), drops, secs, got, " (%+.3f%%)" % ((got / asked - 1) * 100) if asked else "",
               " / ".join(r.stderr.splitlines())))


if __name__ == "__main__":
    sys.exit(main())
