"""The web shell's pages, read as HTML."""

from __future__ import annotations

from services.ingest.models import IngestJob
from shared.jobs import JobStatus
from tests.web.conftest import csrf_of, login, make_client, make_user, open_stack, soup


async def test_client_home_shows_steps_and_recent_jobs(stack):
    client = await make_client(stack.engine, "Festival des Neiges")
    user = await make_user(stack.engine, "community_manager", [client])
    async with await stack.session() as s:
        s.add(
            IngestJob(
                name="ingest.import_file",
                client_id=client.id,
                status=JobStatus.succeeded,
                progress=100,
            )
        )
        await s.commit()
    await login(stack.web, user.email)
    page = soup(await stack.web.get(f"/c/{client.slug}"))
    assert page.find("h1").get_text() == "Festival des Neiges"
    steps = page.select("nav.steps a.step:not(.home)")
    assert [s.select_one(".num").get_text() for s in steps] == ["1", "2", "3", "4"]
    ingest_panel = page.select_one("[data-panel=ingest]")
    assert ingest_panel.select_one("td").get_text() == "ingest.import_file"
    assert not page.select(".degraded")


async def test_a_backend_down_degrades_its_panel_only(migrated, var_dir, engine):
    async with open_stack(migrated, var_dir, engine, down=("benchmark",)) as stack:
        client = await make_client(stack.engine)
        user = await make_user(stack.engine, "strategist", [client])
        await login(stack.web, user.email)
        r = await stack.web.get(f"/c/{client.slug}")
        assert r.status_code == 200
        page = soup(r)
        assert page.select_one("[data-panel=benchmark] .degraded") is not None
        assert page.select_one("[data-panel=ingest] .degraded") is None
        assert page.select_one("[data-panel=planner] .degraded") is None


async def test_steps_not_built_yet_say_so(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    from services.web.nav import STEPS

    for s in STEPS:
        r = await stack.web.get(f"/c/{client.slug}/{s.key}")
        if s.available:
            assert r.status_code in (200, 303)
        else:
            assert r.status_code == 200
            assert soup(r).select_one("p.notice") is not None


async def test_other_clients_are_not_found(stack):
    mine = await make_client(stack.engine)
    theirs = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [mine])
    await login(stack.web, user.email)
    r = await stack.web.get(f"/c/{theirs.slug}")
    assert r.status_code == 404
    switcher = [
        o["value"] for o in soup(await stack.web.get("/clients")).select("#client-switch option")
    ]
    assert f"/c/{mine.slug}" in switcher and f"/c/{theirs.slug}" not in switcher


async def test_admin_manages_users_roles_and_assignments(stack):
    client = await make_client(stack.engine, "Parc Marin")
    admin = await make_user(stack.engine, "admin")
    await login(stack.web, admin.email)
    page = await stack.web.get("/admin/users")
    assert page.status_code == 200
    r = await stack.web.post(
        "/admin/users",
        data={
            "csrf_token": csrf_of(page),
            "email": "nouvelle@example.test",
            "name": "Nouvelle CM",
            "password": "assez-long-mot-de-passe",
            "role": "community_manager",
            "client_ids": [str(client.id)],
        },
    )
    assert r.status_code == 303
    page = soup(await stack.web.get("/admin/users"))
    row = next(
        tr
        for tr in page.select("table.users tbody tr")
        if tr.find("td", string="nouvelle@example.test")
    )
    assert "Parc Marin" in row.get_text()
    # A too-short password is refused with a message, nothing created.
    page2 = await stack.web.get("/admin/users")
    r = await stack.web.post(
        "/admin/users",
        data={
            "csrf_token": csrf_of(page2),
            "email": "court@example.test",
            "name": "Court",
            "password": "court",
            "role": "strategist",
        },
    )
    assert r.status_code == 422
    assert soup(r).select_one("p.error") is not None
    assert "court@example.test" not in (await stack.web.get("/admin/users")).text


async def test_non_admins_cannot_reach_user_admin(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    assert (await stack.web.get("/admin/users")).status_code == 403


async def test_job_component_polls_until_done_and_offers_retry_on_failure(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    async with await stack.session() as s:
        running = IngestJob(
            name="ingest.import_file",
            client_id=client.id,
            status=JobStatus.running,
            progress=40,
            message="row 4,000",
        )
        failed = IngestJob(
            name="ingest.import_file",
            client_id=client.id,
            status=JobStatus.failed,
            error="row 3: bad date",
        )
        s.add(running)
        s.add(failed)
        await s.commit()
        ids = running.id, failed.id
    await login(stack.web, user.email)
    r = await stack.web.get(f"/jobs/ingest/{ids[0]}", headers={"HX-Request": "true"})
    div = soup(r).select_one("div.job")
    assert div["hx-trigger"] == "every 1s" and div.select_one("progress")["value"] == "40"
    r = await stack.web.get(f"/jobs/ingest/{ids[1]}")
    div = soup(r).select_one("div.job")
    assert "hx-trigger" not in div.attrs
    assert div.select_one(".job-error").get_text() == "row 3: bad date"
    button = div.select_one("button[hx-post]")
    r = await stack.web.post(
        button["hx-post"], headers={"X-CSRF-Token": csrf_of(await stack.web.get("/clients"))}
    )
    assert soup(r).select_one("div.job")["data-job-status"] == "queued"
    other = await make_client(stack.engine)
    async with await stack.session() as s:
        foreign = IngestJob(name="ingest.import_file", client_id=other.id)
        s.add(foreign)
        await s.commit()
    assert (await stack.web.get(f"/jobs/ingest/{foreign.id}")).status_code == 404


async def test_fragments_are_served_to_htmx_and_pages_otherwise(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    full = await stack.web.get("/clients")
    frag = await stack.web.get("/clients", headers={"HX-Request": "true"})
    restore = await stack.web.get(
        "/clients", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert soup(full).find("html") is not None
    assert soup(frag).find("html") is None and soup(frag).find("h1") is not None
    assert soup(restore).find("html") is not None
    assert full.headers["vary"] == frag.headers["vary"] == "HX-Request"


async def test_unknown_pages_render_a_404_page(stack):
    r = await stack.web.get("/no/such/page")
    assert r.status_code == 404 and soup(r).find("h1").get_text() == "404"


async def test_the_dashboard_served_ahead_of_fastapi_answers_as_the_declared_route(stack):
    """The client home is served by a plain route (``home.dashboard_route``) ahead of
    FastAPI; without it the declared route answers. Both give the same status, location
    and page for a signed-in user's own client (with and without ``HX-Request``), another
    client, an unknown one and a visitor who is not signed in."""
    import httpx

    from services.web.routers import home

    mine, other = await make_client(stack.engine), await make_client(stack.engine)
    user = await make_user(stack.engine, "community_manager", [mine])
    async with await stack.session() as s:
        s.add(IngestJob(name="ingest.sync", client_id=mine.id, status=JobStatus.failed))
        await s.commit()
    await login(stack.web, user.email)
    visitor = httpx.AsyncClient(transport=stack.web._transport, base_url="http://web")
    requests = [
        (stack.web, f"/c/{mine.slug}", {}),
        (stack.web, f"/c/{mine.slug}", {"HX-Request": "true"}),
        (stack.web, f"/c/{other.slug}", {}),
        (stack.web, "/c/no-such-client", {}),
        (visitor, f"/c/{mine.slug}", {}),
    ]

    async def answers() -> list[tuple[int, str | None, str | None, str]]:
        out = []
        for client, url, headers in requests:
            r = await client.get(url, headers=headers)
            ctype, location = r.headers.get("content-type"), r.headers.get("location")
            out.append((r.status_code, ctype, location, r.text))
        return out

    routes = stack.web_app.router.routes
    assert routes[0] is home.dashboard_route
    fast = await answers()
    routes.remove(home.dashboard_route)
    try:
        declared = await answers()
    finally:
        routes.insert(0, home.dashboard_route)
    assert fast == declared
    assert [a[0] for a in fast][:4] == [200, 200, 404, 404]
    assert fast[4][0] in (303, 307) and "/login" in (fast[4][2] or "")
    from bs4 import BeautifulSoup

    panel = BeautifulSoup(fast[0][3], "html.parser").select_one("[data-panel=ingest]")
    assert panel is not None and "ingest.sync" in panel.get_text()
    await visitor.aclose()
