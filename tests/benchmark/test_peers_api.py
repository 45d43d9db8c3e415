"""Peer groups and peers over the REST API: CRUD, validation, tenancy, jobs, versions."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from services.benchmark.peers.models import BenchmarkResultRow
from tests.conftest import auth, new_client_id


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def benchmark_api(make_backend):
    """The benchmark app with ingest down (an address nothing listens on)."""
    return make_backend("benchmark", ingest_url=f"http://127.0.0.1:{_closed_port()}")


async def test_group_and_peer_crud_with_ingest_down(benchmark_api):
    cid = new_client_id()
    h = auth([cid])
    async with benchmark_api as (app, c):
        r = await c.post(f"/v1/clients/{cid}/peer-groups", json={"name": " Musées "}, headers=h)
        assert r.status_code == 201, r.text
        group = r.json()
        assert group["name"] == "Musées" and group["members"] == [] and group["peers"] == 0
        gid = group["id"]
        r = await c.post(
            f"/v1/peer-groups/{gid}/peers",
            json={
                "name": "Musée A",
                "accounts": [
                    {"network": "instagram", "handle": "@museea"},
                    {"network": "youtube", "external_id": "UC123"},
                ],
            },
            headers=h,
        )
        assert r.status_code == 201, r.text
        peer = r.json()
        accounts = {a["network"]: a for a in peer["accounts"]}
        assert accounts["instagram"]["external_id"] == "museea"
        assert accounts["instagram"]["handle"] == "museea"
        # ingest was unreachable: kept, to be registered by the next computation
        assert accounts["youtube"]["ingest_account_id"] is None
        r = await c.post(
            f"/v1/peers/{peer['id']}/accounts",
            json={"network": "instagram", "handle": "museea"},
            headers=h,
        )
        assert r.status_code == 409
        r = await c.get(f"/v1/clients/{cid}/peer-groups", headers=h)
        assert [g["peers"] for g in r.json()["data"]] == [1]
        r = await c.patch(f"/v1/peers/{peer['id']}", json={"notes": "Grand musée"}, headers=h)
        assert r.json()["notes"] == "Grand musée"
        acc_id = accounts["youtube"]["id"]
        r = await c.delete(f"/v1/peers/{peer['id']}/accounts/{acc_id}", headers=h)
        assert r.status_code == 204
        r = await c.get(f"/v1/peer-groups/{gid}", headers=h)
        assert [a["network"] for a in r.json()["members"][0]["accounts"]] == ["instagram"]
        r = await c.delete(f"/v1/peer-groups/{gid}", headers=h)
        assert r.status_code == 204
        r = await c.get(f"/v1/peer-groups/{gid}", headers=h)
        assert r.status_code == 404


async def test_validation_is_problem_json(benchmark_api):
    cid = new_client_id()
    h = auth([cid])
    async with benchmark_api as (app, c):
        gid = (
            await c.post(f"/v1/clients/{cid}/peer-groups", json={"name": "G"}, headers=h)
        ).json()["id"]
        bad = [
            {"name": ""},
            {"name": "X", "accounts": [{"network": "ga4", "handle": "x"}]},
            {"name": "X", "accounts": [{"network": "instagram"}]},
        ]
        for body in bad:
            r = await c.post(f"/v1/peer-groups/{gid}/peers", json=body, headers=h)
            assert r.status_code == 422, body
            assert r.headers["content-type"].startswith("application/problem+json")
        r = await c.post(
            f"/v1/peer-groups/{gid}/benchmark",
            json={"start": "2025-05-01", "end": "2025-01-01"},
            headers=h,
        )
        assert r.status_code == 422 and "start is after end" in r.text


async def test_tenancy_other_clients_get_404_and_viewers_cannot_write(benchmark_api):
    cid, other = new_client_id(), new_client_id()
    async with benchmark_api as (app, c):
        r = await c.post(f"/v1/clients/{cid}/peer-groups", json={"name": "G"}, headers=auth([cid]))
        gid = r.json()["id"]
        for method, url in [
            ("GET", f"/v1/peer-groups/{gid}"),
            ("GET", f"/v1/clients/{cid}/peer-groups"),
            ("GET", f"/v1/peer-groups/{gid}/benchmarks"),
        ]:
            r = await c.request(method, url, headers=auth([other]))
            assert r.status_code == 404, url
        r = await c.post(
            f"/v1/peer-groups/{gid}/peers",
            json={"name": "P"},
            headers=auth([cid], role="client_viewer", scope="read"),
        )
        assert r.status_code == 403
        r = await c.get(f"/v1/peer-groups/{gid}", headers=auth([cid], role="client_viewer"))
        assert r.status_code == 200


async def test_compute_enqueues_a_job_and_versions_are_listed(benchmark_api, db):
    cid = new_client_id()
    h = auth([cid])
    async with benchmark_api as (app, c):
        gid = (
            await c.post(f"/v1/clients/{cid}/peer-groups", json={"name": "G"}, headers=h)
        ).json()["id"]
        r = await c.post(f"/v1/peer-groups/{gid}/benchmark", headers=h)
        assert r.status_code == 202
        job = (await c.get(r.json()["status_url"], headers=h)).json()
        assert job["name"] == "benchmark.compute_peer_benchmark" and job["status"] == "queued"
        assert job["client_id"] == cid
        # two stored versions: newest first, each readable by id
        for v in (1, 2):
            db.add(
                BenchmarkResultRow(
                    client_id=cid,
                    peer_group_id=gid,
                    version=v,
                    start=dt.date(2025, 1, 1),
                    end=dt.date(2025, 12, 31),
                    payload={
                        "id": 0,
                        "version": v,
                        "client_id": cid,
                        "peer_group_id": gid,
                        "start": "2025-01-01",
                        "end": "2025-12-31",
                        "computed_at": "2026-01-01T00:00:00Z",
                        "kpis": [],
                    },
                )
            )
        await db.flush()
        r = await c.get(f"/v1/peer-groups/{gid}/benchmarks", headers=h)
        assert [x["version"] for x in r.json()["data"]] == [2, 1]
        r = await c.get(f"/v1/peer-groups/{gid}/benchmarks/latest", headers=h)
        assert r.json()["version"] == 2
        groups = (await c.get(f"/v1/clients/{cid}/peer-groups", headers=h)).json()["data"]
        assert groups[0]["latest_result"]["version"] == 2


async def test_the_planners_paths(benchmark_api, db):
    """The planner reads the client's latest result and its co-creators by these paths."""
    from shared.schemas.benchmark import BenchmarkResult

    cid = new_client_id()
    h = auth([cid])
    async with benchmark_api as (app, c):
        assert (await c.get(f"/v1/clients/{cid}/benchmarks/latest", headers=h)).status_code == 404
        ids = []
        for name in ("A", "B"):
            gid = (
                await c.post(f"/v1/clients/{cid}/peer-groups", json={"name": name}, headers=h)
            ).json()["id"]
            ids.append(gid)
        for gid, day in ((ids[0], 2), (ids[1], 1)):
            db.add(
                BenchmarkResultRow(
                    client_id=cid,
                    peer_group_id=gid,
                    version=1,
                    start=dt.date(2025, 1, 1),
                    end=dt.date(2025, 12, 31),
                    computed_at=dt.datetime(2026, 1, day, tzinfo=dt.UTC),
                    payload={
                        "id": 0,
                        "version": 1,
                        "client_id": cid,
                        "peer_group_id": gid,
                        "start": "2025-01-01",
                        "end": "2025-12-31",
                        "computed_at": f"2026-01-0{day}T00:00:00Z",
                        "kpis": [],
                    },
                )
            )
        await db.flush()
        r = await c.get(f"/v1/clients/{cid}/benchmarks/latest", headers=h)
        latest = BenchmarkResult.model_validate(r.json())
        assert latest.peer_group_id == ids[0]  # computed last
        listed = (await c.get(f"/v1/clients/{cid}/benchmarks", headers=h)).json()["data"]
        assert len(listed) == 2
        assert (await c.get(f"/v1/clients/{cid}/cocreators", headers=h)).json() == []
