"""Small pure helpers the connectors share: numbers, days, windows, URLs, social sources."""

from __future__ import annotations

import datetime as dt
import email.utils
import math
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from services.ingest.connectors.base import FetchWindow
from shared.schemas.ingest import DailyMetricRecord, WebMetricRecord

PACIFIC = ZoneInfo("America/Los_Angeles")


def number(value: object) -> float | None:
    """A provider's count as a float; None for absent, empty, non-numeric or NaN values.

    Providers send counts as ints, floats or strings ("123", "1.5"); ``None`` and ``""``
    mean "no data" and must never become 0.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            out = float(text)
        except ValueError:
            return None
    else:
        return None
    return None if math.isnan(out) or math.isinf(out) else out


def total(*values: float | None) -> float | None:
    """The sum of values that are all known; None as soon as one is missing."""
    if any(v is None for v in values):
        return None
    return float(sum(v for v in values if v is not None))


def days(window: FetchWindow) -> Iterator[dt.date]:
    day = window.start
    while day <= window.end:
        yield day
        day += dt.timedelta(days=1)


def chunks(window: FetchWindow, max_days: int) -> list[FetchWindow]:
    """The window cut into consecutive windows of at most ``max_days`` days."""
    out: list[FetchWindow] = []
    start = window.start
    while start <= window.end:
        end = min(window.end, start + dt.timedelta(days=max_days - 1))
        out.append(FetchWindow(start=start, end=end))
        start = end + dt.timedelta(days=1)
    return out


def clamp(window: FetchWindow, earliest: dt.date) -> FetchWindow | None:
    """The part of the window on or after ``earliest`` (None when nothing is left)."""
    if window.end < earliest:
        return None
    return FetchWindow(start=max(window.start, earliest), end=window.end)


def in_window(moment: dt.datetime | None, window: FetchWindow, tz: dt.tzinfo = dt.UTC) -> bool:
    if moment is None:
        return False
    day = moment.astimezone(tz).date()
    return window.start <= day <= window.end


def parse_time(text: object) -> dt.datetime | None:
    """ISO 8601 (with ``Z`` or ``+0000``) to aware UTC; None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    elif len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit() and ":" not in value[-5:]:
        value = value[:-2] + ":" + value[-2:]  # Graph's "+0000"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def from_millis(value: object) -> dt.datetime | None:
    n = number(value)
    return None if n is None else dt.datetime.fromtimestamp(n / 1000, dt.UTC)


def millis(day: dt.date) -> int:
    """Midnight UTC of ``day`` in epoch milliseconds (LinkedIn's time ranges)."""
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1000)


def day_ending_at(end_time: dt.datetime, tz: dt.tzinfo | None) -> dt.date:
    """The day a Graph ``period=day`` value covers, given its ``end_time``.

    ``end_time`` is the midnight that closes the day in the account's time zone, written in
    UTC. With the zone known this is exact; without it, stepping back 12 hours lands inside
    the right day for every offset from UTC−12 (exclusive) to UTC+12.
    """
    if tz is not None:
        return (end_time.astimezone(tz) - dt.timedelta(seconds=1)).date()
    return (end_time.astimezone(dt.UTC) - dt.timedelta(hours=12)).date()


def zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return None


def next_midnight(now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The next midnight in ``tz`` after ``now``, as aware UTC (daily quota resets)."""
    local = now.astimezone(tz)
    tomorrow = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), tz)
    return tomorrow.astimezone(dt.UTC)


def retry_after(value: str | None, now: dt.datetime) -> dt.datetime | None:
    """``Retry-After`` as a moment: delta seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return now + dt.timedelta(seconds=int(text))
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def epoch(value: str | None) -> dt.datetime | None:
    """An epoch-seconds header (``x-rate-limit-reset``) as aware UTC."""
    n = number(value)
    return None if n is None else dt.datetime.fromtimestamp(n, dt.UTC)


def rebase(next_url: str, base_url: str, *, drop: tuple[str, ...] = ("access_token",)) -> str:
    """A provider's "next" link moved onto our configured base URL.

    Providers write absolute links to their public host; a proxy or sandbox base URL must
    keep receiving the calls, and the token travels in a header, never in a query string
    that could be logged — so the link's own ``access_token`` is dropped.
    """
    link = urlsplit(next_url)
    base = urlsplit(base_url)
    base_path = base.path.rstrip("/")
    path = link.path
    if base_path and not path.startswith(base_path + "/"):
        path = base_path + path
    query = urlencode(
        [(k, v) for k, v in parse_qsl(link.query, keep_blank_values=True) if k not in drop]
    )
    return f"{base.scheme}://{base.netloc}{path}" + (f"?{query}" if query else "")


def as_total(row: DailyMetricRecord) -> WebMetricRecord:
    """A property's daily total as the ``total`` row of its web metrics."""
    return WebMetricRecord(
        account=row.account,
        day=row.day,
        dimension="total",
        dimension_value="total",
        metric=row.metric,
        value=row.value,
        source=row.source,
    )


# --- social networks as web-analytics sources -------------------------------------------

_SOCIAL_DOMAINS = {
    "facebook.com": "facebook",
    "fb.com": "facebook",
    "fb.me": "facebook",
    "instagram.com": "instagram",
    "t.co": "x",
    "twitter.com": "x",
    "x.com": "x",
    "linkedin.com": "linkedin",
    "lnkd.in": "linkedin",
    "youtube.com": "youtube",
    "youtu.be": "youtube",
    "pinterest.com": "pinterest",
    "pin.it": "pinterest",
    "tiktok.com": "tiktok",
}
_SOCIAL_NAMES = {
    "facebook": "facebook",
    "fb": "facebook",
    "instagram": "instagram",
    "ig": "instagram",
    "twitter": "x",
    "x": "x",
    "linkedin": "linkedin",
    "youtube": "youtube",
    "pinterest": "pinterest",
    "tiktok": "tiktok",
}


def social_network(source: str | None) -> str | None:
    """The network a web-analytics source names, or None.

    Sources come as domains (GA4 ``m.facebook.com``, ``t.co``), utm values (``fb``, ``ig``)
    or display names (Matomo ``Facebook``, Plausible ``Twitter``).
    """
    if not source:
        return None
    text = source.strip().lower()
    if text in _SOCIAL_NAMES:
        return _SOCIAL_NAMES[text]
    host = text.split("/")[0]
    for prefix in ("www.", "m.", "l.", "lm.", "mobile."):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    if host in _SOCIAL_DOMAINS:
        return _SOCIAL_DOMAINS[host]
    if host.startswith("pinterest."):  # pinterest.ca, pinterest.fr…
        return "pinterest"
    for domain, network in _SOCIAL_DOMAINS.items():
        if host.endswith("." + domain):
            return network
    return None
