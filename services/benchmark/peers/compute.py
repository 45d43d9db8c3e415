"""The peer benchmark, computed from ingest's period statistics (pure functions).

Per network and period: audience (followers at the end), follower growth %, posts per
week, engagement rate per post by follower, and by view where views are the network's
fair denominator (YouTube, TikTok); the client against each peer, against the peers'
P25 / P50 / P75, and its percentile rank among peers and client (definitions in
:mod:`services.benchmark.stats`). An owner with several accounts on one network is
summed (followers, posts) and its rate is the posts-weighted mean of its accounts' rates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from services.benchmark import reference, stats
from shared.schemas.benchmark import (
    ContentMix,
    ContentTypeShare,
    KpiDistribution,
    PostingTimes,
)
from shared.schemas.ingest import AccountStats, Network, RateStat

#: Quartiles and ranks need at least this many peers with data; below it they are
#: withheld (None) and the result says so.
MIN_PEERS = 3
VIEW_NETWORKS = frozenset({Network.youtube, Network.tiktok})
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

KPI_DEFINITIONS = {
    "followers": "followers at the end of the period (summed over the owner's accounts)",
    "follower_growth_pct": "(followers at the end − at the start) ÷ followers at the start",
    "posts_per_week": "posts published in the period ÷ weeks in the period",
    "engagement_rate_by_follower": "engagements ÷ followers on the day of posting, averaged "
    "over posts (posts-weighted across an owner's accounts)",
    "engagement_rate_by_view": "engagements ÷ the post's views, averaged over posts "
    "(posts-weighted across an owner's accounts)",
}
KPI_ORDER = tuple(KPI_DEFINITIONS)


@dataclass
class Owner:
    """The client or one peer, with its accounts' statistics."""

    key: str  # "client" or the peer's name
    stats: list[AccountStats]


def _sum(values: Sequence[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return sum(xs) if xs else None


def _weighted_rate(rates: Sequence[RateStat]) -> float | None:
    pairs = [(r.value, r.posts) for r in rates if r.value is not None and r.posts > 0]
    total = sum(p for _, p in pairs)
    if not total:
        return None
    return sum(v * p for v, p in pairs) / total


def owner_kpis(accounts: Sequence[AccountStats]) -> dict[str, float | None]:
    """The KPIs of one owner on one network."""
    both = [a for a in accounts if a.followers_start is not None and a.followers_end is not None]
    start = _sum([a.followers_start for a in both])
    end = _sum([a.followers_end for a in both])
    return {
        "followers": _sum([a.followers_end for a in accounts]),
        "follower_growth_pct": stats.growth_pct(start, end),
        "posts_per_week": _sum([a.posts_per_week for a in accounts]),
        "engagement_rate_by_follower": _weighted_rate(
            [a.engagement_rate_by_follower for a in accounts]
        ),
        "engagement_rate_by_view": _weighted_rate([a.engagement_rate_by_view for a in accounts]),
    }


def _by_network(owner: Owner) -> dict[Network, list[AccountStats]]:
    out: dict[Network, list[AccountStats]] = defaultdict(list)
    for s in owner.stats:
        out[s.network].append(s)
    return out


def _definition(kpi: str, client: Owner, peers: Sequence[Owner], net: Network) -> str:
    """The KPI's definition, with ingest's own statement of the rate's method when given."""
    base = KPI_DEFINITIONS[kpi]
    if not kpi.startswith("engagement_rate_by_"):
        return base
    for owner in (client, *peers):
        for s in owner.stats:
            if s.network == net:
                r: RateStat = getattr(s, kpi)
                if r.method:
                    return f"{base}; ingest: {r.method}"
    return base


def kpi_table(client: Owner, peers: Sequence[Owner]) -> tuple[list[KpiDistribution], list[str]]:
    """Every KPI on every network where the client or a peer has an account."""
    notes: list[str] = []
    client_nets = _by_network(client)
    peer_nets = [(p.key, _by_network(p)) for p in peers]
    networks = sorted(
        {*client_nets, *(n for _, nets in peer_nets for n in nets)}, key=lambda n: n.value
    )
    out: list[KpiDistribution] = []
    for net in networks:
        client_k = owner_kpis(client_nets[net]) if net in client_nets else {}
        peer_k = {name: owner_kpis(nets[net]) if net in nets else {} for name, nets in peer_nets}
        for kpi in KPI_ORDER:
            if kpi == "engagement_rate_by_view" and net not in VIEW_NETWORKS:
                continue
            values = {name: k.get(kpi) for name, k in peer_k.items()}
            have = [v for v in values.values() if v is not None]
            client_value = client_k.get(kpi)
            enough = len(have) >= MIN_PEERS
            p25, p50, p75 = stats.quartiles(have) if enough else (None, None, None)
            rank = (
                stats.percentile_rank(client_value, [*have, client_value])
                if enough and client_value is not None
                else None
            )
            if not enough and (have or client_value is not None):
                notes.append(
                    f"{net.value} · {kpi}: {len(have)} peer(s) with data, fewer than "
                    f"{MIN_PEERS}: no quartiles or rank."
                )
            out.append(
                KpiDistribution(
                    network=net,
                    kpi=kpi,
                    definition=_definition(kpi, client, peers, net),
                    client_value=client_value,
                    peer_values=values,
                    p25=p25,
                    p50=p50,
                    p75=p75,
                    client_percentile=rank,
                    peers_with_data=len(have),
                    industry=reference.industry_figures(kpi, net.value),
                )
            )
    return out, notes


def content_mix(client: Owner, peers: Sequence[Owner]) -> list[ContentMix]:
    """Share of posts and engagement rate per content type, client vs peers' medians."""

    def shares(accounts: Sequence[AccountStats]) -> dict[str, tuple[float, float | None]]:
        total = sum(ct.posts for a in accounts for ct in a.content_types)
        by_type: dict[str, list[tuple[int, float | None]]] = defaultdict(list)
        for a in accounts:
            for ct in a.content_types:
                by_type[ct.content_type].append((ct.posts, ct.engagement_rate_by_follower))
        out = {}
        for t, rows in by_type.items():
            posts = sum(p for p, _ in rows)
            rated = [(p, r) for p, r in rows if r is not None and p > 0]
            rp = sum(p for p, _ in rated)
            rate = sum(p * r for p, r in rated) / rp if rp else None
            out[t] = (posts / total if total else 0.0, rate)
        return out

    client_nets = _by_network(client)
    peer_nets = [_by_network(p) for p in peers]
    networks = sorted({*client_nets, *(n for nets in peer_nets for n in nets)}, key=str)
    result = []
    for net in networks:
        cs = shares(client_nets.get(net, []))
        ps = [shares(nets[net]) for nets in peer_nets if net in nets]
        types = sorted({*cs, *(t for p in ps for t in p)})
        if not types:
            continue
        entries = []
        for t in types:
            using = [p[t] for p in ps if t in p]
            entries.append(
                ContentTypeShare(
                    content_type=t,
                    client_share=cs[t][0] if t in cs else (0.0 if cs else None),
                    client_engagement_rate=cs[t][1] if t in cs else None,
                    peer_share_median=stats.median([p[t][0] if t in p else 0.0 for p in ps])
                    if ps
                    else None,
                    peer_engagement_rate_median=stats.median([u[1] for u in using]),
                    peers_using=len(using),
                )
            )
        result.append(
            ContentMix(
                network=net,
                definition="share of the period's posts by content type; engagement rate by "
                "follower, mean over posts (posts-weighted across accounts); peers' figures "
                "are medians over the peers (a peer that never used a type counts 0 % share)",
                types=entries,
            )
        )
    return result


def _sum_heatmaps(accounts: Sequence[AccountStats]) -> list[list[int]]:
    grid = [[0] * 24 for _ in range(7)]
    for a in accounts:
        if len(a.posting_heatmap) != 7:
            continue
        for d, row in enumerate(a.posting_heatmap):
            for h, v in enumerate(row[:24]):
                grid[d][h] += int(v)
    return grid


def posting_times(client: Owner, peers: Sequence[Owner]) -> list[PostingTimes]:
    client_nets = _by_network(client)
    peer_nets = [_by_network(p) for p in peers]
    networks = sorted({*client_nets, *(n for nets in peer_nets for n in nets)}, key=str)
    out = []
    for net in networks:
        c = _sum_heatmaps(client_nets.get(net, []))
        p = _sum_heatmaps([a for nets in peer_nets for a in nets.get(net, [])])
        cells = sorted(
            ((p[d][h], d, h) for d in range(7) for h in range(24) if p[d][h] > 0),
            key=lambda x: (-x[0], x[1], x[2]),
        )
        top = [f"{WEEKDAYS[d]} {h:02d}:00" for _, d, h in cells[:3]]
        out.append(PostingTimes(network=net, client=c, peers=p, peers_top_slots=top))
    return out
