"""Meta's webhook: the verification handshake and signed change notifications."""

from __future__ import annotations

import json

from sqlmodel import col, select

from services.ingest.models import IngestJob
from shared.webhooks import meta_signature
from tests.conftest import auth, new_client_id

APP_SECRET = "test-app-secret"
VERIFY = "meatyhamhock"
# Meta's own bytes: non-ASCII escaped as \u00e9, exactly as sent and signed.
BODY = (
    b'{"object":"page","entry":[{"id":"123","time":1700000000,"changes":[{"field":"feed",'
    b'"value":{"message":"caf\\u00e9"}}]}]}'
)
SIGNATURE = "sha256=bbb64250ca84f1af2bf707689ab7af97daacfa19658c0f32a1980b1ec0a19b28"

META = {"oauth_meta_client_secret": APP_SECRET, "meta_webhook_verify_token": VERIFY}


async def test_handshake_returns_the_bare_challenge(make_backend):
    async with make_backend("ingest", **META) as (app, c):
        r = await c.get(
            "/v1/incoming/meta",
            params={
                "hub.mode": "subscribe",
                "hub.challenge": "1158201444",
                "hub.verify_token": VERIFY,
            },
        )
        assert r.status_code == 200
        assert r.text == "1158201444"
        assert r.headers["content-type"].startswith("text/plain")
        for params in (
            {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "wrong"},
            {"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": VERIFY},
            {"hub.mode": "subscribe", "hub.verify_token": VERIFY},
            {},
        ):
            r = await c.get("/v1/incoming/meta", params=params)
            assert r.status_code == 403, params
    async with make_backend("ingest") as (app, c):  # no verify token configured
        r = await c.get(
            "/v1/incoming/meta",
            params={"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": ""},
        )
        assert r.status_code == 403


async def test_notifications_are_checked_on_the_raw_bytes(make_backend):
    async with make_backend("ingest", **META) as (app, c):
        ok = await c.post(
            "/v1/incoming/meta",
            content=BODY,
            headers={"x-hub-signature-256": SIGNATURE, "content-type": "application/json"},
        )
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"entries": 1, "syncs_queued": 0}
        reserialised = json.dumps(json.loads(BODY), ensure_ascii=False).encode()
        for body, headers in (
            (reserialised, {"x-hub-signature-256": SIGNATURE}),
            (BODY, {}),
            (BODY, {"x-hub-signature": "sha1=0123"}),
            (BODY, {"x-hub-signature-256": SIGNATURE.upper()[:-1] + "0"}),
            (BODY + b" ", {"x-hub-signature-256": SIGNATURE}),
        ):
            r = await c.post(
                "/v1/incoming/meta",
                content=body,
                headers={**headers, "content-type": "application/json"},
            )
            assert r.status_code == 403, headers
            assert r.headers["content-type"].startswith("application/problem+json")
        junk = b"not json"
        r = await c.post(
            "/v1/incoming/meta",
            content=junk,
            headers={"x-hub-signature-256": meta_signature(APP_SECRET, junk)},
        )
        assert r.status_code == 422


async def test_a_notification_queues_a_sync_of_the_connected_page(make_backend, db):
    cid = new_client_id()
    async with make_backend("ingest", **META) as (app, c):
        r = await c.post(
            "/v1/connections/token",
            json={
                "client_id": cid,
                "network": "facebook",
                "token": "EAAGlong-lived-page-token",
                "external_id": "123",
            },
            headers=auth([cid]),
        )
        assert r.status_code == 201
        q = select(IngestJob).where(col(IngestJob.client_id) == cid)
        [backfill] = (await db.exec(q)).all()
        backfill.status = "succeeded"
        db.add(backfill)
        await db.commit()
        headers = {"x-hub-signature-256": SIGNATURE, "content-type": "application/json"}
        r = await c.post("/v1/incoming/meta", content=BODY, headers=headers)
        assert r.json() == {"entries": 1, "syncs_queued": 1}
        r = await c.post("/v1/incoming/meta", content=BODY, headers=headers)
        assert r.json()["syncs_queued"] == 1  # the waiting job is reused
        jobs = (await db.exec(q.order_by(col(IngestJob.created_at)))).all()
        assert len(jobs) == 2
        assert jobs[1].args["kind"] == "webhook" and jobs[1].args["external_id"] == "123"


async def test_openapi_says_these_endpoints_authenticate_by_signature(make_backend):
    async with make_backend("ingest") as (app, c):
        spec = (await c.get("/openapi.json")).json()
        for path, method in (
            ("/v1/incoming/meta", "get"),
            ("/v1/incoming/meta", "post"),
            ("/v1/incoming/clients/{client_id}/metrics", "post"),
        ):
            op = spec["paths"][path][method]
            assert "by signature, not by bearer token" in op["description"], path
            assert op["security"] == []
