"""Running imports against the test database and reading back what they stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.importers import pipeline
from services.ingest.importers.base import KnownAccount
from services.ingest.store.models import (
    Account,
    ChannelTotal,
    DailyMetric,
    Post,
    PostMetricLatest,
    WebMetric,
    WebPeriodMetric,
)

FIXTURES = Path(__file__).parent / "fixtures"
SNAPSHOT = dt.date(2026, 11, 1)


async def run(
    db: AsyncSession,
    client_id: int,
    name: str | Path,
    *,
    account: Account | None = None,
    **kw: Any,
) -> pipeline.Outcome:
    path = name if isinstance(name, Path) else FIXTURES / name
    known = None
    if account is not None:
        known = KnownAccount(
            id=account.id or 0,
            network=account.network,
            external_id=account.external_id,
            handle=account.handle,
            name=account.name,
            timezone=account.timezone,
        )
    kw.setdefault("snapshot_date", SNAPSHOT)
    return await pipeline.import_file(db, client_id, path, account=known, **kw)


async def accounts(db: AsyncSession, client_id: int) -> dict[str, Account]:
    rows = await db.exec(select(Account).where(Account.client_id == client_id))
    return {a.external_id: a for a in rows}


async def posts(db: AsyncSession, client_id: int) -> dict[str, tuple[Post, dict[str, float]]]:
    """external id -> (post, latest metrics)."""
    rows = (
        await db.exec(
            select(Post)
            .join(Account, col(Account.id) == Post.account_id)
            .where(Account.client_id == client_id)
        )
    ).all()
    out: dict[str, tuple[Post, dict[str, float]]] = {}
    for p in rows:
        latest = await db.exec(select(PostMetricLatest).where(PostMetricLatest.post_id == p.id))
        out[p.external_id] = (p, {m.metric: m.value for m in latest})
    return out


async def daily(db: AsyncSession, client_id: int) -> dict[tuple[str, str, dt.date], float]:
    rows = await db.exec(
        select(Account.external_id, DailyMetric.metric, DailyMetric.day, DailyMetric.value)
        .join(Account, col(Account.id) == DailyMetric.account_id)
        .where(Account.client_id == client_id)
    )
    return {(a, m, d): v for a, m, d, v in rows}


async def web(db: AsyncSession, client_id: int) -> dict[tuple[str, dt.date, str, str], float]:
    """(dimension, day, value, metric) -> value, for daily web rows."""
    rows = await db.exec(
        select(WebMetric)
        .join(Account, col(Account.id) == WebMetric.account_id)
        .where(Account.client_id == client_id)
    )
    return {(w.dimension, w.day, w.dimension_value, w.metric): w.value for w in rows}


async def web_period(
    db: AsyncSession, client_id: int
) -> dict[tuple[str, dt.date, dt.date, str, str], float]:
    rows = await db.exec(
        select(WebPeriodMetric)
        .join(Account, col(Account.id) == WebPeriodMetric.account_id)
        .where(Account.client_id == client_id)
    )
    return {
        (w.dimension, w.period_start, w.period_end, w.dimension_value, w.metric): w.value
        for w in rows
    }


async def totals(db: AsyncSession, client_id: int) -> dict[str, ChannelTotal]:
    rows = await db.exec(
        select(ChannelTotal)
        .join(Account, col(Account.id) == ChannelTotal.account_id)
        .where(Account.client_id == client_id)
    )
    return {t.metric: t for t in rows}


async def make_account(
    db: AsyncSession, client_id: int, network: str, external_id: str, **kw: Any
) -> Account:
    acc = Account(
        client_id=client_id,
        scope_key=str(client_id),
        owner_kind="client",
        network=network,
        external_id=external_id,
        **kw,
    )
    db.add(acc)
    await db.flush()
    return acc
