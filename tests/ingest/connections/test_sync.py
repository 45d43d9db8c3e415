"""The sync jobs against the X stub, through the tests' own small X provider.

The job functions run through ``shared.jobs.execute`` (status, progress and errors on the
job row, as the workers run them) with a context on the test's transaction; the only
stand-in is the provider itself: a local HTTP server speaking X's API v2.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from services.ingest.connections.models import Connection
from services.ingest.jobs import registry
from services.ingest.models import IngestJob
from services.ingest.store.models import DailyMetric, Post, PostMetric
from services.ingest.sync.jobs import daily_sync, resume_syncs
from services.ingest.sync.models import SyncRun
from services.ingest.webhooks.events import REAUTH_REQUIRED, SYNC_COMPLETED, SYNC_FAILED
from services.ingest.webhooks.models import IngestWebhookDelivery
from shared.jobs import JobNames, JobQueue, JobTracker, base_context, execute
from tests.conftest import auth, new_client_id
from tests.ingest.connections.conftest import session_binding, x_settings
from tests.ingest.connections.test_oauth import connect
from tests.ingest.connections.x_stub import make_tweets, tiny_x_factory
from tests.shared.outbox_helpers import tx_sessionmaker


class RecordingTracker(JobTracker):
    """The real tracker, remembering the progress it wrote."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.seen: list[tuple[int, str]] = []

    async def progress(self, job_id: str, percent: float, message: str = "") -> None:
        self.seen.append((int(percent), message))
        await super().progress(job_id, percent, message)


async def job_context(app, connection, xstub) -> dict[str, Any]:
    maker = tx_sessionmaker(connection)
    ctx = await base_context(registry, app.state.settings, connection.engine, maker)
    ctx["tracker"] = RecordingTracker(registry.job_model, maker)
    ctx["connectors"] = {"x": tiny_x_factory(xstub.base_url)}
    ctx["queue"] = JobQueue(registry)  # rows only: the test runs each job itself
    return ctx


async def jobs_of(db, cid: int, status: str | None = None) -> list[IngestJob]:
    q = select(IngestJob).where(
        col(IngestJob.client_id) == cid, col(IngestJob.name) == JobNames.INGEST_SYNC_ACCOUNT
    )
    if status:
        q = q.where(col(IngestJob.status) == status)
    rows = (await db.exec(q.order_by(col(IngestJob.created_at)))).all()
    for r in rows:
        await db.refresh(r)
    return list(rows)


async def run(ctx, job_id: str, db) -> IngestJob:
    await execute(registry, ctx, job_id)
    job = await db.get(IngestJob, job_id)
    await db.refresh(job)
    return job


async def counts(db, account_id: int) -> dict[str, int]:
    posts = (
        await db.exec(select(func.count()).select_from(Post).where(Post.account_id == account_id))
    ).one()
    daily = (
        await db.exec(
            select(func.count())
            .select_from(DailyMetric)
            .where(DailyMetric.account_id == account_id)
        )
    ).one()
    snaps = (
        await db.exec(
            select(func.count())
            .select_from(PostMetric)
            .join(Post, col(Post.id) == PostMetric.post_id)
            .where(Post.account_id == account_id)
        )
    ).one()
    return {"posts": int(posts), "daily": int(daily), "post_metrics": int(snaps)}


async def events_of(db, cid: int) -> list[str]:
    q = (
        select(IngestWebhookDelivery)
        .where(col(IngestWebhookDelivery.client_id) == cid)
        .order_by(col(IngestWebhookDelivery.id))
    )
    return [d.event_type for d in (await db.exec(q)).all()]


async def connected(c, cid, xstub):
    r = await c.post(
        "/v1/webhooks/subscriptions",
        json={
            "client_id": cid,
            "url": "https://93.184.215.14/hook",
            "event_types": [SYNC_COMPLETED, SYNC_FAILED, REAUTH_REQUIRED],
        },
        headers=auth([cid]),
    )
    assert r.status_code == 201
    _, _, created = await connect(c, cid, session_binding())
    return created["connection"]["id"], created["jobs"][0]["job_id"]


@pytest.fixture
def tweets(xstub):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    xstub.tweets = make_tweets(5, now - dt.timedelta(hours=1))
    return xstub.tweets


async def test_backfill_pages_to_the_end_and_a_rerun_duplicates_nothing(
    make_backend, db, connection, xstub, tweets
):
    cid = new_client_id()
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        conn_id, job_id = await connected(c, cid, xstub)
        ctx = await job_context(app, connection, xstub)
        job = await run(ctx, job_id, db)
        assert job.status == "succeeded", job.error
        assert job.args["kind"] == "backfill"
        assert job.result["posts"] == 5 and job.result["daily_rows"] == 1
        assert xstub.tweet_pages_fetched() == 3  # pages of 2: to the end, and no further
        seen = ctx["tracker"].seen
        # Progress goes forward and ends at 100 (the tracker writes a few a second at most).
        assert seen[0][0] < 100 and seen[-1] == (100, "Sync finished")
        assert [p for p, _ in seen] == sorted(p for p, _ in seen)

        conn = await db.get(Connection, conn_id)
        await db.refresh(conn)
        [linked] = conn.accounts
        assert linked["external_id"] == "2244994945" and linked["account_id"]
        assert linked["name"] == "X Developers"
        assert conn.last_success_at is not None and conn.last_error is None
        stored = await counts(db, linked["account_id"])
        assert stored == {"posts": 5, "daily": 1, "post_metrics": 20}

        [run_row] = (await db.exec(select(SyncRun).where(SyncRun.connection_id == conn_id))).all()
        assert run_row.status == "succeeded" and run_row.account_id == linked["account_id"]
        assert run_row.counts["posts"] == 5 and run_row.requests >= 5
        board = (await c.get(f"/v1/connections/{conn_id}", headers=auth([cid]))).json()
        assert board["last_run"]["status"] == "succeeded"

        # "Sync now" re-runs the same window: nothing new, nothing doubled.
        r = await c.post(
            f"/v1/connections/{conn_id}/sync",
            json={"start": (dt.date.today() - dt.timedelta(days=89)).isoformat()},
            headers=auth([cid]),
        )
        assert r.status_code == 202, r.text
        again = await run(ctx, r.json()["jobs"][0]["job_id"], db)
        assert again.status == "succeeded", again.error
        assert again.result["posts"] == 5 and again.result["written"] == 0
        assert await counts(db, linked["account_id"]) == stored
        assert await events_of(db, cid) == [SYNC_COMPLETED, SYNC_COMPLETED]


async def test_a_short_rate_limit_is_waited_for(make_backend, db, connection, xstub, tweets):
    cid = new_client_id()
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        conn_id, job_id = await connected(c, cid, xstub)
        xstub.rate_limit_next = 1
        xstub.rate_limit_reset_in = 0  # resets within about a second
        ctx = await job_context(app, connection, xstub)
        job = await run(ctx, job_id, db)
        assert job.status == "succeeded", job.error
        assert job.result["posts"] == 5
        assert xstub.tweet_pages_fetched() == 4  # the refused page, then the three
        assert any("Rate limited" in m for _, m in ctx["tracker"].seen)


async def test_a_long_rate_limit_reschedules_the_sync(make_backend, db, connection, xstub, tweets):
    cid = new_client_id()
    settings = {**x_settings(xstub), "sync_max_wait_seconds": 0}
    async with make_backend("ingest", **settings) as (app, c):
        conn_id, job_id = await connected(c, cid, xstub)
        xstub.rate_limit_next = 1
        xstub.rate_limit_reset_in = 0
        ctx = await job_context(app, connection, xstub)
        job = await run(ctx, job_id, db)
        assert job.status == "succeeded"  # nothing to retry: it is rescheduled
        assert job.result["status"] == "rate_limited"
        [first] = (await db.exec(select(SyncRun).where(SyncRun.connection_id == conn_id))).all()
        assert first.status == "rate_limited" and first.resume_at is not None
        conn = await db.get(Connection, conn_id)
        await db.refresh(conn)
        assert conn.next_allowed_at == first.resume_at
        assert conn.rate_limit["blocked_by"] == "rate_limit"

        assert (await resume_syncs(ctx, ""))["resumed"] == 0  # not yet
        await asyncio.sleep(max(0.0, (first.resume_at - dt.datetime.now(dt.UTC)).total_seconds()))
        assert (await resume_syncs(ctx, ""))["resumed"] == 1
        assert (await resume_syncs(ctx, ""))["resumed"] == 0  # resumed once only
        queued = await jobs_of(db, cid, "queued")
        [resumed] = [j for j in queued if j.args["kind"] == "resume"]
        assert (resumed.args["start"], resumed.args["end"]) == (
            first.window_start.isoformat(),
            first.window_end.isoformat(),
        )
        done = await run(ctx, resumed.id, db)
        assert done.status == "succeeded" and done.result["posts"] == 5


async def test_an_exhausted_quota_stops_and_is_not_retried(
    make_backend, db, connection, xstub, tweets
):
    cid = new_client_id()
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        conn_id, job_id = await connected(c, cid, xstub)
        xstub.usage_capped = True
        ctx = await job_context(app, connection, xstub)
        job = await run(ctx, job_id, db)
        assert job.status == "failed"
        assert "quota exhausted, not retried" in job.error and "can resume at" in job.error
        [r] = (await db.exec(select(SyncRun).where(SyncRun.connection_id == conn_id))).all()
        assert r.status == "quota_exhausted" and r.resume_at is not None
        assert r.resume_at.day == 1 and r.retryable is False
        conn = await db.get(Connection, conn_id)
        await db.refresh(conn)
        assert conn.next_allowed_at == r.resume_at and conn.rate_limit["blocked_by"] == "quota"
        assert conn.status == "active"
        assert await events_of(db, cid) == [SYNC_FAILED]

        # A person retrying it: the provider is not called again before the quota resets.
        calls = len(xstub.calls)
        r = await c.post(f"/v1/jobs/{job_id}/retry", headers=auth([cid]))
        assert r.status_code == 202
        again = await run(ctx, job_id, db)
        assert again.status == "failed" and "quota" in again.error
        assert len(xstub.calls) == calls
        # Nor does the daily sync queue it.
        out = await daily_sync(ctx, "")
        assert out["skipped"] >= 1
        assert not [j for j in await jobs_of(db, cid, "queued")]


async def test_a_refused_token_asks_for_a_reconnection(make_backend, db, connection, xstub, tweets):
    cid = new_client_id()
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        conn_id, job_id = await connected(c, cid, xstub)
        xstub.unauthorized = True
        ctx = await job_context(app, connection, xstub)
        job = await run(ctx, job_id, db)
        assert job.status == "failed" and "reconnected" in job.error
        [r] = (await db.exec(select(SyncRun).where(SyncRun.connection_id == conn_id))).all()
        assert r.status == "reauth_required"
        conn = await db.get(Connection, conn_id)
        await db.refresh(conn)
        assert conn.status == "reconnect_needed"
        assert sorted(await events_of(db, cid)) == sorted([REAUTH_REQUIRED, SYNC_FAILED])
        r = await c.post(f"/v1/connections/{conn_id}/sync", headers=auth([cid]))
        assert r.status_code == 409


async def test_a_provider_error_fails_cleanly_and_a_retry_completes(
    make_backend, db, connection, xstub, tweets
):
    cid = new_client_id()
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        conn_id, job_id = await connected(c, cid, xstub)
        xstub.fail_5xx_next = 1
        ctx = await job_context(app, connection, xstub)
        job = await run(ctx, job_id, db)
        assert job.status == "failed" and "HTTP 503" in job.error
        shown = (await c.get(f"/v1/jobs/{job_id}", headers=auth([cid]))).json()
        assert shown["retryable"] is True
        [r] = (await db.exec(select(SyncRun).where(SyncRun.connection_id == conn_id))).all()
        assert r.status == "failed" and r.retryable is True
        conn = await db.get(Connection, conn_id)
        await db.refresh(conn)
        assert "HTTP 503" in conn.last_error and conn.status == "active"

        r = await c.post(f"/v1/jobs/{job_id}/retry", headers=auth([cid]))
        assert r.status_code == 202
        job = await run(ctx, job_id, db)
        assert job.status == "succeeded", job.error
        account_id = job.result["account_id"]
        assert (await counts(db, account_id))["posts"] == 5
        assert await events_of(db, cid) == [SYNC_FAILED, SYNC_COMPLETED]


async def test_the_daily_sync_queues_each_active_account(make_backend, db, connection, xstub):
    cid = new_client_id()
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        conn_id, backfill = await connected(c, cid, xstub)
        ctx = await job_context(app, connection, xstub)
        await run(ctx, backfill, db)
        out = await daily_sync(ctx, "")
        assert out["queued"] >= 1
        [daily] = [j for j in await jobs_of(db, cid, "queued")]
        assert daily.args["kind"] == "daily" and daily.created_by == "schedule"
        start = dt.date.fromisoformat(daily.args["start"])
        assert (dt.date.today() - start).days <= 3  # the recent days, not the backfill
        assert (await daily_sync(ctx, ""))["queued"] >= 1
        assert len(await jobs_of(db, cid, "queued")) == 1  # the waiting job is reused


def test_the_schedules_are_on_the_registry():
    from arq.cron import CronJob

    from services.ingest.config import IngestSettings
    from shared.jobs import arq_worker_settings

    specs = {s.name: s for s in registry.cron}
    assert specs[JobNames.INGEST_DAILY_SYNC].hour == 7
    assert specs[JobNames.INGEST_SYNC_RESUME].every_seconds == 60
    assert specs[JobNames.WEBHOOK_DISPATCH].every_seconds == 3
    worker = arq_worker_settings(registry, IngestSettings)
    names = {c.name for c in worker.cron_jobs if isinstance(c, CronJob)}
    assert {
        "cron:cron_ingest_daily_sync",
        "cron:cron_ingest_resume_syncs",
        "cron:cron_webhooks_dispatch",
    } <= names


async def test_the_real_x_connector_through_the_registry(
    make_backend, db, connection, xstub, tweets
):
    """No test provider: the sync builds the project's X connector from the settings."""
    cid = new_client_id()
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        conn_id, job_id = await connected(c, cid, xstub)
        ctx = await job_context(app, connection, xstub)
        del ctx["connectors"]
        job = await run(ctx, job_id, db)
        assert job.status == "succeeded", job.error
        assert job.result["posts"] == 5
        conn = await db.get(Connection, conn_id)
        await db.refresh(conn)
        stored = await counts(db, conn.accounts[0]["account_id"])
        assert stored["posts"] == 5 and stored["daily"] >= 1  # followers from profile()


async def test_a_retry_closes_the_run_a_killed_worker_left_open(
    make_backend, db, connection, xstub, tweets
):
    cid = new_client_id()
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        conn_id, job_id = await connected(c, cid, xstub)
        ctx = await job_context(app, connection, xstub)
        # What a SIGKILL leaves: the run row open, the job marked failed by the recovery.
        orphan = SyncRun(
            client_id=cid,
            connection_id=conn_id,
            network="x",
            job_id=job_id,
            kind="backfill",
            window_start=dt.date.today(),
            window_end=dt.date.today(),
        )
        db.add(orphan)
        job = await db.get(IngestJob, job_id)
        job.status = "failed"
        db.add(job)
        await db.commit()
        r = await c.post(f"/v1/jobs/{job_id}/retry", headers=auth([cid]))
        assert r.status_code == 202
        job = await run(ctx, job_id, db)
        assert job.status == "succeeded", job.error
        runs = (
            await db.exec(select(SyncRun).where(SyncRun.job_id == job_id).order_by(SyncRun.id))
        ).all()
        for r in runs:
            await db.refresh(r)
        assert [r.status for r in runs] == ["failed", "succeeded"]
        assert "worker stopped" in runs[0].error
