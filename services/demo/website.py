"""The client's website as its GA4 property reports it: sessions by channel and source.

Daily rows per dimension, the way the GA4 connector stores a runReport (see
``services/ingest/audit/website.py`` for what the audit reads): ``total``,
``channel_group`` (GA4's default channel groups), ``source_medium``, ``social_network``
(the Organic Social sessions by network), ``landing_page`` and ``social_landing_page``.
Every dimension adds up to the same daily total, and social traffic follows the client's
social calendar (its contests bring visits to the contest page).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from services.demo.rand import around, stream
from services.demo.timeline import days, season

PROPERTY_ID = "properties/412904817"
PROPERTY_NAME = "hautecote.example (GA4)"
SESSIONS_PER_DAY = 1_100  # a regional tourism site, off-season weekday

# channel -> (share of sessions, engaged share, conversion rate, sources and their shares)
CHANNELS: dict[str, tuple[float, float, float, tuple[tuple[str, float], ...]]] = {
    "Organic Search": (0.40, 0.68, 0.021, (("google / organic", 0.92), ("bing / organic", 0.08))),
    "Direct": (0.21, 0.60, 0.025, (("(direct) / (none)", 1.0),)),
    "Organic Social": (0.13, 0.52, 0.011, ()),  # sources come from the networks below
    "Referral": (0.09, 0.70, 0.018, (("partenaires.example / referral", 1.0),)),
    "Email": (0.05, 0.76, 0.041, (("infolettre / email", 1.0),)),
    "Paid Search": (0.06, 0.62, 0.028, (("google / cpc", 1.0),)),
    "Paid Social": (0.04, 0.38, 0.007, (("facebook / paid", 1.0),)),
    "Unassigned": (0.02, 0.30, 0.004, (("(not set) / (not set)", 1.0),)),
}
# Organic Social by network: share and the source GA4 records.
SOCIAL = {
    "facebook": (0.52, "m.facebook.com / referral"),
    "instagram": (0.22, "l.instagram.com / referral"),
    "pinterest": (0.13, "pinterest.com / referral"),
    "youtube": (0.05, "youtube.com / referral"),
    "linkedin": (0.05, "linkedin.com / referral"),
    "x": (0.03, "t.co / referral"),
}
PAGES = {
    "/": 0.26,
    "/baleines-et-fjord": 0.12,
    "/hebergement": 0.14,
    "/activites/kayak-de-mer": 0.07,
    "/evenements": 0.08,
    "/gastronomie": 0.06,
    "/carte-interactive": 0.07,
    "/hiver": 0.05,
    "/forfaits": 0.06,
    "/concours": 0.01,
    "(other)": 0.08,
}
SOCIAL_PAGES = {
    "/baleines-et-fjord": 0.22,
    "/evenements": 0.18,
    "/concours": 0.06,
    "/activites/kayak-de-mer": 0.12,
    "/gastronomie": 0.1,
    "/hebergement": 0.1,
    "/": 0.12,
    "/hiver": 0.1,
}


@dataclass(frozen=True)
class WebRow:
    day: dt.date
    dimension: str
    dimension_value: str
    metric: str
    value: float


def _apportion(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Integer parts of ``total`` in proportion to ``weights`` (largest remainders)."""
    whole = sum(weights.values())
    exact = {k: total * w / whole for k, w in weights.items()}
    out = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - out[k], reverse=True)[
        : total - sum(out.values())
    ]:
        out[k] += 1
    return out


def _page_weights(day: dt.date, base: dict[str, float], contest: bool) -> dict[str, float]:
    weights = dict(base)
    winter = day.month in (12, 1, 2, 3)
    weights["/hiver"] *= 3.0 if winter else 0.3
    weights["/baleines-et-fjord"] *= 0.4 if winter else 1.3
    if contest:
        weights["/concours"] *= 12.0
    return weights


def website_rows(
    seed: int, start: dt.date, end: dt.date, contests: list[tuple[dt.date, int]]
) -> list[WebRow]:
    """Daily GA4 rows; ``contests`` are (first day, days) of the client's social contests."""
    rng = stream(seed, "website")
    rows: list[WebRow] = []
    growth = 0.12 / 365  # the site grows about 12 % a year
    for i, day in enumerate(days(start, end)):
        contest = any(s <= day < s + dt.timedelta(days=n) for s, n in contests)
        weekday = (1.0, 0.95, 0.95, 1.0, 1.05, 1.1, 1.2)[day.weekday()]
        level = SESSIONS_PER_DAY * season(day) ** 1.8 * weekday * (1 + growth * i)
        rows.extend(_day(rng, day, level * around(rng, 1.0, 0.08), contest))
    return rows


def _day(rng: random.Random, day: dt.date, level: float, contest: bool) -> list[WebRow]:
    rows: list[WebRow] = []
    totals = {"sessions": 0, "engaged_sessions": 0, "conversions": 0}

    def put(dimension: str, value: str, metric: str, amount: float) -> None:
        rows.append(WebRow(day, dimension, value, metric, float(amount)))

    social_boost = 1.9 if contest else 1.0
    by_source: dict[str, int] = {}
    social: dict[str, dict[str, int]] = {}
    for channel, (share, engaged_rate, conv_rate, sources) in CHANNELS.items():
        boost = social_boost if channel == "Organic Social" else 1.0
        sessions = round(level * share * boost * around(rng, 1.0, 0.1))
        engaged = round(sessions * engaged_rate * around(rng, 1.0, 0.05))
        conversions = round(sessions * conv_rate * around(rng, 1.0, 0.3))
        for metric, amount in (
            ("sessions", sessions),
            ("engaged_sessions", engaged),
            ("conversions", conversions),
        ):
            put("channel_group", channel, metric, amount)
            totals[metric] += amount
        if channel == "Organic Social":
            weights = {n: s * around(rng, 1.0, 0.2) for n, (s, _src) in SOCIAL.items()}
            social = {
                "sessions": _apportion(sessions, weights),
                "engaged_sessions": _apportion(engaged, weights),
                "conversions": _apportion(conversions, weights),
            }
            for network, (_s, source) in SOCIAL.items():
                by_source[source] = social["sessions"][network]
        else:
            by_source.update(_apportion(sessions, dict(sources)))
    for metric, parts in social.items():
        for network, amount in parts.items():
            put("social_network", network, metric, amount)
    for source, amount in by_source.items():
        put("source_medium", source, "sessions", amount)
    for metric, amount in totals.items():
        put("total", "", metric, amount)
    put("total", "", "users", round(totals["sessions"] * 0.83))
    put("total", "", "pageviews", round(totals["sessions"] * 2.4 * around(rng, 1.0, 0.05)))
    pages = _apportion(totals["sessions"], _page_weights(day, PAGES, contest))
    for page, amount in pages.items():
        put("landing_page", page, "sessions", amount)
    social_sessions = sum(social["sessions"].values())
    for page, amount in _apportion(
        social_sessions, _page_weights(day, SOCIAL_PAGES, contest)
    ).items():
        put("social_landing_page", page, "sessions", amount)
    return rows
