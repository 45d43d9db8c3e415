"""The demo loaded end to end into a fresh database, then read back through the services'
own HTTP APIs (no mocks): what the pages will show is what the generator made.

The database is a temporary SQLite file, or (``BALISE_TEST_DB=postgres``) a fresh
PostgreSQL database beside the test one, dropped afterwards: the demo must load on both
bulk paths.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import statistics
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from services.demo.generate import Demo
from services.demo.loader import load_all
from tests.conftest import DB_KIND, auth, build_app, pg_url, running
from tests.demo.helpers import followers, latest_snapshots, local_day

pytestmark = pytest.mark.slow


async def _fresh_pg(name_suffix: str) -> str:
    import asyncpg

    parts = urlsplit(pg_url())
    name = (parts.path.lstrip("/") or "balise_test") + name_suffix
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _drop_pg(url: str) -> None:
    import asyncpg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def loaded(
    tmp_path_factory: pytest.TempPathFactory, demo: Demo
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    from alembic import command

    from shared.db import alembic_config

    if DB_KIND == "postgres":
        url = await _fresh_pg("_demo_load")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    summary = await load_all(url, demo=demo)
    yield url, summary
    if DB_KIND == "postgres":
        await _drop_pg(url)


@contextlib.asynccontextmanager
async def _backend(name: str, url: str, var_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(name, url, var_dir, run_jobs_in_process=False)
    async with running(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as c:
            yield c


async def _accounts(c: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[dict]:
    out, cursor = [], None
    while True:
        r = await c.get(
            path, params={"limit": 500, **({"cursor": cursor} if cursor else {})}, headers=headers
        )
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["data"]
        cursor = body.get("next_cursor")
        if not cursor:
            return out


async def test_the_summary_counts_what_was_generated(loaded, demo: Demo):
    _url, summary = loaded
    posts = sum(len(latest_snapshots(a)) for a in demo.client.accounts)
    assert summary["client_posts"] == posts
    site = demo.client.website
    daily = sum(len(a.daily) for a in demo.client.accounts) + len(site.daily)
    assert summary["client_daily_rows"] == daily
    assert summary["web_rows"] == len(site.web)
    assert summary["users"] == 4


async def test_ingest_serves_the_clients_accounts_series_and_posts(loaded, demo, var_dir):
    url, summary = loaded
    cid = summary["client_id"]
    headers = auth([cid], role="strategist")
    async with _backend("ingest", url, var_dir) as c:
        accounts = await _accounts(c, f"/v1/clients/{cid}/accounts", headers)
        own = {a["network"]: a for a in accounts if a["owner_kind"] == "client"}
        assert set(own) == {"facebook", "instagram", "x", "linkedin", "youtube", "pinterest", "ga4"}
        assert all(a["collection_started_at"].startswith("2025-05-2") for a in own.values())

        # The follower series as ingest serves it is the generated one, gap included.
        ig = next(a for a in demo.client.accounts if a.network == "instagram")
        r = await c.get(
            f"/v1/accounts/{own['instagram']['id']}/metrics",
            params={"metric": "followers", "start": str(demo.start), "end": str(demo.end)},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        (series,) = r.json()
        assert [(p["day"], p["value"]) for p in series["points"]] == [
            (str(d.day), d.value) for d in ig.daily if d.metric == "followers"
        ]
        r = await c.get(
            f"/v1/accounts/{own['x']['id']}/metrics",
            params={"metric": "followers", "start": "2025-12-20", "end": "2025-12-31"},
            headers=headers,
        )
        days = [p["day"] for p in r.json()[0]["points"]]
        assert "2025-12-25" not in days and len(days) == 9  # the sync gap stays a gap

        # Posts come back with their latest snapshot and the rate by follower.
        r = await c.get(
            f"/v1/accounts/{own['instagram']['id']}/posts",
            params={"start": str(demo.start), "end": str(demo.end), "limit": 200},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        page = r.json()["data"]
        latest = latest_snapshots(ig)
        for post in page:
            assert post["metrics"] == latest[post["external_id"]].metrics
            assert post["source"] and "demo_instagram_graph" in post["source"]


async def test_the_audit_of_the_demo_client(loaded, demo: Demo, var_dir):
    url, summary = loaded
    cid = summary["client_id"]
    headers = auth([cid], role="strategist")
    start = demo.end - dt.timedelta(days=89)
    async with _backend("ingest", url, var_dir) as c:
        r = await c.get(
            f"/v1/clients/{cid}/audit",
            params={"start": str(start), "end": str(demo.end)},
            headers=headers,
        )
    assert r.status_code == 200, r.text
    report = r.json()
    by_network = {a["account"]["network"]: a for a in report["accounts"]}
    assert {"facebook", "instagram", "x", "linkedin", "youtube", "pinterest"} <= set(by_network)
    ig = next(a for a in demo.client.accounts if a.network == "instagram")
    in_period = [p for p in latest_snapshots(ig).values() if start <= local_day(p) <= demo.end]
    current = by_network["instagram"]["current"]
    assert current["posts"] == len(in_period)
    (site,) = report["website"]
    assert site["sessions"]["current"] > 0
    assert 0.05 < site["social_share"]["current"] < 0.4
    assert {s["network"] for s in site["by_network"]} >= {"facebook", "instagram", "pinterest"}
    assert site["landing_pages_scope"] == "social"
    assert report["findings"]
    # The audit's rate (mean over posts of engagements / followers on the day of posting)
    # is the one recomputed here from the generated records.
    fol = followers(ig)
    mine = statistics.mean(p.metrics["engagements"] / fol[local_day(p)] for p in in_period)
    rate = current["engagement_rate_by_follower"]["value"]
    assert rate == pytest.approx(mine, rel=1e-6)


def _followers_on(account, day: dt.date) -> float:
    return next(d.value for d in account.daily if d.metric == "followers" and d.day == day)


async def test_the_benchmark_serves_peers_results_relays_and_the_shortlist(
    loaded, demo: Demo, var_dir
):
    url, summary = loaded
    cid = summary["client_id"]
    headers = auth([cid], role="strategist")
    async with _backend("benchmark", url, var_dir) as c:
        r = await c.get(f"/v1/clients/{cid}/peer-groups", headers=headers)
        assert r.status_code == 200, r.text
        (group,) = r.json()["data"]
        assert group["peers"] == 6 and group["latest_result"] is not None
        r = await c.get(f"/v1/peer-groups/{group['id']}", headers=headers)
        members = r.json()["members"]
        assert {m["name"] for m in members} == {p.name for p in demo.peers}
        assert all(a["ingest_account_id"] for m in members for a in m["accounts"])

        # The computed version compares the generated figures: followers on the last day.
        r = await c.get(f"/v1/clients/{cid}/benchmarks/latest", headers=headers)
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["end"] == str(demo.end)
        kpi = next(
            k for k in result["kpis"] if k["network"] == "facebook" and k["kpi"] == "followers"
        )
        fb = next(a for a in demo.client.accounts if a.network == "facebook")
        assert kpi["client_value"] == _followers_on(fb, demo.end)
        for peer in demo.peers:
            mine = [a for a in peer.accounts if a.network == "facebook"]
            assert kpi["peer_values"][peer.name] == _followers_on(mine[0], demo.end)

        r = await c.get("/v1/relays", params={"limit": 200, "client_id": cid}, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == 60
        by_name = {x["name"]: x for x in page["data"]}
        for relay in demo.relays:
            row = by_name[relay.name]
            assert row["status"] == relay.status
            assert set(row["networks"]) == {a.network for a in relay.accounts}
            assert row["composite"] is not None  # scored when the demo was loaded
        r = await c.get(f"/v1/clients/{cid}/shortlist", headers=headers)
        keys = {r_.key: r_.name for r_ in demo.relays}
        assert {e["relay"]["name"] for e in r.json()} == {keys[k] for k in demo.shortlist}

        # Deduplication proposes the relays entered twice.
        r = await c.get("/v1/relays/duplicates", headers=headers)
        proposed = {frozenset((p["a"]["name"], p["b"]["name"])) for p in r.json()}
        names = {r_.key: r_.name for r_ in demo.relays}
        expected = {
            frozenset((names[d.duplicate_of], d.name)) for d in demo.relays if d.duplicate_of
        }
        assert expected <= proposed


async def test_the_planner_holds_a_draft_with_the_co_creators(loaded, demo: Demo, var_dir):
    url, summary = loaded
    cid = summary["client_id"]
    headers = auth([cid], role="strategist")
    async with _backend("planner", url, var_dir) as c:
        r = await c.get("/v1/plans", params={"client_id": cid}, headers=headers)
        assert r.status_code == 200, r.text
        (plan,) = r.json()["data"]
        (version,) = plan["versions"]
        assert version["status"] == "draft"
        r = await c.get(f"/v1/versions/{version['id']}", headers=headers)
        assert r.status_code == 200, r.text
        doc = r.json()["document"]
    assert len(doc["audiences"]) == 4 and len(doc["objectives"]) == 6
    assert {s["network"] for s in doc["spaces"]} == {
        "facebook",
        "instagram",
        "x",
        "linkedin",
        "youtube",
        "pinterest",
    }
    co = {r_.name for r_ in demo.relays if r_.status == "co_creator"}
    assert {c_["name"] for c_ in doc["cocreators"]} == co
    assert sum(p["share"] for p in doc["pillars"]) == pytest.approx(1.0)
