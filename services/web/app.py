"""The web service: the staff UI over the three backends.

Pages are server-rendered Jinja2 with HTMX; every business figure comes from a backend
over HTTP through the typed clients; a backend that is down degrades its panel, never the
page.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.web.clients.benchmark import BenchmarkClient
from services.web.clients.ingest import IngestClient
from services.web.clients.planner import PlannerClient
from services.web.config import WebSettings
from services.web.dependencies import CsrfFailed, LoginRequired
from services.web.i18n import Translator
from services.web.panels import Panel
from services.web.routers import (
    admin,
    audit,
    auth,
    benchmark,
    benchmark_relays,
    connections,
    home,
    imports,
    internal,
    jobs,
    plan,
    tokens,
    webhooks,
)
from services.web.security import SessionSigner
from services.web.templating import hx_redirect, render
from shared.app import create_service_app
from shared.errors import DomainError, install_problem_handlers, problem, validation_errors
from shared.http import BackendUnavailable
from shared.middleware import ASGIApp, Message, Receive, Scope, Send

STATIC_DIR = Path(__file__).resolve().parent / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Headers every HTML answer carries: a CSP that allows only our static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                ctype = dict(headers).get(b"content-type", b"")
                if ctype.startswith(b"text/html"):
                    extra.append((b"content-security-policy", CSP.encode()))
                    if b"cache-control" not in names:
                        extra.append((b"cache-control", b"no-store"))
                headers.extend(h for h in extra if h[0] not in names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/internal/", "/api/"))


def install_html_errors(app: FastAPI) -> None:
    """Pages get HTML errors; /internal and /api keep problem+json."""

    def page(request: Request, status: int, message: str) -> Response:
        if not hasattr(request.state, "t"):
            request.state.t = Translator(app.state.settings.default_locale)
        return render(
            request, "errors/error.html", {"status": status, "message": message}, status_code=status
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, LoginRequired):
            if _wants_json(request):
                return problem(401, exc.detail, code=exc.code)
            target = request.url.path
            if request.url.query:
                target += "?" + request.url.query
            from urllib.parse import quote

            return hx_redirect(f"/login?next={quote(target)}", request)
        if _wants_json(request):
            headers = exc.extra.pop("headers", None)
            return problem(
                exc.status, exc.detail, code=exc.code, title=exc.title, headers=headers, **exc.extra
            )
        if isinstance(exc, CsrfFailed):
            t = getattr(request.state, "t", Translator("fr_CA"))
            return page(
                request, 403, t("Your session has expired or the form was stale; please try again.")
            )
        return page(request, exc.status, exc.detail)

    @app.exception_handler(BackendUnavailable)
    async def _unavailable(request: Request, exc: BackendUnavailable) -> Response:
        # A page whose own data lives in a backend that is down still renders: the layout,
        # with a degraded panel where that data would be. A form's action failed: 503.
        if _wants_json(request):
            return problem(503, str(exc), code="backend_unavailable")
        if not hasattr(request.state, "t"):
            request.state.t = Translator(app.state.settings.default_locale)
        status = 200 if request.method in ("GET", "HEAD") else 503
        return render(
            request,
            "errors/degraded.html",
            {"panel": Panel(exc.service, error=str(exc) or "unreachable", status=exc.status)},
            status_code=status,
            block="content",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request) or request.url.path.startswith("/static/"):
            return problem(exc.status_code, str(exc.detail), instance=request.url.path)
        t = getattr(request.state, "t", Translator(app.state.settings.default_locale))
        msg = t("Page not found") if exc.status_code == 404 else str(exc.detail)
        return page(request, exc.status_code, msg)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        if _wants_json(request):
            return problem(422, detail, errors=errors)
        return page(request, 422, detail)


def create_app(
    settings: WebSettings | None = None,
    engine: AsyncEngine | None = None,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """Build the web app. ``transports`` lets tests mount the real backend apps in-process."""
    settings = settings or WebSettings()
    transports = transports or {}

    @contextlib.asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        timeout = settings.backend_timeout
        app.state.ingest = IngestClient(
            settings.ingest_url, transport=transports.get("ingest"), timeout=timeout
        )
        app.state.benchmark = BenchmarkClient(
            settings.benchmark_url, transport=transports.get("benchmark"), timeout=timeout
        )
        app.state.planner = PlannerClient(
            settings.planner_url, transport=transports.get("planner"), timeout=timeout
        )
        try:
            yield
        finally:
            for name in ("ingest", "benchmark", "planner"):
                await getattr(app.state, name).aclose()

    app = create_service_app(
        service="web",
        settings=settings,
        title="Balise web",
        description=__doc__ or "",
        routers=[
            # First: the client list and each client's dashboard are the pages most
            # asked for, and routes are matched in order.
            home.router,
            auth.router,
            audit.router,
            imports.router,
            plan.router,
            connections.router,
            webhooks.router,
            benchmark.router,
            benchmark_relays.router,
            # After every router with pages under /c/{slug}/, which it would shadow.
            home.steps_router,
            admin.router,
            tokens.router,
            jobs.router,
            internal.router,
        ],
        lifespan_hook=resources,
        engine=engine,
        fast_routes=[home.dashboard_route],
    )
    app.state.signer = SessionSigner(settings.secret_key.get_secret_value())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_problem_handlers(app)
    install_html_errors(app)
    app.add_middleware(SecurityHeaders)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    return app


__all__ = ["JSONResponse", "create_app"]
