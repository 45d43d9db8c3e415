"""The peer benchmark computed from the real ingest app, numbers checked by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from services.benchmark.models import BenchmarkJob
from services.benchmark.peers.jobs import compute_peer_benchmark
from services.ingest.store.models import Account
from shared.jobs import JobNames
from tests.conftest import auth, new_client_id
from tests.ingest.factories import add_daily, add_post, at, create_account

D0, D1 = dt.date(2025, 1, 1), dt.date(2025, 3, 31)

# owner: (followers on D0, on D1, engagements of the two posts)
OWNERS = {
    "client": (1000, 1100, (10, 30)),
    "Peer A": (2000, 2000, (20, 20)),
    "Peer B": (500, 600, (25, 35)),
    "Peer C": (4000, 3800, (40, 120)),
}


async def _feed(db, account: Account, f0: float, f1: float, engagements: tuple[int, int]):
    await add_daily(db, account, "followers", {D0: f0, D1: f1})
    for day, e in zip((10, 20), engagements, strict=True):
        await add_post(
            db,
            account,
            at(2025, 1, day),
            metrics={"engagements": e},
            external_id=f"{account.id}-{day}",
            content_type="video" if day == 10 else "photo",
        )


async def test_benchmark_from_ingest_by_hand(stack, job_context, db):
    cid = new_client_id()
    h = auth([cid])
    async with stack() as s:
        c = s.benchmark
        gid = (
            await c.post(f"/v1/clients/{cid}/peer-groups", json={"name": "Musées"}, headers=h)
        ).json()["id"]
        for name in ("Peer A", "Peer B", "Peer C"):
            r = await c.post(
                f"/v1/peer-groups/{gid}/peers",
                json={
                    "name": name,
                    "accounts": [{"network": "instagram", "handle": name.lower().replace(" ", "")}],
                },
                headers=h,
            )
            assert r.status_code == 201, r.text
            ingest_id = r.json()["accounts"][0]["ingest_account_id"]
            assert ingest_id is not None  # registered in ingest, collection started
            account = await db.get(Account, ingest_id)
            assert account.owner_kind == "peer" and account.client_id == cid
            await _feed(db, account, *OWNERS[name])
        own = await create_account(db, cid, "instagram", external_id="client-ig")
        await _feed(db, own, *OWNERS["client"])

        r = await c.post(
            f"/v1/peer-groups/{gid}/benchmark",
            json={"start": D0.isoformat(), "end": D1.isoformat()},
            headers=h,
        )
        job = await db.get(BenchmarkJob, r.json()["job_id"])
        assert job.name == JobNames.BENCHMARK_COMPUTE
        progress: list = []
        out = await compute_peer_benchmark(job_context(s, job, progress), job.id)
        assert out["version"] == 1 and progress[-1][1] == "storing a new version"

        result = (await c.get(f"/v1/benchmarks/{out['result_id']}", headers=h)).json()
        kpis = {(k["network"], k["kpi"]): k for k in result["kpis"]}
        er = kpis[("instagram", "engagement_rate_by_follower")]
        # rates: client (0.01+0.03)/2 = .02; A .01; B (.05+.07)/2 = .06; C (.01+.03)/2 = .02
        assert er["client_value"] == pytest.approx(0.02)
        assert er["peer_values"] == pytest.approx({"Peer A": 0.01, "Peer B": 0.06, "Peer C": 0.02})
        # sorted .01 .02 .06: P25 .015, P50 .02, P75 .04; client ties C → (1 + 2·½)/4 = 50
        assert (er["p25"], er["p50"], er["p75"]) == pytest.approx((0.015, 0.02, 0.04))
        assert er["client_percentile"] == 50.0
        assert er["industry"] and er["industry"][0]["denominator"] == "followers"
        fol = kpis[("instagram", "followers")]
        assert (fol["p25"], fol["p50"], fol["p75"]) == (1300, 2000, 2900)
        assert fol["client_percentile"] == 37.5
        growth = kpis[("instagram", "follower_growth_pct")]
        assert growth["client_value"] == pytest.approx(0.1)
        assert growth["peer_values"]["Peer C"] == pytest.approx(-0.05)
        ppw = kpis[("instagram", "posts_per_week")]
        assert ppw["client_value"] == pytest.approx(2 / (90 / 7))
        mix = result["content_mix"][0]
        video = next(t for t in mix["types"] if t["content_type"] == "video")
        assert video["client_share"] == 0.5 and video["client_engagement_rate"] == pytest.approx(
            0.01
        )
        assert result["best_practices"]["findings"] == []
        assert any("fewer than 10" in w for w in result["best_practices"]["withheld"])
        assert result["peer_group_name"] == "Musées"

        # A second computation is a new version; the first stays readable as it was.
        out2 = await compute_peer_benchmark(job_context(s, job), job.id)
        assert out2["version"] == 2
        again = (await c.get(f"/v1/benchmarks/{out['result_id']}", headers=h)).json()
        assert again["version"] == 1 and again["kpis"] == result["kpis"]
        # another tenant cannot read it
        r = await c.get(f"/v1/benchmarks/{out['result_id']}", headers=auth([new_client_id()]))
        assert r.status_code == 404


X_EXPORT = (
    Path(__file__).resolve().parents[1]
    / "ingest"
    / "fixtures"
    / "tweet_activity_metrics_balisedemo_20260501_20260531_en.csv"
)


async def test_peers_exported_data_goes_through_ingests_import(stack, db):
    fixture = X_EXPORT
    cid = new_client_id()
    h = auth([cid])
    async with stack() as s:
        c = s.benchmark
        gid = (
            await c.post(f"/v1/clients/{cid}/peer-groups", json={"name": "G"}, headers=h)
        ).json()["id"]
        peer = (
            await c.post(
                f"/v1/peer-groups/{gid}/peers",
                json={"name": "Peer X", "accounts": [{"network": "x", "handle": "balisedemo"}]},
                headers=h,
            )
        ).json()
        acc = peer["accounts"][0]
        url = f"/v1/peers/{peer['id']}/accounts/{acc['id']}/import"
        r = await c.post(url, files={"file": (fixture.name, fixture.read_bytes())}, headers=h)
        assert r.status_code == 202, r.text
        imp = r.json()
        # ingest took it for the peer's own account, as an import job
        assert imp["account_id"] == acc["ingest_account_id"] and imp["client_id"] == cid
        assert imp["status"] == "queued" and imp["job_id"]
        other = auth([new_client_id()])
        r = await c.post(url, files={"file": (fixture.name, fixture.read_bytes())}, headers=other)
        assert r.status_code == 404
        r = await c.post(
            f"/v1/peers/{peer['id']}/accounts/999999/import",
            files={"file": ("x.csv", b"a,b\n")},
            headers=h,
        )
        assert r.status_code == 404
