"""Rules of the calendar: generating it, editing items, per-animator feeds."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import Counter
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services.planner.calendar import repository as repo
from services.planner.calendar.generate import generate
from services.planner.calendar.models import CalendarItem, FeedToken
from services.planner.compute.slots import BestSlots
from services.planner.plans import repository as plan_repo
from services.planner.plans.models import Plan, PlanVersion
from services.planner.plans.service import document
from shared.clock import utcnow
from shared.errors import Invalid, NotFound
from shared.schemas.ingest import Network
from shared.schemas.planner import (
    CalendarItemCreate,
    CalendarItemPublic,
    CalendarItemUpdate,
    CalendarSummary,
    FeedTokenPublic,
    PlanDocument,
    PlanStatus,
)


def public(it: CalendarItem) -> CalendarItemPublic:
    assert it.id is not None
    return CalendarItemPublic(
        id=it.id,
        version_id=it.version_id,
        space_id=it.space_id,
        network=Network(it.network),
        scheduled_at=it.scheduled_at,
        animator_id=it.animator_id,
        pillar_id=it.pillar_id,
        format=it.format,
        title=it.title,
        text=it.text,
        link=it.link,
        status=it.status,
        generated=it.generated,
    )


def default_period(plan: Plan, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or utcnow().date()
    return max(plan.period_start, min(today, plan.period_end)), plan.period_end


async def generate_calendar(
    session: AsyncSession,
    plan: Plan,
    v: PlanVersion,
    slots: BestSlots,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> CalendarSummary:
    """(Re)generate the version's calendar from ``start``: hand-made or edited items stay."""
    assert v.id is not None
    doc = document(v)
    d_start, d_end = default_period(plan)
    start, end = start or d_start, end or d_end
    if end < start:
        raise Invalid("The calendar must end after it starts.", field="end")
    if (end - start).days > 800:
        raise Invalid("A calendar covers at most about two years.", field="end")
    if not doc.spaces:
        raise Invalid("Add the plan's spaces (networks, cadence) before generating a calendar.")
    drafts = generate(doc, start, end, slots.slots)
    since = dt.datetime.combine(start, dt.time(), tzinfo=ZoneInfo(doc.timezone))
    await repo.delete_generated(session, v.id, since.astimezone(dt.UTC))
    now = utcnow()
    await repo.bulk_insert(
        session,
        [
            {
                "version_id": v.id,
                "client_id": v.client_id,
                "space_id": d.space_id,
                "network": d.network.value,
                "scheduled_at": d.scheduled_at,
                "animator_id": d.animator_id,
                "pillar_id": d.pillar_id,
                "format": d.format,
                "title": d.title,
                "text": "",
                "link": None,
                "status": "planned",
                "generated": True,
                "updated_at": now,
            }
            for d in drafts
        ],
    )
    await session.flush()
    return CalendarSummary(
        version_id=v.id,
        items=len(drafts),
        start=start,
        end=end,
        per_network=dict(Counter(d.network.value for d in drafts)),
        per_pillar=dict(Counter(d.pillar_id or "" for d in drafts)),
        slot_sources={
            s.network.value: slots.for_network(s.network)[1]
            for s in doc.spaces
            if s.posts_per_week > 0
        },
    )


def _check_refs(doc: PlanDocument, animator_id: str | None, pillar_id: str | None) -> None:
    if animator_id is not None and animator_id not in {a.id for a in doc.animators}:
        raise Invalid(f"No animator {animator_id!r} in this plan.", field="animator_id")
    if pillar_id is not None and pillar_id not in {p.id for p in doc.pillars}:
        raise Invalid(f"No pillar {pillar_id!r} in this plan.", field="pillar_id")


def _aware(when: dt.datetime, tz: str) -> dt.datetime:
    if when.tzinfo is None:  # a form's local time: the plan's time zone
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when.astimezone(dt.UTC)


async def create_item(
    session: AsyncSession, v: PlanVersion, body: CalendarItemCreate
) -> CalendarItem:
    assert v.id is not None
    doc = document(v)
    _check_refs(doc, body.animator_id, body.pillar_id)
    it = CalendarItem(
        version_id=v.id,
        client_id=v.client_id,
        space_id=body.space_id,
        network=body.network.value,
        scheduled_at=_aware(body.scheduled_at, doc.timezone),
        animator_id=body.animator_id,
        pillar_id=body.pillar_id,
        format=body.format,
        title=body.title,
        text=body.text,
        link=body.link,
        generated=False,
    )
    session.add(it)
    await session.flush()
    return it


async def update_item(
    session: AsyncSession, v: PlanVersion, it: CalendarItem, body: CalendarItemUpdate
) -> CalendarItem:
    doc = document(v)
    data = body.model_dump(exclude_unset=True)
    _check_refs(doc, data.get("animator_id"), data.get("pillar_id"))
    if data.get("scheduled_at") is not None:
        data["scheduled_at"] = _aware(data["scheduled_at"], doc.timezone)
    for k, val in data.items():
        setattr(it, k, val)
    it.updated_at = utcnow()
    session.add(it)
    await session.flush()
    return it


async def item_or_404(session: AsyncSession, v: PlanVersion, item_id: int) -> CalendarItem:
    it = await session.get(CalendarItem, item_id)
    if it is None or it.version_id != v.id:
        raise NotFound(f"No calendar item {item_id}")
    return it


# ---------------------------------------------------------------------------- feeds


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_feed(session: AsyncSession, plan: Plan, animator_id: str) -> FeedTokenPublic:
    """A new unguessable feed token for an animator (256 bits); shown once, kept hashed."""
    assert plan.id is not None
    latest = await plan_repo.latest_version(session, plan.id)
    if latest is None or animator_id not in {a.id for a in document(latest).animators}:
        raise NotFound(f"No animator {animator_id} in plan {plan.id}")
    token = secrets.token_urlsafe(32)
    row = FeedToken(
        plan_id=plan.id,
        client_id=plan.client_id,
        animator_id=animator_id,
        token_hash=hash_token(token),
    )
    session.add(row)
    await session.flush()
    return FeedTokenPublic(
        plan_id=plan.id,
        animator_id=animator_id,
        token=token,
        path=f"/v1/feeds/{token}.ics",
        created_at=row.created_at,
    )


async def revoke_feeds(session: AsyncSession, plan: Plan, animator_id: str) -> int:
    assert plan.id is not None
    rows = await repo.live_feeds(session, plan.id, animator_id)
    now = utcnow()
    for r in rows:
        r.revoked_at = now
        session.add(r)
    await session.flush()
    return len(rows)


async def feed_version(session: AsyncSession, plan_id: int) -> PlanVersion | None:
    """The version an animator's feed shows: the active one, else the latest approved."""
    for status in (PlanStatus.active, PlanStatus.approved):
        rows: Sequence[PlanVersion] = await plan_repo.versions_with_status(
            session, plan_id, [status]
        )
        if rows:
            return max(rows, key=lambda r: r.number)
    return await plan_repo.latest_version(session, plan_id)


async def feed_lookup(session: AsyncSession, token: str) -> FeedToken:
    row = await repo.feed_by_hash(session, hash_token(token))
    if row is None or row.revoked_at is not None:
        # The same answer for unknown and revoked tokens: nothing is leaked.
        raise NotFound("No such calendar feed.")
    return row
