"""A provider answers 429 and 5xx in bursts during a sync: the sync finishes later, and the
stored figures are exactly a clean run's (nothing duplicated, nothing lost).

The provider is the X API v2 stub (official bodies and ``x-rate-limit-*`` headers) on a
loopback port, with a script of faults for its timeline pages; the sync runs the project's
own X connector (retries with backoff, rate-limit waits) through ``shared.jobs.execute``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.ingest.connections.models import Connection
from services.ingest.store.models import DailyMetric, Post, PostMetric
from services.ingest.sync.jobs import resume_syncs
from services.ingest.sync.models import SyncRun
from tests.conftest import auth, new_client_id
from tests.ingest.connections.conftest import x_settings
from tests.ingest.connections.test_sync import connected, counts, job_context, jobs_of, run
from tests.ingest.connections.x_stub import XStub, make_tweets
from tests.servers import Served

TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank"}
ERRORS = {
    500: {"title": "Internal Server Error", "type": "about:blank", "status": 500},
    502: {"title": "Bad Gateway", "type": "about:blank", "status": 502},
    503: {"title": "Service Unavailable", "type": "about:blank", "status": 503},
    504: {"title": "Gateway Timeout", "type": "about:blank", "status": 504},
}


@dataclass
class BurstyX(XStub):
    """The X stub, answering its timeline pages from a script first: a status to fail
    with, or ``None`` to answer normally."""

    script: list[int | None] = field(default_factory=list)
    faults: list[int] = field(default_factory=list)

    async def user_tweets(self, request: Request) -> Response:
        if self.script:
            code = self.script.pop(0)
            if code == 429:
                self.calls.append(("GET", request.url.path, dict(request.query_params)))
                self.faults.append(429)
                return JSONResponse(
                    {**TOO_MANY, "status": 429}, status_code=429, headers=self._limits(remaining=0)
                )
            if code is not None:
                self.calls.append(("GET", request.url.path, dict(request.query_params)))
                self.faults.append(code)
                return JSONResponse(ERRORS[code], status_code=code)
        return await super().user_tweets(request)


@pytest.fixture
def xstub() -> Iterator[BurstyX]:
    stub = BurstyX(rate_limit_reset_in=0)  # a 429's window resets within about a second
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stub.tweets = make_tweets(9, now - dt.timedelta(hours=1))  # 5 pages of 2
    served = Served(stub.app()).start()
    stub.base_url = served.base_url  # type: ignore[attr-defined]
    yield stub
    served.stop()


def settings(stub: BurstyX) -> dict[str, Any]:
    return {
        **x_settings(stub),
        "connector_retries": 3,
        "connector_backoff_seconds": 0.05,
        "connector_backoff_cap_seconds": 0.2,
    }


async def snapshot(db: Any, account_id: int) -> dict[str, Any]:
    """Counts and the exact rows that matter: a duplicate or a loss shows in either."""
    stored = await counts(db, account_id)
    posts = (await db.exec(select(Post.external_id).where(Post.account_id == account_id))).all()
    metrics = (
        await db.exec(
            select(Post.external_id, PostMetric.metric, PostMetric.value)
            .join(Post, col(Post.id) == PostMetric.post_id)
            .where(Post.account_id == account_id)
        )
    ).all()
    daily = (
        await db.exec(
            select(DailyMetric.metric, DailyMetric.value).where(
                DailyMetric.account_id == account_id
            )
        )
    ).all()
    return {
        **stored,
        "post_ids": sorted(posts),
        "post_metric_rows": sorted(tuple(m) for m in metrics),
        "daily_rows": sorted(tuple(d) for d in daily),
    }


async def account_of(db: Any, conn_id: int) -> int:
    conn = await db.get(Connection, conn_id)
    await db.refresh(conn)
    return int(conn.accounts[0]["account_id"])


async def finish_later(ctx: dict[str, Any], job: Any, db: Any, cid: int) -> Any:
    """Drive a sync a rate limit rescheduled to its end, as the resume schedule does
    (a bounded number of rounds, each waiting only until the provider's reset)."""
    for _ in range(6):
        if job.status != "succeeded" or (job.result or {}).get("status") != "rate_limited":
            return job
        resume_at = dt.datetime.fromisoformat(job.result["resume_at"])
        wait = (resume_at - dt.datetime.now(dt.UTC)).total_seconds()
        assert wait <= 5, f"rescheduled {wait:.0f} s ahead for a reset the stub set at ~1 s"
        await asyncio.sleep(max(0.0, wait))
        assert (await resume_syncs(ctx, ""))["resumed"] == 1
        [resumed] = [j for j in await jobs_of(db, cid, "queued") if j.args.get("kind") == "resume"]
        job = await run(ctx, resumed.id, db)
    raise AssertionError("the sync was still rescheduled after six rounds")


async def clean_run(make_backend, db, connection, stub) -> dict[str, Any]:
    cid = new_client_id()
    async with make_backend("ingest", **settings(stub)) as (app, c):
        conn_id, job_id = await connected(c, cid, stub)
        ctx = await job_context(app, connection, stub)
        del ctx["connectors"]  # the project's X connector, not a test one
        job = await run(ctx, job_id, db)
        assert job.status == "succeeded", job.error
        return await snapshot(db, await account_of(db, conn_id))


async def test_bursts_within_the_retry_budget_finish_with_a_clean_runs_figures(
    make_backend, db, connection, xstub
):
    clean = await clean_run(make_backend, db, connection, xstub)
    assert clean["posts"] == 9 and clean["post_metrics"] > 0 and clean["daily"] >= 1

    cid = new_client_id()
    # Page 1 after a 5xx burst, page 2 after a rate limit, page 3 after a longer burst,
    # page 4 after two rate limits, page 5 after a mixed burst.
    xstub.script = [503, 502, None, 429, None, 500, 503, 504, None, 429, 429, None, 503, 429]
    async with make_backend("ingest", **settings(xstub)) as (app, c):
        conn_id, job_id = await connected(c, cid, xstub)
        ctx = await job_context(app, connection, xstub)
        del ctx["connectors"]
        job = await finish_later(ctx, await run(ctx, job_id, db), db, cid)
        assert job.status == "succeeded", job.error
        assert not xstub.script, "the whole fault script was played"
        assert sorted(xstub.faults) == sorted([503, 502, 429, 500, 503, 504, 429, 429, 503, 429])
        # The sync waited for the rate limits: it said so while it ran.
        assert any("Rate limited" in m for _, m in ctx["tracker"].seen)
        got = await snapshot(db, await account_of(db, conn_id))
        assert got == clean
        runs = (
            await db.exec(
                select(SyncRun).where(SyncRun.connection_id == conn_id).order_by(col(SyncRun.id))
            )
        ).all()
        for r_ in runs:
            await db.refresh(r_)
        # Every run but the last was rescheduled by a rate limit; the last one finished.
        assert {r_.status for r_ in runs[:-1]} <= {"rate_limited"}
        assert runs[-1].status == "succeeded"


async def test_a_burst_longer_than_the_budget_fails_retryable_and_the_retry_completes(
    make_backend, db, connection, xstub
):
    clean = await clean_run(make_backend, db, connection, xstub)
    cid = new_client_id()
    # Two pages through, then the provider fails longer than the connector's retries.
    xstub.script = [None, 429, None, 503, 503, 500, 502]
    async with make_backend("ingest", **settings(xstub)) as (app, c):
        conn_id, job_id = await connected(c, cid, xstub)
        ctx = await job_context(app, connection, xstub)
        del ctx["connectors"]
        job = await run(ctx, job_id, db)
        assert job.status == "failed", job.error
        assert "HTTP 502 after 4 attempts" in (job.error or ""), job.error
        shown = (await c.get(f"/v1/jobs/{job_id}", headers=auth([cid]))).json()
        assert shown["retryable"] is True
        account_id = await account_of(db, conn_id)
        partial = await snapshot(db, account_id)
        assert partial["posts"] <= clean["posts"]

        # More faults while the retry runs: still within each call's budget.
        xstub.script = [502, None, 429, None, 504, 500, None]
        r = await c.post(f"/v1/jobs/{job_id}/retry", headers=auth([cid]))
        assert r.status_code == 202, r.text
        job = await finish_later(ctx, await run(ctx, job_id, db), db, cid)
        assert job.status == "succeeded", job.error
        assert await snapshot(db, account_id) == clean
        runs = (
            await db.exec(
                select(SyncRun).where(SyncRun.connection_id == conn_id).order_by(col(SyncRun.id))
            )
        ).all()
        for r_ in runs:
            await db.refresh(r_)
        assert runs[0].status == "failed" and runs[0].retryable is True
        assert {r_.status for r_ in runs[1:-1]} <= {"rate_limited"}
        assert runs[-1].status == "succeeded"
