#!/usr/bin/env python3
"""editors/pkt.tmLanguage.json: valid JSON, every regex compiles in Oniguruma
(the engine of VS Code, Sublime and GitHub's highlighters, here libonig
through ctypes), and a small TextMate tokenizer run with those regexes:

- every non-blank character of stdlib/*.pkt, scripts/examples/*.pkt and
  scripts/course/*.pkt gets a scope of the grammar (no unknown region, no
  invalid.* scope), and every lua { } block ends where the parser ends it;
- each rule gives the scope it should on a sample (keywords, layer calls,
  field names, numbers, addresses, strings and their encodings, durations,
  rates, Lua).

The tokenizer follows vscode-textmate: per line, the earliest match wins,
the end pattern before the rule's patterns at the same position, then the
patterns in order; begin/end rules nest with \\N back-references from begin
into end. An external grammar (source.lua) contributes no patterns here: its
text is then covered by the block's contentName.

usage: check_tmlanguage.py SOURCE_DIR
"""
import ctypes
import ctypes.util
import glob
import json
import os
import re
import sys

SKIP = 77


class Onig:
    CAPTURE_GROUP = 256  # ONIG_OPTION_CAPTURE_GROUP, as vscode-oniguruma

    def __init__(self):
        name = ctypes.util.find_library("onig") or "libonig.so.5"
        self.lib = ctypes.CDLL(name)
        lib = self.lib
        self.utf8 = ctypes.addressof(ctypes.c_byte.in_dll(lib, "OnigEncodingUTF8"))
        self.ruby = ctypes.addressof(ctypes.c_byte.in_dll(lib, "OnigSyntaxRuby"))
        encs = (ctypes.c_void_p * 1)(self.utf8)
        lib.onig_initialize(encs, 1)
        lib.onig_new.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint,
                                 ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.onig_search.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                    ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint]
        lib.onig_search.restype = ctypes.c_int
        lib.onig_region_new.restype = ctypes.c_void_p
        lib.onig_error_code_to_str.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
        self.region = lib.onig_region_new()
        self.cache = {}

    class Region(ctypes.Structure):
        _fields_ = [("allocated", ctypes.c_int), ("num_regs", ctypes.c_int),
                    ("beg", ctypes.POINTER(ctypes.c_int)), ("end", ctypes.POINTER(ctypes.c_int))]

    def compile(self, pattern):
        if pattern in self.cache:
            return self.cache[pattern]
        p = pattern.encode()
        reg = ctypes.c_void_p()
        einfo = ctypes.create_string_buffer(64)
        buf = ctypes.create_string_buffer(p)
        rc = self.lib.onig_new(ctypes.byref(reg), buf, ctypes.cast(ctypes.addressof(buf) + len(p), ctypes.c_char_p),
                               self.CAPTURE_GROUP, self.utf8, self.ruby, einfo)
        if rc != 0:
            msg = ctypes.create_string_buffer(256)
            self.lib.onig_error_code_to_str(msg, rc, einfo)
            raise ValueError(f"Oniguruma rejects {pattern!r}: {msg.value.decode()}")
        self.cache[pattern] = reg
        return reg

    def search(self, pattern, data, start):
        """First match of pattern in bytes data at or after start: [(beg, end) per group] or None."""
        reg = self.compile(pattern)
        base = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
        r = self.lib.onig_search(reg, base, base + len(data), base + start, base + len(data), self.region, 0)
        if r < 0:
            return None
        region = ctypes.cast(self.region, ctypes.POINTER(self.Region)).contents
        return [(region.beg[i], region.end[i]) for i in range(region.num_regs)]


class Tokenizer:
    def __init__(self, grammar, onig):
        self.g = grammar
        self.onig = onig
        self.externals = set()

    def resolve(self, patterns, seen=None):
        """The rules of a pattern list, includes expanded, in order."""
        out = []
        for p in patterns:
            inc = p.get("include")
            if inc is None:
                out.append(p)
            elif inc == "$self" or inc == "$base":
                out += self.resolve(self.g["patterns"])
            elif inc.startswith("#"):
                item = self.g["repository"][inc[1:]]
                out += [item] if self._is_rule(item) else self.resolve(item.get("patterns", []))
            else:
                self.externals.add(inc)
        return out

    @staticmethod
    def _is_rule(r):
        return "match" in r or "begin" in r

    def tokenize(self, text):
        """Yields (line_no, byte_offset_start, byte_offset_end, scopes) and returns the final stack depth."""
        stack = []  # (rule, end_pattern, scopes of the content)
        tokens = []
        root = self.resolve(self.g["patterns"])
        for lineno, line in enumerate(text.split("\n"), 1):
            data = (line + "\n").encode()
            pos = 0
            while pos < len(data):
                rule = stack[-1][0] if stack else None
                rules = self.resolve(rule.get("patterns", [])) if rule else root
                base = stack[-1][2] if stack else ["source.pkt"]
                best = None  # (start, order, kind, rule, groups)
                if rule is not None:
                    m = self.onig.search(stack[-1][1], data, pos)
                    if m:
                        best = (m[0][0], -1, "end", rule, m)
                for i, r in enumerate(rules):
                    m = self.onig.search(r.get("match") or r["begin"], data, pos)
                    if m and (best is None or m[0][0] < best[0]):
                        best = (m[0][0], i, "match" if "match" in r else "begin", r, m)
                if best is None:
                    tokens.append((lineno, pos, len(data), base))
                    break
                start, _, kind, r, m = best
                if start > pos:
                    tokens.append((lineno, pos, start, base))
                end = m[0][1]
                if kind == "end":
                    outer = base[:-1] if r.get("contentName") else base
                    self._captures(tokens, lineno, m, outer, r.get("endCaptures", r.get("captures", {})))
                    stack.pop()
                elif kind == "match":
                    scopes = base + ([r["name"]] if "name" in r else [])
                    self._captures(tokens, lineno, m, scopes, r.get("captures", {}))
                else:
                    scopes = base + ([r["name"]] if "name" in r else [])
                    self._captures(tokens, lineno, m, scopes, r.get("beginCaptures", r.get("captures", {})))
                    endpat = re.sub(r"\\(\d+)", lambda g: re.escape(data[m[int(g.group(1))][0]:m[int(g.group(1))][1]].decode())
                                    if int(g.group(1)) < len(m) and m[int(g.group(1))][0] >= 0 else "", r["end"])
                    inner = scopes + ([r["contentName"]] if "contentName" in r else [])
                    stack.append((r, endpat, inner))
                if end == pos and kind != "begin":
                    # An empty match that changes nothing: take one character as it is.
                    tokens.append((lineno, pos, pos + 1, base))
                    end = pos + 1
                pos = end
        return tokens, stack

    @staticmethod
    def _captures(tokens, lineno, m, scopes, captures):
        s, e = m[0]
        if not captures:
            tokens.append((lineno, s, e, scopes))
            return
        # Each byte gets the scopes of the innermost capture that covers it.
        per = [list(scopes) for _ in range(e - s)]
        for k in sorted(captures, key=int):
            k_i = int(k)
            if k_i >= len(m) or m[k_i][0] < 0 or "name" not in captures[k]:
                continue
            for b in range(m[k_i][0], m[k_i][1]):
                per[b - s] = per[b - s] + [captures[k]["name"]]
        for b in range(s, e):
            tokens.append((lineno, b, b + 1, per[b - s]))


def main():
    src = sys.argv[1]
    path = os.path.join(src, "editors", "pkt.tmLanguage.json")
    with open(path) as f:
        grammar = json.load(f)  # valid JSON, or this raises
    assert grammar["scopeName"] == "source.pkt", grammar.get("scopeName")
    try:
        onig = Onig()
    except OSError as e:
        print(f"skipped: no Oniguruma library (libonig5): {e}")
        return SKIP
    failures = []

    # Every regex compiles in Oniguruma.
    def walk(node):
        if isinstance(node, dict):
            for key in ("match", "begin", "end", "while"):
                # An end with \N refers to the begin's groups: compiled once they are substituted.
                if key in node and not (key == "end" and re.search(r"\\\d", node[key])):
                    try:
                        onig.compile(node[key])
                    except ValueError as e:
                        failures.append(str(e))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(grammar)
    tok = Tokenizer(grammar, onig)

    # Every file: no unknown region, nothing invalid, no block left open.
    files = sorted(glob.glob(os.path.join(src, "stdlib", "*.pkt")) + glob.glob(os.path.join(src, "scripts", "examples", "*.pkt"))
                   + glob.glob(os.path.join(src, "scripts", "course", "*.pkt")))
    assert len(files) >= 20, files
    chars = 0
    for fn in files:
        with open(fn) as f:
            text = f.read()
        tokens, stack = tok.tokenize(text)
        lines = text.split("\n")
        rel = os.path.relpath(fn, src)
        for lineno, s, e, scopes in tokens:
            piece = (lines[lineno - 1] + "\n").encode()[s:e].decode(errors="replace")
            chars += len(piece.strip())
            if piece.strip() and len(scopes) == 1:
                failures.append(f"{rel}:{lineno}:{s + 1}: no scope for {piece.strip()!r}")
            bad = [x for x in scopes if x.startswith("invalid")]
            if bad and piece.strip():
                failures.append(f"{rel}:{lineno}:{s + 1}: {bad[0]} for {piece.strip()!r}")
        if stack:
            failures.append(f"{rel}: ends inside {[r.get('name', r.get('begin')) for r, _, _ in stack]}")
    print(f"{len(files)} files, {chars} characters tokenized")

    # Each rule on a sample: (text, substring, scope the substring must have).
    samples = [
        ("# a comment", "a comment", "comment.line.number-sign.pkt"),
        ("packet syn = ipv4(dst=127.0.0.1) / tcp(dport=1..1024, flags=SYN)", "packet", "keyword.control.statement.pkt"),
        ("packet syn = ipv4(dst=127.0.0.1) / tcp(dport=1..1024, flags=SYN)", "syn", "variable.other.definition.pkt"),
        ("packet syn = ipv4(dst=127.0.0.1) / tcp(dport=1..1024, flags=SYN)", "ipv4", "entity.name.function.pkt"),
        ("packet syn = ipv4(dst=127.0.0.1) / tcp(dport=1..1024, flags=SYN)", "127.0.0.1", "constant.numeric.address.ipv4.pkt"),
        ("packet syn = ipv4(dst=127.0.0.1) / tcp(dport=1..1024, flags=SYN)", "dport", "variable.parameter.pkt"),
        ("packet syn = ipv4(dst=127.0.0.1) / tcp(dport=1..1024, flags=SYN)", "..", "keyword.operator.range.pkt"),
        ("packet syn = ipv4(dst=127.0.0.1) / tcp(dport=1..1024, flags=SYN)", "1024", "constant.numeric.decimal.pkt"),
        ("packet syn = ipv4(dst=127.0.0.1) / tcp(dport=1..1024, flags=SYN)", "flags", "variable.parameter.pkt"),
        ("packet syn = ipv4(dst=127.0.0.1) / tcp(dport=1..1024, flags=SYN)", "SYN", "constant.other.pkt"),
        ("packet e = eth(src=00:11:22:33:44:55) / ipv6(dst=fe80::1, src=::ffff:192.0.2.1)", "00:11:22:33:44:55",
         "constant.numeric.address.mac.pkt"),
        ("packet e = eth(src=00:11:22:33:44:55) / ipv6(dst=fe80::1, src=::ffff:192.0.2.1)", "fe80::1",
         "constant.numeric.address.ipv6.pkt"),
        ("packet e = eth(src=00:11:22:33:44:55) / ipv6(dst=fe80::1, src=::ffff:192.0.2.1)", "::ffff:192.0.2.1",
         "constant.numeric.address.ipv6.pkt"),
        ("let x = 0x7070", "0x7070", "constant.numeric.hex.pkt"),
        ("let x = 0b1010", "0b1010", "constant.numeric.binary.pkt"),
        ('let h = hex"de ad be ef"', "hex", "storage.type.string.hex.pkt"),
        ('let h = hex"de ad be ef"', "be", "string.quoted.double.hex.pkt"),
        ('let b = base64"SGVsbG8="', "base64", "storage.type.string.base64.pkt"),
        ('let b = base64"SGVsbG8="', "SGVsbG8=", "string.quoted.double.base64.pkt"),
        ('let f = file("x.bin")', "file", "storage.type.string.file.pkt"),
        ('let f = file("x.bin")', "x.bin", "string.quoted.double.pkt"),
        ('let s = "a\\n{b}"', "\\n", "constant.character.escape.pkt"),
        ('summary "{src} > {dst}"', "{src}", "constant.other.placeholder.pkt"),
        ("send p count 3 interval 10us rate 100kpps on lo", "send", "keyword.control.statement.pkt"),
        ("send p count 3 interval 10us rate 100kpps on lo", "count", "keyword.other.pkt"),
        ("send p count 3 interval 10us rate 100kpps on lo", "10us", "constant.numeric.duration.pkt"),
        ("send p count 3 interval 10us rate 100kpps on lo", "100kpps", "constant.numeric.rate.pkt"),
        ("send p rate 1Gbit", "1Gbit", "constant.numeric.rate.pkt"),
        ("send p rate 1.5Mbit", "1.5Mbit", "constant.numeric.rate.pkt"),
        ("sr p timeout 1s retry 2", "1s", "constant.numeric.duration.pkt"),
        ("layer hello \"A toy\" {\n    count : u16 = auto len(this)\n}", "hello", "entity.name.type.layer.pkt"),
        ("layer hello \"A toy\" {\n    count : u16 = auto len(this)\n}", "count", "variable.other.field.pkt"),
        ("layer hello \"A toy\" {\n    count : u16 = auto len(this)\n}", "u16", "storage.type.pkt"),
        ("layer hello \"A toy\" {\n    count : u16 = auto len(this)\n}", "auto", "keyword.other.pkt"),
        ("layer hello \"A toy\" {\n    count : u16 = auto len(this)\n}", "this", "variable.language.pkt"),
        ("layer t {\n    kind : u8 enum { ping = 1, pong = 2 } = 1\n}", "pong", "constant.other.enum.pkt"),
        ("bind udp.dport = 9999 -> hello", "->", "keyword.operator.arrow.pkt"),
        ("bind udp.dport = 9999 -> hello", "dport", "variable.other.member.pkt"),
        ("lua {\n  local t = { a = 1 }\n  print(\"}\")\n}\nshow p", "local", "source.lua"),
        ("lua {\n  local t = { a = 1 }\n  print(\"}\")\n}\nshow p", '"}"', "string.quoted.double.lua"),
        ("lua {\n  local t = { a = 1 }\n  print(\"}\")\n}\nshow p", "show", "keyword.control.statement.pkt"),
        ("lua {\n  -- a } in a comment\n  x = [[ } ]]\n}\nshow p", "show", "keyword.control.statement.pkt"),
        ("lua {\n  -- a } in a comment\n  x = [[ } ]]\n}\nshow p", "a } in", "comment.line.double-dash.lua"),
    ]
    for text, sub, scope in samples:
        tokens, stack = tok.tokenize(text)
        at = text.index(sub)
        line = text.count("\n", 0, at) + 1
        col = len(text[:at].rsplit("\n", 1)[-1].encode())
        width = len(sub.encode())
        got = [t for t in tokens if t[0] == line and t[1] < col + width and t[2] > col]
        if not got or not all(scope in t[3] for t in got):
            failures.append(f"{text!r}: {sub!r} should be {scope}, got {[t[3][1:] for t in got]}")
        if stack:
            failures.append(f"{text!r}: ends inside a block")
    print(f"{len(samples)} scope samples")
    if tok.externals != {"source.lua"}:
        failures.append(f"external grammars: {sorted(tok.externals)} (expected source.lua only)")

    for f in failures:
        print("FAIL:", f)
    print(f"{'FAILED' if failures else 'ok'}: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
