"""The imports page of the Analyse step, read as HTML, over the real ingest backend."""

from __future__ import annotations

from services.ingest.imports.models import Import
from tests.ingest.helpers import FIXTURES
from tests.web.conftest import csrf_of, login, make_client, make_user, open_stack, soup


async def _setup(stack, role: str = "strategist"):
    client = await make_client(stack.engine, "Tourisme Haute-Côte")
    user = await make_user(stack.engine, role, [client])
    await login(stack.web, user.email)
    return client, user


async def _english(stack, page):
    await stack.web.post(
        "/lang", data={"locale": "en", "next": "/clients", "csrf_token": csrf_of(page)}
    )


def _upload_headers(page) -> dict[str, str]:
    return {"HX-Request": "true", "X-CSRF-Token": csrf_of(page)}


async def test_page_has_the_upload_form_and_an_empty_history(stack):
    client, _ = await _setup(stack)
    url = f"/c/{client.slug}/analyse/imports"
    r = await stack.web.get(url)
    assert r.status_code == 200
    page = soup(r)
    assert page.find("h1").get_text() == "Importations"  # French by default
    form = page.select_one("form[data-upload]")
    assert form["hx-post"] == url and form["hx-encoding"] == "multipart/form-data"
    assert form.select_one("input[type=file][name=file]") is not None
    assert form.select_one("input[name=csrf_token]")["value"]
    formats = [o["value"] for o in form.select("select[name=format] option")]
    assert "meta_facebook_posts" in formats and "ga4_ui_export" in formats
    assert page.select_one("progress#upload-progress") is not None
    assert page.select_one("script[src='/static/imports.js']") is not None
    assert "Aucune importation" in page.select_one("#import-history").get_text()
    await _english(stack, r)
    page = soup(await stack.web.get(url))
    assert page.find("h1").get_text() == "Imports"


async def test_upload_of_a_known_export_shows_the_job(stack):
    client, _ = await _setup(stack)
    url = f"/c/{client.slug}/analyse/imports"
    page = await stack.web.get(url)
    r = await stack.web.post(
        url,
        files={"file": ("posts.csv", (FIXTURES / "meta_facebook_posts.csv").read_bytes())},
        headers=_upload_headers(page),
    )
    assert r.status_code == 200, r.text
    assert "imports-changed" in r.headers["hx-trigger"]
    frag = soup(r)
    assert frag.find("html") is None  # a fragment, not a page
    result = frag.select_one(".import-result")
    assert result["data-status"] == "queued"
    job = frag.select_one("div.job")
    assert job["data-job-status"] == "queued"
    assert job["hx-get"].startswith("/jobs/ingest/")
    # The history now lists it, and polls while it is running.
    hist = soup(await stack.web.get(url)).select_one("#import-history")
    assert "every 3s" in hist["hx-trigger"]
    rows = hist.select("tr[data-import]")
    assert [r["data-status"] for r in rows] == ["queued"]
    assert rows[0].select_one("a").get_text() == "posts.csv"


async def test_a_refused_file_lists_every_error(stack):
    client, _ = await _setup(stack)
    url = f"/c/{client.slug}/analyse/imports"
    page = await stack.web.get(url)
    r = await stack.web.post(
        url,
        files={"file": ("bin.csv", b"\x00\x01binary\x00" * 30)},
        headers=_upload_headers(page),
    )
    frag = soup(r)
    assert frag.select_one(".import-result")["data-status"] == "refused"
    cells = [td.get_text() for td in frag.select("table.import-errors tbody td")]
    assert any("binary" in c for c in cells)
    # A refused import from the job, with row-level errors, on its own page.
    async with await stack.session() as s:
        imp = Import(
            client_id=client.id,
            file_name="bad.csv",
            sha256="b" * 64,
            status="refused",
            format="meta_facebook_posts",
            errors=[
                {"row": 3, "column": "Views", "value": "beaucoup", "reason": "not a number"},
                {"row": 4, "column": "Reach", "value": "12%", "reason": "a percentage"},
            ],
            errors_total=2,
        )
        s.add(imp)
        await s.commit()
    detail = soup(await stack.web.get(f"{url}/{imp.id}"))
    rows = [[td.get_text() for td in tr.select("td")] for tr in detail.select("#errors tbody tr")]
    assert rows == [
        ["3", "Views", "beaucoup", "not a number"],
        ["4", "Reach", "12%", "a percentage"],
    ]
    hist = soup(await stack.web.get(url)).select_one("#import-history")
    errors_link = hist.select_one(f"tr[data-import='{imp.id}'] a[href$='#errors']")
    assert errors_link.get_text() == "2"


async def test_unknown_layout_goes_through_the_mapping_form(stack):
    client, _ = await _setup(stack)
    url = f"/c/{client.slug}/analyse/imports"
    page = await stack.web.get(url)
    r = await stack.web.post(
        url,
        files={"file": ("hebdo.csv", (FIXTURES / "agency_weekly_sheet.csv").read_bytes())},
        headers=_upload_headers(page),
    )
    frag = soup(r)
    assert frag.select_one(".import-result")["data-status"] == "needs_mapping"
    preview = frag.select("table.import-preview tbody tr")
    assert [td.get_text() for td in preview[1].select("td")] == [
        "S18", "01/05/2026", "1 532", "4 210", "lancement"
    ]  # fmt: skip
    form = frag.select_one("form.mapping")
    selects = {
        form.select_one(f"input[name=name-{s['name'][4:]}]")["value"]: s
        for s in form.select("select[name^=col-]")
    }
    assert selects["Jour"].select_one("option[selected]")["value"] == "date"
    # An incomplete mapping is refused with the reason, the form kept.
    bad = await stack.web.post(
        form["hx-post"],
        data={"kind": "daily", "network": "facebook", "header_row": "1", "date_order": "dmy",
              "name-1": "Jour", "col-1": "date"},
        headers=_upload_headers(page),
    )  # fmt: skip
    assert bad.status_code == 422
    assert "at least one column to a metric" in soup(bad).select_one("p.error").get_text()
    assert soup(bad).select_one("form.mapping") is not None
    ok = await stack.web.post(
        form["hx-post"],
        data={"kind": "daily", "network": "facebook", "header_row": "1", "date_order": "dmy",
              "name-1": "Jour", "col-1": "date", "name-2": "Abonnés Facebook",
              "col-2": "metric:followers", "save": "on", "name": "Feuille hebdo"},
        headers=_upload_headers(page),
    )  # fmt: skip
    assert ok.status_code == 200, ok.text
    frag = soup(ok)
    assert frag.select_one(".import-result")["data-status"] == "queued"
    assert frag.select_one("div.job") is not None
    token_headers = {"Authorization": f"Bearer {_token(client.id)}"}
    saved = await stack.backends["ingest"].get(
        f"/v1/clients/{client.id}/column-mappings", headers=token_headers
    )
    assert [m["name"] for m in saved.json()] == ["Feuille hebdo"]


async def test_a_succeeded_import_shows_its_counts(stack):
    client, _ = await _setup(stack)
    async with await stack.session() as s:
        imp = Import(
            client_id=client.id,
            file_name="posts.csv",
            sha256="c" * 64,
            status="succeeded",
            format="meta_facebook_posts",
            counts={"posts": 3, "daily_rows": 0, "web_rows": 0, "accounts": 1,
                    "posts_created": 3, "post_metrics_written": 19},
        )  # fmt: skip
        s.add(imp)
        await s.commit()
    url = f"/c/{client.slug}/analyse/imports"
    page = soup(await stack.web.get(f"{url}/{imp.id}"))
    counts = {dd["data-count"]: dd.get_text() for dd in page.select("dd[data-count]")}
    assert counts == {"posts": "3", "daily_rows": "0", "accounts": "1", "written": "22"}
    row = soup(await stack.web.get(url)).select_one(f"tr[data-import='{imp.id}']")
    assert [td.get_text() for td in row.select("td.num")][:3] == ["3", "0", "1"]


async def test_client_viewer_sees_history_but_cannot_upload(stack):
    client, _ = await _setup(stack, role="client_viewer")
    url = f"/c/{client.slug}/analyse/imports"
    page = await stack.web.get(url)
    assert page.status_code == 200
    assert soup(page).select_one("form[data-upload]") is None
    r = await stack.web.post(
        url,
        files={"file": ("posts.csv", b"a,b\n1,2\n")},
        headers=_upload_headers(page),
    )
    assert r.status_code == 403


async def test_another_clients_import_is_not_found(stack):
    client, _ = await _setup(stack)
    other = await make_client(stack.engine)
    async with await stack.session() as s:
        imp = Import(client_id=other.id, file_name="x.csv", sha256="d" * 64, status="refused")
        s.add(imp)
        await s.commit()
    r = await stack.web.get(f"/c/{client.slug}/analyse/imports/{imp.id}")
    assert r.status_code == 404


async def test_ingest_down_degrades_the_page(migrated, var_dir, engine):
    async with open_stack(migrated, var_dir, engine, down=("ingest",)) as stack:
        client, _ = await _setup(stack)
        r = await stack.web.get(f"/c/{client.slug}/analyse/imports")
        assert r.status_code == 200
        assert soup(r).select_one("#import-history .degraded") is not None


def _token(client_id: int) -> str:
    from tests.conftest import token_for

    return token_for([client_id])
