"""Matomo report exports (Reporting API ``format=CSV`` or ``TSV``; the UI's export).

Matomo writes CSV as **UTF-16LE with a BOM** by default (the reader handles it) and names
columns by their API metric (``nb_visits``, ``nb_uniq_visitors``, ``bounce_count`` …), or
by their translation with ``translateColumnNames=1`` (``Visits``, ``Visites`` …).

Each row must say its day: export with ``period=day`` (e.g. ``date=last30``), which adds a
``date`` column (``2026-05-01``); a ``date`` that is a range (``2026-05-01,2026-05-31``) or
a month (``2026-05``) gives period figures. A report with a ``label`` column is a
breakdown whose dimension comes from the report's name in the file name:
``Referrers.getSocials`` → social network, ``Referrers.getReferrerType`` → channel
group, ``Actions.getEntryPageUrls`` → landing page, ``Referrers.getWebsites`` → source.

``engaged_sessions`` is visits that did not bounce (``nb_visits - bounce_count``), the
catalogue's definition for Matomo. Rates (``bounce_rate`` as ``67%``) are not stored.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator

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
from shared.schemas.ingest import Network, WebMetricRecord

METRICS = {
    "nb_visits": "sessions",
    "visits": "sessions",
    "visites": "sessions",
    "nb_uniq_visitors": "users",
    "unique visitors": "users",
    "visiteurs uniques": "users",
    "nb_pageviews": "pageviews",
    "pageviews": "pageviews",
    "pages vues": "pageviews",
    "bounce_count": "bounces",
    "bounces": "bounces",
    "rebonds": "bounces",
    "nb_visits_converted": "conversions",
    "visits converted": "conversions",
    "visites converties": "conversions",
    "revenue": "revenue",
    "revenu": "revenue",
}
LABELS = ("label", "libellé", "libelle")
REPORTS = (
    ("getsocials", "social_network"),
    ("socials", "social_network"),
    ("getreferrertype", "channel_group"),
    ("referrertype", "channel_group"),
    ("getentrypageurls", "landing_page"),
    ("entrypage", "landing_page"),
    ("getwebsites", "source_medium"),
)
_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2})\s*,\s*(\d{4}-\d{2}-\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _dimension(file_name: str) -> str | None:
    low = re.sub(r"[^a-z]", "", file_name.casefold())
    for needle, dim in REPORTS:
        if needle in low:
            return dim
    return None


def _period(text: str) -> tuple[dt.date, dt.date | None]:
    """``(day, None)`` for a day, ``(first, last)`` for a range or a month."""
    s = cells.clean_text(text)
    if m := _RANGE.fullmatch(s):
        a, b = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
        if b < a:
            raise cells.CellError("a period that ends before it starts")
        return a, b
    if m := _MONTH.fullmatch(s):
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            raise cells.CellError("not a valid month")
        return dt.date(y, mo, 1), dt.date(y, mo, calendar.monthrange(y, mo)[1])
    day = cells.parse_day(s, "ymd")
    if day is None:
        raise cells.CellError("a row without its date")
    return day, None


class MatomoExport(Importer):
    name = "matomo_export"
    label = "Matomo — report export (CSV/TSV)"
    network = Network.matomo
    provider = "matomo_reporting_export"

    def detect(self, sheets: list[tuple[str, list[Row]]], book: Book) -> Match | None:
        if not sheets or not sheets[0][1]:
            return None
        number, row_cells = sheets[0][1][0]
        header = Header(row_cells)
        api = sum(1 for n in header.norm if n.startswith("nb_") or n == "bounce_count")
        known = sum(1 for n in header.norm if n in METRICS)
        if not known or (api == 0 and not ({"date", "label"} & set(header.norm))):
            return None
        score = 5.0 + api * 2 + known
        return Match(self, score, 0, number, header)

    def records(self, book: Book, match: Match, ctx: ImportContext) -> Iterator[Record]:
        header = match.header or Header([])
        date_col = header.index("date", "Date")
        label_col = header.index(*LABELS)
        metric_cols = [(i, METRICS[n]) for i, n in enumerate(header.norm) if n in METRICS]
        ref = require_account(ctx, ctx.cached_ref(self.network, None), "This Matomo export")
        dimension = "total"
        if label_col is not None:
            found = _dimension(ctx.file_name) or _dimension(book.path.name)
            if found is None:
                ctx.errors.add(
                    None,
                    header.name(label_col),
                    None,
                    "this is a breakdown report but the file name does not say which "
                    "(keep the report's name, e.g. Referrers.getSocials, in the file name)",
                )
                return
            dimension = found
        if date_col is None:
            ctx.errors.add(
                None,
                None,
                None,
                "the rows do not say their day: export with period=day (e.g. date=last30) "
                "so that each row has its date",
            )
            return
        seen: set[tuple[object, ...]] = set()
        for number, row_cells in self.data_rows(book, match):
            r = RowReader(ctx, header, number, row_cells, book.decimal_comma)
            if r.blank():
                continue
            raw_date = r.raw(date_col)
            try:
                day, period_end = _period(str(raw_date) if raw_date is not None else "")
            except (cells.CellError, ValueError) as exc:
                reason = exc.reason if isinstance(exc, cells.CellError) else "not a date"
                r.fail(date_col, raw_date, reason)
                continue
            value = ""
            if label_col is not None:
                value = (r.text(label_col) or "")[:500]
                if not value:
                    r.fail(label_col, r.raw(label_col), "a row without its label")
            values: dict[str, float] = {}
            for i, metric in metric_cols:
                v = r.number(i)
                if v is not None:
                    values[metric] = v
            if "sessions" in values and "bounces" in values:
                values["engaged_sessions"] = values["sessions"] - values["bounces"]
            if not r.ok or ref is None:
                continue
            key = (day, period_end, value)
            if key in seen:
                r.fail(date_col, raw_date, "the same row appears twice in the report")
                continue
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
