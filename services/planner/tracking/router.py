"""REST API of plan versus actual, the client dashboard and the exports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlmodel import col, select

from services.planner.calendar import service as cal
from services.planner.dependencies import IngestDep, VersionDep, VersionPlanDep
from services.planner.plans import repository as plan_repo
from services.planner.plans import service as plan_service
from services.planner.plans.models import Plan
from services.planner.tracking import service as tracking
from services.planner.tracking.models import PlanExport
from shared.auth import PrincipalDep, WriterDep
from shared.db import SessionDep
from shared.errors import NotFound
from shared.jobs import JobNames
from shared.schemas.common import JobAccepted
from shared.schemas.planner import ExportPublic, ExportRequest, PlanProgress, PlanPublic

router = APIRouter(prefix="/v1", tags=["tracking"])

MEDIA = {
    "pdf": "application/pdf",
    "md": "text/markdown; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@router.get(
    "/versions/{version_id}/progress",
    response_model=PlanProgress,
    summary="Each KPI's progress from ingest, judged against the trajectory to its target",
)
async def progress(
    principal: PrincipalDep,
    version: VersionDep,
    plan: VersionPlanDep,
    ingest: IngestDep,
    as_of: dt.date | None = None,
    series: bool = False,
) -> PlanProgress:
    return await tracking.progress(ingest, principal.token, plan, version, as_of, series=series)


class DashboardEntry(BaseModel):
    plan: PlanPublic
    version_id: int
    version_number: int
    status: str
    progress: PlanProgress


@router.get(
    "/clients/{client_id}/dashboard",
    response_model=list[DashboardEntry],
    summary="Plan versus actual of the client's current plans (active, else approved)",
)
async def dashboard(
    session: SessionDep,
    principal: PrincipalDep,
    ingest: IngestDep,
    client_id: int,
    as_of: dt.date | None = None,
) -> list[DashboardEntry]:
    principal.require_client(client_id)
    out = []
    for plan in await plan_repo.plans_of(session, client_id):
        assert plan.id is not None
        v = await cal.feed_version(session, plan.id)
        if v is None or v.status not in ("active", "approved") or v.id is None:
            continue
        prog = await tracking.progress(ingest, principal.token, plan, v, as_of, series=True)
        out.append(
            DashboardEntry(
                plan=await plan_service.plan_public(session, plan),
                version_id=v.id,
                version_number=v.number,
                status=v.status,
                progress=prog,
            )
        )
    return out


@router.post(
    "/versions/{version_id}/exports",
    status_code=202,
    response_model=JobAccepted,
    summary="Render the plan (PDF, Markdown or DOCX) as a job",
)
async def export(
    request: Request,
    session: SessionDep,
    principal: WriterDep,
    version: VersionDep,
    body: ExportRequest,
) -> JobAccepted:
    job = await request.app.state.queue.enqueue(
        session,
        JobNames.PLANNER_EXPORT,
        client_id=version.client_id,
        args={"version_id": version.id, "format": body.format, "locale": body.locale},
        created_by=principal.subject,
    )
    return JobAccepted(job_id=job.id, status_url=f"/v1/jobs/{job.id}")


@router.get("/versions/{version_id}/exports", response_model=list[ExportPublic])
async def list_exports(session: SessionDep, version: VersionDep) -> list[ExportPublic]:
    rows = (
        await session.exec(
            select(PlanExport)
            .where(PlanExport.version_id == version.id)
            .order_by(col(PlanExport.created_at).desc())
        )
    ).all()
    return [_export_public(r) for r in rows]


def _export_public(r: PlanExport) -> ExportPublic:
    assert r.id is not None
    return ExportPublic(
        id=r.id,
        version_id=r.version_id,
        format=r.format,
        locale=r.locale,
        filename=r.filename,
        size=len(r.content),
        created_at=r.created_at,
    )


@router.get("/exports/{export_id}", response_class=Response, summary="Download an export")
async def download(
    session: SessionDep,
    principal: PrincipalDep,
    export_id: int,
    disposition: Annotated[str, Query(pattern="^(attachment|inline)$")] = "attachment",
) -> Response:
    r = await session.get(PlanExport, export_id)
    if r is None or not principal.sees(r.client_id):
        raise NotFound(f"No export {export_id}")
    return Response(
        r.content,
        media_type=MEDIA[r.format],
        headers={"Content-Disposition": f'{disposition}; filename="{r.filename}"'},
    )


__all__ = ["Plan", "router"]
