"""Reading one cell of a native export: header names, numbers, dates, durations.

Real exports are written by spreadsheets in several locales, so a cell may say
``1 234,5`` (French Excel, with a no-break space), ``1,234.5``, ``"1777.0"`` (a count
written as a float), ``-`` or ``NA`` (no data) … Every parser here either returns a
value, returns ``None`` for "no data" (never 0), or raises :class:`CellError` with a
reason a person can act on.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any

#: Characters that real exports carry invisibly in header names (YouTube Studio puts
#: soft hyphens in "Video pub­lish time") or around values: removed before matching.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad\u200b\u200c\u200d\u2060\ufeff\u200e\u200f"
        "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u180e",
    ),
    None,
)

#: Written by exports for "no data" (promoted columns of an unpromoted tweet, N/A …).
MISSING = frozenset(
    {"", "-", "–", "—", "--", "na", "n/a", "n.a.", "nan", "null", "none", "n.d.", "s.o.", "s/o"}
)


class CellError(ValueError):
    """A cell that cannot be read; ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_text(value: Any) -> str:
    """The cell as text without invisible characters, no-break spaces made plain."""
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    s = s.translate(_INVISIBLE)
    return unicodedata.normalize("NFKC", s).strip()


def norm_header(value: Any) -> str:
    """Header name for matching: invisible characters removed, spaces collapsed,
    case folded (``"Video pub\\u00adlish  Time "`` → ``"video publish time"``)."""
    return " ".join(clean_text(value).split()).casefold()


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return clean_text(value).casefold() in MISSING
    return False


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED_COMMA = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_GROUPED_DOT = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_SPACES = dict.fromkeys(map(ord, " \u00a0\u202f\u2009\u2007'’"), None)


def parse_number(value: Any, decimal_comma: bool | None = None) -> float | None:
    """A number from a cell; ``None`` for no data.

    ``decimal_comma``: ``True`` for French-style files (``;``-separated, ``12,5``),
    ``False`` when a comma can only group thousands, ``None`` to decide per cell
    (``1,234`` is a thousand-two-hundred, ``12,5`` twelve and a half).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise CellError("expected a number, found a true/false value")
    if isinstance(value, (int, float)):
        f = float(value)
        if not math.isfinite(f):
            raise CellError("not a finite number")
        return f
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        raise CellError("expected a number, found a date or time")
    s = value if isinstance(value, str) else str(value)
    try:  # the common case: "1777", "1777.0"
        f = float(s)
        if math.isfinite(f) and "_" not in s:
            return f
    except ValueError:
        pass
    s = clean_text(s)
    if s.casefold() in MISSING:
        return None
    if s.endswith("%"):
        raise CellError("a percentage where a count is expected")
    s = s.translate(_SPACES).replace("\u2212", "-")
    if "," in s and "." in s:
        if s.rfind(",") > s.rfind("."):
            if not _GROUPED_DOT.fullmatch(s):
                raise CellError("not a number")
            s = s.replace(".", "").replace(",", ".")
        else:
            if not _GROUPED_COMMA.fullmatch(s):
                raise CellError("not a number")
            s = s.replace(",", "")
    elif "," in s:
        if decimal_comma is True or (
            decimal_comma is None and s.count(",") == 1 and not _GROUPED_COMMA.fullmatch(s)
        ):
            if s.count(",") != 1:
                raise CellError("not a number (several decimal commas)")
            s = s.replace(",", ".")
        else:
            if not _GROUPED_COMMA.fullmatch(s):
                raise CellError("not a number")
            s = s.replace(",", "")
    elif s.count(".") > 1:
        if not _GROUPED_DOT.fullmatch(s):
            raise CellError("not a number")
        s = s.replace(".", "")
    if not _NUMBER.fullmatch(s):
        raise CellError("not a number")
    f = float(s)
    if not math.isfinite(f):
        raise CellError("not a finite number")
    return f


_DURATION = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})(?:\.(\d+))?")


def parse_duration(value: Any, decimal_comma: bool | None = None) -> float | None:
    """Seconds from ``H:MM:SS``, ``M:SS`` or a plain number of seconds."""
    if isinstance(value, dt.time):
        return value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, str) and ":" in value:
        s = clean_text(value)
        m = _DURATION.fullmatch(s)
        if not m:
            raise CellError("not a duration (expected H:MM:SS)")
        h, mi, sec, frac = m.groups()
        total = int(h or 0) * 3600 + int(mi) * 60 + int(sec)
        if int(sec) >= 60 or (h is not None and int(mi) >= 60):
            raise CellError("not a duration (minutes and seconds go up to 59)")
        return total + (float("0." + frac) if frac else 0.0)
    return parse_number(value, decimal_comma)


# ------------------------------------------------------------------------ dates

_MONTHS = {
    # English
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11,
    "november": 11, "dec": 12, "december": 12,
    # French
    "janv": 1, "janvier": 1, "févr": 2, "fevr": 2, "février": 2, "fevrier": 2, "mars": 3,
    "avr": 4, "avril": 4, "mai": 5, "juin": 6, "juil": 7, "juillet": 7, "août": 8,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "déc": 12, "dec.": 12,
    "décembre": 12, "decembre": 12,
}  # fmt: skip

_TIME = r"(?:[ T,]+(\d{1,2})(?::|\s*h\s*)(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([ap]\.?m\.?)?)?"
_TZ = r"\s*(z|utc|gmt|[+-]\d{2}:?\d{2})?"
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME + _TZ, re.I)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SLASHED = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})" + _TIME + _TZ, re.I)
_NAMED_MDY = re.compile(
    r"(?:[a-zé]+\.?,?\s+)?([a-zéû]+)\.?\s+(\d{1,2}),?\s+(\d{4})" + _TIME + _TZ, re.I
)
_NAMED_DMY = re.compile(
    r"(?:[a-zé]+\.?,?\s+)?(\d{1,2})(?:er)?\s+([a-zéû]+)\.?\s+(\d{4})" + _TIME + _TZ, re.I
)


def _month(name: str) -> int:
    key = name.casefold().rstrip(".")
    if key not in _MONTHS:
        raise CellError(f"unknown month name {name!r}")
    return _MONTHS[key]


def _tz(text: str | None) -> dt.timezone | None:
    if not text:
        return None
    t = text.casefold()
    if t in ("z", "utc", "gmt"):
        return dt.UTC
    sign = -1 if t[0] == "-" else 1
    digits = t[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _clock(h: str | None, m: str | None, s: str | None, ampm: str | None) -> dt.time | None:
    if h is None:
        return None
    hour, minute, second = int(h), int(m or 0), int(s or 0)
    if ampm:
        pm = ampm.casefold().startswith("p")
        if not 1 <= hour <= 12:
            raise CellError("not a valid 12-hour time")
        hour = hour % 12 + (12 if pm else 0)
    try:
        return dt.time(hour, minute, second)
    except ValueError as exc:
        raise CellError("not a valid time of day") from exc


def _date(y: int, m: int, d: int) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError as exc:
        raise CellError("not a valid calendar date") from exc


def parse_when(
    value: Any, order: str = "mdy"
) -> tuple[dt.date, dt.time | None, dt.tzinfo | None] | None:
    """``(date, time or None, offset or None)`` from a date cell; ``None`` for no data.

    ``order`` resolves ``01/05/2026``: ``"mdy"`` (US exports: January 5) or ``"dmy"``
    (French exports: 1 May). A value that only makes sense in the other order
    (``28/09/2026`` in an ``mdy`` file) is an error, never silently swapped.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date(), value.time().replace(microsecond=0), value.tzinfo
    if isinstance(value, dt.date):
        return value, None, None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise CellError("expected a date, found a number")
    s = clean_text(value)
    if s.casefold() in MISSING:
        return None
    if m := _ISO.fullmatch(s):
        y, mo, d, hh, mm, ss, ap, tz = m.groups()
        return _date(int(y), int(mo), int(d)), _clock(hh, mm, ss, ap), _tz(tz)
    if m := _COMPACT.fullmatch(s):
        return _date(int(m[1]), int(m[2]), int(m[3])), None, None
    if m := _SLASHED.fullmatch(s):
        a, b, y, hh, mm, ss, ap, tz = m.groups()
        first, second = int(a), int(b)
        year = int(y) + (2000 if len(y) == 2 else 0)
        month, day = (first, second) if order == "mdy" else (second, first)
        if month > 12:
            expected = "month/day/year" if order == "mdy" else "day/month/year"
            raise CellError(f"not a valid date in this export's {expected} order")
        return _date(year, month, day), _clock(hh, mm, ss, ap), _tz(tz)
    if m := _NAMED_MDY.fullmatch(s):
        mon, d, y, hh, mm, ss, ap, tz = m.groups()
        return _date(int(y), _month(mon), int(d)), _clock(hh, mm, ss, ap), _tz(tz)
    if m := _NAMED_DMY.fullmatch(s):
        d, mon, y, hh, mm, ss, ap, tz = m.groups()
        return _date(int(y), _month(mon), int(d)), _clock(hh, mm, ss, ap), _tz(tz)
    raise CellError("not a date this export writes")


def parse_day(value: Any, order: str = "mdy") -> dt.date | None:
    parsed = parse_when(value, order)
    return parsed[0] if parsed else None


def parse_moment(value: Any, tz: dt.tzinfo, order: str = "mdy") -> dt.datetime | None:
    """An aware UTC datetime. A time without an offset is in ``tz`` (the account's);
    a date alone is taken as the start of that day in ``tz``."""
    parsed = parse_when(value, order)
    if parsed is None:
        return None
    day, clock, offset = parsed
    local = dt.datetime.combine(day, clock or dt.time(0, 0), tzinfo=offset or tz)
    return local.astimezone(dt.UTC)
