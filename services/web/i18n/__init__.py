"""UI languages: French (Québec) and English.

Messages are written in English in the templates and code; ``<locale>/*.json`` (one
file per area of the UI, merged at load) map them to the translation. Numbers,
percentages and dates are formatted by Babel with the locale's own rules (``1 234,5 %``
in fr_CA, ``1,234.5%`` in en).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import dates as babel_dates
from babel import numbers as babel_numbers

LOCALES = ("fr_CA", "en")
LOCALE_NAMES = {"fr_CA": "Français (Québec)", "en": "English"}
_DIR = Path(__file__).resolve().parent


@cache
def catalog(locale: str) -> dict[str, str]:
    data: dict[str, str] = {}
    folder = _DIR / locale
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            data.update(json.loads(path.read_text(encoding="utf-8")))
    return data


def negotiate(accept_language: str | None, default: str) -> str:
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("fr"):
            return "fr_CA"
        if tag.startswith("en"):
            return "en"
    return default


class Translator:
    """Bound to one locale; used as ``_`` in templates and ``t`` in code."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else "fr_CA"
        self.messages = catalog(self.locale)

    def __call__(self, message: str, **kw: Any) -> str:
        text = self.messages.get(message, message)
        return text.format(**kw) if kw else text

    # Babel formatting -------------------------------------------------------------
    def number(self, value: float | int | Decimal | None, decimals: int | None = None) -> str:
        if value is None:
            return "—"
        if decimals is None:
            return babel_numbers.format_decimal(value, locale=self.locale)
        fmt = "#,##0" + ("." + "0" * decimals if decimals else "")
        return babel_numbers.format_decimal(value, format=fmt, locale=self.locale)

    def percent(self, value: float | None, decimals: int = 1) -> str:
        """``value`` is a ratio (0.034 → 3,4 %)."""
        if value is None:
            return "—"
        fmt = "#,##0" + ("." + "0" * decimals if decimals else "") + " %"
        if self.locale == "en":
            fmt = fmt.replace(" %", "%")
        return babel_numbers.format_percent(value, format=fmt, locale=self.locale)

    def date(self, value: dt.date | dt.datetime | str | None, fmt: str = "medium") -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            # Pages render backends' JSON as received: dates arrive as ISO strings.
            value = dt.date.fromisoformat(value[:10])
        return babel_dates.format_date(value, format=fmt, locale=self.locale)

    def datetime(self, value: dt.datetime | str | None, fmt: str = "medium") -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return babel_dates.format_datetime(value, format=fmt, locale=self.locale)

    def timedelta(self, seconds: float | None) -> str:
        if seconds is None:
            return "—"
        return babel_dates.format_timedelta(
            dt.timedelta(seconds=seconds), locale=self.locale, threshold=1.1
        )
