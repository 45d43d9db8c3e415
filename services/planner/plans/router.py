"""REST API of plans and versions: `/v1/plans`, `/v1/versions/{id}/…`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from services.planner.compute import kpis as kpi_catalogue
from services.planner.dependencies import (
    BenchmarkDep,
    IngestDep,
    PlanDep,
    VersionDep,
    VersionPlanDep,
)
from services.planner.plans import service as plan_service
from services.planner.plans import suggest
from services.planner.plans.models import PlanVersion
from shared.auth import PrincipalDep, WriterDep
from shared.db import SessionDep
from shared.errors import Invalid, NotFound
from shared.schemas.common import Page
from shared.schemas.planner import (
    AcceptSuggestion,
    PlanCreate,
    PlanPublic,
    PlanUpdate,
    PlanVersionPublic,
    StyleGuide,
    Suggestions,
    VersionComparison,
    VersionSettings,
)

router = APIRouter(prefix="/v1", tags=["plans"])


@router.post("/plans", status_code=201, response_model=PlanPublic, summary="Create a plan")
async def create_plan(session: SessionDep, principal: WriterDep, body: PlanCreate) -> PlanPublic:
    plan = await plan_service.create_plan(session, principal, body)
    return await plan_service.plan_public(session, plan)


@router.get("/plans", response_model=Page[PlanPublic], summary="A client's plans")
async def list_plans(
    session: SessionDep, principal: PrincipalDep, client_id: int
) -> Page[PlanPublic]:
    return Page[PlanPublic](data=await plan_service.list_plans(session, principal, client_id))


@router.get("/plans/{plan_id}", response_model=PlanPublic)
async def get_plan(session: SessionDep, plan: PlanDep) -> PlanPublic:
    return await plan_service.plan_public(session, plan)


@router.patch("/plans/{plan_id}", response_model=PlanPublic)
async def update_plan(
    session: SessionDep, principal: WriterDep, plan: PlanDep, body: PlanUpdate
) -> PlanPublic:
    await plan_service.update_plan(session, plan, body)
    return await plan_service.plan_public(session, plan)


@router.post(
    "/plans/{plan_id}/versions",
    status_code=201,
    response_model=PlanVersionPublic,
    summary="Start a new draft version, copied from the latest (or from_number)",
)
async def new_version(
    session: SessionDep,
    principal: WriterDep,
    plan: PlanDep,
    from_number: Annotated[int | None, Query(ge=1)] = None,
) -> PlanVersionPublic:
    v = await plan_service.new_version(session, principal, plan, from_number)
    return plan_service.version_public(plan, v)


@router.get("/plans/{plan_id}/versions/{number}", response_model=PlanVersionPublic)
async def version_by_number(session: SessionDep, plan: PlanDep, number: int) -> PlanVersionPublic:
    from services.planner.plans import repository

    assert plan.id is not None
    v = await repository.version_by_number(session, plan.id, number)
    if v is None:
        raise NotFound(f"No version {number} of plan {plan.id}")
    return plan_service.version_public(plan, v)


@router.get(
    "/plans/{plan_id}/compare", response_model=VersionComparison, summary="Compare two versions"
)
async def compare(
    session: SessionDep,
    plan: PlanDep,
    a: Annotated[int, Query(ge=1)],
    b: Annotated[int, Query(ge=1)],
) -> VersionComparison:
    return await plan_service.compare(session, plan, a, b)


@router.get("/versions/{version_id}", response_model=PlanVersionPublic)
async def get_version(version: VersionDep, plan: VersionPlanDep) -> PlanVersionPublic:
    return plan_service.version_public(plan, version)


@router.patch("/versions/{version_id}/settings", response_model=PlanVersionPublic)
async def update_settings(
    session: SessionDep,
    principal: WriterDep,
    version: VersionDep,
    plan: VersionPlanDep,
    body: VersionSettings,
) -> PlanVersionPublic:
    await plan_service.edit(session, version, lambda d: plan_service.apply_settings(d, body))
    return plan_service.version_public(plan, version)


@router.put("/versions/{version_id}/style", response_model=PlanVersionPublic)
async def put_style(
    session: SessionDep,
    principal: WriterDep,
    version: VersionDep,
    plan: VersionPlanDep,
    body: StyleGuide,
) -> PlanVersionPublic:
    def change(d: Any) -> None:
        d.style = body

    await plan_service.edit(session, version, change)
    return plan_service.version_public(plan, version)


def _collection_routes(name: str, model: type[BaseModel]) -> None:
    """POST, PUT and DELETE of one collection's items, with the item's own body type."""
    singular = name[:-1]

    async def create(
        session: SessionDep,
        principal: WriterDep,
        version: VersionDep,
        plan: VersionPlanDep,
        body: model,  # type: ignore[valid-type]
    ) -> PlanVersionPublic:
        await plan_service.edit(session, version, lambda d: plan_service.add_item(d, name, body))
        return plan_service.version_public(plan, version)

    async def replace(
        session: SessionDep,
        principal: WriterDep,
        version: VersionDep,
        plan: VersionPlanDep,
        item_id: str,
        body: model,  # type: ignore[valid-type]
    ) -> PlanVersionPublic:
        await plan_service.edit(
            session, version, lambda d: plan_service.replace_item(d, name, item_id, body)
        )
        return plan_service.version_public(plan, version)

    async def remove(
        session: SessionDep,
        principal: WriterDep,
        version: VersionDep,
        plan: VersionPlanDep,
        item_id: str,
    ) -> PlanVersionPublic:
        await plan_service.edit(
            session, version, lambda d: plan_service.remove_item(d, name, item_id)
        )
        return plan_service.version_public(plan, version)

    # The module postpones annotations: give FastAPI the item's model itself.
    create.__annotations__["body"] = model
    replace.__annotations__["body"] = model
    router.add_api_route(
        f"/versions/{{version_id}}/{name}",
        create,
        methods=["POST"],
        status_code=201,
        response_model=PlanVersionPublic,
        summary=f"Add a {singular} to a draft",
        name=f"add_{singular}",
    )
    router.add_api_route(
        f"/versions/{{version_id}}/{name}/{{item_id}}",
        replace,
        methods=["PUT"],
        response_model=PlanVersionPublic,
        summary=f"Replace a {singular} of a draft",
        name=f"put_{singular}",
    )
    router.add_api_route(
        f"/versions/{{version_id}}/{name}/{{item_id}}",
        remove,
        methods=["DELETE"],
        response_model=PlanVersionPublic,
        summary=f"Remove a {singular} from a draft",
        name=f"delete_{singular}",
    )


for _name, (_model, _prefix) in plan_service.COLLECTIONS.items():
    _collection_routes(_name, _model)


@router.post("/versions/{version_id}/approve", response_model=PlanVersionPublic)
async def approve(
    session: SessionDep, principal: WriterDep, version: VersionDep, plan: VersionPlanDep
) -> PlanVersionPublic:
    await plan_service.approve(session, principal, version)
    return plan_service.version_public(plan, version)


@router.post("/versions/{version_id}/activate", response_model=PlanVersionPublic)
async def activate(
    session: SessionDep, principal: WriterDep, version: VersionDep, plan: VersionPlanDep
) -> PlanVersionPublic:
    await plan_service.activate(session, version)
    return plan_service.version_public(plan, version)


@router.post("/versions/{version_id}/close", response_model=PlanVersionPublic)
async def close(
    session: SessionDep, principal: WriterDep, version: VersionDep, plan: VersionPlanDep
) -> PlanVersionPublic:
    await plan_service.close(session, version)
    return plan_service.version_public(plan, version)


@router.get(
    "/versions/{version_id}/suggestions",
    response_model=Suggestions,
    summary="Baselines, targets, networks, phases and co-creators suggested for a version",
)
async def suggestions(
    principal: PrincipalDep,
    version: VersionDep,
    plan: VersionPlanDep,
    ingest: IngestDep,
    benchmark: BenchmarkDep,
) -> Suggestions:
    doc = plan_service.document(version)
    got = await suggest.gather(ingest, benchmark, principal.token, plan, doc)
    assert version.id is not None
    return suggest.compose(version.id, plan, doc, got)


@router.post(
    "/versions/{version_id}/baselines",
    response_model=PlanVersionPublic,
    summary="Measure every objective's baseline again (the version's window)",
)
async def refresh_baselines(
    session: SessionDep,
    principal: WriterDep,
    version: VersionDep,
    plan: VersionPlanDep,
    ingest: IngestDep,
    benchmark: BenchmarkDep,
) -> PlanVersionPublic:
    plan_service.require_draft(version)
    doc = plan_service.document(version)
    got = await suggest.gather(
        ingest, benchmark, principal.token, plan, doc, with_slots=False, with_cocreators=False
    )
    if got.degraded and not any(got.baselines.values()):
        from shared.errors import ServiceUnavailable

        raise ServiceUnavailable("; ".join(got.degraded[:3]))

    def change(d: Any) -> None:
        for o in d.objectives:
            if o.id in got.baselines and got.baselines[o.id] is not None:
                o.baseline = suggest.to_value(got.baselines[o.id], kpi_catalogue.get(o.kpi).unit)

    await plan_service.edit(session, version, change)
    return plan_service.version_public(plan, version)


@router.post(
    "/versions/{version_id}/accept",
    response_model=PlanVersionPublic,
    summary="Accept a suggestion in one click (a target may be edited before)",
)
async def accept(
    session: SessionDep,
    principal: WriterDep,
    version: VersionDep,
    plan: VersionPlanDep,
    ingest: IngestDep,
    benchmark: BenchmarkDep,
    body: AcceptSuggestion,
) -> PlanVersionPublic:
    plan_service.require_draft(version)
    doc = plan_service.document(version)
    objectives = doc.objectives
    if body.kind in ("target", "baseline"):
        objectives = [o for o in doc.objectives if o.id == body.item_id]
        if not objectives:
            raise NotFound(f"No objective {body.item_id}")
    elif body.kind not in ("networks", "phases", "cocreator"):
        raise Invalid("kind is target, baseline, networks, phases or cocreator.", field="kind")
    got = await suggest.gather(
        ingest,
        benchmark,
        principal.token,
        plan,
        doc,
        objectives=objectives,
        with_slots=False,
        with_cocreators=body.kind == "cocreator",
    )
    assert version.id is not None
    sug = suggest.compose(version.id, plan, doc.model_copy(update={"objectives": objectives}), got)
    await plan_service.edit(session, version, lambda d: _apply(d, body, sug))
    return plan_service.version_public(plan, version)


def _apply(doc: Any, body: AcceptSuggestion, sug: Suggestions) -> None:
    if body.kind in ("target", "baseline"):
        o = next(o for o in doc.objectives if o.id == body.item_id)
        if body.item_id in sug.baselines:
            o.baseline = sug.baselines[body.item_id]
        if body.kind == "baseline":
            return
        t = next(t for t in sug.targets if t.objective_id == body.item_id)
        value = body.value if body.value is not None else t.value
        if value is None:
            raise Invalid("There is no suggested target to accept: enter one.", field="value")
        base = o.baseline.value if o.baseline is not None else None
        if base is not None and value < base:
            raise Invalid(
                f"A growth objective's target ({value:g}) cannot be below its baseline ({base:g}).",
                field="value",
            )
        o.target = value
        o.target_source = t if body.value is None or body.value == t.value else None
        if o.target_source is None:
            # Edited before acceptance: keep where the number came from, say it was edited.
            o.target_source = t.model_copy(
                update={
                    "value": value,
                    "method": f"{t.method}+edited",
                    "rationale": f"Edited from the suggestion ({t.value}): {t.rationale}",
                }
            )
    elif body.kind == "networks":
        recs = [r for r in sug.networks if body.item_id in (None, r.audience_id) and r.recommended]
        for a in doc.audiences:
            if body.item_id in (None, a.id):
                a.networks = [r.network for r in recs if r.audience_id == a.id]
    elif body.kind == "phases":
        if not sug.phases.phases:
            raise Invalid(sug.phases.rationale)
        doc.phases = sug.phases.phases
    elif body.kind == "cocreator":
        match = [c for c in sug.cocreators if c.relay_id == body.relay_id]
        if not match:
            raise NotFound(f"No co-creator candidate {body.relay_id}")
        doc.cocreators.append(match[0])


@router.delete("/plans/{plan_id}", status_code=204)
async def delete_plan(session: SessionDep, principal: WriterDep, plan: PlanDep) -> Response:
    """Delete a plan that was never approved (an approved plan is a record: close it)."""
    from services.planner.plans import repository

    assert plan.id is not None
    versions: list[PlanVersion] = list(await repository.versions_of(session, [plan.id]))
    if any(v.status != "draft" for v in versions):
        from shared.errors import Conflict

        raise Conflict("This plan has approved versions: close it instead of deleting it.")
    await session.delete(plan)
    await session.flush()
    return Response(status_code=204)
