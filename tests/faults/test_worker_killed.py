"""A worker is killed (SIGKILL) in the middle of an import and of a sync.

A real ``balise worker ingest`` process (arq on Redis, the test database) runs the jobs the
real ingest app queued; the test kills it mid-job, starts a new one, and checks that the
job is marked failed and retryable (the new worker recovers jobs whose heartbeat stopped),
that nothing was half-stored, and that after a retry the row counts equal a clean run's.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import func
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import Response

from services.ingest.models import IngestJob
from services.ingest.store.models import Account, DailyMetric, Post, PostMetric
from shared.db import create_sessionmaker
from shared.jobs import JobStatus
from tests.conftest import DB_KIND, TEST_SECRET, _recreate_pg, auth, new_client_id
from tests.ingest.connections.conftest import session_binding, x_settings
from tests.ingest.connections.test_oauth import connect
from tests.ingest.connections.x_stub import XStub, make_tweets
from tests.servers import Served

pytestmark = [
    pytest.mark.redis,
    # arq workers in their own processes are the scale-out mode, on PostgreSQL; SQLite is
    # the embedded mode's (one process, the in-process runner recovers on start).
    pytest.mark.skipif(DB_KIND != "postgres", reason="worker processes run on PostgreSQL"),
]

BALISE = str(Path(sys.executable).with_name("balise"))
HEARTBEAT = 0.3
STALE_AFTER = 2.0


class WorkerProcess:
    """``balise worker ingest`` in its own process group."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [BALISE, "worker", "ingest"],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        return self

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


async def wait_for(what: str, check: Callable[[], Awaitable[Any]], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = await check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def migrated(database_url: str) -> str:
    """A database of these tests' own, overriding the suite's for this module.

    A worker resubmits on start every job the database lists as queued, and the suite's
    database holds the queued jobs of every test that ran before (no worker ran them):
    the new worker would be busy with those while the test waits for its own."""
    from alembic import command

    from shared.db import alembic_config

    parts = urlsplit(database_url)
    url = urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_workers"))
    asyncio.run(_recreate_pg(url))
    command.upgrade(alembic_config(url), "head")
    return url


@pytest.fixture(scope="module")
async def engine(migrated: str) -> AsyncIterator[Any]:
    from shared.db import create_engine

    eng = create_engine(migrated)
    yield eng
    await eng.dispose()


@pytest.fixture
def fresh_redis(redis_dsn: str) -> Iterator[str]:
    """The tests' own Redis database, emptied before and after (no other test uses it)."""
    import redis

    r = redis.Redis.from_url(redis_dsn)
    r.flushdb()
    yield redis_dsn
    r.flushdb()
    r.close()


@contextlib.contextmanager
def workers(migrated: str, var_dir: Path, redis_url: str, tmp_path: Path, **extra: str) -> Any:
    env = {
        **os.environ,
        "DATABASE_URL": migrated,
        "REDIS_URL": redis_url,
        "BALISE_SECRET_KEY": TEST_SECRET,
        "BALISE_ENV": "test",
        "BALISE_VAR_DIR": str(var_dir),
        "INGEST_JOB_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "INGEST_JOB_STALE_AFTER_SECONDS": str(STALE_AFTER),
        "LOG_LEVEL": "INFO",
        **extra,
    }
    started: list[WorkerProcess] = []

    def spawn() -> WorkerProcess:
        w = WorkerProcess(env, tmp_path / f"worker-{len(started)}.log").start()
        started.append(w)
        return w

    try:
        yield spawn
    finally:
        for w in started:
            w.stop()


async def job_row(engine: Any, job_id: str) -> IngestJob:
    async with create_sessionmaker(engine)() as s:
        job = await s.get(IngestJob, job_id)
        assert job is not None
        return job


async def stored(engine: Any, cid: int) -> dict[str, int]:
    async with create_sessionmaker(engine)() as s:
        ids = select(Account.id).where(col(Account.client_id) == cid)
        daily = (
            await s.exec(
                select(func.count())
                .select_from(DailyMetric)
                .where(col(DailyMetric.account_id).in_(ids))
            )
        ).one()
        posts = (
            await s.exec(
                select(func.count()).select_from(Post).where(col(Post.account_id).in_(ids))
            )
        ).one()
        snaps = (
            await s.exec(
                select(func.count())
                .select_from(PostMetric)
                .join(Post, col(Post.id) == PostMetric.post_id)
                .where(col(Post.account_id).in_(ids))
            )
        ).one()
        accounts = (
            await s.exec(select(func.count()).select_from(Account).where(Account.client_id == cid))
        ).one()
        return {
            "accounts": int(accounts),
            "daily": int(daily),
            "posts": int(posts),
            "post_metrics": int(snaps),
        }


ACCOUNTS = 8
DAYS = 3000
ROWS = ACCOUNTS * 4 * DAYS


def long_format() -> bytes:
    """Balise's own long format: ``ACCOUNTS`` accounts, four metrics, ``DAYS`` days each."""
    lines = ["network,account_id,metric,day,value"]
    start = dt.date(2015, 1, 1)
    for acc in range(ACCOUNTS):
        for metric in ("followers", "impressions", "reach", "engagements"):
            for i in range(DAYS):
                day = start + dt.timedelta(days=i)
                lines.append(f"instagram,kill-{acc},{metric},{day.isoformat()},{i % 997}")
    return ("\n".join(lines) + "\n").encode()


async def upload(c: Any, cid: int, body: bytes) -> str:
    r = await c.post(
        f"/v1/clients/{cid}/imports",
        files={"file": ("history.csv", body, "text/csv")},
        headers=auth([cid]),
    )
    assert r.status_code == 202, r.text
    job_id = r.json().get("job_id") or r.json()["job"]["id"]
    return str(job_id)


async def finished(engine: Any, job_id: str) -> IngestJob | None:
    job = await job_row(engine, job_id)
    return job if job.status in (JobStatus.succeeded, JobStatus.failed) else None


async def kill_mid_job(
    engine: Any, worker: WorkerProcess, job_id: str, min_progress: int, saying: str = ""
) -> None:
    async def midway() -> bool:
        job = await job_row(engine, job_id)
        assert job.status != JobStatus.failed, job.error
        assert job.status != JobStatus.succeeded, "the job ended before it could be killed"
        return (
            job.status == JobStatus.running
            and job.progress >= min_progress
            and saying in job.message
        )

    try:
        await wait_for("the job to be under way", midway, 60)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- worker log ---\n{worker.tail()}") from None
    worker.kill()


async def recovered(engine: Any, job_id: str) -> IngestJob:
    async def failed() -> IngestJob | None:
        job = await job_row(engine, job_id)
        return job if job.status == JobStatus.failed else None

    job: IngestJob = await wait_for("the new worker to mark the job failed", failed, 30)
    return job


@contextlib.asynccontextmanager
async def live_ingest(make_live_backend: Any, redis_url: str, **kw: Any) -> AsyncIterator[Any]:
    async with make_live_backend(
        "ingest",
        redis_url=redis_url,
        job_heartbeat_seconds=HEARTBEAT,
        job_stale_after_seconds=STALE_AFTER,
        **kw,
    ) as (app, c):
        yield app, c


async def test_worker_killed_mid_import(
    make_live_backend, engine, migrated, var_dir, fresh_redis, tmp_path
):
    body = long_format()  # 96,000 rows: a few seconds of loading
    clean_cid, cid = new_client_id(), new_client_id()
    with workers(migrated, var_dir, fresh_redis, tmp_path) as spawn:
        async with live_ingest(make_live_backend, fresh_redis) as (_app, c):
            first = spawn()
            clean_job = await upload(c, clean_cid, body)
            done = await wait_for("the clean import", lambda: finished(engine, clean_job), 120)
            assert done.status == JobStatus.succeeded, done.error
            clean = await stored(engine, clean_cid)
            assert clean["daily"] == ROWS and clean["accounts"] == ACCOUNTS

            job_id = await upload(c, cid, body)
            await kill_mid_job(engine, first, job_id, min_progress=30)
            # All or nothing: the killed import left no row behind.
            assert (await stored(engine, cid))["daily"] == 0
            assert (await job_row(engine, job_id)).status == JobStatus.running

            second = spawn()
            job = await recovered(engine, job_id)
            assert "stopped before it finished" in (job.error or "")
            shown = (await c.get(f"/v1/jobs/{job_id}", headers=auth([cid]))).json()
            assert shown["status"] == "failed" and shown["retryable"] is True
            assert (await stored(engine, cid))["daily"] == 0

            r = await c.post(f"/v1/jobs/{job_id}/retry", headers=auth([cid]))
            assert r.status_code == 202, r.text
            done = await wait_for("the retried import", lambda: finished(engine, job_id), 120)
            assert done.status == JobStatus.succeeded, (done.error, second.tail())
            assert done.attempts == 2
            assert await stored(engine, cid) == clean


class SlowX(XStub):
    """The X stub, each timeline page taking a while (a slow provider)."""

    page_delay: float = 0.25

    async def user_tweets(self, request: Request) -> Response:
        await asyncio.sleep(self.page_delay)
        return await super().user_tweets(request)


async def test_worker_killed_mid_sync(
    make_live_backend, engine, migrated, var_dir, fresh_redis, tmp_path
):
    stub = SlowX()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stub.tweets = make_tweets(40, now - dt.timedelta(hours=1))  # 20 pages of 2
    served = Served(stub.app()).start()
    stub.base_url = served.base_url  # type: ignore[attr-defined]
    xs = x_settings(stub)
    worker_env = {f"INGEST_{k.upper()}": str(v) for k, v in xs.items()}
    try:
        with workers(migrated, var_dir, fresh_redis, tmp_path, **worker_env) as spawn:
            async with live_ingest(make_live_backend, fresh_redis, **xs) as (_app, c):
                first = spawn()
                clean_cid, cid = new_client_id(), new_client_id()
                _, _, created = await connect(c, clean_cid, session_binding())
                clean_job = created["jobs"][0]["job_id"]
                done = await wait_for("the clean sync", lambda: finished(engine, clean_job), 60)
                assert done.status == JobStatus.succeeded, (done.error, first.tail())
                clean = await stored(engine, clean_cid)
                assert clean["posts"] == 40 and clean["post_metrics"] > 0

                _, _, created = await connect(c, cid, session_binding())
                job_id = created["jobs"][0]["job_id"]
                # In the middle of storing the posts, pages still to fetch.
                await kill_mid_job(engine, first, job_id, min_progress=45, saying="Storing posts")

                second = spawn()
                job = await recovered(engine, job_id)
                assert "stopped before it finished" in (job.error or "")
                conn_id = created["connection"]["id"]
                board = (await c.get(f"/v1/connections/{conn_id}", headers=auth([cid]))).json()
                assert board["status"] == "active"

                r = await c.post(f"/v1/jobs/{job_id}/retry", headers=auth([cid]))
                assert r.status_code == 202, r.text
                done = await wait_for("the retried sync", lambda: finished(engine, job_id), 60)
                assert done.status == JobStatus.succeeded, (done.error, second.tail())
                assert await stored(engine, cid) == clean
    finally:
        served.stop()
