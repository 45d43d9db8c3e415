"""CSV import and export of the relay directory.

Import reads the headers in English or French (``name``/``nom``, ``topics``/``sujets``…),
one column per network holding a handle or a profile URL, a BOM, and ``,`` ``;`` or tab
delimiters. It is all-or-nothing: every problem (row, column, value, reason) is returned
at once and nothing is stored while there is one.

Export neutralises formula injection: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return is prefixed with ``'`` so a spreadsheet shows it as text (OWASP's
advice for CSV injection).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from services.benchmark.relays.matching import handle_key
from services.benchmark.relays.models import RelationshipStatus, RelayKind
from services.benchmark.relays.schemas import ImportRowIssue, RelayAccountIn, RelayCreate
from shared.schemas.ingest import SOCIAL_NETWORKS, Network
from shared.spreadsheet import csv_cell

MAX_ROWS = 20_000
NETWORK_COLUMNS = [n.value for n in SOCIAL_NETWORKS]
COLUMNS = ["name", "kind", "language", "region", "topics", "status", "email", "bio", "notes"]
EXPORT_COLUMNS = [
    "id",
    *COLUMNS,
    *NETWORK_COLUMNS,
    "followers",
    "tier",
    "composite",
    "reach",
    "resonance",
    "authenticity",
    "activity",
]

ALIASES = {
    "nom": "name",
    "type": "kind",
    "genre": "kind",
    "langue": "language",
    "région": "region",
    "region": "region",
    "sujets": "topics",
    "thèmes": "topics",
    "themes": "topics",
    "topic": "topics",
    "statut": "status",
    "courriel": "email",
    "e-mail": "email",
    "biographie": "bio",
    "notes": "notes",
    "twitter": "x",
    "x (twitter)": "x",
}
STATUS_ALIASES = {
    "à contacter": "to_contact",
    "a contacter": "to_contact",
    "contacté": "contacted",
    "contacte": "contacted",
    "a relayé": "relayed",
    "relayé": "relayed",
    "partenaire": "partner",
    "cocréateur": "co_creator",
    "co-créateur": "co_creator",
    "co-creator": "co_creator",
    "refusé": "declined",
    "décliné": "declined",
}
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060\ufeff]")
_URL_HANDLE = re.compile(r"^https?://(?:www\.|m\.)?[^/]+/(?:@|c/|user/|in/|company/)?([^/?#]+)")


def _header(h: str) -> str:
    h = _INVISIBLE.sub("", unicodedata.normalize("NFC", h)).strip().casefold()
    return ALIASES.get(h, h)


def _handle(value: str) -> str:
    value = value.strip()
    m = _URL_HANDLE.match(value)
    return (m.group(1) if m else value).lstrip("@").strip()


@dataclass
class Parsed:
    rows: list[tuple[int, RelayCreate]] = field(default_factory=list)
    errors: list[ImportRowIssue] = field(default_factory=list)


def parse(data: bytes) -> Parsed:
    """Every valid row as a :class:`RelayCreate`, and every problem found."""
    out = Parsed()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            out.errors.append(ImportRowIssue(row=None, reason="The file is not UTF-8 text."))
            return out
    if not text.strip():
        out.errors.append(ImportRowIssue(row=None, reason="The file is empty."))
        return out
    first = text.splitlines()[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [_header(h) for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        out.errors.append(ImportRowIssue(row=1, reason=f"Unreadable header: {exc}"))
        return out
    if "name" not in header:
        out.errors.append(
            ImportRowIssue(row=1, column="name", reason="A 'name' (or 'nom') column is required.")
        )
        return out
    unknown = [h for h in header if h and h not in COLUMNS and h not in NETWORK_COLUMNS]
    for h in unknown:
        out.errors.append(ImportRowIssue(row=1, column=h, reason="Unknown column."))
    seen_handles: dict[tuple[str, str], int] = {}
    line = 1
    try:
        for values in reader:
            line += 1
            if not any(v.strip() for v in values):
                continue
            if len(out.rows) + len(out.errors) > MAX_ROWS:
                out.errors.append(
                    ImportRowIssue(row=line, reason=f"More than {MAX_ROWS} rows: split the file.")
                )
                break
            if len(values) > len(header):
                out.errors.append(
                    ImportRowIssue(row=line, reason="More cells than the header has columns.")
                )
                continue
            cells = dict(zip(header, (v.strip() for v in values), strict=False))
            _row(line, cells, out, seen_handles)
    except csv.Error as exc:
        out.errors.append(ImportRowIssue(row=line, reason=f"Malformed CSV: {exc}"))
    return out


def _row(line: int, cells: dict[str, str], out: Parsed, seen: dict[tuple[str, str], int]) -> None:
    errors: list[ImportRowIssue] = []
    accounts = []
    for net in NETWORK_COLUMNS:
        raw = cells.get(net, "")
        if not raw:
            continue
        h = _handle(raw)
        key = handle_key(h)
        if not key:
            errors.append(ImportRowIssue(row=line, column=net, value=raw, reason="Not a handle."))
            continue
        if (net, key) in seen:
            errors.append(
                ImportRowIssue(
                    row=line,
                    column=net,
                    value=raw,
                    reason=f"Same {net} handle as row {seen[(net, key)]}.",
                )
            )
            continue
        seen[(net, key)] = line
        url = raw if raw.startswith("http") else None
        accounts.append(RelayAccountIn(network=Network(net), handle=h, url=url))
    status = cells.get("status", "").casefold()
    status = STATUS_ALIASES.get(status, status.replace(" ", "_")) or "to_contact"
    kind = cells.get("kind", "").casefold() or "person"
    for col, value, allowed in (
        ("status", status, [s.value for s in RelationshipStatus]),
        ("kind", kind, [k.value for k in RelayKind]),
    ):
        if value not in allowed:
            errors.append(
                ImportRowIssue(
                    row=line,
                    column=col,
                    value=cells.get(col),
                    reason=f"Expected one of: {', '.join(allowed)}.",
                )
            )
    if errors:
        out.errors.extend(errors)
        return
    topics = [t for t in re.split(r"[;|,]", cells.get("topics", "")) if t.strip()]
    try:
        body = RelayCreate(
            name=cells.get("name", ""),
            kind=RelayKind(kind),
            language=cells.get("language", "").casefold() or None,
            region=cells.get("region") or None,
            topics=topics,
            status=RelationshipStatus(status),
            email=cells.get("email") or None,
            bio=cells.get("bio") or None,
            notes=cells.get("notes") or None,
            accounts=accounts,
        )
    except ValidationError as exc:
        for e in exc.errors():
            column = str(e["loc"][0]) if e["loc"] else None
            out.errors.append(
                ImportRowIssue(
                    row=line,
                    column=column,
                    value=cells.get(column or ""),
                    reason=e["msg"],
                )
            )
        return
    out.rows.append((line, body))


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (:mod:`shared.spreadsheet`)."""
    return csv_cell(value)


def write(rows: Iterable[dict[str, object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(EXPORT_COLUMNS)
    for r in rows:
        w.writerow([safe_cell(r.get(c)) for c in EXPORT_COLUMNS])
    return "\ufeff" + buf.getvalue()  # a BOM so Excel reads UTF-8
