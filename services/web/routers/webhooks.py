"""A client's outgoing-webhook subscriptions on the three backends, in one page.

Each backend keeps its own subscriptions (``/v1/webhooks`` on it); this page asks the
three in parallel and degrades the part of a backend that is down or sends no events.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from services.web.dependencies import ClientDep, ViewerDep
from services.web.panels import panel, panels
from services.web.templating import hx_redirect, render
from shared.errors import NotFound
from shared.http import BackendError, BackendNotFound, BackendRejected

router = APIRouter(include_in_schema=False)

SERVICES = ("ingest", "benchmark", "planner")


def _backend(request: Request, service: str) -> Any:
    if service not in SERVICES:
        raise NotFound(f"No service {service!r}")
    return getattr(request.app.state, service)


def page_url(slug: str) -> str:
    return f"/c/{slug}/webhooks"


async def _page(
    request: Request,
    viewer: Any,
    client: Any,
    *,
    created: Any = None,
    created_service: str | None = None,
    form_error: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    token = viewer.token()
    cid = client.id or 0
    calls: dict[str, Any] = {}
    for s in SERVICES:
        backend = _backend(request, s)
        calls[f"{s}:events"] = backend.webhook_events(token)
        calls[f"{s}:subs"] = backend.webhook_subscriptions(token, cid)
    loaded = await panels(calls)
    services = [
        {
            "name": s,
            "events": loaded[f"{s}:events"],
            "subs": loaded[f"{s}:subs"],
            # A backend answering 404 here has not mounted the webhook API yet.
            "offered": loaded[f"{s}:events"].status != 404,
        }
        for s in SERVICES
    ]
    return render(
        request,
        "webhooks/index.html",
        {
            "services": services,
            "created": created,
            "created_service": created_service,
            "form_error": form_error,
            "form": form or {},
            "page_url": page_url(client.slug),
            "can_write": viewer.user.role != "client_viewer",
            # A double-submitted form creates one subscription, not two.
            "idempotency_key": new_idempotency_key(),
        },
        status_code=status_code,
        block="content",
    )


@router.get("/c/{slug}/webhooks", response_class=HTMLResponse)
async def webhooks_page(request: Request, viewer: ViewerDep, client: ClientDep) -> Response:
    return await _page(request, viewer, client)


@router.post("/c/{slug}/webhooks", response_class=HTMLResponse)
async def create_subscription(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    service: Annotated[str, Form(max_length=20)],
    url: Annotated[str, Form(max_length=2000)],
    event_types: Annotated[list[str] | None, Form()] = None,
    description: Annotated[str, Form(max_length=300)] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    backend = _backend(request, service)
    body = {
        "client_id": client.id,
        "url": url.strip(),
        "event_types": event_types or [],
        "description": description,
    }
    form = {"service": service, **body}
    if not event_types:
        return await _page(
            request,
            viewer,
            client,
            form_error=request.state.t("Choose at least one event."),
            form=form,
            status_code=422,
        )
    try:
        created = await backend.create_webhook_subscription(
            viewer.token(), body, idempotency_key=idempotency_key or None
        )
    except BackendError as exc:
        status = exc.status if isinstance(exc, BackendRejected) and exc.status else 503
        return await _page(
            request, viewer, client, form_error=str(exc), form=form, status_code=status
        )
    return await _page(request, viewer, client, created=created, created_service=service)


async def _own_subscription(
    request: Request, viewer: Any, client: Any, service: str, sub_id: int
) -> Any:
    try:
        sub = await _backend(request, service).webhook_subscription(viewer.token(), sub_id)
    except BackendNotFound as exc:
        raise NotFound(f"No subscription {sub_id}") from exc
    if sub.client_id != client.id:
        raise NotFound(f"No subscription {sub_id}")
    return sub


@router.post("/c/{slug}/webhooks/{service}/{sub_id}/delete", response_class=HTMLResponse)
async def delete_subscription(
    request: Request, viewer: ViewerDep, client: ClientDep, service: str, sub_id: int
) -> Response:
    await _own_subscription(request, viewer, client, service, sub_id)
    await _backend(request, service).delete_webhook_subscription(viewer.token(), sub_id)
    return hx_redirect(page_url(client.slug), request)


@router.post("/c/{slug}/webhooks/{service}/{sub_id}/enable", response_class=HTMLResponse)
async def enable_subscription(
    request: Request, viewer: ViewerDep, client: ClientDep, service: str, sub_id: int
) -> Response:
    await _own_subscription(request, viewer, client, service, sub_id)
    await _backend(request, service).enable_webhook_subscription(viewer.token(), sub_id)
    return hx_redirect(page_url(client.slug), request)


async def _deliveries(
    request: Request, viewer: Any, client: Any, service: str, sub_id: int, error: str | None = None
) -> Response:
    await _own_subscription(request, viewer, client, service, sub_id)
    p = await panel(service, _backend(request, service).webhook_deliveries(viewer.token(), sub_id))
    pending = bool(p.ok and p.data and any(d.status == "pending" for d in p.data.data))
    return render(
        request,
        "webhooks/_deliveries.html",
        {
            "deliveries": p,
            "service": service,
            "sub_id": sub_id,
            "pending": pending,
            "error": error,
            "page_url": page_url(client.slug),
            "can_write": viewer.user.role != "client_viewer",
        },
    )


@router.get("/c/{slug}/webhooks/{service}/{sub_id}/deliveries", response_class=HTMLResponse)
async def deliveries(
    request: Request, viewer: ViewerDep, client: ClientDep, service: str, sub_id: int
) -> Response:
    return await _deliveries(request, viewer, client, service, sub_id)


@router.post("/c/{slug}/webhooks/{service}/{sub_id}/ping", response_class=HTMLResponse)
async def ping(
    request: Request, viewer: ViewerDep, client: ClientDep, service: str, sub_id: int
) -> Response:
    await _own_subscription(request, viewer, client, service, sub_id)
    error = None
    try:
        await _backend(request, service).ping_webhook_subscription(viewer.token(), sub_id)
    except BackendRejected as exc:
        error = str(exc)
    return await _deliveries(request, viewer, client, service, sub_id, error)


@router.post(
    "/c/{slug}/webhooks/{service}/{sub_id}/deliveries/{delivery_id}/retry",
    response_class=HTMLResponse,
)
async def retry_delivery(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    service: str,
    sub_id: int,
    delivery_id: int,
) -> Response:
    await _own_subscription(request, viewer, client, service, sub_id)
    error = None
    try:
        await _backend(request, service).retry_webhook_delivery(viewer.token(), delivery_id)
    except BackendNotFound as exc:
        raise NotFound(f"No delivery {delivery_id}") from exc
    except BackendRejected as exc:
        error = str(exc)
    return await _deliveries(request, viewer, client, service, sub_id, error)


def new_idempotency_key() -> str:
    return uuid.uuid4().hex
