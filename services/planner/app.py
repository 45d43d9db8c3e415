"""Factory of the planner service app."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.planner.config import PlannerSettings
from services.planner.jobs import registry
from services.planner.models import PlannerJob
from shared.app import create_service_app
from shared.jobs_api import jobs_router


def create_app(
    settings: PlannerSettings | None = None, engine: AsyncEngine | None = None
) -> FastAPI:
    settings = settings or PlannerSettings()
    return create_service_app(
        service="planner",
        settings=settings,
        title="Balise planner API",
        description=__doc__ or "",
        routers=[jobs_router(PlannerJob)],
        registry=registry,
        introspect_url=settings.web_url,
        engine=engine,
    )
