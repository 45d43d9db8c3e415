"""From simulated accounts to ingest's canonical records (``shared.schemas.ingest``).

The demo's numbers are synthetic, and their source says so: the provider is the real
provider's name prefixed with ``demo_`` (``demo_facebook_graph v23.0``), so every figure
can be traced to the generator that made it and is never mistaken for a real sync.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from services.demo.engine_types import SimAccount
from services.demo.timeline import TIMEZONE
from shared.schemas.ingest import AccountRef, DailyMetricRecord, Network, PostRecord, Source


@dataclass(frozen=True)
class DemoAccount:
    """One space as ingest registers it, with everything collected about it."""

    ref: AccountRef
    url: str | None
    collected_from: dt.date  # collection started this day (never any data before it)
    timezone: str = TIMEZONE
    daily: list[DailyMetricRecord] = field(default_factory=list)
    posts: list[PostRecord] = field(default_factory=list)  # one record per snapshot

    @property
    def network(self) -> str:
        return self.ref.network.value


def demo_source(provider: str, version: str | None) -> Source:
    return Source(kind="api", provider=f"demo_{provider}", version=version)


def to_account(sim: SimAccount) -> DemoAccount:
    plan, profile = sim.plan, sim.profile
    ref = AccountRef(
        network=Network(plan.network),
        external_id=plan.external_id,
        name=plan.name,
        handle=plan.handle,
    )
    source = demo_source(profile.provider, profile.api_version)
    daily = [
        DailyMetricRecord(account=ref, metric="followers", day=day, value=value, source=source)
        for day, value in zip(sim.days, sim.followers, strict=True)
        if not math.isnan(value)
    ]
    for metric, values in sorted(sim.daily.items()):
        daily.extend(
            DailyMetricRecord(account=ref, metric=metric, day=day, value=value, source=source)
            for day, value in zip(sim.days, values, strict=True)
        )
    posts = [
        PostRecord(
            account=ref,
            external_id=post.external_id,
            published_at=post.published_at,
            content_type=post.content_type,
            format=post.format,
            text=post.text,
            permalink=post.permalink,
            title=post.title,
            duration_seconds=post.duration_seconds,
            snapshot_date=day,
            metrics=metrics,
            source=source,
        )
        for post in sim.posts
        for day, metrics in post.snapshots
    ]
    url = profile.url.format(handle=plan.handle) if profile.url else None
    return DemoAccount(
        ref=ref, url=url, collected_from=plan.collected_from, daily=daily, posts=posts
    )


def add_following(account: DemoAccount, following: int, rng: random.Random) -> None:
    """The daily following count a public profile shows, from the first collected day."""
    days = sorted(d.day for d in account.daily if d.metric == "followers")
    if not days:
        return
    source = account.daily[0].source
    value = following
    for day in days:
        account.daily.append(
            DailyMetricRecord(
                account=account.ref,
                metric="following",
                day=day,
                value=float(value),
                source=source,
            )
        )
        value = max(0, value + rng.choice((0, 0, 0, 0, 1, 1, 2, -1)))
