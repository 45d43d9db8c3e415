"""The website part of the audit: sessions, engaged sessions, conversions, and what social
networks bring.

What it reads in ``ingest_web_metric`` (connectors and importers write these dimensions):

* ``total`` (value ``""`` or ``"total"``): the property's own daily totals;
* ``channel_group``: GA4 default channel group (``Organic Social``, ``Paid Social``…);
* ``source_medium``: ``facebook.com / referral``, ``l.instagram.com / referral``…;
* ``social_network``: the network a visit came from (Matomo ``Referrers.getSocials``,
  Plausible sources, or GA4 sources mapped to a network);
* ``landing_page``: all visits' landing pages; ``social_landing_page``: landing pages of
  visits that came from a social network.

Each figure falls back in that order (totals, then the sum of channel groups; social
network rows, then social channel groups, then sources recognised as a network), and says
``None`` when no dimension has it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.store.models import Account, WebMetric
from shared.schemas.audit import Change, LandingPage, TrafficSource, WebsiteAudit
from shared.schemas.ingest import Network

SOCIAL_CHANNELS = {
    "organic social",
    "paid social",
    "social",
    "social network",
    "social networks",  # Matomo referrer type
    "réseaux sociaux",
}

# Substrings of a source, referrer or network label -> canonical network.
_NETWORK_HINTS = (
    ("instagram", "instagram"),
    ("facebook", "facebook"),
    ("fb.com", "facebook"),
    ("fb.me", "facebook"),
    ("linkedin", "linkedin"),
    ("lnkd.in", "linkedin"),
    ("youtube", "youtube"),
    ("youtu.be", "youtube"),
    ("pinterest", "pinterest"),
    ("pin.it", "pinterest"),
    ("tiktok", "tiktok"),
    ("twitter", "x"),
    ("t.co", "x"),
    ("x.com", "x"),
)

DEFINITIONS = {
    "sessions": "website sessions (visits) in the period",
    "engaged_sessions": "sessions of 10 s+, with a key event or 2+ page views (GA4); "
    "visits that did not bounce (Matomo, Plausible)",
    "conversions": "key events (GA4), converted visits (Matomo), goal completions (Plausible)",
    "social_sessions": "sessions that came from a social network",
    "social_share": "social sessions / sessions",
}


def network_of(label: str) -> str | None:
    """Map a source, referrer or network name to a canonical social network."""
    s = label.strip().lower()
    source = s.split("/")[0].strip()
    for hint, network in _NETWORK_HINTS:
        if hint in ("t.co", "x.com"):
            if source in (hint, "www." + hint, "mobile." + hint) or source == "x":
                return network
        elif hint in source:
            return network
    return None


Sums = dict[str, dict[str, dict[str, float]]]  # dimension -> value -> metric -> sum


async def _sums(session: AsyncSession, account_id: int, start: dt.date, end: dt.date) -> Sums:
    q = (
        select(
            WebMetric.dimension,
            WebMetric.dimension_value,
            WebMetric.metric,
            func.sum(WebMetric.value),
        )
        .where(
            WebMetric.account_id == account_id,
            col(WebMetric.day) >= start,
            col(WebMetric.day) <= end,
        )
        .group_by(col(WebMetric.dimension), col(WebMetric.dimension_value), col(WebMetric.metric))
    )
    out: Sums = defaultdict(lambda: defaultdict(dict))
    for dim, value, metric, total in await session.exec(q):
        out[dim][value][metric] = float(total)
    return out


def _total(sums: Sums, metric: str) -> float | None:
    for dim in ("total", "channel_group"):
        vals = [m[metric] for m in sums.get(dim, {}).values() if metric in m]
        if vals:
            return sum(vals)
    return None


def _by_network(sums: Sums) -> dict[str, float]:
    """Social sessions per network, from the most direct dimension that has them."""
    for dim in ("social_network", "source_medium"):
        out: dict[str, float] = defaultdict(float)
        for label, metrics in sums.get(dim, {}).items():
            net = (
                network_of(label)
                if dim == "source_medium"
                else (network_of(label) or label.lower())
            )
            if net and "sessions" in metrics:
                out[net] += metrics["sessions"]
        if out:
            return dict(out)
    return {}


def _social(sums: Sums) -> float | None:
    nets = sums.get("social_network", {})
    if any("sessions" in m for m in nets.values()):
        return sum(m.get("sessions", 0.0) for m in nets.values())
    groups = sums.get("channel_group", {})
    if any("sessions" in m for m in groups.values()):
        return sum(
            m.get("sessions", 0.0)
            for k, m in groups.items()
            if k.strip().lower() in SOCIAL_CHANNELS
        )
    by_net = _by_network(sums)
    return sum(by_net.values()) if by_net else None


def _share(part: float | None, whole: float | None) -> float | None:
    return part / whole if part is not None and whole else None


async def website_audit(
    session: AsyncSession,
    account: Account,
    start: dt.date,
    end: dt.date,
    prev_start: dt.date,
    prev_end: dt.date,
) -> WebsiteAudit:
    cur = await _sums(session, account.id or 0, start, end)
    prev = await _sums(session, account.id or 0, prev_start, prev_end)
    sessions = _total(cur, "sessions")
    social = _social(cur)
    by_net = _by_network(cur)
    social_total = sum(by_net.values()) if by_net else None
    sources = [
        TrafficSource(
            network=n,
            sessions=v,
            share_of_social=_share(v, social_total),
            share_of_total=_share(v, sessions),
        )
        for n, v in sorted(by_net.items(), key=lambda kv: -kv[1])
    ]
    scope = "none"
    pages: dict[str, dict[str, float]] = {}
    if cur.get("social_landing_page"):
        scope, pages = "social", cur["social_landing_page"]
    elif cur.get("landing_page"):
        scope, pages = "all", cur["landing_page"]
    landing = [
        LandingPage(page=p, sessions=m["sessions"])
        for p, m in sorted(pages.items(), key=lambda kv: -kv[1].get("sessions", 0.0))
        if "sessions" in m
    ][:10]
    return WebsiteAudit(
        account_id=account.id or 0,
        network=Network(account.network),
        name=account.name,
        sessions=Change.of(sessions, _total(prev, "sessions")),
        engaged_sessions=Change.of(
            _total(cur, "engaged_sessions"), _total(prev, "engaged_sessions")
        ),
        conversions=Change.of(_total(cur, "conversions"), _total(prev, "conversions")),
        social_sessions=Change.of(social, _social(prev)),
        social_share=Change.of(
            _share(social, sessions), _share(_social(prev), _total(prev, "sessions"))
        ),
        by_network=sources,
        landing_pages=landing,
        landing_pages_scope=scope,
        definitions=DEFINITIONS,
    )
