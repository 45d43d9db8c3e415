"""The dependency audit's fallback to PyPI's latest-release advisories, against a local PyPI.

``.ci/audit.py`` is a script, not a package module: it is loaded from its path. The stub
is a real HTTP server on 127.0.0.1 answering ``/pypi/<name>/json`` in PyPI's shape, so
the requests, statuses and JSON go through httpx exactly as they do against pypi.org.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_audit", ROOT / ".ci" / "audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


audit = _load_audit()


def _vuln(id: str, fixed_in: list[str], withdrawn: str | None = None) -> dict[str, Any]:
    return {
        "aliases": [f"CVE-2099-{id[-4:]}"],
        "details": f"Details of {id}.",
        "summary": None,
        "fixed_in": fixed_in,
        "id": id,
        "link": f"https://osv.dev/vulnerability/{id}",
        "source": "osv",
        "withdrawn": withdrawn,
    }


def _project(name: str, latest: str, vulns: list[dict[str, Any]]) -> dict[str, Any]:
    """A project JSON as PyPI serves it: the latest release's info and its advisories."""
    return {
        "info": {
            "name": name,
            "version": latest,
            "summary": f"The {name} project",
            "yanked": False,
        },
        "last_serial": 123456,
        "releases": {latest: []},
        "urls": [],
        "vulnerabilities": vulns,
        "ownership": {"organization": None, "roles": []},
    }


PROJECTS = {
    "clean": _project("clean", "1.2.0", []),
    "vulnerable": _project(
        "vulnerable",
        "3.0.0",
        [
            _vuln("PYSEC-2099-0001", ["3.0.1"]),
            _vuln("PYSEC-2099-0002", ["3.0.1"], withdrawn="2099-01-02T03:04:05Z"),
        ],
    ),
    "behind": _project("behind", "2.5.5", []),
    "trailing-zero": _project("trailing-zero", "2.10.0", []),
}


class _PyPI(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        name = self.path.removeprefix("/pypi/").removesuffix("/json")
        if self.path == "/pypi/garbled/json":
            self._send(200, b"<html>not json</html>", "text/html")
        elif name in PROJECTS and self.path == f"/pypi/{name}/json":
            self._send(200, json.dumps(PROJECTS[name]).encode(), "application/json")
        else:
            self._send(404, b'{"message": "Not Found"}', "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def stub() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PyPI)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def pypi(stub: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    """The stub's base URL and the paths it was asked for during this test."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # a developer's proxy must not see the stub
    paths: list[str] = stub.paths  # type: ignore[attr-defined]
    paths.clear()
    return f"http://127.0.0.1:{stub.server_address[1]}", paths


def skipped(name: str, version: str) -> dict[str, str]:
    """A package pip-audit skipped, as its JSON report has it (no version)."""
    return {
        "name": name,
        "skip_reason": f"Dependency not found on PyPI and could not be audited: {name} ({version})",
    }


def run(deps: list[dict[str, Any]], locked: dict[str, str], base: str, strict: bool = False):
    outcomes = audit.audit(deps, locked, base)
    return outcomes, audit.report(outcomes, strict)


def test_a_package_at_its_latest_release_without_advisories_is_audited_clean(pypi, capsys):
    base, paths = pypi
    outcomes, code = run([skipped("clean", "1.2.0")], {"clean": "1.2.0"}, base)
    assert code == 0
    assert [(o.name, o.version, o.source, o.vulns) for o in outcomes] == [
        ("clean", "1.2.0", "PyPI latest-release advisories", ())
    ]
    assert paths == ["/pypi/clean/json"]
    assert capsys.readouterr().out.splitlines()[-1] == (
        "audit: 1 of 1 locked packages audited (pip-audit 0, PyPI latest-release advisories 1), "
        "0 with known vulnerabilities, 0 not looked up"
    )


def test_a_vulnerable_latest_release_fails_and_withdrawn_advisories_are_ignored(pypi, capsys):
    base, _ = pypi
    outcomes, code = run([skipped("vulnerable", "3.0.0")], {"vulnerable": "3.0.0"}, base)
    assert code == 1
    assert outcomes[0].vulns == (audit.Vuln("PYSEC-2099-0001", ("3.0.1",)),)
    out = capsys.readouterr().out
    assert "audit: vulnerable 3.0.0: PYSEC-2099-0001 (fixed in 3.0.1)" in out.splitlines()
    assert "PYSEC-2099-0002" not in out
    assert out.splitlines()[-1] == (
        "audit: 1 of 1 locked packages audited (pip-audit 0, PyPI latest-release advisories 1), "
        "1 with known vulnerabilities, 0 not looked up"
    )


@pytest.mark.parametrize(("strict", "expected"), [(False, 0), (True, 1)])
def test_a_package_behind_its_latest_release_is_not_looked_up(pypi, capsys, strict, expected):
    base, _ = pypi
    outcomes, code = run([skipped("behind", "2.4.6")], {"behind": "2.4.6"}, base, strict)
    assert code == expected
    assert outcomes[0].source is None
    out = capsys.readouterr().out.splitlines()
    assert (
        "audit: behind 2.4.6 not looked up: locked 2.4.6, latest release 2.5.5: "
        "PyPI's per-version advisories unreachable"
    ) in out
    assert out[-1] == (
        "audit: 0 of 1 locked packages audited (pip-audit 0, PyPI latest-release advisories 0), "
        "0 with known vulnerabilities, 1 not looked up: behind 2.4.6 (latest 2.5.5)"
    )


@pytest.mark.parametrize(
    ("name", "note"), [("unknown", "HTTP 404"), ("garbled", "JSONDecodeError")]
)
def test_a_project_pypi_cannot_answer_for_is_not_looked_up(pypi, capsys, name, note):
    base, _ = pypi
    outcomes, code = run([skipped(name, "1.0")], {name: "1.0"}, base, strict=True)
    assert code == 1
    assert (outcomes[0].source, outcomes[0].note) == (None, note)
    assert (
        capsys.readouterr().out.splitlines()[-1].endswith(f"1 not looked up: {name} 1.0 ({note})")
    )


def test_an_unreachable_index_is_not_looked_up(capsys, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with ThreadingHTTPServer(("127.0.0.1", 0), _PyPI) as closed:  # bound, then closed: refused
        base = f"http://127.0.0.1:{closed.server_address[1]}"
    outcomes, code = run([skipped("clean", "1.2.0")], {"clean": "1.2.0"}, base)
    assert code == 0
    assert (outcomes[0].source, outcomes[0].note) == (None, "ConnectError")


def test_versions_are_compared_normalised(pypi, capsys):
    base, _ = pypi
    outcomes, code = run([skipped("trailing-zero", "2.10")], {"trailing-zero": "2.10"}, base)
    assert code == 0
    assert (outcomes[0].version, outcomes[0].source) == ("2.10", "PyPI latest-release advisories")
    assert audit.same_version("2.10", "2.10.0") and audit.same_version("1.0.post0", "1.0-post0")
    assert not audit.same_version("2.10", "2.1")


def test_pip_audit_findings_are_kept_and_only_skipped_packages_are_asked(pypi, capsys):
    base, paths = pypi
    deps: list[dict[str, Any]] = [
        {"name": "audited", "version": "1.0", "vulns": []},
        {"name": "flagged", "version": "0.9", "vulns": [{"id": "GHSA-x", "fix_versions": ["1.1"]}]},
        skipped("clean", "1.2.0"),
        skipped("behind", "2.4.6"),
    ]
    locked = {"audited": "1.0", "flagged": "0.9", "clean": "1.2.0", "behind": "2.4.6"}
    outcomes, code = run(deps, locked, base)
    assert code == 1
    assert [o.source for o in outcomes] == [
        "pip-audit",
        "pip-audit",
        "PyPI latest-release advisories",
        None,
    ]
    assert sorted(paths) == ["/pypi/behind/json", "/pypi/clean/json"]
    out = capsys.readouterr().out.splitlines()
    assert "audit: flagged 0.9: GHSA-x (fixed in 1.1)" in out
    assert out[-1] == (
        "audit: 3 of 4 locked packages audited (pip-audit 2, PyPI latest-release advisories 1), "
        "1 with known vulnerabilities, 1 not looked up: behind 2.4.6 (latest 2.5.5)"
    )


def test_main_asks_the_index_named_by_the_environment(pypi, capsys, monkeypatch, tmp_path):
    base, paths = pypi
    lock = tmp_path / "requirements.lock"
    lock.write_text("clean==1.2.0\n    # via balise\nbehind==2.4.6\n    # via balise\n")
    deps = [skipped("clean", "1.2.0"), skipped("behind", "2.4.6")]
    monkeypatch.setattr(audit, "LOCK", lock)
    monkeypatch.setattr(audit, "run_pip_audit", lambda path: deps if path == lock else None)
    monkeypatch.setenv("BALISE_AUDIT_PYPI_URL", base)
    monkeypatch.setattr(sys, "argv", ["audit.py", "--strict"])
    assert audit.main() == 1
    assert sorted(paths) == ["/pypi/behind/json", "/pypi/clean/json"]
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .endswith("1 not looked up: behind 2.4.6 (latest 2.5.5)")
    )


def test_the_lock_gives_the_versions_pip_audit_leaves_out():
    text = (ROOT / "requirements.lock").read_text()
    pins = audit.locked_versions(text)
    assert len(pins) == sum(1 for line in text.splitlines() if "==" in line.split("#")[0])
    assert all(name == name.lower() and "_" not in name for name in pins)
    assert audit.locked_versions("Foo_Bar==1.0  # via x\n# pip==1\n-e .\nbaz>=2\n") == {
        "foo-bar": "1.0"
    }
