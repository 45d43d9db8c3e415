"""The rules of imports: receiving a file, recognising it, mapping an unknown layout, running
the import (job or CLI) and recording its outcome.

An upload is saved under ``var/imports/<client>/`` (hashed on the way) and looked at
right away — only its first rows — to know its format. A known format, or a layout the
client saved a column mapping for, goes straight to the import job; an unknown one waits
for a mapping (``needs_mapping``); an unreadable file is refused at once. The job runs
:func:`run`, which stores the file's rows and the import's outcome in one transaction;
the file is removed once the import has succeeded or been refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import anyio
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest import importers
from services.ingest.importers import pipeline
from services.ingest.importers.mapped import (
    MappedImporter,
    guess_header_row,
    signature,
    suggest,
)
from services.ingest.importers.reading import FileRefused, open_book, preview
from services.ingest.imports import events
from services.ingest.imports import repository as repo
from services.ingest.imports.models import ColumnMappingRow, Import
from shared.clock import utcnow
from shared.errors import Conflict, Invalid, NotFound, PayloadTooLarge
from shared.jobs import JobNames, JobQueue
from shared.metrics_catalogue import CATALOGUE
from shared.schemas.imports import (
    ColumnMapping,
    ColumnMappingPublic,
    ImportPreview,
    ImportPublic,
    ImportStatus,
    MappingSubmit,
)
from shared.schemas.ingest import ImportError_, Network

CHUNK = 1024 * 1024


def public(imp: Import) -> ImportPublic:
    counts = imp.counts or {}
    return ImportPublic(
        id=imp.id or 0,
        client_id=imp.client_id,
        file_name=imp.file_name,
        sha256=imp.sha256,
        size=imp.size,
        format=imp.format,
        status=ImportStatus(imp.status),
        account_id=imp.account_id,
        job_id=imp.job_id,
        counts=counts,
        posts=int(counts.get("posts", 0)),
        daily_rows=int(counts.get("daily_rows", 0)) + int(counts.get("web_rows", 0)),
        accounts=int(counts.get("accounts", 0)),
        errors=[ImportError_.model_validate(e) for e in imp.errors or []],
        errors_total=imp.errors_total,
        snapshot_date=imp.snapshot_date,
        created_at=imp.created_at,
        finished_at=imp.finished_at,
    )


def mapping_public(row: ColumnMappingRow) -> ColumnMappingPublic:
    return ColumnMappingPublic(
        id=row.id or 0,
        client_id=row.client_id,
        name=row.name,
        header=list(row.header),
        mapping=ColumnMapping.model_validate(row.mapping),
        created_at=row.created_at,
    )


def uploads_dir(var_dir: Path, client_id: int) -> Path:
    return var_dir / "imports" / str(client_id)


def stored_file(var_dir: Path, imp: Import) -> Path | None:
    if not imp.stored_path:
        return None
    return var_dir / imp.stored_path


# ------------------------------------------------------------------------ upload


@dataclass
class Inspection:
    """What a look at the first rows of a file says."""

    format: str | None = None
    errors: list[ImportError_] = field(default_factory=list)
    signatures: dict[int, str] = field(default_factory=dict)


def inspect(path: Path, format: str | None) -> Inspection:
    """Recognise the file's format from its first rows (runs in a worker thread)."""
    try:
        book = open_book(path)
    except FileRefused as exc:
        return Inspection(errors=[ImportError_(row=exc.row, reason=exc.reason)])
    with book:
        try:
            sheets = preview(book, importers.PREVIEW_ROWS)
            if format is not None:
                match = importers.BY_NAME[format].detect(sheets, book)
                if match is None or match.score <= 0:
                    label = importers.BY_NAME[format].label
                    return Inspection(
                        errors=[ImportError_(row=None, reason=f"the file is not a {label} export")]
                    )
            else:
                match = importers.detect(book, sheets)
        except FileRefused as exc:
            return Inspection(errors=[ImportError_(row=exc.row, reason=exc.reason)])
        sigs = {n: signature(c) for n, c in sheets[0][1]} if sheets else {}
        return Inspection(format=match.importer.name if match else None, signatures=sigs)


def _save(src: IO[bytes], dest: Path, limit: int) -> tuple[str, int]:
    """Copy an upload to ``dest``, hashing it; refuses one larger than ``limit``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with dest.open("wb") as out:
        while chunk := src.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"The file is larger than {limit // (1024 * 1024)} MB.")
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def safe_name(name: str | None) -> str:
    base = Path((name or "").replace("\\", "/")).name.strip()
    return base[:300] or "upload"


async def receive(
    db: AsyncSession,
    *,
    client_id: int,
    file_name: str | None,
    stream: IO[bytes],
    account_id: int | None,
    format: str | None,
    var_dir: Path,
    max_bytes: int,
    queue: JobQueue,
    created_by: str | None,
) -> Import:
    """Save an uploaded file and start its import (or wait for its column mapping)."""
    if account_id is not None and await repo.account(db, client_id, account_id) is None:
        raise NotFound(f"No account {account_id}")
    if format is not None and format not in importers.BY_NAME:
        raise Invalid(f"Unknown format {format!r}.", known=sorted(importers.BY_NAME))
    folder = uploads_dir(var_dir, client_id)
    dest = folder / uuid.uuid4().hex
    try:
        sha, size = await anyio.to_thread.run_sync(_save, stream, dest, max_bytes)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    if size == 0:
        dest.unlink(missing_ok=True)
        raise Invalid("The file is empty.")
    imp = Import(
        client_id=client_id,
        file_name=safe_name(file_name),
        sha256=sha,
        size=size,
        format=format,
        status=ImportStatus.queued,
        account_id=account_id,
        stored_path=str(dest.relative_to(var_dir)),
        created_by=created_by,
    )
    db.add(imp)
    await db.flush()
    seen = await anyio.to_thread.run_sync(inspect, dest, format)
    if seen.errors:
        await finish(db, imp, pipeline.Outcome("refused", format, errors=seen.errors,
                                               errors_total=len(seen.errors)), var_dir)  # fmt: skip
        return imp
    if seen.format is not None:
        imp.format = seen.format
        await _enqueue(db, imp, queue)
        return imp
    saved = await _saved_mapping(db, client_id, seen.signatures)
    if saved is not None:
        imp.mapping = saved.mapping
        imp.mapping_id = saved.id
        imp.format = MappedImporter.name
        await _enqueue(db, imp, queue)
        return imp
    imp.status = ImportStatus.needs_mapping
    await db.flush()
    return imp


async def _saved_mapping(
    db: AsyncSession, client_id: int, signatures: dict[int, str]
) -> ColumnMappingRow | None:
    if not signatures:
        return None
    for row in await repo.mappings_for(db, client_id, list(set(signatures.values()))):
        header_row = int(row.mapping.get("header_row", 1))
        if signatures.get(header_row) == row.header_signature:
            return row
    return None


async def _enqueue(db: AsyncSession, imp: Import, queue: JobQueue) -> None:
    imp.status = ImportStatus.queued
    job = await queue.enqueue(
        db,
        JobNames.INGEST_IMPORT,
        client_id=imp.client_id,
        args={"import_id": imp.id},
        created_by=imp.created_by,
    )
    imp.job_id = job.id
    db.add(imp)
    await db.flush()


# ------------------------------------------------------------------------ mapping


async def preview_of(imp: Import, var_dir: Path) -> ImportPreview:
    """The first rows of a stored upload, with a suggested mapping."""
    path = stored_file(var_dir, imp)
    if path is None or not path.exists():
        raise Conflict("This import's file is no longer kept; upload it again.")
    return await anyio.to_thread.run_sync(_preview, imp, path)


def _preview(imp: Import, path: Path) -> ImportPreview:
    try:
        book = open_book(path)
    except FileRefused as exc:
        raise Invalid(f"The file cannot be read: {exc.reason}") from exc
    with book:
        try:
            sheets = preview(book, importers.PREVIEW_ROWS)
        except FileRefused as exc:
            raise Invalid(f"The file cannot be read: {exc.reason}") from exc
    name, rows = sheets[0] if sheets else ("", [])
    header_row = guess_header_row(rows)
    header = next((c for n, c in rows if n == header_row), [])
    columns = [str(c) if c is not None else "" for c in header]
    guessed = suggest(header)
    targets = set(guessed.values())
    kind = "posts" if "post_id" in targets else "daily"
    suggested = None
    with contextlib.suppress(ValueError):
        suggested = ColumnMapping(
            kind=kind,
            network=Network.facebook,
            header_row=header_row,
            columns=guessed,
            date_order="dmy" if ";" in (book.delimiter or "") else "ymd",
        )
    return ImportPreview(
        import_id=imp.id or 0,
        sheet=name,
        rows=[[_text(c) for c in r] for _, r in rows],
        header_row=header_row,
        columns=columns,
        suggested=suggested,
        suggested_columns=guessed,
        metrics=sorted(CATALOGUE),
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)[:300]


async def submit_mapping(
    db: AsyncSession, imp: Import, body: MappingSubmit, var_dir: Path, queue: JobQueue
) -> Import:
    """Import a waiting file through a column mapping (saved for next time if asked)."""
    if imp.status != ImportStatus.needs_mapping:
        raise Conflict(f"This import is {imp.status}; only a file waiting for a mapping takes one.")
    path = stored_file(var_dir, imp)
    if path is None or not path.exists():
        raise Conflict("This import's file is no longer kept; upload it again.")
    missing, names = await anyio.to_thread.run_sync(_missing_columns, path, body.mapping)
    if missing:
        raise Invalid(
            f"Row {body.mapping.header_row} of the file has no column named "
            f"{', '.join(repr(m) for m in missing[:5])}.",
            columns=names,
        )
    mapping = body.mapping.model_dump(mode="json")
    if body.save:
        raw = await anyio.to_thread.run_sync(_raw_header, path, body.mapping.header_row)
        row = await repo.save_mapping(
            db,
            imp.client_id,
            name=(body.name or imp.file_name)[:200],
            signature=signature(raw),
            header=[str(c) if c is not None else "" for c in raw],
            mapping=mapping,
        )
        imp.mapping_id = row.id
    imp.mapping = mapping
    imp.format = MappedImporter.name
    await _enqueue(db, imp, queue)
    return imp


def _raw_header(path: Path, header_row: int) -> list[Any]:
    with open_book(path) as book:
        for number, cells_ in preview(book, max(importers.PREVIEW_ROWS, header_row))[0][1]:
            if number == header_row:
                return cells_
    return []


def _missing_columns(path: Path, mapping: ColumnMapping) -> tuple[list[str], list[str]]:
    """Columns of the mapping the file's header row lacks, and the names it has."""
    from services.ingest.importers.base import Header

    try:
        h = Header(_raw_header(path, mapping.header_row))
    except FileRefused as exc:
        raise Invalid(f"The file cannot be read: {exc.reason}") from exc
    return [c for c in mapping.columns if h.index(c) is None], h.original


# ------------------------------------------------------------------------ running


async def run(
    db: AsyncSession,
    imp: Import,
    path: Path,
    *,
    var_dir: Path | None = None,
    progress: pipeline.Progress | None = None,
) -> pipeline.Outcome:
    """Import ``imp``'s file in ``db``'s transaction and record the outcome on ``imp``.

    The file's rows and the import's status are written in the same transaction: the
    caller commits both (or neither)."""
    account = await repo.account(db, imp.client_id, imp.account_id) if imp.account_id else None
    known = await repo.known_accounts(db, imp.client_id)
    first = await repo.first_snapshot(db, imp.client_id, imp.sha256)
    snapshot = first.snapshot_date if first and first.snapshot_date else utcnow().date()
    mapping = ColumnMapping.model_validate(imp.mapping) if imp.mapping else None
    sqlite = (await db.connection()).dialect.name == "sqlite"
    outcome = await pipeline.import_file(
        db,
        imp.client_id,
        path,
        file_name=imp.file_name,
        sha256=imp.sha256,
        format=None if mapping else imp.format,
        mapping=mapping,
        account=repo.known(account) if account else None,
        known=known,
        snapshot_date=snapshot,
        progress=progress,
        # Progress of a job is written by another connection: on SQLite, only possible
        # outside the import's transaction (see pipeline.import_file).
        validate_first=sqlite and progress is not None,
    )
    if outcome.status == "succeeded":
        imp.snapshot_date = snapshot
    await finish(db, imp, outcome, var_dir)
    return outcome


async def finish(
    db: AsyncSession, imp: Import, outcome: pipeline.Outcome, var_dir: Path | None
) -> None:
    """Record an outcome on the import, drop its stored file, announce it."""
    if outcome.status == "needs_mapping":
        imp.status = ImportStatus.needs_mapping
        await db.flush()
        return
    imp.status = ImportStatus.succeeded if outcome.status == "succeeded" else ImportStatus.refused
    imp.format = outcome.format or imp.format
    imp.counts = outcome.counts.as_dict() if outcome.counts else {}
    imp.errors = [e.model_dump() for e in outcome.errors]
    imp.errors_total = outcome.errors_total
    imp.finished_at = utcnow()
    if var_dir is not None:
        path = stored_file(var_dir, imp)
        if path is not None:
            path.unlink(missing_ok=True)
    imp.stored_path = None
    db.add(imp)
    await db.flush()
    await events.emit_import_completed(db, imp)


async def mark_failed(db: AsyncSession, imp: Import, message: str) -> None:
    """The job itself failed (not the file): nothing stored, the file kept for a retry."""
    imp.status = ImportStatus.failed
    imp.errors = [ImportError_(row=None, reason=message[:500]).model_dump()]
    imp.errors_total = 1
    imp.finished_at = utcnow()
    db.add(imp)
    await db.flush()


# ------------------------------------------------------------------------ CLI


def file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return digest.hexdigest(), size


async def resolve_account(db: AsyncSession, client_id: int, ref: str) -> int:
    """The client's account named by ``ref``: its id, or its platform id or handle."""
    if ref.isdigit() and await repo.account(db, client_id, int(ref)) is not None:
        return int(ref)
    wanted = ref.lstrip("@").casefold()
    found = [
        a
        for a in await repo.known_accounts(db, client_id)
        if a.external_id.casefold() == wanted or (a.handle or "").lstrip("@").casefold() == wanted
    ]
    if not found:
        raise NotFound(f"The client has no account {ref!r} (give its id, platform id or handle).")
    if len(found) > 1:
        raise Invalid(f"{ref!r} names several accounts; give the account's id.")
    return found[0].id


async def import_path(
    db: AsyncSession,
    client_id: int,
    path: Path,
    *,
    account: str | None = None,
    format: str | None = None,
    created_by: str | None = "cli",
    progress: pipeline.Progress | None = None,
) -> tuple[Import, pipeline.Outcome]:
    """Import a local file at once (the ``balise import`` command), recorded like an
    upload in the client's import history. The caller commits."""
    if format is not None and format not in importers.BY_NAME:
        raise Invalid(f"Unknown format {format!r}; known: {', '.join(sorted(importers.BY_NAME))}.")
    account_id = await resolve_account(db, client_id, account) if account else None
    sha, size = await anyio.to_thread.run_sync(file_digest, path)
    imp = Import(
        client_id=client_id,
        file_name=safe_name(path.name),
        sha256=sha,
        size=size,
        format=format,
        status=ImportStatus.running,
        account_id=account_id,
        created_by=created_by,
    )
    db.add(imp)
    await db.flush()
    outcome = await run(db, imp, path, progress=progress)
    if outcome.status == "needs_mapping":
        outcome = pipeline.Outcome(
            "refused",
            None,
            errors=[
                ImportError_(
                    row=None,
                    reason="Balise does not know this file's layout: upload it in the web "
                    "interface to map its columns (the mapping is then kept for the next file)",
                )
            ],
            errors_total=1,
        )
        await finish(db, imp, outcome, None)
    return imp, outcome
