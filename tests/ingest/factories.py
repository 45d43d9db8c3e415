"""Plain async factories for ingest's store (bulk inserts, as the loaders do)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.store.models import (
    Account,
    DailyMetric,
    Post,
    PostMetric,
    PostMetricLatest,
    SourceRecord,
    WebMetric,
)

UTC = dt.UTC


async def create_account(
    session: AsyncSession,
    client_id: int | None,
    network: str = "facebook",
    **kw: Any,
) -> Account:
    n = kw.pop("n", None)
    account = Account(
        client_id=client_id,
        scope_key=str(client_id) if client_id is not None else "agency",
        owner_kind=kw.pop("owner_kind", "client" if client_id is not None else "relay"),
        network=network,
        external_id=kw.pop("external_id", f"{network}-{client_id}-{n or id(kw)}"),
        name=kw.pop("name", f"{network} account"),
        timezone=kw.pop("timezone", "America/Toronto"),
        **kw,
    )
    session.add(account)
    await session.flush()
    return account


async def create_source(session: AsyncSession, client_id: int | None, **kw: Any) -> SourceRecord:
    src = SourceRecord(
        client_id=client_id,
        kind=kw.pop("kind", "api"),
        provider=kw.pop("provider", "facebook_graph"),
        version=kw.pop("version", "v23.0"),
        **kw,
    )
    session.add(src)
    await session.flush()
    return src


async def add_daily(
    session: AsyncSession,
    account: Account,
    metric: str,
    values: Mapping[dt.date, float],
    source: SourceRecord | None = None,
) -> None:
    rows = [
        {
            "account_id": account.id,
            "metric": metric,
            "day": day,
            "value": float(v),
            "source_id": source.id if source else None,
        }
        for day, v in values.items()
    ]
    if rows:
        await (await session.connection()).execute(insert(DailyMetric), rows)


async def add_post(
    session: AsyncSession,
    account: Account,
    published_at: dt.datetime | None,
    *,
    content_type: str | None = "photo",
    format: str | None = None,
    metrics: Mapping[str, float] | None = None,
    snapshot: dt.date | None = None,
    source: SourceRecord | None = None,
    external_id: str | None = None,
    text: str | None = None,
) -> Post:
    post = Post(
        account_id=account.id or 0,
        external_id=external_id or f"p{published_at.timestamp() if published_at else id(metrics)}",
        published_at=published_at,
        content_type=content_type,
        format=format,
        text=text,
        source_id=source.id if source else None,
        source_row=3 if source and source.kind == "file" else None,
    )
    session.add(post)
    await session.flush()
    snap = snapshot or (published_at.date() if published_at else dt.date(2024, 1, 1))
    rows = [
        {"post_id": post.id, "snapshot_date": snap, "metric": m, "value": float(v)}
        for m, v in (metrics or {}).items()
    ]
    if rows:
        await (await session.connection()).execute(insert(PostMetric), rows)
        await (await session.connection()).execute(
            insert(PostMetricLatest),
            [{k: r[k] for k in ("post_id", "snapshot_date", "metric", "value")} for r in rows],
        )
    return post


async def add_web(
    session: AsyncSession,
    account: Account,
    day: dt.date,
    dimension: str,
    values: Mapping[str, Mapping[str, float]],
) -> None:
    """``values``: dimension value -> metric -> value."""
    rows = [
        {
            "account_id": account.id,
            "day": day,
            "dimension": dimension,
            "dimension_value": dv,
            "metric": metric,
            "value": float(v),
        }
        for dv, metrics in values.items()
        for metric, v in metrics.items()
    ]
    if rows:
        await (await session.connection()).execute(insert(WebMetric), rows)


def at(y: int, m: int, d: int, h: int = 12, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=UTC)
