#!/usr/bin/python3
"""Run the script tests in this directory: every *.pkt is run with
`pkt run FILE` and its stdout compared with the file's expectations.

Each test file holds, anywhere in it (normally at the end, in order):
  # expect: TEXT    one line of the expected stdout, TEXT verbatim (everything
                    after "# expect: ", tabs and spaces included)
  # expect:         (nothing after the colon) an empty line
  # args: ARGS      extra arguments for `pkt run`, split like a shell would
                    (e.g. `# args: -D dst=10.0.0.1`); may appear once
The expected stdout is the expect lines joined with newlines, plus a final
newline. The test passes when pkt exits 0 and prints exactly that on stdout
(stderr is shown on failure but not compared). pkt runs with the test's
directory as its working directory and NO_COLOR=1.

Usage: run_script_tests.py [PKT] [TEST.pkt...]
PKT defaults to $PKT, then build/pkt; with no tests, all *.pkt here.
"""
import difflib
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import pkt_and_tests  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECT = "# expect:"
ARGS = "# args:"


def parse(path):
    expect, args = [], []
    with open(path, encoding="utf-8") as f:
        for raw in f.read().split("\n"):
            if raw.startswith(EXPECT):
                rest = raw[len(EXPECT):]
                expect.append(rest[1:] if rest.startswith(" ") else rest)
            elif raw.startswith(ARGS):
                args = shlex.split(raw[len(ARGS):])
    return expect, args


def main(argv):
    pkt, tests = pkt_and_tests(argv, HERE)
    env = dict(os.environ, NO_COLOR="1")
    passed = failed = 0
    for t in tests:
        name = os.path.basename(t)
        expect, args = parse(t)
        if not expect:
            print("FAIL %s: no '# expect:' lines" % name)
            failed += 1
            continue
        want = "\n".join(expect) + "\n"
        res = subprocess.run([pkt, "run", t] + args, capture_output=True, cwd=os.path.dirname(t), env=env)
        got = res.stdout.decode("utf-8", errors="replace")
        if res.returncode == 0 and got == want:
            passed += 1
            print("ok   %s" % name)
            continue
        failed += 1
        print("FAIL %s: exit %d" % (name, res.returncode))
        diff = difflib.unified_diff(want.splitlines(True), got.splitlines(True), "expected", "pkt run")
        sys.stdout.writelines("  " + line.replace("\t", "\\t") if line.endswith("\n") else "  " + line + "\n"
                              for line in diff)
        err = res.stderr.decode("utf-8", errors="replace")
        if err:
            print("  stderr:\n    " + err.rstrip("\n").replace("\n", "\n    "))
    print("script tests: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
