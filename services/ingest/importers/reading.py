"""Opening a native export as sheets of rows, streaming.

* **CSV/TSV**: the encoding comes from the byte-order mark (UTF-8, UTF-16LE/BE — Matomo
  writes UTF-16LE with a BOM), else UTF-8 when the start of the file decodes, else
  Windows-1252 (French Excel). The delimiter (``,`` ``;`` tab ``|``) is the one the
  header line uses most, outside quotes. Rows are read one at a time.
* **XLSX**: openpyxl in read-only mode (rows streamed from the sheet's XML). A workbook is
  a zip: one whose parts would decompress to more than :data:`MAX_XLSX_UNCOMPRESSED`
  bytes (a "zip bomb": a small upload, a huge sheet) is refused before any part is
  opened, and reading stops with a refusal past :data:`MAX_XLSX_CELLS` cells (a sheet
  that declares a huge dimension makes openpyxl pad every row to it).
* **XLS**: xlrd; the format caps a sheet at 65,536 rows, so a sheet is bounded.
* A CSV whose last line is cut short (fewer cells than the line before it, and no line
  break at the end of the file) is a truncated download, refused rather than imported
  without its end.

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
#: The largest total a workbook's zip parts may decompress to (their declared sizes, which
#: zipfile enforces while reading). Social networks' XLSX exports are a few MB at most.
MAX_XLSX_UNCOMPRESSED = 256 * 1024 * 1024
#: The most cells read from one sheet in one pass, empty ones included.
MAX_XLSX_CELLS = 10_000_000

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
    complete = _ends_with_line_break(path, size, encoding)
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
                # One row behind, so the last one can be checked before it is handed on.
                held: Row | None = None
                width = 0  # cells of the row before the held one
                for number, cells in enumerate(reader, 1):
                    if held is not None:
                        yield held
                        width = len(held[1])
                    held = (number, cells)
                if held is not None:
                    if not complete and 0 < len(held[1]) < width:
                        raise FileRefused(
                            f"the file ends in the middle of a row ({len(held[1])} cells where "
                            f"the row before has {width}): it looks truncated; export or "
                            "download it again",
                            held[0],
                        )
                    yield held
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


def _ends_with_line_break(path: Path, size: int, encoding: str) -> bool:
    with path.open("rb") as fh:
        fh.seek(max(0, size - 2))
        tail = fh.read()
    if encoding == "utf-16-le":
        return tail in (b"\n\x00", b"\r\x00")
    if encoding == "utf-16-be":
        return tail in (b"\x00\n", b"\x00\r")
    return tail.endswith((b"\n", b"\r"))


# ------------------------------------------------------------------------ XLSX / XLS


def _check_zip(path: Path) -> None:
    """Refuse a workbook whose parts would decompress to more than the limit."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(max(0, info.file_size) for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRefused(f"not a readable XLSX workbook ({type(exc).__name__})") from exc
    if total > MAX_XLSX_UNCOMPRESSED:
        raise FileRefused(
            f"the workbook would decompress to {total // (1024 * 1024)} MB, more than the "
            f"{MAX_XLSX_UNCOMPRESSED // (1024 * 1024)} MB an export can hold; it is refused "
            "unread"
        )


def _open_xlsx(path: Path, size: int) -> Book:
    import zipfile

    from openpyxl import load_workbook

    _check_zip(path)
    # Opened as a file object: given a path, openpyxl refuses any name not ending in
    # .xlsx/.xlsm, and an upload is kept under a random name without a suffix.
    fh = path.open("rb")
    try:
        wb = load_workbook(fh, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        fh.close()
        raise FileRefused(f"not a readable XLSX workbook ({type(exc).__name__})") from exc
    except Exception as exc:  # openpyxl raises assorted errors on damaged XML
        fh.close()
        raise FileRefused(f"not a readable XLSX workbook ({type(exc).__name__})") from exc
    done = {"rows": 0, "total": 0}

    def make(ws: Any) -> Callable[[], Iterator[Row]]:
        def rows() -> Iterator[Row]:
            cells = 0
            try:
                for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                    done["rows"] += 1
                    cells += len(values)
                    if cells > MAX_XLSX_CELLS:
                        raise FileRefused(
                            f"the sheet holds more than {MAX_XLSX_CELLS:,} cells (sheet "
                            f"{ws.title!r} declares {ws.max_row or 0:,} rows × "
                            f"{ws.max_column or 0:,} columns); it is refused",
                            number,
                        )
                    yield number, list(values)
            except FileRefused:
                raise
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
        path=path,
        kind="xlsx",
        sheets=sheets,
        size=size,
        _position=position,
        _close=[wb.close, fh.close],
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
