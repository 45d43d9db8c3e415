"""Fixtures of the benchmark tests: the real ingest app mounted under benchmark's client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import bind_session, build_app, running, settings_for


@pytest.fixture
def stack(
    migrated: str, var_dir: Path, engine: AsyncEngine, db: AsyncSession
) -> Callable[..., Any]:
    """``async with stack() as s``: ingest and benchmark on the test's transaction.

    ``s.benchmark`` is an httpx client of the benchmark API; benchmark reaches the real
    ingest app through ``httpx.ASGITransport``; ``s.ingest_app`` is that app.
    """

    @contextlib.asynccontextmanager
    async def _make(**overrides: Any) -> AsyncIterator[Any]:
        from services.benchmark.app import create_app
        from services.benchmark.config import BenchmarkSettings

        ingest_app = build_app(
            "ingest", migrated, var_dir, engine=engine, run_jobs_in_process=False
        )
        async with running(ingest_app):
            bind_session(ingest_app, db)
            transport = httpx.ASGITransport(app=ingest_app)
            settings = settings_for(
                BenchmarkSettings,
                migrated,
                var_dir,
                run_jobs_in_process=False,
                ingest_url="http://ingest",
                # ingest's requests share the test's one session: no parallel calls
                ingest_concurrency=1,
                **overrides,
            )
            app = create_app(settings=settings, engine=engine, ingest_transport=transport)
            async with running(app):
                bind_session(app, db)
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://benchmark"
                ) as c:
                    yield _Stack(app, c, ingest_app, transport, settings)

    return _make


class _Stack:
    def __init__(self, app: Any, client: httpx.AsyncClient, ingest_app: Any, t: Any, s: Any):
        self.app = app
        self.benchmark = client
        self.ingest_app = ingest_app
        self.ingest_transport = t
        self.settings = s


@pytest.fixture
def job_context(db: AsyncSession) -> Callable[..., dict[str, Any]]:
    """A job context like the worker's, its session the test's own (rolled back after).

    The job borrows the test's session rather than opening a second one on the same
    connection: two sessions' savepoints would interleave and release each other.
    """

    def _ctx(
        stack: _Stack, job: Any, progress: list[tuple[float, str]] | None = None
    ) -> dict[str, Any]:
        from services.benchmark.clients.ingest import IngestClient

        seen = progress if progress is not None else []

        async def _progress(pct: float, msg: str = "") -> None:
            seen.append((pct, msg))

        def maker() -> contextlib.AbstractAsyncContextManager[AsyncSession]:
            return contextlib.nullcontext(db)  # type: ignore[return-value]

        return {
            "job": job,
            "settings": stack.settings,
            "sessionmaker": maker,
            "progress": _progress,
            "ingest": IngestClient("http://ingest", transport=stack.ingest_transport),
        }

    return _ctx
