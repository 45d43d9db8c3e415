"""The plan API: editing a draft, warnings, the version lifecycle, comparison, tenancy."""

from __future__ import annotations

from tests.conftest import auth, new_client_id
from tests.planner.factories import add, compose_basic, create_plan


async def test_compose_a_plan_with_workload_and_warnings(make_backend):
    cid = new_client_id()
    async with make_backend("planner") as (app, c):
        plan, vid = await create_plan(c, cid)
        assert plan["versions"][0]["status"] == "draft"
        await compose_basic(c, cid, vid)
        r = await c.get(f"/v1/versions/{vid}", headers=auth([cid]))
        v = r.json()
        # Facebook 3 × 40 + 60 = 180 min = 3 h; Instagram 2 × 60 + 60 = 180 min = 3 h.
        assert v["workload"]["planned_hours"] == 6.0
        assert v["workload"]["team_hours"] == 10.0
        assert v["warnings"] == []
        # A LinkedIn space without an animator, and more work than the team has.
        await add(
            c,
            cid,
            vid,
            "spaces",
            {"network": "linkedin", "posts_per_week": 10, "minutes_per_post": 30},
        )
        v = (await c.get(f"/v1/versions/{vid}", headers=auth([cid]))).json()
        codes = {w["code"] for w in v["warnings"]}
        assert codes == {"no_animator", "over_capacity"}
        # 6 h + (10 × 30 + 60) / 60 = 12 h > 10 h
        assert v["workload"]["planned_hours"] == 12.0


async def test_bad_references_and_bad_input_are_422(make_backend):
    cid = new_client_id()
    async with make_backend("planner") as (app, c):
        _plan, vid = await create_plan(c, cid)
        r = await c.post(
            f"/v1/versions/{vid}/objectives",
            json={"audience_id": "nope", "kind": "awareness", "kpi": "followers"},
            headers=auth([cid]),
        )
        assert r.status_code == 422 and "audience" in r.json()["detail"]
        r = await c.post(
            f"/v1/versions/{vid}/audiences",
            json={"name": "X", "age_bands": ["30-40"]},
            headers=auth([cid]),
        )
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await c.post(
            "/v1/plans",
            json={
                "client_id": cid,
                "name": "Bad",
                "period_start": "2026-05-01",
                "period_end": "2026-01-01",
            },
            headers=auth([cid]),
        )
        assert r.status_code == 422


async def test_lifecycle_approved_is_immutable_and_new_version_compares(make_backend):
    cid = new_client_id()
    h = auth([cid])
    async with make_backend("planner") as (app, c):
        plan, vid = await create_plan(c, cid)
        r = await c.post(f"/v1/versions/{vid}/approve", headers=h)
        assert r.status_code == 422  # nothing to approve yet
        parts = await compose_basic(c, cid, vid)
        r = await c.post(f"/v1/versions/{vid}/approve", headers=h)
        assert r.status_code == 200 and r.json()["status"] == "approved"
        assert r.json()["approved_by"] == "1"
        r = await c.post(
            f"/v1/versions/{vid}/pillars", json={"name": "Nope", "share": 0.1}, headers=h
        )
        assert r.status_code == 409 and "new version" in r.json()["detail"]
        r = await c.post(f"/v1/plans/{plan['id']}/versions", headers=h)
        assert r.status_code == 201
        v2 = r.json()
        assert v2["number"] == 2 and v2["based_on"] == 1 and v2["status"] == "draft"
        r = await c.post(f"/v1/plans/{plan['id']}/versions", headers=h)
        assert r.status_code == 409  # one draft at a time
        o1 = parts["objectives"][0]
        changed = {k: v for k, v in o1.items() if k != "id"} | {"target": 6000}
        r = await c.put(f"/v1/versions/{v2['id']}/objectives/{o1['id']}", json=changed, headers=h)
        assert r.status_code == 200
        r = await c.get(f"/v1/plans/{plan['id']}/compare", params={"a": 1, "b": 2}, headers=h)
        changes = {ch["path"]: ch for ch in r.json()["changes"]}
        assert changes == {
            f"objectives[{o1['id']}].target": {
                "path": f"objectives[{o1['id']}].target",
                "before": 5000.0,
                "after": 6000.0,
            }
        }
        # v1 still says 5000: approval froze it.
        r = await c.get(f"/v1/plans/{plan['id']}/versions/1", headers=h)
        assert r.json()["document"]["objectives"][0]["target"] == 5000
        # Activate v1, then approve and activate v2: v1 closes.
        assert (await c.post(f"/v1/versions/{vid}/activate", headers=h)).status_code == 200
        assert (await c.post(f"/v1/versions/{v2['id']}/approve", headers=h)).status_code == 200
        assert (await c.post(f"/v1/versions/{v2['id']}/activate", headers=h)).status_code == 200
        statuses = {
            v["number"]: v["status"]
            for v in (await c.get(f"/v1/plans/{plan['id']}", headers=h)).json()["versions"]
        }
        assert statuses == {1: "closed", 2: "active"}
        r = await c.post(f"/v1/versions/{vid}/activate", headers=h)
        assert r.status_code == 409
        r = await c.delete(f"/v1/plans/{plan['id']}", headers=h)
        assert r.status_code == 409


async def test_removing_an_audience_removes_its_objectives(make_backend):
    cid = new_client_id()
    async with make_backend("planner") as (app, c):
        _plan, vid = await create_plan(c, cid)
        parts = await compose_basic(c, cid, vid)
        r = await c.delete(
            f"/v1/versions/{vid}/audiences/{parts['audience']['id']}", headers=auth([cid])
        )
        assert r.status_code == 200
        assert r.json()["document"]["objectives"] == []
        r = await c.delete(
            f"/v1/versions/{vid}/animators/{parts['animator']['id']}", headers=auth([cid])
        )
        assert {w["code"] for w in r.json()["warnings"]} >= {"no_animator"}


async def test_tenancy_and_roles(make_backend):
    cid, other = new_client_id(), new_client_id()
    async with make_backend("planner") as (app, c):
        plan, vid = await create_plan(c, cid)
        for url in (f"/v1/plans/{plan['id']}", f"/v1/versions/{vid}"):
            r = await c.get(url, headers=auth([other]))
            assert r.status_code == 404
        r = await c.get("/v1/plans", params={"client_id": cid}, headers=auth([other]))
        assert r.status_code == 404
        r = await c.post(
            f"/v1/versions/{vid}/pillars",
            json={"name": "x", "share": 1},
            headers=auth([cid], role="client_viewer", scope="read"),
        )
        assert r.status_code == 403
        r = await c.get("/v1/plans", params={"client_id": cid}, headers=auth([cid]))
        assert [p["id"] for p in r.json()["data"]] == [plan["id"]]
        r = await c.post(
            "/v1/plans",
            json={
                "client_id": other,
                "name": "x",
                "period_start": "2026-01-01",
                "period_end": "2026-02-01",
            },
            headers=auth([cid]),
        )
        assert r.status_code == 404
