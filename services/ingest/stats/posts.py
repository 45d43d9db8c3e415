"""Posts of one account with their latest metrics, newest first, cursor-paged."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.stats import repository as repo
from services.ingest.stats.localtime import zone
from services.ingest.store.models import Account, Post, PostMetricLatest, SourceRecord
from shared.schemas.common import Page, decode_cursor, encode_cursor
from shared.schemas.ingest import PostPublic


async def list_posts(
    session: AsyncSession,
    account: Account,
    *,
    start: dt.date | None,
    end: dt.date | None,
    content_type: str | None,
    fmt: str | None,
    cursor: str | None,
    limit: int,
) -> Page[PostPublic]:
    z = zone(account.timezone)
    q = select(Post, SourceRecord).join(
        SourceRecord, col(Post.source_id) == col(SourceRecord.id), isouter=True
    )
    q = q.where(Post.account_id == account.id, col(Post.published_at).is_not(None))
    if start:
        q = q.where(col(Post.published_at) >= dt.datetime.combine(start, dt.time(), z))
    if end:
        q = q.where(
            col(Post.published_at) < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), z)
        )
    if content_type:
        q = q.where(Post.content_type == content_type)
    if fmt:
        q = q.where(Post.format == fmt)
    after = decode_cursor(cursor)
    if after:
        try:
            at = dt.datetime.fromisoformat(str(after["t"]))
            pid = int(after["id"])
        except (KeyError, ValueError, TypeError) as exc:
            from shared.errors import Invalid

            raise Invalid("The cursor is malformed.") from exc
        q = q.where(
            or_(
                col(Post.published_at) < at,
                and_(col(Post.published_at) == at, col(Post.id) < pid),
            )
        )
    q = q.order_by(col(Post.published_at).desc(), col(Post.id).desc()).limit(limit + 1)
    rows = list((await session.exec(q)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    posts = [p for p, _ in rows]
    metrics = await _latest(session, [p.id for p in posts if p.id is not None])
    followers = await _followers_lookup(session, account, posts)
    data = []
    for post, src in rows:
        m = metrics.get(post.id or 0, {})
        fol = followers(post.published_at)
        eng = m.get("engagements")
        data.append(
            PostPublic(
                id=post.id or 0,
                account_id=account.id or 0,
                network=account.network,
                external_id=post.external_id,
                published_at=post.published_at,
                content_type=post.content_type,
                format=post.format,
                text=post.text,
                permalink=post.permalink,
                metrics=m,
                followers_at_post=fol,
                engagement_rate_by_follower=(eng / fol) if eng is not None and fol else None,
                source=_label(src, post.source_row),
            )
        )
    nxt = None
    if more and posts:
        last = posts[-1]
        nxt = encode_cursor(
            {"t": last.published_at.isoformat() if last.published_at else "", "id": last.id}
        )
    return Page[PostPublic](data=data, next_cursor=nxt)


def _label(src: SourceRecord | None, row: int | None) -> str | None:
    if src is None:
        return None
    if src.kind == "file":
        return (
            f"{src.file_name or src.provider} row {row}" if row else (src.file_name or src.provider)
        )
    return f"{src.provider}{' ' + src.version if src.version else ''}"


async def _latest(session: AsyncSession, post_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    if not post_ids:
        return {}
    q = select(PostMetricLatest).where(col(PostMetricLatest.post_id).in_(list(post_ids)))
    out: dict[int, dict[str, float]] = {}
    for r in await session.exec(q):
        out.setdefault(r.post_id, {})[r.metric] = r.value
    return out


async def _followers_lookup(session: AsyncSession, account: Account, posts: Sequence[Post]):
    """A function: published_at -> followers on that local day (latest within 30 days)."""
    z = zone(account.timezone)
    days = [p.published_at.astimezone(z).date() for p in posts if p.published_at]
    if not days:
        return lambda _t: None
    lo = min(days) - dt.timedelta(days=repo.FOLLOWERS_LOOKBACK_DAYS)
    series = (await repo.daily_series(session, account.id or 0, ["followers"], lo, max(days)))[
        "followers"
    ]
    keys = [d for d, _ in series]

    def lookup(t: dt.datetime | None) -> float | None:
        if t is None:
            return None
        day = t.astimezone(z).date()
        i = bisect.bisect_right(keys, day) - 1
        if i < 0 or (day - keys[i]).days > repo.FOLLOWERS_LOOKBACK_DAYS:
            return None
        return series[i][1]

    return lookup
