#!/usr/bin/env bash
# Builds build-fuzz/ (clang, libFuzzer, ASan, UBSan; only the fuzz targets)
# when needed, then runs each fuzz target on its seed corpus for a bounded time.
#   tests/fuzz/run_fuzz.sh [TARGET...]           fuzz each TARGET for PKT_FUZZ_TIME s
#   tests/fuzz/run_fuzz.sh --replay [TARGET...]  run each bug-* input of TARGET once
# TARGET: dissect, pcap, script, lua (default: all four).
# PKT_FUZZ_TIME: seconds per target (default 30). The seeds in
# tests/fuzz/corpus/TARGET/ are only read; new inputs go to
# build-fuzz/corpus/TARGET/ and crashing inputs to build-fuzz/crashes/TARGET/.
# A crash, once fixed, stays as tests/fuzz/corpus/TARGET/bug-WHAT: every
# timed run starts from it, and --replay (ctest fuzz_regressions) runs it.
# Exits 1 when a target crashes (or the build fails), 77 (skipped, for ctest)
# when clang++ or libFuzzer's runtime is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
src=$PWD
out=$src/build-fuzz
time=${PKT_FUZZ_TIME:-30}
replay=0
if [[ ${1:-} == --replay ]]; then
  replay=1
  shift
fi
targets=("$@")
((${#targets[@]})) || targets=(dissect pcap script lua)

say() { printf 'run_fuzz: %s\n' "$*" >&2; }

for t in "${targets[@]}"; do
  [[ -d $src/tests/fuzz/corpus/$t ]] || { say "unknown target '$t' (no tests/fuzz/corpus/$t)"; exit 2; }
done

if ! command -v clang++ >/dev/null 2>&1; then
  say "no clang++ (Debian: apt-get install clang libclang-rt-14-dev): skipped"
  exit 77
fi
if [[ ! -f $out/CMakeCache.txt ]]; then
  # libFuzzer's runtime comes in a package of its own (libclang-rt-14-dev).
  probe=$(mktemp -d)
  trap 'rm -rf "$probe"' EXIT
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe/p.cpp"
  if ! clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" 2>"$probe/err"; then
    cat "$probe/err" >&2
    say "clang++ cannot link a libFuzzer target (Debian: apt-get install libclang-rt-14-dev): skipped"
    exit 77
  fi
  say "configuring build-fuzz/ (clang++, PKT_FUZZ=ON)"
  launcher=()
  command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$src" -B "$out" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPKT_FUZZ=ON "${launcher[@]}" >&2
fi
say "building the fuzz targets"
cmake --build "$out" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >&2

if ((replay)); then
  # Each reproducer of a fixed bug, run once: libFuzzer runs files given by name.
  status=0
  for t in "${targets[@]}"; do
    bugs=("$src/tests/fuzz/corpus/$t"/bug-*)
    [[ -e ${bugs[0]} ]] || continue
    say "fuzz_$t: replaying ${#bugs[@]} reproducer(s) of fixed bugs"
    if ! ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
      "$out/fuzz_$t" -timeout=30 -rss_limit_mb=2560 "${bugs[@]}" >/dev/null 2>"$out/replay-$t.log"; then
      tail -n 60 "$out/replay-$t.log" >&2
      say "fuzz_$t FAILED on a reproducer (log: build-fuzz/replay-$t.log)"
      status=1
    fi
  done
  exit $status
fi

status=0
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t" "$out/crashes/$t"
  say "fuzz_$t for ${time}s on tests/fuzz/corpus/$t (new inputs: build-fuzz/corpus/$t)"
  if ! ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
    "$out/fuzz_$t" -max_total_time="$time" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$out/crashes/$t/" "$out/corpus/$t" "$src/tests/fuzz/corpus/$t"; then
    say "fuzz_$t FAILED: the input is in build-fuzz/crashes/$t/ (replay: build-fuzz/fuzz_$t FILE)"
    status=1
  fi
done
say "crashing inputs, if any, are in $out/crashes/"
exit $status
