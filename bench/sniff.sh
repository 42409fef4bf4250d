#!/usr/bin/env bash
# Benchmark (not a test): capturing while pkt floods the loopback. In one run,
# `pkt run` sends N IPv4/UDP packets to 127.0.0.1 as fast as it can while
#   1. `pkt sniff -i lo -c N --format none FILTER` (dissects every packet, prints nothing)
#   2. `tcpdump -i lo -c N -w /dev/null FILTER` (given pkt's 4 MiB ring: -B 4096)
# capture them. Each ends at N packets, or at Ctrl-C one second after the
# send when it dropped some, and reports what it captured and what the
# kernel dropped; the figures are theirs, divided by the time the send took.
# Needs root (capturing), build/pkt and tcpdump.
# Environment: PKT (default build/pkt), N (1000000), PORT (47999), OUT (bench/out), FORMAT (none),
# LINK (ip: a raw IPv4 socket; eth: Ethernet frames on lo, about twice as fast).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PKT=${PKT:-build/pkt}
N=${N:-1000000}
PORT=${PORT:-47999}
OUT=${OUT:-bench/out}
FORMAT=${FORMAT:-none}
LINK=${LINK:-ip}  # pkt sniff --format: none dissects and prints nothing; summary etc. print to /dev/null
die() { printf 'sniff.sh: %s\n' "$*" >&2; exit 1; }
[[ -x $PKT ]] || die "no $PKT: build first (scripts/dev build)"
command -v tcpdump >/dev/null 2>&1 || die "tcpdump not found: apt-get install tcpdump"
((EUID == 0)) || die "capturing needs root (or CAP_NET_RAW)"
mkdir -p "$OUT"
filter="udp dst port $PORT"

if [[ $LINK == eth ]]; then
  cat >"$OUT/flood.pkt" <<PKT
packet p = eth(src=00:00:00:00:00:00, dst=00:00:00:00:00:00) / ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=40000, dport=$PORT) / "0123456789abcdefgh"
send p count $N on lo
PKT
else
  cat >"$OUT/flood.pkt" <<PKT
packet p = ipv4(src=127.0.0.1, dst=127.0.0.1) / udp(sport=40000, dport=$PORT) / "0123456789abcdefgh"
send p count $N
PKT
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$PKT" sniff -i lo -c "$N" --format "$FORMAT" $filter >/dev/null 2>"$OUT/sniff_pkt.txt" &
pids+=($!)
tcpdump -i lo -n -B 4096 -c "$N" -w /dev/null $filter 2>"$OUT/sniff_tcpdump.txt" &
pids+=($!)
for f in sniff_pkt sniff_tcpdump; do
  for _ in $(seq 100); do grep -q "listening on" "$OUT/$f.txt" && break; sleep 0.05; done
  grep -q "listening on" "$OUT/$f.txt" || die "$f did not start: $(cat "$OUT/$f.txt")"
done

start=$(date +%s.%N)
"$PKT" run "$OUT/flood.pkt" 2>"$OUT/sniff_send.txt"
end=$(date +%s.%N)
sleep 1
for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done  # those still waiting for packets that were dropped
wait "${pids[@]}" || true
pids=()

secs=$(echo "$end - $start" | bc -l)
count() { sed -n "s/^\([0-9]*\) packets\? $2.*/\1/p" "$OUT/$1.txt" | head -n 1; }
pkt_got=$(count sniff_pkt captured); pkt_drop=$(count sniff_pkt "dropped by kernel")
td_got=$(count sniff_tcpdump captured); td_drop=$(count sniff_tcpdump "dropped by kernel")
printf 'sent %d packets in %.3f s (%.0f packets/s)\n' "$N" "$secs" "$(echo "$N / $secs" | bc -l)"
printf '%-8s %12s %12s %14s\n' tool captured dropped "kept/s"
printf '%-8s %12d %12d %14.0f\n' pkt "$pkt_got" "${pkt_drop:-0}" "$(echo "$pkt_got / $secs" | bc -l)"
printf '%-8s %12d %12d %14.0f\n' tcpdump "$td_got" "${td_drop:-0}" "$(echo "$td_got / $secs" | bc -l)"
