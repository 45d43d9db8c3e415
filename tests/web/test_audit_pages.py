"""The Analyse step's pages: the audit over the real ingest app, exports, PDF, degraded panel."""

from __future__ import annotations

import contextlib
import csv
import io
import uuid

import httpx
import pytest
from lxml import html as lxml_html

from services.web import audit_tables
from services.web import service as web_service
from services.web.app import create_app as create_web
from services.web.config import WebSettings
from services.web.security import open_session
from tests.conftest import bind_session, build_app, running, settings_for, share_reads
from tests.ingest.test_audit import seed_client


def bind_web_session(app, session):
    """Like ``bind_session`` but without rolling back on errors: web's error pages read the
    viewer's rows after the exception, and a rollback of the shared test session would
    expire them (each real request has its own session; the test's transaction is rolled
    back at its end anyway)."""
    from shared.db import get_session

    async def _override():
        yield session
        await session.flush()

    app.dependency_overrides[get_session] = _override
    share_reads(app, session)


@contextlib.asynccontextmanager
async def web_over_ingest(db, migrated, var_dir, engine, *, ingest_up=True, locale="en"):
    """Web with the real ingest app mounted in-process, both on the test's transaction."""
    ingest = build_app("ingest", migrated, var_dir, engine=engine, run_jobs_in_process=False)
    async with running(ingest):
        bind_session(ingest, db)
        transports = {"ingest": httpx.ASGITransport(app=ingest)} if ingest_up else {}
        settings = settings_for(
            WebSettings, migrated, var_dir, ingest_url="http://127.0.0.1:9", backend_timeout=1.0
        )
        web = create_web(settings=settings, engine=engine, transports=transports)
        async with running(web):
            bind_web_session(web, db)
            slug = "c-" + uuid.uuid4().hex[:10]
            client = await web_service.create_client(db, "Tourisme Test", slug)
            user = await web_service.create_user(
                db,
                email=f"{slug}@example.org",
                name="Stratège",
                password="a-long-password-123",
                role="strategist",
                client_ids=[client.id],
                locale=locale,
            )
            sid, row = await open_session(db, user, hours=1)
            await db.commit()
            cookie = web.state.signer.dumps(sid)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=web),
                base_url="http://web",
                cookies={"balise_session": cookie},
            ) as c:
                yield c, client, row.csrf_token


def tree(resp):
    assert resp.status_code == 200, resp.text[:500]
    return lxml_html.fromstring(resp.text)


MARCH = {"start": "2024-03-01", "end": "2024-03-31"}


async def test_audit_page_with_data(db, migrated, var_dir, engine):
    async with web_over_ingest(db, migrated, var_dir, engine) as (c, client, _csrf):
        await seed_client(db, client.id)
        r = await c.get(f"/c/{client.slug}/analyse", params=MARCH)
        doc = tree(r)
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert not doc.xpath("//*[@style]")  # CSP: no inline styles anywhere
        # The nav marks Analyse available and current.
        step = doc.xpath("//nav[@class='steps']//a[contains(@href, '/analyse')]")[0]
        assert "current" in step.get("class") and "unavailable" not in step.get("class")
        links = doc.xpath("//nav[@class='subnav']/a/@href")
        assert f"/c/{client.slug}/analyse/imports" in links
        assert f"/c/{client.slug}/analyse/connections" in links
        findings = doc.xpath("//ol[@class='findings']/li")
        assert len(findings) == 5  # the default minimum sample (10) holds back the rest
        texts = [li.xpath("string(p)") for li in findings]
        assert any(t.startswith("Social networks bring 10.0% of the website") for t in texts)
        assert any("No post on Facebook for 24 days" in t for t in texts)
        svgs = doc.xpath("//*[local-name()='svg']")
        assert len(svgs) >= 6
        assert all(s.get("role") == "img" for s in svgs)
        titles = [s.xpath("string(*[local-name()='title'])") for s in svgs]
        assert "Followers of Page FB" in titles
        assert "Posts by day and hour (local time)" in titles
        card = doc.xpath("//article[@data-account]")[0]
        figures = dict(zip(card.xpath(".//dt/text()"), card.xpath(".//dd/text()"), strict=True))
        assert figures["Followers"] == "1,100"
        assert figures["Engagement rate by follower"] == "7.0%"
        rows = doc.xpath("//div[@id='table-accounts']//tbody/tr")
        assert len(rows) == 2
        li_row = next(r for r in rows if r.xpath("string(td[2])") == "LinkedIn")
        assert li_row.xpath("string(td[4])") == "—"  # no data, not 0
        exports = doc.xpath("//div[@id='table-website']//a/@href")
        assert any(
            h.endswith(".csv?start=2024-03-01&end=2024-03-31&compare=previous") for h in exports
        )
        share = doc.xpath("//div[@id='table-website']//tbody/tr")[-1]
        assert [share.xpath("string(td[3])"), share.xpath("string(td[4])")] == ["10.0%", "5.0%"]
        site = doc.xpath("//div[@id='table-traffic_sources']//tbody/tr")
        assert [r.xpath("string(td[2])") for r in site] == ["Facebook", "Instagram"]


async def test_period_picker_gets_a_fragment(db, migrated, var_dir, engine):
    async with web_over_ingest(db, migrated, var_dir, engine) as (c, client, _):
        await seed_client(db, client.id)
        r = await c.get(f"/c/{client.slug}/analyse", params=MARCH, headers={"HX-Request": "true"})
        doc = tree(r)
        assert r.headers["vary"] == "HX-Request"
        assert not doc.xpath("//header")  # the block alone, not the whole page
        assert doc.xpath("//div[@id='audit']//ol[@class='findings']/li")


async def test_audit_page_in_french(db, migrated, var_dir, engine):
    async with web_over_ingest(db, migrated, var_dir, engine, locale="fr_CA") as (c, client, _):
        await seed_client(db, client.id)
        doc = tree(await c.get(f"/c/{client.slug}/analyse", params=MARCH))
        texts = [li.xpath("string(p)") for li in doc.xpath("//ol[@class='findings']/li")]
        assert any(
            t.startswith("Les réseaux sociaux apportent 10,0 % des sessions du site web")
            for t in texts
        ), texts
        assert doc.xpath("//h2/text()")[0] == "Constats"
        # The evidence under each finding is French too, numbers formatted the French way.
        evidence = [e.text_content() for e in doc.xpath("//ol[@class='findings']/li//ul/li")]
        assert evidence
        english = ("rated posts", "weeks with a post", "followers on", " then ", "Method:")
        assert not [e for e in evidence if any(w in e for w in english)], evidence
        assert any(" semaines sur " in e and "avec une publication" in e for e in evidence)
        assert "Facebook : 80 sessions" in evidence, evidence
        assert "Page FB : 1\u00a0000 abonnés le 1 mars 2024, 1\u00a0100 le 31 mars 2024" in evidence


async def test_exports_csv_and_xlsx(db, migrated, var_dir, engine):
    async with web_over_ingest(db, migrated, var_dir, engine) as (c, client, _):
        await seed_client(db, client.id)
        r = await c.get(f"/c/{client.slug}/analyse/export/accounts.csv", params=MARCH)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert rows[0][:3] == ["Account", "Network", "Followers at start"]
        fb = next(row for row in rows if row[1] == "Facebook")
        assert fb[2] == "1000.0" and fb[5] == "0.1"
        li = next(row for row in rows if row[1] == "LinkedIn")
        assert li[3] == ""  # no data stays empty, never 0
        r = await c.get(f"/c/{client.slug}/analyse/export/findings.xlsx", params=MARCH)
        assert r.status_code == 200
        from openpyxl import load_workbook

        ws = load_workbook(io.BytesIO(r.content)).active
        values = list(ws.values)
        assert values[0] == ("#", "Finding", "Evidence", "Importance")
        assert len(values) == 6
        assert (await c.get(f"/c/{client.slug}/analyse/export/nope.csv")).status_code == 404
        assert (await c.get(f"/c/{client.slug}/analyse/export/accounts.pdf")).status_code == 404
        assert (await c.get("/c/not-mine/analyse/export/accounts.csv")).status_code == 404


def test_formula_injection_is_neutralised():
    table = audit_tables.Table(
        "t",
        "T",
        [audit_tables.Column("=label"), audit_tables.Column("n", "int")],
        [
            ['=HYPERLINK("http://evil")', -12],
            ["+1", 3],
            ["-cmd", 0],
            ["@SUM(A1)", None],
            ["plain", 1.5],
        ],
    )
    rows = list(csv.reader(io.StringIO(audit_tables.to_csv(table).decode("utf-8-sig"))))
    assert rows[0] == ["'=label", "n"]
    assert [r[0] for r in rows[1:]] == [
        '\'=HYPERLINK("http://evil")',
        "'+1",
        "'-cmd",
        "'@SUM(A1)",
        "plain",
    ]
    assert rows[1][1] == "-12"  # numbers stay numbers
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(audit_tables.to_xlsx(table))).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert ws["A2"].value == '\'=HYPERLINK("http://evil")' and ws["B2"].value == -12


async def test_degraded_when_ingest_is_down(db, migrated, var_dir, engine):
    async with web_over_ingest(db, migrated, var_dir, engine, ingest_up=False) as (c, client, _):
        r = await c.get(f"/c/{client.slug}/analyse")
        doc = tree(r)
        alert = doc.xpath("//div[@class='degraded']")
        assert alert and "ingest" in alert[0].text_content()
        assert doc.xpath("//nav[@class='subnav']")  # the rest of the page still works
        r = await c.get(f"/c/{client.slug}/analyse/export/accounts.csv")
        assert r.status_code == 503


async def test_pdf_report_request_shows_the_job(db, migrated, var_dir, engine):
    async with web_over_ingest(db, migrated, var_dir, engine) as (c, client, csrf):
        r = await c.post(
            f"/c/{client.slug}/analyse/report",
            data={"locale": "en", **MARCH, "compare": "previous", "csrf_token": csrf},
            headers={"HX-Request": "true"},
        )
        doc = tree(r)
        job = doc.xpath("//div[@class='job']")[0]
        assert job.get("data-job-status") == "queued"
        assert job.get("hx-get", "").startswith(f"/c/{client.slug}/analyse/report/")
        r = await c.post(f"/c/{client.slug}/analyse/report", data={"locale": "en"})
        assert r.status_code == 403  # no CSRF token


@pytest.mark.parametrize("path", ["/c/{slug}/analyse", "/c/{slug}/analyse/export/accounts.csv"])
async def test_pages_need_a_login(db, migrated, var_dir, engine, path):
    async with web_over_ingest(db, migrated, var_dir, engine) as (c, client, _):
        c.cookies.clear()
        r = await c.get(path.format(slug=client.slug))
        assert r.status_code in (303, 401) and "/login" in r.headers.get("location", "/login")
