"""``GET /v1/clients/{client_id}/audit``: the audit of a client for a period."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from services.ingest.audit import service as audit_service
from shared.auth import PrincipalDep
from shared.db import ReadSessionDep
from shared.schemas.audit import AuditReport

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get(
    "/clients/{client_id}/audit",
    response_model=AuditReport,
    summary="The audit: per account, per network and website figures, findings",
    description="Computed once per state of the client's data and served again while it "
    "is unchanged: `generated_at` says when, and the `X-Audit-Cache` header says `hit` or "
    "`miss`.",
)
async def client_audit(
    request: Request,
    client_id: int,
    session: ReadSessionDep,
    principal: PrincipalDep,
    start: dt.date | None = None,
    end: dt.date | None = None,
    compare: Literal["previous", "year"] = "previous",
    min_sample: Annotated[int, Query(ge=3, le=1000)] = 10,
) -> Response:
    principal.require_client(client_id)
    body, computed = await audit_service.report_json(
        session, request.app.state.audit_cache, client_id, start, end, compare, min_sample
    )
    return Response(
        body,
        media_type="application/json",
        headers={"X-Audit-Cache": "miss" if computed else "hit"},
    )
