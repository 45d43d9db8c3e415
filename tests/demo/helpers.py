"""Figures recomputed from the demo's records, independently of the generator's code."""

from __future__ import annotations

import datetime as dt
import statistics
from zoneinfo import ZoneInfo

from services.demo.records import DemoAccount
from shared.schemas.ingest import PostRecord

LOCAL = ZoneInfo("America/Toronto")


def latest_snapshots(account: DemoAccount) -> dict[str, PostRecord]:
    latest: dict[str, PostRecord] = {}
    for record in account.posts:
        seen = latest.get(record.external_id)
        if seen is None or record.snapshot_date > seen.snapshot_date:
            latest[record.external_id] = record
    return latest


def followers(account: DemoAccount) -> dict[dt.date, float]:
    return {d.day: d.value for d in account.daily if d.metric == "followers"}


def local_day(post: PostRecord) -> dt.date:
    assert post.published_at is not None
    return post.published_at.astimezone(LOCAL).date()


def er_by_follower(account: DemoAccount) -> list[float]:
    """Engagements at the latest snapshot / followers on the local day of posting."""
    fol = followers(account)
    return [
        p.metrics["engagements"] / fol[local_day(p)]
        for p in latest_snapshots(account).values()
        if local_day(p) in fol and "engagements" in p.metrics
    ]


def er_by_exposure(account: DemoAccount, exposure: str) -> list[float]:
    return [
        p.metrics["engagements"] / p.metrics[exposure]
        for p in latest_snapshots(account).values()
        if p.metrics.get(exposure)
    ]


def median(values: list[float]) -> float:
    assert values, "no values"
    return statistics.median(values)
