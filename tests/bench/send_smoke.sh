#!/usr/bin/env bash
# bench/send.sh still works: a short run (3,000 packets a tool) in its own
# network namespace prints a row for every tool with lo's exact count, the
# goals, no RST, and leaves no namespace and no file behind; it refuses to
# run without root; its C baseline refuses a destination outside 127.0.0.0/8.
# Needs root, ip netns and cc; exits 77 (skipped) otherwise.
set -uo pipefail
PKT=$(realpath "$1")
ROOT=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../..")
cd "$ROOT" || exit 1
fail() { printf 'FAIL: %s\n' "$*"; failed=1; }
failed=0

if ((EUID != 0)); then echo "skipped: needs root"; exit 77; fi
command -v cc >/dev/null || { echo "skipped: no cc"; exit 77; }
ns=pkt-smoke-$$
ip netns add "$ns" 2>/dev/null || { echo "skipped: cannot create a network namespace"; exit 77; }
ip netns del "$ns"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The baseline: loopback only, and nothing sent otherwise.
cc -O2 -pthread -o "$tmp/send_baseline" bench/send_baseline.c || fail "send_baseline does not compile"
hex=4500004b0001000040067caa7f0000010a0000019c40bb7e00000000000000005002200000000000303132333435363738396162636465666768696a6b6c6d6e6f70717273747576777879
out=$("$tmp/send_baseline" sendto 1 1 "$hex" 2>&1); rc=$?
[[ $rc == 2 && $out == *"not in 127.0.0.0/8: refused"* ]] || fail "send_baseline to 10.0.0.1: rc $rc, '$out'"

# Not root: a clear refusal.
if command -v setpriv >/dev/null; then
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env PKT="$PKT" bench/send.sh 2>&1); rc=$?
  [[ $rc == 1 && $out == *"needs root"* ]] || fail "as nobody: rc $rc, '$out'"
fi

out_before=$(ls -A bench/out 2>&1)
ns_before=$(ip netns list | grep -c pkt-bench || true)
PKT="$PKT" N=3000 RSS_N=3000 HPING_SECS=1 bench/send.sh >"$tmp/report" 2>"$tmp/err"; rc=$?
cat "$tmp/report"
((rc == 0)) || { cat "$tmp/err"; fail "bench/send.sh exited with $rc"; }
row() { grep -Eq "^$1 +$2 +$3 +3,000 " "$tmp/report" || fail "no row '$1 $2 $3 cores' with 3,000 packets"; }
row pkt "raw IPv4" 1
row pkt Ethernet 1
row "C sendto" "raw IPv4" 1
row "C sendmmsg\(64\)" "raw IPv4" 1
row "C sendmmsg\(64\) 2 threads" "raw IPv4" 2
if command -v trafgen >/dev/null; then
  row "trafgen -P 1" Ethernet 1
  row "trafgen -P 2" Ethernet 2
fi
command -v hping3 >/dev/null && ! grep -Eq '^hping3 --flood +raw IPv4 +1 ' "$tmp/report" && fail "no hping3 row"
if grep -q "pkt does not support threads yet" "$tmp/report"; then
  echo "(pkt does not support threads yet: no threads rows)"
else
  row "pkt threads 2" "raw IPv4" 2
  row "pkt threads 2" Ethernet 2
fi
grep -q "sent 0 RSTs" "$tmp/report" || fail "the kernel answered with RSTs"
goals=5
grep -q '^pkt bypass ' "$tmp/report" && goals=6
[[ $(grep -Ec ' (pass|MISS|n/a)$' "$tmp/report") == "$goals" ]] || fail "not $goals goals"
grep -Eq '^pkt peak RSS, 3,000 packets, raw IPv4: +[0-9]+ KiB' "$tmp/report" || fail "no RSS line"
[[ $(ls -A bench/out 2>&1) == "$out_before" ]] || fail "bench/out changed: $(ls -A bench/out 2>&1)"
[[ $(ip netns list | grep -c pkt-bench || true) == "$ns_before" ]] || fail "a network namespace was left behind"

((failed == 0)) && echo "ok"
exit "$failed"
