"""In a real browser: upload a Meta Business Suite export, follow the upload and the job,
see it in the history, then find its posts in the audit; and a refused file's errors."""

from __future__ import annotations

import os

import pytest

from tests.ingest.helpers import FIXTURES

pytestmark = pytest.mark.e2e


def test_upload_progress_history_then_audit(stack, page, login):
    login(page)
    page.goto(f"/c/{stack.client_slug}/analyse/imports")
    assert page.locator("h1").inner_text() in ("Importations", "Imports")
    page.set_input_files(
        "form[data-upload] input[name=file]", str(FIXTURES / "meta_facebook_posts.csv")
    )
    page.click("form[data-upload] button[type=submit]")
    # The upload's bar reached its end, then the import job's component took over.
    page.locator(".import-result").wait_for()
    assert page.locator("#upload-progress").get_attribute("value") == "100"
    page.locator("div.job[data-job-status=succeeded]").wait_for(timeout=30_000)
    # The history refreshes itself while an import runs.
    row = page.locator("#import-history tr[data-status=succeeded]")
    row.wait_for(timeout=15_000)
    cells = row.locator("td.num").all_inner_texts()
    assert cells[:3] == ["3", "0", "1"]  # posts, daily rows, accounts
    if os.environ.get("BALISE_E2E_SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['BALISE_E2E_SCREENSHOTS']}/imports.png", full_page=True)
    # The imported posts are in the audit of their period.
    page.goto(f"/c/{stack.client_slug}/analyse?start=2026-09-15&end=2026-10-15")
    assert "Tourisme Haute-Côte" in page.locator("#audit").inner_text()


def test_a_refused_file_shows_every_error(stack, page, login):
    login(page)
    page.goto(f"/c/{stack.client_slug}/analyse/imports")
    page.set_input_files(
        "form[data-upload] input[name=file]", str(FIXTURES / "meta_facebook_posts_bad.csv")
    )
    page.click("form[data-upload] button[type=submit]")
    page.locator("div.job[data-job-status=succeeded]").wait_for(timeout=30_000)
    row = page.locator("#import-history tr[data-status=refused]")
    row.wait_for(timeout=15_000)
    row.locator("a[href$='#errors']").click()
    errors = page.locator("#errors tbody tr")
    errors.first.wait_for()
    assert errors.count() == 4
    assert "beaucoup" in errors.nth(0).inner_text()
    if os.environ.get("BALISE_E2E_SCREENSHOTS"):
        page.screenshot(path=f"{os.environ['BALISE_E2E_SCREENSHOTS']}/refused.png", full_page=True)
