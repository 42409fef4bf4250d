#!/usr/bin/env python3
"""Time from starting `pkt` on a pseudo-terminal to its first prompt.
usage: repl_startup.py PKT [RUNS]"""
import os, pty, select, statistics, sys, tempfile, time

pkt, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50
times = []
with tempfile.TemporaryDirectory() as home:
    for _ in range(runs):
        t0 = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(pkt, [pkt], dict(os.environ, HOME=home, TERM=os.environ.get("TERM", "xterm")))
        buf = b""
        while b"pkt> " not in buf:
            select.select([fd], [], [], 1)
            buf += os.read(fd, 4096)
        times.append(time.perf_counter() - t0)
        os.write(fd, b"\x04")
        os.waitpid(pid, 0)
        os.close(fd)
print(f"repl start to prompt: median {statistics.median(times) * 1000:.1f} ms, "
      f"min {min(times) * 1000:.1f} ms over {runs} runs")
