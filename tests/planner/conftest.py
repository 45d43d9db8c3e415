"""Fixtures of the planner tests: the planner on the real ingest and benchmark apps."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import build_app, running


class PlannerStack:
    def __init__(self, app: Any, client: httpx.AsyncClient, transports: dict[str, Any]):
        self.app = app
        self.planner = client
        self.transports = transports
        self.settings = app.state.settings


@pytest.fixture
def planner_stack(migrated: str, var_dir: Path, engine: AsyncEngine) -> Callable[..., Any]:
    """``async with planner_stack() as s``: ingest, benchmark and planner on the committed
    test database; the planner reaches the two real apps through ``httpx.ASGITransport``.

    Not on the test's rolled-back transaction: the planner calls ingest and benchmark
    concurrently, and concurrent requests cannot share one session. Tests stay apart by
    their own client ids (``new_client_id``).
    """

    @contextlib.asynccontextmanager
    async def _make(**overrides: Any) -> AsyncIterator[PlannerStack]:
        ingest_app = build_app(
            "ingest", migrated, var_dir, engine=engine, run_jobs_in_process=False
        )
        async with running(ingest_app):
            benchmark_app = build_app(
                "benchmark",
                migrated,
                var_dir,
                engine=engine,
                run_jobs_in_process=False,
                factory_kwargs={"ingest_transport": httpx.ASGITransport(app=ingest_app)},
                ingest_url="http://ingest",
            )
            async with running(benchmark_app):
                transports = {
                    "ingest": httpx.ASGITransport(app=ingest_app),
                    "benchmark": httpx.ASGITransport(app=benchmark_app),
                }
                app = build_app(
                    "planner",
                    migrated,
                    var_dir,
                    engine=engine,
                    run_jobs_in_process=False,
                    factory_kwargs={"transports": transports},
                    ingest_url="http://ingest",
                    benchmark_url="http://benchmark",
                    **overrides,
                )
                async with (
                    running(app),
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app), base_url="http://planner"
                    ) as c,
                ):
                    yield PlannerStack(app, c, transports)

    return _make


@pytest.fixture
def planner_job(engine: AsyncEngine) -> Callable[..., Any]:
    """Run one planner job as the worker would: its own sessions on the committed test
    database, ingest and benchmark reached through the stack's transports."""
    from shared.db import create_sessionmaker

    sessionmaker = create_sessionmaker(engine)

    async def _run(stack: PlannerStack, func: Callable[..., Any], name: str, **args: Any) -> Any:
        from services.planner.models import PlannerJob

        async with sessionmaker() as s:
            job = PlannerJob(name=name, args=args, client_id=args.get("client_id"))
            s.add(job)
            await s.commit()

        async def _progress(pct: float, msg: str = "") -> None:
            return None

        ctx: dict[str, Any] = {
            "job": job,
            "settings": stack.settings,
            "sessionmaker": sessionmaker,
            "progress": _progress,
            "transports": stack.transports,
        }
        try:
            return await func(ctx, str(job.id))
        finally:
            for key in ("ingest", "benchmark"):
                client = ctx.pop(key, None)
                if client is not None:
                    await client.aclose()

    return _run
