"""API tokens for third-party tools: created here, shown once, revocable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from services.web import service as web_service
from services.web.dependencies import ViewerDep
from services.web.templating import hx_redirect, render
from shared.db import SessionDep
from shared.errors import DomainError

router = APIRouter(prefix="/settings/tokens", include_in_schema=False)


async def _page(
    request: Request, db: SessionDep, viewer: ViewerDep, status_code: int = 200, **ctx: object
) -> Response:
    tokens = await web_service.tokens_of(db, viewer.user)
    return render(
        request,
        "tokens/index.html",
        {
            "tokens": tokens,
            "services": web_service.BACKENDS,
            "new_token": None,
            "form_error": None,
            "form": {},
            **ctx,
        },
        status_code=status_code,
        block="content",
    )


@router.get("", response_class=HTMLResponse)
async def tokens_page(request: Request, db: SessionDep, viewer: ViewerDep) -> Response:
    return await _page(request, db, viewer)


@router.post("", response_class=HTMLResponse)
async def token_create(
    request: Request,
    db: SessionDep,
    viewer: ViewerDep,
    name: Annotated[str, Form(max_length=200)],
    scope: Annotated[str, Form(max_length=8)] = "read",
    services: Annotated[list[str] | None, Form()] = None,
    client_ids: Annotated[list[int] | None, Form()] = None,
    expires_in_days: Annotated[str, Form(max_length=4)] = "90",
) -> Response:
    try:
        days = int(expires_in_days) if expires_in_days.strip() else None
    except ValueError:
        days = -1
    try:
        token, row = await web_service.create_api_token(
            db,
            viewer.user,
            name=name,
            services=services or [],
            client_ids=client_ids or [],
            scope=scope,
            expires_in_days=days,
        )
    except DomainError as exc:
        return await _page(
            request,
            db,
            viewer,
            status_code=exc.status,
            form_error=exc.detail,
            form={
                "name": name,
                "scope": scope,
                "services": services or [],
                "client_ids": client_ids or [],
                "expires_in_days": expires_in_days,
            },
        )
    return await _page(request, db, viewer, new_token=token, new_token_name=row.name)


@router.post("/{token_pk}/revoke", response_class=HTMLResponse)
async def token_revoke(
    request: Request, db: SessionDep, viewer: ViewerDep, token_pk: int
) -> Response:
    await web_service.revoke_api_token(db, viewer.user, token_pk)
    return hx_redirect("/settings/tokens", request)
