#!/usr/bin/env python3
"""Docs are part of done: the examples in README.md, docs/*.md and
scripts/README.md must run as written. Nothing leaves the machine.

- Every ```pkt block must pass `pkt check`, and `pkt run --dry-run` (run
  in a scratch directory).
- Every ```lua block must pass `pkt run --dry-run x.lua`, unless its first
  line ends with `not run` (a synopsis such as `-- synopsis: not run`).
- In README.md and docs/*.md (not scripts/README.md, whose lines drive the
  course's servers and peers), every line of a ```sh block that starts with
  `pkt ` or `build/pkt ` is run with bash and must exit 0. A line whose
  trailing comment ends with `not run` is skipped: use it for lines that
  need root, the network, a terminal or a file the page does not make
  (`sudo pkt run send.pkt   # needs root: not run`). The lines of one page
  share one scratch directory, in page order, so a line sees the files that
  earlier lines made; `pkt` and `build/pkt` both name the binary under test.

Every scratch directory holds:
- capture.pkt (tests/docs/capture.pkt) and capture.pcap, built from it at
  the start of the run: an Ethernet/IPv4/TCP SYN with options, a UDP
  packet, and an ICMP echo with a bad IPv4 checksum;
- lo.pcap: two UDP datagrams on loopback (127.0.0.1 to port 9), for the
  examples that replay a capture (they send only to loopback);
- payload.bin;
- examples that capture (a block or line that says `sniff`) need root:
  without it they are reported skipped, not passed;
- while the examples run, a thread sends a UDP datagram ("docs") to
  127.0.0.1 port 9 every 20 ms, so that sniffing examples on lo (which
  stop at a count or a timeout) have traffic to capture;
- each ```pkt block of the page so far whose first line names it
  (`# syn.pkt` or `# syn.pkt: what it does`), saved under that name, so
  `pkt run syn.pkt` works below it. A page block named capture.pkt must be
  identical to tests/docs/capture.pkt.
- A sh line `sudo pkt ...` runs (without sudo) only as root, and is
  reported skipped otherwise. A line whose comment says `prints: TEXT`
  must also print TEXT (stdout or stderr).
- While the examples run, a DNS responder listens on 127.0.0.1 UDP port
  53 (when it can bind it): it answers every query with its id, its
  question and one A record, 127.0.0.1, for the `sr` example of
  docs/protocols.md. Lines that say `DNS server` are skipped when it could
  not bind.

usage: check_docs.py PKT REPO_ROOT
"""
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

pkt, root = os.path.abspath(sys.argv[1]), pathlib.Path(sys.argv[2])
here = pathlib.Path(__file__).resolve().parent
capture_pkt = (here / "capture.pkt").read_text()
docs = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
files = docs + [root / "scripts" / "README.md"]
fence = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
named = re.compile(r"#\s*([\w.-]+\.pkt)\b")
skip = re.compile(r"#.*not run\s*$")
runs_pkt = re.compile(r"^(sudo\s+)?(build/)?pkt(\s|$)")
prints = re.compile(r"#.*\bprints: (.*?)\s*$")
passed = failed = 0

work = pathlib.Path(tempfile.mkdtemp(prefix="pkt-docs-"))
bindir = work / "bin"
bindir.mkdir()
(bindir / "pkt").symlink_to(pkt)
fixtures = work / "fixtures"
fixtures.mkdir()
(fixtures / "capture.pkt").write_text(capture_pkt)
(fixtures / "payload.bin").write_bytes(b"\x00\x01payload")
r = subprocess.run([pkt, "build", "capture.pkt", "--format", "pcap", "-o", "capture.pcap"],
                   cwd=fixtures, capture_output=True, text=True, timeout=60)
if r.returncode != 0:
    sys.exit(f"cannot build capture.pcap from tests/docs/capture.pkt:\n{r.stderr}")
r = subprocess.run([pkt, "build", "-e", 'eth() / ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=40000, dport=9) / ["a", "b"]',
                    "--format", "pcap", "-o", "lo.pcap"], cwd=fixtures, capture_output=True, text=True, timeout=60)
if r.returncode != 0:
    sys.exit(f"cannot build lo.pcap:\n{r.stderr}")
def udp_to_port_9(stop):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    while not stop.wait(0.02):
        s.sendto(b"docs", ("127.0.0.1", 9))


def dns_responder(sock, stop):
    """Answers each DNS query: its id and question, qr=1, one A record 127.0.0.1."""
    sock.settimeout(0.1)
    while not stop.is_set():
        try:
            q, peer = sock.recvfrom(2048)
        except socket.timeout:
            continue
        if len(q) < 12:
            continue
        end = 12
        while end < len(q) and q[end] != 0:
            end += 1 + q[end]
        question = q[12:end + 5]
        answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01"
        sock.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + question + answer, peer)


stop_traffic = threading.Event()
threading.Thread(target=udp_to_port_9, args=(stop_traffic,), daemon=True).start()
dns_up = False
try:
    dns_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns_sock.bind(("127.0.0.1", 53))
    threading.Thread(target=dns_responder, args=(dns_sock, stop_traffic), daemon=True).start()
    dns_up = True
except OSError as e:
    print(f"note: no DNS responder on 127.0.0.1:53 ({e}); lines that need it are skipped")
env = dict(os.environ, PATH=f"{bindir}:{os.environ.get('PATH', '')}")


def scratch():
    """A new scratch directory holding the fixtures and build/pkt."""
    d = pathlib.Path(tempfile.mkdtemp(dir=work))
    for f in fixtures.iterdir():
        shutil.copy(f, d)
    (d / "build").mkdir()
    (d / "build" / "pkt").symlink_to(pkt)
    return d


def run(cmd, cwd, **kw):
    try:
        return subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60, **kw)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 124, "", "timed out after 60 s")


captures = re.compile(r"\bsniff\b")
skipped = 0


def can_run(code, where):
    """False (and counted as skipped) for a capturing or sudo example when
    not root, and for one that needs the DNS server when there is none."""
    global skipped
    if "DNS server" in code and not dns_up:
        skipped += 1
        print(f"SKIP {where}: needs the DNS responder, which could not bind 127.0.0.1:53")
        return False
    if os.geteuid() == 0 or not (captures.search(code) or code.startswith("sudo")):
        return True
    skipped += 1
    print(f"SKIP {where}: needs root")
    return False


def report(ok, where, what, r):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {where}: {what} (exit {r.returncode})\n{r.stdout[-2000:]}{r.stderr[-2000:]}")


try:
    for md in files:
        if not md.exists():
            continue
        text = md.read_text()
        rel = md.relative_to(root)
        shell = scratch()          # the page's sh lines share this directory
        for m in fence.finditer(text):
            lang, code = m.group(1), m.group(2)
            line = text[: m.start()].count("\n") + 2
            where = f"{rel}:{line}"
            first = code.split("\n", 1)[0]
            if lang == "pkt":
                name = named.match(first)
                if name:
                    if name.group(1) == "capture.pkt" and code != capture_pkt:
                        failed += 1
                        print(f"FAIL {where}: this capture.pkt differs from tests/docs/capture.pkt")
                    (shell / name.group(1)).write_text(code)
                if not can_run(code, where):
                    continue
                tmp = scratch()
                (tmp / "example.pkt").write_text(code)
                for cmd in (["pkt", "check", "example.pkt"], ["pkt", "run", "--dry-run", "example.pkt"]):
                    r = run(cmd, tmp)
                    if r.returncode != 0:
                        break
                report(r.returncode == 0, where, " ".join(cmd[:2]), r)
            elif lang == "lua" and not first.rstrip().endswith("not run"):
                if not can_run(code, where):
                    continue
                tmp = scratch()
                (tmp / "example.lua").write_text(code)
                r = run(["pkt", "run", "--dry-run", "example.lua"], tmp)
                report(r.returncode == 0, where, "pkt run example.lua", r)
            elif lang == "sh" and md in docs:
                for k, cmd in enumerate(code.splitlines()):
                    if runs_pkt.match(cmd) and not skip.search(cmd) and can_run(cmd, f"{rel}:{line + k}"):
                        r = run(["bash", "-c", re.sub(r"^sudo\s+", "", cmd)], shell)
                        want = prints.search(cmd)
                        ok = r.returncode == 0 and (not want or want.group(1) in r.stdout + r.stderr)
                        report(ok, f"{rel}:{line + k}", cmd + (" (its output lacks what it prints)" if r.returncode == 0 and not ok else ""), r)
finally:
    stop_traffic.set()
    shutil.rmtree(work, ignore_errors=True)
print(f"docs: {passed} passed, {failed} failed" + (f", {skipped} skipped (not root)" if skipped else ""))
sys.exit(1 if failed or passed == 0 else 0)
