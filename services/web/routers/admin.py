"""Users and roles (administrators only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from services.web import service as web_service
from services.web.dependencies import AdminDep
from services.web.templating import hx_redirect, render
from shared.auth import ROLE_LABELS
from shared.db import SessionDep
from shared.errors import DomainError

router = APIRouter(prefix="/admin", include_in_schema=False)


async def _page(
    request: Request, db: SessionDep, status_code: int = 200, **ctx: object
) -> Response:
    users = await web_service.list_users(db)
    all_clients = await web_service.all_clients(db)
    return render(
        request,
        "admin/users.html",
        {
            "users": users,
            "all_clients": all_clients,
            "roles": ROLE_LABELS,
            "form_error": None,
            "form": {},
            **ctx,
        },
        status_code=status_code,
        block="content",
    )


@router.get("/users", response_class=HTMLResponse)
async def users_page(request: Request, db: SessionDep, viewer: AdminDep) -> Response:
    return await _page(request, db)


@router.post("/users", response_class=HTMLResponse)
async def user_create(
    request: Request,
    db: SessionDep,
    viewer: AdminDep,
    email: Annotated[str, Form(max_length=254)],
    name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[str, Form(max_length=32)],
    client_ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    try:
        await web_service.create_user(
            db,
            email=email,
            name=name,
            password=password,
            role=role,
            client_ids=client_ids or [],
        )
    except DomainError as exc:
        return await _page(
            request,
            db,
            status_code=exc.status,
            form_error=exc.detail,
            form={"email": email, "name": name, "role": role, "client_ids": client_ids or []},
        )
    return hx_redirect("/admin/users", request)


@router.post("/users/{user_id}", response_class=HTMLResponse)
async def user_update(
    request: Request,
    db: SessionDep,
    viewer: AdminDep,
    user_id: int,
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    active: Annotated[str, Form(max_length=5)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    client_ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    try:
        await web_service.update_user(
            db,
            viewer.user,
            user_id,
            name=name or None,
            role=role or None,
            active={"true": True, "false": False}.get(active),
            client_ids=client_ids or [],
            password=password or None,
        )
    except DomainError as exc:
        return await _page(request, db, status_code=exc.status, form_error=exc.detail)
    return hx_redirect("/admin/users", request)
