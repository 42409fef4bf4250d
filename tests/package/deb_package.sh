#!/usr/bin/env bash
# The Debian package, end to end: cpack builds pkt_VERSION_ARCH.deb (in a
# private directory), its control fields and contents are checked, `dpkg -i`
# installs it, the installed /usr/bin/pkt runs from a directory outside the
# checkout with PKT_STDLIB unset and prints what the in-tree build prints,
# then `dpkg -r` removes every file it installed. Needs root and dpkg; skips
# (77) otherwise, and also when a pkt package or /usr/bin/pkt is already
# there (it is never replaced). The trap removes the package whatever fails.
#
# usage: deb_package.sh BUILD_DIR SOURCE_DIR PKT
set -uo pipefail

build=$1 src=$2 pkt=$3

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; failed=1; }
((EUID == 0)) || skip "needs root (dpkg -i)"
for tool in dpkg dpkg-deb dpkg-query cpack; do
  command -v $tool >/dev/null || skip "no $tool here"
done
command -v dpkg-shlibdeps >/dev/null || skip "no dpkg-shlibdeps (apt-get install dpkg-dev)"
status=$(dpkg-query -W -f='${db:Status-Status}' pkt 2>/dev/null)
[[ -z $status || $status == not-installed ]] || skip "a pkt package is on this machine ($status): not replacing it"
[[ ! -e /usr/bin/pkt ]] || skip "/usr/bin/pkt exists: not replacing it"

failed=0
installed=0
work=$(mktemp -d /tmp/pkt-deb-test.XXXXXX)
cleanup() {
  local st
  st=$(dpkg-query -W -f='${db:Status-Status}' pkt 2>/dev/null)
  if ((installed)) && [[ -n $st && $st != not-installed ]]; then
    echo "cleanup: dpkg --purge pkt"
    dpkg --purge pkt >/dev/null 2>&1 || echo "cleanup: dpkg --purge pkt failed"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

version=$("$pkt" --version) || { echo "FAIL: $pkt --version"; exit 1; }
version=${version#pkt }
arch=$(dpkg --print-architecture)

# 1. Build the package, in a directory of its own (ctest runs tests in parallel).
if ! cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log"
  echo "FAIL: cpack -G DEB"
  exit 1
fi
deb=$work/pkg/pkt_${version}_${arch}.deb
if [[ ! -f $deb ]]; then
  cat "$work/cpack.log"
  echo "FAIL: no $(basename "$deb") (made: $(cd "$work/pkg" && ls ./*.deb 2>/dev/null))"
  exit 1
fi
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes) at ${SECONDS}s"

# 2. Control fields: the version pkt prints, section net, a maintainer, and
# Depends naming the package of every shared library pkt links (as ldd and
# dpkg -S see them).
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == pkt ]] || fail "Package is '$(field Package)', not pkt"
[[ $(field Version) == "$version" ]] || fail "Version is '$(field Version)', not '$version' (pkt --version)"
[[ $(field Architecture) == "$arch" ]] || fail "Architecture is '$(field Architecture)', not $arch"
[[ $(field Section) == net ]] || fail "Section is '$(field Section)', not net"
[[ $(field Maintainer) == *@* ]] || fail "Maintainer '$(field Maintainer)' has no address"
[[ -n $(field Description) ]] || fail "no Description"
depends=$(field Depends)
echo "Depends: $depends"
depends_names=$(tr ',|' '\n' <<<"$depends" | sed 's/^ *//; s/[ (:].*//')
libs=$(ldd "$pkt" | awk '$3 ~ /^\// {print $3}')
for family in liblua libedit libpcap libfmt; do
  lib=$(grep -m1 "/$family" <<<"$libs")
  if [[ -z $lib ]]; then
    [[ $family == libfmt ]] && continue  # a header-only fmt links nothing
    fail "ldd shows no $family in $pkt"
    continue
  fi
  owner=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1)
  [[ -n $owner ]] || owner=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)
  [[ -n $owner ]] || { fail "no package owns $lib"; continue; }
  grep -qxF "$owner" <<<"$depends_names" || fail "Depends lacks $owner (the package of $lib)"
done

# 3. Contents: the binary, the man page, the docs, the examples, the course
# scripts and the stdlib's source; nothing outside /usr. Other files (shell
# completions, editor files) are allowed.
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' | grep -v '^$' >"$work/contents"
want=(/usr/bin/pkt /usr/share/man/man1/pkt.1 /usr/share/doc/pkt/README.md /usr/share/doc/pkt/course/README.md)
for f in "$src"/docs/*.md; do want+=("/usr/share/doc/pkt/docs/$(basename "$f")"); done
for f in "$src"/scripts/examples/*; do want+=("/usr/share/doc/pkt/examples/$(basename "$f")"); done
for f in "$src"/scripts/course/*; do want+=("/usr/share/doc/pkt/course/$(basename "$f")"); done
for f in "$src"/stdlib/*.pkt; do want+=("/usr/share/pkt/stdlib/$(basename "$f")"); done
for p in "${want[@]}"; do
  grep -qxF "$p" "$work/contents" || fail "the package lacks $p"
done
outside=$(grep -v -e '^/usr$' -e '^/usr/' "$work/contents")
[[ -z $outside ]] || fail "the package installs outside /usr: $outside"
grep -q '^/usr/local' "$work/contents" && fail "the package installs under /usr/local"
echo "contents: $(wc -l <"$work/contents") paths, the ${#want[@]} expected ones checked"

# 4. Install it.
installed=1
if ! dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1; then
  cat "$work/dpkg-i.log"
  echo "FAIL: dpkg -i"
  exit 1
fi
echo "installed at ${SECONDS}s"
[[ $(dpkg-query -W -f='${db:Status-Status}' pkt) == installed ]] || fail "dpkg-query does not say installed after dpkg -i"

# 5. The installed pkt, outside the checkout, PKT_STDLIB unset: the same answers as the in-tree build.
mkdir "$work/elsewhere"
cd "$work/elsewhere" || exit 1
unset PKT_STDLIB
got=$(/usr/bin/pkt --version 2>&1)
[[ $got == "pkt $version" ]] || fail "/usr/bin/pkt --version printed '$got', not 'pkt $version'"
expr='ipv4()/tcp()'
want_hex=$("$pkt" build -e "$expr" --format hex 2>&1)
got=$(/usr/bin/pkt build -e "$expr" --format hex 2>&1)
[[ $got == "$want_hex" && -n $got ]] || fail "/usr/bin/pkt build -e '$expr' --format hex printed '$got', the build's pkt '$want_hex'"
echo "/usr/bin/pkt build -e '$expr' --format hex: $got"
got=$(/usr/bin/pkt layers 2>&1)
[[ $got == "$("$pkt" layers 2>&1)" ]] || fail "/usr/bin/pkt layers differs from the build's: $got"
# The installed copy of the stdlib is the whole stdlib: through PKT_STDLIB it builds the same bytes.
got=$(PKT_STDLIB=/usr/share/pkt/stdlib /usr/bin/pkt build -e "$expr" --format hex 2>&1)
[[ $got == "$want_hex" ]] || fail "PKT_STDLIB=/usr/share/pkt/stdlib: '$got', not '$want_hex'"
# Every installed example and course script passes pkt check; the installed syn.pkt runs here.
for f in /usr/share/doc/pkt/examples/*.pkt /usr/share/doc/pkt/course/*.pkt; do
  out=$(/usr/bin/pkt check "$f" 2>&1) || fail "/usr/bin/pkt check $f: $out"
done
cp /usr/share/doc/pkt/examples/syn.pkt .
out=$(/usr/bin/pkt run syn.pkt 2>&1) || fail "/usr/bin/pkt run syn.pkt (a copy of the installed example): $out"
if command -v man >/dev/null && command -v groff >/dev/null; then
  page=$(man -w pkt 2>&1)
  [[ $page == /usr/share/man/man1/pkt.1* ]] || fail "man -w pkt: '$page', not /usr/share/man/man1/pkt.1"
fi
cd / || exit 1

# 6. Remove it: not installed any more, and no file it brought is left.
if ! dpkg -r pkt >"$work/dpkg-r.log" 2>&1; then
  cat "$work/dpkg-r.log"
  fail "dpkg -r pkt"
fi
echo "removed at ${SECONDS}s"
if dpkg -s pkt >/dev/null 2>&1; then
  fail "dpkg -s pkt still knows pkt after dpkg -r: $(dpkg-query -W -f='${db:Status-Abbrev}' pkt)"
fi
[[ ! -e /usr/bin/pkt ]] || fail "/usr/bin/pkt is still there after dpkg -r"
while read -r p; do
  [[ -f $p || -L $p ]] && fail "left after dpkg -r: $p"
done <"$work/contents"
for d in /usr/share/doc/pkt /usr/share/pkt; do
  [[ ! -e $d ]] || fail "left after dpkg -r: $d"
done

if ((failed)); then
  echo "FAIL"
  exit 1
fi
echo "OK: built, listed, installed, ran outside the checkout, removed cleanly"
