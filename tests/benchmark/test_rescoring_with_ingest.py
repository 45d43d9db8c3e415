"""Rescoring from the real ingest app (its columnar streams), by hand; weights rescore."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from sqlmodel import select

from services.benchmark.models import BenchmarkJob
from services.benchmark.scoring.jobs import rescore_relays
from services.benchmark.scoring.models import RelayRelevance, RelayScore, ScoringRun
from services.ingest.store.models import Account
from tests.conftest import auth, new_client_id
from tests.ingest.factories import add_daily, add_post, at

AS_OF = dt.date(2025, 6, 30)


async def _job(db, **args):
    job = BenchmarkJob(name="benchmark.rescore_relays", args={"as_of": AS_OF.isoformat(), **args})
    db.add(job)
    await db.flush()
    return job


async def test_rescoring_by_hand_then_weights_change(stack, job_context, db):
    cid = new_client_id()
    h = auth([cid])
    async with stack() as s:
        c = s.benchmark
        a = (
            await c.post(
                "/v1/relays",
                json={
                    "name": "Cycliste Charlevoix",
                    "bio": "Guide de vélo et de randonnées en Charlevoix",
                    "accounts": [{"network": "instagram", "handle": "cyclo"}],
                },
                headers=h,
            )
        ).json()
        b = (
            await c.post(
                "/v1/relays",
                json={"name": "Chef", "bio": "Cuisine du terroir", "topics": ["cuisine"]},
                headers=h,
            )
        ).json()
        bot = (
            await c.post(
                "/v1/relays",
                json={"name": "Bot", "accounts": [{"network": "instagram", "handle": "bot"}]},
                headers=h,
            )
        ).json()
        account = await db.get(Account, a["accounts"][0]["ingest_account_id"])
        june = [dt.date(2025, 6, d) for d in range(1, 31)]
        await add_daily(db, account, "followers", dict.fromkeys(june, 20_000))
        await add_daily(db, account, "following", {AS_OF: 300})
        # June 1..10 at 20,000 followers: 50, 60, … 130, then 500. The median rate is
        # (90 + 100) / 2 / 20,000 = 0.00475; the mean would be 131 / 20,000.
        for k in range(10):
            await add_post(
                db,
                account,
                at(2025, 6, 1 + k),
                metrics={"engagements": 500 if k == 9 else 50 + 10 * k},
                external_id=f"cyc-{k}",
            )
        # The bot: 5,000 followers, +1,000 in one day on 20 June (a spike: ≥ 100, > 5 % of
        # the day before, > 10 × the mean daily change 1000 / 29), following 2,000 (mass
        # follower, > 1,500), and ten posts at exactly 2 % (uniform engagement).
        bot_acc = await db.get(Account, bot["accounts"][0]["ingest_account_id"])
        await add_daily(db, bot_acc, "followers", {d: 5_000 if d.day < 20 else 6_000 for d in june})
        await add_daily(db, bot_acc, "following", {AS_OF: 2_000})
        for k in range(10):
            await add_post(
                db, bot_acc, at(2025, 6, 1 + k), metrics={"engagements": 100}, external_id=f"b{k}"
            )
        r = await c.put(
            f"/v1/clients/{cid}/themes", json={"keywords": ["Vélo", "randonnée", "vélo"]}, headers=h
        )
        assert r.json()["keywords"] == ["Vélo", "randonnée"]

        progress: list = []
        out = await rescore_relays(job_context(s, await _job(db), progress), "job")
        assert out["relays"] >= 2 and progress[-1][1].startswith("scored")
        score = await db.get(RelayScore, a["id"])
        # median rate 0.00475; micro tier, published Instagram micro benchmark 0.54 %
        # → resonance 50 + 50·log2(0.00475/0.0054)
        resonance = 50 + 50 * math.log2(0.00475 / 0.0054)
        reach = 100 * (math.log10(20_000) - 2) / 5
        # 10 posts in 90 days → 0.778/week → 60·0.778/3; the last post 10 June 12:00, as of
        # 30 June 23:59:59 → 20.5 days (less a second) → recency 1 − (20.5 − 7)/173
        days = 20.5 - 1 / 86_400
        activity = 60 * (10 / (90 / 7)) / 3 + 40 * (1 - (days - 7) / 173)
        assert score.reach == pytest.approx(reach)
        assert score.resonance == pytest.approx(resonance)
        assert score.activity == pytest.approx(activity)
        assert score.authenticity == 100.0
        expected = (0.2 * reach + 0.3 * resonance + 0.15 * 100 + 0.1 * activity) / 0.75
        assert score.composite == pytest.approx(expected)
        # Stored compact, read whole: the API expands it with the run's facts.
        assert score.components["v"] == 2
        ex = (await c.get(f"/v1/relays/{a['id']}", headers=h)).json()["explanation"]
        assert ex["run"] == {"id": out["run_id"], "as_of": AS_OF.isoformat()}
        assert ex["data_path"] == "columns" and "median over the posts" in ex["rate_method"]
        acc = ex["accounts"][0]
        assert acc["engagement_rate_by_follower"] == pytest.approx(0.00475)
        assert acc["rate_posts"] == 10 and acc["following"] == 300
        assert acc["last_post"] == "2025-06-10"
        checks = {x["check"]: x["result"] for x in acc["authenticity_checks"]}
        assert checks == {
            "mass_follower": "ok",
            "following_ratio": "ok",
            "growth_spikes": "ok",
            "engagement_too_high": "ok",
            "engagement_uniform": "ok",
        }
        assert ex["tier"] == "micro"
        # The bot loses 30 (mass follower) + 15 (one spike) + 10 (uniform engagement).
        bot_score = await db.get(RelayScore, bot["id"])
        assert bot_score.authenticity == 45.0
        bot_ex = (await c.get(f"/v1/relays/{bot['id']}", headers=h)).json()["explanation"]
        bot_checks = {x["check"]: x for x in bot_ex["accounts"][0]["authenticity_checks"]}
        assert bot_checks["mass_follower"]["result"] == "warning"
        assert bot_checks["mass_follower"]["evidence"] == "follows 2,000 accounts"
        assert bot_checks["growth_spikes"]["result"] == "warning"
        assert bot_checks["growth_spikes"]["evidence"] == "1 spike day(s), largest +1,000"
        assert bot_checks["engagement_uniform"]["result"] == "warning"
        assert bot_checks["following_ratio"]["result"] == "ok"
        assert bot_ex["accounts"][0]["followers"] == 6_000
        b_score = await db.get(RelayScore, b["id"])
        assert b_score.composite is None and b_score.reach is None  # nothing collected

        rel = (await db.exec(select(RelayRelevance).where(RelayRelevance.client_id == cid))).all()
        by = {r.relay_id: r for r in rel}
        assert by[a["id"]].score > 0 and by[b["id"]].score == 0
        assert {m[0] for m in by[a["id"]].detail["matched"]} == {"Vélo", "randonnée"}
        # the client's composite includes relevance with its weight
        relevance = by[a["id"]].score
        comp = 0.2 * reach + 0.3 * resonance + 0.25 * relevance + 0.15 * 100 + 0.1 * activity
        assert by[a["id"]].composite == pytest.approx(comp)

        r = await c.get("/v1/relays", params={"client_id": cid, "sort": "relevance"}, headers=h)
        top = r.json()["data"][0]
        assert top["id"] == a["id"] and top["scores"]["relevance"] == pytest.approx(
            by[a["id"]].score
        )
        detail = (await c.get(f"/v1/relays/{a['id']}", params={"client_id": cid}, headers=h)).json()
        assert detail["explanation"]["components"]["reach"]["data"]["followers"] == 20_000
        assert detail["relevance"]["keywords"] == ["Vélo", "randonnée"]

        # Changing the weights enqueues a rescoring; once run, composites follow them.
        r = await c.put(
            "/v1/scoring/settings",
            params={"client_id": cid},
            json={
                "weights": {
                    "reach": 1,
                    "resonance": 0,
                    "relevance": 0,
                    "authenticity": 0,
                    "activity": 0,
                }
            },
            headers=h,
        )
        assert r.status_code == 200, r.text
        job = await db.get(BenchmarkJob, r.json()["job"]["job_id"])
        assert job.name == "benchmark.rescore_relays" and job.client_id == cid
        job.args = {**job.args, "as_of": AS_OF.isoformat()}
        out2 = await rescore_relays(job_context(s, job), job.id)
        assert out2["settings_version"] == r.json()["settings"]["version"]
        await db.refresh(score)
        assert score.composite == pytest.approx(reach)
        runs = (await c.get("/v1/scoring/runs", headers=h)).json()
        assert runs[0]["id"] == out2["run_id"] and runs[0]["weights"]["reach"] == 1
        assert (await db.get(ScoringRun, out["run_id"])) is not None  # the first run is kept


async def test_settings_validation_and_roles(stack):
    cid = new_client_id()
    async with stack() as s:
        c = s.benchmark
        r = await c.put("/v1/scoring/settings", json={"weights": {"charm": 1}}, headers=auth([cid]))
        assert r.status_code == 422 and "charm" in r.json()["detail"]
        r = await c.put("/v1/scoring/settings", json={"weights": {"reach": 0}}, headers=auth([cid]))
        assert r.status_code == 422
        r = await c.put("/v1/scoring/settings", json={"tier_scheme": "x"}, headers=auth([cid]))
        assert r.status_code == 422
        r = await c.put(
            "/v1/scoring/settings",
            json={"tier_scheme": "later_fohr"},
            headers=auth([cid], role="community_manager"),
        )
        assert r.status_code == 403
        r = await c.get("/v1/scoring/settings", headers=auth([cid]))
        assert r.json()["tier_scheme"] == "hypeauditor" and "later_fohr" in r.json()["tier_schemes"]
        ref = (await c.get("/v1/reference", headers=auth([cid]))).json()
        assert ref["tier_engagement"]["hypeauditor:nano:instagram"]["value"] == 0.0178
        assert ref["screening"]["mass_follower_following"]["value"] == 1500


async def test_rescoring_announces_itself_to_subscribed_clients(stack, job_context, db):
    from services.benchmark.webhooks.models import BenchmarkWebhookDelivery

    subscribed, other, silent = new_client_id(), new_client_id(), new_client_id()
    async with stack() as s:
        c = s.benchmark
        catalogue = (await c.get("/v1/webhooks/events", headers=auth([subscribed]))).json()
        assert "benchmark.scores.updated" in [e["name"] for e in catalogue["events"]]
        for cid, events in ((subscribed, ["benchmark.scores.updated"]), (other, ["webhook.ping"])):
            r = await c.post(
                "/v1/webhooks/subscriptions",
                json={"client_id": cid, "url": "http://127.0.0.1:9/balise", "event_types": events},
                headers=auth([cid]),
            )
            assert r.status_code == 201, r.text
        await c.post("/v1/relays", json={"name": "Relais"}, headers=auth([silent]))
        job = await _job(db, reason="weights changed")
        out = await rescore_relays(job_context(s, job, []), "job")
        rows = (await db.exec(select(BenchmarkWebhookDelivery))).all()
        mine = [r for r in rows if r.client_id in (subscribed, other, silent)]
        assert [(r.client_id, r.event_type) for r in mine] == [
            (subscribed, "benchmark.scores.updated")
        ]
        body = json.loads(mine[0].payload)
        assert body["type"] == "benchmark.scores.updated"
        payload = body["data"]
        assert payload["run_id"] == out["run_id"] and payload["reason"] == "weights changed"
        assert payload["as_of"] == AS_OF.isoformat()
