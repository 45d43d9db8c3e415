"""The imports API: upload → job → outcome, the column-mapping step, and tenancy."""

from __future__ import annotations

import anyio
import pytest

from tests.conftest import auth, new_client_id
from tests.ingest.helpers import FIXTURES


def _file(name: str, content: bytes | None = None) -> dict[str, tuple[str, bytes, str]]:
    data = content if content is not None else (FIXTURES / name).read_bytes()
    return {"file": (name, data, "text/csv")}


async def _upload(c, cid: int, name: str, content: bytes | None = None, **data):
    return await c.post(
        f"/v1/clients/{cid}/imports", files=_file(name, content), data=data, headers=auth([cid])
    )


async def test_upload_runs_the_import_job(make_live_backend, var_dir):
    cid = new_client_id()
    async with make_live_backend("ingest") as (app, c):
        r = await _upload(c, cid, "meta_facebook_posts.csv")
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["status"] == "queued" and body["format"] == "meta_facebook_posts"
        assert body["job_id"] and body["file_name"] == "meta_facebook_posts.csv"
        assert await app.state.runner.wait_idle(30)
        imp = (await c.get(f"/v1/imports/{body['id']}", headers=auth([cid]))).json()
        assert imp["status"] == "succeeded", imp["errors"]
        assert (imp["posts"], imp["daily_rows"], imp["accounts"]) == (3, 0, 1)
        assert imp["errors"] == [] and imp["snapshot_date"]
        job = (await c.get(f"/v1/jobs/{body['job_id']}", headers=auth([cid]))).json()
        assert job["status"] == "succeeded" and job["progress"] == 100
        assert job["result"]["posts"] == 3 and job["result"]["status"] == "succeeded"
        # The upload is removed once imported.
        assert [p async for p in anyio.Path(var_dir, "imports", str(cid)).glob("*")] == []
        accounts = (await c.get(f"/v1/clients/{cid}/accounts", headers=auth([cid]))).json()
        assert [a["external_id"] for a in accounts["data"]] == ["1234567890"]

        # The same file again: same snapshot, nothing written.
        r = await _upload(c, cid, "meta_facebook_posts.csv")
        assert await app.state.runner.wait_idle(30)
        again = (await c.get(f"/v1/imports/{r.json()['id']}", headers=auth([cid]))).json()
        assert again["status"] == "succeeded"
        assert again["snapshot_date"] == imp["snapshot_date"]
        assert again["counts"]["posts_created"] == 0
        assert again["counts"]["post_metrics_written"] == 0
        listing = (await c.get(f"/v1/clients/{cid}/imports", headers=auth([cid]))).json()
        assert [i["id"] for i in listing["data"]] == [again["id"], imp["id"]]


async def test_a_bad_file_is_refused_with_its_errors(make_live_backend):
    cid = new_client_id()
    async with make_live_backend("ingest") as (app, c):
        r = await _upload(c, cid, "meta_facebook_posts_bad.csv")
        assert r.status_code == 202
        assert await app.state.runner.wait_idle(30)
        imp = (await c.get(f"/v1/imports/{r.json()['id']}", headers=auth([cid]))).json()
        assert imp["status"] == "refused"
        assert imp["errors_total"] == 4
        assert {(e["row"], e["column"]) for e in imp["errors"]} == {
            (3, "Views"),
            (4, "Publish time"),
            (5, "Post ID"),
            (6, "Reach"),
        }
        assert imp["posts"] == 0
        accounts = (await c.get(f"/v1/clients/{cid}/accounts", headers=auth([cid]))).json()
        assert accounts["data"] == []
        job = (await c.get(f"/v1/jobs/{imp['job_id']}", headers=auth([cid]))).json()
        assert job["status"] == "succeeded" and job["result"]["status"] == "refused"


async def test_unknown_layout_goes_through_the_mapping_step(make_backend):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        acc = await c.post(
            f"/v1/clients/{cid}/accounts",
            json={"network": "facebook", "external_id": "1234567890"},
            headers=auth([cid]),
        )
        account_id = acc.json()["id"]
        r = await _upload(c, cid, "agency_weekly_sheet.csv", account_id=str(account_id))
        assert r.status_code == 202
        imp = r.json()
        assert imp["status"] == "needs_mapping" and imp["job_id"] is None
        p = await c.get(f"/v1/imports/{imp['id']}/preview", headers=auth([cid]))
        assert p.status_code == 200, p.text
        preview = p.json()
        assert preview["header_row"] == 1
        assert preview["columns"] == [
            "Semaine", "Jour", "Abonnés Facebook", "Portée totale", "Commentaire"
        ]  # fmt: skip
        assert preview["rows"][1] == ["S18", "01/05/2026", "1 532", "4 210", "lancement"]
        assert preview["suggested_columns"]["Jour"] == "date"
        assert "followers" in preview["metrics"]
        mapping = {
            "kind": "daily",
            "network": "facebook",
            "header_row": 1,
            "columns": {
                "Jour": "date",
                "Abonnés Facebook": "metric:followers",
                "Portée totale": "metric:reach",
            },
            "date_order": "dmy",
        }
        bad = await c.post(
            f"/v1/imports/{imp['id']}/mapping",
            json={"mapping": {**mapping, "columns": {"Day": "date", "X": "metric:reach"}}},
            headers=auth([cid]),
        )
        assert bad.status_code == 422 and "no column named" in bad.json()["detail"]
        r = await c.post(
            f"/v1/imports/{imp['id']}/mapping",
            json={"mapping": mapping, "save": True, "name": "Feuille hebdo"},
            headers=auth([cid]),
        )
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "queued" and r.json()["job_id"]
        assert r.json()["format"] == "column_mapping"
        again = await c.post(
            f"/v1/imports/{imp['id']}/mapping", json={"mapping": mapping}, headers=auth([cid])
        )
        assert again.status_code == 409
        saved = (await c.get(f"/v1/clients/{cid}/column-mappings", headers=auth([cid]))).json()
        assert [m["name"] for m in saved] == ["Feuille hebdo"]
        # The next file with the same header is mapped without asking.
        other = (FIXTURES / "agency_weekly_sheet.csv").read_text("utf-8-sig")
        other = other.replace("1 532", "1 600")
        r = await _upload(
            c, cid, "semaine-19.csv", other.encode("utf-8"), account_id=str(account_id)
        )
        assert r.json()["status"] == "queued" and r.json()["format"] == "column_mapping"
        d = await c.delete(f"/v1/column-mappings/{saved[0]['id']}", headers=auth([cid]))
        assert d.status_code == 204


async def test_mapped_import_job_stores_the_rows(make_live_backend):
    cid = new_client_id()
    async with make_live_backend("ingest") as (app, c):
        acc = await c.post(
            f"/v1/clients/{cid}/accounts",
            json={"network": "facebook", "external_id": "1234567890"},
            headers=auth([cid]),
        )
        r = await _upload(c, cid, "agency_weekly_sheet.csv", account_id=str(acc.json()["id"]))
        mapping = {
            "kind": "daily",
            "network": "facebook",
            "columns": {"Jour": "date", "Abonnés Facebook": "metric:followers"},
            "date_order": "dmy",
        }
        r = await c.post(
            f"/v1/imports/{r.json()['id']}/mapping",
            json={"mapping": mapping, "save": False},
            headers=auth([cid]),
        )
        assert await app.state.runner.wait_idle(30)
        imp = (await c.get(f"/v1/imports/{r.json()['id']}", headers=auth([cid]))).json()
        assert imp["status"] == "succeeded", imp["errors"]
        assert imp["daily_rows"] == 3


async def test_refusals_at_upload(make_backend):
    cid, other = new_client_id(), new_client_id()
    async with make_backend("ingest") as (app, c):
        r = await _upload(c, cid, "x.csv", b"\x00\x01\x02\x03garbage" * 40)
        assert r.status_code == 202 and r.json()["status"] == "refused"
        assert "binary" in r.json()["errors"][0]["reason"]
        r = await _upload(c, cid, "empty.csv", b"")
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await _upload(c, cid, "meta_facebook_posts.csv", format="nope")
        assert r.status_code == 422 and "nope" in r.json()["detail"]
        r = await _upload(c, cid, "meta_facebook_posts.csv", format="x_tweet_activity")
        assert r.json()["status"] == "refused" and "X Analytics" in r.json()["errors"][0]["reason"]
        acc = await c.post(
            f"/v1/clients/{other}/accounts",
            json={"network": "facebook", "external_id": "p"},
            headers=auth([other]),
        )
        r = await _upload(c, cid, "meta_facebook_posts.csv", account_id=str(acc.json()["id"]))
        assert r.status_code == 404  # another tenant's account does not exist for cid


async def test_tenancy(make_backend):
    a, b = new_client_id(), new_client_id()
    async with make_backend("ingest") as (app, c):
        r = await _upload(c, b, "agency_weekly_sheet.csv")
        imp_b = r.json()["id"]
        # Client A's token cannot import into B, nor see B's imports in any way.
        r = await c.post(
            f"/v1/clients/{b}/imports", files=_file("meta_facebook_posts.csv"), headers=auth([a])
        )
        assert r.status_code == 404
        assert (await c.get(f"/v1/clients/{b}/imports", headers=auth([a]))).status_code == 404
        assert (await c.get(f"/v1/imports/{imp_b}", headers=auth([a]))).status_code == 404
        assert (await c.get(f"/v1/imports/{imp_b}/preview", headers=auth([a]))).status_code == 404
        r = await c.post(
            f"/v1/imports/{imp_b}/mapping",
            json={"mapping": {"kind": "daily", "network": "x",
                              "columns": {"Jour": "date", "Portée totale": "metric:reach"}}},
            headers=auth([a]),
        )  # fmt: skip
        assert r.status_code == 404
        assert (
            await c.get(f"/v1/clients/{b}/column-mappings", headers=auth([a]))
        ).status_code == 404
        # A read-only credential cannot upload, even for its own client.
        r = await c.post(
            f"/v1/clients/{a}/imports",
            files=_file("meta_facebook_posts.csv"),
            headers=auth([a], scope="read"),
        )
        assert r.status_code == 403
        # No token at all.
        r = await c.post(f"/v1/clients/{a}/imports", files=_file("meta_facebook_posts.csv"))
        assert r.status_code == 401


async def test_listing_pages_and_formats(make_backend):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        ids = [(await _upload(c, cid, "agency_weekly_sheet.csv")).json()["id"] for _ in range(3)]
        page = (await c.get(f"/v1/clients/{cid}/imports?limit=2", headers=auth([cid]))).json()
        assert [i["id"] for i in page["data"]] == ids[::-1][:2]
        nxt = await c.get(
            f"/v1/clients/{cid}/imports",
            params={"limit": 2, "cursor": page["next_cursor"]},
            headers=auth([cid]),
        )
        assert [i["id"] for i in nxt.json()["data"]] == [ids[0]]
        assert nxt.json()["next_cursor"] is None
        formats = (await c.get("/v1/import-formats", headers=auth([cid]))).json()
        names = {f["name"] for f in formats}
        assert {"meta_facebook_posts", "linkedin_page", "ga4_ui_export", "matomo_export"} <= names


@pytest.mark.parametrize("path", ["/v1/imports/999999999", "/v1/imports/999999999/preview"])
async def test_missing_import_is_problem_404(make_backend, path):
    async with make_backend("ingest") as (app, c):
        r = await c.get(path, headers=auth([1]))
        assert r.status_code == 404
        assert r.json()["type"].endswith("/not-found")
