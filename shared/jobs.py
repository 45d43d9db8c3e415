"""Jobs: names, queues, persisted status with progress, and the two ways to run them.

A job is a row in the service's own job table (``<service>_job``), created in the
request's transaction and submitted after the commit. The same job function runs either

* on an **arq** worker (``balise worker SERVICE``) when ``REDIS_URL`` is set, one queue per
  service, or
* on the **in-process runner**, a background thread with its own event loop inside the
  service process (the embedded mode), so heavy work never runs on the request loop.

Job functions have the signature ``async def fn(ctx, job_id) -> dict | None``; their
arguments are read from the row (``job.args``), so a failed job can be retried from the
database alone. ``await ctx["progress"](percent, message)`` records progress; an exception
marks the job failed and keeps its error.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import traceback
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Text, and_, or_, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import utcnow

log = logging.getLogger("balise.jobs")

QUEUES = {
    "ingest": "balise:queue:ingest",
    "benchmark": "balise:queue:benchmark",
    "planner": "balise:queue:planner",
}


class JobNames:
    """Every job's name, in one place, so enqueuers and workers agree."""

    INGEST_IMPORT = "ingest.import_file"
    INGEST_SYNC_ACCOUNT = "ingest.sync_account"
    INGEST_DAILY_SYNC = "ingest.daily_sync"
    INGEST_SYNC_RESUME = "ingest.resume_syncs"
    INGEST_AUDIT_PDF = "ingest.audit_pdf"
    BENCHMARK_RESCORE = "benchmark.rescore_relays"
    BENCHMARK_COMPUTE = "benchmark.compute_peer_benchmark"
    PLANNER_SUGGEST = "planner.compose_suggestions"
    PLANNER_EXPORT = "planner.export_plan"
    PLANNER_KPI_CHECK = "planner.check_kpis"
    WEBHOOK_DISPATCH = "webhooks.dispatch"
    JOB_RECOVER = "jobs.recover_stale"


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


def recent_jobs_index(table: str) -> Index:
    """A job table's (client, newest first) index: the job lists read a client's latest
    jobs (``WHERE client_id = ? ORDER BY created_at DESC LIMIT n``) straight from it,
    where an index on the client alone fetched and sorted every job of the client."""
    return Index(f"ix_{table}_client_created", "client_id", "created_at")


class JobBase(SQLModel):
    """Columns of every service's job table. Subclass with ``table=True``."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, primary_key=True, max_length=32)
    name: str = Field(max_length=80, index=True)
    # indexed with created_at (recent_jobs_index): a client's latest jobs are read from
    # the index in order, however many years of jobs the client has
    client_id: int | None = None
    args: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    status: str = Field(default=JobStatus.queued, max_length=16, index=True)
    progress: int = Field(default=0, ge=0, le=100)
    message: str = Field(default="", max_length=500)
    error: str | None = Field(default=None, sa_type=Text, nullable=True)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSON, nullable=True)
    attempts: int = 0
    created_by: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    heartbeat_at: dt.datetime | None = None


class JobPublic(SQLModel):
    id: str
    name: str
    client_id: int | None
    status: str
    progress: int
    message: str
    error: str | None
    result: dict[str, Any] | None
    attempts: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    retryable: bool = False


JobFunc = Callable[[dict[str, Any], str], Awaitable[Mapping[str, Any] | None]]
Hook = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class CronSpec:
    """A job run on a schedule: at ``hour``:``minute`` (UTC) every day, or every N seconds."""

    name: str
    hour: int | None = None
    minute: int = 0
    every_seconds: int | None = None


@dataclass
class JobRegistry:
    """What a service's workers can run. Built once in ``services/<svc>/jobs.py``."""

    service: str
    job_model: type[JobBase]
    functions: dict[str, JobFunc] = field(default_factory=dict)
    startup: Hook | None = None
    shutdown: Hook | None = None
    cron: list[CronSpec] = field(default_factory=list)
    job_timeout: int = 3600
    max_tries: int = 3

    @property
    def queue(self) -> str:
        return QUEUES[self.service]

    def register(self, name: str) -> Callable[[JobFunc], JobFunc]:
        def deco(fn: JobFunc) -> JobFunc:
            self.functions[name] = fn
            return fn

        return deco


# --------------------------------------------------------------------------- status


class JobTracker:
    """Reads and writes job rows outside the request's transaction (jobs own theirs)."""

    def __init__(self, model: type[JobBase], sessionmaker: async_sessionmaker[AsyncSession]):
        self.model = model
        self.sessionmaker = sessionmaker

    async def claim(
        self,
        job_id: str,
        *,
        allow_rerun: bool = False,
        stale_after: dt.timedelta = dt.timedelta(seconds=90),
    ) -> JobBase | None:
        """Mark a job running; None when another worker already has it or it has ended.

        ``allow_rerun`` also takes a job left "running" by a worker that died, but only
        once its heartbeat is older than ``stale_after``: never one a live worker runs.
        """
        m = self.model
        async with self.sessionmaker() as s:
            now = utcnow()
            claimable = col(m.status) == JobStatus.queued
            if allow_rerun:
                claimable = or_(
                    claimable,
                    and_(
                        col(m.status) == JobStatus.running,
                        or_(col(m.heartbeat_at).is_(None), col(m.heartbeat_at) < now - stale_after),
                    ),
                )
            res = await s.exec(
                update(m)
                .where(col(m.id) == job_id, claimable)
                .values(
                    status=JobStatus.running,
                    started_at=now,
                    heartbeat_at=now,
                    attempts=m.attempts + 1,
                    error=None,
                    message="started",
                )
            )
            await s.commit()
            if res.rowcount == 0:
                return None
            return await s.get(m, job_id)

    async def progress(self, job_id: str, percent: float, message: str = "") -> None:
        m = self.model
        async with self.sessionmaker() as s:
            await s.exec(
                update(m)
                .where(col(m.id) == job_id)
                .values(
                    progress=max(0, min(100, int(percent))),
                    message=message[:500],
                    heartbeat_at=utcnow(),
                )
            )
            await s.commit()

    async def heartbeat(self, job_id: str) -> None:
        m = self.model
        async with self.sessionmaker() as s:
            await s.exec(
                update(m)
                .where(col(m.id) == job_id, col(m.status) == JobStatus.running)
                .values(heartbeat_at=utcnow())
            )
            await s.commit()

    async def finish(
        self, job_id: str, *, result: Mapping[str, Any] | None = None, error: str | None = None
    ) -> None:
        m = self.model
        values: dict[str, Any] = {"finished_at": utcnow(), "heartbeat_at": utcnow()}
        if error is None:
            values.update(
                status=JobStatus.succeeded,
                progress=100,
                result=dict(result or {}),
                message="done",
            )
        else:
            values.update(status=JobStatus.failed, error=error[:20_000], message="failed")
        async with self.sessionmaker() as s:
            await s.exec(update(m).where(col(m.id) == job_id).values(**values))
            await s.commit()

    async def requeue(self, job_id: str) -> bool:
        m = self.model
        async with self.sessionmaker() as s:
            res = await s.exec(
                update(m)
                .where(col(m.id) == job_id, col(m.status) == JobStatus.failed)
                .values(
                    status=JobStatus.queued, progress=0, message="queued again", finished_at=None
                )
            )
            await s.commit()
            return bool(res.rowcount)

    async def fail_stale(self, older_than: dt.timedelta) -> list[str]:
        """Jobs 'running' with no heartbeat for a while lost their worker: mark them failed."""
        m = self.model
        cutoff = utcnow() - older_than
        async with self.sessionmaker() as s:
            rows = await s.exec(
                select(m.id).where(
                    col(m.status) == JobStatus.running,
                    col(m.heartbeat_at) < cutoff,
                )
            )
            ids = list(rows)
            if ids:
                await s.exec(
                    update(m)
                    .where(col(m.id).in_(ids), col(m.status) == JobStatus.running)
                    .values(
                        status=JobStatus.failed,
                        finished_at=utcnow(),
                        message="failed",
                        error="The worker running this job stopped before it finished; "
                        "nothing of it was kept. Retry the job.",
                    )
                )
                await s.commit()
            return ids

    async def queued_ids(self) -> list[str]:
        m = self.model
        async with self.sessionmaker() as s:
            rows = await s.exec(
                select(m.id).where(col(m.status) == JobStatus.queued).order_by(col(m.created_at))
            )
            return list(rows)


async def execute(
    registry: JobRegistry, ctx: dict[str, Any], job_id: str, *, allow_rerun: bool = False
) -> dict[str, Any] | None:
    """Run one job by id with status tracking. Used by both the arq worker and the runner."""
    tracker: JobTracker = ctx["tracker"]
    job = await tracker.claim(job_id, allow_rerun=allow_rerun, stale_after=stale_after(ctx))
    if job is None:
        log.info("job %s is not queued any more; skipped", job_id)
        return None
    fn = registry.functions.get(job.name)
    if fn is None:
        await tracker.finish(job_id, error=f"unknown job {job.name!r}")
        return None
    last = [0.0]

    async def progress(percent: float, message: str = "") -> None:
        # At most a few writes a second, whatever the job's loop does.
        now = asyncio.get_running_loop().time()
        if percent < 100 and now - last[0] < 0.25:
            return
        last[0] = now
        await tracker.progress(job_id, percent, message)

    job_ctx = {**ctx, "progress": progress, "job": job, "job_id": job_id}
    metrics = ctx.get("metrics")
    beat = asyncio.create_task(_heartbeat(tracker, job_id, heartbeat_seconds(ctx), ctx))
    try:
        result = await fn(job_ctx, job_id)
    except asyncio.CancelledError:
        await tracker.finish(job_id, error="cancelled: the worker was stopped")
        raise
    except Exception as exc:  # the job's own failure, kept on the row
        log.exception("job %s (%s) failed", job_id, job.name)
        err = getattr(exc, "public_message", None) or f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exc(limit=8)
        await tracker.finish(job_id, error=f"{err}\n\n{tb}" if ctx.get("keep_traceback") else err)
        if metrics is not None:
            metrics.jobs.labels(registry.service, job.name, "failed").inc()
        return None
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
    await tracker.finish(job_id, result=dict(result or {}))
    if metrics is not None:
        metrics.jobs.labels(registry.service, job.name, "succeeded").inc()
    return dict(result or {})


def heartbeat_seconds(ctx: Mapping[str, Any]) -> float:
    return float(getattr(ctx.get("settings"), "job_heartbeat_seconds", 10.0))


def stale_after(ctx: Mapping[str, Any]) -> dt.timedelta:
    seconds = float(getattr(ctx.get("settings"), "job_stale_after_seconds", 90.0))
    return dt.timedelta(seconds=seconds)


async def _heartbeat(
    tracker: JobTracker, job_id: str, every: float, ctx: Mapping[str, Any]
) -> None:
    """While the job runs, prove its worker is alive (whatever the job's own progress).

    Not on SQLite: a write from another connection in the middle of the job's own
    transaction would make its next write fail ("database is locked"); there the job's
    progress, written where it has no write in flight, is its heartbeat.
    """
    engine = ctx.get("engine")
    if engine is None or engine.dialect.name == "sqlite":
        return
    while True:
        await asyncio.sleep(every)
        try:
            await tracker.heartbeat(job_id)
        except Exception:  # a missed beat is not the job's failure
            log.warning("heartbeat of job %s not recorded", job_id, exc_info=True)


async def recover_stale(ctx: Mapping[str, Any]) -> list[str]:
    """Mark failed (and so retryable) the jobs whose worker died mid-run."""
    tracker: JobTracker = ctx["tracker"]
    ids = await tracker.fail_stale(stale_after(ctx))
    if ids:
        log.warning("%d job(s) lost their worker and were marked failed: %s", len(ids), ids)
    return ids


# --------------------------------------------------------------------------- queues


class JobQueue:
    """Submits jobs to arq or to the in-process runner, after the request commits."""

    def __init__(
        self, registry: JobRegistry, *, arq_pool: Any = None, runner: InProcessRunner | None = None
    ) -> None:
        self.registry = registry
        self.arq_pool = arq_pool
        self.runner = runner

    async def enqueue(
        self,
        session: AsyncSession,
        name: str,
        *,
        client_id: int | None,
        args: Mapping[str, Any] | None = None,
        created_by: str | None = None,
    ) -> JobBase:
        """Create the job row in ``session`` and submit it once the session commits.

        With Redis, the queue must be reachable first: when it is down the request fails
        fast (503, its transaction rolled back) rather than store a job nothing will run.
        """
        if self.arq_pool is not None:
            await self._queue_reachable()
        job = self.registry.job_model(
            name=name, client_id=client_id, args=dict(args or {}), created_by=created_by
        )
        session.add(job)
        await session.flush()
        after_commit(session, lambda: self.submit(job.id))
        return job

    async def _queue_reachable(self) -> None:
        from shared.errors import ServiceUnavailable

        try:
            await asyncio.wait_for(self.arq_pool.ping(), 2)
        except Exception as exc:
            log.warning("job queue unreachable: %s", type(exc).__name__)
            raise ServiceUnavailable(
                "The job queue is unreachable; try again shortly.",
                headers={"Retry-After": "5"},
            ) from exc

    async def submit(self, job_id: str) -> None:
        if self.arq_pool is not None:
            # One arq id per submission: arq drops an enqueue whose id it still knows (a
            # result kept a minute, or the entry a killed worker left), which would leave a
            # retried job queued forever. The row's claim keeps a job from running twice.
            await self.arq_pool.enqueue_job(
                "run_job",
                job_id,
                _job_id=f"job:{job_id}:{uuid.uuid4().hex[:12]}",
                _queue_name=self.registry.queue,
            )
        elif self.runner is not None:
            self.runner.submit(job_id)
        else:
            log.warning("job %s queued with no runner; start `balise worker`", job_id)


def after_commit(session: AsyncSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Run ``callback`` after the request's transaction commits (see shared.db)."""
    session.info.setdefault("after_commit", []).append(callback)


async def run_after_commit(session: AsyncSession) -> None:
    for cb in session.info.pop("after_commit", []):
        try:
            await cb()
        except Exception:
            log.exception("post-commit hook failed")


# --------------------------------------------------------------------------- runner


class InProcessRunner:
    """Runs a service's jobs on a background thread with its own event loop.

    ``ctx_factory`` builds the job context on that loop (its own engine and clients), the
    same context an arq worker builds in ``on_startup``.
    """

    def __init__(
        self,
        registry: JobRegistry,
        ctx_factory: Callable[[], Awaitable[dict[str, Any]]],
        ctx_close: Callable[[dict[str, Any]], Awaitable[None]],
        *,
        concurrency: int = 2,
    ) -> None:
        self.registry = registry
        self.ctx_factory = ctx_factory
        self.ctx_close = ctx_close
        self.concurrency = concurrency
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[str] | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._startup_error: BaseException | None = None
        self.idle = threading.Event()
        self._inflight = 0

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._main, name=f"jobs-{self.registry.service}", daemon=True
        )
        self._thread.start()
        self._ready.wait(30)
        if self._startup_error:
            raise RuntimeError("job runner failed to start") from self._startup_error

    def submit(self, job_id: str) -> None:
        if self._loop is None or self._queue is None:
            raise RuntimeError("runner not started")
        self.idle.clear()
        self._loop.call_soon_threadsafe(self._queue.put_nowait, job_id)

    def stop(self, timeout: float = 10) -> None:
        if self._loop and self._stopping:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread:
            self._thread.join(timeout)

    async def wait_idle(self, timeout: float = 30) -> bool:
        """For tests and the CLI: wait until every submitted job has finished."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.idle.wait, timeout)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._queue = asyncio.Queue()
        self._stopping = asyncio.Event()
        try:
            ctx = await self.ctx_factory()
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        tracker: JobTracker = ctx["tracker"]
        # A previous process may have died mid-job: say so on the row, and pick up
        # jobs that were queued but never started.
        with contextlib.suppress(Exception):
            await tracker.fail_stale(dt.timedelta(seconds=0))
        with contextlib.suppress(Exception):
            for jid in await tracker.queued_ids():
                self._queue.put_nowait(jid)
        if self._queue.empty():
            self.idle.set()
        workers = [asyncio.create_task(self._worker(ctx)) for _ in range(self.concurrency)]
        cron = asyncio.create_task(self._cron(ctx))
        await self._stopping.wait()
        for t in [*workers, cron]:
            t.cancel()
        await asyncio.gather(*workers, cron, return_exceptions=True)
        await self.ctx_close(ctx)

    async def _worker(self, ctx: dict[str, Any]) -> None:
        assert self._queue is not None
        while True:
            job_id = await self._queue.get()
            self._inflight += 1
            try:
                await execute(self.registry, ctx, job_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("runner failed on job %s", job_id)
            finally:
                self._inflight -= 1
                if self._queue.empty() and self._inflight == 0:
                    self.idle.set()

    async def _cron(self, ctx: dict[str, Any]) -> None:
        if not self.registry.cron:
            return
        last_run: dict[str, float] = {}
        last_day: dict[str, dt.date] = {}
        loop = asyncio.get_running_loop()
        while True:
            now = utcnow()
            for spec in self.registry.cron:
                fn = self.registry.functions.get(spec.name)
                if fn is None:
                    continue
                due = False
                if spec.every_seconds:
                    due = loop.time() - last_run.get(spec.name, 0) >= spec.every_seconds
                elif spec.hour is not None:
                    due = (now.hour, now.minute) >= (spec.hour, spec.minute) and last_day.get(
                        spec.name
                    ) != now.date()
                    if spec.name not in last_day and (now.hour, now.minute) > (
                        spec.hour,
                        spec.minute,
                    ):
                        # Started after today's slot: next run is tomorrow.
                        last_day[spec.name] = now.date()
                        due = False
                if due:
                    last_run[spec.name] = loop.time()
                    last_day[spec.name] = now.date()
                    try:
                        await fn({**ctx, "progress": _noop_progress, "cron": True}, "")
                    except Exception:
                        log.exception("scheduled job %s failed", spec.name)
            await asyncio.sleep(1)


async def _noop_progress(percent: float, message: str = "") -> None:
    return None


# --------------------------------------------------------------------------- contexts


async def base_context(
    registry: JobRegistry,
    settings: Any,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    metrics: Any = None,
) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "settings": settings,
        "engine": engine,
        "sessionmaker": sessionmaker,
        "tracker": JobTracker(registry.job_model, sessionmaker),
        "registry": registry,
        "metrics": metrics,
        "keep_traceback": getattr(settings, "environment", "") != "production",
    }
    if registry.startup:
        await registry.startup(ctx)
    return ctx


def arq_worker_settings(
    registry: JobRegistry,
    settings_factory: Callable[[], Any],
) -> type:
    """Build the arq ``WorkerSettings`` class for a service's queue."""
    from arq import cron as arq_cron
    from arq.connections import RedisSettings
    from arq.worker import func

    from shared.db import create_sessionmaker, engine_from_settings

    async def on_startup(ctx: dict[str, Any]) -> None:
        settings = settings_factory()
        engine = engine_from_settings(settings)
        ctx.update(await base_context(registry, settings, engine, create_sessionmaker(engine)))
        ctx["queue"] = JobQueue(registry, arq_pool=ctx["redis"])
        # A worker killed mid-job (SIGKILL, OOM, host lost) left its rows "running".
        with contextlib.suppress(Exception):
            await recover_stale(ctx)
        # Redis keeps no queue across a restart without persistence: submit again what
        # the database says is still queued (a job submitted twice runs once: the claim).
        with contextlib.suppress(Exception):
            for jid in await ctx["tracker"].queued_ids():
                await ctx["queue"].submit(jid)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        if registry.shutdown:
            await registry.shutdown(ctx)
        engine = ctx.get("engine")
        if engine is not None:
            await engine.dispose()

    async def run_job(ctx: dict[str, Any], job_id: str) -> dict[str, Any] | None:
        # A retry after a killed worker finds the row still "running": re-run it.
        return await execute(registry, ctx, job_id, allow_rerun=ctx.get("job_try", 1) > 1)

    def cron_wrapper(name: str) -> Callable[[dict[str, Any]], Awaitable[None]]:
        async def _run(ctx: dict[str, Any]) -> None:
            await registry.functions[name]({**ctx, "progress": _noop_progress, "cron": True}, "")

        _run.__qualname__ = _run.__name__ = f"cron_{name.replace('.', '_')}"
        return _run

    async def cron_recover(ctx: dict[str, Any]) -> None:
        # On SQLite no heartbeat runs beside a job (see _heartbeat): only a start recovers.
        if ctx["engine"].dialect.name != "sqlite":
            await recover_stale(ctx)

    cron_recover.__qualname__ = cron_recover.__name__ = "cron_jobs_recover_stale"
    # Every half minute, whatever the other workers: a job whose worker died is told.
    cron_jobs = [arq_cron(cron_recover, second={0, 30}, run_at_startup=False)]
    for spec in registry.cron:
        if spec.every_seconds:
            seconds = set(range(0, 60, max(1, min(59, spec.every_seconds))))
            cron_jobs.append(
                arq_cron(cron_wrapper(spec.name), second=seconds, run_at_startup=False)  # type: ignore[arg-type]
            )
        elif spec.hour is not None:
            cron_jobs.append(
                arq_cron(cron_wrapper(spec.name), hour={spec.hour}, minute={spec.minute})  # type: ignore[arg-type]
            )

    settings = settings_factory()
    _startup, _shutdown = on_startup, on_shutdown

    class WorkerSettings:
        functions: Sequence[Any] = [func(run_job, name="run_job", max_tries=registry.max_tries)]
        queue_name = registry.queue
        redis_settings = RedisSettings.from_dsn(settings.redis_url or "redis://127.0.0.1:6379")
        job_timeout = registry.job_timeout
        max_tries = registry.max_tries
        keep_result = 60
        poll_delay = 0.05
        max_jobs = 10
        health_check_interval = 30
        on_startup = staticmethod(_startup)
        on_shutdown = staticmethod(_shutdown)

    WorkerSettings.cron_jobs = cron_jobs  # type: ignore[attr-defined]
    return WorkerSettings


def public(job: JobBase) -> JobPublic:
    return JobPublic(
        **job.model_dump(
            include={
                "id",
                "name",
                "client_id",
                "status",
                "progress",
                "message",
                "error",
                "result",
                "attempts",
                "created_at",
                "started_at",
                "finished_at",
            }
        ),
        retryable=job.status == JobStatus.failed,
    )
