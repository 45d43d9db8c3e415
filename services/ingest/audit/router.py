"""``GET /v1/clients/{client_id}/audit``: the audit of a client for a period."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.ingest.audit import service as audit_service
from shared.auth import PrincipalDep
from shared.db import SessionDep
from shared.schemas.audit import AuditReport

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get(
    "/clients/{client_id}/audit",
    response_model=AuditReport,
    summary="The audit: per account, per network and website figures, findings",
)
async def client_audit(
    client_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    start: dt.date | None = None,
    end: dt.date | None = None,
    compare: Literal["previous", "year"] = "previous",
    min_sample: Annotated[int, Query(ge=3, le=1000)] = 10,
) -> AuditReport:
    principal.require_client(client_id)
    return await audit_service.build_report(session, client_id, start, end, compare, min_sample)
