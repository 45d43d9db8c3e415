"""Rules of plans and versions: creation, editing a draft, the status lifecycle, comparison.

Draft → approved → active → closed. Only a draft is edited; an approved (or later)
version is immutable and a change starts a new draft copied from it. One draft at a time
per plan, one active version at a time (activating one closes the previous).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.planner.compute import diff, workload
from services.planner.plans import repository as repo
from services.planner.plans.models import Plan, PlanVersion
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import Conflict, Invalid, NotFound
from shared.schemas.planner import (
    Animator,
    Audience,
    CoCreator,
    Objective,
    Phase,
    Pillar,
    PlanCreate,
    PlanDocument,
    PlanPublic,
    PlanStatus,
    PlanUpdate,
    PlanVersionPublic,
    Space,
    VersionComparison,
    VersionSettings,
    VersionSummary,
)

#: Collections of a plan document edited item by item: name -> (model, id prefix).
COLLECTIONS: dict[str, tuple[type[BaseModel], str]] = {
    "audiences": (Audience, "aud"),
    "objectives": (Objective, "obj"),
    "pillars": (Pillar, "pil"),
    "spaces": (Space, "spc"),
    "animators": (Animator, "ani"),
    "cocreators": (CoCreator, "cc"),
    "phases": (Phase, "pha"),
}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def document(version: PlanVersion) -> PlanDocument:
    return PlanDocument.model_validate(version.document)


# ------------------------------------------------------------------------ plans


async def create_plan(session: AsyncSession, principal: Principal, body: PlanCreate) -> Plan:
    principal.require_client(body.client_id)
    if body.period_end <= body.period_start:
        raise Invalid("The period must end after it starts.", field="period_end")
    plan = Plan(
        client_id=body.client_id,
        name=body.name.strip(),
        period_start=body.period_start,
        period_end=body.period_end,
        created_by=principal.subject,
    )
    session.add(plan)
    await session.flush()
    assert plan.id is not None
    session.add(
        PlanVersion(
            plan_id=plan.id,
            client_id=plan.client_id,
            number=1,
            document=PlanDocument().model_dump(mode="json"),
            created_by=principal.subject,
        )
    )
    await session.flush()
    return plan


async def plan_or_404(session: AsyncSession, principal: Principal, plan_id: int) -> Plan:
    plan = await session.get(Plan, plan_id)
    if plan is None or not principal.sees(plan.client_id):
        raise NotFound(f"No plan {plan_id}")
    return plan


async def version_or_404(
    session: AsyncSession, principal: Principal, version_id: int
) -> PlanVersion:
    v = await session.get(PlanVersion, version_id)
    if v is None or not principal.sees(v.client_id):
        raise NotFound(f"No plan version {version_id}")
    return v


def summary(v: PlanVersion) -> VersionSummary:
    assert v.id is not None
    return VersionSummary(
        id=v.id,
        number=v.number,
        status=PlanStatus(v.status),
        created_at=v.created_at,
        approved_at=v.approved_at,
        activated_at=v.activated_at,
        closed_at=v.closed_at,
    )


async def plan_public(session: AsyncSession, plan: Plan) -> PlanPublic:
    assert plan.id is not None
    versions = await repo.versions_of(session, [plan.id])
    return _plan_public(plan, versions)


def _plan_public(plan: Plan, versions: Any) -> PlanPublic:
    assert plan.id is not None
    return PlanPublic(
        id=plan.id,
        client_id=plan.client_id,
        name=plan.name,
        period_start=plan.period_start,
        period_end=plan.period_end,
        created_at=plan.created_at,
        versions=[summary(v) for v in versions if v.plan_id == plan.id],
    )


async def list_plans(
    session: AsyncSession, principal: Principal, client_id: int
) -> list[PlanPublic]:
    principal.require_client(client_id)
    plans = await repo.plans_of(session, client_id)
    versions = await repo.versions_of(session, [p.id for p in plans if p.id is not None])
    return [_plan_public(p, versions) for p in plans]


async def update_plan(session: AsyncSession, plan: Plan, body: PlanUpdate) -> Plan:
    assert plan.id is not None
    latest = await repo.latest_version(session, plan.id)
    if latest is not None and latest.status != PlanStatus.draft:
        raise Conflict(
            "The plan's latest version is approved: start a new version to change it.",
            code_hint="new-version",
        )
    if body.name is not None:
        plan.name = body.name.strip()
    if body.period_start is not None:
        plan.period_start = body.period_start
    if body.period_end is not None:
        plan.period_end = body.period_end
    if plan.period_end <= plan.period_start:
        raise Invalid("The period must end after it starts.", field="period_end")
    session.add(plan)
    await session.flush()
    return plan


# ------------------------------------------------------------------------ versions


def version_public(plan: Plan, v: PlanVersion) -> PlanVersionPublic:
    assert v.id is not None and plan.id is not None
    doc = document(v)
    load = workload.workload(doc)
    return PlanVersionPublic(
        id=v.id,
        plan_id=plan.id,
        client_id=v.client_id,
        plan_name=plan.name,
        period_start=plan.period_start,
        period_end=plan.period_end,
        number=v.number,
        status=PlanStatus(v.status),
        based_on=v.based_on,
        document=doc,
        created_at=v.created_at,
        created_by=v.created_by,
        approved_at=v.approved_at,
        approved_by=v.approved_by,
        activated_at=v.activated_at,
        closed_at=v.closed_at,
        workload=load,
        warnings=workload.warnings(doc, load),
    )


def require_draft(v: PlanVersion) -> None:
    if v.status != PlanStatus.draft:
        raise Conflict(
            f"Version {v.number} is {v.status} and cannot change: start a new version "
            f"(POST /v1/plans/{v.plan_id}/versions).",
        )


async def save_document(session: AsyncSession, v: PlanVersion, doc: PlanDocument) -> None:
    try:
        checked = PlanDocument.model_validate(doc.model_dump(mode="json"))
    except ValidationError as exc:  # pragma: no cover - items are validated on the way in
        raise Invalid(str(exc)) from exc
    v.document = checked.model_dump(mode="json")
    session.add(v)
    await session.flush()


async def edit(session: AsyncSession, v: PlanVersion, change: Callable[[PlanDocument], Any]) -> Any:
    """Apply ``change`` to a draft's document and store it; returns what ``change`` returns."""
    require_draft(v)
    doc = document(v)
    result = change(doc)
    _check_references(doc)
    await save_document(session, v, doc)
    return result


def _check_references(doc: PlanDocument) -> None:
    audiences = {a.id for a in doc.audiences}
    animators = {a.id for a in doc.animators}
    objectives = {o.id for o in doc.objectives}
    for o in doc.objectives:
        if o.audience_id not in audiences:
            raise Invalid(f"No audience {o.audience_id!r} in this plan.", field="audience_id")
    for s in doc.spaces:
        if s.animator_id is not None and s.animator_id not in animators:
            raise Invalid(f"No animator {s.animator_id!r} in this plan.", field="animator_id")
    for p in doc.phases:
        for c in p.gate:
            if c.objective_id not in objectives:
                raise Invalid(f"No objective {c.objective_id!r} in this plan.", field="gate")
    if len({s.network for s in doc.spaces}) != len(doc.spaces):
        raise Invalid("A plan has one space per network.", field="network")


def add_item(doc: PlanDocument, collection: str, item: BaseModel) -> BaseModel:
    _model, prefix = COLLECTIONS[collection]
    item = item.model_copy(update={"id": new_id(prefix)})
    getattr(doc, collection).append(item)
    return item


def replace_item(doc: PlanDocument, collection: str, item_id: str, item: BaseModel) -> BaseModel:
    items = getattr(doc, collection)
    for i, old in enumerate(items):
        if old.id == item_id:
            items[i] = item.model_copy(update={"id": item_id})
            return items[i]
    raise NotFound(f"No {collection[:-1]} {item_id}")


def remove_item(doc: PlanDocument, collection: str, item_id: str) -> None:
    items = getattr(doc, collection)
    keep = [x for x in items if x.id != item_id]
    if len(keep) == len(items):
        raise NotFound(f"No {collection[:-1]} {item_id}")
    setattr(doc, collection, keep)
    # Removing an item removes what points at it, so the document stays consistent.
    if collection == "audiences":
        doc.objectives = [o for o in doc.objectives if o.audience_id != item_id]
    if collection in ("audiences", "objectives"):
        ids = {o.id for o in doc.objectives}
        for p in doc.phases:
            p.gate = [c for c in p.gate if c.objective_id in ids]
    if collection == "animators":
        for s in doc.spaces:
            if s.animator_id == item_id:
                s.animator_id = None


def apply_settings(doc: PlanDocument, body: VersionSettings) -> None:
    if body.baseline_window_days is not None:
        doc.baseline_window_days = body.baseline_window_days
    if body.timezone is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(body.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Invalid(f"Unknown time zone {body.timezone!r}", field="timezone") from exc
        doc.timezone = body.timezone


# ------------------------------------------------------------------------ lifecycle


async def approve(session: AsyncSession, principal: Principal, v: PlanVersion) -> None:
    require_draft(v)
    doc = document(v)
    if not doc.audiences or not doc.objectives:
        raise Invalid("A plan needs at least one audience and one objective to be approved.")
    v.status = PlanStatus.approved
    v.approved_at = utcnow()
    v.approved_by = principal.subject
    session.add(v)
    await session.flush()


async def activate(session: AsyncSession, v: PlanVersion) -> None:
    if v.status != PlanStatus.approved:
        raise Conflict(
            f"Only an approved version can be activated; version {v.number} is {v.status}."
        )
    now = utcnow()
    for other in await repo.versions_with_status(session, v.plan_id, [PlanStatus.active]):
        other.status = PlanStatus.closed
        other.closed_at = now
        session.add(other)
    v.status = PlanStatus.active
    v.activated_at = now
    session.add(v)
    await session.flush()


async def close(session: AsyncSession, v: PlanVersion) -> None:
    if v.status not in (PlanStatus.active, PlanStatus.approved):
        raise Conflict(f"Version {v.number} is {v.status}; only an approved or active one closes.")
    v.status = PlanStatus.closed
    v.closed_at = utcnow()
    session.add(v)
    await session.flush()


async def new_version(
    session: AsyncSession, principal: Principal, plan: Plan, from_number: int | None = None
) -> PlanVersion:
    assert plan.id is not None
    drafts = await repo.versions_with_status(session, plan.id, [PlanStatus.draft])
    if drafts:
        raise Conflict(
            f"Version {drafts[0].number} is still a draft: edit it instead of starting another."
        )
    source = (
        await repo.version_by_number(session, plan.id, from_number)
        if from_number is not None
        else await repo.latest_version(session, plan.id)
    )
    if source is None:
        raise NotFound(f"No version {from_number} of plan {plan.id}")
    v = PlanVersion(
        plan_id=plan.id,
        client_id=plan.client_id,
        number=await repo.next_number(session, plan.id),
        based_on=source.number,
        document=dict(source.document),
        created_by=principal.subject,
    )
    session.add(v)
    await session.flush()
    return v


async def compare(session: AsyncSession, plan: Plan, a: int, b: int) -> VersionComparison:
    assert plan.id is not None
    va = await repo.version_by_number(session, plan.id, a)
    vb = await repo.version_by_number(session, plan.id, b)
    if va is None or vb is None:
        raise NotFound(f"No version {a if va is None else b} of plan {plan.id}")
    return VersionComparison(
        plan_id=plan.id, a=a, b=b, changes=diff.compare(va.document, vb.document)
    )


def horizon(plan: Plan, today: dt.date | None = None) -> tuple[dt.date, int]:
    """The plan's start (today when the period has begun) and its horizon in days."""
    today = today or utcnow().date()
    start = max(plan.period_start, min(today, plan.period_end))
    return start, max(1, (plan.period_end - start).days)
