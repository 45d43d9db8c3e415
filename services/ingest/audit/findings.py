"""Findings: the audit's conclusions, each with its numbers, evidence and sample.

A finding is claimed only when every group it compares has at least ``min_sample`` posts
(rated posts for engagement rates); below that the audit says nothing rather than guess.
Comparisons never mix denominators: every rate here is engagements ÷ followers on the day
of posting unless the message says otherwise. ``importance`` ranks findings: the size of
the effect (log of a ratio, share of an audience lost…) weighted by how well it is
supported.
"""

from __future__ import annotations

import math
from typing import Any

from shared.schemas.audit import (
    AuditAccount,
    EvidenceLine,
    Finding,
    FindingParam,
    GroupPerformance,
    NetworkSummary,
    WebsiteAudit,
)

#: Smallest effect worth a finding, for ratios of two engagement rates.
MIN_RATIO = 1.3
#: Smallest relative change of an engagement rate between periods worth a finding.
MIN_CHANGE = 0.2
#: A stretch without posts of at least this many days is a finding.
MIN_GAP_DAYS = 14

NETWORK_NAMES = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "x": "X",
    "linkedin": "LinkedIn",
    "youtube": "YouTube",
    "pinterest": "Pinterest",
    "tiktok": "TikTok",
    "ga4": "Google Analytics",
    "matomo": "Matomo",
    "plausible": "Plausible",
}


def format_en(p: FindingParam) -> str:
    """English rendering of a parameter (web and the PDF render other locales)."""
    v = p.value
    if v is None:
        return "no data"
    if p.kind == "percent":
        return f"{float(v) * 100:.1f} %"
    if p.kind == "ratio":
        return f"{float(v):.1f}×"
    if p.kind in ("number", "days"):
        f = float(v)
        return f"{f:,.0f}" if abs(f) >= 100 or f == int(f) else f"{f:,.1f}"
    if p.kind == "network":
        return NETWORK_NAMES.get(str(v), str(v))
    return str(v)


def _params(params: dict[str, tuple[Any, str]]) -> dict[str, FindingParam]:
    return {k: FindingParam(value=v, kind=kind) for k, (v, kind) in params.items()}


def ev(message: str, **params: tuple[Any, str]) -> EvidenceLine:
    """An evidence line: an English template (a msgid) and its typed values."""
    return EvidenceLine(message=message, params=_params(params))


def render_en(message: str, params: dict[str, FindingParam]) -> str:
    return message.format(**{k: format_en(p) for k, p in params.items()})


def make(
    code: str,
    message: str,
    importance: float,
    params: dict[str, tuple[Any, str]],
    *,
    network: str | None = None,
    account_id: int | None = None,
    evidence: list[EvidenceLine] | None = None,
    sample: dict[str, int] | None = None,
) -> Finding:
    ps = _params(params)
    text = render_en(message, ps)
    lines = evidence or []
    return Finding(
        code=code,
        importance=round(importance, 4),
        message=message,
        params=ps,
        text=text,
        network=network,
        account_id=account_id,
        evidence=[render_en(e.message, e.params) for e in lines],
        evidence_lines=lines,
        sample=sample or {},
    )


def _support(n: int, min_sample: int) -> float:
    """1.0 at the minimum sample, growing slowly (square root) with more posts."""
    return min(2.0, math.sqrt(n / min_sample))


def _gap(
    groups: list[GroupPerformance], min_sample: int
) -> tuple[GroupPerformance, GroupPerformance, float] | None:
    rated = [
        g
        for g in groups
        if g.rated_posts_by_follower >= min_sample and g.engagement_rate_by_follower
    ]
    if len(rated) < 2:
        return None
    best = max(rated, key=lambda g: g.engagement_rate_by_follower or 0.0)
    worst = min(rated, key=lambda g: g.engagement_rate_by_follower or 0.0)
    if not worst.engagement_rate_by_follower or best is worst:
        return None
    ratio = (best.engagement_rate_by_follower or 0.0) / worst.engagement_rate_by_follower
    return (best, worst, ratio) if ratio >= MIN_RATIO else None


def account_findings(a: AuditAccount, min_sample: int) -> list[Finding]:
    out: list[Finding] = []
    net = a.account.network.value
    aid = a.account.id
    name = a.account.name or a.account.handle or a.account.external_id
    for what, groups in (("content_type", a.by_content_type), ("format", a.by_format)):
        gap = _gap(groups, min_sample)
        if gap is None:
            continue
        best, worst, ratio = gap
        n = min(best.rated_posts_by_follower, worst.rated_posts_by_follower)
        out.append(
            make(
                f"{what}_gap",
                "{best} posts on {network} get {ratio} the engagement rate by follower of "
                "{worst} posts ({best_rate} vs {worst_rate}; {best_posts} vs {worst_posts} posts)",
                math.log2(ratio) * _support(n, min_sample),
                {
                    "best": (best.key, "text"),
                    "worst": (worst.key, "text"),
                    "network": (net, "network"),
                    "ratio": (ratio, "ratio"),
                    "best_rate": (best.engagement_rate_by_follower, "percent"),
                    "worst_rate": (worst.engagement_rate_by_follower, "percent"),
                    "best_posts": (best.rated_posts_by_follower, "number"),
                    "worst_posts": (worst.rated_posts_by_follower, "number"),
                },
                network=net,
                account_id=aid,
                evidence=[
                    ev(
                        "{name}: {group}: {posts} rated posts, mean engagement rate by "
                        "follower {rate}",
                        name=(name, "name"),
                        group=(g.key, "text"),
                        posts=(g.rated_posts_by_follower, "number"),
                        rate=(g.engagement_rate_by_follower, "percent"),
                    )
                    for g in groups
                    if g.rated_posts_by_follower
                ],
                sample={
                    best.key: best.rated_posts_by_follower,
                    worst.key: worst.rated_posts_by_follower,
                },
            )
        )
    cur, prev = a.current.engagement_rate_by_follower, a.previous.engagement_rate_by_follower
    if (
        cur.value
        and prev.value
        and cur.posts >= min_sample
        and prev.posts >= min_sample
        and abs(cur.value / prev.value - 1) >= MIN_CHANGE
    ):
        change = cur.value / prev.value - 1
        out.append(
            make(
                "engagement_rate_change",
                "The engagement rate by follower on {network} went from {previous} to {current} "
                "({change}; {current_posts} vs {previous_posts} posts)",
                abs(math.log2(cur.value / prev.value))
                * _support(min(cur.posts, prev.posts), min_sample),
                {
                    "network": (net, "network"),
                    "previous": (prev.value, "percent"),
                    "current": (cur.value, "percent"),
                    "change": (change, "percent"),
                    "current_posts": (cur.posts, "number"),
                    "previous_posts": (prev.posts, "number"),
                },
                network=net,
                account_id=aid,
                evidence=[
                    *(
                        ev(
                            "{name}: {start} – {end}: {posts} rated posts",
                            name=(name, "name"),
                            start=(str(p.start), "date"),
                            end=(str(p.end), "date"),
                            posts=(p.engagement_rate_by_follower.posts, "number"),
                        )
                        for p in (a.current, a.previous)
                    ),
                    ev("Method: {method}", method=(cur.method, "text")),
                ],
                sample={"current": cur.posts, "previous": prev.posts},
            )
        )
    st = a.current
    if st.follower_growth is not None and st.follower_growth_pct is not None:
        pct = st.follower_growth_pct
        if abs(pct) >= 0.005:
            lost = pct < 0
            out.append(
                make(
                    "follower_loss" if lost else "follower_growth",
                    (
                        "{network} lost {followers} followers ({pct}) from {start_day} to {end_day}"
                        if lost
                        else "{network} gained {followers} followers ({pct}) "
                        "from {start_day} to {end_day}"
                    ),
                    min(3.0, abs(pct) * 20) * (1.5 if lost else 1.0),
                    {
                        "network": (net, "network"),
                        "followers": (abs(st.follower_growth), "number"),
                        "pct": (pct, "percent"),
                        "start_day": (str(st.followers_start_day), "date"),
                        "end_day": (str(st.followers_end_day), "date"),
                    },
                    network=net,
                    account_id=aid,
                    evidence=[
                        ev(
                            "{name}: {start} followers on {start_day}, {end} on {end_day}",
                            name=(name, "name"),
                            start=(st.followers_start, "number"),
                            start_day=(str(st.followers_start_day), "date"),
                            end=(st.followers_end, "number"),
                            end_day=(str(st.followers_end_day), "date"),
                        )
                    ],
                )
            )
    reg = a.regularity
    if st.posts_per_week is not None and st.posts == 0:
        out.append(
            make(
                "no_posts",
                "No post on {network} from {start} to {end}",
                3.0,
                {
                    "network": (net, "network"),
                    "start": (str(st.start), "date"),
                    "end": (str(st.end), "date"),
                },
                network=net,
                account_id=aid,
                evidence=[ev("{name}: no post collected in the period", name=(name, "name"))],
            )
        )
    elif reg.longest_gap_days is not None and reg.longest_gap_days >= MIN_GAP_DAYS:
        out.append(
            make(
                "posting_gap",
                "No post on {network} for {days} days ({gap_start} – {gap_end})",
                reg.longest_gap_days / MIN_GAP_DAYS,
                {
                    "network": (net, "network"),
                    "days": (reg.longest_gap_days, "days"),
                    "gap_start": (str(reg.longest_gap_start), "date"),
                    "gap_end": (str(reg.longest_gap_end), "date"),
                },
                network=net,
                account_id=aid,
                evidence=[
                    ev(
                        "{name}: {posts} posts, {active} of {weeks} weeks with a post",
                        name=(name, "name"),
                        posts=(st.posts, "number"),
                        active=(reg.active_weeks, "number"),
                        weeks=(reg.weeks, "number"),
                    )
                ],
            )
        )
    return out


def network_findings(networks: list[NetworkSummary], min_sample: int) -> list[Finding]:
    groups = [
        GroupPerformance(
            key=n.network.value,
            posts=int(n.posts.current or 0),
            engagement_rate_by_follower=n.engagement_rate_by_follower.current,
            engagement_rate_by_reach=None,
            engagement_rate_by_impression=None,
            rated_posts_by_follower=n.rated_posts_by_follower,
            mean_engagements=None,
        )
        for n in networks
    ]
    gap = _gap(groups, min_sample)
    if gap is None:
        return []
    best, worst, ratio = gap
    return [
        make(
            "network_gap",
            "{best} gets {ratio} the engagement rate by follower of {worst} "
            "({best_rate} vs {worst_rate}; {best_posts} vs {worst_posts} posts)",
            math.log2(ratio)
            * _support(
                min(best.rated_posts_by_follower, worst.rated_posts_by_follower), min_sample
            ),
            {
                "best": (best.key, "network"),
                "worst": (worst.key, "network"),
                "ratio": (ratio, "ratio"),
                "best_rate": (best.engagement_rate_by_follower, "percent"),
                "worst_rate": (worst.engagement_rate_by_follower, "percent"),
                "best_posts": (best.rated_posts_by_follower, "number"),
                "worst_posts": (worst.rated_posts_by_follower, "number"),
            },
            evidence=[
                ev(
                    "{network}: {posts} rated posts, mean engagement rate by follower {rate}",
                    network=(g.key, "network"),
                    posts=(g.rated_posts_by_follower, "number"),
                    rate=(g.engagement_rate_by_follower, "percent"),
                )
                for g in groups
                if g.engagement_rate_by_follower is not None
            ],
            sample={
                best.key: best.rated_posts_by_follower,
                worst.key: worst.rated_posts_by_follower,
            },
        )
    ]


def website_findings(site: WebsiteAudit) -> list[Finding]:
    out: list[Finding] = []
    share, social, total = (
        site.social_share.current,
        site.social_sessions.current,
        site.sessions.current,
    )
    if share is not None and social is not None and total:
        params: dict[str, tuple[Any, str]] = {
            "share": (share, "percent"),
            "social": (social, "number"),
            "sessions": (total, "number"),
        }
        message = "Social networks bring {share} of the website's sessions ({social} of {sessions})"
        evidence = [
            ev(
                "{network}: {sessions} sessions",
                network=(s.network, "network"),
                sessions=(s.sessions, "number"),
            )
            for s in site.by_network
        ]
        if site.by_network and site.by_network[0].share_of_social is not None:
            top = site.by_network[0]
            message += "; {top} brings {top_share} of them"
            params["top"] = (top.network, "network")
            params["top_share"] = (top.share_of_social, "percent")
        out.append(
            make(
                "social_share",
                message,
                1.5 + min(1.5, share * 10),
                params,
                network=site.network.value,
                account_id=site.account_id,
                evidence=evidence,
                sample={"sessions": int(total)},
            )
        )
    ch = site.social_share
    if (
        ch.current is not None
        and ch.previous
        and ch.delta_pct is not None
        and abs(ch.delta_pct) >= MIN_CHANGE
    ):
        out.append(
            make(
                "social_share_change",
                "The share of website sessions from social networks went from {previous} "
                "to {current}",
                abs(math.log2(ch.current / ch.previous)) if ch.current else 2.0,
                {"previous": (ch.previous, "percent"), "current": (ch.current, "percent")},
                network=site.network.value,
                account_id=site.account_id,
                evidence=[
                    ev(
                        "Sessions: {previous} then {current}",
                        previous=(site.sessions.previous, "number"),
                        current=(site.sessions.current, "number"),
                    ),
                    ev(
                        "Sessions from social networks: {previous} then {current}",
                        previous=(site.social_sessions.previous, "number"),
                        current=(site.social_sessions.current, "number"),
                    ),
                ],
            )
        )
    if site.landing_pages_scope == "social" and site.landing_pages and social:
        page = site.landing_pages[0]
        out.append(
            make(
                "social_landing_page",
                "Visits from social networks land first on {page} ({share} of social sessions)",
                1.0,
                {"page": (page.page, "text"), "share": (page.sessions / social, "percent")},
                network=site.network.value,
                account_id=site.account_id,
                evidence=[
                    ev(
                        "{page}: {sessions} sessions",
                        page=(p.page, "name"),
                        sessions=(p.sessions, "number"),
                    )
                    for p in site.landing_pages[:5]
                ],
            )
        )
    return out


def rank(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.importance, f.code, f.account_id or 0))
