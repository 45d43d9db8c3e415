"""Accounts of a client and the agency's relay directory: registering, listing, tenancy."""

from __future__ import annotations

from tests.conftest import auth, new_client_id


async def test_register_list_get_archive(make_backend):
    cid = new_client_id()
    body = {
        "network": "instagram",
        "external_id": "1784",
        "handle": "@tourisme",
        "name": "Tourisme",
    }
    async with make_backend("ingest") as (_app, c):
        r = await c.post(f"/v1/clients/{cid}/accounts", json=body, headers=auth([cid]))
        assert r.status_code == 201, r.text
        acc = r.json()
        assert acc["client_id"] == cid and acc["owner_kind"] == "client" and not acc["archived"]
        again = await c.post(f"/v1/clients/{cid}/accounts", json=body, headers=auth([cid]))
        assert again.status_code == 200 and again.json()["id"] == acc["id"]
        peer = {**body, "owner_kind": "peer", "owner_ref": "peer-1"}
        r = await c.post(f"/v1/clients/{cid}/accounts", json=peer, headers=auth([cid]))
        assert r.status_code == 409
        r = await c.post(
            f"/v1/clients/{cid}/accounts",
            json={**peer, "external_id": "other", "timezone": "Mars/Olympus"},
            headers=auth([cid]),
        )
        assert r.status_code == 422
        for i in range(3):
            r = await c.post(
                f"/v1/clients/{cid}/accounts",
                json={"network": "x", "external_id": f"x{i}", "owner_kind": "peer"},
                headers=auth([cid]),
            )
            assert r.status_code == 201
        r = await c.get(f"/v1/clients/{cid}/accounts", params={"limit": 2}, headers=auth([cid]))
        page = r.json()
        assert len(page["data"]) == 2 and page["next_cursor"]
        r = await c.get(
            f"/v1/clients/{cid}/accounts",
            params={"limit": 2, "cursor": page["next_cursor"]},
            headers=auth([cid]),
        )
        assert len(r.json()["data"]) == 2 and r.json()["next_cursor"] is None
        r = await c.get(
            f"/v1/clients/{cid}/accounts", params={"owner_kind": "peer"}, headers=auth([cid])
        )
        assert {a["network"] for a in r.json()["data"]} == {"x"}
        r = await c.post(f"/v1/accounts/{acc['id']}/archive", headers=auth([cid]))
        assert r.json()["archived"] is True
        r = await c.get(f"/v1/clients/{cid}/accounts", headers=auth([cid]))
        assert acc["id"] not in [a["id"] for a in r.json()["data"]]
        r = await c.get(
            f"/v1/clients/{cid}/accounts", params={"include_archived": True}, headers=auth([cid])
        )
        assert acc["id"] in [a["id"] for a in r.json()["data"]]
        r = await c.get(f"/v1/accounts/{acc['id']}", headers=auth([cid]))
        assert r.status_code == 200 and r.json()["handle"] == "@tourisme"


async def test_account_tenancy(make_backend):
    mine, theirs = new_client_id(), new_client_id()
    async with make_backend("ingest") as (_app, c):
        r = await c.post(
            f"/v1/clients/{theirs}/accounts",
            json={"network": "x", "external_id": "a"},
            headers=auth([theirs]),
        )
        other = r.json()["id"]
        r = await c.post(
            f"/v1/clients/{theirs}/accounts",
            json={"network": "x", "external_id": "b"},
            headers=auth([mine]),
        )
        assert r.status_code == 404
        assert (
            await c.get(f"/v1/clients/{theirs}/accounts", headers=auth([mine]))
        ).status_code == 404
        assert (await c.get(f"/v1/accounts/{other}", headers=auth([mine]))).status_code == 404
        r = await c.post(f"/v1/accounts/{other}/archive", headers=auth([mine]))
        assert r.status_code == 404
        r = await c.post(
            f"/v1/clients/{mine}/accounts",
            json={"network": "x", "external_id": "c"},
            headers=auth([mine], role="client_viewer", scope="read"),
        )
        assert r.status_code == 403


async def test_agency_relays(make_backend):
    cid = new_client_id()
    relay = {
        "network": "instagram",
        "external_id": "relay-9",
        "owner_kind": "relay",
        "owner_ref": "r9",
    }
    async with make_backend("ingest") as (_app, c):
        r = await c.post(f"/v1/clients/{cid}/accounts", json=relay, headers=auth([cid]))
        assert r.status_code == 422  # relays are agency-wide
        r = await c.post("/v1/agency/accounts", json=relay, headers=auth([]))
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        assert r.json()["client_id"] is None
        r = await c.post(
            "/v1/agency/accounts", json={**relay, "owner_kind": "client"}, headers=auth([])
        )
        assert r.status_code == 422
        r = await c.get("/v1/agency/accounts", params={"limit": 500}, headers=auth([cid]))
        assert rid in [a["id"] for a in r.json()["data"]]
        viewer = auth([cid], role="client_viewer", scope="read")
        assert (await c.get("/v1/agency/accounts", headers=viewer)).status_code == 403
        assert (await c.get(f"/v1/accounts/{rid}", headers=viewer)).status_code == 404
        assert (await c.get(f"/v1/accounts/{rid}", headers=auth([cid]))).status_code == 200
