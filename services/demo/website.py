"""The client's website as its GA4 property reports it: sessions by channel and source.

The same shape as the GA4 connector's output (``services/ingest/connectors/ga4.py``):
the property's daily totals as daily metrics and as ``total`` rows, then per day by
``channel_group`` (GA4's default channel groups), ``source_medium``, ``social_network``
(the sources that name a network, organic and paid) and ``social_landing_page`` (landing
pages of sessions from the social channel groups). Every breakdown adds up to the day's
total, and social traffic follows the client's calendar (contests bring visits to the
contest page).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from services.demo.rand import around, stream
from services.demo.timeline import days, season
from shared.schemas.ingest import (
    AccountRef,
    DailyMetricRecord,
    Network,
    Source,
    WebMetricRecord,
)

PROPERTY_ID = "412904817"
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
    "Paid Social": (0.04, 0.38, 0.007, (("facebook / paid", 0.7), ("instagram / paid", 0.3))),
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


PAID = {"facebook / paid": "facebook", "instagram / paid": "instagram"}
BREAKDOWN = ("sessions", "engaged_sessions", "conversions")


@dataclass(frozen=True)
class WebsiteData:
    daily: list[DailyMetricRecord]  # the property's daily totals
    web: list[WebMetricRecord]  # totals again as ``total`` rows, and the breakdowns


def website_data(
    seed: int, start: dt.date, end: dt.date, contests: list[tuple[dt.date, int]]
) -> WebsiteData:
    """Daily GA4 figures; ``contests`` are (first day, days) of the client's social contests."""
    rng = stream(seed, "website")
    ref = AccountRef(network=Network.ga4, external_id=PROPERTY_ID, name=PROPERTY_NAME)
    source = Source(kind="api", provider="demo_ga4_data_api", version="v1beta")
    out = WebsiteData([], [])
    growth = 0.12 / 365  # the site grows about 12 % a year
    for i, day in enumerate(days(start, end)):
        contest = any(s <= day < s + dt.timedelta(days=n) for s, n in contests)
        weekday = (1.0, 0.95, 0.95, 1.0, 1.05, 1.1, 1.2)[day.weekday()]
        level = SESSIONS_PER_DAY * season(day) ** 1.8 * weekday * (1 + growth * i)
        for dimension, value, metric, amount in _day(
            rng, day, level * around(rng, 1.0, 0.08), contest
        ):
            if dimension == "total":
                out.daily.append(
                    DailyMetricRecord(
                        account=ref, metric=metric, day=day, value=amount, source=source
                    )
                )
            out.web.append(
                WebMetricRecord(
                    account=ref,
                    day=day,
                    dimension=dimension,
                    dimension_value=value,
                    metric=metric,
                    value=amount,
                    source=source,
                )
            )
    return out


def _day(
    rng: random.Random, day: dt.date, level: float, contest: bool
) -> list[tuple[str, str, str, float]]:
    rows: list[tuple[str, str, str, float]] = []
    totals = dict.fromkeys(BREAKDOWN, 0)
    by_source: dict[str, dict[str, int]] = {m: {} for m in BREAKDOWN}
    social = {m: dict.fromkeys(SOCIAL, 0) for m in BREAKDOWN}
    from_social = dict.fromkeys(BREAKDOWN, 0)
    for channel, (share, engaged_rate, conv_rate, sources) in CHANNELS.items():
        boost = 1.9 if contest and channel == "Organic Social" else 1.0
        sessions = round(level * share * boost * around(rng, 1.0, 0.1))
        amounts = {
            "sessions": sessions,
            "engaged_sessions": round(sessions * engaged_rate * around(rng, 1.0, 0.05)),
            "conversions": round(sessions * conv_rate * around(rng, 1.0, 0.3)),
        }
        if channel == "Organic Social":
            jitter = {n: s * around(rng, 1.0, 0.2) for n, (s, _src) in SOCIAL.items()}
            weights = {SOCIAL[n][1]: w for n, w in jitter.items()}
        else:
            weights = dict(sources)
        for metric, amount in amounts.items():
            rows.append(("channel_group", channel, metric, float(amount)))
            totals[metric] += amount
            for src, part in _apportion(amount, weights).items():
                by_source[metric][src] = part
                network = PAID.get(src) or next(
                    (n for n, (_s, name) in SOCIAL.items() if name == src), None
                )
                if network:
                    social[metric][network] += part
            if channel in ("Organic Social", "Paid Social"):
                from_social[metric] += amount
    for metric in BREAKDOWN:
        rows += [("source_medium", src, metric, float(n)) for src, n in by_source[metric].items()]
        rows += [("social_network", net, metric, float(n)) for net, n in social[metric].items()]
        pages = _apportion(from_social[metric], _page_weights(day, SOCIAL_PAGES, contest))
        rows += [("social_landing_page", page, metric, float(n)) for page, n in pages.items()]
    sessions = totals["sessions"]
    totals_all = {
        **totals,
        "users": round(sessions * 0.83),
        "pageviews": round(sessions * 2.4 * around(rng, 1.0, 0.05)),
    }
    rows += [("total", "total", metric, float(n)) for metric, n in totals_all.items()]
    return rows
