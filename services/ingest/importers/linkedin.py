"""LinkedIn page analytics exports (.xls/.xlsx; the same layouts saved as CSV work too).

LinkedIn gives three workbooks, named ``<company>_content_<ts>.xls``,
``<company>_followers_<ts>.xls`` and ``<company>_visitors_<ts>.xls``:

* content: sheet 1 ``Metrics`` (one row per day) and sheet 2 ``All posts`` (one row per
  post), each with a one-line **description row above the header**; older exports call
  them ``Update metrics (aggregated)`` / ``Update engagement`` and say ``Update`` for
  ``Post`` and ``Shares`` for ``Reposts`` (renamed ~2023);
* followers: ``New followers`` per day (``Total followers`` there is the day's *new*
  followers, stored as ``follows``) and demographic sheets (not stored);
* visitors: ``Visitor metrics`` per day (total page views → ``profile_visits``).

Every recognised sheet of a workbook is imported. Daily values may be negative
(retracted reactions): they are kept as LinkedIn gives them. "Unique impressions
(organic)" is stored as ``reach`` (organic reach; LinkedIn gives no total).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import ClassVar

from services.ingest.importers.base import ImportContext, Importer, Match, RowReader
from services.ingest.importers.reading import Book, Row
from services.ingest.importers.tables import Col, DailyImporter, PostsImporter, content_type
from services.ingest.store.loader import Record
from shared.schemas.ingest import AccountRef, Network

_FILE = re.compile(r"^(.+?)_(?:content|followers|visitors|updates)_\d", re.I)
_URN = re.compile(r"urn:li:(?:activity|share|ugcPost):\d+")


def _company(book: Book, ctx: ImportContext) -> str | None:
    for name in (ctx.file_name, book.path.name):
        if m := _FILE.match(name):
            return m.group(1)
    return None


class _LinkedInPart:
    network = Network.linkedin
    provider = "linkedin_page_export"
    header_within = 3

    def file_account(self, book: Book, match: Match, ctx: ImportContext) -> AccountRef | None:
        company = _company(book, ctx)
        return ctx.cached_ref(Network.linkedin, None, company) if company or ctx.account else None


class ContentMetrics(_LinkedInPart, DailyImporter):
    name = "linkedin_content_metrics"
    label = "LinkedIn — content metrics"
    signature = ("Date", "Impressions (total)", "Clicks (total)")
    alt_signatures = (("Date", "Impressions (organic)", "Clicks (organic)"),)
    distinctive = ("Reactions (total)", "Comments (total)", "Engagement rate (total)")
    metrics: ClassVar[tuple[Col, ...]] = (
        Col(("Impressions (total)",), "impressions"),
        Col(("Unique impressions (organic)",), "reach"),
        Col(("Clicks (total)",), "clicks"),
        Col(("Reactions (total)",), "reactions"),
        Col(("Comments (total)",), "comments"),
        Col(("Reposts (total)", "Shares (total)"), "shares"),
    )


class ContentPosts(_LinkedInPart, PostsImporter):
    name = "linkedin_posts"
    label = "LinkedIn — posts"
    signature = ("Post title", "Post link", "Created date", "Impressions")
    alt_signatures = (("Update title", "Update link", "Created date", "Impressions"),)
    distinctive = ("Post type", "Clicks", "Likes", "Comments", "Reposts", "Engagement rate")
    id_cols = ("Post link", "Update link")
    published_cols = ("Created date",)
    text_cols = ("Post title", "Update title")
    permalink_cols = ("Post link", "Update link")
    type_cols = ("Content Type", "Post type", "Update type")
    metrics: ClassVar[tuple[Col, ...]] = (
        Col(("Impressions",), "impressions"),
        Col(("Views (excluding off-site video views)", "Video views"), "video_views"),
        Col(("Clicks",), "clicks"),
        Col(("Likes",), "reactions"),
        Col(("Comments",), "comments"),
        Col(("Reposts", "Shares"), "shares"),
        Col(("Follows",), "follows"),
    )

    def post_id(self, r: RowReader, cols: dict[str, int | None]) -> str | None:
        link = r.text(cols["id"])
        if not link:
            return None
        m = _URN.search(link)
        return m.group(0) if m else link

    def content_type(
        self, label: str | None, r: RowReader, cols: dict[str, int | None]
    ) -> str | None:
        # "Post type" says Organic/Sponsored; the kind of content is "Content Type".
        if label and label.casefold() in ("organic", "sponsored"):
            return None
        return content_type(label)


class NewFollowers(_LinkedInPart, DailyImporter):
    name = "linkedin_followers"
    label = "LinkedIn — new followers"
    signature = ("Date", "Organic followers", "Total followers")
    distinctive = ("Sponsored followers", "Auto-invited followers")
    metrics: ClassVar[tuple[Col, ...]] = (Col(("Total followers",), "follows"),)


class VisitorMetrics(_LinkedInPart, DailyImporter):
    name = "linkedin_visitors"
    label = "LinkedIn — visitors"
    signature = ("Date", "Total page views (total)")
    distinctive = ("Overview page views (total)", "Total unique visitors (total)")
    metrics: ClassVar[tuple[Col, ...]] = (Col(("Total page views (total)",), "profile_visits"),)


_PARTS: tuple[Importer, ...] = (ContentMetrics(), ContentPosts(), NewFollowers(), VisitorMetrics())


class LinkedInPage(Importer):
    """Every recognised sheet of a LinkedIn page export."""

    name = "linkedin_page"
    label = "LinkedIn page analytics (content, followers, visitors)"
    network = Network.linkedin
    provider = "linkedin_page_export"

    def detect(self, sheets: list[tuple[str, list[Row]]], book: Book) -> Match | None:
        parts: list[Match] = []
        for index in range(len(sheets)):
            # Each sheet on its own, so that one layout per sheet is found.
            only = [s if i == index else (s[0], []) for i, s in enumerate(sheets)]
            found = [p.detect(only, book) for p in _PARTS]
            best = max((m for m in found if m), key=lambda m: m.score, default=None)
            if best is not None:
                parts.append(best)
        if not parts:
            return None
        return Match(
            self,
            sum(p.score for p in parts),
            parts[0].sheet,
            parts[0].header_row,
            parts[0].header,
            {"parts": parts},
        )

    def records(self, book: Book, match: Match, ctx: ImportContext) -> Iterator[Record]:
        parts: list[Match] = match.info["parts"]
        return itertools.chain.from_iterable(p.importer.records(book, p, ctx) for p in parts)
