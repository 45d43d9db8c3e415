"""Ingest, served in-process to the benchmark's own ingest client.

The benchmark registers its peers' and relays' accounts in ingest over HTTP, and reads
their figures back the same way. The demo runs that exact path without a server: the real
ingest app behind an ASGI transport, under benchmark's :class:`IngestClient`. While the
demo is loading, the app's requests share the demo's session (one transaction, nothing
committed half-way); afterwards (computing the benchmark, scoring relays) it uses its own
sessions, as the running service would.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benchmark.clients.ingest import IngestClient, service_token
from services.ingest.app import create_app
from services.ingest.config import IngestSettings
from shared.db import get_session


@contextlib.asynccontextmanager
async def ingest_client(
    engine: AsyncEngine,
    client_ids: Iterable[int],
    session: AsyncSession | None = None,
) -> AsyncIterator[tuple[IngestClient, str]]:
    """Benchmark's ingest client on an in-process ingest app, and a service token for it.

    With ``session``, every request of the app runs in that session and never commits
    (the caller owns the transaction).
    """
    settings = IngestSettings(
        redis_url="", run_jobs_in_process=False, check_schema_on_start=False, log_level="WARNING"
    )
    app = create_app(settings, engine=engine)
    if session is not None:
        shared = session

        async def same_session() -> AsyncIterator[AsyncSession]:
            yield shared

        app.dependency_overrides[get_session] = same_session
    token = service_token(settings.secret_key.get_secret_value(), client_ids)
    async with app.router.lifespan_context(app):
        client = IngestClient("http://ingest.in-process", transport=httpx.ASGITransport(app=app))
        try:
            yield client, token
        finally:
            await client.aclose()
