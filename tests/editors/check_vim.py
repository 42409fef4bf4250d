#!/usr/bin/env python3
"""editors/vim: a real Vim (vim -es) detects *.pkt as filetype pkt through
ftdetect/pkt.vim and highlights a sample with syntax/pkt.vim; the syntax
group at chosen places (a keyword, a string and its encoding, numbers,
addresses, a duration, a rate, a field, a layer call, Lua inside lua { }
and the statement after it) is checked with synIDattr(). Then every
stdlib and example script loads without a Vim error.

usage: check_vim.py SOURCE_DIR
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

SAMPLE = '''\
# a comment
param dst = 127.0.0.1
layer hello "A toy protocol" {
    count : u16 = auto len(this)     "how many"
    kind  : u8 enum { ping = 1, pong = 2 } = 1
}
bind udp.dport = 9999 -> hello
packet p = ipv6(dst=fe80::1) / udp(dport=1..1024) / hex"de ad" / base64"SGk="
packet e = eth(src=00:11:22:33:44:55) / ipv4(dst=dst, flags=DF, id=0x7070)
send p count 3 interval 10us rate 100kpps on lo
lua {
  local t = { a = 1, b = { c = 2 } }
  print("} not the end")
}
show p
'''

# (line, text on that line, syntax group its first character must have)
EXPECT = [
    (1, "# a comment", "pktComment"),
    (2, "param", "pktStatement"),
    (2, "dst", "pktDefinition"),
    (2, "127.0.0.1", "pktIPv4"),
    (3, "layer", "pktStatement"),
    (3, "hello", "pktLayerName"),
    (3, '"A toy', "pktStringDelimiter"),
    (3, "A toy", "pktString"),
    (4, "count", "pktFieldName"),
    (4, "u16", "pktType"),
    (4, "auto", "pktKeyword"),
    (4, "len", "pktCall"),
    (4, "this", "pktBuiltinVar"),
    (5, "enum", "pktKeyword"),
    (5, "pong", "pktEnumName"),
    (7, "->", "pktOperator"),
    (7, "9999", "pktNumber"),
    (8, "ipv6", "pktCall"),
    (8, "fe80::1", "pktIPv6"),
    (8, "dport", "pktParam"),
    (8, "..", "pktOperator"),
    (8, "hex", "pktEncoding"),
    (8, "ad", "pktHexByte"),
    (8, "base64", "pktEncoding"),
    (8, "SGk=", "pktBase64String"),
    (9, "00:11:22:33:44:55", "pktMAC"),
    (9, "flags", "pktParam"),
    (9, "DF", "pktConstant"),
    (9, "0x7070", "pktNumber"),
    (10, "send", "pktStatement"),
    (10, "count", "pktKeyword"),
    (10, "10us", "pktDuration"),
    (10, "100kpps", "pktRate"),
    (11, "lua", "pktStatement"),
    (12, "local", "luaStatement"),
    (13, "print", "luaFunc"),
    (13, '} not', "luaString"),
    (15, "show", "pktStatement"),
]


def main():
    src = sys.argv[1]
    vim = shutil.which("vim") or shutil.which("vim.tiny")
    if not vim:
        print("skipped: no vim")
        return 77
    rtp = os.path.join(src, "editors", "vim")
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        sample = os.path.join(tmp, "sample.pkt")
        with open(sample, "w") as f:
            f.write(SAMPLE)
        out = os.path.join(tmp, "out.txt")
        lines = SAMPLE.split("\n")
        probes = []
        for lineno, text, group in EXPECT:
            col = lines[lineno - 1].index(text) + 1
            probes.append(f"{lineno}:{col}")
        # -u NONE: no user vimrc; the sample's type comes from our ftdetect only.
        script = os.path.join(tmp, "probe.vim")
        with open(script, "w") as f:
            f.write(f"""set nocompatible
set runtimepath^={rtp}
filetype on
syntax on
edit {sample}
let out = ['filetype=' . &filetype]
for p in {probes!r}
  let [l, c] = split(p, ':')
  call add(out, p . ' ' . synIDattr(synID(str2nr(l), str2nr(c), 1), 'name'))
endfor
call writefile(out, '{out}')
qall!
""")
        r = subprocess.run([vim, "-u", "NONE", "-i", "NONE", "-N", "-es", "-S", script], capture_output=True, text=True,
                           timeout=60)
        if not os.path.exists(out):
            print(f"vim wrote nothing (exit {r.returncode}): {r.stdout} {r.stderr}")
            return 1
        got = open(out).read().split("\n")
        if got[0] != "filetype=pkt":
            failures.append(f"ftdetect: {got[0]}, expected filetype=pkt")
        for (lineno, text, group), line in zip(EXPECT, got[1:]):
            name = line.split(" ", 1)[1] if " " in line else ""
            if name != group:
                failures.append(f"line {lineno} {text!r}: {name or '(none)'}, expected {group}")
        print(f"{len(EXPECT)} positions checked")

        # Every script loads without an error from the syntax file, and no
        # statement at the start of a line is taken for Lua (a lua { } block
        # that did not end where the parser ends it).
        files = sorted(glob.glob(os.path.join(src, "stdlib", "*.pkt")) + glob.glob(os.path.join(src, "scripts", "*", "*.pkt")))
        for fn in files:
            errs = os.path.join(tmp, "errs.txt")
            with open(script, "w") as f:
                f.write(f"""set nocompatible
set runtimepath^={rtp}
filetype on
syntax on
edit {fn}
let stray = []
for l in range(1, line('$'))
  if getline(l) =~# '^\%(param\|let\|packet\|layer\|option\|bind\|reply\|show\|hexdump\|write\|send\|sr\|sniff\)\>'
        \ && index(map(synstack(l, 1), 'synIDattr(v:val, "name")'), 'pktLua') >= 0
    call add(stray, 'line ' . l . ' is inside a lua block')
  endif
endfor
call writefile([v:errmsg] + stray, '{errs}.msg')
qall!
""")
            r = subprocess.run([vim, "-u", "NONE", "-i", "NONE", "-N", "-es", "-S", script], capture_output=True,
                               text=True, timeout=60)
            msg = open(errs + ".msg").read().strip() if os.path.exists(errs + ".msg") else "no output"
            if r.returncode != 0 or msg:
                failures.append(f"{os.path.relpath(fn, src)}: exit {r.returncode} {msg} {r.stderr.strip()}")
        print(f"{len(files)} scripts loaded")
    for f in failures:
        print("FAIL:", f)
    print(f"{'FAILED' if failures else 'ok'}: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
