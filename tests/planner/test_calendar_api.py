"""Calendar generation and editing, the Hootsuite CSV, per-animator ICS feeds, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter

from tests.conftest import auth, new_client_id
from tests.planner.factories import compose_basic, create_plan


async def test_generate_edit_and_export_the_calendar(make_backend):
    cid = new_client_id()
    h = auth([cid])
    async with make_backend("planner", ingest_url="http://127.0.0.1:9") as (app, c):
        app.state.ingest.retries = app.state.benchmark.retries = 0
        plan, vid = await create_plan(c, cid)
        parts = await compose_basic(c, cid, vid)
        r = await c.post(
            f"/v1/versions/{vid}/calendar/generate",
            json={"start": "2026-03-02", "end": "2026-03-29"},  # four weeks
            headers=h,
        )
        assert r.status_code == 200, r.text
        summary = r.json()
        # 3 Facebook + 2 Instagram posts a week for four weeks.
        assert summary["per_network"] == {"facebook": 12, "instagram": 8}
        p1, p2 = (p["id"] for p in parts["pillars"])
        # 60/40 mix per network: Facebook 12 → 7/5 or so, Instagram 8 → 5/3.
        assert summary["per_pillar"][p1] + summary["per_pillar"][p2] == 20
        assert abs(summary["per_pillar"][p1] - 12) <= 1
        items = (await c.get(f"/v1/versions/{vid}/calendar", headers=h)).json()
        assert len(items) == 20
        assert all(i["animator_id"] == parts["animator"]["id"] for i in items)
        # Drag an item to another day: it stays through a regeneration.
        first = items[0]
        moved = "2026-03-05T15:30:00-05:00"
        r = await c.patch(
            f"/v1/versions/{vid}/calendar/{first['id']}",
            json={"scheduled_at": moved, "text": "Nos producteurs, à l'honneur; venez!"},
            headers=h,
        )
        assert r.status_code == 200
        assert r.json()["scheduled_at"].startswith("2026-03-05T20:30")
        r = await c.patch(
            f"/v1/versions/{vid}/calendar/{first['id']}",
            json={"animator_id": "nobody"},
            headers=h,
        )
        assert r.status_code == 422
        r = await c.patch(
            f"/v1/versions/{vid}/calendar/{first['id']}", json={"status": "drafted"}, headers=h
        )
        await c.post(
            f"/v1/versions/{vid}/calendar/generate",
            json={"start": "2026-03-02", "end": "2026-03-29"},
            headers=h,
        )
        items = (await c.get(f"/v1/versions/{vid}/calendar", headers=h)).json()
        assert len(items) == 21  # 20 regenerated + the edited one kept
        assert any(i["id"] == first["id"] for i in items)

        r = await c.get(
            f"/v1/versions/{vid}/calendar.csv",
            params={"tool": "hootsuite", "network": "facebook"},
            headers=h,
        )
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.text)))
        assert len(rows) == 13 and all(len(row) == 3 for row in rows)
        for when, _msg, _link in rows:
            parsed = dt.datetime.strptime(when, "%d/%m/%Y %H:%M")
            assert parsed.minute % 5 == 0
        assert ["05/03/2026 15:30", "Nos producteurs, à l'honneur; venez!", ""] in rows
        r = await c.get(f"/v1/versions/{vid}/calendar.csv", params={"tool": "hootsuite"}, headers=h)
        assert r.status_code == 422
        r = await c.get(f"/v1/versions/{vid}/calendar.csv", headers=h)
        table = list(csv.DictReader(io.StringIO(r.text)))
        assert Counter(t["network"] for t in table) == {"facebook": 13, "instagram": 8}
        assert {t["animator"] for t in table} == {"Léa"}


async def test_animator_feed_token_works_until_revoked(make_backend):
    cid = new_client_id()
    h = auth([cid])
    async with make_backend("planner", ingest_url="http://127.0.0.1:9") as (app, c):
        app.state.ingest.retries = app.state.benchmark.retries = 0
        plan, vid = await create_plan(c, cid)
        parts = await compose_basic(c, cid, vid)
        await c.post(
            f"/v1/versions/{vid}/calendar/generate",
            json={"start": "2026-03-02", "end": "2026-03-08"},
            headers=h,
        )
        aid = parts["animator"]["id"]
        r = await c.post(f"/v1/plans/{plan['id']}/animators/{aid}/feed", headers=h)
        assert r.status_code == 201
        feed = r.json()
        assert len(feed["token"]) >= 40
        r = await c.get(feed["path"])  # no bearer token: the feed token authenticates
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
        body = r.text
        assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
        assert body.count("BEGIN:VEVENT") == 5
        assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
        assert "DTSTART:20260303T" in body
        r = await c.get("/v1/feeds/" + "x" * 43 + ".ics")
        assert r.status_code == 404
        r = await c.post(f"/v1/plans/{plan['id']}/animators/nobody/feed", headers=h)
        assert r.status_code == 404
        r = await c.delete(f"/v1/plans/{plan['id']}/animators/{aid}/feed", headers=h)
        assert r.status_code == 204
        assert (await c.get(feed["path"])).status_code == 404


async def test_export_job_renders_pdf_markdown_and_docx(make_live_backend):
    import asyncio

    from pypdf import PdfReader

    cid = new_client_id()
    h = auth([cid])
    async with make_live_backend("planner") as (app, c):
        plan, vid = await create_plan(c, cid, name="Plan Tourisme 2026")
        await compose_basic(c, cid, vid)
        await c.post(f"/v1/versions/{vid}/approve", headers=h)
        found = {}
        for fmt, locale in (("pdf", "fr_CA"), ("md", "en"), ("docx", "fr_CA")):
            r = await c.post(
                f"/v1/versions/{vid}/exports", json={"format": fmt, "locale": locale}, headers=h
            )
            assert r.status_code == 202
            job_url = r.json()["status_url"]
            for _ in range(100):
                job = (await c.get(job_url, headers=h)).json()
                if job["status"] in ("succeeded", "failed"):
                    break
                await asyncio.sleep(0.1)
            assert job["status"] == "succeeded", job
            found[fmt] = job["result"]["export_id"]
        pdf = await c.get(f"/v1/exports/{found['pdf']}", headers=h)
        assert pdf.headers["content-type"] == "application/pdf"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Plan d'action" in text and "Publics visés" in text
        assert "Jeunes familles" in text and "Événements" in text
        md = (await c.get(f"/v1/exports/{found['md']}", headers=h)).text
        assert md.startswith("# Action plan") and "| Audience | Objective |" in md
        docx_bytes = (await c.get(f"/v1/exports/{found['docx']}", headers=h)).content
        from docx import Document

        paragraphs = [p.text for p in Document(io.BytesIO(docx_bytes)).paragraphs]
        assert "Ligne éditoriale" in paragraphs
        r = await c.get(f"/v1/exports/{found['pdf']}", headers=auth([new_client_id()]))
        assert r.status_code == 404
