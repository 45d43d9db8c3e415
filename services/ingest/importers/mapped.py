"""Files of an unknown layout, read through a column mapping the user made (and may have
saved for the next file with the same header).

The mapping names, for each header column, what it holds: the day (daily rows) or the
post id, its publication time, text, title, link, type (posts), or a canonical metric.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from services.ingest.importers import cells
from services.ingest.importers.base import (
    Header,
    ImportContext,
    Importer,
    Match,
    RowReader,
    require_account,
)
from services.ingest.importers.reading import Book, Row
from services.ingest.importers.tables import content_type
from services.ingest.store.loader import Record
from shared.metrics_catalogue import CATALOGUE
from shared.schemas.imports import ColumnMapping
from shared.schemas.ingest import DailyMetricRecord, PostRecord


def signature(header_cells: list[Any]) -> str:
    """What identifies a layout: its normalised header, hashed."""
    names = Header(header_cells).norm
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()


class MappedImporter(Importer):
    """An importer built from a :class:`ColumnMapping`."""

    name = "column_mapping"
    label = "Column mapping"
    provider = "mapped_file"

    def __init__(self, mapping: ColumnMapping) -> None:
        self.mapping = mapping
        self.network = mapping.network  # type: ignore[misc]

    def detect(self, sheets: list[tuple[str, list[Row]]], book: Book) -> Match | None:
        if not sheets:
            return None
        for number, row_cells in sheets[0][1]:
            if number == self.mapping.header_row:
                header = Header(row_cells)
                missing = [c for c in self.mapping.columns if header.index(c) is None]
                if missing:
                    return None
                return Match(self, 1.0, 0, number, header)
        return None

    def records(self, book: Book, match: Match, ctx: ImportContext) -> Iterator[Record]:
        header = match.header or Header([])
        m = self.mapping
        fields: dict[str, int] = {}
        metrics: list[tuple[int, str]] = []
        for name, target in m.columns.items():
            i = header.index(name)
            if i is None:
                continue
            if target.startswith("metric:") and target[7:] in CATALOGUE:
                metrics.append((i, target[7:]))
            elif target != "ignore":
                fields[target] = i
        ref = require_account(ctx, ctx.cached_ref(m.network, None), "A mapped file")
        decimal = m.decimal_comma if m.decimal_comma is not None else book.decimal_comma
        seen: set[Any] = set()
        for number, row_cells in self.data_rows(book, match):
            r = RowReader(ctx, header, number, row_cells, decimal)
            if r.blank():
                continue
            values: dict[str, float] = {}
            for i, metric in metrics:
                v = r.number(i)
                if v is not None:
                    values[metric] = values.get(metric, 0.0) + v
            if m.kind == "daily":
                day = r.day(fields["date"], m.date_order)
                if day is None and r.ok:
                    r.fail(fields["date"], r.raw(fields["date"]), "a row without its date")
                if not r.ok or ref is None or day is None:
                    continue
                if day in seen:
                    r.fail(fields["date"], r.raw(fields["date"]), "the same day appears twice")
                    continue
                seen.add(day)
                for metric, v in values.items():
                    yield DailyMetricRecord(
                        account=ref, metric=metric, day=day, value=v, source=ctx.source(number)
                    )
                continue
            post_id = r.text(fields["post_id"])
            if not post_id:
                r.fail(fields["post_id"], r.raw(fields["post_id"]), "a post without its id")
            published = (
                r.moment(fields["published_at"], m.date_order) if "published_at" in fields else None
            )
            if not r.ok or ref is None or not post_id:
                continue
            if post_id in seen:
                r.fail(fields["post_id"], post_id, "the same post appears twice in the file")
                continue
            if len(seen) < 1_000_000:
                seen.add(post_id)
            label = r.text(fields.get("content_type"))
            yield PostRecord(
                account=ref,
                external_id=post_id[:200],
                published_at=published,
                content_type=content_type(label),
                format=label[:80] if label else None,
                text=r.text(fields.get("text")),
                title=(r.text(fields.get("title")) or "")[:500] or None,
                permalink=(r.text(fields.get("permalink")) or "")[:1000] or None,
                snapshot_date=ctx.snapshot_date,
                metrics=values,
                source=ctx.source(number),
            )


# ------------------------------------------------------------------------ suggestions

_FIELD_ALIASES = {
    "date": ("date", "day", "jour", "période", "period"),
    "post_id": ("post id", "id", "identifiant", "post", "publication", "media id", "pin id"),
    "published_at": (
        "published", "publish time", "publication date", "created date", "posted", "time",
        "date de publication", "heure de publication",
    ),
    "text": ("text", "message", "caption", "description", "texte", "légende"),
    "title": ("title", "titre"),
    "permalink": ("permalink", "link", "url", "lien", "lien permanent"),
    "content_type": ("type", "post type", "content type", "format", "type de publication"),
}  # fmt: skip
_METRIC_ALIASES = {
    "impressions": ("impressions",),
    "views": ("views", "vues", "plays", "lectures"),
    "reach": ("reach", "couverture", "portée", "unique impressions"),
    "engagements": ("engagements", "engagement", "interactions"),
    "reactions": ("reactions", "réactions", "likes", "j'aime", "favorites"),
    "comments": ("comments", "commentaires", "replies", "réponses"),
    "shares": ("shares", "partages", "reposts", "retweets"),
    "saves": ("saves", "enregistrements", "bookmarks"),
    "clicks": ("clicks", "clics", "total clicks"),
    "link_clicks": ("link clicks", "url clicks", "clics sur un lien", "outbound clicks"),
    "followers": ("followers", "abonnés", "fans", "subscribers"),
    "follows": ("follows", "new followers", "nouveaux abonnés"),
    "video_views": ("video views", "vues de vidéo"),
    "sessions": ("sessions", "visits", "visites"),
    "users": ("users", "utilisateurs", "visitors", "visiteurs"),
    "pageviews": ("pageviews", "page views", "pages vues"),
    "conversions": ("conversions", "key events", "événements clés"),
}


def suggest(header_cells: list[Any]) -> dict[str, str]:
    """A first guess of each column's target, from its name."""
    header = Header(header_cells)
    out: dict[str, str] = {}
    used: set[str] = set()
    for i, norm in enumerate(header.norm):
        name = header.original[i]
        if not name or name in out:
            continue
        target = "ignore"
        for field, aliases in _FIELD_ALIASES.items():
            if norm in aliases and field not in used:
                target = field
                break
        else:
            for metric, aliases in _METRIC_ALIASES.items():
                if norm in aliases or norm == metric:
                    target = f"metric:{metric}"
                    break
        if not target.startswith("metric:") and target != "ignore":
            used.add(target)
        out[name] = target
    return out


def guess_header_row(rows: list[Row]) -> int:
    """The first row with at least two text cells and no number (a header, not data)."""
    for number, row_cells in rows:
        texts = [c for c in row_cells if isinstance(c, str) and cells.clean_text(c)]
        if len(texts) >= 2 and not any(_numeric(c) for c in row_cells):
            return number
    return rows[0][0] if rows else 1


def _numeric(value: Any) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    try:
        return cells.parse_number(value, None) is not None
    except cells.CellError:
        return False
