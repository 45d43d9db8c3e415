"""One Alembic history: upgrade to head then `alembic check` (models == migrations), on
SQLite and on PostgreSQL; a service whose schema is behind refuses to start."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _recreate_pg, _require, build_app, pg_url, running

ROOT = Path(__file__).resolve().parent.parent
PREFIXES = ("ingest_", "benchmark_", "planner_", "web_")


def alembic(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _check(url: str) -> None:
    up = alembic("upgrade", "head", url=url)
    assert up.returncode == 0, up.stderr
    check = alembic("check", url=url)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    down = alembic("downgrade", "base", url=url)
    assert down.returncode == 0, down.stderr
    again = alembic("upgrade", "head", url=url)
    assert again.returncode == 0, again.stderr


def test_upgrade_and_check_on_sqlite(tmp_path):
    _check(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


def test_upgrade_and_check_on_postgresql():
    base = pg_url()
    _require("PostgreSQL", base, 5432)
    url = base.rsplit("/", 1)[0] + "/" + base.rsplit("/", 1)[1] + "_migrations"
    asyncio.run(_recreate_pg(url))
    _check(url)


def test_every_table_carries_its_service_prefix():
    from sqlmodel import SQLModel

    import services.benchmark.models
    import services.ingest.models
    import services.planner.models
    import services.web.models  # noqa: F401  (every table, as migrations/env.py does)

    bad = [t for t in SQLModel.metadata.tables if not t.startswith(PREFIXES)]
    assert bad == []


async def test_a_service_behind_the_schema_refuses_to_start(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'behind.db'}"
    assert alembic("upgrade", "head", url=url).returncode == 0
    assert alembic("downgrade", "base", url=url).returncode == 0
    app = build_app("ingest", url, tmp_path)
    with pytest.raises(SystemExit) as exc:
        async with running(app):
            pass
    assert "balise migrate" in str(exc.value)
