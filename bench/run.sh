#!/usr/bin/env bash
# Benchmarks (not tests): build throughput and start-up time.
#   1. `pkt build` of 10 million ipv4/tcp packets with --format none, on one core.
#   2. `pkt build -e 'ipv4()/tcp()' --format hex`: start and finish.
# Run with scripts/dev bench, which builds first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PKT=${PKT:-build/pkt}

for f in bench/scan10m.pkt bench/ports10m.pkt; do
  best=
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    taskset -c 0 "$PKT" build "$f" --format none >/dev/null
    end=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f", b - a }')
    if [[ -z $best ]] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
  done
  printf '%-22s 10000000 packets in %.3f s = %.1f million packets/s (best of 3, one core)\n' \
    "$f" "$best" "$(awk -v b="$best" 'BEGIN { print 10 / b }')"
done

if command -v hyperfine >/dev/null 2>&1; then
  hyperfine -N --warmup 20 --runs 200 "$PKT build -e 'ipv4()/tcp()' --format hex" 2>/dev/null | sed -n '1,3p'
else
  echo "hyperfine not installed: skipping start-up timing"
fi
/usr/bin/time -f "max RSS %M KiB" "$PKT" build -e 'ipv4()/tcp()' --format hex
/usr/bin/python3 bench/repl_startup.py "$PKT" 50

# For comparison: scapy (Debian's python3-scapy) building the same kind of packets.
if /usr/bin/python3 -c 'import scapy' 2>/dev/null; then
  /usr/bin/python3 - <<'PY'
import time
t0 = time.perf_counter()
from scapy.all import IP, TCP
t1 = time.perf_counter()
n = 20000
for seq in range(n):
    bytes(IP(src="127.0.0.1", dst="127.0.0.1") / TCP(sport=40000, dport=80, seq=seq, flags="S"))
t2 = time.perf_counter()
print(f"scapy: import {t1 - t0:.2f} s; {n / (t2 - t1):,.0f} packets/s built (same ipv4/tcp SYN, seq ranging)")
PY
fi
