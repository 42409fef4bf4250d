"""Shared by the script-file test runners (tests/scripts, tests/fail)."""
import glob
import os


def pkt_and_tests(argv, here):
    """From `runner.py [PKT] [TEST.pkt...]`: the pkt binary (argument, $PKT, or
    build/pkt) and the test scripts (the arguments, or every *.pkt in `here`)."""
    pkt = None
    tests = []
    for a in argv[1:]:
        if a.endswith(".pkt"):
            tests.append(os.path.abspath(a))
        else:
            pkt = a
    pkt = os.path.abspath(pkt or os.environ.get("PKT") or os.path.join(here, "..", "..", "build", "pkt"))
    return pkt, tests or sorted(glob.glob(os.path.join(here, "*.pkt")))
