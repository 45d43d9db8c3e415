"""The imports page of the Analyse step: upload an export, map an unknown layout, follow the
import job, read the history and every error of a refused file."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from services.web.dependencies import ClientDep, IngestClientDep, ViewerDep
from services.web.models import Client
from services.web.panels import Panel, panel, panels
from services.web.templating import hx_trigger, render
from shared.errors import Forbidden, NotFound
from shared.schemas.imports import FIELD_TARGETS, ColumnMapping, ImportPublic, MappingSubmit
from shared.schemas.ingest import Network

router = APIRouter(include_in_schema=False)

TEMPLATE = "imports/index.html"
ACTIVE = ("queued", "running")


def _base(client: Client) -> str:
    return f"/c/{client.slug}/analyse/imports"


def _can_write(viewer: Any) -> bool:
    return bool(viewer.user.role != "client_viewer")


async def _history(ingest: Any, token: str, client_id: int) -> Panel[Any]:
    return await panel("ingest", ingest.imports(token, client_id))


@router.get("/c/{slug}/analyse/imports", response_class=HTMLResponse)
async def imports_page(
    request: Request, viewer: ViewerDep, client: ClientDep, ingest: IngestClientDep
) -> Response:
    token = viewer.token()
    cid = client.id or 0
    loaded = await panels(
        {
            "ingest:history": ingest.imports(token, cid),
            "ingest:accounts": ingest.import_accounts(token, cid),
            "ingest:formats": ingest.import_formats(token),
        }
    )
    return render(request, TEMPLATE, _context(client, viewer, loaded))


def _context(
    client: Client, viewer: Any, loaded: dict[str, Panel[Any]], **extra: Any
) -> dict[str, Any]:
    history = loaded.get("ingest:history")
    active = False
    if history is not None and history.ok and history.data is not None:
        active = any(i.status in ACTIVE for i in history.data.data)
    return {
        "base": _base(client),
        "history": history,
        "active": active,
        "accounts": loaded.get("ingest:accounts"),
        "formats": loaded.get("ingest:formats"),
        "can_write": _can_write(viewer),
        "result": None,
        **extra,
    }


@router.get("/c/{slug}/analyse/imports/history", response_class=HTMLResponse)
async def history_fragment(
    request: Request, viewer: ViewerDep, client: ClientDep, ingest: IngestClientDep
) -> Response:
    history = await _history(ingest, viewer.token(), client.id or 0)
    ctx = _context(client, viewer, {"ingest:history": history})
    return render(request, TEMPLATE, ctx, block="history")


@router.post("/c/{slug}/analyse/imports", response_class=HTMLResponse)
async def upload(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    file: Annotated[UploadFile, File()],
    account_id: Annotated[str, Form()] = "",
    format: Annotated[str, Form()] = "",
) -> Response:
    if not _can_write(viewer):
        raise Forbidden("A client viewer cannot import files.")
    token = viewer.token()
    p = await panel(
        "ingest",
        ingest.upload_import(
            token,
            client.id or 0,
            file_name=file.filename or "upload",
            stream=file.file,
            content_type=file.content_type,
            account_id=int(account_id) if account_id.isdigit() else None,
            format=format or None,
        ),
    )
    result = await _result(ingest, token, p)
    resp = await _render_result(request, client, viewer, ingest, result)
    return hx_trigger(resp, {"imports-changed": True}) if p.ok else resp


async def _result(ingest: Any, token: str, p: Panel[ImportPublic]) -> dict[str, Any]:
    """What to show after an upload or a mapping: the job, the mapping step or the errors."""
    out: dict[str, Any] = {"panel": p, "imp": p.data, "job": None, "preview": None}
    imp = p.data
    if imp is None:
        return out
    if imp.job_id:
        out["job"] = await panel("ingest", ingest.job(token, imp.job_id))
    if imp.status == "needs_mapping":
        out["preview"] = await panel("ingest", ingest.import_preview(token, imp.id))
    return out


async def _render_result(
    request: Request,
    client: Client,
    viewer: Any,
    ingest: Any,
    result: dict[str, Any],
    status_code: int = 200,
) -> Response:
    token = viewer.token()
    loaded: dict[str, Panel[Any]] = {}
    if not request.headers.get("hx-request"):
        # A plain form post (no JavaScript): the whole page, with the result in it.
        loaded = await panels(
            {
                "ingest:history": ingest.imports(token, client.id or 0),
                "ingest:accounts": ingest.import_accounts(token, client.id or 0),
                "ingest:formats": ingest.import_formats(token),
            }
        )
    ctx = _context(client, viewer, loaded, result=result, **_mapping_choices())
    return render(request, TEMPLATE, ctx, block="result", status_code=status_code)


def _mapping_choices() -> dict[str, Any]:
    from shared.metrics_catalogue import CATALOGUE

    return {
        "field_targets": [t for t in FIELD_TARGETS if t != "ignore"],
        "metric_names": sorted(CATALOGUE),
        "networks": [n.value for n in Network],
    }


@router.get("/c/{slug}/analyse/imports/{import_id}", response_class=HTMLResponse)
async def import_detail(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    import_id: int,
) -> Response:
    token = viewer.token()
    p = await panel("ingest", ingest.import_(token, import_id))
    if p.status == 404 or (p.data is not None and p.data.client_id != client.id):
        raise NotFound(f"No import {import_id}")
    result = await _result(ingest, token, p) if p.ok else {"panel": p, "imp": None}
    return render(
        request,
        "imports/detail.html",
        {"base": _base(client), "p": p, "imp": p.data, "result": result,
         "can_write": _can_write(viewer), **_mapping_choices()},
    )  # fmt: skip


@router.post("/c/{slug}/analyse/imports/{import_id}/mapping", response_class=HTMLResponse)
async def submit_mapping(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    import_id: int,
) -> Response:
    if not _can_write(viewer):
        raise Forbidden("A client viewer cannot import files.")
    token = viewer.token()
    form = await request.form()
    columns: dict[str, str] = {}
    for key, value in form.multi_items():
        if key.startswith("col-") and isinstance(value, str):
            name = form.get(f"name-{key[4:]}")
            if isinstance(name, str) and name and value and value != "ignore":
                columns[name] = value
    decimal = str(form.get("decimal") or "auto")
    error: str | None = None
    body: MappingSubmit | None = None
    try:
        body = MappingSubmit(
            mapping=ColumnMapping(
                kind=str(form.get("kind") or "daily"),
                network=str(form.get("network") or "facebook"),
                header_row=int(str(form.get("header_row") or 1)),
                columns=columns,
                date_order=str(form.get("date_order") or "ymd"),
                decimal_comma={"comma": True, "dot": False}.get(decimal),
            ),
            save=form.get("save") == "on",
            name=str(form.get("name") or "")[:200] or None,
        )
    except ValidationError as exc:
        error = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
    except ValueError:
        error = "The header row must be a number."
    p: Panel[ImportPublic]
    if body is not None:
        p = await panel("ingest", ingest.submit_import_mapping(token, import_id, body))
        if p.status == 404:
            raise NotFound(f"No import {import_id}")
        if p.ok:
            result = await _result(ingest, token, p)
            resp = await _render_result(request, client, viewer, ingest, result)
            return hx_trigger(resp, {"imports-changed": True})
        error = p.error
    imp = await panel("ingest", ingest.import_(token, import_id))
    if imp.status == 404:
        raise NotFound(f"No import {import_id}")
    result = await _result(ingest, token, imp)
    result["mapping_error"] = error
    result["submitted"] = {"columns": columns, "form": dict(form)}
    return await _render_result(request, client, viewer, ingest, result, status_code=422)
