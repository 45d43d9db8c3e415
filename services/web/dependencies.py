"""Dependencies of the web pages: the viewer, CSRF, the backend clients."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from services.web import security
from services.web.clients.benchmark import BenchmarkClient
from services.web.clients.ingest import IngestClient
from services.web.clients.planner import PlannerClient
from services.web.config import WebSettings
from services.web.i18n import LOCALES, Translator, negotiate
from services.web.models import Client, User
from shared.auth import Role, Scope, mint_service_token
from shared.errors import DomainError, Forbidden

_MINTED: dict[tuple[object, ...], tuple[float, str]] = {}


class LoginRequired(DomainError):
    status, code, title = 401, "login-required", "Sign in required"


class CsrfFailed(DomainError):
    status, code, title = 403, "csrf", "The form is stale"


@dataclass
class Viewer:
    """The signed-in user of this request, with what they may see."""

    user: User
    csrf_token: str
    session_id: str
    clients: list[Client]
    secret: str = field(repr=False)

    @property
    def client_ids(self) -> list[int]:
        return [c.id for c in self.clients if c.id is not None]

    @property
    def is_admin(self) -> bool:
        return self.user.role == Role.admin

    def token(self) -> str:
        """A short-lived token for the backends, carrying this user's role and clients.

        One token per (user, role, clients) is reused for a minute of its five-minute
        life, so the backends' verification cache serves a page's whole fan-out.
        """
        scope = Scope.read if self.user.role == Role.client_viewer else Scope.write
        key = (self.secret, self.user.id, self.user.role, tuple(self.client_ids), scope)
        now = time.monotonic()
        hit = _MINTED.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        token = mint_service_token(
            self.secret,
            subject=str(self.user.id),
            kind="user",
            role=self.user.role,
            client_ids=self.client_ids,
            scope=scope,
        )
        if len(_MINTED) > 10_000:
            _MINTED.clear()
        _MINTED[key] = (now + 60, token)
        return token


async def get_settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[WebSettings, Depends(get_settings)]


async def get_viewer(request: Request, settings: SettingsDep) -> Viewer | None:
    viewer: Viewer | None = None
    cookie = request.cookies.get(security.SESSION_COOKIE)
    if cookie:
        sid = request.app.state.signer.loads(cookie)
        if sid:
            # One read on a connection given back at once: the page then waits on the
            # backends without holding a pooled connection (with one held, 20 pages in
            # flight exhausted the pool and the rest failed).
            maker = request.app.state.sessionmaker
            loaded = await security.load_session(
                request.app.state.reader, maker, sid, idle_minutes=settings.session_idle_minutes
            )
            if loaded:
                row, user, clients = loaded  # fresh objects, bound to no session
                if security.touch_due(row):
                    await security.touch(maker, row.id_hash)
                viewer = Viewer(
                    user=user,
                    csrf_token=row.csrf_token,
                    session_id=sid,
                    clients=clients,
                    secret=request.app.state.secret,
                )
    locale = (
        (viewer.user.locale if viewer else None)
        or request.cookies.get(security.LOCALE_COOKIE)
        or negotiate(request.headers.get("accept-language"), settings.default_locale)
    )
    if locale not in LOCALES:
        locale = settings.default_locale
    request.state.t = Translator(locale)
    request.state.user = viewer.user if viewer else None
    request.state.viewer = viewer
    request.state.csrf_token = viewer.csrf_token if viewer else ""
    request.state.clients = viewer.clients if viewer else []
    return viewer


OptionalViewerDep = Annotated[Viewer | None, Depends(get_viewer)]


async def require_viewer(request: Request, viewer: OptionalViewerDep) -> Viewer:
    if viewer is None:
        raise LoginRequired("Sign in to continue.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await check_csrf(request, viewer)
    return viewer


async def check_csrf(request: Request, viewer: Viewer) -> None:
    given = request.headers.get(security.CSRF_HEADER)
    if not given:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(security.CSRF_FIELD)
            given = value if isinstance(value, str) else None
    if not security.csrf_ok(viewer.csrf_token, given):
        raise CsrfFailed("The form's security token is missing or stale; reload the page.")


ViewerDep = Annotated[Viewer, Depends(require_viewer)]


async def require_admin(viewer: ViewerDep) -> Viewer:
    if not viewer.is_admin:
        raise Forbidden("Only an administrator can do this.")
    return viewer


AdminDep = Annotated[Viewer, Depends(require_admin)]


def client_for(viewer: Viewer, slug: str) -> Client:
    for c in viewer.clients:
        if c.slug == slug:
            return c
    from shared.errors import NotFound

    raise NotFound(f"No client {slug!r}")


async def current_client(request: Request, slug: str, viewer: ViewerDep) -> Client:
    client = client_for(viewer, slug)
    request.state.client = client
    return client


ClientDep = Annotated[Client, Depends(current_client)]


async def get_ingest(request: Request) -> IngestClient:
    client: IngestClient = request.app.state.ingest
    return client


async def get_benchmark(request: Request) -> BenchmarkClient:
    client: BenchmarkClient = request.app.state.benchmark
    return client


async def get_planner(request: Request) -> PlannerClient:
    client: PlannerClient = request.app.state.planner
    return client


IngestClientDep = Annotated[IngestClient, Depends(get_ingest)]
BenchmarkClientDep = Annotated[BenchmarkClient, Depends(get_benchmark)]
PlannerClientDep = Annotated[PlannerClient, Depends(get_planner)]
