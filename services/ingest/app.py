"""Factory of the ingest service app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ingest.accounts.router import router as accounts_router
from services.ingest.audit.cache import AuditCache
from services.ingest.audit.report import router as audit_report_router
from services.ingest.audit.router import router as audit_router
from services.ingest.config import IngestSettings
from services.ingest.connections.router import router as connections_router
from services.ingest.imports.router import router as imports_router
from services.ingest.jobs import registry
from services.ingest.models import IngestJob
from services.ingest.stats.router import router as stats_router
from services.ingest.webhooks.events import outbox
from services.ingest.webhooks.incoming import PushRoute
from services.ingest.webhooks.incoming import router as incoming_router
from services.ingest.webhooks.incoming import secrets_router as push_secrets_router
from services.ingest.webhooks.push_writer import PushWriter
from shared.app import create_service_app
from shared.jobs_api import JobListRoute, jobs_router
from shared.outbox_api import webhooks_router


@contextlib.asynccontextmanager
async def _push_writer(app: FastAPI) -> AsyncIterator[None]:
    """The process's writer of metric pushes; finishes what it received at shutdown."""
    # SQLite takes one writer at a time; PostgreSQL overlaps a few batches.
    settings = app.state.settings
    postgres = app.state.engine.dialect.name == "postgresql"
    writer = PushWriter(
        app.state.sessionmaker,
        settings,
        concurrency=settings.push_batches if postgres else 1,
        hot=app.state.reader if postgres else None,
    )
    app.state.push_writer = writer
    try:
        yield
    finally:
        await writer.close()


def create_app(
    settings: IngestSettings | None = None, engine: AsyncEngine | None = None
) -> FastAPI:
    settings = settings or IngestSettings()
    app = create_service_app(
        service="ingest",
        settings=settings,
        title="Balise ingest API",
        description=__doc__ or "",
        routers=[
            jobs_router(IngestJob),
            accounts_router,
            stats_router,
            audit_router,
            connections_router,
            webhooks_router(outbox),
            incoming_router,
            push_secrets_router,
            imports_router,
            audit_report_router,
        ],
        registry=registry,
        lifespan_hook=_push_writer,
        introspect_url=settings.web_url,
        engine=engine,
        # The push and the job list are served ahead of every other route.
        fast_routes=[PushRoute(), JobListRoute(IngestJob)],
    )
    app.state.audit_cache = AuditCache(settings.audit_cache_mb * 1024 * 1024)
    return app
