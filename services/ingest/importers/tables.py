"""Declarative importers for the two shapes most exports take.

* :class:`PostsImporter`: one row per post (tweet, video, pin …) with its lifetime
  figures → :class:`PostRecord` snapshots; an optional ``Total`` row → the channel total.
* :class:`DailyImporter`: one row per day with the account's figures →
  :class:`DailyMetricRecord` s.

A format module subclasses one of them and lists its columns (English and French names,
as the exports write them) and how each maps to the metric catalogue.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

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
from services.ingest.store.loader import Record
from shared.schemas.ingest import (
    AccountRef,
    ChannelTotalRecord,
    DailyMetricRecord,
    PostRecord,
)


@dataclass(frozen=True)
class Col:
    """A column of an export mapped onto a canonical metric."""

    aliases: tuple[str, ...]
    metric: str
    scale: float = 1.0
    kind: str = "number"  # or "duration" (H:MM:SS)


#: Platform labels of a post's type → the canonical content type.
_CONTENT_TYPES = (
    ("carousel", "carousel"),
    ("carrousel", "carousel"),
    ("album", "carousel"),
    ("reel", "reel"),
    ("short", "short"),
    ("story", "story"),
    ("stories", "story"),
    ("live", "video"),
    ("vid", "video"),
    ("photo", "photo"),
    ("image", "photo"),
    ("link", "link"),
    ("lien", "link"),
    ("article", "link"),
    ("document", "document"),
    ("doc", "document"),
    ("poll", "other"),
    ("sondage", "other"),
    ("event", "event"),
    ("événement", "event"),
    ("text", "text"),
    ("texte", "text"),
    ("status", "text"),
    ("statut", "text"),
    ("pin", "pin"),
    ("épingle", "pin"),
)


def content_type(label: str | None) -> str | None:
    """The canonical content type of a platform's label (``'IG carousel'`` →
    ``'carousel'``); ``None`` when the label says nothing we know."""
    if not label:
        return None
    low = label.casefold()
    for needle, canonical in _CONTENT_TYPES:
        if needle in low:
            return canonical
    return "other"


def sheet_score(header: Header, signature: Sequence[str], extra: Sequence[str]) -> float:
    return len(signature) * 2 + header.count(extra)


class _Table(Importer):
    #: columns that must all be present for the layout to be recognised
    signature: ClassVar[tuple[str, ...]]
    #: further columns of the layout, each adding to the detection score
    distinctive: ClassVar[tuple[str, ...]] = ()
    #: other signatures accepted (French exports, older column names)
    alt_signatures: ClassVar[tuple[tuple[str, ...], ...]] = ()
    #: sheet names this layout lives in (workbooks), casefolded prefixes
    sheet_names: ClassVar[tuple[str, ...]] = ()
    #: header rows searched from the top (a description row may sit above the header)
    header_within: ClassVar[int] = 4
    metrics: ClassVar[tuple[Col, ...]] = ()
    french_markers: ClassVar[tuple[str, ...]] = ()

    def detect(self, sheets: list[tuple[str, list[Row]]], book: Book) -> Match | None:
        best: Match | None = None
        for index, (name, rows) in enumerate(sheets):
            if (
                self.sheet_names
                and book.kind != "csv"
                and not name.casefold().startswith(self.sheet_names)
            ):
                continue
            for signature in (self.signature, *self.alt_signatures):
                found = self.find_header(rows, signature, within=self.header_within)
                if found is None:
                    continue
                number, header = found
                score = sheet_score(header, signature, self.distinctive)
                score += self.extra_score(header, rows, book)
                if score > 0 and (best is None or score > best.score):
                    best = Match(self, score, index, number, header)
        return best

    def extra_score(self, header: Header, rows: list[Row], book: Book) -> float:
        return 0.0

    def order(self, header: Header) -> str:
        """Day/month order of the file's dates: French exports write day first."""
        return "dmy" if self.french_markers and header.count(self.french_markers) else "mdy"

    def bind_metrics(self, header: Header, match: Match) -> list[tuple[int, Col]]:
        out: list[tuple[int, Col]] = []
        for col in self.metrics:
            i = header.index(*col.aliases)
            if i is not None:
                out.append((i, col))
        return out

    def read_metrics(self, r: RowReader, bound: list[tuple[int, Col]]) -> dict[str, float]:
        values: dict[str, float] = {}
        for i, col in bound:
            v = r.duration(i) if col.kind == "duration" else r.number(i)
            if v is None:
                continue  # no data: the metric is left out, never stored as 0
            if col.metric in values:
                values[col.metric] += v * col.scale
            else:
                values[col.metric] = v * col.scale
        return values

    def file_account(self, book: Book, match: Match, ctx: ImportContext) -> AccountRef | None:
        """The account of a file whose rows do not say it (from the import or file name)."""
        return ctx.cached_ref(self.network, None)


class PostsImporter(_Table):
    """One row per post."""

    id_cols: ClassVar[tuple[str, ...]] = ()
    published_cols: ClassVar[tuple[str, ...]] = ()
    text_cols: ClassVar[tuple[str, ...]] = ()
    title_cols: ClassVar[tuple[str, ...]] = ()
    permalink_cols: ClassVar[tuple[str, ...]] = ()
    type_cols: ClassVar[tuple[str, ...]] = ()
    duration_cols: ClassVar[tuple[str, ...]] = ()
    #: a row whose first cell is one of these is the channel total, not a post
    total_labels: ClassVar[tuple[str, ...]] = ()

    def post_id(self, r: RowReader, cols: dict[str, int | None]) -> str | None:
        return r.text(cols["id"])

    def row_account(
        self, r: RowReader, cols: dict[str, int | None], ctx: ImportContext
    ) -> AccountRef | None:
        return None

    def period(self, book: Book, ctx: ImportContext) -> tuple[dt.date | None, dt.date | None]:
        """The period a Total row covers, when the file name says it."""
        dates = re.findall(r"(\d{4})-(\d{2})-(\d{2})", book.path.name + " " + ctx.file_name)
        if len(dates) >= 2:
            try:
                a, b = (dt.date(int(y), int(m), int(d)) for y, m, d in dates[:2])
                return (a, b) if a <= b else (b, a)
            except ValueError:
                return None, None
        return None, None

    def records(self, book: Book, match: Match, ctx: ImportContext) -> Iterator[Record]:
        header = match.header or Header([])
        order = self.order(header)
        cols: dict[str, int | None] = {
            "id": header.index(*self.id_cols),
            "published": header.index(*self.published_cols) if self.published_cols else None,
            "text": header.index(*self.text_cols) if self.text_cols else None,
            "title": header.index(*self.title_cols) if self.title_cols else None,
            "permalink": header.index(*self.permalink_cols) if self.permalink_cols else None,
            "type": header.index(*self.type_cols) if self.type_cols else None,
            "duration": header.index(*self.duration_cols) if self.duration_cols else None,
        }
        self.bind_extra(header, cols)
        bound = self.bind_metrics(header, match)
        file_ref = self.file_account(book, match, ctx)
        checked_file_account = False
        totals = {cells.norm_header(t) for t in self.total_labels}
        seen: set[str] = set()
        for number, row_cells in self.data_rows(book, match):
            r = RowReader(ctx, header, number, row_cells, book.decimal_comma)
            if r.blank():
                continue
            first = cells.norm_header(row_cells[0]) if row_cells else ""
            ref = self.row_account(r, cols, ctx) or file_ref
            if ref is None and not checked_file_account:
                checked_file_account = True
                require_account(ctx, None, "This export")
            if totals and first in totals:
                values = self.read_metrics(r, bound)
                if r.ok and ref is not None and values:
                    start, end = self.period(book, ctx)
                    yield ChannelTotalRecord(
                        account=ref,
                        period_start=start,
                        period_end=end,
                        metrics=values,
                        source=ctx.source(number),
                    )
                continue
            post_id = self.post_id(r, cols)
            if not post_id:
                r.fail(cols["id"], r.raw(cols["id"]), "a post without its id")
                continue
            if len(post_id) > 200:
                r.fail(cols["id"], post_id, "a post id longer than 200 characters")
                continue
            published = (
                r.moment(cols["published"], order) if cols["published"] is not None else None
            )
            values = self.read_metrics(r, bound)
            duration = r.duration(cols["duration"]) if cols["duration"] is not None else None
            extra = self.extra_metrics(r, cols)
            if not r.ok or ref is None:
                continue
            values.update(extra)
            key = f"{ref.external_id}\x00{post_id}"
            if key in seen:
                r.fail(cols["id"], post_id, "the same post appears twice in the file")
                continue
            if len(seen) < 1_000_000:
                seen.add(key)
            label = r.text(cols["type"])
            yield PostRecord(
                account=ref,
                external_id=post_id,
                published_at=published,
                content_type=self.content_type(label, r, cols),
                format=label[:80] if label else None,
                text=r.text(cols["text"]),
                title=(r.text(cols["title"]) or "")[:500] or None,
                permalink=(r.text(cols["permalink"]) or "")[:1000] or None,
                duration_seconds=duration,
                snapshot_date=ctx.snapshot_date,
                metrics=values,
                source=ctx.source(number),
            )

    def bind_extra(self, header: Header, cols: dict[str, int | None]) -> None:
        """Bind format-specific columns into ``cols``."""

    def extra_metrics(self, r: RowReader, cols: dict[str, int | None]) -> dict[str, float]:
        return {}

    def content_type(
        self, label: str | None, r: RowReader, cols: dict[str, int | None]
    ) -> str | None:
        return content_type(label)


class DailyImporter(_Table):
    """One row per day of one account."""

    date_cols: ClassVar[tuple[str, ...]] = ("date",)
    date_order: ClassVar[str | None] = None

    def records(self, book: Book, match: Match, ctx: ImportContext) -> Iterator[Record]:
        header = match.header or Header([])
        order = self.date_order or self.order(header)
        date_col = header.index(*self.date_cols)
        bound = self.bind_metrics(header, match)
        ref = require_account(ctx, self.file_account(book, match, ctx), "This export")
        seen: set[dt.date] = set()
        for number, row_cells in self.data_rows(book, match):
            r = RowReader(ctx, header, number, row_cells, book.decimal_comma)
            if r.blank():
                continue
            if cells.norm_header(r.raw(date_col)) in ("total", "totals", "grand total"):
                continue  # a sum of the days above: derived, not stored
            day = r.day(date_col, order)
            if day is None and r.ok:
                r.fail(date_col, r.raw(date_col), "a row without its date")
            values = self.read_metrics(r, bound)
            if not r.ok or ref is None or day is None:
                continue
            if day in seen:
                r.fail(date_col, r.raw(date_col), "the same day appears twice in the file")
                continue
            seen.add(day)
            for metric, value in values.items():
                yield DailyMetricRecord(
                    account=ref, metric=metric, day=day, value=value, source=ctx.source(number)
                )


def first_value(rows: list[Row], column: int) -> Any:
    for _, row_cells in rows:
        if column < len(row_cells) and not cells.is_missing(row_cells[column]):
            return row_cells[column]
    return None
