"""Connections API: connect (OAuth, pasted token, GA4 key), health board, sync now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.connections import repository as repo
from services.ingest.connections import service as conn_service
from services.ingest.connections.models import Connection
from services.ingest.connections.providers import NETWORKS, oauth_app
from services.ingest.sync import repository as sync_repo
from services.ingest.sync import service as sync_service
from shared.auth import Principal, PrincipalDep, WriterDep
from shared.db import SessionDep
from shared.errors import Invalid, NotFound
from shared.schemas.common import Page, decode_cursor, encode_cursor
from shared.schemas.connections import (
    ConnectionCreated,
    ConnectionPublic,
    OAuthComplete,
    OAuthStart,
    OAuthStarted,
    ProviderPublic,
    ServiceAccountPaste,
    SyncRequest,
    SyncRunPublic,
    SyncStarted,
    TokenPaste,
)

router = APIRouter(prefix="/v1", tags=["connections"])


async def connection_or_404(
    session: AsyncSession, principal: Principal, connection_id: int
) -> Connection:
    conn = await repo.get(session, connection_id)
    if conn is None or not principal.sees(conn.client_id):
        raise NotFound(f"No connection {connection_id}")
    return conn


async def _public(session: AsyncSession, conn: Connection) -> ConnectionPublic:
    runs = await sync_repo.last_runs(session, [conn.id or 0])
    run = runs.get(conn.id or 0)
    return conn_service.public(conn, sync_service.run_public(run) if run else None)


async def _created(
    request: Request, session: AsyncSession, principal: Principal, conn: Connection
) -> ConnectionCreated:
    """Start the backfill of newly linked accounts, catch up the others."""
    settings = request.app.state.settings
    queue = request.app.state.queue
    who = f"{principal.kind}:{principal.subject}"[:64]
    new = [t for t in conn.accounts if t.get("account_id") is None]
    known = [t for t in conn.accounts if t.get("account_id") is not None]
    jobs = []
    for kind, group in (("backfill", new), ("manual", known)):
        if group:
            jobs += await sync_service.enqueue_for_connection(
                session,
                queue,
                settings,
                conn,
                kind,
                created_by=who,
                only=[
                    {"network": t["network"], "external_id": t.get("external_id")} for t in group
                ],
            )
    return ConnectionCreated(
        connection=await _public(session, conn), jobs=[sync_service.accepted(j) for j in jobs]
    )


@router.get(
    "/connections/providers",
    response_model=list[ProviderPublic],
    summary="Networks Balise can connect, how, and with which scopes",
)
async def providers(request: Request, principal: PrincipalDep) -> list[ProviderPublic]:
    settings = request.app.state.settings
    out = []
    for s in NETWORKS.values():
        configured = False
        if s.provider in ("meta", "x", "linkedin", "google", "pinterest"):
            configured = oauth_app(settings, s.provider).configured
        out.append(
            ProviderPublic(
                network=s.network,
                provider=s.provider,
                auth_kinds=list(s.auth_kinds),
                oauth_configured=configured,
                scopes=list(s.scopes),
                external_id_label=s.external_id_label,
                extra_fields=list(s.extra_fields),
            )
        )
    return out


@router.get(
    "/clients/{client_id}/connections",
    response_model=Page[ConnectionPublic],
    summary="A client's connections with their health (the connection-health board)",
)
async def list_connections(
    client_id: int, session: SessionDep, principal: PrincipalDep
) -> Page[ConnectionPublic]:
    principal.require_client(client_id)
    conns = await repo.of_client(session, client_id)
    runs = await sync_repo.last_runs(session, [c.id or 0 for c in conns])
    data = []
    for c in conns:
        run = runs.get(c.id or 0)
        data.append(conn_service.public(c, sync_service.run_public(run) if run else None))
    return Page[ConnectionPublic](data=data)


@router.get("/connections/{connection_id}", response_model=ConnectionPublic)
async def get_connection(
    connection_id: int, session: SessionDep, principal: PrincipalDep
) -> ConnectionPublic:
    return await _public(session, await connection_or_404(session, principal, connection_id))


@router.get(
    "/connections/{connection_id}/runs",
    response_model=Page[SyncRunPublic],
    summary="The sync runs of a connection, newest first",
)
async def list_runs(
    connection_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Page[SyncRunPublic]:
    await connection_or_404(session, principal, connection_id)
    after = decode_cursor(cursor)
    before = after.get("before") if after else None
    if before is not None and not isinstance(before, int):
        raise Invalid("The cursor is malformed.")
    runs = await sync_repo.runs_of_connection(
        session, connection_id, before=before, limit=limit + 1
    )
    more = len(runs) > limit
    runs = runs[:limit]
    return Page[SyncRunPublic](
        data=[sync_service.run_public(r) for r in runs],
        next_cursor=encode_cursor({"before": runs[-1].id}) if more and runs else None,
    )


@router.post(
    "/connections/oauth/start",
    response_model=OAuthStarted,
    summary="Start an OAuth authorization (web redirects the user to authorize_url)",
    description=(
        "The returned `state` is single-use, expires after a few minutes and is bound to "
        "the caller, the client and `session_binding` (web's hash of the user's browser "
        "session): only the same session can complete it."
    ),
)
async def oauth_start(
    body: OAuthStart, request: Request, session: SessionDep, principal: WriterDep
) -> OAuthStarted:
    return await conn_service.start_oauth(session, request.app.state.settings, principal, body)


@router.post(
    "/connections/oauth/complete",
    response_model=ConnectionCreated,
    summary="Finish an OAuth authorization: exchange the code, store the tokens, backfill",
)
async def oauth_complete(
    body: OAuthComplete, request: Request, session: SessionDep, principal: WriterDep
) -> ConnectionCreated:
    conn = await conn_service.complete_oauth(session, request.app.state.settings, principal, body)
    return await _created(request, session, principal, conn)


@router.post(
    "/connections/token",
    response_model=ConnectionCreated,
    status_code=201,
    summary="Connect with a pasted long-lived token or API key (stored encrypted)",
)
async def paste_token(
    body: TokenPaste, request: Request, session: SessionDep, principal: WriterDep
) -> ConnectionCreated:
    conn = await conn_service.paste_token(session, request.app.state.settings, principal, body)
    return await _created(request, session, principal, conn)


@router.post(
    "/connections/service-account",
    response_model=ConnectionCreated,
    status_code=201,
    summary="Connect GA4 with a service-account key (validated, stored encrypted)",
)
async def paste_service_account(
    body: ServiceAccountPaste, request: Request, session: SessionDep, principal: WriterDep
) -> ConnectionCreated:
    settings = request.app.state.settings
    conn = await conn_service.paste_service_account(session, settings, principal, body)
    return await _created(request, session, principal, conn)


@router.post(
    "/connections/{connection_id}/sync",
    response_model=SyncStarted,
    status_code=202,
    summary='"Sync now": queue a sync of every account of the connection',
)
async def sync_now(
    connection_id: int,
    request: Request,
    session: SessionDep,
    principal: WriterDep,
    body: Annotated[SyncRequest | None, Body()] = None,
) -> SyncStarted:
    conn = await connection_or_404(session, principal, connection_id)
    body = body or SyncRequest()
    jobs = await sync_service.enqueue_for_connection(
        session,
        request.app.state.queue,
        request.app.state.settings,
        conn,
        "manual",
        created_by=f"{principal.kind}:{principal.subject}"[:64],
        start=body.start,
        end=body.end,
    )
    return SyncStarted(jobs=[sync_service.accepted(j) for j in jobs])


@router.post(
    "/connections/{connection_id}/revoke",
    response_model=ConnectionPublic,
    summary="Disconnect: the stored tokens are erased; the sync history stays",
)
async def revoke(connection_id: int, session: SessionDep, principal: WriterDep) -> ConnectionPublic:
    conn = await connection_or_404(session, principal, connection_id)
    await conn_service.revoke(session, conn)
    return await _public(session, conn)
