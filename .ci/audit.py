"""Audit the locked dependencies for known vulnerabilities (pip-audit, PyPI's advisories).

pip-audit asks PyPI's per-version JSON (``/pypi/<name>/<version>/json``) for the
advisories of each locked version, and skips a package when that answers 404 or cannot
be reached, as happens on machines whose proxy only lets part of PyPI through. For every
package it skipped, this script then asks PyPI's project JSON (``/pypi/<name>/json``):
its ``info.version`` is the project's latest release and its ``vulnerabilities`` are the
known vulnerabilities of that release, from the same advisory data pip-audit reads. So
when the locked version is the latest release, that list is exactly our version's
advisories and the package counts as audited (withdrawn advisories ignored, as pip-audit
does). When the locked version is older, nothing can be concluded, since a vulnerability
fixed before the latest release is not listed there: the package stays "not looked up".

Fails (exit 1) when any locked package has a known vulnerability. A package that could
not be looked up is not a pass: it is counted and named on the last line, and with
``--strict`` it fails the run too. CI runs it without ``--strict`` so that a machine that
cannot reach the advisories still builds, but says so on its last line.
``BALISE_AUDIT_PYPI_URL`` points the fallback at another index (the tests use a local stub).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PYPI_URL = "https://pypi.org"
TIMEOUT = 20.0  # seconds, per connect/read: a stalled index must not hang CI
WORKERS = 8  # lookups in flight: quick over 128 packages, gentle on PyPI

PIP_AUDIT = "pip-audit"
PYPI_LATEST = "PyPI latest-release advisories"


@dataclass(frozen=True)
class Vuln:
    id: str
    fixed_in: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """One locked package: who audited it and what was found, or why nobody could.

    ``source`` is None when the package was not looked up; ``reason`` then says why and
    ``note`` says it in a few words for the summary line.
    """

    name: str
    version: str
    source: str | None
    vulns: tuple[Vuln, ...] = ()
    reason: str = ""
    note: str = ""


def locked_versions(lock_text: str) -> dict[str, str]:
    """Canonical name -> pinned version, from a ``name==version`` lock file.

    pip-audit's report leaves the version out of a skipped package, so the lock says it.
    """
    pins: dict[str, str] = {}
    for raw in lock_text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        exact = [s.version for s in req.specifier if s.operator in ("==", "===")]
        if exact:
            pins[canonicalize_name(req.name)] = exact[0]
    return pins


def run_pip_audit(lock: Path) -> list[dict[str, Any]] | None:
    """pip-audit's parsed dependency list, or None (its stderr printed) if it made no report."""
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
            str(lock),
            "-f",
            "json",
            "-o",
            str(report),
        ]
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603 - our own venv's tool, fixed arguments
        if not report.exists():
            print(run.stderr, file=sys.stderr)
            return None
        deps: list[dict[str, Any]] = json.loads(report.read_text())["dependencies"]
        return deps


def from_pip_audit(dep: dict[str, Any]) -> Outcome:
    """An outcome for a package pip-audit did look up."""
    vulns = tuple(Vuln(v["id"], tuple(v.get("fix_versions", []))) for v in dep.get("vulns", []))
    return Outcome(dep["name"], dep["version"], PIP_AUDIT, vulns)


def advisories(project: dict[str, Any]) -> tuple[Vuln, ...]:
    """The live advisories of a project JSON's ``vulnerabilities`` (withdrawn ones dropped)."""
    return tuple(
        Vuln(v["id"], tuple(v.get("fixed_in") or ()))
        for v in project.get("vulnerabilities") or ()
        if v.get("withdrawn") is None
    )


def same_version(locked: str, latest: str) -> bool:
    """Whether two version strings name one release (``2.10`` is ``2.10.0``)."""
    try:
        return Version(locked) == Version(latest)
    except InvalidVersion:
        return locked == latest


def from_latest_release(client: httpx.Client, base_url: str, name: str, version: str) -> Outcome:
    """Audit one package from PyPI's project JSON, which is valid only at the latest release."""
    url = f"{base_url.rstrip('/')}/pypi/{name}/json"
    try:
        response = client.get(url)
        if response.status_code != 200:
            note = f"HTTP {response.status_code}"
            return Outcome(name, version, None, reason=f"{url} answered {note}", note=note)
        project = response.json()
        latest = str(project["info"]["version"])
        vulns = advisories(project)
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        note = type(exc).__name__
        return Outcome(name, version, None, reason=f"{url}: {note}: {exc}", note=note)
    if not same_version(version, latest):
        reason = (
            f"locked {version}, latest release {latest}: PyPI's per-version advisories unreachable"
        )
        return Outcome(name, version, None, reason=reason, note=f"latest {latest}")
    return Outcome(name, version, PYPI_LATEST, vulns)


def look_up(
    dep: dict[str, Any], locked: dict[str, str], client: httpx.Client, base_url: str
) -> Outcome:
    """pip-audit's finding for a package, or for one it skipped, PyPI's latest-release one."""
    if "skip_reason" not in dep:
        return from_pip_audit(dep)
    name = canonicalize_name(dep["name"])
    version = dep.get("version") or locked.get(name)
    if version is None:
        return Outcome(name, "?", None, reason="not pinned in the lock", note="not pinned")
    return from_latest_release(client, base_url, name, version)


def audit(
    deps: list[dict[str, Any]], locked: dict[str, str], base_url: str = PYPI_URL
) -> list[Outcome]:
    """One outcome per pip-audit dependency (``locked`` gives the versions it leaves out)."""
    skipped = [d for d in deps if "skip_reason" in d]
    if skipped:
        print(
            f"audit: pip-audit could not look up {len(skipped)} package(s), e.g. "
            f"{skipped[0]['skip_reason']}; asking PyPI's latest-release advisories"
        )
    limits = httpx.Limits(max_connections=WORKERS)
    with (
        httpx.Client(timeout=TIMEOUT, limits=limits) as client,
        ThreadPoolExecutor(max_workers=WORKERS) as pool,
    ):
        return list(pool.map(lambda dep: look_up(dep, locked, client, base_url), deps))


def summary(outcomes: list[Outcome]) -> str:
    """The last line: how many were audited and by whom, found vulnerable, and not looked up."""
    by_pip_audit = sum(o.source == PIP_AUDIT for o in outcomes)
    by_pypi = sum(o.source == PYPI_LATEST for o in outcomes)
    vulnerable = sum(bool(o.vulns) for o in outcomes)
    missing = [o for o in outcomes if o.source is None]
    line = (
        f"audit: {by_pip_audit + by_pypi} of {len(outcomes)} locked packages audited "
        f"({PIP_AUDIT} {by_pip_audit}, {PYPI_LATEST} {by_pypi}), "
        f"{vulnerable} with known vulnerabilities, {len(missing)} not looked up"
    )
    if missing:
        line += ": " + ", ".join(f"{o.name} {o.version} ({o.note})" for o in missing)
    return line


def report(outcomes: list[Outcome], strict: bool) -> int:
    """Print every vulnerability, every package not looked up, then the summary; the exit code."""
    for o in outcomes:
        for v in o.vulns:
            fixed = ", ".join(v.fixed_in) or "no fixed version"
            print(f"audit: {o.name} {o.version}: {v.id} (fixed in {fixed})")
    for o in outcomes:
        if o.source is None:
            print(f"audit: {o.name} {o.version} not looked up: {o.reason}")
    print(summary(outcomes))
    if any(o.vulns for o in outcomes):
        return 1
    if strict and any(o.source is None for o in outcomes):
        return 1
    return 0


def main() -> int:
    strict = "--strict" in sys.argv[1:]
    deps = run_pip_audit(LOCK)
    if deps is None:
        print("audit: pip-audit produced no report", file=sys.stderr)
        return 1
    base_url = os.environ.get("BALISE_AUDIT_PYPI_URL") or PYPI_URL
    outcomes = audit(deps, locked_versions(LOCK.read_text()), base_url)
    return report(outcomes, strict)


if __name__ == "__main__":
    sys.exit(main())
