"""Accounts of a client (``/v1/clients/{client_id}/accounts``) and of the agency's relays
(``/v1/agency/accounts``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.ingest.accounts import repository as repo
from services.ingest.accounts import service as account_service
from shared.auth import PrincipalDep, WriterDep
from shared.db import SessionDep
from shared.schemas.common import Page, decode_cursor, encode_cursor
from shared.schemas.ingest import AccountCreate, AccountPublic, Network, OwnerKind

router = APIRouter(prefix="/v1", tags=["accounts"])

Limit = Annotated[int, Query(ge=1, le=500)]


async def _page(
    session: SessionDep,
    client_id: int | None,
    owner_kind: OwnerKind | None,
    network: Network | None,
    include_archived: bool,
    cursor: str | None,
    limit: int,
) -> Page[AccountPublic]:
    after = decode_cursor(cursor)
    after_id = int(after["id"]) if after and str(after.get("id", "")).isdigit() else None
    rows = await repo.list_scope(
        session,
        client_id=client_id,
        owner_kind=owner_kind.value if owner_kind else None,
        network=network.value if network else None,
        include_archived=include_archived,
        after_id=after_id,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor({"id": rows[-1].id}) if more and rows else None
    return Page[AccountPublic](data=[account_service.public(a) for a in rows], next_cursor=nxt)


@router.post(
    "/clients/{client_id}/accounts",
    response_model=AccountPublic,
    status_code=201,
    summary="Register a space of the client or of one of its peers (idempotent)",
    responses={200: {"description": "Already registered: the existing account"}},
)
async def create_client_account(
    client_id: int,
    body: AccountCreate,
    session: SessionDep,
    principal: WriterDep,
    response: Response,
) -> AccountPublic:
    principal.require_client(client_id)
    account, created = await account_service.register(session, client_id, body)
    if not created:
        response.status_code = 200
    return account_service.public(account)


@router.get(
    "/clients/{client_id}/accounts",
    response_model=Page[AccountPublic],
    summary="The client's accounts (its own and its peers'), by id",
)
async def list_client_accounts(
    client_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    owner_kind: OwnerKind | None = None,
    network: Network | None = None,
    include_archived: bool = False,
    cursor: str | None = None,
    limit: Limit = 100,
) -> Page[AccountPublic]:
    principal.require_client(client_id)
    return await _page(session, client_id, owner_kind, network, include_archived, cursor, limit)


@router.post(
    "/agency/accounts",
    response_model=AccountPublic,
    status_code=201,
    summary="Register a relay's account in the agency-wide directory (idempotent)",
    responses={200: {"description": "Already registered: the existing account"}},
)
async def create_agency_account(
    body: AccountCreate, session: SessionDep, principal: WriterDep, response: Response
) -> AccountPublic:
    account_service.require_staff(principal)
    account, created = await account_service.register(session, None, body)
    if not created:
        response.status_code = 200
    return account_service.public(account)


@router.get(
    "/agency/accounts",
    response_model=Page[AccountPublic],
    summary="The relays' accounts (agency staff only)",
)
async def list_agency_accounts(
    session: SessionDep,
    principal: PrincipalDep,
    network: Network | None = None,
    include_archived: bool = False,
    cursor: str | None = None,
    limit: Limit = 100,
) -> Page[AccountPublic]:
    account_service.require_staff(principal)
    return await _page(session, None, None, network, include_archived, cursor, limit)


@router.get("/accounts/{account_id}", response_model=AccountPublic, summary="One account")
async def get_account(
    account_id: int, session: SessionDep, principal: PrincipalDep
) -> AccountPublic:
    return account_service.public(
        await account_service.account_or_404(session, principal, account_id)
    )


@router.post(
    "/accounts/{account_id}/archive",
    response_model=AccountPublic,
    summary="Archive an account: its history is kept, it leaves the lists and the audit",
)
async def archive_account(
    account_id: int, session: SessionDep, principal: WriterDep
) -> AccountPublic:
    account = await account_service.account_or_404(session, principal, account_id)
    if account.client_id is None:
        account_service.require_staff(principal)
    return account_service.public(await account_service.archive(session, account))
