"""Balise's own long format for daily account metrics: one row per (account, metric, day).

    network,account_id,account_name,metric,day,value
    facebook,1234567890,Tourisme Haute-Côte,followers,2026-05-01,1532

``network``/``account_id`` may be left out when the import names the account;
``account_name`` is optional. ``metric`` is a canonical name from the metric catalogue,
``day`` an ISO date, ``value`` a number (empty, ``-`` or ``NA`` = no data: the row is
skipped, never stored as 0). It is the format other tools can produce for Balise, and
the one the import benchmark loads: this importer yields the loader's bulk tuples in a
tight loop. A later row for the same (account, metric, day) corrects an earlier one, as
a later import would (checking for repeats would keep every key of the file in memory).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

from services.ingest.importers import cells
from services.ingest.importers.base import Header, ImportContext, Importer, Match
from services.ingest.importers.reading import Book, Row
from services.ingest.store.loader import DailyMetricRows, Record
from shared.metrics_catalogue import CATALOGUE
from shared.schemas.ingest import AccountRef, Network

REQUIRED = ("metric", "day", "value")
CHUNK = 5000  # rows per record handed to the loader
_NETWORKS = {n.value for n in Network}


class BaliseDaily(Importer):
    name = "balise_daily_csv"
    label = "Balise — daily metrics (long format)"
    network = Network.facebook  # per row; this is only the default
    provider = "balise_daily_csv"

    def detect(self, sheets: list[tuple[str, list[Row]]], book: Book) -> Match | None:
        if not sheets or not sheets[0][1]:
            return None
        number, row_cells = sheets[0][1][0]
        header = Header(row_cells)
        if not header.has(*REQUIRED):
            return None
        score = 12.0 + header.count(("network", "account_id", "account_name"))
        return Match(self, score, 0, number, header)

    def records(self, book: Book, match: Match, ctx: ImportContext) -> Iterator[Record]:
        header = match.header or Header([])
        i_metric, i_day, i_value = (header.index(c) for c in REQUIRED)
        assert i_metric is not None and i_day is not None and i_value is not None
        i_net = header.index("network")
        i_acc = header.index("account_id")
        i_name = header.index("account_name")
        # -1: the account comes from the import, not from the rows
        net_col = i_net if i_net is not None and i_acc is not None else -1
        acc_col = i_acc if i_acc is not None and i_net is not None else -1
        file_ref: AccountRef | None = None
        if net_col < 0:
            file_ref = ctx.cached_ref(Network(ctx.account.network), None) if ctx.account else None
            if file_ref is None:
                ctx.errors.add(
                    None,
                    None,
                    None,
                    "the file has no network/account_id columns: choose the account "
                    "(--account ID, or account_id in the API)",
                )
                return
        width = 1 + max(i_metric, i_day, i_value, net_col, acc_col)
        refs: dict[tuple[str, str], AccountRef] = {}
        days: dict[str, dt.date] = {}
        known = CATALOGUE
        decimal_comma = book.decimal_comma
        errors = ctx.errors
        names = header.original
        # Rows waiting to be handed over, per account (files may interleave accounts).
        pending: dict[int, tuple[AccountRef, list[tuple[str, dt.date, float, int | None]]]] = {}
        waiting = 0
        header_row = match.header_row
        isfinite = math.isfinite
        # The previous row's account: consecutive rows are mostly of the same one.
        last_net = last_acc = None
        row_ref: AccountRef | None = None  # the account of the previous row's columns
        buf_ref: AccountRef | None = None  # the account whose buffer last_buf is
        last_buf: list[tuple[str, dt.date, float, int | None]] = []
        for number, c in book.sheets[match.sheet].rows():
            if number <= header_row:
                continue
            if len(c) < width:
                if not any(x.strip() for x in c):
                    continue
                errors.add(number, None, ",".join(c)[:200], f"expected {width} columns")
                continue
            ref = file_ref
            if net_col >= 0 and (c[net_col] != last_net or c[acc_col] != last_acc):
                key = (c[net_col], c[acc_col])
                ref = refs.get(key)
                if ref is None:
                    name = c[i_name] if i_name is not None and i_name < len(c) else None
                    ref = self._account(ctx, number, key, name, names, net_col, acc_col)
                    if ref is None:
                        continue
                    if len(refs) < 100_000:
                        refs[key] = ref
                last_net, last_acc = key
                row_ref = ref
            elif net_col >= 0:
                ref = row_ref
            if ref is None:
                continue
            metric = c[i_metric]
            if metric not in known:
                errors.add(number, names[i_metric], metric, "not a metric of the catalogue")
                continue
            text = c[i_day]
            day = days.get(text)
            if day is None:
                try:
                    day = dt.date.fromisoformat(text)
                except ValueError:
                    errors.add(number, names[i_day], text, "not an ISO date (YYYY-MM-DD)")
                    continue
                if len(days) < 100_000:
                    days[text] = day
            raw = c[i_value]
            try:
                value = float(raw)
                if not isfinite(value):
                    raise ValueError(raw)
            except ValueError:
                try:
                    parsed = cells.parse_number(raw, decimal_comma)
                except cells.CellError as exc:
                    errors.add(number, names[i_value], raw, exc.reason)
                    continue
                if parsed is None:
                    continue  # no data: nothing stored
                value = parsed
            if ref is not buf_ref:
                entry = pending.get(id(ref))
                if entry is None:
                    entry = pending[id(ref)] = (ref, [])
                buf_ref, last_buf = ref, entry[1]
            last_buf.append((metric, day, value, number))
            waiting += 1
            if waiting >= CHUNK:
                for acc, buffered in pending.values():
                    yield DailyMetricRows(acc, buffered)
                pending, waiting = {}, 0
                buf_ref, last_buf = None, []
        for acc, buffered in pending.values():
            yield DailyMetricRows(acc, buffered)

    @staticmethod
    def _account(
        ctx: ImportContext,
        number: int,
        key: tuple[str, str],
        name: str | None,
        names: list[str],
        i_net: int,
        i_acc: int,
    ) -> AccountRef | None:
        network, external_id = key[0].strip().casefold(), key[1].strip()
        if network not in _NETWORKS:
            ctx.errors.add(number, names[i_net], key[0], "not a network Balise knows")
            return None
        if not external_id or len(external_id) > 200:
            ctx.errors.add(number, names[i_acc], key[1], "an account id of 1–200 characters")
            return None
        return ctx.cached_ref(Network(network), external_id, None, (name or "").strip() or None)
