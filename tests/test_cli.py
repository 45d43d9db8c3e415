"""The `balise` command, run as a user runs it: a subprocess on a fresh database."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
BALISE = [sys.executable, "-m", "services.cli"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.endswith(("DATABASE_URL", "REDIS_URL"))}
    e.update(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
            "BALISE_VAR_DIR": str(tmp_path / "var"),
            "BALISE_ENV": "development",
            "LOG_JSON": "false",
        }
    )
    return e


def balise(
    env: dict[str, str], *args: str, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BALISE, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        input=input,
    )


def test_migrate_clients_users_and_tokens(env):
    assert balise(env, "migrate").returncode == 0
    r = balise(env, "client", "create", "Tourisme Côte-Nord", "--slug", "cote-nord")
    assert r.returncode == 0, r.stderr
    dup = balise(env, "client", "create", "Autre", "--slug", "cote-nord")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    listed = json.loads(balise(env, "client", "list", "--json").stdout)
    assert [c["slug"] for c in listed] == ["cote-nord"]
    assert listed[0]["name"] == "Tourisme Côte-Nord"
    r = balise(
        env,
        "user",
        "create",
        "--email",
        "cm@example.test",
        "--role",
        "community_manager",
        "--client",
        "cote-nord",
        input="un-mot-de-passe-long\nun-mot-de-passe-long\n",
    )
    assert r.returncode == 0, r.stderr
    assert "community_manager" in r.stdout
    bad = balise(
        env,
        "user",
        "create",
        "--email",
        "x@example.test",
        "--role",
        "pirate",
        "--password",
        "un-mot-de-passe-long",
    )
    assert bad.returncode == 1 and "Unknown role" in bad.stderr
    tok = balise(
        env,
        "token",
        "create",
        "--user",
        "cm@example.test",
        "--name",
        "Looker",
        "--client",
        "cote-nord",
        "--service",
        "ingest",
        "--days",
        "30",
    )
    assert tok.returncode == 0, tok.stderr
    assert tok.stdout.strip().startswith("bal_")


def test_worker_needs_redis(env):
    r = balise(env, "worker", "ingest")
    assert r.returncode == 1 and "REDIS_URL" in r.stderr
    r = balise(env, "worker", "nothing")
    assert r.returncode == 2


def test_commands_refuse_an_unmigrated_database(env):
    r = balise(env, "client", "list")
    assert r.returncode != 0
    assert "balise migrate" in (r.stderr + r.stdout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_up_serves_the_four_services_and_stops_cleanly_on_ctrl_c(env):
    ports = {name: _free_port() for name in ("WEB", "INGEST", "BENCHMARK", "PLANNER")}
    env.update({f"{k}_PORT": str(v) for k, v in ports.items()})
    proc = subprocess.Popen(
        [*BALISE, "up", "--no-demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output = []
        deadline = time.monotonic() + 90
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Ctrl-C stops everything" in line:
                break
        text = "".join(output)
        assert "Balise is running" in text, text[-2000:]
        assert f"http://127.0.0.1:{ports['WEB']}" in text
        login = httpx.get(f"http://127.0.0.1:{ports['WEB']}/login", timeout=5)
        assert login.status_code == 200 and 'name="password"' in login.text
        for name in ("INGEST", "BENCHMARK", "PLANNER", "WEB"):
            ready = httpx.get(f"http://127.0.0.1:{ports[name]}/readyz", timeout=5)
            assert ready.status_code == 200, (name, ready.text)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does to the terminal's group
        proc.wait(30)
        assert proc.returncode == 0
        rest = proc.stdout.read()
        assert "Stopped." in rest and "Traceback" not in rest, rest[-3000:]
        for port in ports.values():
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
