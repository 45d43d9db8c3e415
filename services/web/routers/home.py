"""The client list, the client home (dashboard) and the step pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from services.web import service as web_service
from services.web.dependencies import (
    AdminDep,
    BenchmarkClientDep,
    ClientDep,
    IngestClientDep,
    PlannerClientDep,
    ViewerDep,
)
from services.web.nav import STEPS, step
from services.web.panels import panels
from services.web.templating import hx_redirect, render
from shared.db import SessionDep
from shared.errors import DomainError, NotFound

router = APIRouter(include_in_schema=False)
#: ``/c/{slug}/{step_key}``: included after every router with pages under ``/c/{slug}/``
steps_router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def root(request: Request, viewer: ViewerDep) -> Response:
    if len(viewer.clients) == 1:
        return hx_redirect(f"/c/{viewer.clients[0].slug}", request)
    return hx_redirect("/clients", request)


@router.get("/clients", response_class=HTMLResponse)
async def client_list(request: Request, viewer: ViewerDep) -> Response:
    return render(request, "clients/index.html", {"form_error": None}, block="content")


@router.post("/clients", response_class=HTMLResponse)
async def client_create(
    request: Request,
    db: SessionDep,
    viewer: AdminDep,
    name: Annotated[str, Form(max_length=200)],
    slug: Annotated[str, Form(max_length=80)] = "",
    locale: Annotated[str, Form(max_length=10)] = "fr_CA",
) -> Response:
    try:
        client = await web_service.create_client(db, name, slug or None, locale)
    except DomainError as exc:
        return render(
            request,
            "clients/index.html",
            {"form_error": exc.detail, "form": {"name": name, "slug": slug, "locale": locale}},
            status_code=exc.status,
            block="content",
        )
    return hx_redirect(f"/c/{client.slug}", request)


@router.get("/c/{slug}", response_class=HTMLResponse)
async def client_home(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    benchmark: BenchmarkClientDep,
    planner: PlannerClientDep,
) -> Response:
    token = viewer.token()
    cid = client.id or 0
    loaded = await panels(
        {
            "ingest": ingest.jobs(token, cid),
            "benchmark": benchmark.jobs(token, cid),
            "planner": planner.jobs(token, cid),
        }
    )
    return render(request, "clients/home.html", {"panels": loaded, "steps": STEPS})


@steps_router.get("/c/{slug}/{step_key}", response_class=HTMLResponse)
async def step_page(
    request: Request, viewer: ViewerDep, client: ClientDep, step_key: str
) -> Response:
    s = step(step_key)
    if s is None:
        raise NotFound(f"No page {step_key!r}")
    if s.available:
        return hx_redirect(f"/c/{client.slug}/{s.path}", request)
    return render(request, "steps/unavailable.html", {"step": s, "steps": STEPS})
