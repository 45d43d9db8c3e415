"""Redis restarts while jobs are queued; PostgreSQL restarts under load.

Both on throwaway servers this test starts on free loopback ports (never the machine's
shared PostgreSQL or Redis): requests that need the missing server fail fast with a 503
problem+json, nothing half-stored, and everything recovers by itself once it is back.
Without the server binaries the tests skip saying so (with CI=true they fail).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.ingest.models import IngestJob
from shared.db import create_sessionmaker
from shared.jobs import JobStatus
from shared.webhooks import headers_for
from tests.conftest import CI, DB_KIND, auth, build_app, new_client_id, running
from tests.faults.test_worker_killed import WorkerProcess, finished, wait_for, workers

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = shutil.which("redis-server")


def need(what: str, ok: bool) -> None:
    if ok:
        return
    msg = f"{what} is not installed; this fault test starts its own throwaway server"
    if CI:
        pytest.fail(f"CI=true and {msg}")
    pytest.skip(msg)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, up: bool, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise AssertionError(f"port {port} did not come {'up' if up else 'down'} in {timeout} s")


# --------------------------------------------------------------------------- Redis


class ThrowawayRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_port(self.port, up=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None
        wait_port(self.port, up=False)


@pytest.fixture
def redis_server() -> Iterator[ThrowawayRedis]:
    need("redis-server", REDIS_SERVER is not None)
    r = ThrowawayRedis(free_port())
    r.start()
    try:
        yield r
    finally:
        r.stop()


def csv_for(n: int) -> bytes:
    return (
        f"network,account_id,metric,day,value\ninstagram,rs-{n},followers,2026-01-01,{n}\n".encode()
    )


async def post_import(c: httpx.AsyncClient, cid: int, n: int) -> httpx.Response:
    return await c.post(
        f"/v1/clients/{cid}/imports",
        files={"file": (f"f{n}.csv", csv_for(n), "text/csv")},
        headers=auth([cid]),
    )


async def jobs_of(engine: Any, cid: int) -> list[IngestJob]:
    from sqlmodel import col, select

    async with create_sessionmaker(engine)() as s:
        return list((await s.exec(select(IngestJob).where(col(IngestJob.client_id) == cid))).all())


def assert_fast_503(r: httpx.Response, took: float) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 503 and body["detail"]
    assert took < 5, f"a request took {took:.1f} s to fail"


async def test_redis_restart_with_jobs_queued(
    make_live_backend, engine, migrated, var_dir, redis_server, tmp_path
):
    cid = new_client_id()
    async with make_live_backend("ingest", redis_url=redis_server.url) as (_app, c):
        # Two imports queued, no worker yet: they wait in Redis.
        queued = []
        for n in range(2):
            r = await post_import(c, cid, n)
            assert r.status_code == 202, r.text
            queued.append(r.json()["job_id"])

        redis_server.stop()  # a restart without persistence: the queue is gone
        for n in range(2, 4):
            t0 = time.monotonic()
            r = await post_import(c, cid, n)
            assert_fast_503(r, time.monotonic() - t0)
        ready = await c.get("/readyz")
        assert ready.status_code == 503 and "redis" in ready.text
        # The refused requests stored nothing: no job, no import.
        assert sorted(j.id for j in await jobs_of(engine, cid)) == sorted(queued)

        redis_server.start()

        async def accepted() -> str | None:
            r = await post_import(c, cid, 9)
            return str(r.json()["job_id"]) if r.status_code == 202 else None

        after = await wait_for("the service to accept jobs again", accepted, 15)
        assert (await c.get("/readyz")).status_code == 200

        # What Redis lost is still queued in the database, where the jobs page shows it.
        for jid in [*queued, after]:
            job = next(j for j in await jobs_of(engine, cid) if j.id == jid)
            assert job.status == JobStatus.queued
        if DB_KIND != "postgres":
            return  # worker processes run on PostgreSQL (see test_worker_killed.py)
        # A worker (re)starting submits again what the database still says is queued.
        with workers(migrated, var_dir, redis_server.url, tmp_path) as spawn:
            w: WorkerProcess = spawn()
            for jid in [*queued, after]:
                job = await wait_for(f"job {jid}", lambda jid=jid: finished(engine, jid), 60)
                assert job.status == JobStatus.succeeded, (job.error, w.tail())


# --------------------------------------------------------------------------- PostgreSQL


class ThrowawayPostgres:
    """A cluster of its own in a temporary directory, run as the postgres user."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="balise-pg-"))
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/balise"

    def _as_postgres(self, *cmd: str) -> None:
        prefix: list[str] = []
        if os.geteuid() == 0:
            prefix = ["runuser", "-u", "postgres", "--"]
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self.sock.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.sock, "postgres")
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.sock} -h 127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", opts, "-w", "-t", "30",
            "-l", str(self.dir / "log"), "start",
        )  # fmt: skip
        wait_port(self.port, up=True)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._as_postgres(
                str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "30",
                "stop",
            )  # fmt: skip
        wait_port(self.port, up=False)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def pg_server() -> Iterator[ThrowawayPostgres]:
    need("PostgreSQL 15 (initdb, pg_ctl)", (PG_BIN / "initdb").exists())
    need("runuser and a postgres user", os.geteuid() != 0 or shutil.which("runuser") is not None)
    pg = ThrowawayPostgres(free_port())
    pg.init()
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()
        pg.remove()


async def test_postgres_restart_under_load(pg_server, var_dir):
    import asyncpg
    from alembic import command

    from shared.db import alembic_config

    admin = await asyncpg.connect(pg_server.url.replace("/balise", "/postgres"))
    await admin.execute("CREATE DATABASE balise")
    await admin.close()
    await asyncio.to_thread(command.upgrade, alembic_config(pg_server.url), "head")

    cid = new_client_id()
    app = build_app("ingest", pg_server.url, var_dir, run_jobs_in_process=False)
    async with running(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as c:
            h = auth([cid])
            body = {"network": "instagram", "external_id": "pg-restart", "name": "PG"}

            async def load(n: int) -> list[httpx.Response]:
                # Through the ORM (the accounts) and straight on the driver (the job list).
                paths = [f"/v1/clients/{cid}/accounts", f"/v1/jobs?client_id={cid}"]
                return list(
                    await asyncio.gather(*(c.get(paths[i % 2], headers=h) for i in range(n)))
                )

            assert all(r.status_code == 200 for r in await load(20))
            created = await c.post(f"/v1/clients/{cid}/accounts", json=body, headers=h)
            assert created.status_code == 201, created.text
            made = await c.post(f"/v1/clients/{cid}/push-secret", headers=h)
            secret = made.json()["secret"]

            async def pushes(ids: list[str]) -> list[httpx.Response]:
                raw = json.dumps(
                    {
                        "account": {"network": "instagram", "external_id": "pg-restart"},
                        "metrics": [{"metric": "followers", "day": "2026-03-01", "value": 7}],
                    }
                ).encode()
                return list(
                    await asyncio.gather(
                        *(
                            c.post(
                                f"/v1/incoming/clients/{cid}/metrics",
                                content=raw,
                                headers=headers_for(secret, i, raw),
                            )
                            for i in ids
                        )
                    )
                )

            assert [r.status_code for r in await pushes(["msg_before"])] == [200]

            pg_server.stop()
            t0 = time.monotonic()
            answers = await load(20)
            took = time.monotonic() - t0
            for r in answers:
                assert_fast_503(r, took)
            assert answers[0].headers.get("retry-after") == "5"
            t0 = time.monotonic()
            r = await c.post(
                f"/v1/clients/{cid}/accounts", json={**body, "external_id": "x2"}, headers=h
            )
            assert_fast_503(r, time.monotonic() - t0)
            assert (await c.get("/readyz")).status_code == 503
            # Pushes arriving together while the database is away: a fast 503 each.
            t0 = time.monotonic()
            refused = await pushes([f"msg_down_{i}" for i in range(10)])
            took = time.monotonic() - t0
            for r in refused:
                assert_fast_503(r, took)

            pg_server.start()

            async def recovered() -> bool:
                return all(r.status_code == 200 for r in await load(10))

            await wait_for("requests to succeed again", recovered, 20)
            jobs = await c.get(f"/v1/jobs?client_id={cid}", headers=h)
            assert jobs.status_code == 200 and jobs.json()["data"] == []
            listed = (await c.get(f"/v1/clients/{cid}/accounts", headers=h)).json()
            rows = listed["data"] if isinstance(listed, dict) else listed
            # What was stored before stays; what was refused was never half-stored.
            assert [a["external_id"] for a in rows] == ["pg-restart"]
            assert (await c.get("/readyz")).status_code == 200
            # A refused push burnt nothing: sent again with its id, it is stored.
            again = await pushes([f"msg_down_{i}" for i in range(10)])
            assert [r.status_code for r in again] == [200] * 10
            assert [r.status_code for r in await pushes(["msg_before"])] == [409]
