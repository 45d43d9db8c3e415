"""Authenticated GET on each backend under a bounded local load, next to a bare endpoint.

Each backend runs under uvicorn (one worker, uvloop, httptools) on a migrated SQLite
database; the request is `GET /v1/jobs?client_id=…` with a service token (token check,
tenancy check, one indexed query). The baseline is a bare FastAPI endpoint returning the
same JSON shape, served the same way, loaded the same way in the same run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import Figure
from bench.load import measure, serve

SECRET = "bench-secret-key-0123456789-0123456789-0123456789"
CONCURRENCY = 50
SECONDS = 5.0


def _migrate(url: str) -> None:
    from alembic import command

    from shared.db import alembic_config

    command.upgrade(alembic_config(url), "head")


def run() -> list[Figure]:
    from shared.auth import mint_service_token

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        _migrate(url)
        env = {
            "DATABASE_URL": url,
            "BALISE_SECRET_KEY": SECRET,
            "BALISE_VAR_DIR": tmp,
            "LOG_LEVEL": "WARNING",
            "REDIS_URL": "",
        }
        token = mint_service_token(
            SECRET, subject="1", kind="user", role="strategist", client_ids=[1], ttl=3600
        )
        headers = {"Authorization": f"Bearer {token}"}
        with serve("bench.bare:create_app") as bare_url:
            bare = measure(f"{bare_url}/bare", concurrency=CONCURRENCY, seconds=SECONDS)
        print(
            f"   bare FastAPI endpoint: {bare.rps:.0f} req/s, p50 {bare.p50_ms:.1f} ms, "
            f"p99 {bare.p99_ms:.1f} ms ({bare.tool}, {CONCURRENCY} connections)"
        )
        for svc in ("ingest", "benchmark", "planner"):
            with serve(f"services.{svc}.app:create_app", env) as svc_url:
                res = measure(
                    f"{svc_url}/v1/jobs?client_id=1",
                    headers,
                    concurrency=CONCURRENCY,
                    seconds=SECONDS,
                )
            assert res.errors == 0, f"{svc}: {res.errors} errors under load"
            figures.append(
                Figure(
                    name=f"backend_get_{svc}_rps",
                    value=round(res.rps, 1),
                    unit="req/s",
                    baseline=round(bare.rps, 1),
                    target=">=0.5",
                    note=f"p50 {res.p50_ms:.1f} ms, p99 {res.p99_ms:.1f} ms vs bare p99 "
                    f"{bare.p99_ms:.1f} ms; {res.requests} requests, 0 errors ({res.tool})",
                )
            )
            figures.append(
                Figure(
                    name=f"backend_get_{svc}_p99",
                    value=round(res.p99_ms, 1),
                    unit="ms",
                    baseline=round(bare.p99_ms, 1),
                    target="<=250ms",
                )
            )
    return figures
