"""Small builders of canonical records for the ingest tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.schemas.ingest import (
    AccountRef,
    ChannelTotalRecord,
    DailyMetricRecord,
    Network,
    PostRecord,
    Source,
    WebMetricRecord,
)

API = Source(kind="api", provider="test_api", version="v1")


def ref(external_id: str = "page-1", network: Network = Network.facebook) -> AccountRef:
    return AccountRef(network=network, external_id=external_id, name=f"Account {external_id}")


def daily(
    metric: str = "followers",
    day: dt.date = dt.date(2026, 5, 1),
    value: float = 100.0,
    account: AccountRef | None = None,
    row: int | None = None,
) -> DailyMetricRecord:
    src = API if row is None else Source(kind="file", provider="test_file", file="f.csv", row=row)
    return DailyMetricRecord(
        account=account or ref(), metric=metric, day=day, value=value, source=src
    )


def post(
    external_id: str = "p1",
    snapshot: dt.date = dt.date(2026, 5, 10),
    account: AccountRef | None = None,
    **metrics: float,
) -> PostRecord:
    return PostRecord(
        account=account or ref(),
        external_id=external_id,
        published_at=dt.datetime(2026, 5, 1, 14, 30, tzinfo=dt.UTC),
        content_type="photo",
        format="Photo",
        text="Bonjour 🌲\nsecond line",
        snapshot_date=snapshot,
        metrics=metrics or {"reactions": 10.0, "comments": 2.0},
        source=API,
    )


def web(
    metric: str = "sessions",
    value: float = 50.0,
    day: dt.date = dt.date(2026, 5, 1),
    period_end: dt.date | None = None,
    **kw: Any,
) -> WebMetricRecord:
    return WebMetricRecord(
        account=kw.pop("account", None) or ref("G-1", Network.ga4),
        day=day,
        period_end=period_end,
        dimension=kw.pop("dimension", "channel_group"),
        dimension_value=kw.pop("dimension_value", "Organic Social"),
        metric=metric,
        value=value,
        source=API,
    )


def total(
    account: AccountRef | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    **metrics: float,
) -> ChannelTotalRecord:
    return ChannelTotalRecord(
        account=account or ref("chan-1", Network.youtube),
        period_start=start,
        period_end=end,
        metrics=metrics or {"views": 1000.0},
        source=API,
    )
