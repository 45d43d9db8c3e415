"""One import of one file, all or nothing.

:func:`import_file` opens the file, picks its importer (the format asked for, a column
mapping, or detection), streams the importer's records into the store loader, and
returns an :class:`Outcome`:

* ``succeeded``: every row stored (re-importing the same file changes nothing);
* ``refused``: the file had bad rows or could not be read — *every* error is reported
  (row, column, value, reason; the first :data:`~base.MAX_ERRORS` in full) and nothing
  of the file is stored: the loader's savepoint is rolled back;
* ``needs_mapping``: no importer knows the layout (and no mapping was given).

Reading goes on after the first error so that all errors come back at once; records are
no longer stored from then on. Nothing escapes as an exception but database failures:
an importer's own bug is logged and the file refused.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest import importers
from services.ingest.importers.base import ImportContext, KnownAccount, Match
from services.ingest.importers.mapped import MappedImporter
from services.ingest.importers.reading import Book, FileRefused, open_book
from services.ingest.store import loader
from services.ingest.store.loader import DailyMetricRows, LoadCounts, LoadError, Record
from shared.schemas.imports import ColumnMapping
from shared.schemas.ingest import ImportError_, ImportSummary, Source

log = logging.getLogger("balise.ingest.import")

Progress = Callable[[float, str], Awaitable[None]]


@dataclass
class Outcome:
    status: str  # succeeded, refused, needs_mapping
    format: str | None
    counts: LoadCounts | None = None
    errors: list[ImportError_] = field(default_factory=list)
    errors_total: int = 0

    @property
    def refused(self) -> bool:
        return self.status != "succeeded"

    def summary(self) -> ImportSummary:
        c = self.counts
        return ImportSummary(
            format=self.format,
            posts=c.posts if c else 0,
            daily_rows=(c.daily_rows + c.web_rows) if c else 0,
            accounts=c.accounts if c else 0,
            errors=self.errors,
            extra={"errors_total": self.errors_total, **(c.as_dict() if c else {})},
        )


class _Refused(Exception):
    pass


def _refuse(fmt: str | None, reason: str, row: int | None = None) -> Outcome:
    return Outcome("refused", fmt, errors=[ImportError_(row=row, reason=reason)], errors_total=1)


async def import_file(
    db: AsyncSession | AsyncConnection,
    client_id: int,
    path: str | Path,
    *,
    file_name: str | None = None,
    sha256: str | None = None,
    format: str | None = None,
    mapping: ColumnMapping | None = None,
    account: KnownAccount | None = None,
    known: list[KnownAccount] | None = None,
    snapshot_date: dt.date | None = None,
    progress: Progress | None = None,
    batch_size: int = loader.DEFAULT_BATCH,
    validate_first: bool = False,
) -> Outcome:
    """Import ``path`` for ``client_id`` in the caller's transaction (see the module).

    ``validate_first`` reads the whole file once before storing anything, reporting
    progress, and stores it in a second pass without reporting any. SQLite has one
    writer: while the import's transaction is open, nobody (not even the job's progress)
    can write, so on SQLite the job checks first (a refused file then never takes the
    write lock) and stores in one short go.
    """
    name = file_name or Path(path).name
    try:
        book = open_book(path)
    except FileRefused as exc:
        return _refuse(format, exc.reason, exc.row)
    except OSError as exc:
        return _refuse(format, f"the file cannot be read ({exc.strerror or exc})")
    with book:
        try:
            match = _choose(book, format, mapping)
        except FileRefused as exc:
            return _refuse(format, exc.reason, exc.row)
        if isinstance(match, Outcome):
            return match
        fmt = match.importer.name
        if (
            account is not None
            and mapping is None
            and account.network != match.importer.network
            and fmt != "balise_daily_csv"
        ):
            return _refuse(
                fmt,
                f"this is a {match.importer.network} export but the chosen account is a "
                f"{account.network} account",
            )

        def context() -> ImportContext:
            return ImportContext(
                file_name=name,
                provider=match.importer.provider,
                account=account,
                known=known or [],
                snapshot_date=snapshot_date or dt.date.today(),
            )

        source = Source(kind="file", provider=match.importer.provider, file=name)
        if validate_first:
            ctx = context()
            checked, next_report = 0, 20_000
            for rec in _records(match, book, ctx):
                checked += len(rec) if isinstance(rec, DailyMetricRows) else 1
                if progress is not None and checked >= next_report:
                    next_report = checked + 20_000
                    await progress(5 + 55 * book.progress(), f"{checked} rows checked")
            if ctx.errors:
                return Outcome(
                    "refused", fmt, errors=ctx.errors.items, errors_total=ctx.errors.total
                )
            if progress is not None:
                await progress(60, f"{checked} rows checked; storing them")
        ctx = context()

        async def on_batch(counts: LoadCounts) -> None:
            if progress is not None and not validate_first:
                await progress(
                    5 + 90 * book.progress(),
                    f"{counts.daily_rows + counts.web_rows + counts.posts} rows stored",
                )

        try:
            counts = await loader.load(
                db,
                client_id,
                _guarded(match, book, ctx),
                source,
                file_sha256=sha256,
                batch_size=batch_size,
                on_batch=on_batch,
            )
        except _Refused:
            return Outcome("refused", fmt, errors=ctx.errors.items, errors_total=ctx.errors.total)
        except LoadError as exc:
            ctx.errors.add(exc.row, None, None, exc.reason)
            return Outcome("refused", fmt, errors=ctx.errors.items, errors_total=ctx.errors.total)
        if (
            counts.written == 0
            and counts.daily_rows + counts.posts + counts.web_rows + counts.channel_totals == 0
        ):
            return _refuse(fmt, "the file holds no data rows")
        return Outcome("succeeded", fmt, counts=counts)


def _choose(book: Book, format: str | None, mapping: ColumnMapping | None) -> Match | Outcome:
    if mapping is not None:
        importer = MappedImporter(mapping)
        m = importer.detect(
            importers.preview(book, max(importers.PREVIEW_ROWS, mapping.header_row)), book
        )
        if m is None:
            return _refuse(
                "column_mapping",
                "the file's header does not have the columns of the mapping",
                mapping.header_row,
            )
        return m
    if format is not None:
        if format not in importers.BY_NAME:
            return _refuse(
                None, f"unknown format {format!r}; known: {', '.join(sorted(importers.BY_NAME))}"
            )
        m = importers.match_format(book, format)
        if m is None:
            label = importers.BY_NAME[format].label
            return _refuse(format, f"the file's header is not the one of {label}")
        return m
    m = importers.detect(book)
    if m is None:
        return Outcome("needs_mapping", None)
    return m


def _records(match: Match, book: Book, ctx: ImportContext) -> Iterator[Record]:
    """The importer's records; a file that cannot be read on, or an importer's own
    failure, ends the reading with an error in ``ctx.errors`` (never an exception)."""
    try:
        yield from match.importer.records(book, match, ctx)
    except FileRefused as exc:
        ctx.errors.add(exc.row, None, None, exc.reason)
    except Exception:
        log.exception("importer %s failed on %s", match.importer.name, ctx.file_name)
        ctx.errors.add(None, None, None, "the file could not be read (an unexpected error, logged)")


def _guarded(match: Match, book: Book, ctx: ImportContext) -> Iterator[Record]:
    """The records until the first error; then only reading on, to find every error; at
    the end, :class:`_Refused` if there was any (the loader rolls back)."""
    errors = ctx.errors
    for rec in _records(match, book, ctx):
        if not errors:
            yield rec
    if errors:
        raise _Refused()
