#!/usr/bin/env bash
# Benchmark (not a test): sending speed, pkt side by side with its peers in
# one run (issue 10, section 4). Every tool sends the same packet to
# 127.0.0.1 on lo: a 75-byte IPv4/TCP SYN whose TCP checksum is 0, so the
# kernel drops it without answering (a valid SYN would cost a RST each).
#   one core (taskset -c 0), N packets each:
#     raw IPv4   pkt `send p count N`; bench/send_baseline.c with one sendto
#                per packet and with sendmmsg(64); hping3 --flood (HPING_SECS
#                seconds: it does not stop at -c in flood mode)
#     Ethernet   pkt `send p count N on lo` (the packet behind a 14-byte
#                Ethernet header), and with `bypass` when pkt has it;
#                trafgen -P 1 with the same frame (its defaults: TX_RING,
#                qdisc bypass; in the namespace it cannot raise the socket
#                memory sysctls, and says so)
#   two cores (taskset -c 0,1): pkt `threads 2` (reported as not supported
#     when pkt rejects the word), the baseline's sendmmsg with 2 threads,
#     trafgen -P 2
#   pkt's peak RSS (/usr/bin/time) sending RSS_N packets on each path
# It prints a table (with pkt's ratio to each peer) and issue 10's goals.
# The judge of every count is lo's tx packet counter (/proc/net/dev), read
# before and after each tool. By default the whole run happens in a network
# namespace of its own (created here, always deleted), whose lo nothing else
# uses, so that counter is exact; NETNS=0 runs on the host's lo instead.
# Each tool's own count is checked against it. Wall time is from start to
# exit (start-up included); packets/s is lo's count over the wall time.
# Needs root, build/pkt (scripts/dev build), taskset, cc, /usr/bin/time, ip;
# hping3 and trafgen (Debian netsniff-ng) are skipped with a note when
# missing. `scripts/dev bench send` installs them, builds, and runs this.
# Environment: PKT (build/pkt), N (1000000), RSS_N (10000000; 0 skips),
# HPING_SECS (5), RUNS (1: keep the fastest of RUNS rounds), PORT (47998),
# NETNS (1), CC (cc).
set -euo pipefail
self=$(realpath "${BASH_SOURCE[0]}")
cd "$(dirname "$self")/.."
PKT=${PKT:-build/pkt}
N=${N:-1000000}
RSS_N=${RSS_N:-10000000}
HPING_SECS=${HPING_SECS:-5}
RUNS=${RUNS:-1}
PORT=${PORT:-47998}
NETNS=${NETNS:-1}
CC=${CC:-cc}

die() { printf 'send.sh: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'send.sh: %s\n' "$*" >&2; }

((EUID == 0)) || die "needs root (raw and packet sockets, a network namespace): sudo $0"
[[ -x $PKT ]] || die "no $PKT: build first (scripts/dev build)"
PKT=$(realpath "$PKT")
for tool in taskset "$CC" ip awk; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found: apt-get install time (scripts/dev bench send installs it)"
for v in N RSS_N HPING_SECS RUNS PORT; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number, not '${!v}'"
done
((N > 0 && RUNS > 0 && HPING_SECS > 0)) || die "N, RUNS and HPING_SECS must be at least 1"

# Re-run inside a fresh network namespace (with only lo, up), deleted on exit.
if [[ $NETNS == 1 && -z ${PKT_BENCH_NETNS:-} ]]; then
  ns=pkt-bench-$$
  ip netns add "$ns" || die "cannot create a network namespace (NETNS=0 runs on the host's lo, shared with other traffic)"
  trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
  trap 'exit 130' INT TERM
  ip netns exec "$ns" ip link set lo up
  rc=0
  ip netns exec "$ns" env PKT_BENCH_NETNS="$ns" PKT="$PKT" "$self" || rc=$?
  exit "$rc"
fi

# Scratch files in bench/out/send.XXXXXX, removed on exit (and bench/out
# too when this run created it).
out_made=0
[[ -d bench/out ]] || out_made=1
mkdir -p bench/out
work=$(mktemp -d bench/out/send.XXXXXX)
cleanup() {
  rm -rf "$work"
  if ((out_made)); then rmdir bench/out 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$CC" -O2 -Wall -pthread -o "$work/send_baseline" bench/send_baseline.c || die "cannot compile bench/send_baseline.c with $CC"

# The packet, built by pkt; every other tool gets these bytes.
payload=0123456789abcdefghijklmnopqrstuvwxy # 35 bytes: 20 + 20 + 35 = 75
ip_layers="ipv4(src=127.0.0.1, dst=127.0.0.1) / tcp(sport=40000, dport=$PORT, flags=SYN, checksum=0) / \"$payload\""
eth_layers="eth(src=00:00:00:00:00:00, dst=00:00:00:00:00:00) / $ip_layers"
ip_hex=$("$PKT" build -e "$ip_layers" --format hex) || die "pkt cannot build the packet"
eth_hex=$("$PKT" build -e "$eth_layers" --format hex) || die "pkt cannot build the frame"
((${#ip_hex} == 150)) || die "the IPv4 packet is $((${#ip_hex} / 2)) bytes, not 75: $ip_hex"
[[ ${ip_hex:0:2} == 45 && ${ip_hex:32:8} == 7f000001 && ${ip_hex:72:4} == 0000 ]] ||
  die "not an IPv4 packet to 127.0.0.1 with TCP checksum 0: $ip_hex"
[[ $eth_hex == 0000000000000000000000000800$ip_hex ]] || die "the frame is not the packet behind an Ethernet header: $eth_hex"

pkt_script() { # NAME SEND-OPTIONS
  printf 'packet p = %s\nsend p %s\n' "$ip_layers" "$2" >"$work/$1.pkt"
}
eth_script() {
  printf 'packet p = %s\nsend p %s\n' "$eth_layers" "$2" >"$work/$1.pkt"
}
pkt_script raw1 "count $N"
pkt_script raw2 "count $N threads 2"
eth_script eth1 "count $N on lo"
eth_script eth2 "count $N on lo threads 2"
pkt_script rawrss "count $RSS_N"
eth_script ethrss "count $RSS_N on lo"
eth_script eth2rss "count $RSS_N on lo threads 2"
pkt_script probe "count 1 threads 2"
eth_script probe_bypass "count 1 on lo bypass"
eth_script eth1bypass "count $N on lo bypass"
{
  printf '{ '
  sed 's/../0x&, /g; s/, $//' <<<"$eth_hex"
  printf ' }\n'
} >"$work/frame.cfg"

# `threads`: added by issue 10's engine work; older pkt rejects the word.
threads_ok=1
threads_why=
if ! "$PKT" run --dry-run "$work/probe.pkt" >/dev/null 2>"$work/probe.err"; then
  threads_ok=0
  threads_why=$(grep -m 1 'error' "$work/probe.err" | sed 's/^.*error: //')
fi
# `bypass` (PACKET_QDISC_BYPASS, which trafgen sets by default): an extra row when pkt has it.
bypass_ok=0
"$PKT" run --dry-run "$work/probe_bypass.pkt" >/dev/null 2>&1 && bypass_ok=1

two_cores=1
if (($(nproc) < 2)) || ! taskset -c 0,1 true 2>/dev/null; then
  two_cores=0
fi

lo_tx() { sed -n 's/^ *lo: *//p' /proc/net/dev | awk '{ print $10 }'; }
snmp_tcp() { # FIELD: a counter of the Tcp: lines of /proc/net/snmp
  awk -v f="$1" '$1 == "Tcp:" { if (!h) { for (i = 2; i <= NF; i++) if ($i == f) c = i; h = 1 } else print $c }' /proc/net/snmp
}

# measure CORES CMD...: runs CMD pinned to CORES. Sets secs (wall), left (lo's
# tx count delta), rss (KiB), cpu (user + system seconds, which show how much
# of the wall time the tool had a core) and rc; its output is in $work/out, $work/err.
secs='' left='' rss='' cpu='' rc=''
measure() {
  local cores=$1 before after t0 t1
  shift
  before=$(lo_tx)
  rc=0
  t0=$(date +%s%N)
  /usr/bin/time -f '%M %U %S' -o "$work/rss" taskset -c "$cores" "$@" >"$work/out" 2>"$work/err" || rc=$?
  t1=$(date +%s%N)
  after=$(lo_tx)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  left=$((after - before))
  read -r rss cpu < <(tail -n 1 "$work/rss" | awk 'NF == 3 { printf "%s %.2f\n", $1, $2 + $3 }')
  [[ $rss =~ ^[0-9]+$ ]] || rss='' cpu=-
}

# Rows, in order of first appearance; with RUNS > 1 a row keeps its fastest run.
declare -A r_tool r_mode r_cores r_n r_secs r_rate r_rss r_cpu
rows=()
notes=()
note() { [[ " ${notes[*]} " == *" $1 "* ]] || notes+=("$1"); }
record() { # KEY TOOL MODE CORES
  local key=$1 rate
  rate=$(awk -v n="$left" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
  if [[ -z ${r_tool[$key]:-} ]]; then
    rows+=("$key")
  elif ((rate <= ${r_rate[$key]})); then
    return 0
  fi
  r_tool[$key]=$2 r_mode[$key]=$3 r_cores[$key]=$4
  r_n[$key]=$left r_secs[$key]=$secs r_rate[$key]=$rate r_rss[$key]=$rss r_cpu[$key]=$cpu
}
# The tool's own count (a "sent N" line, or trafgen's "N packets outgoing")
# against lo's, which is the one reported.
check_count() { # LABEL EXPECTED [TOLERANCE of the tool's own count]
  local own
  own=$(sed -n 's/^.*sent \([0-9,]*\) packets\?.*$/\1/p; s/^ *\([0-9]*\) packets outgoing.*$/\1/p; s/^sent \([0-9]*\)$/\1/p; s/^\([0-9]*\) packets transmitted.*$/\1/p' \
    "$work/out" "$work/err" | tail -n 1 | tr -d ,)
  if [[ -n $2 && $left != "$2" ]]; then
    note "$1: lo counted $left packets, not the $2 asked (own count: ${own:-none})"
  elif [[ -n $own ]] && ((own - left > ${3:-0} || left - own > ${3:-0})); then
    note "$1: says $own packets, lo counted $left"
  fi
}
fail_note() { # LABEL: a peer that failed is reported, not fatal
  note "$1 failed (exit code $rc): $(grep -v -m 1 -e '^ *$' -e 'Cannot set system socket memory' "$work/err" || true)"
}
run_pkt() { # KEY MODE CORES SCRIPT LABEL [TOOL]
  say "$5"
  measure "$3" "$PKT" run --scope 127.0.0.1/32 "$work/$4.pkt"
  ((rc != 130)) || exit 130 # Ctrl-C
  if ((rc != 0)); then
    cat "$work/err" >&2
    die "$5 failed with exit code $rc"
  fi
  check_count "$5" "$N"
  local cores=1
  [[ $3 == *,* ]] && cores=2
  record "$1" "${6:-pkt}" "$2" "$cores"
}

have_hping=0 have_trafgen=0
if command -v hping3 >/dev/null 2>&1; then have_hping=1; else note "hping3: not installed (Debian hping3): skipped"; fi
if command -v trafgen >/dev/null 2>&1; then have_trafgen=1; else note "trafgen: not installed (Debian netsniff-ng): skipped"; fi
((threads_ok)) || note "pkt threads 2: pkt does not support threads yet ($threads_why)"
((two_cores)) || note "two cores: fewer than 2 CPUs allowed here: the 2-core rows are skipped"

rst0=$(snmp_tcp OutRsts)
csum0=$(snmp_tcp InCsumErrors)
load=$(cut -d ' ' -f 1-3 /proc/loadavg)

for ((round = 1; round <= RUNS; round++)); do
  ((RUNS == 1)) || say "round $round of $RUNS"
  # One core.
  run_pkt pkt_raw_1 "raw IPv4" 0 raw1 "pkt, raw IPv4, 1 core"
  for mode in sendto sendmmsg; do
    label="C $mode"
    [[ $mode == sendto ]] || label+="(64)"
    say "$label, raw IPv4, 1 core"
    measure 0 "$work/send_baseline" "$mode" "$N" 1 "$ip_hex"
    if ((rc == 0)); then
      check_count "$label" "$N"
      record "c_${mode}_1" "$label" "raw IPv4" 1
    else fail_note "$label"; fi
  done
  if ((have_hping)); then
    say "hping3 --flood, raw IPv4, 1 core, $HPING_SECS s"
    # -S -p PORT -s 40000 -k: a SYN from 40000 to PORT; -d 35: 75 bytes;
    # -N 1 -w 8192: pkt's IP id and TCP window. The IP header is then the
    # same byte for byte; the TCP header differs in its random seq and ack
    # and its checksum (-b: wrong, but not 0), the payload is 35 'X's.
    # It is stopped by SIGINT after HPING_SECS, and then prints
    # "N packets transmitted".
    measure 0 timeout -s INT "$HPING_SECS" hping3 127.0.0.1 -S -p "$PORT" -s 40000 -k -d 35 -N 1 -w 8192 -b --flood
    if ((rc == 0 || rc == 124)); then
      # Its count misses the packet in flight at SIGINT: lo counts one more.
      check_count "hping3 --flood" "" 1
      record hping3_1 "hping3 --flood" "raw IPv4" 1
    else fail_note "hping3 --flood"; fi
  fi
  run_pkt pkt_eth_1 Ethernet 0 eth1 "pkt, Ethernet on lo, 1 core"
  if ((bypass_ok)); then
    run_pkt pkt_eth_bypass_1 Ethernet 0 eth1bypass "pkt bypass, Ethernet on lo, 1 core" "pkt bypass"
  fi
  if ((have_trafgen)); then
    say "trafgen -P 1, Ethernet on lo, 1 core"
    measure 0 trafgen -i "$work/frame.cfg" -o lo -P 1 -n "$N"
    if ((rc == 0)); then
      check_count "trafgen -P 1" "$N"
      record trafgen_1 "trafgen -P 1" Ethernet 1
    else fail_note "trafgen -P 1"; fi
  fi

  # Two cores.
  ((two_cores)) || continue
  if ((threads_ok)); then
    run_pkt pkt_raw_2 "raw IPv4" 0,1 raw2 "pkt threads 2, raw IPv4, 2 cores" "pkt threads 2"
  fi
  say "C sendmmsg(64), 2 threads, raw IPv4, 2 cores"
  measure 0,1 "$work/send_baseline" sendmmsg "$N" 2 "$ip_hex"
  if ((rc == 0)); then
    check_count "C sendmmsg(64) 2 threads" "$N"
    record c_sendmmsg_2 "C sendmmsg(64) 2 threads" "raw IPv4" 2
  else fail_note "C sendmmsg(64) 2 threads"; fi
  if ((threads_ok)); then
    run_pkt pkt_eth_2 Ethernet 0,1 eth2 "pkt threads 2, Ethernet on lo, 2 cores" "pkt threads 2"
  fi
  if ((have_trafgen)); then
    say "trafgen -P 2, Ethernet on lo, 2 cores"
    measure 0,1 trafgen -i "$work/frame.cfg" -o lo -P 2 -n "$N"
    if ((rc == 0)); then
      check_count "trafgen -P 2" "$N"
      record trafgen_2 "trafgen -P 2" Ethernet 2
    else fail_note "trafgen -P 2"; fi
  fi
done

# pkt's peak RSS for RSS_N packets, on each path (one run each); with
# threads, also Ethernet with 2 threads (a ring each, after issue 10).
declare -A rss_kib rss_rate rss_label=([raw]="raw IPv4:" [eth]="Ethernet:" [eth2]="Ethernet, threads 2:")
rss_paths=(raw eth)
((threads_ok && two_cores)) && rss_paths+=(eth2)
if ((RSS_N > 0)); then
  for path in "${rss_paths[@]}"; do
    say "pkt peak RSS: $RSS_N packets, $path"
    cores=0
    [[ $path == eth2 ]] && cores=0,1
    measure "$cores" "$PKT" run --scope 127.0.0.1/32 "$work/${path}rss.pkt"
    if ((rc != 0)); then
      cat "$work/err" >&2
      die "pkt ($RSS_N packets, $path) failed with exit code $rc"
    fi
    check_count "pkt, $RSS_N packets ($path)" "$RSS_N"
    rss_kib[$path]=$rss
    rss_rate[$path]=$(awk -v n="$left" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
  done
fi

rst=$(($(snmp_tcp OutRsts) - rst0))
csum=$(($(snmp_tcp InCsumErrors) - csum0))

# The report.
group() { sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|[,.]\)/\1,\2\3/; ta' <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'; }
# pkt's row for the same mode and cores as KEY's.
pkt_key() {
  local m=raw c=${r_cores[$1]}
  [[ ${r_mode[$1]} == Ethernet ]] && m=eth
  echo "pkt_${m}_$c"
}
echo
printf 'Sending speed: the same 75-byte IPv4/TCP packet (TCP checksum 0) to 127.0.0.1 on lo\n'
printf '%s; load average before the run %s; %s\n' "$(uname -sr)" "$load" \
  "$( ((RUNS == 1)) && echo "one run of each" || echo "fastest of $RUNS runs of each")"
printf '\n%-26s %-9s %5s %11s %8s %12s %10s %7s %8s\n' tool mode cores packets seconds packets/s "pkt ratio" "CPU s" "RSS MiB"
for key in "${rows[@]}"; do
  pk=$(pkt_key "$key")
  rat=-
  if [[ ${r_tool[$key]} != pkt* && -n ${r_rate[$pk]:-} ]]; then rat="$(ratio "${r_rate[$pk]}" "${r_rate[$key]}")x"; fi
  mib=$(awk -v k="${r_rss[$key]}" 'BEGIN { if (k != "") printf "%.1f", k / 1024; else print "-" }')
  printf '%-26s %-9s %5s %11s %8s %12s %10s %7s %8s\n' "${r_tool[$key]}" "${r_mode[$key]}" "${r_cores[$key]}" \
    "$(group "${r_n[$key]}")" "${r_secs[$key]}" "$(group "${r_rate[$key]}")" "$rat" "${r_cpu[$key]}" "$mib"
done
if ((RSS_N > 0)); then
  for path in "${rss_paths[@]}"; do
    printf 'pkt peak RSS, %s packets, %-20s %s KiB (%s MiB) at %s packets/s\n' "$(group "$RSS_N")" \
      "${rss_label[$path]}" "${rss_kib[$path]:--}" \
      "$(awk -v k="${rss_kib[$path]:-0}" 'BEGIN { printf "%.1f", k / 1024 }')" "$(group "${rss_rate[$path]}")"
  done
fi

# The goals of issue 10.
verdict() { # VALUE GOAL [WHY n/a] (at least GOAL) or "-"
  if [[ $1 == - ]]; then echo "n/a${3:+ ($3)}"; else awk -v v="$1" -v g="$2" 'BEGIN { print (v >= g ? "pass" : "MISS") }'; fi
}
r() { echo "${r_rate[$1]:-0}"; }
x() { if [[ $1 == - ]]; then echo -; else echo "$1x"; fi; }
echo
echo "Goals (issue 10):"
v=$(ratio "$(r pkt_raw_1)" "$(r c_sendmmsg_1)")
printf '  %-52s %8s  %s\n' "raw IPv4, 1 core: pkt >= 1.0x C sendmmsg(64)" "$(x "$v")" "$(verdict "$v" 1.0 "no C sendmmsg figure")"
v=$(ratio "$(r pkt_eth_1)" "$(r trafgen_1)")
printf '  %-52s %8s  %s\n' "Ethernet, 1 core: pkt >= 1.0x trafgen -P 1" "$(x "$v")" "$(verdict "$v" 1.0 "no trafgen -P 1 figure")"
if [[ -n ${r_rate[pkt_eth_bypass_1]:-} ]]; then
  v=$(ratio "$(r pkt_eth_bypass_1)" "$(r trafgen_1)")
  printf '  %-52s %8s  %s\n' "  the same with pkt's bypass (as trafgen's default)" "$(x "$v")" "$(verdict "$v" 1.0 "no trafgen -P 1 figure")"
fi
for m in raw eth; do
  v=$(ratio "$(r pkt_${m}_2)" "$(r pkt_${m}_1)")
  why=
  ((threads_ok)) || why="pkt does not support threads yet"
  ((two_cores)) || why="fewer than 2 CPUs"
  printf '  %-52s %8s  %s\n' "$([[ $m == raw ]] && echo "raw IPv4" || echo Ethernet): pkt threads 2 >= 1.6x 1 thread" "$(x "$v")" "$(verdict "$v" 1.6 "$why")"
done
if ((RSS_N > 0)); then
  max=0
  for path in "${rss_paths[@]}"; do ((${rss_kib[$path]:-0} > max)) && max=${rss_kib[$path]}; done
  mib=$(awk -v k="$max" 'BEGIN { printf "%.1f", k / 1024 }')
  printf '  %-52s %8s  %s\n' "peak RSS <= 16 MiB ($(group "$RSS_N") packets)" "$mib MiB" \
    "$(awk -v k="$max" 'BEGIN { print (k > 0 && k <= 16384 ? "pass" : "MISS") }')"
fi

echo
echo "Counts: lo's tx packet counter (/proc/net/dev) before and after each tool$( [[ -n ${PKT_BENCH_NETNS:-} ]] && echo ", in a network namespace of its own" || echo ", on the host's lo (other traffic counts too)")."
echo "The kernel dropped $(group "$csum") packets for their TCP checksum (InCsumErrors) and sent $(group "$rst") RSTs."
((rst == 0)) || note "the kernel answered $rst packets with a RST: something sent a valid TCP checksum"
echo "pkt ratio: pkt's packets/s in the same mode and cores divided by the tool's."
echo "CPU s: the tool's user + system time; well below seconds x cores, the tool waited for a busy core."
((${#notes[@]} == 0)) || printf 'note: %s\n' "${notes[@]}"
