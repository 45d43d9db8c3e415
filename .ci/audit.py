"""Audit the locked dependencies for known vulnerabilities (pip-audit, PyPI's advisories).

Fails (exit 1) when any locked package has a known vulnerability. A package that could
not be looked up (the advisory source unreachable from this machine) is not a pass: it
is counted and named in the summary, and with ``--strict`` it fails the run too. CI runs
it without ``--strict`` so that a machine that cannot reach the advisories still builds,
but says so on its last line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    strict = "--strict" in sys.argv[1:]
    pip_audit = Path(sys.executable).with_name("pip-audit")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        # The lock pins every transitive dependency: --no-deps audits exactly that set.
        cmd = [
            str(pip_audit),
            "--disable-pip",
            "--no-deps",
            "--progress-spinner=off",
            "-r",
            str(ROOT / "requirements.lock"),
            "-f",
            "json",
            "-o",
            str(report),
        ]
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603 - our own venv's tool, fixed arguments
        if not report.exists():
            print(run.stderr, file=sys.stderr)
            print("audit: pip-audit produced no report", file=sys.stderr)
            return 1
        deps = json.loads(report.read_text())["dependencies"]
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if "skip_reason" in d]
    for d in vulnerable:
        for v in d["vulns"]:
            fixed = ", ".join(v.get("fix_versions", [])) or "no fixed version"
            print(f"audit: {d['name']} {d['version']}: {v['id']} (fixed in {fixed})")
    if skipped:
        print(
            f"audit: could not look up {len(skipped)} package(s), e.g. {skipped[0]['skip_reason']}"
        )
    audited = len(deps) - len(skipped)
    print(
        f"audit: {audited} of {len(deps)} locked packages audited, "
        f"{len(vulnerable)} with known vulnerabilities, {len(skipped)} not looked up"
    )
    if vulnerable:
        return 1
    if skipped and strict:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
