"""Stores the demo's spaces and numbers through ingest's own code.

Accounts are registered with ingest's account service (owner and owner reference as the
benchmark would register them), their collection start set to the day the demo says
collection started, and every record goes through the store loader, the one path
connectors and importers use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.demo.generate import Demo, DemoWebsite
from services.demo.records import DemoAccount
from services.ingest.accounts import service as account_service
from services.ingest.store import loader as store
from services.ingest.store.models import Account, Post
from shared.schemas.ingest import AccountCreate, AccountRef, Network, OwnerKind


def _started(day: dt.date, timezone: str) -> dt.datetime:
    """Midnight of ``day`` in the account's time zone, as aware UTC."""
    local = dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.UTC)


async def register(
    session: AsyncSession,
    client_id: int | None,
    ref: AccountRef,
    *,
    url: str | None,
    timezone: str,
    collected_from: dt.date,
    owner_kind: OwnerKind,
    owner_ref: str | None = None,
) -> Account:
    account, _created = await account_service.register(
        session,
        client_id,
        AccountCreate(
            owner_kind=owner_kind,
            owner_ref=owner_ref,
            network=ref.network,
            external_id=ref.external_id,
            handle=ref.handle,
            name=ref.name,
            url=url,
            timezone=timezone,
        ),
    )
    await set_collection_start(session, account.id or 0, collected_from, timezone)
    return account


async def set_collection_start(
    session: AsyncSession, account_id: int, day: dt.date, timezone: str
) -> None:
    """Collection started when the demo says it did: nothing is stored before that day."""
    account = await session.get(Account, account_id)
    if account is None:
        raise LookupError(f"no ingest account {account_id}")
    account.collection_started_at = _started(day, timezone)
    session.add(account)
    await session.flush()


async def client_post(
    session: AsyncSession, client_id: int, ref: AccountRef, external_id: str
) -> tuple[int, str | None]:
    """Ingest's id and permalink of one of the client's stored posts."""
    row = (
        await session.exec(
            select(Post.id, Post.permalink)
            .join(Account, col(Account.id) == col(Post.account_id))
            .where(
                Account.scope_key == str(client_id),
                Account.network == ref.network.value,
                Account.external_id == ref.external_id,
                Post.external_id == external_id,
            )
        )
    ).first()
    if row is None or row[0] is None:
        raise LookupError(f"no stored {ref.network.value} post {external_id}")
    return row[0], row[1]


async def register_account(
    session: AsyncSession,
    client_id: int | None,
    account: DemoAccount,
    owner_kind: OwnerKind,
    owner_ref: str | None = None,
) -> Account:
    return await register(
        session,
        client_id,
        account.ref,
        url=account.url,
        timezone=account.timezone,
        collected_from=account.collected_from,
        owner_kind=owner_kind,
        owner_ref=owner_ref,
    )


def account_records(accounts: Iterable[DemoAccount]) -> Iterator[store.Record]:
    for account in accounts:
        yield from account.daily
        yield from account.posts


def website_ref(site: DemoWebsite) -> AccountRef:
    return AccountRef(network=Network.ga4, external_id=site.external_id, name=site.name)


def website_records(site: DemoWebsite) -> Iterator[store.Record]:
    yield from site.daily
    yield from site.web


async def store_records(
    session: AsyncSession,
    client_id: int | None,
    records: Iterable[store.Record],
    owner_kind: OwnerKind,
) -> store.LoadCounts:
    """Every record through the store loader (accounts must be registered first)."""
    return await store.load(session, client_id, records, owner_kind=owner_kind)


async def load_client(session: AsyncSession, client_id: int, demo: Demo) -> dict[str, int]:
    """The client's social accounts and GA4 property, registered, then all their records."""
    for account in demo.client.accounts:
        await register_account(session, client_id, account, OwnerKind.client)
    site = demo.client.website
    await register(
        session,
        client_id,
        website_ref(site),
        url=site.url,
        timezone=site.timezone,
        collected_from=site.collected_from,
        owner_kind=OwnerKind.client,
    )
    records = [*account_records(demo.client.accounts), *website_records(site)]
    counts = await store_records(session, client_id, records, OwnerKind.client)
    return {
        "client_accounts": len(demo.client.accounts) + 1,
        "client_daily_rows": counts.daily_rows,
        "client_posts": counts.posts_created,
        "client_post_metrics": counts.post_metrics,
        "web_rows": counts.web_rows,
    }
