"""Every table of the audit page, built once from the :class:`AuditReport`: the page
renders them and the CSV/XLSX exports write them, so the two always agree.

Cells hold raw values (numbers stay numbers, ``None`` is "no data"); each column has a
kind that says how to format it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.web.i18n import Translator
from shared import spreadsheet
from shared.schemas.audit import AuditReport, Finding, FindingParam, GroupPerformance

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
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Ratio(float):
    """A ratio in a column of mixed figures: shown as a percentage, exported as a number."""


@dataclass
class Column:
    label: str
    kind: str = "text"  # text, int, dec, pct, date, link


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)


def network_name(n: str) -> str:
    return NETWORK_NAMES.get(n, n)


def param_text(p: FindingParam, t: Translator) -> str:
    v = p.value
    if v is None:
        return t("no data")
    if p.kind == "percent":
        return t.percent(float(v))
    if p.kind == "ratio":
        return t.number(float(v), 1) + " ×"
    if p.kind in ("number", "days"):
        return t.number(float(v), 0)
    if p.kind == "network":
        return network_name(str(v))
    if p.kind == "name":
        return str(v)
    if p.kind == "date":
        import datetime as dt

        try:
            return t.date(dt.date.fromisoformat(str(v)))
        except ValueError:
            return str(v)
    return t(str(v))


def finding_text(f: Finding, t: Translator) -> str:
    """The finding in the viewer's language, numbers formatted by Babel."""
    return t(f.message).format(**{k: param_text(p, t) for k, p in f.params.items()})


def evidence_texts(f: Finding, t: Translator) -> list[str]:
    """The finding's evidence lines in the viewer's language (English text from an older
    report that has no templates)."""
    if not f.evidence_lines:
        return list(f.evidence)
    return [
        t(e.message).format(**{k: param_text(p, t) for k, p in e.params.items()})
        for e in f.evidence_lines
    ]


def _groups(report: AuditReport, t: Translator, attr: str, key: str, title: str) -> Table:
    table = Table(
        key,
        title,
        [
            Column(t("Account")),
            Column(t("Network")),
            Column(t("Content type") if attr == "by_content_type" else t("Format")),
            Column(t("Posts"), "int"),
            Column(t("Posts with a rate by follower"), "int"),
            Column(t("Engagement rate by follower"), "pct"),
            Column(t("Engagement rate by reach"), "pct"),
            Column(t("Engagement rate by impression"), "pct"),
            Column(t("Mean engagements"), "dec"),
        ],
    )
    for a in report.accounts:
        g: GroupPerformance
        for g in getattr(a, attr):
            table.rows.append(
                [
                    a.account.name or a.account.handle or a.account.external_id,
                    network_name(a.account.network.value),
                    t(g.key),
                    g.posts,
                    g.rated_posts_by_follower,
                    g.engagement_rate_by_follower,
                    g.engagement_rate_by_reach,
                    g.engagement_rate_by_impression,
                    g.mean_engagements,
                ]
            )
    return table


def _posts(report: AuditReport, t: Translator, attr: str, key: str, title: str) -> Table:
    table = Table(
        key,
        title,
        [
            Column(t("Account")),
            Column(t("Network")),
            Column(t("Published (local time)")),
            Column(t("Content type")),
            Column(t("Format")),
            Column(t("Engagements"), "int"),
            Column(t("Followers on the day"), "int"),
            Column(t("Engagement rate by follower"), "pct"),
            Column(t("Reach"), "int"),
            Column(t("Link"), "link"),
        ],
    )
    for a in report.accounts:
        for p in getattr(a, attr):
            table.rows.append(
                [
                    a.account.name or a.account.handle or a.account.external_id,
                    network_name(p.network.value),
                    p.published_local.strftime("%Y-%m-%d %H:%M"),
                    t(p.content_type),
                    p.format,
                    p.engagements,
                    p.followers_at_post,
                    p.engagement_rate_by_follower,
                    p.reach,
                    p.permalink,
                ]
            )
    return table


def build(report: AuditReport, t: Translator) -> dict[str, Table]:
    """Every table of the page, by key (the key names the export file)."""
    tables: dict[str, Table] = {}
    findings = Table(
        "findings",
        t("Findings"),
        [
            Column("#", "int"),
            Column(t("Finding")),
            Column(t("Evidence")),
            Column(t("Importance"), "dec"),
        ],
    )
    for i, f in enumerate(report.findings, 1):
        findings.rows.append(
            [i, finding_text(f, t), " | ".join(evidence_texts(f, t)), f.importance]
        )
    tables["findings"] = findings

    accounts = Table(
        "accounts",
        t("Accounts"),
        [
            Column(t("Account")),
            Column(t("Network")),
            Column(t("Followers at start"), "int"),
            Column(t("Followers at end"), "int"),
            Column(t("Net growth"), "int"),
            Column(t("Growth"), "pct"),
            Column(t("Posts"), "int"),
            Column(t("Posts per week"), "dec"),
            Column(t("Engagements"), "int"),
            Column(t("Reach"), "int"),
            Column(t("Impressions"), "int"),
            Column(t("Views"), "int"),
            Column(t("Engagement rate by follower"), "pct"),
            Column(t("Engagement rate by reach"), "pct"),
            Column(t("Engagement rate by impression"), "pct"),
            Column(t("Engagement rate by follower, previous period"), "pct"),
        ],
    )
    for a in report.accounts:
        c = a.current
        accounts.rows.append(
            [
                a.account.name or a.account.handle or a.account.external_id,
                network_name(a.account.network.value),
                c.followers_start,
                c.followers_end,
                c.follower_growth,
                c.follower_growth_pct,
                c.posts,
                c.posts_per_week,
                c.engagements,
                c.reach,
                c.impressions,
                c.views,
                c.engagement_rate_by_follower.value,
                c.engagement_rate_by_reach.value,
                c.engagement_rate_by_impression.value,
                a.previous.engagement_rate_by_follower.value,
            ]
        )
    tables["accounts"] = accounts

    networks = Table(
        "networks",
        t("Cross-network summary"),
        [
            Column(t("Network")),
            Column(t("Accounts"), "int"),
            Column(t("Followers"), "int"),
            Column(t("Growth"), "pct"),
            Column(t("Posts"), "int"),
            Column(t("Posts, previous period"), "int"),
            Column(t("Posts per week"), "dec"),
            Column(t("Engagements"), "int"),
            Column(t("Engagement rate by follower"), "pct"),
            Column(t("Engagement rate by follower, previous period"), "pct"),
            Column(t("Engagement rate by reach"), "pct"),
            Column(t("Engagement rate by impression"), "pct"),
        ],
    )
    for n in report.networks:
        networks.rows.append(
            [
                network_name(n.network.value),
                n.accounts,
                n.followers_end.current,
                n.follower_growth_pct.current,
                n.posts.current,
                n.posts.previous,
                n.posts_per_week.current,
                n.engagements.current,
                n.engagement_rate_by_follower.current,
                n.engagement_rate_by_follower.previous,
                n.engagement_rate_by_reach.current,
                n.engagement_rate_by_impression.current,
            ]
        )
    tables["networks"] = networks
    tables["content_types"] = _groups(
        report, t, "by_content_type", "content_types", t("Performance by content type")
    )
    tables["formats"] = _groups(report, t, "by_format", "formats", t("Performance by format"))
    tables["top_posts"] = _posts(report, t, "top_posts", "top_posts", t("Top posts"))
    tables["bottom_posts"] = _posts(report, t, "bottom_posts", "bottom_posts", t("Bottom posts"))

    regularity = Table(
        "regularity",
        t("Posting regularity"),
        [
            Column(t("Account")),
            Column(t("Network")),
            Column(t("Weeks"), "int"),
            Column(t("Weeks with a post"), "int"),
            Column(t("Longest gap (days)"), "int"),
            Column(t("Gap from")),
            Column(t("Gap to")),
            Column(t("Variation of weekly posts"), "pct"),
        ],
    )
    for a in report.accounts:
        r = a.regularity
        regularity.rows.append(
            [
                a.account.name or a.account.handle or a.account.external_id,
                network_name(a.account.network.value),
                r.weeks,
                r.active_weeks,
                r.longest_gap_days,
                r.longest_gap_start.isoformat() if r.longest_gap_start else None,
                r.longest_gap_end.isoformat() if r.longest_gap_end else None,
                r.weekly_cv,
            ]
        )
    tables["regularity"] = regularity

    heat = Table(
        "heatmap",
        t("Posts by day and hour"),
        [Column(t("Day")), *[Column(f"{h}h", "int") for h in range(24)]],
    )
    for d, row in enumerate(report.posting_heatmap):
        heat.rows.append([t(DAYS[d]), *row])
    tables["heatmap"] = heat

    website = Table(
        "website",
        t("Website"),
        [
            Column(t("Property")),
            Column(t("Figure")),
            Column(t("Current period"), "dec"),
            Column(t("Previous period"), "dec"),
            Column(t("Change"), "pct"),
        ],
    )
    sources = Table(
        "traffic_sources",
        t("Sessions by social network"),
        [
            Column(t("Property")),
            Column(t("Network")),
            Column(t("Sessions"), "int"),
            Column(t("Share of social sessions"), "pct"),
            Column(t("Share of all sessions"), "pct"),
        ],
    )
    pages = Table(
        "landing_pages",
        t("Landing pages"),
        [
            Column(t("Property")),
            Column(t("Traffic")),
            Column(t("Page")),
            Column(t("Sessions"), "int"),
        ],
    )
    for s in report.website:
        name = s.name or network_name(s.network.value)
        for label, ch in (
            (t("Sessions"), s.sessions),
            (t("Engaged sessions"), s.engaged_sessions),
            (t("Conversions"), s.conversions),
            (t("Sessions from social networks"), s.social_sessions),
            (t("Share of sessions from social networks"), s.social_share),
        ):
            cur, prev = ch.current, ch.previous
            if ch is s.social_share:
                cur = Ratio(cur) if cur is not None else None
                prev = Ratio(prev) if prev is not None else None
            website.rows.append([name, label, cur, prev, ch.delta_pct])
        for src in s.by_network:
            sources.rows.append(
                [
                    name,
                    network_name(src.network),
                    src.sessions,
                    src.share_of_social,
                    src.share_of_total,
                ]
            )
        scope = t("social networks") if s.landing_pages_scope == "social" else t("all traffic")
        for lp in s.landing_pages:
            pages.rows.append([name, scope, lp.page, lp.sessions])
    tables["website"] = website
    tables["traffic_sources"] = sources
    tables["landing_pages"] = pages
    return tables


def cell_text(value: Any, kind: str, t: Translator) -> str:
    """A cell as the page shows it ("—" for no data)."""
    if value is None or value == "":
        return "—"
    if kind == "pct" or isinstance(value, Ratio):
        return t.percent(float(value))
    if kind == "int":
        return t.number(float(value), 0)
    if kind == "dec":
        return t.number(float(value), 2)
    return str(value)


# ------------------------------------------------------------------------- exports


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is prefixed with a quote
    (:mod:`shared.spreadsheet`); ratios are written as plain numbers."""
    if isinstance(value, Ratio):
        return float(value)
    return spreadsheet.neutralise(value)


def _export_rows(table: Table) -> list[list[Any]]:
    return [[neutralise(c.label) for c in table.columns]] + [
        [neutralise(v) for v in row] for row in table.rows
    ]


def to_csv(table: Table) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    for row in _export_rows(table):
        w.writerow(["" if v is None else v for v in row])
    # A BOM so that Excel opens accents correctly.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=table.key[:31])
    for row in _export_rows(table):
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


EXPORTERS: dict[str, tuple[Callable[[Table], bytes], str]] = {
    "csv": (to_csv, "text/csv; charset=utf-8"),
    "xlsx": (to_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
