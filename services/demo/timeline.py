"""The demo's calendar: a fixed window, tourism seasons, and when people post.

The generator is a pure function of its seed and end date: the same end date gives the
same demo on every run and machine. Tests use :data:`DEMO_END`; ``balise up`` loads the
demo ending yesterday, so the audit's default period always has data.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from services.demo.rand import weighted

DEMO_END = dt.date(2026, 11, 22)
MONTHS = 18
TIMEZONE = "America/Toronto"  # Québec's local time (Montréal follows Toronto's rules)
LOCAL = ZoneInfo(TIMEZONE)

# Visitors to the Haute-Côte: whales and fjord from June to October, a quieter winter
# (snowmobile, cross-country ski), a low spring. Multiplies activity and follower growth.
SEASON = {
    1: 0.8,
    2: 0.85,
    3: 0.8,
    4: 0.7,
    5: 0.9,
    6: 1.2,
    7: 1.5,
    8: 1.5,
    9: 1.25,
    10: 1.05,
    11: 0.75,
    12: 0.85,
}


def window_start(end: dt.date = DEMO_END, months: int = MONTHS) -> dt.date:
    """First day of the ``months``-month window ending on ``end`` (inclusive)."""
    month_index = end.year * 12 + (end.month - 1) - months
    year, month = divmod(month_index, 12)
    day = min(end.day, 28)
    return dt.date(year, month + 1, day) + dt.timedelta(days=1)


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def season(day: dt.date) -> float:
    return SEASON[day.month]


def season_name(day: dt.date) -> str:
    if day.month in (12, 1, 2, 3):
        return "hiver"
    if day.month in (4, 5):
        return "printemps"
    if day.month in (6, 7, 8):
        return "été"
    return "automne"


def local_to_utc(day: dt.date, hour: int, minute: int) -> dt.datetime:
    local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL)
    return local.astimezone(dt.UTC)


def pick_slot(
    rng: random.Random, weekday_weights: list[float], hour_weights: list[float]
) -> tuple[int, int]:
    """A (weekday, hour) in local time, Monday = 0."""
    weekday = weighted(rng, range(7), weekday_weights)
    hour = weighted(rng, range(24), hour_weights)
    return weekday, hour


def hours(*spans: tuple[int, int, float], base: float = 0.0) -> list[float]:
    """24 hourly weights from ``(first_hour, last_hour, weight)`` spans."""
    out = [base] * 24
    for first, last, weight in spans:
        for h in range(first, last + 1):
            out[h] = weight
    return out
