"""Importers of the networks' and analytics tools' native exports.

One module per format; each turns a file into canonical records, which the store loader
stores. :func:`detect` recognises a file's format from its header (and sheet names); a
file nobody recognises goes to the column-mapping step (``mapped.py``).
``pipeline.import_file`` runs one import, all or nothing.
"""

from __future__ import annotations

from services.ingest.importers.balise_daily import BaliseDaily
from services.ingest.importers.base import Importer, Match
from services.ingest.importers.facebook_legacy import FacebookInsightsLegacy
from services.ingest.importers.ga4 import GA4Export
from services.ingest.importers.linkedin import LinkedInPage
from services.ingest.importers.matomo import MatomoExport
from services.ingest.importers.meta_business_suite import FacebookPosts, InstagramPosts
from services.ingest.importers.pinterest import PinterestDaily, PinterestPins
from services.ingest.importers.plausible import PlausibleExport
from services.ingest.importers.reading import Book, Row, preview
from services.ingest.importers.x_analytics import XDailyActivity, XTweetActivity
from services.ingest.importers.youtube_studio import YouTubeTable, YouTubeTotals

IMPORTERS: tuple[Importer, ...] = (
    FacebookPosts(),
    InstagramPosts(),
    FacebookInsightsLegacy(),
    XTweetActivity(),
    XDailyActivity(),
    LinkedInPage(),
    YouTubeTable(),
    YouTubeTotals(),
    PinterestPins(),
    PinterestDaily(),
    GA4Export(),
    MatomoExport(),
    PlausibleExport(),
    BaliseDaily(),
)
BY_NAME: dict[str, Importer] = {i.name: i for i in IMPORTERS}
PREVIEW_ROWS = 20


def detect(book: Book, sheets: list[tuple[str, list[Row]]] | None = None) -> Match | None:
    """The best-matching format of ``book``, or None when no importer knows it."""
    sheets = sheets if sheets is not None else preview(book, PREVIEW_ROWS)
    best: Match | None = None
    for importer in IMPORTERS:
        m = importer.detect(sheets, book)
        if m is not None and m.score > 0 and (best is None or m.score > best.score):
            best = m
    return best


def match_format(book: Book, name: str) -> Match | None:
    """Where the named format's header is in ``book`` (None: the file is not of it)."""
    importer = BY_NAME[name]
    m = importer.detect(preview(book, PREVIEW_ROWS), book)
    return m if m is not None and m.score > 0 else None
