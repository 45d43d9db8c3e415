"""Hostile uploads to the imports API: each gets a clear refusal and nothing is stored.

The upload answers at once for what a look at the file's start shows (``202`` with
``status: refused`` and the reason, or a ``413``/``422`` problem for the body itself);
what only a full read shows is refused by the import job, all or nothing. Either way the
client ends with no account, no post, no metric, and no kept file; the refused import
stays listed with its reason (that is what the agency sees in the imports page).

A file that is merely in an unusual encoding (UTF-16 without a byte-order mark) is not
hostile: it is read correctly, with the same result as its UTF-8 original.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import struct
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.importers import reading
from services.ingest.imports.models import Import
from services.ingest.store.models import (
    Account,
    ChannelTotal,
    DailyMetric,
    Post,
    PostMetric,
    WebMetric,
    WebPeriodMetric,
)
from tests.conftest import auth, new_client_id
from tests.ingest.helpers import FIXTURES

HYPERLINK = '=HYPERLINK("http://x","y")'


def daily_csv(rows: int = 3000, name: str = "Tourisme Haute-Côte") -> str:
    """Balise's long format, long enough that its end lies past the first 64 KiB."""
    start = dt.date(2020, 1, 1)
    lines = ["network,account_id,account_name,metric,day,value"]
    name = name.replace('"', '""')
    for i in range(rows):
        day = (start + dt.timedelta(days=i)).isoformat()
        lines.append(f'facebook,1234567890,"{name}",followers,{day},{1000 + i}')
    return "\n".join(lines) + "\n"


async def stored(engine: AsyncEngine, cid: int) -> dict[str, int]:
    """What the client has in ingest, by table (read on a fresh session: the live app
    commits on its own connections)."""
    async with AsyncSession(engine) as s:
        ids = select(Account.id).where(Account.client_id == cid)
        out = {
            "accounts": (await s.exec(select(func.count()).where(Account.client_id == cid))).one()
        }
        for model in (DailyMetric, Post, WebMetric, WebPeriodMetric, ChannelTotal):
            q = select(func.count()).select_from(model).where(col(model.account_id).in_(ids))
            out[model.__name__] = (await s.exec(q)).one()
        posts = select(Post.id).where(col(Post.account_id).in_(ids))
        q = select(func.count()).select_from(PostMetric).where(col(PostMetric.post_id).in_(posts))
        out["PostMetric"] = (await s.exec(q)).one()
        out["imports"] = (await s.exec(select(func.count()).where(Import.client_id == cid))).one()
    return out


def nothing(counts: dict[str, int], imports: int) -> dict[str, int]:
    return {**dict.fromkeys(counts, 0), "imports": imports}


async def upload(app, c, cid: int, name: str, data, **form) -> tuple[int, dict]:
    """Upload; when queued, wait for the job. ``(HTTP status, import or problem)``."""
    r = await c.post(
        f"/v1/clients/{cid}/imports",
        files={"file": (name, data, "application/octet-stream")},
        data=form,
        headers=auth([cid]),
    )
    if r.status_code != 202:
        return r.status_code, r.json()
    if r.json()["status"] == "queued":
        assert await app.state.runner.wait_idle(120)
    imp = await c.get(f"/v1/imports/{r.json()['id']}", headers=auth([cid]))
    return 202, imp.json()


def kept_files(var_dir: Path, cid: int) -> list[str]:
    folder = var_dir / "imports" / str(cid)
    return sorted(os.listdir(folder)) if folder.exists() else []


@pytest.fixture
async def ingest(make_live_backend) -> AsyncIterator[tuple[object, object]]:
    async with make_live_backend("ingest") as (app, c):
        yield app, c


# ----------------------------------------------------------------- damaged text and bytes

GOOD = daily_csv().encode()
FB = (FIXTURES / "meta_facebook_posts.csv").read_bytes()
XLSX = (FIXTURES / "balisedemo_followers_1746057600000.xlsx").read_bytes()

REFUSED: dict[str, tuple[str, bytes, str]] = {
    # (file name, content, words of the reason)
    "truncated CSV, cut in a row": ("daily.csv", GOOD[: GOOD.rindex(b",followers")], "truncated"),
    "truncated CSV, cut in a quoted caption": (
        "posts.csv",
        FB[: FB.index(b"places limit")],
        "truncated",
    ),
    "truncated XLSX": ("followers.xlsx", XLSX[: len(XLSX) // 2], "not a readable XLSX"),
    "binary garbage": ("x.csv", bytes(range(256)) * 64, "binary"),
    "random bytes named .xlsx": ("x.xlsx", b"PK\x03\x04" + os.urandom(4000), "XLSX"),
    "latin-1 with bytes CP1252 lacks": (
        "daily.csv",
        GOOD.decode().encode("latin-1").replace(b"2027-06-01,", b"2027-06-01,\x81\x8d", 1),
        "not valid CP1252",
    ),
    "UTF-8 broken after the first 64 KiB": (
        "daily.csv",
        GOOD.replace(b"2027-06-01,", b"2027-06-01,\xff\xfe", 1),
        "not valid UTF-8",
    ),
    "header only": ("daily.csv", GOOD.split(b"\n", 1)[0] + b"\n", "no data rows"),
    "Meta header only": ("posts.csv", FB.split(b"\n", 1)[0] + b"\n", "no data rows"),
    "formula in a number column": (
        "daily.csv",
        GOOD.replace(b"2021-01-01,1366", b"2021-01-01,=1+1", 1),
        "not a number",
    ),
    "HYPERLINK in a number column": (
        "daily.csv",
        GOOD.replace(b"2021-01-01,1366", b'2021-01-01,"=HYPERLINK(""http://x"",""y"")"', 1),
        "not a number",
    ),
    "@ and + prefixed numbers": (
        "daily.csv",
        GOOD.replace(b"2021-01-01,1366", b"2021-01-01,@1366", 1).replace(
            b"2021-01-02,1367", b"2021-01-02,+1367+1", 1
        ),
        "not a number",
    ),
    "tab and CR prefixed cells": (
        "daily.csv",
        GOOD.replace(b"2021-01-01,1366", b'2021-01-01,"\t=1+1"', 1).replace(
            b"2021-01-02,1367", b'2021-01-02,"\r=1+1"', 1
        ),
        "not a number",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
async def test_damaged_files_are_refused_with_a_reason(ingest, engine, var_dir, case):
    app, c = ingest
    name, data, words = REFUSED[case]
    cid = new_client_id()
    before = await stored(engine, cid)
    status, imp = await upload(app, c, cid, name, data)
    assert status == 202, imp
    assert imp["status"] == "refused", imp
    assert imp["errors"] and all(e["reason"] for e in imp["errors"])
    reasons = " | ".join(e["reason"] for e in imp["errors"])
    assert words in reasons, reasons
    assert imp["posts"] == imp["daily_rows"] == imp["accounts"] == 0
    assert await stored(engine, cid) == nothing(before, 1)
    assert kept_files(var_dir, cid) == []


async def test_utf16_without_bom_reads_like_its_utf8_original(ingest, engine):
    app, c = ingest
    text = GOOD.decode()
    results = {}
    for enc in ("utf-8", "utf-16-le", "utf-16-be"):
        cid = new_client_id()
        status, imp = await upload(app, c, cid, "daily.csv", text.encode(enc))
        assert status == 202 and imp["status"] == "succeeded", imp
        async with AsyncSession(engine) as s:
            ids = select(Account.id).where(Account.client_id == cid)
            rows = await s.exec(
                select(DailyMetric.day, DailyMetric.value).where(
                    col(DailyMetric.account_id).in_(ids)
                )
            )
            results[enc] = sorted(rows.all())
            name = (await s.exec(select(Account.name).where(Account.client_id == cid))).one()
        assert name == "Tourisme Haute-Côte"
    assert len(results["utf-8"]) == 3000
    assert results["utf-16-le"] == results["utf-8"] == results["utf-16-be"]


async def test_formula_text_is_kept_as_data_and_neutralised_on_export(ingest, engine):
    """A caption or name starting with = is data (the exports quote it: see
    test_export_formulas.py); the import stores it verbatim."""
    app, c = ingest
    cid = new_client_id()
    status, imp = await upload(app, c, cid, "daily.csv", daily_csv(30, name=HYPERLINK).encode())
    assert status == 202 and imp["status"] == "succeeded", imp
    async with AsyncSession(engine) as s:
        name = (await s.exec(select(Account.name).where(Account.client_id == cid))).one()
    assert name == HYPERLINK


# ----------------------------------------------------------------- workbooks that explode


async def test_an_intact_workbook_imports_through_the_api(ingest, engine):
    """The control for the bombs below (and a regression: an upload is kept under a name
    without a suffix, which openpyxl refused when given the path)."""
    app, c = ingest
    cid = new_client_id()
    acc = await c.post(
        f"/v1/clients/{cid}/accounts",
        json={"network": "linkedin", "external_id": "org-1"},
        headers=auth([cid]),
    )
    status, imp = await upload(
        app,
        c,
        cid,
        "balisedemo_followers_1746057600000.xlsx",
        XLSX,
        account_id=str(acc.json()["id"]),
    )
    assert status == 202 and imp["status"] == "succeeded", imp
    assert imp["daily_rows"] > 0
    assert (await stored(engine, cid))["DailyMetric"] == imp["daily_rows"]


def _rebuild_xlsx(source: bytes, sheet: str, write: Callable[[io.RawIOBase, bytes], None]) -> bytes:
    """``source`` with one worksheet's XML rewritten by ``write(out, original_xml)``."""
    src = zipfile.ZipFile(io.BytesIO(source))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for info in src.infolist():
            if info.filename == sheet:
                with z.open(info.filename, "w", force_zip64=True) as fh:
                    write(fh, src.read(info.filename))
            else:
                z.writestr(info, src.read(info.filename))
    return out.getvalue()


def zip_bomb() -> bytes:
    """A valid LinkedIn workbook whose first sheet inflates past the limit (~0.7 MB
    compressed, 257 MB of XML)."""

    def write(fh, original: bytes) -> None:
        head, tail = original.split(b"</sheetData>")
        fh.write(head)
        row = b'<row><c t="inlineStr"><is><t>' + b"A" * 1000 + b"</t></is></c></row>"
        chunk = row * 1000
        for _ in range(reading.MAX_XLSX_UNCOMPRESSED // len(chunk) + 2):
            fh.write(chunk)
        fh.write(b"</sheetData>" + tail)

    return _rebuild_xlsx(XLSX, "xl/worksheets/sheet1.xml", write)


def dimension_bomb() -> bytes:
    """A 5 KB workbook whose sheet claims A1:XFD1048576 (2**34 cells) and has a cell there."""

    def write(fh, original: bytes) -> None:
        xml = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', original)
        far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
        fh.write(xml.replace(b"</sheetData>", far + b"</sheetData>"))

    return _rebuild_xlsx(XLSX, "xl/worksheets/sheet1.xml", write)


def lying_zip() -> bytes:
    """A workbook whose directory declares its 5 MB sheet as 2,000 bytes (so that a size
    check alone would let it through)."""

    def write(fh, original: bytes) -> None:
        head, tail = original.split(b"</sheetData>")
        fh.write(head)
        row = b'<row><c t="inlineStr"><is><t>' + b"A" * 1000 + b"</t></is></c></row>"
        fh.write(row * 5000)
        fh.write(b"</sheetData>" + tail)

    data = bytearray(_rebuild_xlsx(XLSX, "xl/worksheets/sheet1.xml", write))
    name = b"xl/worksheets/sheet1.xml"
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:  # central directory entries: patch the sheet's uncompressed size
        length = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + length] == name:
            struct.pack_into("<I", data, pos + 24, 2000)
        pos = data.find(b"PK\x01\x02", pos + 4)
    return bytes(data)


async def test_a_zip_that_lies_about_its_sizes_is_refused(ingest, engine, var_dir):
    app, c = ingest
    data = lying_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.getinfo("xl/worksheets/sheet1.xml").file_size == 2000
    cid = new_client_id()
    before = await stored(engine, cid)
    status, imp = await upload(app, c, cid, "followers.xlsx", data)
    assert status == 202 and imp["status"] == "refused", imp
    assert "XLSX" in imp["errors"][0]["reason"]
    assert await stored(engine, cid) == nothing(before, 1)
    assert kept_files(var_dir, cid) == []


async def test_zip_bomb_is_refused_by_its_declared_size(ingest, engine, var_dir):
    app, c = ingest
    data = zip_bomb()
    assert len(data) < 2 * 1024 * 1024
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sum(i.file_size for i in z.infolist()) > reading.MAX_XLSX_UNCOMPRESSED
    cid = new_client_id()
    before = await stored(engine, cid)
    status, imp = await upload(app, c, cid, "followers.xlsx", data)
    assert status == 202 and imp["status"] == "refused", imp
    assert "would decompress to" in imp["errors"][0]["reason"]
    assert await stored(engine, cid) == nothing(before, 1)
    assert kept_files(var_dir, cid) == []


async def test_a_sheet_claiming_billions_of_cells_is_refused_by_the_cell_cap(
    ingest, engine, var_dir
):
    app, c = ingest
    cid = new_client_id()
    acc = await c.post(
        f"/v1/clients/{cid}/accounts",
        json={"network": "linkedin", "external_id": "org-1"},
        headers=auth([cid]),
    )
    assert acc.status_code == 201, acc.text
    before = await stored(engine, cid)
    status, imp = await upload(
        app,
        c,
        cid,
        "balisedemo_followers_1746057600000.xlsx",
        dimension_bomb(),
        account_id=str(acc.json()["id"]),
    )
    assert status == 202 and imp["status"] == "refused", imp
    assert "cells" in imp["errors"][0]["reason"], imp["errors"]
    after = await stored(engine, cid)
    assert after == {**nothing(before, 1), "accounts": 1}  # only the account made above
    assert kept_files(var_dir, cid) == []


# ----------------------------------------------------------------- bodies too large


class Chunks:
    """A 100 MB body produced 1 MB at a time; counts how much the server pulled."""

    def __init__(self, megabytes: int, prefix: bytes = b"", suffix: bytes = b"") -> None:
        self.megabytes, self.prefix, self.suffix = megabytes, prefix, suffix
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.prefix
        block = b"1," * (512 * 1024)
        for _ in range(self.megabytes):
            self.pulled += 1
            yield block
        yield self.suffix


def _multipart(boundary: str) -> tuple[bytes, bytes]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="huge.csv"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()
    return head, f"\r\n--{boundary}--\r\n".encode()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_a_100_mb_upload_is_refused_413_without_being_read(ingest, engine, var_dir, declared):
    app, c = ingest
    limit = app.state.settings.max_upload_bytes
    assert limit < 100 * 1024 * 1024
    cid = new_client_id()
    before = await stored(engine, cid)
    boundary = "hostile-boundary-0123456789"
    head, tail = _multipart(boundary)
    body = Chunks(100, head, tail)
    headers = {**auth([cid]), "content-type": f"multipart/form-data; boundary={boundary}"}
    if declared:
        headers["content-length"] = str(len(head) + len(tail) + 100 * 1024 * 1024)
    r = await c.post(f"/v1/clients/{cid}/imports", content=body, headers=headers)
    assert r.status_code == 413, r.text[:300]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert str(limit) in r.json()["detail"]
    # Streamed, never buffered: the declared length is refused before any byte is read,
    # a chunked body as soon as it passes the limit (1 MB blocks, so limit + 1 at most).
    limit_mb = limit // (1024 * 1024)
    assert body.pulled == 0 if declared else body.pulled <= limit_mb + 1, body.pulled
    assert await stored(engine, cid) == nothing(before, 0)
    assert kept_files(var_dir, cid) == []


async def test_an_empty_upload_is_a_problem(ingest, engine):
    app, c = ingest
    cid = new_client_id()
    status, problem = await upload(app, c, cid, "empty.csv", b"")
    assert status == 422 and "empty" in problem["detail"]
    assert (await stored(engine, cid))["imports"] == 0
