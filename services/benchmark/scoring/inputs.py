"""Reading what scoring needs from ingest's columnar streams.

Posts of 12 months with engagements and followers when posted, and 90 days of daily
followers and following (see :mod:`shared.schemas.ingest_columns`), in the binary
encoding: the directory's 5,000,000 posts decode as views on the received bytes. From
them the engine measures the median rate over posts, growth spikes, the mass-follower
rule, uniform engagement and the date of the last post.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.benchmark.clients.ingest import IngestClient
from services.benchmark.scoring import engine as E
from shared.schemas.ingest_columns import DailyColumnsQuery, PostColumnsQuery

TEXTS_PER_ACCOUNT = 20
IDS_PER_CALL = 50_000


@dataclass
class Inputs:
    facts: E.AccountFacts
    path: str  # "columns" (ingest's columnar streams), "none" without accounts
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
    return await _columns(ingest, token, accounts, as_of, texts)


async def _columns(
    ingest: IngestClient, token: str, accounts: E.AccountTable, as_of: dt.date, texts: bool
) -> Inputs:
    ids = accounts.account_id.tolist()
    # Ascending id batches keep the whole stream ordered by account (what the engine's
    # grouping relies on) while each request stays within the contract's bound.
    batches = [ids[i : i + IDS_PER_CALL] for i in range(0, len(ids), IDS_PER_CALL)]
    start = as_of - dt.timedelta(days=E.WINDOW_DAYS - 1)
    texts_by: dict[int, list[str]] = {}
    facts = E.AccountFacts.empty(accounts.n)
    # Chunks are reduced as they arrive, in worker threads (see E.StreamReduction).
    with E.StreamReduction(accounts, facts, epoch(as_of)) as reduction:
        for batch in batches:
            query = PostColumnsQuery(
                account_ids=batch,
                start=start,
                end=as_of,
                metrics=["engagements", "followers_at_post"],
                text_last=TEXTS_PER_ACCOUNT if texts else 0,
                encoding="binary",
            )
            async for _, cols in ingest.post_columns(token, query):
                if "text" in cols:
                    for aid, t in zip(cols["account_id"].tolist(), cols["text"], strict=True):
                        if t:
                            texts_by.setdefault(aid, []).append(t)
                reduction.posts(cols)
        for batch in batches:
            dq = DailyColumnsQuery(
                account_ids=batch,
                start=as_of - dt.timedelta(days=E.ACTIVITY_DAYS - 1),
                end=as_of,
                metrics=["followers", "following"],
                encoding="binary",
            )
            async for _, cols, extra in ingest.daily_columns(token, dq):
                if extra.get("metric") == "following":
                    reduction.following(cols)
                else:
                    reduction.followers(cols)
        reduction.finish()
    return Inputs(
        facts,
        "columns",
        "median over the posts of 12 months of engagements ÷ followers when posted",
        texts_by,
    )
