"""The PDF audit report as a job (``JobNames.INGEST_AUDIT_PDF``) and its download.

``POST /v1/clients/{client_id}/audit/reports`` queues the job and answers its id; the job
builds the audit, renders it (progress reported at each stage) and stores the file;
``GET /v1/clients/{client_id}/audit/reports/{job_id}`` serves it once the job succeeded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.audit import pdf
from services.ingest.audit import service as audit_service
from services.ingest.audit.models import AuditReportFile
from services.ingest.jobs import registry
from shared.auth import PrincipalDep, WriterDep
from shared.db import SessionDep
from shared.errors import NotFound
from shared.jobs import JobNames
from shared.schemas.audit import AuditReportRequest
from shared.schemas.common import JobAccepted

router = APIRouter(prefix="/v1", tags=["audit"])


@router.post(
    "/clients/{client_id}/audit/reports",
    response_model=JobAccepted,
    status_code=202,
    summary="Render the audit as a PDF report (a job; poll its status, then download)",
)
async def request_report(
    client_id: int,
    body: AuditReportRequest,
    request: Request,
    session: SessionDep,
    principal: WriterDep,
    client_name: str = "",
) -> JobAccepted:
    principal.require_client(client_id)
    # Validate the period now rather than fail in the job.
    audit_service.periods(body.start, body.end, body.compare)
    job = await request.app.state.queue.enqueue(
        session,
        JobNames.INGEST_AUDIT_PDF,
        client_id=client_id,
        args={**body.model_dump(mode="json"), "client_name": client_name[:200]},
        created_by=principal.subject,
    )
    return JobAccepted(job_id=job.id, status_url=f"/v1/jobs/{job.id}")


@router.get(
    "/clients/{client_id}/audit/reports/{job_id}",
    summary="Download a rendered audit report (PDF)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def download_report(
    client_id: int, job_id: str, session: SessionDep, principal: PrincipalDep
) -> Response:
    principal.require_client(client_id)
    row = await session.get(AuditReportFile, job_id)
    if row is None or row.client_id != client_id:
        raise NotFound(f"No report {job_id} (it may still be rendering)")
    return Response(
        row.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{row.filename}"'},
    )


@registry.register(JobNames.INGEST_AUDIT_PDF)
async def render_audit_pdf(ctx: dict[str, Any], job_id: str) -> dict[str, Any]:
    """Build the audit of ``client_id`` for the job's period and store it as a PDF."""
    job = ctx["job"]
    args = AuditReportRequest.model_validate(job.args)
    client_id = int(job.client_id)
    progress = ctx["progress"]
    await progress(5, "computing the audit")
    session: AsyncSession
    async with ctx["sessionmaker"]() as session:
        report = await audit_service.build_report(
            session, client_id, args.start, args.end, args.compare, args.min_sample
        )
        await progress(50, "rendering the PDF")
        name = str(job.args.get("client_name") or f"client {client_id}")
        content = pdf.render(report, client_name=name, locale=args.locale)
        await progress(90, "saving the file")
        filename = f"audit-{report.start.isoformat()}-{report.end.isoformat()}-{args.locale}.pdf"
        session.add(
            AuditReportFile(
                job_id=job_id,
                client_id=client_id,
                locale=args.locale,
                filename=filename,
                content=content,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        await session.commit()
    return {"filename": filename, "bytes": len(content), "findings": len(report.findings)}
