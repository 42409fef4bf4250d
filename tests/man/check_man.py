#!/usr/bin/env python3
"""The man page pkt(1) stays current with the binary, and renders cleanly.

- Every command that `pkt --help` lists (and every nested command its own
  --help lists) has a section `.SS "pkt COMMAND"` in man/pkt.1 (a nested
  command may share its parent's section, which must then name it), and no
  section names a command that does not exist.
- Every option that a command's --help lists appears in its section (the
  top-level ones in OPTIONS), and every value of a choice option
  (`--format TEXT:{show,hex,...}`) appears in that option's entry.
- Every environment variable that interpreter/ reads (getenv("NAME")) is
  in ENVIRONMENT; every exit code of docs/security.md's table is in EXIT
  STATUS; the .TH line carries the version `pkt --version` prints.
- `groff -ww -z -man` prints no warning, and neither does `man -l` (when
  man-db is installed).

usage: check_man.py PKT MANPAGE SOURCE_DIR
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

pkt, manpage, src = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
errors = []


def fail(msg):
    errors.append(msg)
    print(f"FAIL: {msg}")


def run_help(path):
    r = subprocess.run([pkt, *path, "--help"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        sys.exit(f"`pkt {' '.join(path)} --help` exited {r.returncode}: {r.stderr}")
    return r.stdout


def parse_help(text):
    """(options, subcommands) of one CLI11 help text: options as
    [(names, choices, line)], subcommands as names."""
    options, subs, section = [], [], None
    for line in text.splitlines():
        if re.match(r"^\S.*:$", line):
            section = line[:-1].strip().lower()
            continue
        if not line.startswith("  ") or not line.strip():
            continue
        body = line.strip()
        if section == "options" and body.startswith("-"):
            spec = body.split()[0]
            names = [n for n in spec.split(",") if n.startswith("-")]
            m = re.search(r":\{([^}]*)\}", body)
            choices = [c.strip() for c in m.group(1).split(",")] if m else []
            options.append((names, choices, body))
        elif section == "subcommands" and re.match(r"^\s{2}\S", line):
            subs.append(body.split()[0])
    return options, subs


def commands(path=()):
    """Every command path, depth first, with its options."""
    options, subs = parse_help(run_help(list(path)))
    yield path, options
    for s in subs:
        yield from commands(path + (s,))


# The page as plain text: escapes for dashes, fonts and zero-width breaks removed.
raw = manpage.read_text()
plain = raw.replace("\\-", "-").replace("\\&", "").replace("\\c", "").replace("\\e", "\\")
plain = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", plain)
plain = re.sub(r"\\\((aq|lq|rq|ti|em|en)", lambda m: {"aq": "'", "lq": '"', "rq": '"', "ti": "~"}.get(m.group(1), "-"), plain)
lines = plain.splitlines()


def split_sections(macro):
    """{title: text} for each `.SH`/`.SS` title (quotes removed)."""
    out, title, buf = {}, None, []
    for line in lines:
        m = re.match(r"^\.(SH|SS)\s+\"?(.*?)\"?\s*$", line)
        if m:
            if title is not None:
                out.setdefault(title, "\n".join(buf))
            title, buf = (m.group(2) if m.group(1) == macro else None), []
            continue
        buf.append(line)
    if title is not None:
        out.setdefault(title, "\n".join(buf))
    return out


sh = split_sections("SH")
ss = split_sections("SS")
for needed in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "ENVIRONMENT", "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
    if needed not in sh:
        fail(f"{manpage.name} has no section .SH {needed}")


def has_word(text, word):
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text) is not None


def tp_entries(text):
    """The .TP entries of a section: [(tag line, body)]."""
    out, parts = [], re.split(r"^\.TP[^\n]*\n", text, flags=re.M)
    for p in parts[1:]:
        tag, _, body = p.partition("\n")
        body = re.split(r"^\.(SS|SH|PP|P|LP)\b", body, flags=re.M)[0]
        out.append((tag, body))
    return out


documented = set()
checked_options = 0
for path, options in commands():
    if not path:
        section_name, text = "OPTIONS", sh.get("OPTIONS", "")
    else:
        # The command's own section, or the nearest parent's (which must name it).
        text = None
        for k in range(len(path), 0, -1):
            title = "pkt " + " ".join(path[:k])
            if title in ss:
                section_name, text = f'.SS "{title}"', ss[title]
                documented.add(title)
                break
        cmd = "pkt " + " ".join(path)
        if text is None:
            fail(f'no section for `{cmd}`: add .SS "{cmd}" under COMMANDS in {manpage.name}')
            continue
        if not all(has_word(text, w) for w in path):
            fail(f"section {section_name} does not name `{cmd}` (from `pkt {' '.join(path[:-1])} --help`)")
    where = f"`pkt {' '.join(path)} --help`".replace("pkt  ", "pkt ")
    for names, choices, line in options:
        if path and set(names) <= {"-h", "--help"}:
            continue  # every command has it; OPTIONS says so
        for n in names:
            checked_options += 1
            if not has_word(text, n):
                fail(f"option {n} of {where} is missing from {section_name} of {manpage.name} (help: {line!r})")
        if choices:
            entry = next((body for tag, body in tp_entries(text) if any(has_word(tag, n) for n in names)), None)
            if entry is None:
                fail(f"option {names[-1]} of {where} has no .TP entry in {section_name}, for its values {choices}")
                continue
            for c in choices:
                if not has_word(entry, c):
                    fail(f"value '{c}' of {names[-1]} ({where}) is missing from its entry in {section_name} of {manpage.name}")
for title in ss:
    if title.startswith("pkt ") and title not in documented:
        fail(f'section .SS "{title}" names no command that `pkt --help` lists')

# Environment variables the program reads.
env_text = sh.get("ENVIRONMENT", "")
env_tags = " ".join(tag for tag, _ in tp_entries(env_text))
env_vars = {"PKT_SCOPE", "PKT_STDLIB", "NO_COLOR"}
for f in (src / "interpreter").rglob("*.[ch]pp"):
    env_vars.update(re.findall(r'getenv\(\s*"([A-Z0-9_]+)"', f.read_text(errors="replace")))
for v in sorted(env_vars):
    if not has_word(env_tags, v):
        fail(f"environment variable {v} (read in interpreter/) is missing from ENVIRONMENT of {manpage.name}")

# Exit codes: the table under "### Exit codes" in docs/security.md.
security = (src / "docs" / "security.md").read_text()
m = re.search(r"^### Exit codes\n(.*?)(?=^#)", security, re.S | re.M)
codes = re.findall(r"^\|\s*(\d+)\s*\|", m.group(1), re.M) if m else []
if not codes:
    fail("docs/security.md has no exit code table under '### Exit codes'")
exit_tags = " ".join(tag for tag, _ in tp_entries(sh.get("EXIT STATUS", "")))
for c in codes:
    if not has_word(exit_tags, c):
        fail(f"exit code {c} (docs/security.md) is missing from EXIT STATUS of {manpage.name}")

# The version.
version = subprocess.run([pkt, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
th = next((l for l in raw.splitlines() if l.startswith(".TH ")), "")
if f'"{version}"' not in th:
    fail(f"the .TH line ({th!r}) does not carry \"{version}\" (pkt --version)")

# Rendering: no warning from groff, nor from man -l.
r = subprocess.run(["groff", "-ww", "-z", "-man", str(manpage)], capture_output=True, text=True, timeout=60)
if r.returncode != 0 or r.stderr.strip():
    fail(f"groff -ww -z -man {manpage.name} warns (exit {r.returncode}):\n{r.stderr}")
if shutil.which("man"):
    r = subprocess.run(["man", "--warnings", "-l", str(manpage)], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8"))
    if r.returncode != 0 or r.stderr.strip() or "pkt build" not in r.stdout:
        fail(f"man --warnings -l {manpage.name} (exit {r.returncode}):\n{r.stderr}")
else:
    print("note: no man (man-db) here; groff alone checked the rendering")

print(f"man page: {checked_options} option names, {len(env_vars)} environment variables, {len(codes)} exit codes checked")
sys.exit(1 if errors else 0)
