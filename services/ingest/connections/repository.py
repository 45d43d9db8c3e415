"""Queries of the connections domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.connections.models import Connection, OAuthState


async def get(
    session: AsyncSession, connection_id: int, *, lock: bool = False
) -> Connection | None:
    q = select(Connection).where(col(Connection.id) == connection_id)
    if lock:
        q = q.with_for_update()  # PostgreSQL: one token refresh at a time (SQLite ignores it)
    q = q.execution_options(populate_existing=True)
    return (await session.exec(q)).first()


async def of_client(session: AsyncSession, client_id: int) -> Sequence[Connection]:
    q = (
        select(Connection)
        .where(col(Connection.client_id) == client_id)
        .order_by(col(Connection.status) == "revoked", col(Connection.id))
    )
    return (await session.exec(q)).all()


async def active(session: AsyncSession) -> Sequence[Connection]:
    q = select(Connection).where(col(Connection.status) == "active").order_by(col(Connection.id))
    return (await session.exec(q)).all()


async def find_serving(
    session: AsyncSession, client_id: int, provider: str, network: str, external_id: str | None
) -> Connection | None:
    """A non-revoked connection of the client already serving this account, if any."""
    q = select(Connection).where(
        col(Connection.client_id) == client_id,
        col(Connection.provider) == provider,
        col(Connection.status) != "revoked",
    )
    for conn in (await session.exec(q)).all():
        for a in conn.accounts:
            if a.get("network") == network and (
                external_id is None or a.get("external_id") == external_id
            ):
                return conn
    return None


async def with_external_account(
    session: AsyncSession, network: str, external_id: str
) -> Sequence[Connection]:
    """Active connections serving an account with this platform id (incoming webhooks)."""
    q = select(Connection).where(col(Connection.status) == "active")
    return [
        c
        for c in (await session.exec(q)).all()
        if network in c.networks
        and any(
            a.get("network") == network and a.get("external_id") == external_id for a in c.accounts
        )
    ]


async def get_state(session: AsyncSession, state_hash: str) -> OAuthState | None:
    return await session.get(OAuthState, state_hash)


async def purge_states(session: AsyncSession, now: dt.datetime) -> None:
    await session.exec(delete(OAuthState).where(col(OAuthState.expires_at) < now))
