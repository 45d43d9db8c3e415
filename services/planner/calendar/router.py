"""REST API of the calendar, its exports and the per-animator ICS feeds."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.planner.calendar import formats
from services.planner.calendar import repository as repo
from services.planner.calendar import service as cal
from services.planner.compute import slots as slot_rules
from services.planner.dependencies import (
    BenchmarkDep,
    IngestDep,
    PlanDep,
    VersionDep,
    VersionPlanDep,
)
from services.planner.plans import service as plan_service
from services.planner.plans import suggest
from services.planner.plans.models import Plan
from shared.auth import PrincipalDep, WriterDep
from shared.db import SessionDep
from shared.errors import Invalid
from shared.schemas.ingest import Network
from shared.schemas.planner import (
    CalendarGenerate,
    CalendarItemCreate,
    CalendarItemPublic,
    CalendarItemUpdate,
    CalendarSummary,
    FeedTokenPublic,
)

router = APIRouter(prefix="/v1", tags=["calendar"])

ICS_TYPE = "text/calendar; charset=utf-8"
CSV_TYPE = "text/csv; charset=utf-8"


def _bounds(
    start: dt.date | None, end: dt.date | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    s = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC) if start else None
    e = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC) if end else None
    return s, e


@router.post(
    "/versions/{version_id}/calendar/generate",
    response_model=CalendarSummary,
    summary="Generate the calendar from cadence, pillar mix and the best time slots",
)
async def generate(
    session: SessionDep,
    principal: WriterDep,
    version: VersionDep,
    plan: VersionPlanDep,
    ingest: IngestDep,
    benchmark: BenchmarkDep,
    body: CalendarGenerate,
) -> CalendarSummary:
    doc = plan_service.document(version)
    got = await suggest.gather(
        ingest, benchmark, principal.token, plan, doc, objectives=[], with_cocreators=False
    )
    return await cal.generate_calendar(
        session,
        plan,
        version,
        slot_rules.best(got.stats, got.client_accounts),
        body.start,
        body.end,
    )


@router.get("/versions/{version_id}/calendar", response_model=list[CalendarItemPublic])
async def list_items(
    session: SessionDep,
    version: VersionDep,
    start: dt.date | None = None,
    end: dt.date | None = None,
    animator_id: str | None = None,
    network: Network | None = None,
) -> list[CalendarItemPublic]:
    assert version.id is not None
    s, e = _bounds(start, end)
    rows = await repo.items(
        session,
        version.id,
        start=s,
        end=e,
        animator_id=animator_id,
        network=network.value if network else None,
    )
    return [cal.public(r) for r in rows]


@router.post("/versions/{version_id}/calendar", status_code=201, response_model=CalendarItemPublic)
async def create_item(
    session: SessionDep, principal: WriterDep, version: VersionDep, body: CalendarItemCreate
) -> CalendarItemPublic:
    return cal.public(await cal.create_item(session, version, body))


@router.patch("/versions/{version_id}/calendar/{item_id}", response_model=CalendarItemPublic)
async def update_item(
    session: SessionDep,
    principal: WriterDep,
    version: VersionDep,
    item_id: int,
    body: CalendarItemUpdate,
) -> CalendarItemPublic:
    it = await cal.item_or_404(session, version, item_id)
    return cal.public(await cal.update_item(session, version, it, body))


@router.delete("/versions/{version_id}/calendar/{item_id}", status_code=204)
async def delete_item(
    session: SessionDep, principal: WriterDep, version: VersionDep, item_id: int
) -> Response:
    it = await cal.item_or_404(session, version, item_id)
    await session.delete(it)
    await session.flush()
    return Response(status_code=204)


@router.get(
    "/versions/{version_id}/calendar.csv",
    summary="Bulk-upload CSV: tool=hootsuite (one network per file) or generic",
    response_class=Response,
)
async def calendar_csv(
    session: SessionDep,
    version: VersionDep,
    tool: Annotated[str, Query(pattern="^(hootsuite|generic)$")] = "generic",
    network: Network | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Response:
    assert version.id is not None
    doc = plan_service.document(version)
    if tool == "hootsuite" and network is None:
        raise Invalid(
            "Hootsuite takes one file per social profile: choose a network.", field="network"
        )
    s, e = _bounds(start, end)
    rows = await repo.items(
        session, version.id, start=s, end=e, network=network.value if network else None
    )
    if tool == "hootsuite":
        body = formats.hootsuite_csv(rows, doc.timezone)
        name = f"hootsuite-{network.value if network else 'all'}-v{version.number}.csv"
    else:
        body = formats.generic_csv(
            rows,
            doc.timezone,
            {a.id: a.name for a in doc.animators},
            {p.id: p.name for p in doc.pillars},
        )
        name = f"calendar-v{version.number}.csv"
    return Response(
        body,
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _ics(session: SessionDep, plan: Plan, animator_id: str | None) -> Response:
    assert plan.id is not None
    v = await cal.feed_version(session, plan.id)
    if v is None or v.id is None:
        body = formats.ics([], name=plan.name, pillars={})
    else:
        doc = plan_service.document(v)
        rows = await repo.items(session, v.id, animator_id=animator_id)
        who = {a.id: a.name for a in doc.animators}.get(animator_id or "", "")
        body = formats.ics(
            rows,
            name=f"{plan.name}" + (f" — {who}" if who else ""),
            pillars={p.id: p.name for p in doc.pillars},
        )
    return Response(body, media_type=ICS_TYPE)


@router.get("/plans/{plan_id}/calendar.ics", response_class=Response)
async def plan_ics(session: SessionDep, plan: PlanDep, animator_id: str | None = None) -> Response:
    """The plan's calendar (its active, else latest approved version) for a signed-in caller."""
    return await _ics(session, plan, animator_id)


@router.post(
    "/plans/{plan_id}/animators/{animator_id}/feed",
    status_code=201,
    response_model=FeedTokenPublic,
    summary="Create an animator's private ICS feed (the token is shown once)",
)
async def create_feed(
    session: SessionDep, principal: WriterDep, plan: PlanDep, animator_id: str
) -> FeedTokenPublic:
    return await cal.create_feed(session, plan, animator_id)


@router.delete("/plans/{plan_id}/animators/{animator_id}/feed", status_code=204)
async def revoke_feed(
    session: SessionDep, principal: WriterDep, plan: PlanDep, animator_id: str
) -> Response:
    await cal.revoke_feeds(session, plan, animator_id)
    return Response(status_code=204)


@router.get(
    "/feeds/{token}.ics",
    response_class=Response,
    summary="An animator's calendar feed, authenticated by its unguessable token",
)
async def feed(session: SessionDep, token: str) -> Response:
    row = await cal.feed_lookup(session, token)
    plan = await session.get(Plan, row.plan_id)
    assert plan is not None
    return await _ics(session, plan, row.animator_id)


__all__ = ["PrincipalDep", "router"]
