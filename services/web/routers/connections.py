"""The connection-health board of a client, and connecting accounts from the browser.

OAuth starts here: web asks ingest for an authorization URL bound to this browser
session (an HMAC of the session id, never the id itself), sends the user to the
provider, and finishes at ``/oauth/callback``, where ingest exchanges the code. Tokens
never pass through web's pages.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from services.web.dependencies import ClientDep, IngestClientDep, ViewerDep
from services.web.i18n import Translator
from services.web.panels import panel, panels
from services.web.templating import hx_redirect, render
from shared.errors import NotFound
from shared.http import BackendError, BackendRejected, BackendUnavailable

router = APIRouter(include_in_schema=False)

MAX_KEY_BYTES = 20_000
NETWORK_LABELS = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "x": "X",
    "linkedin": "LinkedIn",
    "youtube": "YouTube",
    "pinterest": "Pinterest",
    "ga4": "Google Analytics 4",
    "matomo": "Matomo",
    "plausible": "Plausible",
    "tiktok": "TikTok",
}


def board_url(slug: str) -> str:
    return f"/c/{slug}/analyse/connections"


def session_binding(request: Request, session_id: str) -> str:
    """What ties an OAuth state to this browser session, without revealing the session."""
    key = request.app.state.secret.encode()
    return hmac.new(key, f"oauth-binding:{session_id}".encode(), hashlib.sha256).hexdigest()


def callback_url(request: Request) -> str:
    public = getattr(request.app.state.settings, "public_url", "") or ""
    if public:
        return public.rstrip("/") + "/oauth/callback"
    return str(request.url_for("oauth_callback"))


def countdown(t: Translator, seconds: int | None) -> str:
    """'expires in 3 d 4 h' / 'expired 2 h ago' / 'no expiry', in the user's language."""
    if seconds is None:
        return t("no expiry")
    span = abs(seconds)
    days, rest = divmod(span, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = t("{d} d {h} h", d=days, h=hours)
    elif hours:
        text = t("{h} h {m} min", h=hours, m=minutes)
    else:
        text = t("{m} min", m=max(1, minutes))
    return t("expires in {span}", span=text) if seconds >= 0 else t("expired {span} ago", span=text)


async def _jobs(ingest: Any, token: str, job_ids: list[str]) -> list[Any]:
    loaded = await panels({f"ingest:{i}": ingest.job(token, i) for i in job_ids[:10]})
    return list(loaded.values())


async def _page(
    request: Request,
    viewer: Any,
    client: Any,
    ingest: Any,
    *,
    job_ids: list[str] | None = None,
    form_error: str | None = None,
    notice: str | None = None,
    push_secret: Any = None,
    status_code: int = 200,
) -> Response:
    token = viewer.token()
    cid = client.id or 0
    loaded = await panels(
        {
            "ingest:connections": ingest.connections(token, cid),
            "ingest:providers": ingest.connection_providers(token),
            "ingest:push": ingest.push_secret(token, cid),
        }
    )
    jobs = await _jobs(ingest, token, job_ids or [])
    return render(
        request,
        "connections/index.html",
        {
            "connections": loaded["ingest:connections"],
            "providers": loaded["ingest:providers"],
            "push": loaded["ingest:push"],
            "new_push_secret": push_secret,
            "jobs": jobs,
            "form_error": form_error,
            "notice": notice,
            "countdown": countdown,
            "networks": NETWORK_LABELS,
            "board_url": board_url(client.slug),
            "can_write": viewer.user.role != "client_viewer",
        },
        status_code=status_code,
        block="content",
    )


@router.get("/c/{slug}/analyse/connections", response_class=HTMLResponse)
async def board(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    jobs: Annotated[str, Query(max_length=400)] = "",
    connected: Annotated[int, Query()] = 0,
) -> Response:
    t = request.state.t
    job_ids = [j for j in jobs.split(",") if j.isalnum()]
    notice = t("The account is connected; its history is being fetched.") if connected else None
    if request.headers.get("hx-target") == "board":
        return await _board_fragment(request, viewer, client, ingest)
    return await _page(request, viewer, client, ingest, job_ids=job_ids, notice=notice)


async def _board_fragment(request: Request, viewer: Any, client: Any, ingest: Any) -> Response:
    p = await panel("ingest", ingest.connections(viewer.token(), client.id or 0))
    return render(
        request,
        "connections/_board.html",
        {
            "connections": p,
            "countdown": countdown,
            "networks": NETWORK_LABELS,
            "board_url": board_url(client.slug),
            "can_write": viewer.user.role != "client_viewer",
        },
    )


async def _rejected(
    request: Request, viewer: Any, client: Any, ingest: Any, exc: BackendError
) -> Response:
    status = exc.status if isinstance(exc, BackendRejected) and exc.status else 503
    return await _page(request, viewer, client, ingest, form_error=str(exc), status_code=status)


@router.post("/c/{slug}/analyse/connections/oauth", response_class=HTMLResponse)
async def oauth_start(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    network: Annotated[str, Form(max_length=16)],
    external_id: Annotated[str, Form(max_length=200)] = "",
    connection_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    body: dict[str, Any] = {
        "client_id": client.id,
        "network": network,
        "external_id": external_id.strip() or None,
        "redirect_uri": callback_url(request),
        "session_binding": session_binding(request, viewer.session_id),
    }
    if connection_id.isdigit():
        body["connection_id"] = int(connection_id)
    try:
        started = await ingest.oauth_start(viewer.token(), body)
    except BackendError as exc:
        return await _rejected(request, viewer, client, ingest, exc)
    return hx_redirect(started.authorize_url, request)


@router.get("/c/{slug}/analyse/connections/{connection_id}/reconnect", response_class=HTMLResponse)
async def reconnect(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    connection_id: int,
) -> Response:
    try:
        conn = await ingest.connection(viewer.token(), connection_id)
    except BackendUnavailable as exc:
        # A page, not a form's answer: it renders with ingest's panels degraded.
        return await _page(request, viewer, client, ingest, form_error=str(exc))
    except BackendError as exc:
        if getattr(exc, "status", None) == 404:
            raise NotFound(f"No connection {connection_id}") from exc
        return await _rejected(request, viewer, client, ingest, exc)
    if conn.client_id != client.id:
        raise NotFound(f"No connection {connection_id}")
    if conn.auth_kind != "oauth":
        return await _page(
            request,
            viewer,
            client,
            ingest,
            notice=request.state.t("Paste a new token below to reconnect this account."),
        )
    target = conn.accounts[0] if conn.accounts else None
    body = {
        "client_id": client.id,
        "network": (target.network if target else conn.networks[0]).value,
        "external_id": target.external_id if target else None,
        "redirect_uri": callback_url(request),
        "session_binding": session_binding(request, viewer.session_id),
        "connection_id": conn.id,
    }
    try:
        started = await ingest.oauth_start(viewer.token(), body)
    except BackendError as exc:
        return await _rejected(request, viewer, client, ingest, exc)
    return hx_redirect(started.authorize_url, request)


@router.get("/oauth/callback", response_class=HTMLResponse, name="oauth_callback")
async def oauth_callback(
    request: Request,
    viewer: ViewerDep,
    ingest: IngestClientDep,
    state: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[str | None, Query(max_length=4000)] = None,
    error: Annotated[str | None, Query(max_length=500)] = None,
    error_description: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    t = request.state.t
    body = {
        "state": state,
        "code": code,
        "error": error,
        "error_description": error_description,
        "session_binding": session_binding(request, viewer.session_id),
    }
    try:
        created = await ingest.oauth_complete(viewer.token(), body)
    except BackendError as exc:
        message = t("The connection could not be completed: {detail}", detail=str(exc))
        status = exc.status if isinstance(exc, BackendRejected) and exc.status else 503
        return render(
            request,
            "errors/error.html",
            {"status": status, "message": message},
            status_code=status if status < 500 else 502,
        )
    slug = next(c.slug for c in viewer.clients if c.id == created.connection.client_id)
    jobs = ",".join(j.job_id for j in created.jobs)
    return hx_redirect(f"{board_url(slug)}?connected=1&jobs={jobs}", request)


@router.post("/c/{slug}/analyse/connections/token", response_class=HTMLResponse)
async def paste_token(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    network: Annotated[str, Form(max_length=16)],
    token: Annotated[str, Form(max_length=8000)],
    external_id: Annotated[str, Form(max_length=200)] = "",
    base_url: Annotated[str, Form(max_length=500)] = "",
    label: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    body: dict[str, Any] = {
        "client_id": client.id,
        "network": network,
        "token": token.strip(),
        "external_id": external_id.strip() or None,
        "label": label,
        "extra": {"base_url": base_url.strip()} if base_url.strip() else {},
    }
    try:
        created = await ingest.paste_token(viewer.token(), body)
    except BackendError as exc:
        return await _rejected(request, viewer, client, ingest, exc)
    jobs = ",".join(j.job_id for j in created.jobs)
    return hx_redirect(f"{board_url(client.slug)}?connected=1&jobs={jobs}", request)


@router.post("/c/{slug}/analyse/connections/service-account", response_class=HTMLResponse)
async def paste_service_account(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    property_id: Annotated[str, Form(max_length=40)],
    key: Annotated[str, Form(max_length=MAX_KEY_BYTES)] = "",
    key_file: UploadFile | None = None,
) -> Response:
    text = key
    if key_file is not None and key_file.filename:
        raw = await key_file.read(MAX_KEY_BYTES + 1)
        if len(raw) > MAX_KEY_BYTES:
            return await _page(
                request,
                viewer,
                client,
                ingest,
                form_error=request.state.t("The key file is too large to be a key."),
                status_code=422,
            )
        text = raw.decode("utf-8", "replace")
    body = {"client_id": client.id, "property_id": property_id.strip(), "key": text}
    try:
        created = await ingest.paste_service_account(viewer.token(), body)
    except BackendError as exc:
        return await _rejected(request, viewer, client, ingest, exc)
    jobs = ",".join(j.job_id for j in created.jobs)
    return hx_redirect(f"{board_url(client.slug)}?connected=1&jobs={jobs}", request)


@router.post("/c/{slug}/analyse/connections/{connection_id}/sync", response_class=HTMLResponse)
async def sync_now(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    connection_id: int,
) -> Response:
    token = viewer.token()
    try:
        started = await ingest.sync_now(token, connection_id)
    except BackendError as exc:
        if getattr(exc, "status", None) == 404:
            raise NotFound(f"No connection {connection_id}") from exc
        return render(
            request,
            "connections/_jobs.html",
            {"jobs": [], "error": str(exc)},
            status_code=exc.status if isinstance(exc, BackendRejected) and exc.status else 503,
        )
    jobs = await _jobs(ingest, token, [j.job_id for j in started.jobs])
    return render(request, "connections/_jobs.html", {"jobs": jobs, "error": None})


@router.post("/c/{slug}/analyse/connections/{connection_id}/revoke", response_class=HTMLResponse)
async def revoke(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    connection_id: int,
) -> Response:
    try:
        await ingest.revoke_connection(viewer.token(), connection_id)
    except BackendError as exc:
        if getattr(exc, "status", None) == 404:
            raise NotFound(f"No connection {connection_id}") from exc
        return await _rejected(request, viewer, client, ingest, exc)
    return hx_redirect(board_url(client.slug), request)


@router.post("/c/{slug}/analyse/connections/push-secret", response_class=HTMLResponse)
async def push_secret(
    request: Request, viewer: ViewerDep, client: ClientDep, ingest: IngestClientDep
) -> Response:
    try:
        created = await ingest.create_push_secret(viewer.token(), client.id or 0)
    except BackendError as exc:
        return await _rejected(request, viewer, client, ingest, exc)
    return await _page(request, viewer, client, ingest, push_secret=created)
