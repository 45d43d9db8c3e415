"""REST API of scoring settings, rescoring runs, clients' themes and reference data."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import col, select

from services.benchmark import reference
from services.benchmark.dependencies import StaffDep, StaffWriterDep
from services.benchmark.scoring import engine as E
from services.benchmark.scoring import service
from services.benchmark.scoring.models import ScoringRun
from shared.auth import PrincipalDep, Role, WriterDep
from shared.db import SessionDep
from shared.jobs import JobNames
from shared.schemas.benchmark import IndustryFigure
from shared.schemas.common import JobAccepted

router = APIRouter(prefix="/v1", tags=["scoring"])


class ScoringSettingsPublic(BaseModel):
    weights: dict[str, float]
    tier_scheme: str
    tier_schemes: dict[str, str] = Field(description="key -> boundaries and source")
    version: int
    updated_by: str | None
    updated_at: dt.datetime
    components: dict[str, str] = Field(description="component -> what it measures")


class ScoringSettingsUpdate(BaseModel):
    weights: dict[str, float] | None = None
    tier_scheme: str | None = Field(default=None, max_length=40)


class SettingsChanged(BaseModel):
    settings: ScoringSettingsPublic
    job: JobAccepted


class RunPublic(BaseModel):
    id: int
    settings_version: int
    weights: dict[str, float]
    tier_scheme: str
    window_start: dt.date
    window_end: dt.date
    relays: int
    job_id: str | None
    started_at: dt.datetime
    finished_at: dt.datetime | None


class Themes(BaseModel):
    keywords: list[str] = Field(max_length=100, description="French or English, any inflection")


COMPONENT_TEXT = {
    "reach": "audience size, on a log scale",
    "resonance": "engagement rate against the benchmark of the relay's tier and network",
    "relevance": "text similarity to the client's editorial keywords (per client)",
    "authenticity": "warning signs: growth spikes, following/follower ratio, mass following, "
    "engagement anomalies",
    "activity": "posting frequency and recency",
}


def _public(row: Any) -> ScoringSettingsPublic:
    return ScoringSettingsPublic(
        weights=row.weights,
        tier_scheme=row.tier_scheme,
        tier_schemes={k: s.describe() for k, s in reference.tier_schemes().items()},
        version=row.version,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        components=COMPONENT_TEXT,
    )


async def _enqueue(
    request: Request, session: SessionDep, client_id: int | None, by: str, reason: str
) -> JobAccepted:
    job = await request.app.state.queue.enqueue(
        session,
        JobNames.BENCHMARK_RESCORE,
        client_id=client_id,
        args={"reason": reason},
        created_by=by,
    )
    return JobAccepted(job_id=job.id, status_url=f"/v1/jobs/{job.id}")


TrackClient = Annotated[
    int | None,
    Query(description="a client of yours whose pages show the job's progress"),
]


@router.get("/scoring/settings", response_model=ScoringSettingsPublic)
async def get_settings(session: SessionDep, staff: StaffDep) -> ScoringSettingsPublic:
    return _public(await service.get_settings(session))


@router.put(
    "/scoring/settings",
    response_model=SettingsChanged,
    summary="Change the agency's weights or tier scheme; the directory is rescored (a job)",
)
async def put_settings(
    body: ScoringSettingsUpdate,
    request: Request,
    session: SessionDep,
    staff: StaffWriterDep,
    client_id: TrackClient = None,
) -> SettingsChanged:
    staff.require_role(Role.strategist, Role.service)
    if client_id is not None:
        staff.require_client(client_id)
    row = await service.update_settings(session, body.weights, body.tier_scheme, staff.subject)
    job = await _enqueue(request, session, client_id, staff.subject, "settings changed")
    return SettingsChanged(settings=_public(row), job=job)


@router.post("/scoring/rescore", response_model=JobAccepted, status_code=202)
async def rescore(
    request: Request, session: SessionDep, staff: StaffWriterDep, client_id: TrackClient = None
) -> JobAccepted:
    if client_id is not None:
        staff.require_client(client_id)
    return await _enqueue(request, session, client_id, staff.subject, "asked")


@router.get("/scoring/runs", response_model=list[RunPublic])
async def runs(
    session: SessionDep, staff: StaffDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[RunPublic]:
    q = select(ScoringRun).order_by(col(ScoringRun.id).desc()).limit(limit)
    return [
        RunPublic.model_validate(r, from_attributes=True) for r in (await session.exec(q)).all()
    ]


@router.get("/clients/{client_id}/themes", response_model=Themes)
async def get_themes(client_id: int, session: SessionDep, principal: PrincipalDep) -> Themes:
    principal.require_client(client_id)
    return Themes(keywords=await service.get_themes(session, client_id))


@router.put("/clients/{client_id}/themes", response_model=Themes)
async def put_themes(
    client_id: int, body: Themes, session: SessionDep, principal: WriterDep
) -> Themes:
    """The client's editorial keywords; relevance is recomputed at the next rescoring."""
    principal.require_client(client_id)
    return Themes(keywords=await service.set_themes(session, client_id, body.keywords))


class ReferencePublic(BaseModel):
    tier_schemes: dict[str, str]
    tier_engagement: dict[str, IndustryFigure]
    industry: dict[str, list[IndustryFigure]]
    screening: dict[str, dict[str, Any]]


@router.get("/reference", response_model=ReferencePublic, summary="The shipped reference data")
async def reference_data(principal: PrincipalDep) -> ReferencePublic:
    tiers: dict[str, IndustryFigure] = {}
    for key in reference.tier_schemes():
        for t in E.TIERS:
            for n in E.NETWORKS:
                fig = reference.tier_engagement_benchmark(key, t, n)
                if fig:
                    tiers[f"{key}:{t}:{n}"] = fig
    industry = {}
    for kpi in reference.KPI_DENOMINATORS:
        for n in E.NETWORKS:
            figs = reference.industry_figures(kpi, n)
            if figs:
                industry[f"{kpi}:{n}"] = figs
    screening = {}
    for name in (
        "mass_follower_following",
        "real_audience_share_min",
        "resonance_min_followers",
        "resonance_min_posts_12_months",
    ):
        v, src = reference.screening(name)
        screening[name] = {"value": v, "source": src}
    return ReferencePublic(
        tier_schemes={k: s.describe() for k, s in reference.tier_schemes().items()},
        tier_engagement=tiers,
        industry=industry,
        screening=screening,
    )
