"""The job system: the same job function on the in-process runner and on a real arq worker.

Both paths persist status and progress in the service's job table, and a failed job keeps
its error and can be retried.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ingest.config import IngestSettings
from services.ingest.models import IngestJob
from shared import db as shared_db
from shared.jobs import (
    InProcessRunner,
    JobQueue,
    JobRegistry,
    JobStatus,
    arq_worker_settings,
    base_context,
    execute,
)
from tests.conftest import new_client_id, settings_for


def make_registry() -> JobRegistry:
    reg = JobRegistry(service="ingest", job_model=IngestJob)

    @reg.register("test.count")
    async def count(ctx: dict[str, Any], job_id: str) -> dict[str, Any]:
        n = int(ctx["job"].args["n"])
        for i in range(n):
            await ctx["progress"](100 * i / n, f"step {i + 1} of {n}")
        if ctx["job"].args.get("fail"):
            raise ValueError("the input was refused: row 3, column 'day', value 'x'")
        return {"counted": n}

    return reg


async def _create(engine: AsyncEngine, registry: JobRegistry, args: dict[str, Any]) -> str:
    maker = shared_db.create_sessionmaker(engine)
    async with maker() as s:
        queue = JobQueue(registry)
        job = await queue.enqueue(s, "test.count", client_id=new_client_id(), args=args)
        await s.commit()
        return job.id


async def _get(engine: AsyncEngine, job_id: str) -> IngestJob:
    async with shared_db.create_sessionmaker(engine)() as s:
        job = await s.get(IngestJob, job_id)
        assert job is not None
        return job


async def test_execute_records_progress_result_and_failure(engine, migrated, tmp_path):
    registry = make_registry()
    settings = settings_for(IngestSettings, migrated, tmp_path)
    ctx = await base_context(registry, settings, engine, shared_db.create_sessionmaker(engine))
    ok = await _create(engine, registry, {"n": 3})
    assert await execute(registry, ctx, ok) == {"counted": 3}
    job = await _get(engine, ok)
    assert job.status == JobStatus.succeeded and job.progress == 100
    assert job.result == {"counted": 3} and job.attempts == 1 and job.finished_at

    bad = await _create(engine, registry, {"n": 2, "fail": True})
    assert await execute(registry, ctx, bad) is None
    job = await _get(engine, bad)
    assert job.status == JobStatus.failed
    assert "row 3, column 'day'" in (job.error or "")
    # Running it again without a retry does nothing: it is not queued any more.
    assert await execute(registry, ctx, bad) is None
    assert ctx["tracker"] and await ctx["tracker"].requeue(bad)
    assert (await _get(engine, bad)).status == JobStatus.queued


async def test_in_process_runner_runs_submitted_jobs(engine, migrated, tmp_path):
    registry = make_registry()
    settings = settings_for(IngestSettings, migrated, tmp_path)

    async def make_ctx() -> dict[str, Any]:
        eng = shared_db.engine_from_settings(settings)
        return await base_context(registry, settings, eng, shared_db.create_sessionmaker(eng))

    async def close(ctx: dict[str, Any]) -> None:
        await ctx["engine"].dispose()

    runner = InProcessRunner(registry, make_ctx, close)
    runner.start()
    try:
        ids = [await _create(engine, registry, {"n": 5}) for _ in range(3)]
        for jid in ids:
            runner.submit(jid)
        assert await runner.wait_idle(20)
        for jid in ids:
            job = await _get(engine, jid)
            assert job.status == JobStatus.succeeded, job.error
            assert job.result == {"counted": 5}
    finally:
        runner.stop()


async def test_stale_running_jobs_are_marked_failed_and_retryable(engine, migrated, tmp_path):
    registry = make_registry()
    settings = settings_for(IngestSettings, migrated, tmp_path)
    ctx = await base_context(registry, settings, engine, shared_db.create_sessionmaker(engine))
    jid = await _create(engine, registry, {"n": 1})
    assert await ctx["tracker"].claim(jid) is not None  # a worker took it, then died
    import datetime as dt

    failed = await ctx["tracker"].fail_stale(dt.timedelta(seconds=0))
    assert jid in failed
    job = await _get(engine, jid)
    assert job.status == JobStatus.failed and "stopped before it finished" in (job.error or "")


@pytest.mark.redis
async def test_real_arq_worker_runs_the_same_job(engine, migrated, tmp_path, redis_dsn):
    from arq import create_pool
    from arq.connections import RedisSettings
    from arq.worker import Worker

    registry = make_registry()
    registry_queue = f"balise:test:{uuid.uuid4().hex}"
    settings = settings_for(IngestSettings, migrated, tmp_path, redis_url=redis_dsn)
    ws = arq_worker_settings(registry, lambda: settings)
    pool = await create_pool(RedisSettings.from_dsn(redis_dsn))
    try:
        queue = JobQueue(registry, arq_pool=pool)
        maker = shared_db.create_sessionmaker(engine)
        async with maker() as s:
            job = await queue.enqueue(s, "test.count", client_id=new_client_id(), args={"n": 4})
            await s.commit()
        # The queue name is per test run so parallel runs never steal each other's jobs.
        await pool.enqueue_job("run_job", job.id, _queue_name=registry_queue)
        worker = Worker(
            functions=ws.functions,
            queue_name=registry_queue,
            redis_pool=pool,
            on_startup=ws.on_startup,
            on_shutdown=ws.on_shutdown,
            burst=True,
            poll_delay=0.05,
            handle_signals=False,
        )
        await asyncio.wait_for(worker.main(), 30)
        await worker.close()
        done = await _get(engine, job.id)
        assert done.status == JobStatus.succeeded, done.error
        assert done.result == {"counted": 4}
    finally:
        await pool.aclose()
