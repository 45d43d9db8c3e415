"""Factory of the benchmark service app."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.benchmark.config import BenchmarkSettings
from services.benchmark.jobs import registry
from services.benchmark.models import BenchmarkJob
from shared.app import create_service_app
from shared.jobs_api import jobs_router


def create_app(
    settings: BenchmarkSettings | None = None, engine: AsyncEngine | None = None
) -> FastAPI:
    settings = settings or BenchmarkSettings()
    return create_service_app(
        service="benchmark",
        settings=settings,
        title="Balise benchmark API",
        description=__doc__ or "",
        routers=[jobs_router(BenchmarkJob)],
        registry=registry,
        introspect_url=settings.web_url,
        engine=engine,
    )
