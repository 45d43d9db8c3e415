"""Step 2's pages on the whole stack: peer groups, the benchmark with its charts, best
practices, the relay directory, a relay's score explanations, the shortlist."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from services.benchmark.clients.ingest import IngestClient
from services.benchmark.models import BenchmarkJob
from services.benchmark.peers.jobs import compute_peer_benchmark
from services.ingest.store.models import Account
from shared.db import create_sessionmaker
from tests.conftest import TEST_SECRET
from tests.ingest.factories import add_daily, add_post, at, create_account
from tests.web.conftest import login, make_client, make_user, open_stack, soup


@pytest.fixture
async def stack(migrated, var_dir, engine):
    async with open_stack(migrated, var_dir, engine) as s:
        # benchmark reads the real ingest app, in-process
        s.apps["benchmark"].state.ingest = IngestClient(
            "http://ingest", transport=httpx.ASGITransport(app=s.apps["ingest"])
        )
        yield s


async def _run_job(s: Any, job_id: str) -> dict[str, Any]:
    from services.benchmark.config import BenchmarkSettings

    maker = create_sessionmaker(s.engine)
    async with maker() as db:
        job = await db.get(BenchmarkJob, job_id)

    async def progress(pct: float, msg: str = "") -> None:
        return None

    ctx = {
        "job": job,
        "settings": BenchmarkSettings(secret_key=TEST_SECRET, database_url="sqlite://"),
        "sessionmaker": maker,
        "progress": progress,
        "ingest": s.apps["benchmark"].state.ingest,
    }
    return dict(await compute_peer_benchmark(ctx, job_id))


async def test_peer_group_to_benchmark_page(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    web = stack.web
    base = f"/c/{client.slug}/benchmark"
    page = await web.get(base)
    assert page.status_code == 200
    doc = soup(page)
    assert doc.select_one("#new-group") is not None
    csrf = doc.find("input", attrs={"name": "csrf_token"})["value"]
    r = await web.post(f"{base}/groups", data={"name": "Musées", "csrf_token": csrf})
    assert r.status_code == 303
    group_url = r.headers["location"]
    d0, d1 = dt.date(2025, 1, 1), dt.date(2025, 3, 31)
    for i, name in enumerate(["Musée A", "Musée B", "Musée C"]):
        r = await web.post(
            f"{group_url}/peers",
            data={"name": name, "accounts": f"instagram: musee{i}", "csrf_token": csrf},
        )
        assert r.status_code == 303, r.text
    # a bad accounts line is refused with the reason, nothing added
    r = await web.post(
        f"{group_url}/peers",
        data={"name": "X", "accounts": "myspace: x", "csrf_token": csrf},
    )
    assert r.status_code == 422 and "myspace: x" in soup(r).select_one(".error").text
    page = await web.get(group_url)
    rows = soup(page).select("#peers tbody tr")
    assert [r.select_one("td").text.strip() for r in rows] == ["Musée A", "Musée B", "Musée C"]

    # a peer's data exported from another tool goes to ingest's import pipeline
    form = soup(page).select_one("#peers form[action$='/import']")
    assert form is not None
    r = await web.post(
        form["action"],
        files={"file": ("bad.csv", b"nothing,here\n1,2\n")},
        data={"csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    status = soup(r).select_one(".peer-import")
    # an unknown layout: ingest keeps it for the column-mapping step, nothing imported yet
    assert status is not None and "associez ses colonnes" in status.get_text()

    # the peers' public data, as ingest collected it; the client's own account
    maker = create_sessionmaker(stack.engine)
    async with maker() as db:
        from sqlmodel import select

        peers = (
            await db.exec(
                select(Account)
                .where(Account.client_id == client.id, Account.owner_kind == "peer")
                .order_by(Account.id)  # type: ignore[arg-type]
            )
        ).all()
        assert len(peers) == 3
        own = await create_account(db, client.id, "instagram", external_id=f"own-{client.slug}")
        for k, acc in enumerate([own, *peers]):
            await add_daily(db, acc, "followers", {d0: 1000 * (k + 1), d1: 1100 * (k + 1)})
            await add_post(
                db,
                acc,
                at(2025, 1, 10),
                metrics={"engagements": 10 * (k + 1)},
                external_id=f"{acc.id}-p",
            )
        await db.commit()

    r = await web.post(
        f"{group_url}/compute",
        data={"start": d0.isoformat(), "end": d1.isoformat(), "csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    job_div = soup(r).select_one(".job")
    assert job_div["data-job-status"] == "queued"
    job_id = job_div["id"].removeprefix("job-")
    out = await _run_job(stack, job_id)
    assert out["version"] == 1

    page = await web.get(group_url)
    doc = soup(page)
    result = doc.select_one("#result")
    assert result["data-version"] == "1"
    table = doc.select_one('table.benchmark[data-network="instagram"]')
    heads = [th.text.strip() for th in table.select("thead th")]
    assert heads[2:5] == ["Musée A", "Musée B", "Musée C"] and "P50" in heads
    followers = table.select_one('tr[data-kpi="followers"]')
    cells = [" ".join(td.text.split()) for td in followers.select("td")]
    assert cells[0] == "1 100"  # client (fr_CA formatting), peers 2,200 / 3,300 / 4,400
    assert cells[1:4] == ["2 200", "3 300", "4 400"]
    industry = table.select('tr[data-kpi="engagement_rate_by_follower"] .industry')
    sources = [i.select_one("small").text for i in industry]
    # the newest figure of each series, each with its method and denominator
    assert any(x.startswith("Rival IQ") and "median" in x for x in sources)
    assert any(x.startswith("Socialinsider") and "mean" in x for x in sources)
    assert all("÷ followers" in x for x in sources)
    charts = doc.select("figure.chart-box svg[role=img]")
    assert charts and charts[0].find("title") is not None
    assert doc.select_one("#no-claims") is not None  # too few posts: nothing claimed, and why


async def test_relay_directory_profile_and_shortlist(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    web = stack.web
    base = f"/c/{client.slug}/benchmark"
    page = await web.get(f"{base}/relays")
    csrf = soup(page).find("input", attrs={"name": "csrf_token"})["value"]
    name = f"Guide {client.slug}"
    r = await web.post(
        f"{base}/relays",
        data={
            "name": name,
            "accounts": f"instagram: g{client.slug[-8:]}",
            "topics": "vélo, ski",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 303
    profile_url = r.headers["location"]
    page = await web.get(profile_url)
    doc = soup(page)
    assert doc.select_one("h1").text.strip().startswith(name)
    assert "Not scored yet" in doc.select_one("#scores").text or doc.select("#scores")
    rid = profile_url.rsplit("/", 1)[1]
    # filters find it; the shortlist toggle flips through HTMX
    page = await web.get(f"{base}/relays", params={"q": client.slug[-8:]})
    rows = soup(page).select("table.relays tbody tr")
    assert [r["data-relay"] for r in rows] == [rid]
    r = await web.post(
        f"{base}/relays/{rid}/shortlist",
        data={"action": "add", "csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    assert soup(r).select_one("button")["data-shortlisted"] == "1"
    page = await web.get(f"{base}/shortlist")
    assert [tr["data-relay"] for tr in soup(page).select("#shortlist tbody tr")] == [rid]
    assert soup(page).select_one(f'#co-creators [data-candidate="{rid}"]') is not None
    # the HTMX filter request gets the results fragment only
    frag = await web.get(
        f"{base}/relays", params={"q": client.slug[-8:]}, headers={"HX-Request": "true"}
    )
    assert soup(frag).select_one("#relay-filters") is None and soup(frag).select_one(
        "#relay-results"
    )


async def test_client_viewer_sees_no_directory(stack):
    client = await make_client(stack.engine)
    viewer = await make_user(stack.engine, "client_viewer", [client])
    await login(stack.web, viewer.email)
    base = f"/c/{client.slug}/benchmark"
    page = await stack.web.get(base)
    assert page.status_code == 200
    links = [a["href"] for a in soup(page).select(".subnav a")]
    assert f"{base}/relays" not in links and f"{base}/shortlist" in links
    assert soup(page).select_one("#new-group") is None
    assert (await stack.web.get(f"{base}/relays")).status_code == 403
    assert (await stack.web.get(f"{base}/shortlist")).status_code == 200


async def test_relay_profile_shows_its_scores_explanation_with_formatted_numbers(stack):
    """A score stored as a rescoring run stores it (the compact JSON) is expanded on the
    profile, its data shown as numbers for people (51 055 followers, not 51055.0)."""
    import numpy as np
    from sqlalchemy import insert

    from services.benchmark.scoring import engine as E
    from services.benchmark.scoring import explain
    from services.benchmark.scoring.models import RelayScore, ScoringRun

    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    base = f"/c/{client.slug}/benchmark"
    csrf = soup(await stack.web.get(f"{base}/relays")).find("input", attrs={"name": "csrf_token"})
    r = await stack.web.post(
        f"{base}/relays",
        data={
            "name": f"Scored {client.slug}",
            "accounts": f"instagram: s{client.slug[-8:]}",
            "csrf_token": csrf["value"],
        },
    )
    profile_url = r.headers["location"]
    rid = int(profile_url.rsplit("/", 1)[1])
    as_of = 1_750_000_000
    table = E.AccountTable.build([(1, 0, "instagram")], 1)
    facts = E.AccountFacts.empty(1)
    facts.followers[:] = 51_055
    facts.posts_recent[:] = 10  # 10 posts in 90 days: 0.78 a week
    facts.has_posts[:] = True
    facts.last_post[:] = as_of - 86_400
    s = E.score(table, facts, as_of=as_of)
    async with create_sessionmaker(stack.engine)() as db:
        run = ScoringRun(
            settings_version=1,
            tier_scheme="hypeauditor",
            window_start=dt.date(2024, 6, 16),
            window_end=dt.date(2025, 6, 15),
        )
        db.add(run)
        await db.flush()
        await (await db.connection()).execute(
            insert(RelayScore),
            [
                {
                    "relay_id": rid,
                    "run_id": run.id,
                    "composite": float(s.composite[0]),
                    "reach": float(s.reach[0]),
                    "activity": float(s.activity[0]),
                    "components": explain.compact_all(s)[0],
                    "computed_at": dt.datetime.now(dt.UTC),
                }
            ],
        )
        await db.commit()
    page = soup(await stack.web.get(profile_url))
    reach = " ".join(page.select_one('tr[data-component="reach"]').text.split())
    activity = " ".join(page.select_one('tr[data-component="activity"]').text.split())
    assert np.isclose(s.reach[0], 100 * (np.log10(51_055) - 2) / 5)
    assert "51055.0" not in reach and any(f"51{sep}055" in reach for sep in " \u00a0\u202f,")
    assert "0.7777" not in activity and any(f"0{d}78" in activity for d in ".,")
