"""Reference data shipped with the service: published industry figures and tier schemes.

The figures are data files (``industry_benchmarks.json``, ``tiers.json``) so that a new
edition of a report is a data change, not a code change. Every figure carries its source,
year, method and denominator; :func:`industry_figures` only ever returns figures whose
denominator matches the KPI asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from shared.schemas.benchmark import IndustryFigure

_DIR = Path(__file__).resolve().parent


@cache
def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((_DIR / name).read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True)
class Tier:
    tier: str
    min: float
    max: float | None

    def contains(self, followers: float) -> bool:
        return followers >= self.min and (self.max is None or followers < self.max)


@dataclass(frozen=True)
class TierScheme:
    key: str
    name: str
    source: str
    year: int
    tiers: tuple[Tier, ...]

    def tier_of(self, followers: float | None) -> str | None:
        """The tier of an audience, or None when unknown or below the scheme's first tier."""
        if followers is None:
            return None
        for t in self.tiers:
            if t.contains(followers):
                return t.tier
        return None

    def describe(self) -> str:
        parts = []
        for t in self.tiers:
            hi = f"{int(t.max):,}" if t.max is not None else "+"
            parts.append(f"{t.tier} {int(t.min):,}–{hi}")
        return f"{self.name} ({self.source}, {self.year}): " + ", ".join(parts)


@cache
def tier_schemes() -> dict[str, TierScheme]:
    out = {}
    for s in _load("tiers.json")["schemes"]:
        out[s["key"]] = TierScheme(
            key=s["key"],
            name=s["name"],
            source=s["source"],
            year=int(s["year"]),
            tiers=tuple(Tier(t["tier"], float(t["min"]), t["max"]) for t in s["tiers"]),
        )
    return out


def tier_scheme(key: str) -> TierScheme:
    schemes = tier_schemes()
    if key not in schemes:
        raise KeyError(f"unknown tier scheme {key!r}; known: {', '.join(schemes)}")
    return schemes[key]


TIER_ORDER = ("nano", "micro", "mid", "macro", "mega")


def tier_engagement_benchmark(scheme: str, tier: str, network: str) -> IndustryFigure | None:
    """The published engagement rate (by follower) for a tier on a network, if one exists."""
    for b in _load("tiers.json")["engagement_benchmarks"]:
        if b["scheme"] == scheme and b["tier"] == tier and b["network"] == network:
            return IndustryFigure(
                value=float(b["value"]),
                unit="ratio",
                source=b["source"],
                year=int(b["year"]),
                method=b["method"],
                denominator=b["denominator"],
            )
    return None


def screening(name: str) -> tuple[float, str]:
    """A screening threshold and its source (e.g. the mass-follower boundary)."""
    item = _load("tiers.json")["screening"][name]
    return float(item["value"]), str(item["source"])


#: The denominator each KPI is defined with; a figure is shown beside a KPI only when
#: its denominator is the same (never mix denominators in one comparison).
KPI_DENOMINATORS: dict[str, str | None] = {
    "engagement_rate_by_follower": "followers",
    "engagement_rate_by_view": "views",
    "engagement_rate_by_impression": "impressions",
    "posts_per_week": None,
}


def industry_figures(kpi: str, network: str) -> list[IndustryFigure]:
    """Published figures for a KPI on a network, newest edition first."""
    if kpi not in KPI_DENOMINATORS:
        return []
    denominator = KPI_DENOMINATORS[kpi]
    out = []
    for f in _load("industry_benchmarks.json")["figures"]:
        if f["kpi"] != kpi or f["network"] != network or f["denominator"] != denominator:
            continue
        method = f["method"] + (" (secondary source)" if f.get("secondary") else "")
        if f.get("data_year"):
            method += f"; data of {f['data_year']}"
        out.append(
            IndustryFigure(
                value=float(f["value"]),
                unit=f["unit"],
                source=f["source"],
                year=int(f["year"]),
                method=method,
                denominator=f["denominator"],
            )
        )
    out.sort(key=lambda x: -x.year)
    return out
