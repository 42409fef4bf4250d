#!/usr/bin/env python3
"""Docs are part of done: every ```pkt block in README.md and docs/*.md must
pass `pkt check`, and every block that has statements must also `pkt run`
(with --dry-run, in a scratch directory, so nothing leaves the machine).

usage: check_docs.py PKT REPO_ROOT
"""
import pathlib
import re
import subprocess
import sys
import tempfile

pkt, root = sys.argv[1], pathlib.Path(sys.argv[2])
files = [root / "README.md", *sorted((root / "docs").glob("*.md")), root / "scripts" / "README.md"]
block = re.compile(r"^```pkt\n(.*?)^```", re.S | re.M)
passed = failed = 0
for md in files:
    if not md.exists():
        continue
    for i, m in enumerate(block.finditer(md.read_text())):
        code = m.group(1)
        line = md.read_text()[: m.start()].count("\n") + 2
        with tempfile.TemporaryDirectory() as tmp:
            script = pathlib.Path(tmp) / "example.pkt"
            script.write_text(code)
            (pathlib.Path(tmp) / "payload.bin").write_bytes(b"\x00\x01payload")
            for cmd in ([pkt, "check", str(script)], [pkt, "run", "--dry-run", str(script)]):
                r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=60)
                if r.returncode != 0:
                    failed += 1
                    print(f"FAIL {md.relative_to(root)}:{line}: {' '.join(cmd[1:2])}\n{r.stderr}")
                    break
            else:
                passed += 1
print(f"docs: {passed} passed, {failed} failed")
sys.exit(1 if failed or passed == 0 else 0)
