"""Reading what scoring needs from ingest: the columnar streams, or period statistics.

The fast path reads ingest's columnar streams (posts with engagements and followers at
posting, daily followers and following; see :mod:`shared.schemas.ingest_columns`). When
ingest does not offer them (404: an older ingest), the same facts are taken from
``POST /v1/stats/accounts`` (``sections=[]``) over four windows (12 months, 90, 30 and 7
days). That path cannot see the daily series, the number of accounts followed or each
post, so growth spikes, the mass-follower rule and uniform engagement are "not
assessed", the rate is ingest's mean over posts rather than the median, and the date of
the last post is known only to the window.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import numpy as np

from services.benchmark.clients.ingest import IngestClient
from services.benchmark.scoring import engine as E
from shared.http import BackendNotFound
from shared.schemas.ingest import AccountStats
from shared.schemas.ingest_columns import DailyColumnsQuery, PostColumnsQuery

log = logging.getLogger("balise.benchmark.scoring")

TEXTS_PER_ACCOUNT = 20


@dataclass
class Inputs:
    facts: E.AccountFacts
    path: str  # "columns" or "stats"
    rate_method: str
    texts: dict[int, list[str]] = field(default_factory=dict)  # account id -> recent texts
    notes: list[str] = field(default_factory=list)


def epoch(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC).timestamp())


async def read(
    ingest: IngestClient, token: str, accounts: E.AccountTable, as_of: dt.date, texts: bool
) -> Inputs:
    if accounts.n == 0:
        return Inputs(E.AccountFacts.empty(0), "none", "")
    try:
        return await _columns(ingest, token, accounts, as_of, texts)
    except BackendNotFound:
        log.info("ingest has no columnar streams: scoring from period statistics")
        return await _stats(ingest, token, accounts, as_of)


async def _columns(
    ingest: IngestClient, token: str, accounts: E.AccountTable, as_of: dt.date, texts: bool
) -> Inputs:
    ids = accounts.account_id.tolist()
    start = as_of - dt.timedelta(days=E.WINDOW_DAYS - 1)
    chunks = []
    texts_by: dict[int, list[str]] = {}
    query = PostColumnsQuery(
        account_ids=ids,
        start=start,
        end=as_of,
        metrics=["engagements", "followers_at_post"],
        text_last=TEXTS_PER_ACCOUNT if texts else 0,
    )
    async for _, cols in ingest.post_columns(token, query):
        if "text" in cols:
            for aid, t in zip(cols["account_id"].tolist(), cols["text"], strict=True):
                if t:
                    texts_by.setdefault(aid, []).append(t)
        chunks.append({k: v for k, v in cols.items() if k != "text"})
    posts = E.PostColumns.concat(chunks)
    del chunks
    followers: list[dict[str, np.ndarray]] = []
    following: list[dict[str, np.ndarray]] = []
    dq = DailyColumnsQuery(
        account_ids=ids,
        start=as_of - dt.timedelta(days=89),
        end=as_of,
        metrics=["followers", "following"],
    )
    async for _, cols, extra in ingest.daily_columns(token, dq):
        (following if extra.get("metric") == "following" else followers).append(cols)
    facts = E.AccountFacts.empty(accounts.n)
    E.reduce_all(accounts, posts, E.DailyColumns.concat(followers), facts, epoch(as_of))
    facts.following[:] = E.reduce_latest(accounts, E.DailyColumns.concat(following))
    return Inputs(
        facts,
        "columns",
        "median over the posts of 12 months of engagements ÷ followers when posted",
        texts_by,
    )


async def _stats(
    ingest: IngestClient, token: str, accounts: E.AccountTable, as_of: dt.date
) -> Inputs:
    ids = accounts.account_id.tolist()
    n = accounts.n
    facts = E.AccountFacts.empty(n)
    pos = {aid: i for i, aid in enumerate(ids)}

    async def window(days: int) -> dict[int, AccountStats]:
        start = as_of - dt.timedelta(days=days - 1)
        return {s.account_id: s for s in await ingest.stats(token, ids, start, as_of, [])}

    year = await window(E.WINDOW_DAYS)
    method = ""
    for aid, s in year.items():
        i = pos[aid]
        facts.followers[i] = np.nan if s.followers_end is None else s.followers_end
        facts.posts_window[i] = s.posts
        rate = s.engagement_rate_by_follower
        facts.er_median[i] = np.nan if rate.value is None else rate.value
        facts.er_posts[i] = rate.posts
        facts.has_posts[i] = s.posts > 0
        method = method or rate.method
    as_of_ts = epoch(as_of)
    recent = await window(E.ACTIVITY_DAYS)
    for aid, s in recent.items():
        facts.posts_recent[pos[aid]] = s.posts
    # The last post's date is known only to the smallest window that has one.
    for days in (E.ACTIVITY_DAYS, 30, 7):
        counts = recent if days == E.ACTIVITY_DAYS else await window(days)
        for aid, s in counts.items():
            if s.posts > 0:
                facts.last_post[pos[aid]] = as_of_ts - days * E.DAY
    for aid, s in year.items():
        i = pos[aid]
        if s.posts > 0 and np.isnan(facts.last_post[i]):
            facts.last_post[i] = as_of_ts - E.WINDOW_DAYS * E.DAY
    return Inputs(
        facts,
        "stats",
        f"ingest: {method}" if method else "ingest's engagement rate by follower",
        notes=[
            "Scored from ingest's period statistics: growth spikes, the mass-follower rule "
            "and uniform engagement could not be assessed, and the last post is dated only "
            "to its window (7, 30, 90 or 365 days)."
        ],
    )
