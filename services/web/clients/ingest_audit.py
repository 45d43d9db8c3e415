"""The audit's calls to ingest (mixed into :class:`services.web.clients.ingest.IngestClient`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.http import BackendClient
from shared.schemas.audit import AuditReport, AuditReportRequest
from shared.schemas.common import JobAccepted


class IngestAuditMixin(BackendClient):
    async def audit(
        self,
        token: str,
        client_id: int,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        compare: str = "previous",
    ) -> AuditReport:
        """The client's audit for a period (default: the last 90 days vs the 90 before)."""
        params: dict[str, Any] = {"compare": compare}
        if start:
            params["start"] = start.isoformat()
        if end:
            params["end"] = end.isoformat()
        return await self.get_model(
            AuditReport, f"/v1/clients/{client_id}/audit", token=token, params=params
        )

    async def request_audit_report(
        self, token: str, client_id: int, body: AuditReportRequest, client_name: str
    ) -> JobAccepted:
        """Queue the PDF report; poll the job, then fetch it with :meth:`audit_report_pdf`."""
        resp = await self.request(
            "POST",
            f"/v1/clients/{client_id}/audit/reports",
            token=token,
            params={"client_name": client_name},
            json=body.model_dump(mode="json"),
        )
        return JobAccepted.model_validate_json(resp.content)

    async def audit_report_pdf(self, token: str, client_id: int, job_id: str) -> tuple[bytes, str]:
        """The rendered PDF and its file name."""
        resp = await self.request(
            "GET", f"/v1/clients/{client_id}/audit/reports/{job_id}", token=token, timeout=30
        )
        disp = resp.headers.get("content-disposition", "")
        name = disp.split("filename=")[-1].strip('"') if "filename=" in disp else "audit.pdf"
        return resp.content, name
