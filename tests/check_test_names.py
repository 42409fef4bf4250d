#!/usr/bin/python3
"""Tests that cannot pass by accident (issue 11 section 6).

  * No Catch2 TEST_CASE name in tests/*.cpp holds a ';': catch_discover_tests
    would split it into two ctest entries, the second running nothing.
  * Every ctest entry that runs a Catch2 executable names exactly one of its
    test cases, and every case has an entry (so none runs zero tests). A case
    that runs zero assertions fails on its own: the cases run with
    `-w NoAssertions` (tests/CMakeLists.txt).

Usage: check_test_names.py SOURCE_TESTS_DIR BUILD_DIR
"""
import glob
import json
import os
import re
import subprocess
import sys


def main():
    src, build = sys.argv[1], sys.argv[2]
    bad = []
    for path in sorted(glob.glob(os.path.join(src, "*.cpp"))):
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                m = re.search(r'TEST_CASE\(\s*"((?:[^"\\]|\\.)*)"', line)
                if m and ";" in m.group(1):
                    bad.append("%s:%d: test name with ';' (ctest splits it in two): %s"
                               % (os.path.basename(path), lineno, m.group(1)))
    listing = json.loads(subprocess.run(["ctest", "-N", "--show-only=json-v1"], cwd=build, check=True,
                                        capture_output=True).stdout)
    by_exe = {}
    for t in listing["tests"]:
        cmd = t.get("command") or []
        if cmd and os.path.basename(cmd[0]).startswith("test_"):
            by_exe.setdefault(cmd[0], []).append(t["name"])
    if not by_exe:
        bad.append("no Catch2 entries registered in %s" % build)
    cases = 0
    for exe, entries in sorted(by_exe.items()):
        out = subprocess.run([exe, "--list-test-names-only"], capture_output=True).stdout.decode()
        names = [n for n in out.splitlines() if n.strip()]
        cases += len(names)
        for e in entries:
            if e not in names:
                bad.append("%s: ctest entry %r is not one of its test cases (it would run nothing)"
                           % (os.path.basename(exe), e))
        for n in names:
            if n not in entries:
                bad.append("%s: test case %r has no ctest entry" % (os.path.basename(exe), n))
    for b in bad:
        print("FAIL " + b)
    print("check_test_names: %d Catch2 executables, %d cases; %d problems" % (len(by_exe), cases, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
