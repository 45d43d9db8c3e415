"""The PDF report's words in French (Québec) and English, and Babel number formatting.

Messages are written in English; ``fr_CA.json`` beside this file maps them to French
(including every finding's message template, see :mod:`services.ingest.audit.findings`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from babel import dates as babel_dates
from babel import numbers as babel_numbers

from services.ingest.audit.findings import NETWORK_NAMES
from shared.schemas.audit import Finding, FindingParam


@cache
def _catalog(locale: str) -> dict[str, str]:
    if locale == "en":
        return {}
    path = Path(__file__).with_name(f"{locale}.json")
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


class Words:
    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in ("fr_CA", "en") else "fr_CA"
        self.messages = _catalog(self.locale)

    def __call__(self, message: str, **kw: Any) -> str:
        text = self.messages.get(message, message)
        return text.format(**kw) if kw else text

    def number(self, v: float | None, decimals: int = 0) -> str:
        if v is None:
            return self("no data")
        fmt = "#,##0" + ("." + "0" * decimals if decimals else "")
        return babel_numbers.format_decimal(v, format=fmt, locale=self.locale)

    def percent(self, v: float | None, decimals: int = 1) -> str:
        if v is None:
            return self("no data")
        fmt = "#,##0" + ("." + "0" * decimals if decimals else "") + " %"
        if self.locale == "en":
            fmt = fmt.replace(" %", "%")
        return babel_numbers.format_percent(v, format=fmt, locale=self.locale)

    def date(self, v: Any) -> str:
        return babel_dates.format_date(v, format="medium", locale=self.locale)

    def param(self, p: FindingParam) -> str:
        v = p.value
        if v is None:
            return self("no data")
        if p.kind == "percent":
            return self.percent(float(v))
        if p.kind == "ratio":
            return self.number(float(v), 1) + " ×"
        if p.kind in ("number", "days"):
            return self.number(float(v))
        if p.kind == "network":
            return NETWORK_NAMES.get(str(v), str(v))
        if p.kind == "date":
            import datetime as dt

            try:
                return self.date(dt.date.fromisoformat(str(v)))
            except ValueError:
                return str(v)
        return self(str(v)) if p.kind == "text" else str(v)

    def evidence(self, f: Finding) -> list[str]:
        """The finding's evidence lines in this locale."""
        if not f.evidence_lines:
            return list(f.evidence)
        return [
            self(e.message).format(**{k: self.param(p) for k, p in e.params.items()})
            for e in f.evidence_lines
        ]

    def finding(self, f: Finding) -> str:
        return self(f.message).format(**{k: self.param(p) for k, p in f.params.items()})
