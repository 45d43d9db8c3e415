"""X (Twitter) Analytics exports: tweet activity, and its daily variant.

``tweet_activity_metrics_<user>_<start>_<end>_<lang>.csv``: one row per tweet; every value
quoted, counts written as floats (``"1777.0"``), ``time`` as ``2019-01-04 13:12 +0000``,
promoted columns ``-`` when the tweet was not promoted. Each total stored is organic +
promoted when the tweet was promoted (X reports the two apart), organic alone otherwise.
Older exports (2015) say ``favorites`` where newer ones say ``likes``. ``media views``
counts image views too, so it is not stored as video views.

``daily_tweet_activity_metrics_<user>_…csv``: one row per day of the account.

The account: the handle in the tweet permalinks or in the file name, matched against
the client's X accounts by handle (X's API knows accounts by numeric id; the export only
by handle), unless the import names the account.
"""

from __future__ import annotations

import re
from typing import ClassVar

from services.ingest.importers.base import ImportContext, Match, RowReader
from services.ingest.importers.reading import Book
from services.ingest.importers.tables import Col, DailyImporter, PostsImporter
from shared.schemas.ingest import AccountRef, Network

_PERMALINK = re.compile(r"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/([A-Za-z0-9_]{1,15})/")
_FILE = re.compile(r"(?:daily_)?tweet_activity_metrics_([A-Za-z0-9_]{1,15})_\d{8}_\d{8}", re.I)


def _organic_and_promoted(aliases: tuple[str, ...], metric: str) -> tuple[Col, Col]:
    return Col(aliases, metric), Col(tuple(f"promoted {a}" for a in aliases), metric)


_METRICS: tuple[Col, ...] = (
    *_organic_and_promoted(("impressions",), "impressions"),
    *_organic_and_promoted(("engagements",), "engagements"),
    *_organic_and_promoted(("retweets",), "shares"),
    *_organic_and_promoted(("replies",), "comments"),
    *_organic_and_promoted(("likes", "favorites"), "reactions"),
    *_organic_and_promoted(("user profile clicks",), "profile_visits"),
    *_organic_and_promoted(("url clicks",), "link_clicks"),
    *_organic_and_promoted(("follows",), "follows"),
)


def _file_handle(book: Book, ctx: ImportContext) -> str | None:
    for name in (ctx.file_name, book.path.name):
        if m := _FILE.search(name):
            return m.group(1)
    return None


class XTweetActivity(PostsImporter):
    name = "x_tweet_activity"
    label = "X Analytics — tweet activity"
    network = Network.x
    provider = "x_analytics_tweet_activity_csv"

    signature = ("Tweet id", "Tweet permalink", "time", "impressions")
    distinctive = ("Tweet text", "engagements", "engagement rate", "retweets", "replies")
    id_cols = ("Tweet id",)
    published_cols = ("time",)
    text_cols = ("Tweet text",)
    permalink_cols = ("Tweet permalink",)
    metrics: ClassVar[tuple[Col, ...]] = _METRICS

    def file_account(self, book: Book, match: Match, ctx: ImportContext) -> AccountRef | None:
        handle = _file_handle(book, ctx)
        return ctx.cached_ref(self.network, None, handle) if handle or ctx.account else None

    def row_account(
        self, r: RowReader, cols: dict[str, int | None], ctx: ImportContext
    ) -> AccountRef | None:
        if ctx.account is not None:
            return None  # the import's account wins
        link = r.text(cols["permalink"]) or ""
        m = _PERMALINK.match(link)
        return ctx.cached_ref(self.network, None, m.group(1)) if m else None

    def content_type(
        self, label: str | None, r: RowReader, cols: dict[str, int | None]
    ) -> str | None:
        return None  # the export does not say; the audit's "unknown" bucket


class XDailyActivity(DailyImporter):
    name = "x_daily_activity"
    label = "X Analytics — daily account activity"
    network = Network.x
    provider = "x_analytics_daily_activity_csv"

    signature = ("Date", "Tweets published", "impressions")
    distinctive = ("engagements", "retweets", "replies", "likes", "url clicks")
    date_cols = ("Date",)
    metrics: ClassVar[tuple[Col, ...]] = _METRICS

    def file_account(self, book: Book, match: Match, ctx: ImportContext) -> AccountRef | None:
        handle = _file_handle(book, ctx)
        return ctx.cached_ref(self.network, None, handle) if handle or ctx.account else None
