"""Balise benchmark API: peer groups and the peer benchmark, the relay directory, scores.

Every metric comes from the ingest service over HTTP; this service owns peer groups,
peers, relays, scores, shortlists, the agency's scoring weights and the shipped reference
figures. Peer groups, results and shortlists are per client; the relay directory is
agency-wide and visible to staff roles only.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.benchmark.clients.ingest import IngestClient
from services.benchmark.config import BenchmarkSettings
from services.benchmark.jobs import registry
from services.benchmark.models import BenchmarkJob
from services.benchmark.peers.router import router as peers_router
from services.benchmark.relays.router import router as relays_router
from services.benchmark.scoring.router import router as scoring_router
from services.benchmark.webhooks.events import outbox
from shared.app import create_service_app
from shared.jobs_api import JobListRoute, jobs_router
from shared.outbox_api import webhooks_router


def create_app(
    settings: BenchmarkSettings | None = None,
    engine: AsyncEngine | None = None,
    ingest_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """Build the app. ``ingest_transport`` lets tests mount the real ingest app in-process."""
    settings = settings or BenchmarkSettings()

    @contextlib.asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        app.state.ingest = IngestClient(
            settings.ingest_url, transport=ingest_transport, timeout=settings.ingest_timeout
        )
        try:
            yield
        finally:
            await app.state.ingest.aclose()

    return create_service_app(
        service="benchmark",
        settings=settings,
        title="Balise benchmark API",
        description=__doc__ or "",
        routers=[
            jobs_router(BenchmarkJob),
            peers_router,
            relays_router,
            scoring_router,
            webhooks_router(outbox),
        ],
        registry=registry,
        introspect_url=settings.web_url,
        engine=engine,
        fast_routes=[JobListRoute(BenchmarkJob)],
        lifespan_hook=resources,
    )
