"""Google Analytics 4 UI exports (a report → Share → Download file → CSV).

The file opens with a ``#`` comment preamble naming the report, the property and the
period (``# Start date: 20260501`` / ``# End date: 20260531``; French UI: ``# Date de
début : …``), then one or more tables, each after its own comment block (the report's
table, then e.g. a ``Date,Sessions`` series). The first column(s) are the dimensions.

* A table with a ``Date`` dimension gives daily rows.
* A table without one gives **period figures** (the report's start → end): stored as such
  (``ingest_web_period_metric``), never spread over days; a report of one day is daily.
* ``Grand total`` rows of a period table are the property's total for the period (users
  are de-duplicated, so not the sum of the rows): stored under the ``total`` dimension.

Rates and averages (engagement rate, average engagement time…) are derived figures and
not stored. Older exports say ``Conversions`` where newer ones say ``Key events``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

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
from shared.schemas.ingest import AccountRef, Network, WebMetricRecord

DIMENSIONS = {
    "session primary channel group (default channel group)": "channel_group",
    "session default channel group": "channel_group",
    "session primary channel group": "channel_group",
    "default channel group": "channel_group",
    "groupe de canaux principal de la session (groupe de canaux par défaut)": "channel_group",
    "groupe de canaux par défaut de la session": "channel_group",
    "session source / medium": "source_medium",
    "session source/medium": "source_medium",
    "source / support de la session": "source_medium",
    "source/support de la session": "source_medium",
    "session source": "source_medium",
    "source de la session": "source_medium",
    "landing page": "landing_page",
    "landing page + query string": "landing_page",
    "page de destination": "landing_page",
    "page de destination + chaîne de requête": "landing_page",
}
DATE_COLUMNS = {"date"}
METRICS = {
    "users": "users",
    "total users": "users",
    "active users": "users",
    "utilisateurs": "users",
    "utilisateurs actifs": "users",
    "sessions": "sessions",
    "engaged sessions": "engaged_sessions",
    "sessions avec engagement": "engaged_sessions",
    "key events": "conversions",
    "conversions": "conversions",
    "événements clés": "conversions",
    "total revenue": "revenue",
    "revenu total": "revenue",
    "revenus totaux": "revenue",
    "views": "pageviews",
    "vues": "pageviews",
}
TOTAL_ROWS = {"grand total", "total", "totaux", "total général"}
_START = re.compile(r"#\s*(?:start date|date de début)\s*:\s*(\d{8})", re.I)
_END = re.compile(r"#\s*(?:end date|date de fin)\s*:\s*(\d{8})", re.I)
_PROPERTY = re.compile(r"#\s*(?:property|propriété)\s*:\s*(.+)", re.I)


@dataclass
class _Table:
    header: Header
    date: int | None
    dims: list[tuple[int, str]]
    metrics: list[tuple[int, str]]


def _line(row_cells: list[object]) -> str:
    return ",".join(cells.clean_text(c) for c in row_cells).strip().strip(",")


def _classify(header: Header) -> _Table | None:
    date = None
    dims: list[tuple[int, str]] = []
    metrics: list[tuple[int, str]] = []
    for i, name in enumerate(header.norm):
        if name in DATE_COLUMNS:
            date = i
        elif name in DIMENSIONS:
            dims.append((i, DIMENSIONS[name]))
        elif name in METRICS:
            metrics.append((i, METRICS[name]))
    if not metrics or (date is None and not dims):
        return None
    return _Table(header, date, dims, metrics)


class GA4Export(Importer):
    name = "ga4_ui_export"
    label = "Google Analytics 4 — report export (CSV)"
    network = Network.ga4
    provider = "ga4_ui_export_csv"

    def detect(self, sheets: list[tuple[str, list[Row]]], book: Book) -> Match | None:
        if not sheets:
            return None
        rows = sheets[0][1]
        comments = [_line(c) for _, c in rows if c and cells.clean_text(c[0]).startswith("#")]
        dated = any(_START.match(line) for line in comments)
        for number, row_cells in rows:
            if not row_cells or cells.clean_text(row_cells[0]).startswith("#"):
                continue
            if all(cells.is_missing(c) for c in row_cells):
                continue
            table = _classify(Header(row_cells))
            if table is None or (not dated and not table.dims):
                # "Date, Views" alone is no sign of GA4 without the report's preamble.
                return None
            score = 10.0 + (10.0 if dated else 0.0) + len(table.metrics)
            return Match(self, score, 0, number, table.header)
        return None

    def records(self, book: Book, match: Match, ctx: ImportContext) -> Iterator[Record]:
        start = end = None
        prop: str | None = None
        table: _Table | None = None
        in_table = False
        ref: AccountRef | None = None
        checked = False
        seen: set[tuple[object, ...]] = set()
        for number, row_cells in book.sheets[0].rows():
            first = cells.clean_text(row_cells[0]) if row_cells else ""
            if first.startswith("#"):
                line = _line(row_cells)
                if m := _START.match(line):
                    start = _compact(m.group(1))
                elif m := _END.match(line):
                    end = _compact(m.group(1))
                elif m := _PROPERTY.match(line):
                    prop = re.sub(r"\s*-\s*GA4\s*$", "", m.group(1)).strip() or None
                in_table = False
                continue
            if all(cells.is_missing(c) for c in row_cells):
                in_table = False
                continue
            if not in_table:
                # A new table begins: its header.
                table = _classify(Header(row_cells))
                in_table = True
                if table is None:
                    # A table of something Balise does not store (e.g. "Nth day"):
                    # skipped whole, it is not an error in the file.
                    continue
                if not checked:
                    checked = True
                    ref = require_account(
                        ctx, ctx.cached_ref(self.network, None, None, prop), "This GA4 export"
                    )
                if table.date is None and (start is None or end is None):
                    ctx.errors.add(
                        number,
                        None,
                        None,
                        "a table without a Date column needs the report's period: the "
                        "'# Start date' and '# End date' lines are missing",
                    )
                continue
            if table is None:
                continue
            yield from self._row(ctx, book, table, number, row_cells, start, end, ref, seen)

    def _row(
        self,
        ctx: ImportContext,
        book: Book,
        table: _Table,
        number: int,
        row_cells: list[object],
        start: dt.date | None,
        end: dt.date | None,
        ref: AccountRef | None,
        seen: set[tuple[object, ...]],
    ) -> Iterator[WebMetricRecord]:
        r = RowReader(ctx, table.header, number, list(row_cells), None)
        label = cells.norm_header(r.raw(table.dims[0][0])) if table.dims else ""
        first = cells.norm_header(r.raw(0))
        if first in TOTAL_ROWS or label in TOTAL_ROWS:
            if table.date is not None:
                return  # the sum of the days above: derived
            dimension, value = "total", ""
        elif table.dims:
            i, dimension = table.dims[0]
            value = r.text(i) or ""
            if not value:
                r.fail(i, r.raw(i), f"a row without its {r.header.name(i)}")
            value = value[:500]
        else:
            dimension, value = "total", ""
        if table.date is not None:
            day = r.day(table.date, "ymd")
            if day is None and r.ok:
                r.fail(table.date, r.raw(table.date), "a row without its date")
            period_end = None
        else:
            day, period_end = start, end
        values = {}
        for i, metric in table.metrics:
            v = r.number(i)
            if v is not None:
                values[metric] = v
        if not r.ok or ref is None or day is None:
            return
        key = (dimension, value, day, period_end)
        if key in seen:
            r.fail(None, value, "the same row appears twice in the table")
            return
        if len(seen) < 1_000_000:
            seen.add(key)
        for metric, v in values.items():
            yield WebMetricRecord(
                account=ref,
                day=day,
                period_end=period_end,
                dimension=dimension,
                dimension_value=value,
                metric=metric,
                value=v,
                source=ctx.source(number),
            )


def _compact(text: str) -> dt.date | None:
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
