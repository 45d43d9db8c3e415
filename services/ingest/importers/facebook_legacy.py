"""The legacy Facebook Insights "Post level data" export (CSV, or the XLS "Key Metrics"
sheet), 2012–2018.

Quirks handled: **two header rows** — row 1 the metric names, row 2 their descriptions
(``Lifetime: The total number of people your Page post was served to. (Unique Users)``);
**duplicate column names** (``Lifetime Organic views to 95%`` twice) told apart only by
``(Total Count)`` / ``(Unique Users)`` in row 2; ``Posted`` as ``10/1/2015 21:00`` in the
Page's time zone; ``Post ID`` as ``<page id>_<post id>``, which names the Page.

Video views are stored as organic + paid *total counts* (the unique-user columns count
people, not views), only when both are given.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from services.ingest.importers import cells
from services.ingest.importers.base import Header, ImportContext, Match, RowReader
from services.ingest.importers.reading import Book, Row
from services.ingest.importers.tables import Col, PostsImporter
from shared.schemas.ingest import AccountRef, Network

_VIDEO = ("lifetime organic video views", "lifetime paid video views")


class FacebookInsightsLegacy(PostsImporter):
    name = "facebook_insights_legacy"
    label = "Facebook Insights — post level data (legacy)"
    network = Network.facebook
    provider = "facebook_insights_post_export"

    signature = ("Post ID", "Posted", "Lifetime Post Total Reach")
    distinctive = (
        "Permalink",
        "Post Message",
        "Type",
        "Lifetime Post Total Impressions",
        "Lifetime Engaged Users",
        "Lifetime Post Consumptions",
    )
    sheet_names = ("key metrics", "lifetime", "post")
    id_cols = ("Post ID",)
    published_cols = ("Posted",)
    text_cols = ("Post Message",)
    permalink_cols = ("Permalink",)
    type_cols = ("Type",)
    metrics: ClassVar[tuple[Col, ...]] = (
        Col(("Lifetime Post Total Reach",), "reach"),
        Col(("Lifetime Post Total Impressions",), "impressions"),
        Col(("Lifetime Post Consumptions",), "clicks"),
    )

    def detect(self, sheets: list[tuple[str, list[Row]]], book: Book) -> Match | None:
        match = super().detect(sheets, book)
        if match is None:
            return None
        rows = sheets[match.sheet][1]
        below = next((c for n, c in rows if n == match.header_row + 1), None)
        if below is not None and match.header is not None:
            reach = match.header.index("Lifetime Post Total Reach")
            cell = (
                cells.clean_text(below[reach]) if reach is not None and reach < len(below) else ""
            )
            if cell.casefold().startswith("lifetime:") or cell.casefold().startswith("lifetime "):
                match.info["descriptions"] = [cells.clean_text(c) for c in below]
                match.score += 2
        return match

    def data_rows(self, book: Book, match: Match) -> Iterator[Row]:
        skip = match.header_row + (1 if "descriptions" in match.info else 0)
        for number, row_cells in book.sheets[match.sheet].rows():
            if number > skip:
                yield number, row_cells

    def bind_metrics(self, header: Header, match: Match) -> list[tuple[int, Col]]:
        bound = super().bind_metrics(header, match)
        desc: list[str] = match.info.get("descriptions", [])
        for name in _VIDEO:
            total = _total_count_column(header, desc, name)
            if total is not None:
                bound.append((total, Col((name,), "video_views")))
        return bound

    def read_metrics(self, r: RowReader, bound: list[tuple[int, Col]]) -> dict[str, float]:
        plain = [(i, c) for i, c in bound if c.metric != "video_views"]
        values = super().read_metrics(r, plain)
        video = [(i, c) for i, c in bound if c.metric == "video_views"]
        parts = [r.number(i) for i, _ in video]
        if len(parts) == len(_VIDEO) and all(p is not None for p in parts):
            values["video_views"] = sum(p for p in parts if p is not None)
        return values

    def row_account(
        self, r: RowReader, cols: dict[str, int | None], ctx: ImportContext
    ) -> AccountRef | None:
        post_id = r.text(cols["id"]) or ""
        page = post_id.split("_", 1)[0] if "_" in post_id else None
        return ctx.cached_ref(self.network, page) if page else None


def _total_count_column(header: Header, descriptions: list[str], name: str) -> int | None:
    """Of the columns called ``name``, the one counting views (``(Total Count)``)."""
    candidates = header.indexes(name)
    if not candidates:
        return None
    for i in candidates:
        text = descriptions[i].casefold() if i < len(descriptions) else ""
        if "total count" in text:
            return i
    # Without the description row, the first of a duplicated pair is the total count
    # (the order Facebook writes them); a single column is taken as it is.
    return candidates[0]
