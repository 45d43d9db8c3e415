"""Plausible CSV exports (the ``imported_<table>_<start>_<end>.csv`` files of Plausible's
export, the format its CSV import documents).

* ``imported_visitors``: the site's daily totals.
* ``imported_sources``: one row per (day, source, referrer, UTM values). Rows of the same
  day and source are added up into ``source_medium`` (``Facebook / social``), and sources
  that are social networks also into ``social_network``. Visitors are unique per row
  and cannot be added across rows without counting a person twice: not stored here.
  The sums are kept per (day, source) while the file is read: their number grows with
  days × sources, not with the file's rows.
* ``imported_entry_pages``: one row per (day, entry page) → ``landing_page``.

``engaged_sessions`` is visits that did not bounce (the catalogue's definition for
Plausible). The other tables (pages, exits, devices, locations…) are not used by the
audit; such a file is refused with that reason rather than half-read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

from services.ingest.audit.website import network_of
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
from shared.schemas.ingest import AccountRef, Network, WebMetricRecord

TABLES: dict[str, tuple[str, ...]] = {
    "visitors": ("date", "visitors", "pageviews", "bounces", "visits", "visit_duration"),
    "sources": ("date", "source", "referrer", "utm_medium", "visits", "bounces"),
    "entry_pages": ("date", "entry_page", "visitors", "entrances", "bounces"),
    "pages": ("date", "hostname", "page", "visits", "visitors", "pageviews"),
    "exit_pages": ("date", "exit_page", "visitors", "exits"),
    "custom_events": ("date", "name", "link_url", "path", "visitors", "events"),
    "locations": ("date", "country", "region", "city", "visitors", "visits"),
    "devices": ("date", "device", "visitors", "visits"),
    "browsers": ("date", "browser", "browser_version", "visitors", "visits"),
    "operating_systems": ("date", "operating_system", "operating_system_version", "visitors"),
}
STORED = ("visitors", "sources", "entry_pages")
#: the column that makes each table other than visitors a breakdown
DIMENSION_COLUMNS = {cols[1] for name, cols in TABLES.items() if name != "visitors"}


def _has_dimension(header: Header) -> bool:
    return any(d in header.norm for d in DIMENSION_COLUMNS)


class PlausibleExport(Importer):
    name = "plausible_export"
    label = "Plausible — CSV export (visitors, sources, entry pages)"
    network = Network.plausible
    provider = "plausible_csv_export"

    def detect(self, sheets: list[tuple[str, list[Row]]], book: Book) -> Match | None:
        if not sheets or not sheets[0][1]:
            return None
        number, row_cells = sheets[0][1][0]
        header = Header(row_cells)
        best: tuple[int, str] | None = None
        for table, columns in TABLES.items():
            # The visitors table's columns are in every other table: a file is the
            # visitors table only when it has none of the others' dimension columns.
            if not header.has(*columns) or (table == "visitors" and _has_dimension(header)):
                continue
            if best is None or len(columns) > best[0]:
                best = (len(columns), table)
        if best is None:
            return None
        return Match(self, 10.0 + best[0], 0, number, header, {"table": best[1]})

    def records(self, book: Book, match: Match, ctx: ImportContext) -> Iterator[Record]:
        table: str = match.info["table"]
        header = match.header or Header([])
        if table not in STORED:
            ctx.errors.add(
                None,
                None,
                None,
                f"this is Plausible's {table} table, which Balise does not use; import "
                "imported_visitors, imported_sources or imported_entry_pages",
            )
            return
        ref = require_account(ctx, ctx.cached_ref(self.network, None), "This Plausible export")
        if table == "sources":
            yield from self._sources(book, match, ctx, header, ref)
            return
        cols = {n: header.index(n) for n in header.norm if n}
        if table == "visitors":
            dimension, label_col = "total", None
            mapping = {"visitors": "users", "pageviews": "pageviews", "visits": "sessions",
                       "bounces": "bounces"}  # fmt: skip
        else:
            dimension, label_col = "landing_page", cols["entry_page"]
            mapping = {"visitors": "users", "pageviews": "pageviews", "entrances": "sessions",
                       "bounces": "bounces"}  # fmt: skip
        seen: set[tuple[dt.date, str]] = set()
        for number, row_cells in self.data_rows(book, match):
            r = RowReader(ctx, header, number, row_cells, False)
            if r.blank():
                continue
            day = _day(r, cols["date"])
            value = ""
            if label_col is not None:
                value = (r.text(label_col) or "")[:500]
                if not value:
                    r.fail(label_col, r.raw(label_col), "a row without its page")
            values = _values(r, cols, mapping)
            if not r.ok or ref is None or day is None:
                continue
            if (day, value) in seen:
                r.fail(cols["date"], r.raw(cols["date"]), "the same row appears twice")
                continue
            if len(seen) < 1_000_000:
                seen.add((day, value))
            for metric, v in values.items():
                yield _record(ref, day, dimension, value, metric, v, ctx, number)

    def _sources(
        self,
        book: Book,
        match: Match,
        ctx: ImportContext,
        header: Header,
        ref: AccountRef | None,
    ) -> Iterator[Record]:
        cols = {n: header.index(n) for n in header.norm if n}
        mapping = {"pageviews": "pageviews", "visits": "sessions", "bounces": "bounces"}
        # (dimension, day, value) -> metric -> sum, and the first row it came from
        sums: dict[tuple[str, dt.date, str], dict[str, float]] = defaultdict(dict)
        first_row: dict[tuple[str, dt.date, str], int] = {}
        for number, row_cells in self.data_rows(book, match):
            r = RowReader(ctx, header, number, row_cells, False)
            if r.blank():
                continue
            day = _day(r, cols["date"])
            source = r.text(cols["source"]) or "Direct / None"
            medium = r.text(cols.get("utm_medium")) or "(none)"
            values = _values(r, cols, mapping)
            if not r.ok or ref is None or day is None:
                continue
            keys = [("source_medium", day, f"{source} / {medium}"[:500])]
            net = network_of(source) or network_of(r.text(cols.get("referrer")) or "")
            if net:
                keys.append(("social_network", day, net))
            for key in keys:
                bucket = sums[key]
                first_row.setdefault(key, number)
                for metric, v in values.items():
                    bucket[metric] = bucket.get(metric, 0.0) + v
        for (dimension, day, value), metrics in sums.items():
            for metric, v in metrics.items():
                row = first_row[(dimension, day, value)]
                if ref is not None:
                    yield _record(ref, day, dimension, value, metric, v, ctx, row)


def _day(r: RowReader, col: int | None) -> dt.date | None:
    day = r.day(col, "ymd")
    if day is None and r.ok:
        r.fail(col, r.raw(col), "a row without its date")
    return day


def _values(r: RowReader, cols: dict[str, int | None], mapping: dict[str, str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for column, metric in mapping.items():
        v = r.number(cols.get(column))
        if v is not None:
            values[metric] = v
    if "sessions" in values and "bounces" in values:
        values["engaged_sessions"] = values["sessions"] - values["bounces"]
    return values


def _record(
    ref: AccountRef,
    day: dt.date,
    dimension: str,
    value: str,
    metric: str,
    v: float,
    ctx: ImportContext,
    row: int,
) -> WebMetricRecord:
    return WebMetricRecord(
        account=ref,
        day=day,
        dimension=dimension,
        dimension_value=value,
        metric=metric,
        value=v,
        source=ctx.source(row),
    )
