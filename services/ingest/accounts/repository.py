"""Queries on ``ingest_account``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.store.models import Account


async def get(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)


async def by_key(
    session: AsyncSession, scope_key: str, network: str, external_id: str
) -> Account | None:
    q = select(Account).where(
        Account.scope_key == scope_key,
        Account.network == network,
        Account.external_id == external_id,
    )
    return (await session.exec(q)).first()


async def list_scope(
    session: AsyncSession,
    *,
    client_id: int | None,
    owner_kind: str | None = None,
    network: str | None = None,
    include_archived: bool = False,
    after_id: int | None = None,
    limit: int = 100,
) -> Sequence[Account]:
    """Accounts of one client (or, with ``client_id=None``, the agency's relays) by id."""
    q = select(Account)
    if client_id is None:
        q = q.where(Account.scope_key == "agency")
    else:
        q = q.where(Account.client_id == client_id)
    if owner_kind:
        q = q.where(Account.owner_kind == owner_kind)
    if network:
        q = q.where(Account.network == network)
    if not include_archived:
        q = q.where(col(Account.archived).is_(False))
    if after_id is not None:
        q = q.where(col(Account.id) > after_id)
    q = q.order_by(col(Account.id)).limit(limit)
    return (await session.exec(q)).all()
