"""Steps 3 and 4 in a real browser, on the demo agency's data: compose a plan with a
suggested target accepted in one click → approve → see the calendar → export the PDF,
download it and read its text."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

DEMO_SLUG = "tourisme-haute-cote"
DEMO_STRATEGIST = "strategiste@demo.balise"


def _load_demo(stack: Any) -> None:
    """The demo agency in the stack's database, as ``balise demo`` loads it (its client,
    18 months of figures ending yesterday, peers, a computed peer benchmark), once."""
    from services.demo.loader import load_all
    from services.web.models import Client
    from tests.e2e.conftest import run_coroutine

    async def present(session: Any, stack: Any) -> bool:
        from sqlmodel import select

        found = (await session.exec(select(Client).where(Client.slug == DEMO_SLUG))).first()
        return found is not None

    if not stack.seed(present):
        summary = run_coroutine(lambda: load_all(stack.database_url))
        assert summary["benchmark_result_ids"], summary


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def test_compose_approve_calendar_and_pdf_from_the_demo(stack, page, login, tmp_path):
    from playwright.sync_api import expect

    from services.cli import DEMO_PASSWORD

    _load_demo(stack)
    login(page, DEMO_STRATEGIST, DEMO_PASSWORD)
    base = f"/c/{DEMO_SLUG}/plan"
    page.goto(base)

    # A plan over the next twelve months (the form's defaults start this month).
    page.fill("#new-plan input[name=name]", "Plan e2e Haute-Côte")
    page.click("#new-plan button[type=submit]")
    page.wait_for_url(re.compile(r".*/plan/v/\d+$"))
    version_url = page.url

    # Step: audiences, each form saved at once.
    page.fill("#audience-form input[name=name]", "Familles du Québec")
    page.check("#audience-form input[name=age_bands][value='35-44']")
    page.click("#audience-form button[type=submit]")
    expect(page.locator("li[data-audience]")).to_have_count(1)

    # Step: objectives. Instagram followers, baseline measured by ingest; the benchmark's
    # suggested target accepted with one click.
    page.click("a.tab[data-step=objectives]")
    page.select_option("#objective-form select[name=kpi]", "followers")
    page.select_option("#objective-form select[name=network]", "instagram")
    page.click("#objective-form button[type=submit]")
    row = page.locator("tr[data-objective]")
    expect(row).to_have_count(1)
    expect(row.locator("td.target")).to_have_text("—")
    suggested = row.locator("td.suggestion strong").inner_text()
    assert re.search(r"\d", suggested), suggested
    assert row.locator("td.suggestion small").first.inner_text().strip()  # its rationale
    row.locator("button.accept-target").click()
    expect(row.locator("td.target")).to_have_text(suggested)
    baseline = row.locator("td.baseline").inner_text()
    assert re.search(r"\d", baseline), f"no measured baseline: {baseline!r}"
    target = int(re.sub(r"\D", "", re.split(r"[.,]\d+$", suggested.strip())[0]))
    assert target >= int(re.sub(r"\D", "", re.split(r"[.,]\d+$", baseline.strip())[0]))

    # Step: roles. An animator and the Instagram space, three posts a week.
    page.click("a.tab[data-step=roles]")
    page.fill("#animator-form input[name=name]", "Léa Animatrice")
    page.fill("#animator-form input[name=hours_per_week]", "10")
    page.click("#animator-form button[type=submit]")
    expect(page.locator("li[data-animator]")).to_have_count(1)
    page.select_option("#space-form select[name=network]", "instagram")
    page.select_option("#space-form select[name=animator_id]", label="Léa Animatrice")
    page.fill("#space-form input[name=posts_per_week]", "3")
    page.click("#space-form button[type=submit]")
    expect(page.locator("tr[data-space]")).to_have_count(1)
    # The demo's Instagram posts give measured engagement by slot: the calendar uses it.
    expect(page.locator("li[data-slots=instagram]")).to_have_attribute(
        "data-source", re.compile(r"^client")
    )

    # Review and approve: the version is frozen.
    page.goto(version_url + "?step=review")
    page.click("#approve")
    expect(page.locator("#version-status")).to_have_class(re.compile(r"plan-approved"))

    # The calendar: generated from the cadence and the measured slots; next week holds
    # the three Instagram posts, on three different days, assigned to the animator.
    page.goto(version_url + "/calendar")
    page.click("#generate")
    page.wait_for_load_state("networkidle")
    page.locator(".calendar-tools a[href*='?week=']").nth(1).click()  # next week
    page.wait_for_load_state("networkidle")
    items = page.locator("article.cal-item")
    expect(items).to_have_count(3)
    days = {
        dt.date.fromisoformat(
            items.nth(i).locator("xpath=ancestor::section[@data-day]").get_attribute("data-day")
            or ""
        )
        for i in range(3)
    }
    assert len(days) == 3 and min(days) > dt.date.today(), days
    for i in range(3):
        expect(items.nth(i)).to_contain_text("instagram")
        expect(items.nth(i)).to_contain_text("Léa Animatrice")

    # Export the PDF in English, wait for the job, download it and read it.
    page.goto(version_url + "?step=review")
    page.select_option("#export-form select[name=format]", "pdf")
    page.select_option("#export-form select[name=locale]", "en")
    page.click("#export-form button[type=submit]")
    expect(page.locator("#export-job .job")).to_have_attribute(
        "data-job-status", "succeeded", timeout=30_000
    )
    with page.expect_download() as info:
        page.click("#export-job a.download")
    path = tmp_path / "plan.pdf"
    info.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    text = _pdf_text(data)
    flat = " ".join(text.split())
    assert "Plan e2e Haute-Côte" in flat
    assert "Familles du Québec" in flat
    assert "followers" in flat and "instagram" in flat.lower()
    assert "Léa Animatrice" in flat
    # The accepted target, whatever the thousands separator of the document's locale.
    groups = f"{target:,}".split(",")
    pattern = r"(?<!\d)" + r"[\s,.\u00a0\u202f]?".join(groups) + r"(?!\d)"
    assert re.search(pattern, flat), (target, flat[:3000])
