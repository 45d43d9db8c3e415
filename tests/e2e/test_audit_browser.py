"""In a real browser: sign in, open the audit of a client with data, see its charts and
findings, export a table as CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.ingest.test_audit import seed_client

pytestmark = pytest.mark.e2e


async def _seed(session, stack):
    await seed_client(session, stack.client_id)


def test_audit_page_charts_findings_and_csv(stack, page, login):
    stack.seed(_seed)
    login(page)
    page.goto(f"/c/{stack.client_slug}/analyse?start=2024-03-01&end=2024-03-31")
    assert page.locator("h1").inner_text().startswith("Step 1")
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 6
    assert page.locator("svg[role=img] title", has_text="Followers of Page FB").count() == 1
    findings = page.locator("ol.findings > li")
    assert findings.count() >= 1
    texts = findings.all_inner_texts()
    assert any("Social networks bring 10.0% of the website" in t for t in texts), texts
    # The period picker swaps the audit in place (HTMX) and keeps the URL shareable.
    page.fill("form.period input[name=start]", "2024-03-02")
    page.click("form.period button[type=submit]")
    # hx-push-url changes the address without a load event (and CSP forbids eval).
    expect(page).to_have_url(re.compile(r"start=2024-03-02"))
    page.locator("#audit h1").wait_for()
    assert page.locator("form.period input[name=start]").input_value() == "2024-03-02"
    with page.expect_download() as info:
        page.locator("#table-accounts a", has_text="CSV").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][:2] == ["Account", "Network"]
    assert {r[1] for r in rows[1:]} == {"Facebook", "LinkedIn"}
