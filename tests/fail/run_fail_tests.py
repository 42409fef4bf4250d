#!/usr/bin/python3
"""Run the failure tests in this directory: every NAME.pkt must make pkt fail
with exactly the stderr held in NAME.err and the expected exit code.

Command: `pkt run /abs/path/NAME.pkt [ARGS]`, cwd = this directory,
NO_COLOR=1. Directives in the first lines of NAME.pkt (comment lines at the
top, any order):
  # exit: N       the expected exit code (default 1: a script error;
                  2 is a usage error)
  # args: ARGS    extra arguments for `pkt run`, split like a shell would
  # cmd: build    run `pkt build FILE --format hex` instead of `pkt run FILE`
  # argv: ARGS    the whole command line after `pkt` instead (for the CLI's
                  own errors); {file} is NAME.pkt's path, {here} this directory
  # stdout: PATH  standard output goes to PATH (e.g. /dev/full)

Normalisation: before comparing, every occurrence of the script's absolute
path in stderr is replaced by its basename (NAME.pkt), then every occurrence
of this directory's absolute path (with a trailing '/') is removed. So an
.err file says `NAME.pkt:3:14: error: ...`. Nothing else is normalised: the
.err text (including the final newline) must match byte for byte.

Usage: run_fail_tests.py [PKT] [TEST.pkt...]
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


def directives(path):
    out = {"exit": 1, "args": [], "cmd": "run", "argv": None, "stdout": None}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            body = line[1:].strip()
            if body.startswith("exit:"):
                out["exit"] = int(body[5:].strip())
            elif body.startswith("args:"):
                out["args"] = shlex.split(body[5:])
            elif body.startswith("cmd:"):
                out["cmd"] = body[4:].strip()
            elif body.startswith("argv:"):
                out["argv"] = shlex.split(body[5:])
            elif body.startswith("stdout:"):
                out["stdout"] = body[7:].strip()
    return out


def main(argv):
    pkt, tests = pkt_and_tests(argv, HERE)
    env = dict(os.environ, NO_COLOR="1")
    passed = failed = 0
    for t in tests:
        name = os.path.basename(t)
        errfile = t[:-4] + ".err"
        if not os.path.exists(errfile):
            print("FAIL %s: no %s" % (name, os.path.basename(errfile)))
            failed += 1
            continue
        with open(errfile, encoding="utf-8") as f:
            want = f.read()
        d = directives(t)
        if d["argv"] is not None:
            cmd = [pkt] + [a.replace("{file}", t).replace("{here}", os.path.dirname(t)) for a in d["argv"]]
        elif d["cmd"] == "build":
            cmd = [pkt, "build", t, "--format", "hex"] + d["args"]
        else:
            cmd = [pkt, "run", t] + d["args"]
        if d["stdout"]:
            with open(d["stdout"], "wb") as out:
                res = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, cwd=os.path.dirname(t), env=env)
        else:
            res = subprocess.run(cmd, capture_output=True, cwd=os.path.dirname(t), env=env)
        got = res.stderr.decode("utf-8", errors="replace")
        got = got.replace(t, name).replace(os.path.dirname(t) + "/", "")
        problems = []
        if res.returncode != d["exit"]:
            problems.append("exit %d, expected %d" % (res.returncode, d["exit"]))
        if got != want:
            problems.append("stderr differs")
        if not problems:
            passed += 1
            print("ok   %s" % name)
            continue
        failed += 1
        print("FAIL %s: %s" % (name, "; ".join(problems)))
        if got != want:
            diff = difflib.unified_diff(want.splitlines(True), got.splitlines(True), name[:-4] + ".err", "stderr")
            for line in diff:
                print("  " + line.rstrip("\n") + ("" if line.endswith("\n") else "   (no newline at end)"))
    print("fail tests: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
