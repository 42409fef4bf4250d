#!/usr/bin/python3
"""Writes the seed corpora of fuzz_script and fuzz_lua.

tests/fuzz/corpus/script/: every ```pkt block of README.md and docs/*.md,
the example and course scripts, tests/scripts/*.pkt and the bad inputs of
tests/fail/*.pkt (script text, as `pkt run` reads it).

tests/fuzz/corpus/lua/: op sequences for fuzz_lua (see its header: an opcode
byte, then its operands), one per kind of operation and value form.

Files named bug-* (reproducers of fixed bugs) are left alone; the rest of
each directory is rewritten. Usage: tests/fuzz/make_seeds.py
"""
import glob
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def reset(d):
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if not f.startswith("bug-"):
            os.remove(os.path.join(d, f))


def script_seeds():
    out = os.path.join(HERE, "corpus", "script")
    reset(out)
    n = 0
    for md in ["README.md"] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        text = open(os.path.join(ROOT, md), encoding="utf-8").read()
        base = os.path.splitext(os.path.basename(md))[0].lower()
        for k, block in enumerate(re.findall(r"```pkt\n(.*?)```", text, re.S)):
            open(os.path.join(out, f"doc-{base}-{k + 1}.pkt"), "w").write(block)
            n += 1
    for pattern, prefix in [("scripts/examples/*.pkt", "example"), ("scripts/course/*.pkt", "course"),
                            ("tests/scripts/*.pkt", "test"), ("tests/fail/*.pkt", "fail")]:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            data = open(path, "rb").read()
            if len(data) > 8192:
                continue
            open(os.path.join(out, f"{prefix}-{os.path.basename(path)}"), "wb").write(data)
            n += 1
    print(f"{n} script seeds in {os.path.relpath(out, ROOT)}")


# fuzz_lua opcodes (op % 16) and value kinds (kind % 13), as fuzz_lua.cpp reads them.
NEW, NEW_FIELD, STACK, STACK_BYTES, CLONE, WRITE, READ_WRITE, TOSTRING, BYTES, EACH, LAYERS, DISSECT, FRAGMENT, GEN = \
    0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15
V_INT, V_BYTES, V_TEXT, V_INTS, V_TEXTS, V_DEFAULT, V_AUTO, V_NIL, V_PACKET, V_OTHER, V_PAIR = 0, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12


def lua_seeds():
    out = os.path.join(HERE, "corpus", "lua")
    reset(out)
    # Slots 0-3 start as eth/ipv4/tcp, ipv6/udp/"x", ipv4/icmp, eth/arp.
    seeds = {
        "write-int-each-field": sum(([WRITE, 0, li, fi, V_INT, k] for li in range(3) for fi in range(0, 12, 3)
                                     for k in (1, 11)), []) + [BYTES, 0, TOSTRING, 0, 2],
        "write-text": sum(([WRITE, s, li, fi, V_TEXT, t] for s, li, fi, t in
                           [(0, 1, 9, 0), (0, 1, 10, 2), (1, 1, 6, 4), (0, 0, 0, 8), (0, 2, 6, 11), (0, 2, 12, 23),
                            (3, 1, 5, 0), (2, 1, 0, 15)]), []) + [BYTES, 0, BYTES, 1],
        "write-bytes": [WRITE, 1, 2, 0, V_BYTES, 5, 1, 2, 3, 4, 5, STACK_BYTES, 1, 3, 0, 1, 4, BYTES, 4],
        "write-tables": [WRITE, 0, 2, 1, V_INTS, 3, 0, 1, 2, WRITE, 0, 1, 8, V_TEXTS, 2, 0, 1, EACH, 0, TOSTRING, 0, 1],
        "resets": [WRITE, 0, 1, 3, V_INT, 5, WRITE, 0, 1, 3, V_AUTO, WRITE, 0, 2, 8, V_DEFAULT, WRITE, 0, 1, 4, V_NIL,
                   BYTES, 0],
        "stack-clone": [STACK, 2, 1, 4, CLONE, 4, 5, WRITE, 5, 3, 0, V_INT, 14, STACK, 5, 4, 6, BYTES, 6, TOSTRING, 6, 3],
        "new-layers": sum(([NEW, 4, k, STACK, 4, 4, 5, BYTES, 5] for k in range(0, 40, 3)), []),
        "new-field": [NEW_FIELD, 4, 7, 1, V_INT, 13, NEW_FIELD, 5, 10, 2, V_TEXT, 0, STACK, 4, 5, 6, BYTES, 6],
        "generator": [GEN, 0, 2, 1, 1, 11, 12, LAYERS, 0, 2, 5, 1, EACH, 0, TOSTRING, 0, 2],
        "dissect": [DISSECT, 0, 3, 0, 1, READ_WRITE, 3, 1, 9, WRITE, 3, 2, 1, V_INT, 11, BYTES, 3, DISSECT, 1, 5, 0, 0],
        "fragment": [WRITE, 1, 2, 0, V_BYTES, 20] + list(range(20)) + [FRAGMENT, 1, 1, 6, EACH, 6, TOSTRING, 6, 1],
        "packet-value": [WRITE, 0, 2, 14, V_PACKET, 2, WRITE, 1, 2, 0, V_PACKET, 3, BYTES, 1, TOSTRING, 1, 3],
        "read-write-all": sum(([READ_WRITE, s, li, fi] for s in range(4) for li in range(3) for fi in range(0, 14, 2)),
                              []),
    }
    for name, ops in seeds.items():
        open(os.path.join(out, f"seed-{name}"), "wb").write(bytes(b & 0xFF for b in ops))
    print(f"{len(seeds)} lua seeds in {os.path.relpath(out, ROOT)}")


if __name__ == "__main__":
    script_seeds()
    lua_seeds()
