"""Every query on plans and versions (the service layer holds no SQL)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.planner.plans.models import Plan, PlanVersion


async def plans_of(session: AsyncSession, client_id: int) -> Sequence[Plan]:
    q = (
        select(Plan)
        .where(Plan.client_id == client_id)
        .order_by(col(Plan.period_start).desc(), col(Plan.id).desc())
    )
    return (await session.exec(q)).all()


async def versions_of(session: AsyncSession, plan_ids: Sequence[int]) -> Sequence[PlanVersion]:
    if not plan_ids:
        return []
    q = (
        select(PlanVersion)
        .where(col(PlanVersion.plan_id).in_(plan_ids))
        .order_by(col(PlanVersion.plan_id), col(PlanVersion.number))
    )
    return (await session.exec(q)).all()


async def version_by_number(session: AsyncSession, plan_id: int, number: int) -> PlanVersion | None:
    q = select(PlanVersion).where(PlanVersion.plan_id == plan_id, PlanVersion.number == number)
    return (await session.exec(q)).first()


async def latest_version(session: AsyncSession, plan_id: int) -> PlanVersion | None:
    q = (
        select(PlanVersion)
        .where(PlanVersion.plan_id == plan_id)
        .order_by(col(PlanVersion.number).desc())
        .limit(1)
    )
    return (await session.exec(q)).first()


async def next_number(session: AsyncSession, plan_id: int) -> int:
    q = select(func.max(PlanVersion.number)).where(PlanVersion.plan_id == plan_id)
    current = (await session.exec(q)).one()
    return int(current or 0) + 1


async def versions_with_status(
    session: AsyncSession, plan_id: int, statuses: Sequence[str]
) -> Sequence[PlanVersion]:
    q = select(PlanVersion).where(
        PlanVersion.plan_id == plan_id, col(PlanVersion.status).in_(statuses)
    )
    return (await session.exec(q)).all()


async def active_versions(
    session: AsyncSession, client_ids: Sequence[int] | None = None
) -> Sequence[PlanVersion]:
    q = select(PlanVersion).where(PlanVersion.status == "active")
    if client_ids is not None:
        q = q.where(col(PlanVersion.client_id).in_(client_ids))
    return (await session.exec(q)).all()
