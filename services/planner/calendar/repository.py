"""Queries of the calendar and its feed tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.planner.calendar.models import CalendarItem, FeedToken


async def items(
    session: AsyncSession,
    version_id: int,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    animator_id: str | None = None,
    network: str | None = None,
) -> Sequence[CalendarItem]:
    q = select(CalendarItem).where(CalendarItem.version_id == version_id)
    if start is not None:
        q = q.where(col(CalendarItem.scheduled_at) >= start)
    if end is not None:
        q = q.where(col(CalendarItem.scheduled_at) < end)
    if animator_id is not None:
        q = q.where(CalendarItem.animator_id == animator_id)
    if network is not None:
        q = q.where(CalendarItem.network == network)
    q = q.order_by(col(CalendarItem.scheduled_at), col(CalendarItem.id))
    return (await session.exec(q)).all()


async def delete_generated(session: AsyncSession, version_id: int, since: dt.datetime) -> None:
    """Remove generated, untouched items from ``since`` on (hand-made ones stay)."""
    await session.exec(
        delete(CalendarItem).where(
            col(CalendarItem.version_id) == version_id,
            col(CalendarItem.generated).is_(True),
            col(CalendarItem.status) == "planned",
            col(CalendarItem.scheduled_at) >= since,
        )
    )


async def bulk_insert(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    if rows:
        await session.exec(insert(CalendarItem), params=rows)


async def feed_by_hash(session: AsyncSession, token_hash: str) -> FeedToken | None:
    q = select(FeedToken).where(FeedToken.token_hash == token_hash)
    return (await session.exec(q)).first()


async def live_feeds(session: AsyncSession, plan_id: int, animator_id: str) -> Sequence[FeedToken]:
    q = select(FeedToken).where(
        FeedToken.plan_id == plan_id,
        FeedToken.animator_id == animator_id,
        col(FeedToken.revoked_at).is_(None),
    )
    return (await session.exec(q)).all()
