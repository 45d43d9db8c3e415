"""Factory of the planner service app.

The planner composes action plans (step 3) and tracks their implementation (step 4). It
gets baselines and account statistics from ingest and peer distributions and co-creator
candidates from benchmark, over HTTP only.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.planner.calendar.router import router as calendar_router
from services.planner.clients.benchmark import BenchmarkClient
from services.planner.clients.ingest import IngestClient
from services.planner.config import PlannerSettings
from services.planner.jobs import registry
from services.planner.models import PlannerJob
from services.planner.plans.router import router as plans_router
from services.planner.tracking.router import router as tracking_router
from services.planner.webhooks.events import outbox
from shared.app import create_service_app
from shared.jobs_api import JobListRoute, jobs_router
from shared.outbox_api import webhooks_router


def create_app(
    settings: PlannerSettings | None = None,
    engine: AsyncEngine | None = None,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """Build the planner. ``transports`` lets tests mount the real ingest and benchmark."""
    settings = settings or PlannerSettings()
    transports = transports or {}

    @contextlib.asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        app.state.ingest = IngestClient(
            settings.ingest_url,
            transport=transports.get("ingest"),
            timeout=settings.backend_timeout,
        )
        app.state.benchmark = BenchmarkClient(
            settings.benchmark_url,
            transport=transports.get("benchmark"),
            timeout=settings.backend_timeout,
        )
        try:
            yield
        finally:
            await app.state.ingest.aclose()
            await app.state.benchmark.aclose()

    return create_service_app(
        service="planner",
        settings=settings,
        title="Balise planner API",
        description=__doc__ or "",
        routers=[
            jobs_router(PlannerJob),
            plans_router,
            calendar_router,
            tracking_router,
            webhooks_router(outbox),
        ],
        registry=registry,
        introspect_url=settings.web_url,
        lifespan_hook=resources,
        engine=engine,
        fast_routes=[JobListRoute(PlannerJob)],
    )
