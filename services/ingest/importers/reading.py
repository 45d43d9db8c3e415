"""Opening a native export as sheets of rows, streaming.

* **CSV/TSV**: the encoding comes from the byte-order mark (UTF-8, UTF-16LE/BE — Matomo
  writes UTF-16LE with a BOM), else UTF-8 when the start of the file decodes, else
  Windows-1252 (French Excel). The delimiter (``,`` ``;`` tab ``|``) is the one the
  header line uses most, outside quotes. Rows are read one at a time.
* **XLSX**: openpyxl in read-only mode (rows streamed from the sheet's XML).
* **XLS**: xlrd; the format caps a sheet at 65,536 rows, so a sheet is bounded.

Rows are numbered as a spreadsheet shows them (1-based; a quoted multi-line cell is one
row), which is what error reports and sources cite.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

MAGIC_ZIP = b"PK\x03\x04"
MAGIC_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")

Row = tuple[int, list[Any]]

# A CSV field longer than this is not an export cell but a broken file; the limit also
# bounds the memory one row can take.
csv.field_size_limit(1_000_000)


class FileRefused(Exception):
    """The file cannot be read as a table at all (not CSV/XLSX/XLS, corrupt, empty)."""

    def __init__(self, reason: str, row: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.row = row


@dataclass
class Sheet:
    """One table source: a CSV file, or one worksheet of a workbook."""

    name: str
    _open: Callable[[], Iterator[Row]] = field(repr=False)

    def rows(self) -> Iterator[Row]:
        """The rows from the top, as ``(row number, cells)``; a new pass each call."""
        return self._open()


@dataclass
class Book:
    """An opened export: its kind, its sheets, and how far reading has got."""

    path: Path
    kind: str  # csv, xlsx or xls
    sheets: list[Sheet]
    encoding: str | None = None
    delimiter: str | None = None
    size: int = 0
    _position: Callable[[], int] = field(default=lambda: 0, repr=False)
    _close: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def decimal_comma(self) -> bool | None:
        """French Excel writes ``;``-separated files with decimal commas; in a
        ``,``-separated file a comma inside a number can only group thousands."""
        if self.delimiter == ";":
            return True
        if self.delimiter == ",":
            return False
        return None

    def progress(self) -> float:
        """Fraction of the file read so far (0–1), for job progress."""
        if not self.size:
            return 0.0
        return max(0.0, min(1.0, self._position() / self.size))

    def close(self) -> None:
        for fn in self._close:
            fn()
        self._close.clear()

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_book(path: str | os.PathLike[str]) -> Book:
    """Open ``path`` as a :class:`Book`; :class:`FileRefused` when it is no table."""
    p = Path(path)
    size = p.stat().st_size
    if size == 0:
        raise FileRefused("the file is empty")
    with p.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith(MAGIC_ZIP):
        return _open_xlsx(p, size)
    if head.startswith(MAGIC_OLE):
        return _open_xls(p, size)
    return _open_csv(p, size, head)


# ------------------------------------------------------------------------ CSV


def sniff_encoding(head: bytes) -> tuple[str, int]:
    """``(codec, BOM length)`` for the start of a text file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    sample = head[:4096]
    if sample:
        # UTF-16 without a BOM: every other byte of ASCII text is NUL.
        even_nul = sample[0::2].count(0) / max(1, len(sample[0::2]))
        odd_nul = sample[1::2].count(0) / max(1, len(sample[1::2]))
        if odd_nul > 0.4 and even_nul < 0.1:
            return "utf-16-le", 0
        if even_nul > 0.4 and odd_nul < 0.1:
            return "utf-16-be", 0
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8", 0
    except UnicodeDecodeError:
        return "cp1252", 0


def sniff_delimiter(text: str) -> str:
    """The delimiter the header line uses most, counted outside quotes."""
    for line in _logical_lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        counts = dict.fromkeys(DELIMITERS, 0)
        quoted = False
        for ch in line:
            if ch == '"':
                quoted = not quoted
            elif not quoted and ch in counts:
                counts[ch] += 1
        best = max(DELIMITERS, key=lambda d: counts[d])
        return best if counts[best] else ","
    return ","


def _logical_lines(text: str) -> Iterator[str]:
    """Lines of ``text``, a quoted newline kept inside its line."""
    buf: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "\n" and not quoted:
            yield "".join(buf)
            buf = []
        else:
            buf.append(ch)
    if buf:
        yield "".join(buf)


def _open_csv(path: Path, size: int, head: bytes) -> Book:
    encoding, bom = sniff_encoding(head)
    sample = head[bom:]
    if encoding.startswith("utf-16") and len(sample) % 2:
        sample = sample[:-1]
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    if "\x00" in text:
        raise FileRefused("the file holds binary data, not text (NUL bytes)")
    delimiter = sniff_delimiter(text)
    handles: list[IO[bytes]] = []

    def rows() -> Iterator[Row]:
        raw = path.open("rb")
        handles.append(raw)
        raw.seek(bom)
        stream = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
        reader = csv.reader(stream, delimiter=delimiter, quotechar='"', strict=False)
        number = 0
        try:
            try:
                for number, cells in enumerate(reader, 1):
                    yield number, cells
            except csv.Error as exc:
                raise FileRefused(f"unreadable CSV: {exc}", number + 1) from exc
            except UnicodeDecodeError as exc:
                raise FileRefused(
                    f"the text is not valid {encoding.upper()} (byte {exc.start} of a "
                    f"chunk); save the file as UTF-8",
                    number + 1,
                ) from exc
        finally:
            stream.close()

    def position() -> int:
        for h in reversed(handles):
            if not h.closed:
                return h.tell()
        return size

    def close() -> None:
        for h in handles:
            h.close()

    return Book(
        path=path,
        kind="csv",
        sheets=[Sheet(path.name, rows)],
        encoding=encoding,
        delimiter=delimiter,
        size=size,
        _position=position,
        _close=[close],
    )


# ------------------------------------------------------------------------ XLSX / XLS


def _open_xlsx(path: Path, size: int) -> Book:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise FileRefused(f"not a readable XLSX workbook ({type(exc).__name__})") from exc
    except Exception as exc:  # openpyxl raises assorted errors on damaged XML
        raise FileRefused(f"not a readable XLSX workbook ({type(exc).__name__})") from exc
    done = {"rows": 0, "total": 0}

    def make(ws: Any) -> Callable[[], Iterator[Row]]:
        def rows() -> Iterator[Row]:
            try:
                for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                    done["rows"] += 1
                    yield number, list(values)
            except Exception as exc:  # damaged sheet XML
                raise FileRefused(f"damaged worksheet {ws.title!r} ({type(exc).__name__})") from exc

        return rows

    sheets = [Sheet(ws.title, make(ws)) for ws in wb.worksheets]
    for ws in wb.worksheets:
        done["total"] += ws.max_row or 0

    def position() -> int:
        total = done["total"] or 1
        return int(size * min(1.0, done["rows"] / total))

    return Book(
        path=path, kind="xlsx", sheets=sheets, size=size, _position=position, _close=[wb.close]
    )


def _open_xls(path: Path, size: int) -> Book:
    import xlrd

    try:
        wb = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:  # xlrd raises XLRDError and assorted struct errors
        raise FileRefused(f"not a readable XLS workbook ({type(exc).__name__})") from exc
    done = {"rows": 0, "total": 0}

    def make(index: int, name: str) -> Callable[[], Iterator[Row]]:
        def rows() -> Iterator[Row]:
            try:
                sh = wb.sheet_by_index(index)
            except Exception as exc:
                raise FileRefused(f"damaged worksheet {name!r} ({type(exc).__name__})") from exc
            done["total"] += sh.nrows
            for r in range(sh.nrows):
                done["rows"] += 1
                yield r + 1, [_xls_value(c, wb.datemode) for c in sh.row(r)]
            wb.unload_sheet(index)

        return rows

    sheets = [Sheet(name, make(i, name)) for i, name in enumerate(wb.sheet_names())]

    def position() -> int:
        total = done["total"] or 1
        return int(size * min(1.0, done["rows"] / total))

    return Book(
        path=path,
        kind="xls",
        sheets=sheets,
        size=size,
        _position=position,
        _close=[wb.release_resources],
    )


def _xls_value(cell: Any, datemode: int) -> Any:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_EMPTY or cell.ctype == xlrd.XL_CELL_BLANK:
        return None
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            value: dt.datetime = xlrd.xldate_as_datetime(cell.value, datemode)
            return value
        except Exception:
            return cell.value
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return None
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    return cell.value


def preview(book: Book, rows: int = 12) -> list[tuple[str, list[Row]]]:
    """The first ``rows`` rows of every sheet (what detection and the mapping step see)."""
    out: list[tuple[str, list[Row]]] = []
    for sheet in book.sheets:
        taken: list[Row] = []
        it = sheet.rows()
        try:
            for row in it:
                taken.append(row)
                if len(taken) >= rows:
                    break
        finally:
            close = getattr(it, "close", None)
            if close:
                close()
        out.append((sheet.name, taken))
    return out
