#!/usr/bin/python3
"""No crash on any input: a deterministic (seeded) robustness test of pkt.

Seeds are valid scripts: every ```pkt block in README.md and docs/*.md,
scripts/course/*.pkt and tests/scripts/*.pkt. From them it generates about
3000 inputs, each a seed with one to three mutations:
  * random bit flips and byte replacements (with the language's punctuation);
  * truncations at every kind of position: after or before each kind of
    character ( ) [ ] { } " = , / | . : * # \\ digit letter space newline,
    inside a string, an escape, a hex"..", a number, an address, a comment;
  * token deletions, duplications, swaps, insertions; line deletions,
    duplications and shuffles; splices of two seeds;
  * huge numbers (2^64, 10^400, 0x and 0b forms, huge ranges and repeat
    counts), bad addresses;
  * very long strings, names, hex"..", comments and lines;
  * invalid UTF-8, NUL bytes, random unicode (BOM, RTL marks, combining
    characters, fullwidth digits, emoji, surrogate encodings);
plus a fixed list of hand-written edge cases: deep nesting ("(" * 5000,
"[" * 5000, "{" * 5000, thousands of "/" layers), empty input, and
file("/dev/zero").

Each input is written to a file and checked with `pkt check FILE`; inputs
that check cleanly and describe at most 200000 packets (a generous bound
from the spans of its ranges and the lengths of its lists: a large set is
slow to build without being a hang), and a quarter of the others, also run
`pkt build FILE --format hex -o /dev/null`. `pkt run` is never used
(it could send). Every run has a 10 s timeout, a 2 GiB address-space limit
(so an unbounded allocation fails instead of eating the machine) and no
core dumps; runs go two at a time.

A run FAILS when it dies from a signal, times out, exits with a code other
than 0, 1 or 2, or exits 1 with a stderr that does not start with
`FILE:LINE:COL: ` (every script error names its position). Each failing
input is saved under BUILD/no_crash_failures/ (BUILD is the directory of the
pkt binary, or --out DIR) as fail-N.pkt and its path is printed with the
reason. An error positioned in another file than the script (the stdlib) is
not a failure but is printed as a note (and saved as note-N.pkt).

Usage: no_crash.py [PKT] [--seed N] [--count N] [--out DIR] [--jobs N] [--slowest N]
PKT defaults to $PKT, then build/pkt. Prints "no_crash: N passed, M failed"
(counting inputs) and exits 0 when nothing failed.
"""
import argparse
import concurrent.futures
import glob
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TIMEOUT = 10
MEMORY_LIMIT = 2 << 30
MAX_BUILD_PACKETS = 200000
GIVE_UP_AFTER_TIMEOUTS = 5  # several hangs at 10 s each would blow the time budget


# ---------------------------------------------------------------- seeds

def load_seeds():
    seeds = []
    block = re.compile(r"^```pkt\n(.*?)^```", re.S | re.M)
    docs = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    for path in docs:
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for i, m in enumerate(block.finditer(text)):
            seeds.append((f"{os.path.relpath(path, ROOT)}#{i}", m.group(1).encode()))
    for pattern in ("scripts/course/*.pkt", "tests/scripts/*.pkt"):
        for path in sorted(glob.glob(os.path.join(ROOT, pattern))):
            with open(path, "rb") as f:
                seeds.append((os.path.relpath(path, ROOT), f.read()))
    return seeds


# ---------------------------------------------------------------- tokens

TOKEN = re.compile(
    rb'(?:hex|base64)?"(?:[^"\\\n]|\\.)*"?'            # strings and byte literals
    rb"|#[^\n]*"                                        # comments
    rb"|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+"                    # IPv6 / MAC
    rb"|\d+(?:\.\d+){3}"                                # IPv4
    rb"|0[xX][0-9A-Fa-f]+|0[bB][01]+|\d+(?:ms|us|ns|s)?"  # numbers, durations
    rb"|[A-Za-z_][A-Za-z0-9_]*"                         # names
    rb"|\.\.\.|\.\.|->|\S"                              # punctuation
)
NUMBER = re.compile(rb"(?<![\w.:])(?:0[xX][0-9A-Fa-f]+|0[bB][01]+|\d+)(?![\w.:])")
STRING = re.compile(rb'"(?:[^"\\\n]|\\.)*"')

PUNCT = list(b'()[]{}"=,/|.:*#\\\'-+<>;@$%^&!?~`')
HUGE_NUMBERS = [
    b"18446744073709551616", b"18446744073709551615", b"9223372036854775808", b"4294967296",
    b"4294967295", b"65536", b"256", b"9" * 400, b"0x" + b"f" * 40, b"0xffffffffffffffff",
    b"0x10000000000000000", b"0b" + b"1" * 100, b"0x", b"0b", b"0b2", b"0xg", b"00000000000000000001",
    b"-1", b"-0", b"1e9", b"1.5", b"1..18446744073709551615", b"0..4294967295", b"1..99999999999999999999",
    b"255.255.255.255", b"999.999.999.999", b"1.2.3.4.5", b"1.2.3", b"01.02.03.04", b"1.2.3.4..9.9.9.9",
    b"0.0.0.0..255.255.255.255", b"::ffff:1.2.3.4", b"1:2:3:4:5:6:7:8:9", b":::", b"ff:ff:ff:ff:ff:ff:ff",
    b"ff:ff:ff:ff:ff", b"99999999999ms", b"18446744073709551615s", b"0ns",
]
REPEATS = [b" * 0", b" * 1", b" * 67108864", b" * 67108865", b" * 18446744073709551615",
           b" * 99999999999999999999", b" * -1", b" * 0x7fffffff"]
TRUNCATE_KINDS = list(b'()[]{}"=,/|.:*#\\\n ') + ["digit", "letter"]
INVALID_UTF8 = [b"\xff", b"\xfe", b"\xc3", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf",
                b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\x80", b"\xbf\xbf", b"\xe2\x82"]
UNICODE_POINTS = [0xFEFF, 0x200B, 0x200E, 0x202E, 0x2028, 0x2029, 0x00A0, 0x3000, 0x0301, 0xFF10, 0xFF11,
                  0x0663, 0x00E9, 0x0131, 0x212A, 0x1F600, 0x10FFFF, 0xFFFD, 0xFFFE, 0x1D7CE, 0x0430, 0x037E,
                  0xFF08, 0xFF09, 0x201C, 0x201D, 0x2215]


class Mutator:
    def __init__(self, rng, seeds):
        self.rng = rng
        self.seeds = seeds
        self.pool = sorted({t for _, s in seeds for t in TOKEN.findall(s) if len(t) < 40})

    # helpers
    def pos(self, data):
        return self.rng.randint(0, len(data))

    def tokens(self, data):
        return [(m.start(), m.end()) for m in TOKEN.finditer(data)]

    def random_unicode(self):
        r = self.rng.random()
        if r < 0.5:
            cp = self.rng.choice(UNICODE_POINTS)
        else:
            cp = self.rng.randint(0x80, 0x10FFFF)
            if 0xD800 <= cp <= 0xDFFF:
                cp = 0xFFFD
        return chr(cp).encode("utf-8")

    # mutations
    def bit_flips(self, d):
        d = bytearray(d)
        for _ in range(self.rng.randint(1, 8)):
            if d:
                i = self.rng.randrange(len(d))
                d[i] ^= 1 << self.rng.randrange(8)
        return bytes(d)

    def byte_replace(self, d):
        d = bytearray(d)
        for _ in range(self.rng.randint(1, 4)):
            if d:
                i = self.rng.randrange(len(d))
                d[i] = self.rng.choice(PUNCT) if self.rng.random() < 0.7 else self.rng.randrange(256)
        return bytes(d)

    def truncate(self, d):
        kind = self.rng.choice(TRUNCATE_KINDS + ["string", "escape", "token", "any"])
        if kind == "any" or not d:
            return d[:self.pos(d)]
        if kind == "digit":
            cands = [i for i, c in enumerate(d) if 48 <= c <= 57]
        elif kind == "letter":
            cands = [i for i, c in enumerate(d) if c < 128 and chr(c).isalpha()]
        elif kind == "string":
            cands = [i for m in STRING.finditer(d) for i in range(m.start() + 1, m.end())]
        elif kind == "escape":
            cands = [i + 1 for i, c in enumerate(d) if c == 0x5C]
        elif kind == "token":
            cands = [i for s, e in self.tokens(d) for i in (s, e, (s + e) // 2)]
        else:
            cands = [i for i, c in enumerate(d) if c == kind]
        if not cands:
            return d[:self.pos(d)]
        i = self.rng.choice(cands)
        return d[:i + self.rng.choice((0, 1))]

    def token_edit(self, d):
        toks = self.tokens(d)
        if not toks:
            return d
        s, e = self.rng.choice(toks)
        op = self.rng.randrange(5)
        if op == 0:  # delete
            return d[:s] + d[e:]
        if op == 1:  # duplicate
            return d[:e] + b" " + d[s:e] + d[e:]
        if op == 2:  # duplicate many times
            return d[:e] + (b" " + d[s:e]) * self.rng.randint(2, 50) + d[e:]
        if op == 3:  # swap with another token
            s2, e2 = self.rng.choice(toks)
            if s2 < s:
                s, e, s2, e2 = s2, e2, s, e
            if e > s2:
                return d
            return d[:s] + d[s2:e2] + d[e:s2] + d[s:e] + d[e2:]
        # insert a token from any seed
        i = self.rng.choice([t[0] for t in toks] + [len(d)])
        return d[:i] + self.rng.choice(self.pool) + b" " + d[i:]

    def delete_tokens(self, d):
        toks = self.tokens(d)
        if len(toks) < 2:
            return d
        a = self.rng.randrange(len(toks))
        b = min(len(toks) - 1, a + self.rng.randint(1, 6))
        return d[:toks[a][0]] + d[toks[b][1]:]

    def lines(self, d):
        ls = d.split(b"\n")
        op = self.rng.randrange(3)
        i = self.rng.randrange(len(ls))
        if op == 0:
            del ls[i]
        elif op == 1:
            ls.insert(i, ls[self.rng.randrange(len(ls))])
        else:
            self.rng.shuffle(ls)
        return b"\n".join(ls)

    def splice(self, d):
        _, other = self.rng.choice(self.seeds)
        return d[:self.pos(d)] + other[self.pos(other):]

    def huge_number(self, d):
        nums = list(NUMBER.finditer(d))
        repl = self.rng.choice(HUGE_NUMBERS)
        if nums and self.rng.random() < 0.8:
            m = self.rng.choice(nums)
            return d[:m.start()] + repl + d[m.end():]
        strs = list(STRING.finditer(d))
        if strs:  # a huge repeat count after a string
            m = self.rng.choice(strs)
            return d[:m.end()] + self.rng.choice(REPEATS) + d[m.end():]
        i = self.pos(d)
        return d[:i] + repl + d[i:]

    def long_thing(self, d):
        n = self.rng.choice((1000, 70000, 300000, 1 << 20))
        kind = self.rng.randrange(7)
        if kind == 0:
            strs = list(STRING.finditer(d))
            if strs:
                m = self.rng.choice(strs)
                return d[:m.start() + 1] + b"x" * n + d[m.start() + 1:]
            return d + b'\npacket long = ipv4() / "' + b"x" * n + b'"\n'
        if kind == 1:
            return d + b"\nlet " + b"n" * n + b" = 1\n"
        if kind == 2:
            return d + b'\npacket h = ipv4() / hex"' + b"ab" * (n // 2) + b'"\n'
        if kind == 3:
            return d + b"\n#" + b"c" * n + b"\n"
        if kind == 4:
            return d + b"\n" + b" " * n + b"packet w = ipv4()\n"
        if kind == 5:
            return d + b'\npacket b = ipv4() / base64"' + b"QUFB" * (n // 4) + b'"\n'
        return d + b"\n" * n + b"packet late = ipv4(ttl=300)\n"

    def invalid_utf8(self, d):
        for _ in range(self.rng.randint(1, 3)):
            strs = list(STRING.finditer(d))
            if strs and self.rng.random() < 0.5:
                m = self.rng.choice(strs)
                i = self.rng.randint(m.start() + 1, m.end() - 1)
            else:
                i = self.pos(d)
            d = d[:i] + self.rng.choice(INVALID_UTF8) + d[i:]
        return d

    def nul_bytes(self, d):
        for _ in range(self.rng.randint(1, 3)):
            i = self.pos(d)
            d = d[:i] + b"\0" * self.rng.randint(1, 3) + d[i:]
        return d

    def unicode(self, d):
        for _ in range(self.rng.randint(1, 4)):
            i = self.pos(d)
            d = d[:i] + self.random_unicode() + d[i:]
        if self.rng.random() < 0.1:
            d = "\ufeff".encode() + d
        return d

    def nesting(self, d):
        n = self.rng.choice((50, 199, 200, 201, 1000, 5000))
        i = self.pos(d)
        opener = self.rng.choice((b"(", b"[", b"{", b"ipv4()/", b"-", b"\\", b'"'))
        closer = {b"(": b")", b"[": b"]", b"{": b"}"}.get(opener, b"")
        if self.rng.random() < 0.5:
            return d[:i] + opener * n + d[i:]
        return d[:i] + opener * n + b"1" + closer * n + d[i:]

    MUTATIONS = ["bit_flips", "byte_replace", "truncate", "token_edit", "delete_tokens", "lines", "splice",
                 "huge_number", "long_thing", "invalid_utf8", "nul_bytes", "unicode", "nesting"]
    WEIGHTS = [10, 10, 12, 14, 6, 5, 4, 8, 2, 5, 4, 5, 3]

    def mutate(self, data):
        names = []
        for _ in range(self.rng.choice((1, 1, 1, 2, 2, 3))):
            name = self.rng.choices(self.MUTATIONS, self.WEIGHTS)[0]
            data = getattr(self, name)(data)
            names.append(name)
        return data, "+".join(names)


def special_cases():
    """Hand-written edge cases, run before the random ones."""
    deep = 5000
    cases = [
        ("empty", b""),
        ("only a newline", b"\n"),
        ("only a comment", b"# nothing"),
        ("only a NUL", b"\0"),
        ("BOM", b"\xef\xbb\xbfpacket p = ipv4()\n"),
        ("parens x5000", b"packet p = " + b"(" * deep),
        ("parens x5000 balanced", b"let x = " + b"(" * deep + b"1" + b")" * deep + b"\n"),
        ("brackets x5000", b"let x = " + b"[" * deep),
        ("brackets x5000 balanced", b"let x = " + b"[" * deep + b"1" + b"]" * deep + b"\n"),
        ("braces x5000", b"layer x \"doc\" " + b"{" * deep),
        ("auto rule parens x5000", b"layer x \"doc\" { a : u8 = auto " + b"(" * deep + b"1" + b")" * deep + b" }\n"),
        ("tcp options nested x5000", b"packet p = ipv4() / tcp(options=" + b"[" * deep + b"nop" + b"]" * deep + b")\n"),
        ("5000 ipv4 layers", b"packet p = " + b"ipv4() / " * deep + b"udp()\n"),
        ("5000 raw layers", b"packet p = eth() " + b'/ "a" ' * deep + b"\n"),
        ("20000 flags", b"packet p = ipv4() / tcp(flags=SYN" + b"|SYN" * 20000 + b")\n"),
        ("20000 rule terms", b"layer x \"d\" { a : u32 = auto 1" + b" + 1" * 20000 + b" }\npacket p = x()\n"),
        ("20000 list items", b"packet p = ipv4(ttl=[" + b"1, " * 20000 + b"1])\n"),
        ("20000 statements", b"let a = 1\n" * 20000),
        ("20000 packets", b"".join(b"packet p%d = ipv4(id=%d)\n" % (i, i) for i in range(20000))),
        ("unterminated string at EOF", b'packet p = ipv4() / "abc'),
        ("backslash at EOF", b'packet p = ipv4() / "abc\\'),
        ("\\x at EOF", b'packet p = ipv4() / "\\x'),
        ("hex at EOF", b'packet p = ipv4() / hex"a'),
        ("base64 at EOF", b'packet p = ipv4() / base64"SGV'),
        ("huge repeat", b'packet p = ipv4() / "A" * 18446744073709551615\n'),
        ("repeat just over the limit", b'packet p = eth() / "A" * 67108865\n'),
        ("huge u64 field", b"layer x \"d\" { a : u64 = 18446744073709551615 }\npacket p = x(a=18446744073709551616)\n"),
        ("u0 field", b"layer x \"d\" { a : u0 }\npacket p = x()\n"),
        ("u65 field", b"layer x \"d\" { a : u65 }\npacket p = x()\n"),
        ("u99999999999 field", b"layer x \"d\" { a : u99999999999 }\npacket p = x()\n"),
        ("huge align", b"layer x \"d\" { a : bytes align 18446744073709551615 }\npacket p = x(a=\"z\")\n"),
        ("align 0", b"layer x \"d\" { a : bytes align 0 }\npacket p = x(a=\"z\")\n"),
        ("division by zero in a rule", b"layer x \"d\" { a : u8 = auto 1 / 0 }\npacket p = x()\n"),
        ("division by zero via len", b"layer x \"d\" { a : u8 = auto len(payload) / len(payload) }\npacket p = x()\n"),
        ("self-referencing let", b"let a = a\n"),
        ("mutual lets", b"let a = b\nlet b = a\n"),
        ("whole address space", b"packet p = ipv4(src=0.0.0.0..255.255.255.255, dst=0.0.0.0..255.255.255.255)\n"),
        ("product overflow", b"packet p = ipv4(src=10.0.0.0..10.255.255.255, dst=10.0.0.0..10.255.255.255, "
                             b"id=0..65535, ttl=0..255) / tcp(sport=0..65535, dport=0..65535)\n"),
        ("empty list", b"packet p = ipv4(ttl=[])\n"),
        ("empty payload list", b"packet p = ipv4() / []\n"),
        ("recursive bind", b"bind ipv4.proto = 4 -> ipv4\npacket p = ipv4() / ipv4() / ipv4()\n"),
        ("layer with no fields", b"layer x \"d\" { }\npacket p = x() / x()\n"),
        ("option without fields", b"option tcp.options z \"d\" { }\npacket p = ipv4() / tcp(options=[z, z])\n"),
        ("file(/dev/zero)", b'packet p = ipv4() / file("/dev/zero")\n'),
        ("file of a directory", b'packet p = ipv4() / file("/")\n'),
        ("file('')", b'packet p = ipv4() / file("")\n'),
        ("send count huge", b"packet p = ipv4()\nsend p count 18446744073709551615 interval 0ns\n"),
        ("lua never closed", b"lua { " + b"{" * 100),
        ("lua with NUL", b"lua { print('a\0b') }\n"),
        ("mutually recursive auto rules", b"layer x \"d\" { a : u8 = auto b\n b : u8 = auto a }\npacket p = x()\n"),
        ("self-referencing auto rule", b"layer x \"d\" { a : u8 = auto a + 1 }\npacket p = x()\n"),
        ("u64 overflow in a rule", b"layer x \"d\" { a : u64 = auto 18446744073709551615 * 18446744073709551615 }\n"
                                   b"packet p = x()\n"),
        ("negative rule", b"layer x \"d\" { a : u16 = auto 0 - 1 }\npacket p = x()\n"),
        ("pseudo-header length overflow", b'packet p = ipv4() / tcp() / "A" * 70000\n'),
        ("empty auto primitives", b"layer x \"d\" { a : u8 = auto len()\n b : u16 = auto inet_checksum() }\n"),
    ]
    return cases


# ---------------------------------------------------------------- running

def limit_children():
    # Set on this process and inherited by every pkt it starts (a preexec_fn
    # would force a slow fork of this process for each run).
    # AddressSanitizer reserves terabytes of shadow address space and cannot
    # start under RLIMIT_AS (scripts/dev test-sanitize): it enforces the same
    # cap itself there (hard_rss_limit_mb).
    if "ASAN_OPTIONS" not in os.environ:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    else:
        os.environ["ASAN_OPTIONS"] += ":hard_rss_limit_mb=%d" % (MEMORY_LIMIT >> 20)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run(cmd, path, cwd):
    env = dict(os.environ, NO_COLOR="1")
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT,
                           env=env)
    except subprocess.TimeoutExpired:
        return None, b"", b"", time.monotonic() - t0
    return r.returncode, r.stdout, r.stderr, time.monotonic() - t0


def judge(rc, stderr, path):
    if rc is None:
        return f"timed out after {TIMEOUT} s"
    if rc < 0:
        return f"killed by signal {-rc}"
    if rc not in (0, 1, 2):
        return f"exit code {rc}"
    if rc == 1 and not POSITION.match(stderr):
        return "exit 1 without a FILE:LINE:COL: error prefix"
    return None


STRING_OR_COMMENT = re.compile(rb'"(?:[^"\\\n]|\\.)*"|#[^\n]*')
POSITION = re.compile(rb"[^\n]+:\d+:\d+: ")
RANGE = re.compile(rb"(0[xX][0-9A-Fa-f]+|0[bB][01]+|\d+(?:\.\d+){3}|\d+)\s*\.\.\s*"
                   rb"(0[xX][0-9A-Fa-f]+|0[bB][01]+|\d+(?:\.\d+){3}|\d+)")


def endpoint(text):
    if text.count(b".") == 3:
        return sum(int(p) << (8 * (3 - i)) for i, p in enumerate(text.split(b".")))
    return int(text, 0)


def packets_bound(data):
    """A generous upper bound of how many packets the script describes: the
    product of every range's span and every list's length anywhere in it
    (None when unknown). `pkt check` does not say, and a large set is slow to
    build without being a hang."""
    data = STRING_OR_COMMENT.sub(b" ", data)
    while True:  # lua { ... } blocks (`..` concatenates there)
        m = re.search(rb"\blua\s*\{", data)
        if not m:
            break
        depth, end = 0, len(data)
        for i in range(m.end() - 1, len(data)):
            depth += {0x7B: 1, 0x7D: -1}.get(data[i], 0)
            if depth == 0:
                end = i + 1
                break
        data = data[:m.start()] + b" " + data[end:]
    if re.search(rb"\.\.(?!\.)", data) and len(RANGE.findall(data)) != len(re.findall(rb"\.\.(?!\.)", data)):
        return None  # a range whose ends are names or garbage
    bound = 1
    for a, b in RANGE.findall(data):
        try:
            bound *= max(1, endpoint(b) - endpoint(a) + 1)
        except ValueError:
            return None
    depth, items = 0, 1
    for c in data:
        if c == 0x5B:  # [
            depth += 1
            if depth == 1:
                items = 1
        elif c == 0x2C and depth > 0:  # ,
            items += 1
        elif c == 0x5D and depth > 0:  # ]
            depth -= 1
            if depth == 0:
                bound *= items
    if depth > 0:
        bound *= items
    return bound


def check_one(pkt, workdir, idx, label, data, want_build):
    path = os.path.join(workdir, f"in{idx:05d}.pkt")
    with open(path, "wb") as f:
        f.write(data)
    problems = []
    rc, out, err, took = run([pkt, "check", path], path, workdir)
    why = judge(rc, err, path)
    if why:
        problems.append(("check", why, err))
    note = None
    if rc == 1 and POSITION.match(err) and not err.startswith(path.encode() + b":"):
        note = err.decode("utf-8", "replace").splitlines()[0][:200]
    if rc == 0:  # build what checks cleanly unless the set may be large (slow, not a hang)
        bound = packets_bound(data)
        build = bound is not None and bound <= MAX_BUILD_PACKETS
    else:  # and a sample of the rest
        build = want_build
    codes = [("check", rc)]
    if build and not problems:
        rc2, _, err2, took2 = run([pkt, "build", path, "--format", "hex", "-o", os.devnull], path, workdir)
        took += took2
        codes.append(("build", rc2))
        why2 = judge(rc2, err2, path)
        if why2:
            problems.append(("build", why2, err2))
    os.unlink(path)
    return idx, label, data, problems, took, codes, note


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pkt", nargs="?", default=os.environ.get("PKT", os.path.join(ROOT, "build", "pkt")))
    ap.add_argument("--seed", type=int, default=20240617)
    ap.add_argument("--count", type=int, default=3000, help="random inputs (besides the fixed edge cases)")
    ap.add_argument("--out", help="where failing inputs go (default: BUILD/no_crash_failures)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--slowest", type=int, default=0, help="list the N slowest inputs")
    args = ap.parse_args(argv[1:])
    pkt = os.path.abspath(args.pkt)
    if not os.access(pkt, os.X_OK):
        print(f"no_crash: {pkt} is not an executable", file=sys.stderr)
        return 2
    out_dir = args.out or os.path.join(os.path.dirname(pkt), "no_crash_failures")

    seeds = load_seeds()
    if not seeds:
        print("no_crash: no seed scripts found", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    mut = Mutator(rng, seeds)
    inputs = [(f"edge case: {name}", data, True) for name, data in special_cases()]
    inputs += [(f"seed {name} unchanged", data, True) for name, data in seeds]
    for _ in range(args.count):
        name, data = rng.choice(seeds)
        mutated, how = mut.mutate(data)
        inputs.append((f"seed {name} after {how}", mutated, rng.random() < 0.25))

    limit_children()
    t0 = time.monotonic()
    failures = []
    timeouts = 0
    times = []
    stats = {}
    notes = []
    passed = 0
    gave_up = False
    with tempfile.TemporaryDirectory(prefix="pkt-no-crash-") as workdir:
        with open(os.path.join(workdir, "payload.bin"), "wb") as f:  # for file("payload.bin")
            f.write(b"\x00\x01payload")
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(check_one, pkt, workdir, i, label, data, build)
                       for i, (label, data, build) in enumerate(inputs)]
            for fut in futures:
                if gave_up:
                    fut.cancel()
                    continue
                idx, label, data, problems, took, codes, note = fut.result()
                times.append((took, idx, label))
                for key in codes:
                    stats[key] = stats.get(key, 0) + 1
                if note:
                    notes.append((idx, label, data, note))
                if not problems:
                    passed += 1
                    continue
                failures.append((idx, label, data, problems))
                timeouts += sum(1 for p in problems if p[1].startswith("timed out"))
                if timeouts >= GIVE_UP_AFTER_TIMEOUTS:
                    gave_up = True
                    for f2 in futures:
                        f2.cancel()

    if os.path.isdir(out_dir):  # only the files an earlier run of this test left
        for old in glob.glob(os.path.join(out_dir, "fail-*.pkt")) + glob.glob(os.path.join(out_dir, "note-*.pkt")):
            os.unlink(old)
    if failures or notes:
        os.makedirs(out_dir, exist_ok=True)
    for idx, label, data, problems in failures:
        saved = os.path.join(out_dir, f"fail-{idx:05d}.pkt")
        with open(saved, "wb") as f:
            f.write(data)
        for cmd, why, err in problems:
            first = err.decode("utf-8", "replace").strip().splitlines()[:1]
            print(f"FAIL pkt {cmd} {saved}: {why} ({label}; {len(data)} bytes)"
                  + (f"\n    stderr: {first[0][:200]}" if first else ""))
    # Not failures: a script error positioned in another file (the stdlib).
    for idx, label, data, note in notes:
        saved = os.path.join(out_dir, f"note-{idx:05d}.pkt")
        with open(saved, "wb") as f:
            f.write(data)
        print(f"note: pkt check {saved}: the error is not positioned in the script ({label})\n    stderr: {note}")
    order = sorted(stats.items(), key=lambda kv: (kv[0][0] != "check", -1 if kv[0][1] is None else kv[0][1]))
    print("no_crash: runs: " + ", ".join(f"{cmd} exit {rc}: {n}" for (cmd, rc), n in order))
    if gave_up:
        print(f"no_crash: gave up after {timeouts} timeouts; the remaining inputs were not run")
    for took, idx, label in sorted(times, reverse=True)[:args.slowest]:
        print(f"slow: {took:6.2f} s  input {idx}: {label}")
    elapsed = time.monotonic() - t0
    print(f"no_crash: {len(inputs)} inputs from {len(seeds)} seeds (seed {args.seed}), {elapsed:.1f} s")
    print(f"no_crash: {passed} passed, {len(failures)} failed")
    return 1 if failures or gave_up else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
