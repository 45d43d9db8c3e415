"""What every importer shares: the context of one import, its error log, header
matching, and the importer interface.

An importer turns the rows of one native export into canonical records
(``shared/schemas/ingest.py``). It never stores anything and never stops at the first
bad row: it logs every error (row, column, value, reason) and carries on, so that a
refused file comes back with all its problems at once. The pipeline stores nothing of a
file whose log is not empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from services.ingest.importers import cells
from services.ingest.importers.reading import Book, Row
from services.ingest.store.loader import Record
from shared.schemas.ingest import AccountRef, ImportError_, Network, Source

MAX_ERRORS = 1000


class ErrorLog:
    """Every problem found in a file. Keeps the first :data:`MAX_ERRORS` in full (memory
    stays bounded whatever the file) and counts all of them."""

    def __init__(self, limit: int = MAX_ERRORS) -> None:
        self.items: list[ImportError_] = []
        self.total = 0
        self.limit = limit

    def add(
        self,
        row: int | None,
        column: str | None,
        value: Any,
        reason: str,
    ) -> None:
        self.total += 1
        if len(self.items) < self.limit:
            shown = None if value is None else str(value)
            if shown is not None and len(shown) > 200:
                shown = shown[:200] + "…"
            self.items.append(ImportError_(row=row, column=column, value=shown, reason=reason))

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total


@dataclass
class KnownAccount:
    """An account the client already has, that an import may belong to."""

    id: int
    network: str
    external_id: str
    handle: str | None = None
    name: str | None = None
    timezone: str = "America/Toronto"


@dataclass
class ImportContext:
    """Everything an importer needs to know about the import besides the file."""

    file_name: str
    provider: str = "file"
    #: the account the user said the file belongs to (``--account``), if any
    account: KnownAccount | None = None
    #: the client's accounts, to recognise one by its id, handle or name
    known: list[KnownAccount] = field(default_factory=list)
    #: when the per-post figures were observed (kept per file content: a re-import of
    #: the same file gives the same snapshot)
    snapshot_date: dt.date = field(default_factory=lambda: dt.date.today())
    timezone: str = "America/Toronto"
    errors: ErrorLog = field(default_factory=ErrorLog)
    _refs: dict[tuple[Any, ...], AccountRef | None] = field(default_factory=dict, repr=False)

    @property
    def tz(self) -> dt.tzinfo:
        tzname = self.account.timezone if self.account else self.timezone
        try:
            return ZoneInfo(tzname)
        except Exception:
            return ZoneInfo("America/Toronto")

    def source(self, row: int | None) -> Source:
        return Source(kind="file", provider=self.provider, file=self.file_name, row=row)

    def cached_ref(
        self,
        network: Network,
        external_id: str | None,
        handle: str | None = None,
        name: str | None = None,
    ) -> AccountRef | None:
        """:meth:`account_ref`, one object per account of the file (the loader keys its
        account cache on the object)."""
        key = (str(network), external_id, handle, name)
        if key not in self._refs:
            self._refs[key] = self.account_ref(
                network, external_id=external_id, handle=handle, name=name
            )
        return self._refs[key]

    def account_ref(
        self,
        network: Network,
        *,
        external_id: str | None = None,
        handle: str | None = None,
        name: str | None = None,
    ) -> AccountRef | None:
        """The account rows belong to: the one given for the import, else a known account
        matching the file's id, handle or name, else a new one with the file's id (or its
        handle/name when the export carries no id). ``None`` when nothing identifies it."""
        if self.account is not None:
            return AccountRef(
                network=Network(self.account.network),
                external_id=self.account.external_id,
                name=self.account.name,
                handle=self.account.handle,
            )
        handle = handle.lstrip("@") if handle else handle
        for acc in self.known:
            if acc.network != network:
                continue
            if (
                (external_id and acc.external_id == external_id)
                or (handle and (acc.handle or "").lstrip("@").casefold() == handle.casefold())
                or (handle and acc.external_id.casefold() == handle.casefold())
                or (not external_id and name and (acc.name or "").casefold() == name.casefold())
            ):
                return AccountRef(
                    network=network, external_id=acc.external_id, name=acc.name, handle=acc.handle
                )
        ext = external_id or handle or name
        if not ext:
            return None
        return AccountRef(network=network, external_id=ext, name=name, handle=handle)


class Header:
    """A header row: original names (for messages) and normalised ones (for matching)."""

    def __init__(self, cells_: Sequence[Any]) -> None:
        self.original = [cells.clean_text(c) for c in cells_]
        self.norm = [cells.norm_header(c) for c in cells_]
        while self.norm and not self.norm[-1]:
            self.norm.pop()
            self.original.pop()

    def __len__(self) -> int:
        return len(self.norm)

    def index(self, *aliases: str) -> int | None:
        """Position of the first column named like one of ``aliases`` (in their order)."""
        for alias in aliases:
            a = cells.norm_header(alias)
            if a in self.norm:
                return self.norm.index(a)
        return None

    def indexes(self, alias: str) -> list[int]:
        a = cells.norm_header(alias)
        return [i for i, n in enumerate(self.norm) if n == a]

    def has(self, *names: str) -> bool:
        return all(cells.norm_header(n) in self.norm for n in names)

    def count(self, names: Sequence[str]) -> int:
        return sum(1 for n in names if cells.norm_header(n) in self.norm)

    def name(self, i: int) -> str:
        return self.original[i] if i < len(self.original) else f"column {i + 1}"


@dataclass
class Match:
    """Where an importer recognised its layout in a file, and how surely."""

    importer: Importer
    score: float
    sheet: int = 0
    header_row: int = 1  # 1-based row number of the header
    header: Header | None = None
    #: what the importer learnt while detecting (e.g. a GA4 report's dates)
    info: dict[str, Any] = field(default_factory=dict)


class RowReader:
    """Typed, error-logging access to the cells of one data row."""

    __slots__ = ("cells", "ctx", "decimal_comma", "header", "ok", "row")

    def __init__(
        self,
        ctx: ImportContext,
        header: Header,
        row: int,
        cells_: list[Any],
        decimal_comma: bool | None,
    ) -> None:
        self.ctx = ctx
        self.header = header
        self.row = row
        self.cells = cells_
        self.decimal_comma = decimal_comma
        self.ok = True

    def raw(self, i: int | None) -> Any:
        if i is None or i >= len(self.cells):
            return None
        return self.cells[i]

    def fail(self, i: int | None, value: Any, reason: str) -> None:
        self.ok = False
        self.ctx.errors.add(self.row, self.header.name(i) if i is not None else None, value, reason)

    def text(self, i: int | None) -> str | None:
        v = self.raw(i)
        if v is None:
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        s = v if isinstance(v, str) else str(v)
        s = s.replace("\r\n", "\n").strip()
        return None if cells.is_missing(s) else s

    def number(self, i: int | None) -> float | None:
        v = self.raw(i)
        try:
            return cells.parse_number(v, self.decimal_comma)
        except cells.CellError as exc:
            self.fail(i, v, exc.reason)
            return None

    def duration(self, i: int | None) -> float | None:
        v = self.raw(i)
        try:
            return cells.parse_duration(v, self.decimal_comma)
        except cells.CellError as exc:
            self.fail(i, v, exc.reason)
            return None

    def day(self, i: int | None, order: str = "mdy") -> dt.date | None:
        v = self.raw(i)
        try:
            return cells.parse_day(v, order)
        except cells.CellError as exc:
            self.fail(i, v, exc.reason)
            return None

    def moment(self, i: int | None, order: str = "mdy") -> dt.datetime | None:
        v = self.raw(i)
        try:
            return cells.parse_moment(v, self.ctx.tz, order)
        except cells.CellError as exc:
            self.fail(i, v, exc.reason)
            return None

    def blank(self) -> bool:
        return all(cells.is_missing(c) for c in self.cells)


class Importer:
    """Base of the importers: one per native export format (``importers/<format>.py``)."""

    #: stable name (``--format``), e.g. ``"x_tweet_activity"``
    name: ClassVar[str]
    #: what a person calls it
    label: ClassVar[str]
    network: ClassVar[Network]
    #: the ``Source.provider`` of its rows
    provider: ClassVar[str]

    def detect(self, sheets: list[tuple[str, list[Row]]], book: Book) -> Match | None:
        """Recognise the layout from the first rows of each sheet (and the file name)."""
        raise NotImplementedError

    def records(self, book: Book, match: Match, ctx: ImportContext) -> Iterator[Record]:
        """Yield the file's canonical records, logging every bad row in ``ctx.errors``."""
        raise NotImplementedError

    # helpers -----------------------------------------------------------------------

    def find_header(
        self,
        rows: list[Row],
        required: Sequence[str],
        *,
        within: int = 6,
    ) -> tuple[int, Header] | None:
        """The first of the top ``within`` rows that has every ``required`` column."""
        for number, row_cells in rows[:within]:
            h = Header(row_cells)
            if h.has(*required):
                return number, h
        return None

    def data_rows(self, book: Book, match: Match) -> Iterator[Row]:
        """Rows after the header of the matched sheet."""
        for number, row_cells in book.sheets[match.sheet].rows():
            if number > match.header_row:
                yield number, row_cells


def require_account(ctx: ImportContext, ref: AccountRef | None, what: str) -> AccountRef | None:
    """Log a whole-file error when nothing says which account a file belongs to."""
    if ref is None:
        ctx.errors.add(
            None,
            None,
            None,
            f"{what} does not say which account it belongs to: choose the account "
            "(--account ID, or account_id in the API)",
        )
    return ref
