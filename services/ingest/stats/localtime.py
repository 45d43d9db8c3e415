"""Posts are stored in UTC; days and hours of the week are counted in the account's zone.

SQLite has no time zones, so the conversion is written into the SQL: for a period we list
the zone's UTC offsets (daylight saving changes them) and build a ``CASE`` that applies the
right one to each timestamp. PostgreSQL converts natively (``timezone(zone, ts)``). Both
give the same local wall-clock timestamp, from which the local day, weekday (Monday = 0)
and hour are taken.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

UTC = dt.UTC


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def utc_bounds(tz: str, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """UTC instants of local ``start`` 00:00 and of the day after ``end`` 00:00."""
    z = zone(tz)
    lo = dt.datetime.combine(start, dt.time(), z).astimezone(UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), z).astimezone(UTC)
    return lo, hi


@functools.lru_cache(maxsize=512)
def offset_segments(
    tz: str, lo: dt.datetime, hi: dt.datetime
) -> tuple[tuple[dt.datetime, int], ...]:
    """``((until_utc, offset_seconds), ...)``: the offset in force up to each instant.

    The last segment's ``until`` is ``hi``. Found by stepping a day at a time and narrowing
    each change to the minute (zone changes happen on minute boundaries).
    """
    z = zone(tz)

    def off(t: dt.datetime) -> int:
        delta = t.astimezone(z).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    segments: list[tuple[dt.datetime, int]] = []
    t = lo - dt.timedelta(days=1)
    current = off(t)
    step = dt.timedelta(days=1)
    while t < hi + dt.timedelta(days=1):
        nxt = t + step
        if off(nxt) != current:
            a, b = t, nxt  # the change happens in (a, b]
            while b - a > dt.timedelta(minutes=1):
                mid = a + (b - a) / 2
                mid = mid.replace(second=0, microsecond=0)
                if mid <= a:
                    mid = a + dt.timedelta(minutes=1)
                if off(mid) == current:
                    a = mid
                else:
                    b = mid
            segments.append((b, current))
            current = off(b)
        t = nxt
    segments.append((hi + dt.timedelta(days=2), current))
    return tuple(segments)


def _sqlite_ts(value: dt.datetime) -> str:
    # The text SQLAlchemy stores for a UTC datetime on SQLite sorts the same way.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class LocalTime:
    """SQL fragments for one dialect, one zone and one period."""

    def __init__(self, dialect: str, tz: str, lo: dt.datetime, hi: dt.datetime, column: str):
        self.dialect = dialect
        self.tz = tz
        self.column = column
        if dialect == "sqlite":
            segs = offset_segments(tz, lo, hi)
            if len(segs) == 1:
                self.ts = f"datetime({column}, '{segs[0][1]:+d} seconds')"
            else:
                whens = " ".join(
                    f"WHEN {column} < '{_sqlite_ts(until)}' THEN '{off:+d} seconds'"
                    for until, off in segs[:-1]
                )
                self.ts = f"datetime({column}, CASE {whens} ELSE '{segs[-1][1]:+d} seconds' END)"
        else:
            # The zone is bound as a parameter (:tz), never pasted into the SQL.
            self.ts = f"timezone(:tz, {column})"

    def day(self, expr: str) -> str:
        return f"date({expr})" if self.dialect == "sqlite" else f"CAST({expr} AS date)"

    def day_minus(self, expr: str, days: int) -> str:
        if self.dialect == "sqlite":
            return f"date({expr}, '-{int(days)} days')"
        return f"(CAST({expr} AS date) - {int(days)})"

    def weekday(self, expr: str) -> str:
        """Monday = 0 … Sunday = 6."""
        if self.dialect == "sqlite":
            return f"((CAST(strftime('%w', {expr}) AS INTEGER) + 6) % 7)"
        return f"(CAST(EXTRACT(ISODOW FROM {expr}) AS INTEGER) - 1)"

    def hour(self, expr: str) -> str:
        if self.dialect == "sqlite":
            return f"CAST(strftime('%H', {expr}) AS INTEGER)"
        return f"CAST(EXTRACT(HOUR FROM {expr}) AS INTEGER)"
