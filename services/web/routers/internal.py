"""Endpoints the backends call: API-token introspection and client facts.

Authenticated by a service token addressed to ``web``; never reachable with a browser
session.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from services.web import service as web_service
from services.web.models import Client
from shared.auth import Principal, Role, bearer, verify_service_token
from shared.db import SessionDep
from shared.errors import Forbidden, NotFound

router = APIRouter(prefix="/internal/v1", tags=["internal"])


async def service_caller(request: Request) -> Principal:
    principal = verify_service_token(request.app.state.secret, bearer(request), "web")
    if principal.role != Role.service:
        raise Forbidden("Only Balise services may call this endpoint.")
    return principal


ServiceCaller = Annotated[Principal, Depends(service_caller)]


class IntrospectRequest(BaseModel):
    token: str = Field(max_length=200)


class IntrospectAnswer(BaseModel):
    active: bool
    token_id: str | None = None
    role: str | None = None
    scope: str | None = None
    services: list[str] = []
    client_ids: list[int] = []
    exp: int | None = None


class ClientFacts(BaseModel):
    id: int
    name: str
    slug: str
    locale: str


@router.post("/introspect", response_model=IntrospectAnswer)
async def introspect(
    body: IntrospectRequest, db: SessionDep, caller: ServiceCaller
) -> IntrospectAnswer:
    return IntrospectAnswer(**await web_service.introspect(db, body.token))


@router.get("/clients/{client_id}", response_model=ClientFacts)
async def client_facts(client_id: int, db: SessionDep, caller: ServiceCaller) -> ClientFacts:
    caller.require_client(client_id)
    client = await db.get(Client, client_id)
    if client is None or client.id is None:
        raise NotFound(f"No client {client_id}")
    return ClientFacts(id=client.id, name=client.name, slug=client.slug, locale=client.locale)
