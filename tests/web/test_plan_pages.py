"""Steps 3 and 4 in the browser, read as HTML, through web → planner (real apps)."""

from __future__ import annotations

import httpx

from services.planner.clients.benchmark import BenchmarkClient
from services.planner.clients.ingest import IngestClient
from tests.web.conftest import csrf_of, login, make_client, make_user, soup


def wire_planner(stack) -> None:
    """The planner calls the real ingest and benchmark apps of the stack, in-process."""
    planner = stack.apps["planner"]
    planner.state.ingest = IngestClient(
        "http://ingest", transport=httpx.ASGITransport(app=stack.apps["ingest"]), retries=0
    )
    planner.state.benchmark = BenchmarkClient(
        "http://benchmark", transport=httpx.ASGITransport(app=stack.apps["benchmark"]), retries=0
    )


async def test_build_approve_and_compare_a_plan(stack):
    wire_planner(stack)
    client = await make_client(stack.engine, "Tourisme Test")
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    web = stack.web
    page = await web.get(f"/c/{client.slug}/plan")
    assert page.status_code == 200
    doc = soup(page)
    assert doc.select_one("#new-plan") is not None
    step3 = doc.select_one("nav.steps a.step.current")
    assert step3 is not None and "3" in step3.get_text()
    csrf = csrf_of(page)
    r = await web.post(
        f"/c/{client.slug}/plan",
        data={
            "csrf_token": csrf,
            "name": "Plan 2026",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
        },
    )
    assert r.status_code == 303
    builder = r.headers["location"]
    h = {"HX-Request": "true", "X-CSRF-Token": csrf}
    base = builder.split("?")[0]
    r = await web.post(
        f"{base}/items/audiences",
        data={
            "step": "audiences",
            "name": "Jeunes familles",
            "age_bands": ["25-34", "35-44"],
            "region": "QC",
            "language": "fr",
            "interests": "plein air, gastronomie",
        },
        headers=h,
    )
    assert r.status_code == 200
    frag = soup(r)
    aud = frag.select_one("[data-audience]")
    assert aud.select_one("strong").get_text() == "Jeunes familles"
    # The network recommendations use one survey (NETendances 2024 for Québec).
    rows = frag.select("details.recs tbody tr")
    assert rows and any("NETendances" in tr.get_text() for tr in rows)
    r = await web.post(
        f"{base}/accept",
        data={"kind": "networks", "item_id": aud["data-audience"], "step": "audiences"},
        headers=h,
    )
    assert "Réseaux privilégiés" in soup(r).select_one("[data-audience]").get_text()
    r = await web.post(
        f"{base}/items/objectives",
        data={
            "step": "objectives",
            "audience_id": aud["data-audience"],
            "kind": "engagement",
            "kpi": "engagement_rate_by_follower",
            "network": "instagram",
            "target": "0,02",
        },
        headers=h,
    )
    frag = soup(r)
    row = frag.select_one("tr[data-objective]")
    # No ingest data: "no baseline", never a zero.
    assert row.select_one("td.baseline").get_text(strip=True) == "aucun point de départ"
    assert row.select_one("td.target").get_text(strip=True) == "2,00 %"
    r = await web.post(
        f"{base}/items/pillars",
        data={"step": "editorial", "name": "Terroir", "share": "100"},
        headers=h,
    )
    assert soup(r).select_one("[data-pillar]") is not None
    r = await web.post(
        f"{base}/items/animators",
        data={"step": "roles", "name": "Léa", "hours_per_week": "2"},
        headers=h,
    )
    r = await web.post(
        f"{base}/items/spaces",
        data={
            "step": "roles",
            "network": "instagram",
            "animator_id": "",
            "posts_per_week": "3",
            "minutes_per_post": "60",
            "community_minutes_per_week": "60",
            "formats": "reel, carrousel",
        },
        headers=h,
    )
    frag = soup(r)
    warnings = {li["data-warning"] for li in frag.select("[data-warning]")}
    assert warnings == {"no_animator", "over_capacity"}
    # No measured engagement by slot anywhere: the calendar's slots are the stated defaults.
    [slots] = frag.select("li[data-slots]")
    assert slots["data-slots"] == "instagram" and slots["data-source"] == "default"
    assert "aucun créneau mesuré" in slots.get_text()
    r = await web.get(f"{base}?step=review")
    review = soup(r)
    assert review.select_one("#approve") is not None
    r = await web.post(f"{base}/approve", data={"csrf_token": csrf})
    assert r.status_code == 303
    r = await web.get(r.headers["location"])
    assert soup(r).select_one("#version-status").get_text() == "approuvée"
    # The review's export form reaches the export route (not the lifecycle one): a job.
    r = await web.post(f"{base}/export", data={"format": "pdf", "locale": "en"}, headers=h)
    assert r.status_code == 200, r.text
    job = soup(r).select_one("div.job")
    assert job is not None and job["data-job-status"] in ("queued", "running", "succeeded")
    r = await web.post(f"{base}/new-version", data={"csrf_token": csrf})
    v2 = r.headers["location"].split("?")[0]
    assert v2 != base
    r = await web.post(
        f"{v2}/items/pillars",
        data={"step": "editorial", "name": "Événements", "share": "0"},
        headers=h,
    )
    plan_id = (await stack.backends["planner"].get("/healthz")).status_code and None
    plans = soup(await web.get(f"/c/{client.slug}/plan"))
    link = plans.select_one("a[href*='/compare']")
    assert link is not None
    cmp = soup(await web.get(link["href"]))
    paths = [tr["data-path"] for tr in cmp.select("tr[data-path]")]
    assert len(paths) == 1 and paths[0].startswith("pillars[")
    assert plan_id is None


async def test_viewer_cannot_edit_and_other_clients_plans_are_404(stack):
    wire_planner(stack)
    client = await make_client(stack.engine)
    other = await make_client(stack.engine)
    strategist = await make_user(stack.engine, "strategist", [client, other])
    await login(stack.web, strategist.email)
    page = await stack.web.get(f"/c/{other.slug}/plan")
    r = await stack.web.post(
        f"/c/{other.slug}/plan",
        data={
            "csrf_token": csrf_of(page),
            "name": "Autre",
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
        },
    )
    other_version = r.headers["location"].split("/v/")[1].split("?")[0]
    # The same version seen under another client's address does not exist.
    r = await stack.web.get(f"/c/{client.slug}/plan/v/{other_version}")
    assert r.status_code == 404
    viewer = await make_user(stack.engine, "client_viewer", [other])
    await stack.web.post("/logout", data={"csrf_token": csrf_of(page)})
    await login(stack.web, viewer.email)
    r = await stack.web.get(f"/c/{other.slug}/plan/v/{other_version}")
    assert r.status_code == 200
    doc = soup(r)
    assert doc.select_one("#audience-form") is None
    assert doc.select_one("#new-plan") is None
