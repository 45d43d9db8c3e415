"""Credentials for a sync: decrypted at the last moment, refreshed before they expire.

Used by jobs, which own their transactions: each function here commits what it changes
(a refreshed token, a connection marked "reconnect needed") before returning.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.connections import oauth
from services.ingest.connections import repository as repo
from services.ingest.connections import service as conn_service
from services.ingest.connections.models import Connection
from services.ingest.connections.providers import oauth_app, spec
from services.ingest.connectors.base import AuthExpired, Credentials, ProviderError
from shared.clock import utcnow
from shared.crypto import DecryptionFailed, box_for
from shared.schemas.connections import ConnectionStatus

log = logging.getLogger("balise.ingest.tokens")


class NotActive(Exception):
    """The connection is revoked or waits for a reconnection; nothing to call."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status

    @property
    def public_message(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Access:
    """What a sync may use: the decrypted secrets of one connection at one token version."""

    connection_id: int
    token_version: int
    access_token: str | None
    service_account: dict[str, Any] | None
    extra: dict[str, str]

    def __repr__(self) -> str:
        return f"Access(connection_id={self.connection_id}, token_version={self.token_version})"

    def credentials(self, network: str, external_id: str | None, **account: str) -> Credentials:
        """The connector's credentials for one account of the connection.

        ``account`` adds what the store knows of it (``timezone``, ``name``).
        """
        extra = {**self.extra, **{k: v for k, v in account.items() if v}}
        if "base_url" in extra:  # a self-hosted server (Matomo): the connector's "url"
            extra.setdefault("url", extra["base_url"])
        if external_id:
            extra["external_id"] = external_id
            extra[spec(network).id_key] = external_id
        return Credentials(
            access_token=self.access_token, service_account=self.service_account, extra=extra
        )


async def access_for(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Any,
    connection_id: int,
    *,
    now: dt.datetime | None = None,
) -> Access:
    """Decrypt the connection's secrets, refreshing the access token first when it is due.

    Raises :class:`NotActive`, :class:`AuthExpired` (the connection is then marked
    "reconnect needed" and the event emitted) or :class:`ProviderError`.
    """
    now = now or utcnow()
    margin = dt.timedelta(seconds=int(settings.token_refresh_margin_seconds))
    async with sessionmaker() as session:
        conn = await repo.get(session, connection_id)
        if conn is None:
            raise NotActive(f"Connection {connection_id} no longer exists.", "missing")
        if conn.status != ConnectionStatus.active.value:
            raise NotActive(conn.status_reason or f"The connection is {conn.status}.", conn.status)
        due = conn.expires_at is not None and conn.expires_at - now <= margin
        if due:
            if conn_service.is_refreshable(conn):
                conn = await _refresh(session, settings, connection_id, now=now, margin=margin)
            elif conn.expires_at is not None and conn.expires_at <= now:
                await conn_service.mark_reconnect_needed(
                    session,
                    conn,
                    f"{conn.provider}: the access token expired on "
                    f"{conn.expires_at:%Y-%m-%d %H:%M} UTC; reconnect the account.",
                )
                await session.commit()
                raise AuthExpired("the access token expired", provider=conn.provider)
        return _decrypt(conn, settings)


def _decrypt(conn: Connection, settings: Any) -> Access:
    assert conn.id is not None
    box = box_for(settings)
    try:
        token = box.decrypt(conn.access_token_enc) if conn.access_token_enc else None
        key = box.decrypt_json(conn.service_account_enc) if conn.service_account_enc else None
    except DecryptionFailed as exc:
        raise ProviderError(
            f"{exc} Reconnect the account or restore the previous INGEST_ENCRYPTION_KEY.",
            provider=conn.provider,
        ) from exc
    if token is None and key is None:
        raise NotActive("The connection holds no credentials; reconnect it.", conn.status)
    return Access(
        connection_id=conn.id,
        token_version=conn.token_version,
        access_token=token,
        service_account=key,
        extra=dict(conn.extra or {}),
    )


async def _refresh(
    session: AsyncSession,
    settings: Any,
    connection_id: int,
    *,
    now: dt.datetime,
    margin: dt.timedelta,
) -> Connection:
    # Lock the row (PostgreSQL) and look again: another sync of the same connection may
    # have refreshed it meanwhile, and providers that rotate refresh tokens (X,
    # Pinterest) would refuse the old one.
    conn = await repo.get(session, connection_id, lock=True)
    assert conn is not None
    if conn.expires_at is not None and conn.expires_at - now > margin:
        await session.commit()
        return conn
    seen_version = conn.token_version
    app = oauth_app(settings, conn.provider)
    box = box_for(settings)
    assert conn.refresh_token_enc is not None
    try:
        tokens = await oauth.refresh(app, box.decrypt(conn.refresh_token_enc))
    except oauth.OAuthFailed as exc:
        await session.rollback()
        fresh = await repo.get(session, connection_id)
        assert fresh is not None
        if fresh.token_version != seen_version:  # lost a race to another refresh: fine
            await session.commit()
            return fresh
        if exc.dead_grant:
            await conn_service.mark_reconnect_needed(session, fresh, f"{fresh.provider}: {exc}")
            await session.commit()
            raise AuthExpired(str(exc), provider=fresh.provider) from exc
        fresh.last_error = f"{fresh.provider}: {exc}"[:2000]
        fresh.last_error_at = now
        session.add(fresh)
        await session.commit()
        if exc.retryable and fresh.expires_at is not None and fresh.expires_at > now:
            return fresh  # the current token still works: use it and refresh next time
        raise ProviderError(str(exc), provider=fresh.provider, retryable=exc.retryable) from exc
    except DecryptionFailed as exc:
        await session.rollback()
        raise ProviderError(str(exc), provider=conn.provider) from exc
    conn.access_token_enc = box.encrypt(tokens.access_token)
    if tokens.refresh_token:
        conn.refresh_token_enc = box.encrypt(tokens.refresh_token)
    conn.expires_at = tokens.expires_at
    if tokens.refresh_expires_at:
        conn.refresh_expires_at = tokens.refresh_expires_at
    if tokens.scopes is not None:
        conn.scopes_granted = sorted(tokens.scopes)
    conn.token_version = seen_version + 1
    conn.updated_at = utcnow()
    session.add(conn)
    await session.commit()
    log.info("connection %s: access token refreshed", connection_id)
    return conn


async def refresh_expiring(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Any, *, within: dt.timedelta
) -> dict[str, int]:
    """Renew refreshable tokens that expire soon; expired others need a person."""
    now = utcnow()
    out = {"refreshed": 0, "reconnect_needed": 0, "failed": 0}
    async with sessionmaker() as session:
        ids = [
            c.id
            for c in await repo.active(session)
            if c.id is not None and c.expires_at is not None and c.expires_at - now <= within
        ]
    for cid in ids:
        async with sessionmaker() as session:
            conn = await repo.get(session, cid)
            if conn is None or conn.status != ConnectionStatus.active.value:
                continue
            if conn_service.is_refreshable(conn):
                try:
                    await _refresh(session, settings, cid, now=now, margin=within)
                    out["refreshed"] += 1
                except AuthExpired:
                    out["reconnect_needed"] += 1
                except ProviderError:
                    out["failed"] += 1
            elif conn.expires_at is not None and conn.expires_at <= now:
                await conn_service.mark_reconnect_needed(
                    session,
                    conn,
                    f"{conn.provider}: the access token expired on "
                    f"{conn.expires_at:%Y-%m-%d %H:%M} UTC; reconnect the account.",
                )
                await session.commit()
                out["reconnect_needed"] += 1
    return out
