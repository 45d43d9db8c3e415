"""Writes the demo's starting draft plan through the planner's own plan service."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.demo.plan import PlanDraft
from services.planner.plans import repository as plan_repo
from services.planner.plans import service as plan_service
from shared.auth import Principal, Role, Scope
from shared.schemas.planner import CoCreator, Objective, PlanCreate, PlanDocument


async def draft_plan(
    session: AsyncSession, client_id: int, draft: PlanDraft, cocreators: list[CoCreator]
) -> int:
    """Create the plan and fill its first (draft) version; returns the plan id."""
    principal = Principal(
        kind="service",
        subject="demo",
        role=Role.strategist,
        client_ids=frozenset({client_id}),
        scope=Scope.write,
    )
    plan = await plan_service.create_plan(
        session,
        principal,
        PlanCreate(
            client_id=client_id,
            name=draft.name,
            period_start=draft.period_start,
            period_end=draft.period_end,
        ),
    )
    assert plan.id is not None
    version = await plan_repo.latest_version(session, plan.id)
    assert version is not None

    def fill(doc: PlanDocument) -> None:
        audience_ids = {
            key: plan_service.add_item(doc, "audiences", audience).id  # type: ignore[attr-defined]
            for key, audience in draft.audiences.items()
        }
        for o in draft.objectives:
            objective = Objective(
                audience_id=audience_ids[o.audience],
                kind=o.kind,
                kpi=o.kpi,
                network=o.network,
                description=o.description,
            )
            plan_service.add_item(doc, "objectives", objective)
        for pillar in draft.pillars:
            plan_service.add_item(doc, "pillars", pillar)
        doc.style = draft.style
        animator_ids = {
            key: plan_service.add_item(doc, "animators", animator).id  # type: ignore[attr-defined]
            for key, animator in draft.animators.items()
        }
        for space in draft.spaces:
            assigned = animator_ids[space.animator_id] if space.animator_id else None
            plan_service.add_item(doc, "spaces", space.model_copy(update={"animator_id": assigned}))
        for cocreator in cocreators:
            plan_service.add_item(doc, "cocreators", cocreator)
        plan_service.add_item(doc, "phases", draft.first_phase)

    await plan_service.edit(session, version, fill)
    return plan.id
