#!/usr/bin/env python3
"""`send p on lo bypass` and Lua's send(p, {iface = "lo", bypass = true}),
end to end, against tcpdump on lo.

Frames carry IPv4 to 127.0.0.1 and TCP with a deliberately wrong checksum
(0), so the kernel drops them without an answer; each run uses its own
destination port, and a range of source ports gives every frame its place.
tcpdump watches lo for frames arriving (libpcap hides lo's outgoing copies);
an AF_PACKET socket sees the copies leaving (PACKET_OUTGOING). Checks, for
20,000 frames each:
  - without bypass: every frame arrives exactly once, in order, byte for byte
    equal to `pkt build`'s, and each is seen leaving once, in order;
  - with bypass (DSL and Lua): every frame arrives exactly once, in order,
    byte for byte; none is seen leaving, because PACKET_QDISC_BYPASS hands
    frames to the driver past the packet taps: the option took effect;
  - `pkt run` exits 0 (Lua prints the count), nothing was dropped by a capture;
  - --pcap holds exactly the frames that arrived;
  - Ctrl-C in the middle of 20 million frames: `interrupted: sent N
    packets`, and exactly those N arrived and are in --pcap, in order.

Needs root and tcpdump; skips (exit 77) otherwise. Usage: send_bypass.py [PKT]
"""
import ctypes
import os
import re
import shutil
import socket
import struct
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
N = 20000
failures = []


def check(cond, what, detail=""):
    if cond:
        print("ok   %s" % what)
    else:
        print("FAIL %s\n%s" % (what, detail))
        failures.append(what)


class Tcpdump:
    """tcpdump on lo in one direction, writing a pcap, ready when it says so."""

    def __init__(self, direction, bpf, path):
        self.path = path
        self.p = subprocess.Popen(["tcpdump", "-i", "lo", "-Q", direction, "-n", "-U", "-B", "65536", "-w", path, bpf],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.p.stderr.readline()  # "tcpdump: listening on lo, ..."
        if "listening" not in line:
            raise RuntimeError("tcpdump did not start: " + line)

    def stop(self, frames, frame_len):
        # Wait for tcpdump to write what the kernel handed it (a loaded machine is slow).
        size = 24 + frames * (16 + frame_len)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not os.path.exists(self.path) or os.path.getsize(self.path) < size):
            time.sleep(0.05)
        time.sleep(0.2)
        self.p.send_signal(signal.SIGINT)
        err = self.p.stderr.read()
        self.p.wait(timeout=10)
        return err  # "N packets captured ... M packets dropped by kernel"


class Leaving:
    """An AF_PACKET socket on lo, filtered by BPF, with a receive buffer
    large enough to hold every copy until read: the frames seen leaving."""

    def __init__(self, bpf):
        code = subprocess.run(["tcpdump", "-i", "lo", "-ddd", bpf], capture_output=True, text=True, check=True).stdout
        ins = [tuple(int(x) for x in line.split()) for line in code.splitlines()[1:]]
        self.prog = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in ins))
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # nothing before the filter
        self.s.setsockopt(socket.SOL_SOCKET, 26, struct.pack("HL", len(ins), ctypes.addressof(self.prog)))  # SO_ATTACH_FILTER
        self.s.setsockopt(socket.SOL_SOCKET, 33, 256 << 20)  # SO_RCVBUFFORCE
        self.s.bind(("lo", 0x0003))  # ETH_P_ALL

    def frames(self):
        out = []
        self.s.setblocking(False)
        while True:
            try:
                data, addr = self.s.recvfrom(70000)
            except BlockingIOError:
                break
            if addr[2] == socket.PACKET_OUTGOING:
                out.append(data)
        packets, drops = struct.unpack("II", self.s.getsockopt(263, 6, 8))  # PACKET_STATISTICS
        self.s.close()
        return out, drops


def read_pcap(path):
    """The records of a classic pcap file, as bytes (tcpdump and --pcap write these)."""
    with open(path, "rb") as f:
        data = f.read()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out, at = [], 24
    while at + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[at + 8:at + 12])[0]
        out.append(data[at + 16:at + 16 + caplen])
        at += 16 + caplen
    return out


def frames_of(pkt, script):
    """The frames `pkt build` makes of the script's packet p, as bytes, in order."""
    out = subprocess.run([pkt, "build", script, "--format", "hex"], capture_output=True, text=True, check=True).stdout
    return [bytes.fromhex(line) for line in out.split()]


def run_case(pkt, tmp, name, port, send_line, pcap=None, interrupt_after=None):
    text = ("packet p = eth(type=0x0800) / ipv4(src=127.0.0.1, dst=127.0.0.1) "
            "/ tcp(sport=10000..%d, dport=%d, flags=SYN, checksum=0) / \"pkt-bypass\"\n" % (10000 + N - 1, port))
    script = os.path.join(tmp, name + ".pkt")
    with open(script, "w") as f:
        f.write(text)
    want = frames_of(pkt, script)
    assert len(want) == N
    with open(script, "a") as f:
        f.write(send_line + "\n")
    bpf = "tcp dst port %d" % port
    leaving = Leaving(bpf)
    in_cap = Tcpdump("in", bpf, os.path.join(tmp, name + "-in.pcap"))
    env = dict(os.environ, PKT_SCOPE="127.0.0.0/8,::1/128")
    cmd = [pkt, "run", script] + (["--pcap", pcap] if pcap else [])
    if interrupt_after:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(interrupt_after)
        p.send_signal(signal.SIGINT)
        out, errtext = p.communicate(timeout=60)
        r = subprocess.CompletedProcess(cmd, p.returncode, out, errtext)
        m = re.search(r"interrupted: sent (\d+) packets?", errtext)
        expect = int(m.group(1)) if m else 0
    else:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        expect = N
    err = in_cap.stop(expect, len(want[0]))
    left, drops = leaving.frames()
    return want, r, left, drops, in_cap.path, err


def main():
    pkt = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PKT", "build/pkt"))
    if os.geteuid() != 0 or not shutil.which("tcpdump"):
        print("skipped: needs root and tcpdump")
        return SKIP

    base = 40000 + os.getpid() % 10000
    cases = [
        ("plain", "send p on lo", False),
        ("bypass", "send p on lo bypass", True),
        ("lua", "lua { print((send(p, {iface = \"lo\", bypass = true}))) }", True),
    ]
    with tempfile.TemporaryDirectory(prefix="pkt-bypass-") as tmp:
        for i, (name, line, bypass) in enumerate(cases):
            pcap = os.path.join(tmp, name + "-tee.pcap") if name == "bypass" else None
            want, r, left, drops, in_path, tcpdump_err = run_case(pkt, tmp, name, base + i, line, pcap)
            check(r.returncode == 0, "%s: pkt run exits 0" % name, r.stderr)
            expected_out = ("%d\n" % N) if name == "lua" else ""
            check(r.stdout == expected_out, "%s: pkt run prints %r" % (name, expected_out), r.stdout + r.stderr)
            dropped = re.findall(r"(\d+) packets? dropped by kernel", tcpdump_err)
            check(dropped == ["0"] and drops == 0, "%s: the captures dropped nothing" % name,
                  tcpdump_err + "AF_PACKET drops: %d" % drops)
            arrived = read_pcap(in_path)
            check(len(arrived) == N, "%s: %d frames arrive (got %d)" % (name, N, len(arrived)))
            check(arrived == want, "%s: they arrive in order, byte for byte" % name,
                  next(("first difference at frame %d" % k for k in range(min(len(arrived), N)) if arrived[k] != want[k]), ""))
            if bypass:
                check(len(left) == 0, "%s: none seen leaving: the taps are bypassed (got %d)" % (name, len(left)))
            else:
                check(left == want, "%s: each seen leaving once, in order, byte for byte (got %d)" % (name, len(left)))
            if pcap:
                check(read_pcap(pcap) == arrived, "%s: --pcap holds exactly what arrived" % name)

        # Ctrl-C: 1000 rounds of the 20,000 frames, stopped after a second.
        name, port = "ctrl-c", base + len(cases)
        pcap = os.path.join(tmp, "ctrl-c-tee.pcap")
        want, r, left, drops, in_path, tcpdump_err = run_case(pkt, tmp, name, port, "send p on lo count 1000", pcap,
                                                              interrupt_after=1.0)
        m = re.search(r"interrupted: sent (\d+) packets?", r.stderr)
        check(r.returncode == 130 and m, "ctrl-c: exit 130 and `interrupted: sent N packets`", r.stderr)
        sent = int(m.group(1)) if m else -1
        check(0 < sent < 1000 * N, "ctrl-c: stopped midway (%d sent)" % sent)
        arrived = read_pcap(in_path)
        teed = read_pcap(pcap)
        dropped = re.findall(r"(\d+) packets? dropped by kernel", tcpdump_err)
        check(dropped == ["0"], "ctrl-c: tcpdump dropped nothing", tcpdump_err)
        check(len(arrived) == sent, "ctrl-c: exactly the %d counted arrived (got %d)" % (sent, len(arrived)))
        check(all(arrived[k] == want[k % N] for k in range(len(arrived))), "ctrl-c: in order, byte for byte")
        check(teed == arrived, "ctrl-c: --pcap holds exactly those (%d records)" % len(teed))
    if failures:
        print("%d failed: %s" % (len(failures), ", ".join(failures)))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
