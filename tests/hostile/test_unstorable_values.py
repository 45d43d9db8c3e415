"""Values the database cannot hold get a 422 problem, never a 500: what Schemathesis found.

* An id beyond 64 bits in any path (SQLite: OverflowError; PostgreSQL: "out of int64
  range") — every GET/DELETE route of every backend, from its own OpenAPI document.
* Text with a NUL character or an unpaired surrogate (PostgreSQL refuses both).
* ``null`` for a field a partial update cannot clear (a peer group's or relay's name).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func
from sqlmodel import select

from services.benchmark.relays.models import Relay
from tests.conftest import DB_KIND, auth, new_client_id

BIG = 2**70


@pytest.mark.parametrize("service", ["ingest", "benchmark", "planner"])
async def test_ids_beyond_64_bits_in_every_path(make_backend, service):
    cid = new_client_id()
    async with make_backend(service) as (app, c):
        spec = (await c.get("/openapi.json")).json()
        walked = 0
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if method not in ("get", "delete"):
                    continue
                params = [p for p in op.get("parameters", []) if p["in"] == "path"]
                ints = [p for p in params if p.get("schema", {}).get("type") == "integer"]
                if not ints:
                    continue
                url = path
                for p in params:
                    value = BIG if p in ints else "x"
                    if p["name"] == "client_id":
                        value = cid  # the caller's own client, so the id check is reached
                    url = url.replace("{" + p["name"] + "}", str(value))
                if url == path.replace("{client_id}", str(cid)):
                    continue  # only client_id: nothing beyond 64 bits in this path
                r = await c.request(method.upper(), url, headers=auth([cid]))
                walked += 1
                assert r.status_code < 500, (method, url, r.text[:300])
                assert r.headers["content-type"].startswith("application/problem+json")
        assert walked >= 5


async def _relays(db) -> int:
    return int((await db.exec(select(func.count()).select_from(Relay))).one())


@pytest.mark.parametrize("text", ["nul\x00inside", "lone \ud800 surrogate"])
async def test_text_the_database_cannot_store(make_backend, db, text):
    cid = new_client_id()
    async with make_backend("benchmark") as (app, c):
        before = await _relays(db)
        # json= would refuse to encode a lone surrogate: send the escaped JSON as is.
        raw = json.dumps({"name": "Relais", "notes": text}).encode()
        r = await c.post(
            "/v1/relays",
            content=raw,
            headers={**auth([cid]), "content-type": "application/json"},
        )
        if DB_KIND == "postgres" or r.status_code != 201:
            assert r.status_code == 422, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            detail = r.json()["detail"]
            assert "cannot be stored" in detail or "unicode string" in detail, detail
            assert await _relays(db) == before
        else:
            # SQLite keeps any text; what it stored reads back unchanged.
            got = await c.get(f"/v1/relays/{r.json()['id']}", headers=auth([cid]))
            assert got.json()["notes"] == text


async def test_null_for_a_field_that_cannot_be_cleared(make_backend):
    cid = new_client_id()
    async with make_backend("benchmark") as (app, c):
        h = auth([cid])
        group = await c.post(f"/v1/clients/{cid}/peer-groups", json={"name": "Pairs"}, headers=h)
        assert group.status_code == 201, group.text
        gid = group.json()["id"]
        r = await c.patch(f"/v1/peer-groups/{gid}", json={"name": None}, headers=h)
        assert r.status_code == 422 and "name cannot be null" in r.json()["detail"]
        r = await c.patch(f"/v1/peer-groups/{gid}", json={"description": None}, headers=h)
        assert r.status_code == 200 and r.json()["name"] == "Pairs"  # null clears a nullable
        relay = await c.post("/v1/relays", json={"name": "R"}, headers=h)
        rid = relay.json()["id"]
        for field in ("name", "kind", "status"):
            r = await c.patch(f"/v1/relays/{rid}", json={field: None}, headers=h)
            assert r.status_code == 422, (field, r.text)
        assert (await c.get(f"/v1/relays/{rid}", headers=h)).json()["kind"] == "person"
