"""YouTube Studio exports (Analytics → Export current view → CSV/Sheets).

* ``Table data.csv`` (and the older ``Aggregated_Metrics_By_Video.csv``): one row per
  video, the video id in ``Content`` (``Video``). Its **first data row is ``Total``**: the
  channel's figures for the period, which are *not* the sum of the video rows (deleted and
  private videos, rounding) — stored as the channel total, never as a post.
* ``Totals.csv``: one row per day of the channel → daily metrics.

Quirks handled: **soft hyphens** inside header names (``Video pub\\u00adlish time``);
``Video publish time`` as ``May 8, 2020`` (a date without a time: stored as the start of
that day in the channel's time zone); ``Average view duration`` as ``H:MM:SS``; watch time
in hours (stored in seconds); net ``Subscribers`` may be negative (not stored per video:
the gained/lost columns are). Views are YouTube's ``views``.
"""

from __future__ import annotations

from typing import ClassVar

from services.ingest.importers.base import Header, RowReader
from services.ingest.importers.reading import Book, Row
from services.ingest.importers.tables import Col, DailyImporter, PostsImporter
from shared.schemas.ingest import Network

_METRICS: tuple[Col, ...] = (
    Col(("Views", "Vues"), "views"),
    Col(("Watch time (hours)", "Durée de visionnage (heures)"), "watch_time_seconds", 3600.0),
    Col(("Impressions",), "impressions"),
    Col(("Likes", "J'aime"), "reactions"),
    Col(("Comments added", "Commentaires ajoutés"), "comments"),
    Col(("Shares", "Partages"), "shares"),
    Col(("Subscribers gained", "Abonnés gagnés"), "follows"),
)
_FR = ("contenu", "titre de la vidéo", "heure de publication de la vidéo", "vues")


class YouTubeTable(PostsImporter):
    name = "youtube_studio_table"
    label = "YouTube Studio — table data (per video, with the channel total)"
    network = Network.youtube
    provider = "youtube_studio_export"

    signature = ("Video title", "Views")
    alt_signatures = (("Titre de la vidéo", "Vues"),)
    distinctive = (
        "Content",
        "Video",
        "Video publish time",
        "Watch time (hours)",
        "Impressions click-through rate (%)",
        "Subscribers",
        "Duration",
        "Contenu",
    )
    french_markers = _FR
    id_cols = ("Content", "Video", "Contenu", "Vidéo")
    published_cols = ("Video publish time", "Heure de publication de la vidéo")
    title_cols = ("Video title", "Titre de la vidéo")
    duration_cols = ("Duration", "Durée")
    total_labels = ("Total",)
    metrics: ClassVar[tuple[Col, ...]] = _METRICS

    def extra_score(self, header: Header, rows: list[Row], book: Book) -> float:
        return 3.0 if header.index(*self.id_cols) is not None else -100.0

    def content_type(
        self, label: str | None, r: RowReader, cols: dict[str, int | None]
    ) -> str | None:
        return "video"


class YouTubeTotals(DailyImporter):
    name = "youtube_studio_totals"
    label = "YouTube Studio — daily channel totals"
    network = Network.youtube
    provider = "youtube_studio_export"

    signature = ("Date", "Views")
    alt_signatures = (("Date", "Vues"),)
    distinctive = ("Watch time (hours)", "Subscribers gained", "Impressions")
    date_order = "mdy"
    metrics: ClassVar[tuple[Col, ...]] = _METRICS

    def extra_score(self, header: Header, rows: list[Row], book: Book) -> float:
        # Chart data.csv is per video per day (Date + Content): not the channel's days.
        if header.index("Content", "Video", "Contenu") is not None:
            return -100.0
        # A bare "Date, Views" table is YouTube's only when nothing else claims it.
        return -1.0
