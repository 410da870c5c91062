"""`make audit`: known vulnerabilities in the pinned requirements, with pip-audit; strict.

Fails on any finding, and also when pip-audit could not look a runtime
requirement up (it reports such packages as skipped and exits 0, which would
make an audit that checked nothing look like a pass). pip-audit asks the
package index's JSON API for advisories: run it where that API is reachable.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def runtime_requirements() -> set[str]:
    names = set()
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[=<>!~ ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def main() -> int:
    site = sysconfig.get_paths()["purelib"]
    command = [sys.executable, "-m", "pip_audit", "--path", site, "--format", "json"]
    command += ["--progress-spinner", "off"]
    run = subprocess.run(command, capture_output=True, text=True)  # noqa: S603 (our own argv)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(run.stdout + run.stderr, file=sys.stderr)
        return 2
    found = [d for d in report["dependencies"] if d.get("vulns")]
    skipped = {d["name"].lower() for d in report["dependencies"] if d.get("skip_reason")}
    checked = len(report["dependencies"]) - len(skipped)
    for dep in found:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    unaudited = sorted(runtime_requirements() & skipped)
    print(f"pip-audit: {checked} packages checked, {len(skipped)} skipped, {len(found)} vulnerable")
    if unaudited:
        print("not audited (the advisory source could not be asked): " + ", ".join(unaudited))
    return 1 if found or unaudited or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
