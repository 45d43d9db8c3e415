"""Pinterest Analytics exports (overview per day, and top pins).

No public copy of a real export file was found: the column names are those Pinterest's
analytics UI and help pages use (Impressions, Engagements, Pin clicks, Outbound clicks,
Saves, Engagement rate, Total audience, Profile visits, Follows, Video views). Rates are
derived figures and not stored; "Total audience" is a monthly unique count and is not a
daily figure, so it is not stored either.
"""

from __future__ import annotations

from typing import ClassVar

from services.ingest.importers.base import RowReader
from services.ingest.importers.tables import Col, DailyImporter, PostsImporter
from shared.schemas.ingest import Network

_METRICS: tuple[Col, ...] = (
    Col(("Impressions",), "impressions"),
    Col(("Engagements", "Engagement"), "engagements"),
    Col(("Pin clicks", "Clics sur l'épingle"), "clicks"),
    Col(("Outbound clicks", "Clics sortants"), "link_clicks"),
    Col(("Saves", "Enregistrements"), "saves"),
    Col(("Profile visits", "Visites du profil"), "profile_visits"),
    Col(("Follows", "Abonnements"), "follows"),
    Col(("Video views", "Vues de vidéo"), "video_views"),
)


class PinterestPins(PostsImporter):
    name = "pinterest_pins"
    label = "Pinterest Analytics — pins"
    network = Network.pinterest
    provider = "pinterest_analytics_export"

    signature = ("Pin ID", "Impressions")
    alt_signatures = (("Identifiant de l'épingle", "Impressions"),)
    distinctive = ("Pin title", "Pin link", "Saves", "Outbound clicks", "Pin clicks")
    id_cols = ("Pin ID", "Identifiant de l'épingle")
    published_cols = ("Pin created date", "Created date", "Date de création")
    title_cols = ("Pin title", "Title", "Titre")
    text_cols = ("Pin description", "Description")
    permalink_cols = ("Pin link", "Pin URL", "Lien")
    type_cols = ("Format", "Pin format")
    metrics: ClassVar[tuple[Col, ...]] = _METRICS

    def content_type(
        self, label: str | None, r: RowReader, cols: dict[str, int | None]
    ) -> str | None:
        low = (label or "").casefold()
        if "video" in low or "vidéo" in low:
            return "video"
        if "carousel" in low or "carrousel" in low:
            return "carousel"
        return "pin"


class PinterestDaily(DailyImporter):
    name = "pinterest_overview"
    label = "Pinterest Analytics — overview per day"
    network = Network.pinterest
    provider = "pinterest_analytics_export"

    signature = ("Date", "Impressions", "Pin clicks")
    alt_signatures = (("Date", "Impressions", "Clics sur l'épingle"),)
    distinctive = ("Outbound clicks", "Saves", "Engagements", "Total audience")
    metrics: ClassVar[tuple[Col, ...]] = _METRICS
