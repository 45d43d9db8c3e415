# ruff: noqa: S608 - the SQL pieces pasted in are constants and computed offsets; values are bound
"""The SQL aggregates behind the stats, the metrics series and the audit.

Every figure is computed by the database (GROUP BY over the period's rows, index range
scans on ``(account_id, metric, day)`` and ``(account_id, published_at)``); Python only
assembles the rows. Queries take a list of account ids (an expanding ``IN``), so callers
chunk large lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, DateTime, Float, Integer, String, bindparam, text
from sqlalchemy.sql.elements import TextClause
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.stats.localtime import LocalTime, utc_bounds
from services.ingest.store.models import Account, DailyMetric

#: Account-level daily metrics the period figures read.
DAILY_METRICS = ("followers", "reach", "impressions", "views", "engagements")
#: How far back the followers count of a post's day may be looked up.
FOLLOWERS_LOOKBACK_DAYS = 30

_TS = DateTime(timezone=True)


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def _run(session: AsyncSession, q: Any, params: dict[str, Any]) -> Any:
    """Execute a textual query on the session's connection (inside its transaction)."""
    conn = await session.connection()
    return await conn.execute(q, params)


def _ids(name: str = "ids") -> Any:
    return bindparam(name, expanding=True, type_=Integer())


@dataclass(frozen=True)
class AccountKey:
    """What the stats need of an account (lighter than loading ORM objects by the 100,000)."""

    id: int
    client_id: int | None
    network: str
    timezone: str


async def accounts_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[AccountKey]:
    if not ids:
        return []
    q = select(
        col(Account.id), col(Account.client_id), col(Account.network), col(Account.timezone)
    ).where(col(Account.id).in_(list(ids)))
    return [AccountKey(int(i or 0), c, n, tz) for i, c, n, tz in await session.exec(q)]


# ------------------------------------------------------------------------- daily


@dataclass
class DailyAgg:
    n: int
    total: float | None
    first_day: dt.date
    last_day: dt.date


async def daily_aggregates(
    session: AsyncSession, ids: Sequence[int], start: dt.date, end: dt.date
) -> dict[tuple[int, str], DailyAgg]:
    metrics = ", ".join(f"'{m}'" for m in DAILY_METRICS)
    q0 = text(
        f"""
        SELECT account_id, metric, COUNT(*) AS n, SUM(value) AS total,
               MIN(day) AS first_day, MAX(day) AS last_day
        FROM ingest_daily_metric
        WHERE account_id IN :ids AND metric IN ({metrics}) AND day >= :s AND day <= :e
        GROUP BY account_id, metric
        """
    ).bindparams(_ids(), bindparam("s", type_=Date()), bindparam("e", type_=Date()))
    q = q0.columns(first_day=Date(), last_day=Date(), total=Float())
    res = await _run(session, q, {"ids": list(ids), "s": start, "e": end})
    return {(r.account_id, r.metric): DailyAgg(r.n, r.total, r.first_day, r.last_day) for r in res}


async def followers_ends(
    session: AsyncSession, ids: Sequence[int], start: dt.date, end: dt.date
) -> dict[int, dict[dt.date, float]]:
    """The followers counts on the first and the last day that has one in the period."""
    q0 = text(
        """
        SELECT d.account_id, d.day, d.value
        FROM ingest_daily_metric d
        JOIN (SELECT account_id, MIN(day) AS mn, MAX(day) AS mx
              FROM ingest_daily_metric
              WHERE account_id IN :ids AND metric = 'followers' AND day >= :s AND day <= :e
              GROUP BY account_id) b
          ON d.account_id = b.account_id AND d.metric = 'followers'
         AND (d.day = b.mn OR d.day = b.mx)
        """
    ).bindparams(_ids(), bindparam("s", type_=Date()), bindparam("e", type_=Date()))
    q = q0.columns(day=Date(), value=Float())
    res = await _run(session, q, {"ids": list(ids), "s": start, "e": end})
    out: dict[int, dict[dt.date, float]] = {}
    for r in res:
        out.setdefault(r.account_id, {})[r.day] = r.value
    return out


async def daily_series(
    session: AsyncSession, account_id: int, metrics: Sequence[str], start: dt.date, end: dt.date
) -> dict[str, list[tuple[dt.date, float]]]:
    q = (
        select(col(DailyMetric.metric), col(DailyMetric.day), col(DailyMetric.value))
        .where(
            DailyMetric.account_id == account_id,
            col(DailyMetric.metric).in_(list(metrics)),
            col(DailyMetric.day) >= start,
            col(DailyMetric.day) <= end,
        )
        .order_by(col(DailyMetric.metric), col(DailyMetric.day))
    )
    out: dict[str, list[tuple[dt.date, float]]] = {m: [] for m in metrics}
    for metric, day, value in await session.exec(q):
        out[metric].append((day, value))
    return out


# ------------------------------------------------------------------------- posts


def _post_facts_sql(lt: LocalTime, *, with_followers: bool, extra_cols: str = "") -> str:
    """The period's posts of some accounts, one row each, with their latest metrics."""
    fol = ""
    if with_followers:
        day = lt.day("pf.lts")
        fol = (
            ", (SELECT d.value FROM ingest_daily_metric d WHERE d.account_id = pf.account_id"
            f" AND d.metric = 'followers' AND d.day <= {day}"
            f" AND d.day >= {lt.day_minus('pf.lts', FOLLOWERS_LOOKBACK_DAYS)}"
            " ORDER BY d.day DESC LIMIT 1) AS fol"
        )
    return f"""
        WITH pf AS (
          SELECT p.id AS post_id, p.account_id, COALESCE(p.content_type, 'unknown') AS ctype,
                 COALESCE(p.format, '') AS fmt, {lt.ts} AS lts{extra_cols},
                 e.value AS eng, r.value AS rch, i.value AS imp, v.value AS vws
          FROM ingest_post p
          LEFT JOIN ingest_post_metric_latest e ON e.post_id = p.id AND e.metric = 'engagements'
          LEFT JOIN ingest_post_metric_latest r ON r.post_id = p.id AND r.metric = 'reach'
          LEFT JOIN ingest_post_metric_latest i ON i.post_id = p.id AND i.metric = 'impressions'
          LEFT JOIN ingest_post_metric_latest v ON v.post_id = p.id AND v.metric = 'views'
          WHERE p.account_id IN :ids AND p.published_at >= :lo AND p.published_at < :hi
        ), pf2 AS (SELECT pf.*{fol} FROM pf)
    """


def _bind_period(q: TextClause, lt: LocalTime) -> TextClause:
    q = q.bindparams(_ids(), bindparam("lo", type_=_TS), bindparam("hi", type_=_TS))
    if lt.dialect != "sqlite":
        q = q.bindparams(bindparam("tz", type_=String()))
    return q


def _params(lt: LocalTime, ids: Sequence[int], lo: dt.datetime, hi: dt.datetime) -> dict[str, Any]:
    p: dict[str, Any] = {"ids": list(ids), "lo": lo, "hi": hi}
    if lt.dialect != "sqlite":
        p["tz"] = lt.tz
    return p


_RATE_SUMS = """
  COUNT(*) AS posts, SUM(eng) AS eng_sum, COUNT(eng) AS eng_n,
  SUM(CASE WHEN fol > 0 THEN eng / fol END) AS erf_sum,
  COUNT(CASE WHEN fol > 0 THEN eng END) AS erf_n,
  SUM(CASE WHEN rch > 0 THEN eng / rch END) AS err_sum,
  COUNT(CASE WHEN rch > 0 THEN eng END) AS err_n,
  SUM(CASE WHEN imp > 0 THEN eng / imp END) AS eri_sum,
  COUNT(CASE WHEN imp > 0 THEN eng END) AS eri_n,
  SUM(CASE WHEN vws > 0 THEN eng / vws END) AS erv_sum,
  COUNT(CASE WHEN vws > 0 THEN eng END) AS erv_n
"""


@dataclass
class PostGroup:
    """Sums and counts of one group of posts; rates are means of per-post ratios."""

    posts: int = 0
    eng_sum: float = 0.0
    eng_n: int = 0
    erf_sum: float = 0.0
    erf_n: int = 0
    err_sum: float = 0.0
    err_n: int = 0
    eri_sum: float = 0.0
    eri_n: int = 0
    erv_sum: float = 0.0
    erv_n: int = 0

    def add(self, other: PostGroup) -> None:
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(other, k))

    @staticmethod
    def mean(total: float, n: int) -> float | None:
        return total / n if n else None


def _group(r: Any) -> PostGroup:
    return PostGroup(
        posts=r.posts,
        eng_sum=r.eng_sum or 0.0,
        eng_n=r.eng_n,
        erf_sum=r.erf_sum or 0.0,
        erf_n=r.erf_n,
        err_sum=r.err_sum or 0.0,
        err_n=r.err_n,
        eri_sum=r.eri_sum or 0.0,
        eri_n=r.eri_n,
        erv_sum=r.erv_sum or 0.0,
        erv_n=r.erv_n,
    )


async def post_groups(
    session: AsyncSession,
    ids: Sequence[int],
    tz: str,
    start: dt.date,
    end: dt.date,
    by: str = "ctype",
) -> dict[tuple[int, str], PostGroup]:
    """Sums per (account, content type) — or per (account, format) with ``by="fmt"``."""
    assert by in ("ctype", "fmt")
    lo, hi = utc_bounds(tz, start, end)
    lt = LocalTime(dialect_of(session), tz, lo, hi, "p.published_at")
    sql = _post_facts_sql(lt, with_followers=True) + (
        f"SELECT account_id, {by} AS grp, {_RATE_SUMS} FROM pf2 GROUP BY account_id, {by}"
    )
    q = _bind_period(text(sql), lt).columns(
        eng_sum=Float(), erf_sum=Float(), err_sum=Float(), eri_sum=Float(), erv_sum=Float()
    )
    res = await _run(session, q, _params(lt, ids, lo, hi))
    return {(r.account_id, r.grp): _group(r) for r in res}


async def median_engagements(
    session: AsyncSession, ids: Sequence[int], tz: str, start: dt.date, end: dt.date
) -> dict[tuple[int, str], float]:
    """Median engagements per (account, content type), among posts that have a count."""
    lo, hi = utc_bounds(tz, start, end)
    lt = LocalTime(dialect_of(session), tz, lo, hi, "p.published_at")
    sql = (
        _post_facts_sql(lt, with_followers=False)
        + """
        SELECT account_id, ctype, AVG(eng) AS med FROM (
          SELECT account_id, ctype, eng,
                 ROW_NUMBER() OVER (PARTITION BY account_id, ctype ORDER BY eng) AS rn,
                 COUNT(*) OVER (PARTITION BY account_id, ctype) AS cnt
          FROM pf2 WHERE eng IS NOT NULL) ranked
        WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2)
        GROUP BY account_id, ctype
    """
    )
    q = _bind_period(text(sql), lt).columns(med=Float())
    res = await _run(session, q, _params(lt, ids, lo, hi))
    return {(r.account_id, r.ctype): r.med for r in res}


async def posting_heatmap(
    session: AsyncSession, ids: Sequence[int], tz: str, start: dt.date, end: dt.date
) -> dict[int, list[list[int]]]:
    """7 × 24 counts of posts per account, Monday first, in the zone ``tz``."""
    lo, hi = utc_bounds(tz, start, end)
    lt = LocalTime(dialect_of(session), tz, lo, hi, "p.published_at")
    sql = f"""
        SELECT account_id, {lt.weekday("lts")} AS dow, {lt.hour("lts")} AS hr, COUNT(*) AS n
        FROM (SELECT p.account_id, {lt.ts} AS lts FROM ingest_post p
              WHERE p.account_id IN :ids AND p.published_at >= :lo AND p.published_at < :hi) x
        GROUP BY account_id, dow, hr
    """
    q = _bind_period(text(sql), lt)
    res = await _run(session, q, _params(lt, ids, lo, hi))
    out: dict[int, list[list[int]]] = {}
    for r in res:
        grid = out.setdefault(r.account_id, [[0] * 24 for _ in range(7)])
        grid[int(r.dow)][int(r.hr)] += int(r.n)
    return out


@dataclass
class PostFact:
    post_id: int
    account_id: int
    content_type: str
    format: str
    local: dt.datetime
    engagements: float | None
    reach: float | None
    impressions: float | None
    views: float | None
    followers: float | None
    external_id: str
    permalink: str | None
    text: str | None

    def rate(self, denominator: str) -> float | None:
        d = {
            "followers": self.followers,
            "reach": self.reach,
            "impressions": self.impressions,
            "views": self.views,
        }[denominator]
        if self.engagements is None or not d or d <= 0:
            return None
        return self.engagements / d


async def post_facts(
    session: AsyncSession, ids: Sequence[int], tz: str, start: dt.date, end: dt.date
) -> list[PostFact]:
    """Every post of the period, one row each (for the audit's per-post analyses)."""
    lo, hi = utc_bounds(tz, start, end)
    lt = LocalTime(dialect_of(session), tz, lo, hi, "p.published_at")
    extra = ", p.external_id AS ext, p.permalink AS link, SUBSTR(p.text, 1, 200) AS txt"
    sql = _post_facts_sql(lt, with_followers=True, extra_cols=extra) + (
        "SELECT post_id, account_id, ctype, fmt, lts, eng, rch, imp, vws, fol, ext, link, txt "
        "FROM pf2 ORDER BY lts, post_id"
    )
    q = _bind_period(text(sql), lt).columns(
        eng=Float(), rch=Float(), imp=Float(), vws=Float(), fol=Float()
    )
    res = await _run(session, q, _params(lt, ids, lo, hi))
    out = []
    for r in res:
        lts = r.lts
        if isinstance(lts, str):
            lts = dt.datetime.fromisoformat(lts)
        out.append(
            PostFact(
                r.post_id,
                r.account_id,
                r.ctype,
                r.fmt,
                lts,
                r.eng,
                r.rch,
                r.imp,
                r.vws,
                r.fol,
                r.ext,
                r.link,
                r.txt,
            )
        )
    return out


async def source_labels(
    session: AsyncSession, ids: Sequence[int], tz: str, start: dt.date, end: dt.date
) -> dict[int, list[str]]:
    """Labels of the sources (API + version, or file) of the period's numbers."""
    lo, hi = utc_bounds(tz, start, end)
    q = text(
        """
        SELECT DISTINCT x.account_id, s.kind, s.provider, s.version, s.file_name
        FROM (SELECT DISTINCT account_id, source_id FROM ingest_daily_metric
              WHERE account_id IN :ids AND day >= :s AND day <= :e AND source_id IS NOT NULL
              UNION
              SELECT DISTINCT account_id, source_id FROM ingest_post
              WHERE account_id IN :ids2 AND published_at >= :lo AND published_at < :hi
                AND source_id IS NOT NULL) x
        JOIN ingest_source s ON s.id = x.source_id
        """
    ).bindparams(
        _ids(),
        _ids("ids2"),
        bindparam("s", type_=Date()),
        bindparam("e", type_=Date()),
        bindparam("lo", type_=_TS),
        bindparam("hi", type_=_TS),
    )
    res = await _run(
        session, q, {"ids": list(ids), "ids2": list(ids), "s": start, "e": end, "lo": lo, "hi": hi}
    )
    out: dict[int, set[str]] = {}
    for r in res:
        if r.kind == "file":
            label = f"file: {r.file_name or r.provider}"
        else:
            label = f"{r.provider}{' ' + r.version if r.version else ''}"
        out.setdefault(r.account_id, set()).add(label)
    return {k: sorted(v) for k, v in out.items()}
