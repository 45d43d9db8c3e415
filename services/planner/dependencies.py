"""Dependencies of the planner's routes: backend clients and the resources of a path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.planner.clients.benchmark import BenchmarkClient
from services.planner.clients.ingest import IngestClient
from services.planner.plans import service as plan_service
from services.planner.plans.models import Plan, PlanVersion
from shared.auth import PrincipalDep
from shared.db import SessionDep


async def get_ingest(request: Request) -> IngestClient:
    client: IngestClient = request.app.state.ingest
    return client


async def get_benchmark(request: Request) -> BenchmarkClient:
    client: BenchmarkClient = request.app.state.benchmark
    return client


IngestDep = Annotated[IngestClient, Depends(get_ingest)]
BenchmarkDep = Annotated[BenchmarkClient, Depends(get_benchmark)]


async def plan_or_404(session: SessionDep, principal: PrincipalDep, plan_id: int) -> Plan:
    return await plan_service.plan_or_404(session, principal, plan_id)


async def version_or_404(
    session: SessionDep, principal: PrincipalDep, version_id: int
) -> PlanVersion:
    return await plan_service.version_or_404(session, principal, version_id)


PlanDep = Annotated[Plan, Depends(plan_or_404)]
VersionDep = Annotated[PlanVersion, Depends(version_or_404)]


async def plan_of(session: SessionDep, version: VersionDep) -> Plan:
    plan = await session.get(Plan, version.plan_id)
    assert plan is not None  # the foreign key guarantees it
    return plan


VersionPlanDep = Annotated[Plan, Depends(plan_of)]
