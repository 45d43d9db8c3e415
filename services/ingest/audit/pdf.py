"""The audit as a PDF (fpdf2, DejaVu fonts, charts from :mod:`shared.charts`)."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

from fpdf import FPDF

from services.ingest.audit.findings import NETWORK_NAMES
from services.ingest.audit.i18n import Words
from shared import charts
from shared.schemas.audit import AuditReport, Change

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu Sans", size=8)
        self.set_text_color(120, 120, 120)
        self.cell(0, 8, f"{self.footer_text} · {self.page_no()}", align="R")


def _new_pdf(footer: str) -> _Pdf:
    pdf = _Pdf(format="A4")
    pdf.footer_text = footer
    # Charts name "DejaVu Sans" as their font-family: the same family serves both.
    pdf.add_font("DejaVu Sans", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu Sans", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    return pdf


def _p(pdf: FPDF, h: float, text: str) -> None:
    """A paragraph that leaves the cursor at the start of the next line."""
    pdf.multi_cell(0, h, text, new_x="LMARGIN", new_y="NEXT")


def _h(pdf: FPDF, text: str, size: int = 14) -> None:
    pdf.ln(2)
    pdf.set_font("DejaVu Sans", "B", size)
    _p(pdf, size * 0.5, text)
    pdf.set_font("DejaVu Sans", size=9)
    pdf.ln(1)


_A11Y = re.compile(r"<(title|desc)\b[^>]*>.*?</\1>", re.S)


def _svg(pdf: FPDF, svg: str, w: float = 180) -> None:
    """The chart with its title as a caption (fpdf2 does not draw <title>/<desc>)."""
    m = re.search(r"<title[^>]*>(.*?)</title>", svg, re.S)
    if m:
        pdf.set_font("DejaVu Sans", "B", 9)
        _p(pdf, 5, html.unescape(m.group(1)))
        pdf.set_font("DejaVu Sans", size=9)
    pdf.image(io.BytesIO(_A11Y.sub("", svg).encode()), w=w)
    pdf.ln(2)


def _table(pdf: FPDF, rows: list[list[str]], widths: tuple[float, ...] | None = None) -> None:
    pdf.set_font("DejaVu Sans", size=8)
    with pdf.table(col_widths=widths, first_row_as_headings=True, line_height=5) as table:
        for r in rows:
            row = table.row()
            for cell in r:
                row.cell(cell)
    pdf.ln(3)


def render(report: AuditReport, *, client_name: str, locale: str) -> bytes:
    w = Words(locale)
    pdf = _new_pdf(f"Balise · {client_name}")
    pdf.set_title(f"{w('Social media audit')} · {client_name}")
    _h(pdf, f"{w('Social media audit')} · {client_name}", 18)
    _p(
        pdf,
        5,
        f"{w('Period')}: {w.date(report.start)} – {w.date(report.end)}, {w('compared with')} "
        f"{w.date(report.previous_start)} – {w.date(report.previous_end)}. "
        f"{w('Generated on')} {w.date(report.generated_at.date())}.",
    )

    _h(pdf, w("Findings"))
    if not report.findings:
        _p(
            pdf,
            5,
            w(
                "No finding: not enough data above the minimum sample of {n} posts.",
                n=report.min_sample,
            ),
        )
    for i, f in enumerate(report.findings, 1):
        pdf.set_font("DejaVu Sans", "B", 9)
        _p(pdf, 5, f"{i}. {w.finding(f)}")
        pdf.set_font("DejaVu Sans", size=7)
        for ev in w.evidence(f)[:4]:
            _p(pdf, 4, f"    · {ev}")
        pdf.ln(1)

    def pair(c: Change, fmt: str) -> list[str]:
        conv = w.percent if fmt == "pct" else (lambda v: w.number(v, 1 if fmt == "dec" else 0))
        return [conv(c.current), conv(c.previous)]

    if report.networks:
        _h(pdf, w("Networks"))
        rows = [
            [
                w("Network"),
                w("Followers"),
                w("Posts"),
                w("Engagement rate by follower"),
                w("Previous"),
            ]
        ]
        for n in report.networks:
            rows.append(
                [
                    NETWORK_NAMES.get(n.network.value, n.network.value),
                    w.number(n.followers_end.current),
                    w.number(n.posts.current),
                    *pair(n.engagement_rate_by_follower, "pct"),
                ]
            )
        _table(pdf, rows)
        _svg(
            pdf,
            charts.grouped_bar_chart(
                [NETWORK_NAMES.get(n.network.value, n.network.value) for n in report.networks],
                {
                    w("Previous"): [
                        n.engagement_rate_by_follower.previous for n in report.networks
                    ],
                    w("Current"): [n.engagement_rate_by_follower.current for n in report.networks],
                },
                title=w("Engagement rate by follower"),
                value_format=w.percent,
                no_data=w("no data"),
            ),
        )

    for a in report.accounts:
        pdf.add_page()
        label = a.account.name or a.account.handle or a.account.external_id
        _h(pdf, f"{NETWORK_NAMES.get(a.account.network.value, '')} · {label}")
        c, p = a.current, a.previous
        rows = [[w("Figure"), w("Current"), w("Previous")]]
        for name, cur, prev, fmt in (
            ("Followers", c.followers_end, p.followers_end, "int"),
            ("Growth", c.follower_growth_pct, p.follower_growth_pct, "pct"),
            ("Posts", float(c.posts), float(p.posts), "int"),
            ("Posts per week", c.posts_per_week, p.posts_per_week, "dec"),
            ("Engagements", c.engagements, p.engagements, "int"),
            ("Reach", c.reach, p.reach, "int"),
            ("Impressions", c.impressions, p.impressions, "int"),
            ("Views", c.views, p.views, "int"),
            (
                "Engagement rate by follower",
                c.engagement_rate_by_follower.value,
                p.engagement_rate_by_follower.value,
                "pct",
            ),
            (
                "Engagement rate by reach",
                c.engagement_rate_by_reach.value,
                p.engagement_rate_by_reach.value,
                "pct",
            ),
            (
                "Engagement rate by impression",
                c.engagement_rate_by_impression.value,
                p.engagement_rate_by_impression.value,
                "pct",
            ),
        ):
            rows.append([w(name), *pair(Change.of(cur, prev), fmt)])
        _table(pdf, rows, (90, 45, 45))
        _svg(
            pdf,
            charts.line_chart(
                [charts.Series(w("Followers"), [(pt.day, pt.value) for pt in a.followers_series])],
                title=w("Followers over the period"),
                value_format=lambda v: w.number(v),
                no_data=w("no data"),
            ),
            170,
        )
        if a.by_content_type:
            _svg(
                pdf,
                charts.bar_chart(
                    [w(g.key) for g in a.by_content_type],
                    [g.engagement_rate_by_follower for g in a.by_content_type],
                    title=w("Engagement rate by follower by content type"),
                    value_format=w.percent,
                    no_data=w("no data"),
                ),
                170,
            )
        if a.top_posts:
            rows = [[w("Published"), w("Type"), w("Engagements"), w("Engagement rate by follower")]]
            for post in a.top_posts:
                rows.append(
                    [
                        post.published_local.strftime("%Y-%m-%d %H:%M"),
                        w(post.content_type),
                        w.number(post.engagements),
                        w.percent(post.engagement_rate_by_follower),
                    ]
                )
            _h(pdf, w("Top posts"), 11)
            _table(pdf, rows)

    if any(any(row) for row in report.posting_heatmap):
        pdf.add_page()
        _h(pdf, w("Posts by day and hour"))
        _svg(
            pdf,
            charts.heatmap(
                report.posting_heatmap,
                row_labels=[w(d) for d in DAYS],
                col_labels=[str(h) for h in range(24)],
                title=w("Posts by day and hour"),
                no_data=w("no data"),
            ),
        )

    for site in report.website:
        pdf.add_page()
        _h(pdf, f"{w('Website')} · {site.name or NETWORK_NAMES.get(site.network.value, '')}")
        rows = [[w("Figure"), w("Current"), w("Previous")]]
        for name, ch, fmt in (
            ("Sessions", site.sessions, "int"),
            ("Engaged sessions", site.engaged_sessions, "int"),
            ("Conversions", site.conversions, "int"),
            ("Sessions from social networks", site.social_sessions, "int"),
            ("Share of sessions from social networks", site.social_share, "pct"),
        ):
            rows.append([w(name), *pair(ch, fmt)])
        _table(pdf, rows, (90, 45, 45))
        if site.by_network:
            _svg(
                pdf,
                charts.bar_chart(
                    [NETWORK_NAMES.get(s.network, s.network) for s in site.by_network],
                    [s.sessions for s in site.by_network],
                    title=w("Sessions by social network"),
                    value_format=lambda v: w.number(v),
                    no_data=w("no data"),
                ),
                170,
            )
        if site.landing_pages:
            title = (
                w("Landing pages of social visits")
                if site.landing_pages_scope == "social"
                else w("Landing pages (all traffic)")
            )
            _h(pdf, title, 11)
            _table(
                pdf,
                [[w("Page"), w("Sessions")]]
                + [[lp.page, w.number(lp.sessions)] for lp in site.landing_pages],
                (140, 40),
            )

    _h(pdf, w("Definitions"), 11)
    pdf.set_font("DejaVu Sans", size=7)
    for k, v in report.definitions.items():
        _p(pdf, 4, f"{k}: {v}")
    return bytes(pdf.output())
