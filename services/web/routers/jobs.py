"""The job progress component: a fragment that polls a backend's job until it ends."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.web.clients import ServiceClient
from services.web.dependencies import ViewerDep
from services.web.panels import panel
from services.web.templating import render
from shared.errors import NotFound

router = APIRouter(prefix="/jobs", include_in_schema=False)


def _client(request: Request, service: str) -> ServiceClient:
    if service not in ("ingest", "benchmark", "planner"):
        raise NotFound(f"No service {service!r}")
    client: ServiceClient = getattr(request.app.state, service)
    return client


@router.get("/{service}/{job_id}", response_class=HTMLResponse)
async def job_fragment(request: Request, viewer: ViewerDep, service: str, job_id: str) -> Response:
    p = await panel(service, _client(request, service).job(viewer.token(), job_id))
    if p.status == 404:
        raise NotFound(f"No job {job_id}")
    return render(request, "components/_job.html", {"job": p.data, "service": service, "panel": p})


@router.post("/{service}/{job_id}/retry", response_class=HTMLResponse)
async def job_retry(request: Request, viewer: ViewerDep, service: str, job_id: str) -> Response:
    p = await panel(service, _client(request, service).retry_job(viewer.token(), job_id))
    if p.status == 404:
        raise NotFound(f"No job {job_id}")
    return render(request, "components/_job.html", {"job": p.data, "service": service, "panel": p})
