"""The client list, the client home (dashboard) and the step pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.routing import Route

from services.web import service as web_service
from services.web.clients.benchmark import BenchmarkClient
from services.web.clients.ingest import IngestClient
from services.web.clients.planner import PlannerClient
from services.web.dependencies import (
    AdminDep,
    BenchmarkClientDep,
    ClientDep,
    IngestClientDep,
    PlannerClientDep,
    Viewer,
    ViewerDep,
    current_client,
    get_viewer,
    require_viewer,
)
from services.web.models import Client
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
    return await _dashboard(request, viewer, client, ingest, benchmark, planner)


async def _dashboard(
    request: Request,
    viewer: Viewer,
    client: Client,
    ingest: IngestClient,
    benchmark: BenchmarkClient,
    planner: PlannerClient,
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


async def _dashboard_direct(request: Request) -> Response:
    """:func:`client_home` with its dependencies resolved by plain calls: the same
    viewer, client check and page, without FastAPI's dependency solving (a tenth of the
    page's CPU). Exceptions (sign-in required, no such client) go to the same handlers."""
    state = request.app.state
    viewer = await require_viewer(request, await get_viewer(request, state.settings))
    client = await current_client(request, request.path_params["slug"], viewer)
    return await _dashboard(request, viewer, client, state.ingest, state.benchmark, state.planner)


#: Served ahead of every router (the web app puts it first): the most asked-for page.
#: :func:`client_home` stays declared for the route walks of the tests and the docs.
dashboard_route = Route("/c/{slug}", _dashboard_direct, methods=["GET"], name="client_home_fast")


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
