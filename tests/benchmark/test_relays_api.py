"""The relay directory over the API, with the real ingest registering relays' accounts."""

from __future__ import annotations

import csv
import datetime as dt
import io

from services.benchmark.relays.models import Relay
from services.benchmark.scoring.models import RelayScore, ScoringRun
from services.ingest.store.models import Account
from tests.conftest import auth, new_client_id


def _relay(name, *accounts, **kw):
    return {
        "name": name,
        "accounts": [{"network": n, "handle": h} for n, h in accounts],
        **kw,
    }


async def test_create_registers_in_ingest_and_reads_back(stack, db):
    cid = new_client_id()
    h = auth([cid])
    async with stack() as s:
        c = s.benchmark
        r = await c.post(
            "/v1/relays",
            json=_relay(
                "Marie Tremblay",
                ("instagram", "@Marie.T"),
                ("x", "marie_t"),
                topics=["Plein air", "vélo", "plein air"],
                language="fr",
                region="Charlevoix",
            ),
            headers=h,
        )
        assert r.status_code == 201, r.text
        relay = r.json()
        assert relay["topics"] == ["plein air", "vélo"]
        assert relay["networks"] == ["instagram", "x"]
        acc = next(a for a in relay["accounts"] if a["network"] == "instagram")
        assert acc["handle"] == "Marie.T"
        account = await db.get(Account, acc["ingest_account_id"])
        assert account.owner_kind == "relay" and account.client_id is None
        assert account.owner_ref == (await db.get(Relay, relay["id"])).ref
        # the same handle again (any case) is refused and points at the owner
        r = await c.post("/v1/relays", json=_relay("Autre", ("instagram", "marie.t")), headers=h)
        assert r.status_code == 409 and r.json()["relay_id"] == relay["id"]
        r = await c.patch(
            f"/v1/relays/{relay['id']}", json={"status": "contacted", "topics": ["ski"]}, headers=h
        )
        assert r.json()["status"] == "contacted" and r.json()["topics"] == ["ski"]


async def test_directory_is_staff_only(stack):
    cid = new_client_id()
    async with stack() as s:
        c = s.benchmark
        rid = (await c.post("/v1/relays", json=_relay("A"), headers=auth([cid]))).json()["id"]
        viewer = auth([cid], role="client_viewer", scope="read")
        for url in ("/v1/relays", f"/v1/relays/{rid}", "/v1/relays/duplicates"):
            assert (await c.get(url, headers=viewer)).status_code == 404, url
        # a viewer may read its own client's shortlist, not another's
        assert (await c.get(f"/v1/clients/{cid}/shortlist", headers=viewer)).status_code == 200
        other = new_client_id()
        assert (await c.get(f"/v1/clients/{other}/shortlist", headers=viewer)).status_code == 404
        # a read-only staff token cannot write
        r = await c.post("/v1/relays", json=_relay("B"), headers=auth([cid], scope="read"))
        assert r.status_code == 403


async def test_filters_sort_and_missing_scores_last(stack, db):
    h = auth([new_client_id()])
    async with stack() as s:
        c = s.benchmark
        ids = {}
        for name, net, topic, lang in [
            ("Alpha", "instagram", "ski", "fr"),
            ("Bravo", "youtube", "vélo", "en"),
            ("Charlie", "instagram", "vélo", "fr"),
        ]:
            r = await c.post(
                "/v1/relays",
                json=_relay(name, (net, name.lower()), topics=[topic], language=lang),
                headers=h,
            )
            ids[name] = r.json()["id"]
        run = ScoringRun(
            settings_version=1,
            tier_scheme="hypeauditor",
            window_start=dt.date(2025, 1, 1),
            window_end=dt.date(2025, 12, 31),
        )
        db.add(run)
        await db.flush()
        for name, comp in (("Alpha", 40.0), ("Charlie", 70.0)):
            relay = await db.get(Relay, ids[name])
            relay.composite = comp
            db.add(relay)
            db.add(RelayScore(relay_id=ids[name], run_id=run.id, composite=comp, reach=comp / 2))
        await db.flush()
        mine = set(ids.values())

        def names(r):  # only this test's relays (other tests' rows may share the database)
            return [x["name"] for x in r.json()["data"] if x["id"] in mine]

        r = await c.get("/v1/relays", params={"sort": "composite", "order": "desc"}, headers=h)
        assert names(r) == ["Charlie", "Alpha", "Bravo"]
        r = await c.get(
            "/v1/relays", params={"sort": "composite", "order": "asc", "q": "a"}, headers=h
        )
        assert names(r) == ["Alpha", "Charlie", "Bravo"]  # unscored last even ascending
        r = await c.get("/v1/relays", params={"topic": "vélo", "network": "instagram"}, headers=h)
        assert names(r) == ["Charlie"]
        r = await c.get("/v1/relays", params={"min_composite": 50}, headers=h)
        assert names(r) == ["Charlie"]
        r = await c.get("/v1/relays", params={"language": "en", "q": "bravo"}, headers=h)
        assert names(r) == ["Bravo"]
        r = await c.get("/v1/relays", params={"q": "@charl"}, headers=h)
        assert names(r) == ["Charlie"]
        r = await c.get("/v1/relays", params={"sort": "relevance"}, headers=h)
        assert r.status_code == 422
        r = await c.get("/v1/relays", params={"limit": 1, "q": "a", "sort": "name"}, headers=h)
        body = r.json()
        assert body["total"] >= 3 and body["next_cursor"] and len(body["data"]) == 1
        r2 = await c.get(
            "/v1/relays",
            params={"limit": 1, "q": "a", "sort": "name", "cursor": body["next_cursor"]},
            headers=h,
        )
        assert r2.json()["data"][0]["id"] != body["data"][0]["id"]


async def test_shortlist_per_client_and_co_creators(stack):
    a, b = new_client_id(), new_client_id()
    staff = auth([a, b])
    async with stack() as s:
        c = s.benchmark
        rid = (
            await c.post("/v1/relays", json=_relay("Ève", status="partner"), headers=staff)
        ).json()["id"]
        declined = (
            await c.post("/v1/relays", json=_relay("Zed", status="declined"), headers=staff)
        ).json()["id"]
        for relay in (rid, declined):
            r = await c.post(
                f"/v1/clients/{a}/shortlist", json={"relay_id": relay, "note": "été"}, headers=staff
            )
            assert r.status_code == 201
        again = await c.post(f"/v1/clients/{a}/shortlist", json={"relay_id": rid}, headers=staff)
        assert again.json()["note"] == "été"  # idempotent: no second row
        r = await c.get(f"/v1/clients/{a}/shortlist", headers=staff)
        assert sorted(e["relay"]["name"] for e in r.json()) == ["Zed", "Ève"]
        assert (await c.get(f"/v1/clients/{b}/shortlist", headers=staff)).json() == []
        r = await c.get("/v1/relays", params={"client_id": a, "shortlisted": True}, headers=staff)
        assert {x["id"] for x in r.json()["data"]} == {rid, declined}
        assert all(x["shortlisted"] for x in r.json()["data"])
        co = (await c.get(f"/v1/clients/{a}/co-creators", headers=staff)).json()
        assert [x["name"] for x in co] == ["Ève"]  # declined ones are not candidates
        assert co[0]["kind"] == "relay" and "partner" in co[0]["reason"]
        r = await c.delete(f"/v1/clients/{a}/shortlist/{rid}", headers=staff)
        assert r.status_code == 204
        # A page of results marks each relay for the client asked about, and only then.
        for client, want in ((a, {rid: False, declined: True}), (b, {rid: False, declined: False})):
            r = await c.get("/v1/relays", params={"client_id": client}, headers=staff)
            marks = {x["id"]: x["shortlisted"] for x in r.json()["data"] if x["id"] in want}
            assert marks == want, client
        r = await c.get("/v1/relays", headers=staff)
        assert all(x["shortlisted"] is None for x in r.json()["data"])
        r = await c.post(
            f"/v1/clients/{new_client_id()}/shortlist", json={"relay_id": rid}, headers=staff
        )
        assert r.status_code == 404


async def test_history_records_amplification_and_moves_status(stack):
    cid = new_client_id()
    h = auth([cid])
    async with stack() as s:
        c = s.benchmark
        rid = (await c.post("/v1/relays", json=_relay("Léo"), headers=h)).json()["id"]
        bad = {"client_id": cid, "relayed_on": "2025-05-01", "amplification": 120}
        assert (await c.post(f"/v1/relays/{rid}/history", json=bad, headers=h)).status_code == 422
        ok = {**bad, "amplification_metric": "engagements", "amplification_source": "instagram"}
        r = await c.post(f"/v1/relays/{rid}/history", json=ok, headers=h)
        assert r.status_code == 201
        detail = (await c.get(f"/v1/relays/{rid}", headers=h)).json()
        assert detail["status"] == "relayed"
        assert detail["history"][0]["amplification"] == 120
        other = {**ok, "client_id": new_client_id()}
        assert (await c.post(f"/v1/relays/{rid}/history", json=other, headers=h)).status_code == 404


async def test_duplicates_detected_merged_on_confirmation_or_dismissed(stack):
    cid = new_client_id()
    h = auth([cid])
    async with stack() as s:
        c = s.benchmark
        a = (
            await c.post(
                "/v1/relays",
                json=_relay("Marie Tremblay", ("instagram", "mtremblay"), topics=["ski"]),
                headers=h,
            )
        ).json()
        b = (
            await c.post(
                "/v1/relays",
                json=_relay(
                    "Tremblay, Marie",
                    ("x", "mtremblay"),
                    topics=["vélo"],
                    notes="Vue au salon",
                    status="partner",
                ),
                headers=h,
            )
        ).json()
        d = (await c.post("/v1/relays", json=_relay("Jean Côté"), headers=h)).json()
        e = (await c.post("/v1/relays", json=_relay("Jean Cote"), headers=h)).json()
        await c.post(f"/v1/clients/{cid}/shortlist", json={"relay_id": b["id"]}, headers=h)
        pairs = (await c.get("/v1/relays/duplicates", headers=h)).json()
        found = {(p["a"]["id"], p["b"]["id"]): p for p in pairs}
        ab = found[(a["id"], b["id"])]
        assert any(r.startswith("same handle") for r in ab["reasons"])
        assert (d["id"], e["id"]) in found
        # dismiss one pair: never proposed again
        await c.post("/v1/relays/duplicates/dismiss", json={"a": e["id"], "b": d["id"]}, headers=h)
        pairs = (await c.get("/v1/relays/duplicates", headers=h)).json()
        assert (d["id"], e["id"]) not in {(p["a"]["id"], p["b"]["id"]) for p in pairs}
        # merge on confirmation
        r = await c.post(f"/v1/relays/{a['id']}/merge", json={"other_id": b["id"]}, headers=h)
        assert r.status_code == 200, r.text
        merged = r.json()
        assert merged["topics"] == ["ski", "vélo"]
        assert {x["network"] for x in merged["accounts"]} == {"instagram", "x"}
        assert merged["aliases"] == ["Tremblay, Marie"] and merged["notes"] == "Vue au salon"
        assert merged["status"] == "partner" and merged["shortlisted_for"] == [cid]
        assert (await c.get(f"/v1/relays/{b['id']}", headers=h)).status_code == 404


async def test_csv_import_all_or_nothing_duplicates_and_export(stack):
    h = auth([new_client_id()])
    async with stack() as s:
        c = s.benchmark
        existing = (
            await c.post("/v1/relays", json=_relay("Anne Roy", ("instagram", "anneroy")), headers=h)
        ).json()
        bad = "nom;instagram;statut\nPaul;@paul;partenaire\n;@vide;\nLuc;@paul;inconnu\n"
        r = await c.post("/v1/relays/import", files={"file": ("r.csv", bad.encode())}, headers=h)
        body = r.json()
        assert r.status_code == 200 and body["created"] == 0
        reasons = {(e["row"], e["column"]) for e in body["errors"]}
        assert (3, "name") in reasons and (4, "instagram") in reasons and (4, "status") in reasons
        assert (await c.get("/v1/relays", params={"q": "paul"}, headers=h)).json()["total"] == 0

        good = (
            "\ufeffName,Instagram,X,Topics,Bio\n"
            'Paul Gagnon,https://www.instagram.com/paulg/,,plein air; ski,"Guide, Québec"\n'
            "Anne Roy,@AnneRoy,anne_r,vélo,\n"
            "=cmd|' /C calc'!A0,@evil,,,\n"
        )
        files = {"file": ("r.csv", good.encode())}
        r = await c.post("/v1/relays/import", files=files, params={"dry_run": True}, headers=h)
        dry = r.json()
        assert dry["dry_run"] and dry["rows"] == 3 and dry["created"] == 0
        assert [d["existing_id"] for d in dry["duplicates"]] == [existing["id"]]
        r = await c.post("/v1/relays/import", files=files, headers=h)
        assert r.status_code == 409 and r.json()["duplicates"][0]["row"] == 3
        r = await c.post(
            "/v1/relays/import", files=files, params={"on_duplicate": "merge"}, headers=h
        )
        done = r.json()
        assert done["created"] == 2 and done["merged"] == 1, done
        anne = (await c.get(f"/v1/relays/{existing['id']}", headers=h)).json()
        assert {a["network"] for a in anne["accounts"]} == {"instagram", "x"}
        assert anne["topics"] == ["vélo"]

        r = await c.get("/v1/relays/export.csv", headers=h)
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        by_name = {row["name"]: row for row in rows}
        assert "'=cmd|' /C calc'!A0" in by_name  # neutralised, shown as text
        assert by_name["Paul Gagnon"]["instagram"] == "https://www.instagram.com/paulg/"
        assert by_name["Paul Gagnon"]["topics"] == "plein air; ski"
        assert by_name["Paul Gagnon"]["bio"] == "Guide, Québec"
