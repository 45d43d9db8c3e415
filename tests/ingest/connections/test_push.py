"""The signed metrics push: Standard Webhooks signature, replay refusal, the loader."""

from __future__ import annotations

import json
import time
import uuid

from sqlalchemy import func
from sqlmodel import col, select

from services.ingest.store.models import Account, DailyMetric
from services.ingest.webhooks.models import PushSecret
from shared.webhooks import headers_for
from tests.conftest import auth, new_client_id


def body(days: int = 3, metric: str = "sessions", network: str = "plausible") -> bytes:
    return json.dumps(
        {
            "account": {"network": network, "external_id": "example.org", "name": "Site"},
            "metrics": [
                {"metric": metric, "day": f"2026-03-0{d + 1}", "value": 100 + d}
                for d in range(days)
            ],
            "provider": "agency-etl",
            "version": "2",
        }
    ).encode()


async def push(c, cid: int, secret: str, raw: bytes, msg_id: str | None = None, **kw):
    headers = headers_for(secret, msg_id or f"msg_{uuid.uuid4().hex}", raw, **kw)
    return await c.post(f"/v1/incoming/clients/{cid}/metrics", content=raw, headers=headers)


async def new_secret(c, cid: int) -> str:
    r = await c.post(f"/v1/clients/{cid}/push-secret", headers=auth([cid]))
    assert r.status_code == 201, r.text
    return r.json()["secret"]


async def rows(db, cid: int) -> int:
    q = (
        select(func.count())
        .select_from(DailyMetric)
        .join(Account, col(Account.id) == DailyMetric.account_id)
        .where(Account.client_id == cid)
    )
    return int((await db.exec(q)).one())


async def test_a_signed_push_is_stored_once(make_backend, db):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        raw = body()
        r = await push(c, cid, "whsec_" + "A" * 43, raw)
        assert r.status_code == 401  # no secret yet: same answer as a wrong signature
        secret = await new_secret(c, cid)
        assert secret.startswith("whsec_")
        shown = (await c.get(f"/v1/clients/{cid}/push-secret", headers=auth([cid]))).json()
        assert shown["configured"] is True and "secret" not in shown
        row = await db.get(PushSecret, cid)
        assert secret not in row.secret_encrypted

        r = await push(c, cid, secret, raw, msg_id="msg_first")
        assert r.status_code == 200, r.text
        assert r.json()["daily_rows"] == 3 and r.json()["account_id"]
        assert await rows(db, cid) == 3
        account = await db.get(Account, r.json()["account_id"])
        assert (account.client_id, account.network, account.external_id) == (
            cid,
            "plausible",
            "example.org",
        )

        replay = await push(c, cid, secret, raw, msg_id="msg_first")
        assert replay.status_code == 409
        again = await push(c, cid, secret, raw, msg_id="msg_second")
        assert again.status_code == 200 and await rows(db, cid) == 3  # upserted, not doubled


async def test_forged_stale_and_malformed_pushes_are_refused(make_backend, db):
    cid, other = new_client_id(), new_client_id()
    async with make_backend("ingest") as (app, c):
        secret = await new_secret(c, cid)
        other_secret = await new_secret(c, other)
        raw = body()
        good = headers_for(secret, "msg_x1", raw)
        cases = [
            ({**good, "webhook-signature": "v1,AAAA"}, raw, "no matching signature"),
            ({k: v for k, v in good.items() if k != "webhook-id"}, raw, "missing"),
            (good, json.dumps(json.loads(raw), indent=1).encode(), "no matching signature"),
            (headers_for(secret, "msg_x2", raw, timestamp=int(time.time()) - 3600), raw, "old"),
            (headers_for(secret, "msg_x3", raw, timestamp=int(time.time()) + 3600), raw, "new"),
            (headers_for(other_secret, "msg_x4", raw), raw, "no matching signature"),
        ]
        for headers, content, words in cases:
            r = await c.post(
                f"/v1/incoming/clients/{cid}/metrics", content=content, headers=headers
            )
            assert r.status_code == 401, words
            assert words in r.json()["detail"]
        for raw_bad, status in (
            (body(metric="likes_per_moon"), 422),
            (b'{"account": {"network": "x"}, "metrics": []}', 422),
            (b"not json at all", 422),
            (body().replace(b"100", b"NaN"), 422),
        ):
            r = await push(c, cid, secret, raw_bad)
            assert r.status_code == status, raw_bad
            assert r.headers["content-type"].startswith("application/problem+json")
        assert await rows(db, cid) == 0  # nothing of any refused push is kept

        # A rotated secret: the old one no longer signs.
        fresh = await new_secret(c, cid)
        assert (await push(c, cid, secret, raw)).status_code == 401
        assert (await push(c, cid, fresh, raw)).status_code == 200
        r = await c.delete(f"/v1/clients/{cid}/push-secret", headers=auth([cid]))
        assert r.status_code == 204
        assert (await push(c, cid, fresh, raw)).status_code == 401


async def test_the_push_is_served_ahead_of_fastapis_routing_and_still_documented(make_backend):
    from services.ingest.webhooks.incoming import PushRoute

    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        assert isinstance(app.router.routes[0], PushRoute)
        secret = await new_secret(c, cid)
        r = await push(c, cid, secret, body())
        assert r.status_code == 200 and r.headers["x-request-id"]
        # The metrics label it by its path template, like any route.
        metrics = (await c.get("/metrics")).text
        assert (
            'balise_http_requests_total{method="POST",'
            'route="/v1/incoming/clients/{client_id}/metrics",service="ingest",status="200"} 1.0'
        ) in metrics
        # Refusals are the app's problem documents, with the request id.
        r = await push(c, cid, "whsec_" + "C" * 43, body())
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["request_id"] == r.headers["x-request-id"]
        # An id no client can have: the same answer as a client without a secret.
        r = await push(c, 2**40, secret, body())
        assert r.status_code == 401
        doc = (await c.get("/openapi.json")).json()
        op = doc["paths"]["/v1/incoming/clients/{client_id}/metrics"]["post"]
        assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/PushAccepted"
        )
        assert not any("{client_id:int}" in p for p in doc["paths"])
