#!/usr/bin/env python3
"""The REPL, driven through a real pseudo-terminal as a person would type,
and with piped input. usage: test_repl.py PKT

Sends only to 127.0.0.1 (PKT_SCOPE is set to loopback below)."""
import os
import pty
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

PKT = os.path.abspath(sys.argv[1])
signal.alarm(240)  # the whole test: a hang is a failure, not a stuck CI run
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
results = []


class Session:
    """The real binary on a pty; read() collects the screen output."""

    def __init__(self, home, env_extra=None, args=()):
        env = dict(os.environ, HOME=home, TERM="xterm", PKT_SCOPE="127.0.0.0/8,::1/128")
        env.pop("NO_COLOR", None)
        env.update(env_extra or {})
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(PKT, [PKT, *args], env)
        self.out = ""

    def read(self, until=None, timeout=10.0):
        end = time.time() + timeout
        got = ""
        while time.time() < end:
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(self.fd, 65536).decode(errors="replace")
                except OSError:
                    break
                got += chunk
                if until and until in ANSI.sub("", got):
                    break
        self.out += got
        return got

    def type(self, text, until="pkt> ", timeout=10.0):
        os.write(self.fd, text.encode())
        return self.read(until, timeout)

    def close(self):
        try:
            os.write(self.fd, b"\x04")
            self.read(timeout=1)
        except OSError:
            pass
        for _ in range(300):  # up to 30 s (ASan on a loaded machine), then kill: a hung REPL fails the test instead of hanging it
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return status
            self.read(timeout=0.1)  # keep draining: a REPL blocked on a full pty never exits
        os.kill(self.pid, signal.SIGKILL)
        _, status = os.waitpid(self.pid, 0)
        return status


def check(name, ok, detail=""):
    results.append(ok)
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else "\n" + detail))


def plain(s):
    return ANSI.sub("", s).replace("\r", "").replace("\x07", "")


with tempfile.TemporaryDirectory() as home:
    s = Session(home)
    banner = s.read("pkt> ")
    check("prompt appears", "pkt> " in plain(banner), banner)

    # A definition followed by show.
    s.type("packet p = ipv4(dst=127.0.0.1) / tcp(dport=80)\r")
    out = plain(s.type("show p\r"))
    check("definition then show", "ipv4 (20 bytes)" in out and "dport    = 80" in out and "checksum = 0x" in out, out)

    # A multi-line packet: a trailing '/' and an open '(' continue on the next line.
    out = plain(s.type("packet m = ipv4(dst=127.0.0.1) /\r", until="...> "))
    check("trailing / asks for more", "...> " in out, out)
    out = plain(s.type("udp(sport=7,\r", until="...> "))
    check("open ( asks for more", "...> " in out, out)
    s.type("dport=9) / \"hi\"\r")
    out = plain(s.type("= m:hex()\r"))
    want = subprocess.run([PKT, "build", "-e", 'ipv4(dst=127.0.0.1) / udp(sport=7, dport=9) / "hi"', "--format", "hex"],
                          capture_output=True, text=True).stdout.strip()
    check("multi-line packet built", want in out, out + "\nwant " + want)

    # Tab after `tcp(dp` completes to `dport=`.
    out = plain(s.type("packet t = ipv4() / tcp(dp\t", until="dport=", timeout=2))
    check("Tab completes a field name", "dport=" in out, repr(out))
    # Tab after `flags=S` offers SYN.
    out = plain(s.type("443, flags=S\t", until="SYN", timeout=2))
    check("Tab offers flag names", "SYN" in out, repr(out))
    s.type(")\r")
    out = plain(s.type("= t.tcp.flags\r"))
    check("completed statement runs", "\n2\n" in out or out.strip().endswith("2\npkt>") or "2\npkt> " in out, repr(out))
    # Tab after `t.` offers the packet's layers.
    out = plain(s.type("= t.tc\t", until="tcp", timeout=2))
    check("Tab completes packet.layer", "t.tcp" in out or "tcp" in out, repr(out))
    s.type("\x03", until="pkt> ")

    # An error leaves the prompt working, printed as in files: line, caret, what was expected.
    out = s.type("packet bad = ipv4(ttl=300)\r")
    check("error shows the caret and range", "ttl=300 is out of range: ttl is u8, 0..255" in plain(out) and "^" in out, out)
    check("errors are coloured on a terminal", "\x1b[" in out, repr(out))
    out = plain(s.type("= 1 + 1\r"))
    check("prompt works after an error", "2" in out, out)

    # Setting a field without `lua`: the error says the line to type.
    out = plain(s.type("p.tcp.window = 1\r"))
    check("a field assignment suggests lua", "an assignment to a field is Lua: write 'lua p.tcp.window = 1'" in out, out)
    s.type("lua p.tcp.window = 1\r")
    out = plain(s.type("= p.tcp.window\r"))
    check("the suggested line works", "\n1\n" in out, repr(out))

    # Ctrl-C during a long send returns to the prompt.
    s.type("send p count 1000000 interval 1ms\r", until=None, timeout=0.7)
    t0 = time.time()
    out = plain(s.type("\x03", until="pkt> ", timeout=5))
    check("Ctrl-C stops a send", "interrupted: sent" in out and time.time() - t0 < 3, out)
    out = plain(s.type("= 40 + 2\r"))
    check("prompt works after Ctrl-C", "42" in out, out)

    # Ctrl-C cancels the current line.
    out = plain(s.type("packet half = ipv4(\x03", until="pkt> "))
    out = plain(s.type("= half == nil\r"))
    check("Ctrl-C cancels the line", "true" in out, out)

    # Lua at the prompt; names cross languages both ways.
    s.type("lua n = 3\r")
    s.type("lua {\r", until="...> ")
    s.type("  p.tcp.dport = 8080\r", until="...> ")
    s.type("}\r")
    out = plain(s.type("show p\r"))
    check("Lua changes a DSL packet", "dport    = 8080" in out, out)

    # :save writes a script that pkt run replays to the same packets.
    saved = os.path.join(home, "session.pkt")
    s.type("param port = 5353\r")
    s.type("packet g = ipv4(dst=127.0.0.1, ttl=[1, 2]) / udp(dport=port) / hex\"00ff\"\r")
    out = plain(s.type(f":save {saved}\r"))
    check(":save reports", "saved" in out, out)
    hexes = {}
    for name in ["p", "m", "t", "g"]:
        o = plain(s.type(f"lua for q in {name}:each() do print(q:hex()) end\r"))
        hexes[name] = re.findall(r"^([0-9a-f]{40,})$", o, re.M)
    r = subprocess.run([PKT, "build", saved, "--format", "hex"], capture_output=True, text=True)
    replay = r.stdout.split()
    want = hexes["p"] + hexes["m"] + hexes["t"] + hexes["g"]
    check(":save replays to the same packets", r.returncode == 0 and replay == want and len(want) == 5,
          f"rc={r.returncode} {r.stderr}\nreplay={replay}\nwant={want}")

    # :help, :layers, :vars.
    out = plain(s.type(":help tcp\r"))
    check(":help tcp shows the layer", "flag names of flags" in out and "ipv4.proto = 6 -> tcp" in out, out)
    out = plain(s.type(":layers\r"))
    check(":layers lists layers", "icmpv6" in out and "arp" in out, out)
    out = plain(s.type(":vars\r"))
    check(":vars lists definitions", "packet p" in out and "param port = 5353" in out, out)

    # :read loads a capture as `cap`; Tab offers the layers of all its packets.
    cap_path = os.path.join(home, "cap.pcap")
    with open(os.path.join(home, "cap.pkt"), "w") as f:
        f.write('packet a = ipv4(src=127.0.0.1, dst=127.0.0.1) / tcp(dport=80)\n'
                'packet b = ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(dport=53) / "x"\n')
    subprocess.run([PKT, "build", os.path.join(home, "cap.pkt"), "--format", "pcap", "-o", cap_path], check=True)
    out = plain(s.type(f":read {cap_path}\r"))
    check(":read loads the capture", "cap: 2 packets" in out, out)
    out = plain(s.type("= cap:count(), cap.tcp.dport\r"))
    check(":read gives a packet set", "2\t80" in out, repr(out))
    out = s.type("= cap.u\t", until="cap.udp")
    check("Tab completes a layer of a later packet", "cap.udp" in plain(out), repr(out))
    s.type("\x15\r")  # Ctrl-U: clear the line

    status = s.close()
    check("Ctrl-D exits 0", os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, str(status))
    hist = os.path.join(home, ".pkt_history")
    check("history saved to ~/.pkt_history",  # libedit writes a space as \\040
          os.path.exists(hist) and "show p" in open(hist, errors="replace").read().replace("\\040", " "))

    # NO_COLOR: no escapes in errors.
    s = Session(home, {"NO_COLOR": "1"})
    s.read("pkt> ")
    out = s.type("ipv4(ttl=999)\r")
    check("NO_COLOR turns colour off", "\x1b[1;31m" not in out and "out of range" in out, repr(out))
    s.close()

    # -q on a terminal: a long send shows no progress line, only its final line.
    s = Session(home, args=["repl", "-q"])
    s.read("pkt> ")
    out = s.type("send ipv4(dst=127.0.0.1) / udp(sport=9, dport=9) count 300000\r", timeout=60)
    check("repl -q: no progress line, the final line", "ETA" not in out and "sent 300,000 packets in" in out, repr(out))
    s.close()

# --threads N: the REPL's sends without `threads` are split among N threads;
# each thread's share leaves in generator order, and every packet once.
with tempfile.TemporaryDirectory() as tmp:
    pcap = os.path.join(tmp, "t.pcap")
    script = "packet p = ipv4(dst=127.0.0.1) / udp(sport=1..20000, dport=9)\nsend p\n"
    r = subprocess.run([PKT, "repl", "--threads", "2", "--pcap", pcap], input=script, capture_output=True, text=True,
                       timeout=60)
    sports = []
    if r.returncode == 0 and os.path.exists(pcap):
        from scapy.all import rdpcap, UDP
        sports = [pk[UDP].sport for pk in rdpcap(pcap)]
    first, second = [x for x in sports if x <= 10000], [x for x in sports if x > 10000]
    check("repl --threads 2: every packet once, each share in order",
          "sent 20,000 packets" in r.stdout + r.stderr and sorted(sports) == list(range(1, 20001)) and
          first == sorted(first) and second == sorted(second),
          f"rc={r.returncode} stdout={r.stdout!r} stderr={r.stderr!r} n={len(sports)}")
r = subprocess.run([PKT, "repl", "--threads", "0"], capture_output=True, text=True, timeout=30)
check("repl --threads 0 is refused", r.returncode != 0 and "--threads" in r.stderr, r.stderr)

# Piped input (not a terminal): plain lines, no prompts, errors do not end the session.
script = 'packet p = ipv4(dst=127.0.0.1) /\n  udp(dport=53)\nipv4(ttl=300)\n= #p\nlua print(p.udp.dport)\n'
r = subprocess.run([PKT, "repl"], input=script, capture_output=True, text=True, timeout=30)
check("piped input", r.returncode == 0 and r.stdout == "28\n53\n" and "ttl is u8, 0..255" in r.stderr,
      f"rc={r.returncode}\nstdout={r.stdout!r}\nstderr={r.stderr!r}")

# Names cross languages both ways: Lua globals (numbers, strings, packets) are DSL names.
script = ('lua ttl = 9\nlua q = ipv4{dst = "127.0.0.1"} / udp{dport = 53}\n'
          'packet p = ipv4(ttl=ttl) / q\n= p.ipv4.ttl\n= #p\npacket d = ipv4(dst=127.0.0.1) / tcp()\nlua print(d.tcp.dport)\n')
r = subprocess.run([PKT, "repl"], input=script, capture_output=True, text=True, timeout=30)
check("Lua globals are DSL names and back", r.returncode == 0 and r.stdout == "9\n48\n80\n",
      f"rc={r.returncode}\nstdout={r.stdout!r}\nstderr={r.stderr!r}")

passed = sum(results)
print(f"repl: {passed} passed, {len(results) - passed} failed")
sys.exit(0 if passed == len(results) and results else 1)
