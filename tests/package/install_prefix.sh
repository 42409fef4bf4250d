#!/usr/bin/env bash
# `cmake --install BUILD --prefix PREFIX` into a private directory (no root):
# bin/pkt, the man page, the docs, examples, course scripts and the stdlib's
# source land where the README says, and PREFIX/bin/pkt, run from a directory
# outside the checkout with PKT_STDLIB unset, prints what the build's pkt prints.
#
# usage: install_prefix.sh BUILD_DIR SOURCE_DIR PKT
set -uo pipefail
build=$1 src=$2 pkt=$3
failed=0
fail() { echo "FAIL: $*"; failed=1; }
work=$(mktemp -d /tmp/pkt-install-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

if ! cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1; then
  cat "$work/install.log"
  echo "FAIL: cmake --install $build --prefix $prefix"
  exit 1
fi
want=(bin/pkt share/man/man1/pkt.1 share/doc/pkt/README.md share/doc/pkt/course/README.md)
for f in "$src"/docs/*.md; do want+=("share/doc/pkt/docs/$(basename "$f")"); done
for f in "$src"/scripts/examples/*; do want+=("share/doc/pkt/examples/$(basename "$f")"); done
for f in "$src"/scripts/course/*; do want+=("share/doc/pkt/course/$(basename "$f")"); done
for f in "$src"/stdlib/*.pkt; do want+=("share/pkt/stdlib/$(basename "$f")"); done
for p in "${want[@]}"; do
  [[ -f $prefix/$p ]] || fail "cmake --install put no PREFIX/$p"
done
[[ -x $prefix/bin/pkt ]] || fail "PREFIX/bin/pkt is not executable"
echo "installed: $(find "$prefix" -type f | wc -l) files, the ${#want[@]} expected ones checked"

mkdir "$work/elsewhere"
cd "$work/elsewhere" || exit 1
unset PKT_STDLIB
expr='ipv4()/tcp()'
want_hex=$("$pkt" build -e "$expr" --format hex 2>&1)
got=$("$prefix/bin/pkt" build -e "$expr" --format hex 2>&1)
[[ -n $got && $got == "$want_hex" ]] || fail "PREFIX/bin/pkt build -e '$expr' --format hex printed '$got', the build's pkt '$want_hex'"
got=$("$prefix/bin/pkt" --version 2>&1)
[[ $got == "$("$pkt" --version)" ]] || fail "PREFIX/bin/pkt --version printed '$got'"
got=$(PKT_STDLIB=$prefix/share/pkt/stdlib "$prefix/bin/pkt" build -e "$expr" --format hex 2>&1)
[[ $got == "$want_hex" ]] || fail "PKT_STDLIB=PREFIX/share/pkt/stdlib: '$got', not '$want_hex'"
if command -v man >/dev/null; then
  page=$(MANPATH=$prefix/share/man man -w pkt 2>&1)
  [[ $page == "$prefix/share/man/man1/pkt.1" ]] || fail "MANPATH=PREFIX/share/man man -w pkt: '$page'"
fi
((failed)) && exit 1
echo "OK: PREFIX/bin/pkt runs outside the checkout and builds '$expr' as the build's pkt does"
