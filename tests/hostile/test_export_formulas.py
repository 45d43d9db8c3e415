"""Formula injection: text that came from outside (an account name, a post caption, a relay,
a calendar post) leaves every CSV and XLSX export of the product as text, never as a
formula a spreadsheet would run.

Each test stores the payloads through the product's own paths, downloads the export from
its real endpoint, and finds every payload in the file prefixed with ``'`` (so a test
that no longer sees its payload fails rather than passes on an empty file).
"""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlmodel import select

from services.ingest.store.models import Account
from shared import spreadsheet
from tests.conftest import auth, new_client_id
from tests.ingest.test_audit import seed_client
from tests.planner.factories import compose_basic, create_plan
from tests.web.test_audit_pages import MARCH, web_over_ingest

HYPERLINK = '=HYPERLINK("http://x","y")'
PAYLOADS = (HYPERLINK, "+1+2", "-3+4", "@SUM(1)", "\t=1+1", "\r=1+1")


def _csv_cells(data: bytes | str) -> list[str]:
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _xlsx_cells(data: bytes) -> list[object]:
    ws = load_workbook(io.BytesIO(data)).active
    return [v for row in ws.iter_rows(values_only=True) for v in row]


def _assert_neutralised(cells: list[object], payloads: tuple[str, ...]) -> None:
    """Every payload is in the file, quoted; no cell starts like a formula."""
    texts = [c for c in cells if isinstance(c, str)]
    for payload in payloads:
        assert any(c == "'" + payload for c in texts), f"{payload!r} not exported as text"
    risky = [c for c in texts if c.startswith(spreadsheet.FORMULA_START)]
    assert risky == [], risky


def test_the_shared_helper():
    for payload in PAYLOADS:
        assert spreadsheet.neutralise(payload) == "'" + payload
        assert spreadsheet.csv_cell(payload) == "'" + payload
    assert spreadsheet.neutralise(-12) == -12 and spreadsheet.csv_cell(-1.5) == "-1.5"
    assert spreadsheet.csv_cell(None) == "" and spreadsheet.neutralise("Québec") == "Québec"


async def test_audit_exports_csv_and_xlsx(db, migrated, var_dir, engine):
    async with web_over_ingest(db, migrated, var_dir, engine) as (c, client, _):
        await seed_client(db, client.id)
        account = (
            await db.exec(
                select(Account).where(Account.client_id == client.id, Account.network == "facebook")
            )
        ).one()
        account.name = HYPERLINK
        db.add(account)
        await db.flush()
        for table in ("accounts", "top_posts", "bottom_posts"):
            r = await c.get(f"/c/{client.slug}/analyse/export/{table}.csv", params=MARCH)
            assert r.status_code == 200, r.text[:300]
            _assert_neutralised(_csv_cells(r.content), (HYPERLINK,))
            r = await c.get(f"/c/{client.slug}/analyse/export/{table}.xlsx", params=MARCH)
            assert r.status_code == 200
            _assert_neutralised(_xlsx_cells(r.content), (HYPERLINK,))


async def test_relay_directory_export(make_backend):
    cid = new_client_id()
    async with make_backend("benchmark") as (app, c):
        r = await c.post(
            "/v1/relays",
            json={
                "name": HYPERLINK,
                "region": "-3+4",
                "bio": "@SUM(1)",
                "notes": "+1+2",
                "topics": ["plein air"],
            },
            headers=auth([cid]),
        )
        assert r.status_code == 201, r.text
        r = await c.get("/v1/relays/export.csv", params={"topic": "plein air"}, headers=auth([cid]))
        assert r.status_code == 200
        cells = _csv_cells(r.content)
        present = tuple(p for p in (HYPERLINK, "-3+4", "@SUM(1)", "+1+2") if "'" + p in cells)
        assert HYPERLINK in present and "-3+4" in present  # name and region are exported
        _assert_neutralised(cells, present)


async def test_planner_calendar_csv_generic_and_hootsuite(make_backend):
    cid = new_client_id()
    h = auth([cid])
    async with make_backend("planner", ingest_url="http://127.0.0.1:9") as (app, c):
        app.state.ingest.retries = app.state.benchmark.retries = 0
        _plan, vid = await create_plan(c, cid)
        await compose_basic(c, cid, vid)
        r = await c.post(
            f"/v1/versions/{vid}/calendar/generate",
            json={"start": "2026-03-02", "end": "2026-03-08"},
            headers=h,
        )
        assert r.status_code == 200, r.text
        items = (await c.get(f"/v1/versions/{vid}/calendar", headers=h)).json()
        facebook = [i for i in items if i["network"] == "facebook"]
        assert len(facebook) >= 2
        first, second = facebook[0], facebook[1]
        r = await c.patch(
            f"/v1/versions/{vid}/calendar/{first['id']}",
            json={"text": HYPERLINK, "title": "@SUM(1)", "link": "=1+1"},
            headers=h,
        )
        assert r.status_code == 200, r.text
        r = await c.patch(
            f"/v1/versions/{vid}/calendar/{second['id']}",
            json={"text": "-3+4", "title": "+1+2"},
            headers=h,
        )
        assert r.status_code == 200, r.text
        r = await c.get(f"/v1/versions/{vid}/calendar.csv", headers=h)
        assert r.status_code == 200
        _assert_neutralised(_csv_cells(r.text), (HYPERLINK, "@SUM(1)", "=1+1", "-3+4", "+1+2"))
        r = await c.get(
            f"/v1/versions/{vid}/calendar.csv",
            params={"tool": "hootsuite", "network": "facebook"},
            headers=h,
        )
        assert r.status_code == 200
        _assert_neutralised(_csv_cells(r.text), (HYPERLINK, "=1+1", "-3+4"))
