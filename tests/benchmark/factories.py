"""Builders of ingest's contract records for the benchmark's pure computations.

These build *input data* in ingest's published contract (what ingest answers), for the
unit tests of computations that take that data as arguments. Integration tests read the
same records from the real ingest app.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.schemas.ingest import (
    AccountStats,
    ContentTypeStat,
    Network,
    PostPublic,
    RateStat,
)

START = dt.date(2025, 1, 1)
END = dt.date(2025, 12, 31)


def rate(value: float | None, posts: int, denominator: str = "followers") -> RateStat:
    return RateStat(
        value=value,
        numerator="engagements per post",
        denominator=denominator,
        method="median over posts",
        posts=posts,
    )


def account_stats(
    account_id: int,
    network: Network | str = Network.instagram,
    *,
    followers_start: float | None = 1000,
    followers_end: float | None = 1100,
    posts: int = 52,
    posts_per_week: float | None = 1.0,
    er: float | None = 0.01,
    er_posts: int | None = None,
    er_view: float | None = None,
    content_types: list[tuple[str, int, float | None]] | None = None,
    heatmap: list[list[int]] | None = None,
) -> AccountStats:
    net = Network(network)
    growth = (
        followers_end - followers_start
        if followers_start is not None and followers_end is not None
        else None
    )
    return AccountStats(
        account_id=account_id,
        network=net,
        start=START,
        end=END,
        followers_start=followers_start,
        followers_end=followers_end,
        follower_growth=growth,
        follower_growth_pct=(growth / followers_start)
        if growth is not None and followers_start
        else None,
        posts=posts,
        posts_per_week=posts_per_week,
        engagements=None,
        reach=None,
        impressions=None,
        views=None,
        engagement_rate_by_follower=rate(er, posts if er_posts is None else er_posts),
        engagement_rate_by_reach=rate(None, 0, "reach"),
        engagement_rate_by_impression=rate(None, 0, "impressions"),
        engagement_rate_by_view=rate(er_view, posts if er_view is not None else 0, "views"),
        content_types=[
            ContentTypeStat(
                content_type=t, posts=n, engagement_rate_by_follower=r, median_engagements=None
            )
            for t, n, r in (content_types or [])
        ],
        posting_heatmap=heatmap or [],
    )


_post_ids = iter(range(1, 10**9))


def post(
    account_id: int,
    rate: float | None,
    *,
    network: Network | str = Network.instagram,
    published_at: dt.datetime | None = None,
    content_type: str | None = "photo",
    text: str | None = None,
    **kw: Any,
) -> PostPublic:
    return PostPublic(
        id=next(_post_ids),
        account_id=account_id,
        network=Network(network),
        external_id=f"p{account_id}-{next(_post_ids)}",
        published_at=published_at or dt.datetime(2025, 6, 2, 14, 0, tzinfo=dt.UTC),
        content_type=content_type,
        format=None,
        text=text,
        permalink=None,
        metrics={},
        followers_at_post=1000.0,
        engagement_rate_by_follower=rate,
        source="test",
        **kw,
    )
