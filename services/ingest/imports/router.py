"""Imports of native export files (``/v1/clients/{client_id}/imports``, ``/v1/imports/…``)
and saved column mappings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile

from services.ingest import importers
from services.ingest.imports import repository as repo
from services.ingest.imports import service
from services.ingest.imports.models import ColumnMappingRow, Import
from shared.auth import Principal, PrincipalDep, WriterDep
from shared.db import SessionDep
from shared.errors import NotFound
from shared.schemas.common import Page, decode_cursor, encode_cursor
from shared.schemas.imports import (
    ColumnMappingPublic,
    FormatPublic,
    ImportPreview,
    ImportPublic,
    MappingSubmit,
)

router = APIRouter(prefix="/v1", tags=["imports"])


def _var_dir(request: Request) -> Path:
    return Path(request.app.state.settings.var_dir)


async def import_or_404(import_id: int, session: SessionDep, principal: PrincipalDep) -> Import:
    imp = await repo.get(session, import_id)
    if imp is None or not principal.sees(imp.client_id):
        raise NotFound(f"No import {import_id}")
    return imp


ImportDep = Annotated[Import, Depends(import_or_404)]


@router.get("/import-formats", response_model=list[FormatPublic], summary="Known export formats")
async def formats(principal: PrincipalDep) -> list[FormatPublic]:
    return [
        FormatPublic(name=i.name, label=i.label, network=i.network) for i in importers.IMPORTERS
    ]


@router.post(
    "/clients/{client_id}/imports",
    response_model=ImportPublic,
    status_code=202,
    summary="Upload an export file: its import runs as a job (or waits for a column mapping)",
    description=(
        "Multipart form: `file`, and optionally `account_id` (the account the file belongs "
        "to, required for exports that do not name it) and `format` (skip detection). "
        "The answer's `status` is `queued` (follow `job_id`), `needs_mapping` (unknown "
        "layout: see `/preview`, then post a mapping) or `refused` (unreadable: `errors`)."
    ),
)
async def upload(
    client_id: int,
    request: Request,
    session: SessionDep,
    principal: WriterDep,
    file: Annotated[UploadFile, File(description="the export (CSV, TSV, XLSX or XLS)")],
    account_id: Annotated[int | None, Form()] = None,
    format: Annotated[str | None, Form(max_length=60)] = None,
) -> ImportPublic:
    principal.require_client(client_id)
    imp = await service.receive(
        session,
        client_id=client_id,
        file_name=file.filename,
        stream=file.file,
        account_id=account_id,
        format=format or None,
        var_dir=_var_dir(request),
        max_bytes=request.app.state.settings.max_upload_bytes,
        queue=request.app.state.queue,
        created_by=_who(principal),
    )
    return service.public(imp)


@router.get(
    "/clients/{client_id}/imports",
    response_model=Page[ImportPublic],
    summary="The client's imports, newest first",
)
async def list_imports(
    client_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ImportPublic]:
    principal.require_client(client_id)
    after = decode_cursor(cursor)
    before = int(after["id"]) if after and str(after.get("id", "")).isdigit() else None
    rows = await repo.list_for_client(session, client_id, before_id=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor({"id": rows[-1].id}) if more and rows else None
    return Page[ImportPublic](data=[service.public(r) for r in rows], next_cursor=nxt)


@router.get("/imports/{import_id}", response_model=ImportPublic, summary="One import")
async def get_import(imp: ImportDep) -> ImportPublic:
    return service.public(imp)


@router.get(
    "/imports/{import_id}/preview",
    response_model=ImportPreview,
    summary="The first rows of a file waiting for its column mapping",
)
async def get_preview(imp: ImportDep, request: Request) -> ImportPreview:
    return await service.preview_of(imp, _var_dir(request))


@router.post(
    "/imports/{import_id}/mapping",
    response_model=ImportPublic,
    status_code=202,
    summary="Import a waiting file through a column mapping (saved for the next file)",
)
async def post_mapping(
    imp: ImportDep,
    body: MappingSubmit,
    request: Request,
    session: SessionDep,
    principal: WriterDep,
) -> ImportPublic:
    imp = await service.submit_mapping(
        session, imp, body, _var_dir(request), request.app.state.queue
    )
    return service.public(imp)


@router.get(
    "/clients/{client_id}/column-mappings",
    response_model=list[ColumnMappingPublic],
    summary="The client's saved column mappings",
)
async def list_mappings(
    client_id: int, session: SessionDep, principal: PrincipalDep
) -> list[ColumnMappingPublic]:
    principal.require_client(client_id)
    return [service.mapping_public(r) for r in await repo.mappings_for(session, client_id)]


@router.delete(
    "/column-mappings/{mapping_id}", status_code=204, summary="Forget a saved column mapping"
)
async def delete_mapping(mapping_id: int, session: SessionDep, principal: WriterDep) -> Response:
    row: ColumnMappingRow | None = await repo.get_mapping(session, mapping_id)
    if row is None or not principal.sees(row.client_id):
        raise NotFound(f"No column mapping {mapping_id}")
    await session.delete(row)
    await session.flush()
    return Response(status_code=204)


def _who(principal: Principal) -> str:
    return f"{principal.kind}:{principal.subject}"[:64]
