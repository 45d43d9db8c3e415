"""A backend is down: every page of the web app still renders, degraded where that backend's
data would be.

The data (a client with an import, a connection, jobs, a peer group, a relay, a plan and a
webhook subscription on each backend) is made once with everything up, through the web
forms where the product offers one; then the web app is started again with one backend's
URL on a loopback port nothing listens on (a real connection refusal), and every GET route
of the web app that answers HTML is walked with those real path parameters.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from services.benchmark.models import BenchmarkJob
from services.ingest.connections.models import Connection
from services.ingest.models import IngestJob
from services.planner.models import PlannerJob
from services.web.nav import STEPS
from shared.jobs import JobNames, JobStatus
from tests.ingest.helpers import FIXTURES
from tests.web.conftest import csrf_of, login, make_client, make_user, open_stack, soup

BACKENDS = ("ingest", "benchmark", "planner")
HOOKS = ("ingest", "benchmark")  # the backends that send webhooks

# Which backends each HTML page reads. A GET route missing from this map fails the walk, so
# a new page cannot escape it.
READS: dict[str, tuple[str, ...]] = {
    "/": (),
    "/login": (),
    "/clients": (),
    "/admin/users": (),
    "/settings/tokens": (),
    "/c/{slug}": BACKENDS,
    "/c/{slug}/{step_key}": (),
    "/c/{slug}/analyse": ("ingest",),
    "/c/{slug}/analyse/report/{job_id}": ("ingest",),
    "/c/{slug}/analyse/connections": ("ingest",),
    "/c/{slug}/analyse/connections/{connection_id}/reconnect": ("ingest",),
    "/c/{slug}/analyse/imports": ("ingest",),
    "/c/{slug}/analyse/imports/history": ("ingest",),
    "/c/{slug}/analyse/imports/{import_id}": ("ingest",),
    "/jobs/{service}/{job_id}": ("{service}",),
    "/c/{slug}/benchmark": ("benchmark",),
    "/c/{slug}/benchmark/groups/{group_id}": ("benchmark",),
    "/c/{slug}/benchmark/relays": ("benchmark",),
    "/c/{slug}/benchmark/relays/{relay_id}": ("benchmark",),
    "/c/{slug}/benchmark/shortlist": ("benchmark",),
    "/c/{slug}/benchmark/settings": ("benchmark",),
    "/c/{slug}/plan": ("planner",),
    "/c/{slug}/plan/v/{vid}": ("planner",),
    "/c/{slug}/plan/{plan_id}/compare": ("planner",),
    "/c/{slug}/implementation": ("planner",),
    "/c/{slug}/plan/v/{vid}/calendar": ("planner",),
    "/c/{slug}/plan/v/{vid}/dashboard": ("planner",),
    "/c/{slug}/plan/export-jobs/{job_id}": ("planner",),
    # The webhooks page asks every backend which events it sends (planner sends none).
    "/c/{slug}/webhooks": BACKENDS,
    "/c/{slug}/webhooks/{service}/{sub_id}/deliveries": ("{service}",),
}
# Not pages: the end of a provider's OAuth redirect (it needs the provider's state and
# code; tests/web/test_connections_pages.py covers it).
NOT_PAGES = {"/oauth/callback"}
# Fragments HTMX polls into a page (a job's progress): rendered alone, never whole pages.
FRAGMENTS = {
    "/c/{slug}/analyse/report/{job_id}",
    "/c/{slug}/plan/export-jobs/{job_id}",
    "/c/{slug}/webhooks/{service}/{sub_id}/deliveries",
    "/jobs/{service}/{job_id}",
}


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class World:
    slug: str
    email: str
    ids: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, str] = field(default_factory=dict)
    subs: dict[str, int] = field(default_factory=dict)


def _routes(routes: Any) -> Any:
    """(path, route) of every endpoint, through included routers (FastAPI keeps them as
    branches resolved at match time)."""
    for r in routes:
        if hasattr(r, "effective_route_contexts"):
            for c in r.effective_route_contexts():
                yield c.path, c.original_route
        else:
            yield getattr(r, "path", ""), r


def html_get_routes(web_app: Any) -> list[str]:
    out = [
        path
        for path, r in _routes(web_app.routes)
        if isinstance(r, APIRoute) and "GET" in r.methods and r.response_class is HTMLResponse
    ]
    assert len(out) > 20, "the route walk found too few pages: has FastAPI's routing changed?"
    return sorted(set(out))


def expand(path: str, w: World) -> list[tuple[str, tuple[str, ...]]]:
    """Concrete URLs of a route template, each with the backends it reads."""
    reads = READS[path]
    services: tuple[str | None, ...] = (None,)
    if "{sub_id}" in path:
        services = tuple(w.subs)  # the backends that send webhooks
    elif "{service}" in path:
        services = BACKENDS
    urls = []
    for svc in services:
        steps = [s.key for s in STEPS] if "{step_key}" in path else [None]
        for step_key in steps:
            values: dict[str, Any] = {
                "slug": w.slug,
                "service": svc,
                "step_key": step_key,
                "job_id": w.jobs.get(svc or "", ""),
                "sub_id": w.subs.get(svc or "", 0),
                **w.ids,
            }
            if path == "/c/{slug}/analyse/report/{job_id}":
                values["job_id"] = w.jobs["audit_pdf"]
            if path == "/c/{slug}/plan/export-jobs/{job_id}":
                values["job_id"] = w.jobs["export"]
            url = re.sub(r"\{(\w+)\}", lambda m, v=values: str(v[m.group(1)]), path)
            svc_reads = tuple(svc if r == "{service}" else r for r in reads)
            urls.append((url, svc_reads))
    return urls


def reads_of(url: str, w: World) -> tuple[str, ...]:
    """The backends the page at ``url`` reads (where a redirect lands)."""
    path = urlsplit(url).path
    # The catch-all step route last, as the app matches it.
    for template in sorted(READS, key=lambda t: "{step_key}" in t):
        for concrete, reads in expand(template, w):
            if concrete == path:
                return reads
    raise AssertionError(f"redirected to {url}, a page the walk does not know")


async def build_world(stack: Any) -> World:
    """One client with real data on every backend, made with everything up."""
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "admin")
    w = World(slug=client.slug, email=user.email)
    web = stack.web
    assert (await login(web, user.email)).status_code == 303
    base = f"/c/{client.slug}"
    page = await web.get(f"{base}/analyse/imports")
    csrf = csrf_of(page)
    hx = {"HX-Request": "true", "X-CSRF-Token": csrf}

    r = await web.post(
        f"{base}/analyse/imports",
        files={"file": ("posts.csv", (FIXTURES / "meta_facebook_posts.csv").read_bytes())},
        headers=hx,
    )
    assert r.status_code == 200, r.text
    hist = soup(await web.get(f"{base}/analyse/imports"))
    w.ids["import_id"] = hist.select_one("tr[data-import]")["data-import"]

    r = await web.post(f"{base}/benchmark/groups", data={"name": "Musées", "csrf_token": csrf})
    assert r.status_code == 303, r.text
    w.ids["group_id"] = r.headers["location"].rstrip("/").split("/")[-1]
    r = await web.post(
        f"{base}/benchmark/relays",
        data={
            "name": "Guide",
            "accounts": f"instagram: g{client.slug[-10:]}",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 303, r.text
    w.ids["relay_id"] = r.headers["location"].rstrip("/").split("/")[-1]

    r = await web.post(
        f"{base}/plan",
        data={
            "csrf_token": csrf,
            "name": "Plan 2026",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
        },
    )
    assert r.status_code == 303, r.text
    w.ids["vid"] = int(r.headers["location"].split("?")[0].rstrip("/").split("/")[-1])
    # A second version, so the comparison page (versions 1 and 2 by default) has both.
    vbase = f"{base}/plan/v/{w.ids['vid']}"
    r = await web.post(
        f"{vbase}/items/audiences",
        data={"step": "audiences", "name": "Familles", "age_bands": ["25-34"], "region": "QC"},
        headers=hx,
    )
    audience = soup(r).select_one("[data-audience]")
    assert audience is not None, r.text
    r = await web.post(
        f"{vbase}/items/objectives",
        data={
            "step": "objectives",
            "audience_id": audience["data-audience"],
            "kind": "engagement",
            "kpi": "engagement_rate_by_follower",
            "network": "instagram",
            "target": "0,02",
        },
        headers=hx,
    )
    assert soup(r).select_one("tr[data-objective]") is not None, r.text
    for action in ("approve", "new-version"):
        r = await web.post(f"{base}/plan/v/{w.ids['vid']}/{action}", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 303, soup(r).select_one("#step-error")
    token_headers = {"Authorization": f"Bearer {planner_token(client.id)}"}
    plans = (
        await stack.backends["planner"].get(
            f"/v1/plans?client_id={client.id}", headers=token_headers
        )
    ).json()
    w.ids["plan_id"] = plans["data"][0]["id"] if isinstance(plans, dict) else plans[0]["id"]

    for svc in HOOKS:
        page = await web.get(f"{base}/webhooks")
        form = soup(page).select_one(f"form[data-form=subscribe-{svc}]")
        assert form is not None, f"no subscription form for {svc}"
        events = [i["value"] for i in form.select("input[name=event_types]")][:1]
        r = await web.post(
            f"{base}/webhooks",
            data={
                "csrf_token": csrf_of(page),
                "service": svc,
                "url": "http://127.0.0.1:9/hook",
                "event_types": events,
                "idempotency_key": form.select_one("input[name=idempotency_key]")["value"],
            },
        )
        assert r.status_code in (200, 303), r.text
    async with await stack.session() as s:
        from sqlmodel import select

        from services.benchmark.webhooks.models import BenchmarkWebhookSubscription
        from services.ingest.webhooks.models import IngestWebhookSubscription

        for svc, model in (
            ("ingest", IngestWebhookSubscription),
            ("benchmark", BenchmarkWebhookSubscription),
        ):
            row = (await s.exec(select(model).where(model.client_id == client.id))).first()
            assert row is not None, f"no {svc} subscription made"
            w.subs[svc] = int(row.id)
        conn = Connection(
            client_id=client.id,
            provider="x",
            auth_kind="token",  # reconnecting it is a page (an OAuth one goes to X)
            networks=["x"],
            accounts=[{"network": "x", "external_id": "1", "account_id": None, "name": "X"}],
            scopes_needed=["tweet.read"],
            scopes_granted=["tweet.read"],
            access_token_enc="unused",
        )
        jobs = {
            "ingest": IngestJob(name=JobNames.INGEST_SYNC_ACCOUNT, client_id=client.id),
            "benchmark": BenchmarkJob(name=JobNames.BENCHMARK_RESCORE, client_id=client.id),
            "planner": PlannerJob(name=JobNames.PLANNER_KPI_CHECK, client_id=client.id),
            "audit_pdf": IngestJob(
                name=JobNames.INGEST_AUDIT_PDF, client_id=client.id, status=JobStatus.running
            ),
            "export": PlannerJob(
                name=JobNames.PLANNER_EXPORT, client_id=client.id, args={"version_id": w.ids["vid"]}
            ),
        }
        s.add(conn)
        for j in jobs.values():
            s.add(j)
        await s.commit()
        w.ids["connection_id"] = conn.id
        w.jobs = {k: j.id for k, j in jobs.items()}
    return w


def planner_token(client_id: int) -> str:
    from tests.conftest import token_for

    return token_for([client_id], role="admin", audience=("planner",))


async def walk(stack: Any, w: World, down: str | None) -> dict[str, int]:
    """GET every page; each renders 200 (after its redirect), degraded only where it reads
    the backend that is down. Returns the number of pages by outcome."""
    seen = {"pages": 0, "degraded": 0}
    routes = html_get_routes(stack.web_app)
    unknown = [p for p in routes if p not in READS and p not in NOT_PAGES]
    assert not unknown, f"GET pages with no entry in READS (say what they read): {unknown}"
    missing = [p for p in READS if p not in routes]
    assert not missing, f"READS names pages the web app no longer has: {missing}"
    for path in routes:
        if path in NOT_PAGES:
            continue
        for url, _ in expand(path, w):
            reads = reads_of(url, w)  # the route the app matches (a step may be a page's)
            r = await stack.web.get(url)
            hops = 0
            while r.status_code in (302, 303) and hops < 3:
                url = r.headers["location"]
                reads = reads_of(url, w)
                r = await stack.web.get(url)
                hops += 1
            where = f"{url} with {down or 'nothing'} down"
            assert r.status_code == 200, f"{where}: {r.status_code} {r.text[:300]}"
            assert r.headers["content-type"].startswith("text/html"), where
            doc = soup(r)
            if path not in FRAGMENTS or hops:
                assert doc.find("html") is not None, f"{where}: not a whole page"
            boxes = doc.select(".degraded")
            seen["pages"] += 1
            if down is None:
                assert not boxes, f"{where}: degraded with everything up: {boxes[0].get_text()}"
                continue
            for b in boxes:
                assert down in b.get_text(), f"{where}: degraded for another service: {b}"
            if down in reads:
                assert boxes, f"{where}: reads {down} but shows no degraded panel"
                seen["degraded"] += 1
            else:
                assert not boxes, f"{where}: degraded though it does not read {down}"
    return seen


async def test_every_page_renders_with_a_backend_down(migrated, var_dir, engine):
    async with open_stack(migrated, var_dir, engine) as stack:
        w = await build_world(stack)
    port = closed_port()
    for down in (None, *BACKENDS):
        async with open_stack(
            migrated,
            var_dir,
            engine,
            down=(down,) if down else (),
            down_url=f"http://127.0.0.1:{port}",
        ) as stack:
            assert (await login(stack.web, w.email)).status_code == 303
            seen = await walk(stack, w, down)
        assert seen["pages"] >= len(READS)
        if down:
            assert seen["degraded"] >= 5, seen
