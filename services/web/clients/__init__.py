"""Typed clients for the three backends, one module each, over pooled httpx clients."""

from __future__ import annotations

from typing import Any

from shared.http import BackendClient
from shared.jobs import JobPublic
from shared.schemas.common import Page


class ServiceClient(BackendClient):
    """What every backend offers: health and the job API."""

    async def ready(self) -> dict[str, Any]:
        resp = await self.request("GET", "/readyz", timeout=2.0)
        data: dict[str, Any] = resp.json()
        return data

    async def jobs(self, token: str, client_id: int, limit: int = 10) -> list[JobPublic]:
        page = await self.get_model(
            Page[JobPublic],
            "/v1/jobs",
            token=token,
            params={"client_id": client_id, "limit": limit},
        )
        return page.data

    async def job(self, token: str, job_id: str) -> JobPublic:
        return await self.get_model(JobPublic, f"/v1/jobs/{job_id}", token=token)

    async def retry_job(self, token: str, job_id: str) -> JobPublic:
        return await self.send_model("POST", JobPublic, f"/v1/jobs/{job_id}/retry", token=token)
