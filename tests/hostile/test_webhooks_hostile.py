"""Forged, stale, replayed and re-serialised webhooks are refused and leave nothing behind;
outgoing webhooks cannot be aimed at private addresses in production.

Complements tests/shared/test_signatures.py (the schemes against their vectors) and
tests/ingest/connections/ (the happy paths): here each refusal is checked through the
real endpoint *and* against the database — no sync queued by a forged Meta notification,
no metric stored by a refused push, and a refused push does not burn its ``webhook-id``.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import col, select

from services.ingest.models import IngestJob
from services.ingest.store.models import Account, DailyMetric
from services.ingest.webhooks.models import PushMessage
from shared import webhooks
from tests.conftest import auth, build_app, new_client_id, running

APP_SECRET = "hostile-app-secret"
META = {"oauth_meta_client_secret": APP_SECRET, "meta_webhook_verify_token": "verify-me"}


def meta_body(page: str) -> bytes:
    # As Meta sends it: compact, non-ASCII escaped; the signature covers these bytes.
    return (
        b'{"object":"page","entry":[{"id":"' + page.encode() + b'","time":1700000000,'
        b'"changes":[{"field":"feed","value":{"message":"caf\\u00e9"}}]}]}'
    )


async def _jobs(db, cid: int) -> int:
    q = select(func.count()).select_from(IngestJob).where(col(IngestJob.client_id) == cid)
    return int((await db.exec(q)).one())


async def test_forged_meta_notifications_queue_nothing(make_backend, db):
    cid = new_client_id()
    page = f"page{uuid.uuid4().hex[:12]}"
    async with make_backend("ingest", **META) as (app, c):
        r = await c.post(
            "/v1/connections/token",
            json={
                "client_id": cid,
                "network": "facebook",
                "token": "EAAG-tok",
                "external_id": page,
            },
            headers=auth([cid]),
        )
        assert r.status_code == 201, r.text
        # The connection's first backfill is waiting; mark it done so a notification
        # would have to queue a new job (what the forged ones must not do).
        for job in (await db.exec(select(IngestJob).where(IngestJob.client_id == cid))).all():
            job.status = "succeeded"
            db.add(job)
        await db.commit()
        before = await _jobs(db, cid)
        body = meta_body(page)
        good = webhooks.meta_signature(APP_SECRET, body)
        reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
        forged = [
            ("wrong secret", body, {"x-hub-signature-256": webhooks.meta_signature("x", body)}),
            ("no signature", body, {}),
            ("sha1 header only", body, {"x-hub-signature": "sha1=" + "0" * 40}),
            ("bare hex", body, {"x-hub-signature-256": good.removeprefix("sha256=")}),
            ("re-serialised body", reserialised, {"x-hub-signature-256": good}),
            ("one byte more", body + b"\n", {"x-hub-signature-256": good}),
            ("empty signature", body, {"x-hub-signature-256": "sha256="}),
        ]
        for label, content, headers in forged:
            r = await c.post(
                "/v1/incoming/meta",
                content=content,
                headers={**headers, "content-type": "application/json"},
            )
            assert r.status_code == 403, label
            assert r.headers["content-type"].startswith("application/problem+json"), label
            assert "not authentic" in r.json()["detail"], label
        assert await _jobs(db, cid) == before
        # The genuine one does queue the sync: the refusals above were not for nothing.
        r = await c.post(
            "/v1/incoming/meta",
            content=body,
            headers={"x-hub-signature-256": good, "content-type": "application/json"},
        )
        assert r.status_code == 200 and r.json()["syncs_queued"] == 1, r.text
        assert await _jobs(db, cid) == before + 1


async def test_meta_notifications_are_refused_when_no_app_secret_is_configured(make_backend):
    async with make_backend("ingest") as (app, c):
        body = meta_body("123")
        # Signed with the empty secret: an unconfigured service must not accept it.
        r = await c.post(
            "/v1/incoming/meta",
            content=body,
            headers={"x-hub-signature-256": webhooks.meta_signature("", body)},
        )
        assert r.status_code == 403
        assert "no Meta app secret" in r.json()["detail"]


# ---------------------------------------------------------------------- metrics push


def push_body(value: int = 100) -> bytes:
    return json.dumps(
        {
            "account": {"network": "plausible", "external_id": "example.org"},
            "metrics": [{"metric": "sessions", "day": "2026-03-01", "value": value}],
            "provider": "agency-etl",
        },
        separators=(",", ":"),
    ).encode()


async def _metrics(db, cid: int) -> int:
    q = (
        select(func.count())
        .select_from(DailyMetric)
        .join(Account, col(Account.id) == DailyMetric.account_id)
        .where(Account.client_id == cid)
    )
    return int((await db.exec(q)).one())


async def _received(db, cid: int) -> int:
    q = select(func.count()).select_from(PushMessage).where(PushMessage.client_id == cid)
    return int((await db.exec(q)).one())


async def test_refused_pushes_store_nothing_and_do_not_burn_their_id(make_backend, db):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        r = await c.post(f"/v1/clients/{cid}/push-secret", headers=auth([cid]))
        secret = r.json()["secret"]
        tolerance = int(app.state.settings.push_tolerance_seconds)
        url = f"/v1/incoming/clients/{cid}/metrics"
        raw = push_body()
        now = int(time.time())
        msg = "msg_hostile_1"
        signed = webhooks.headers_for(secret, msg, raw, timestamp=now)
        cases = [
            ("bad signature", raw, {**signed, "webhook-signature": "v1," + "A" * 44}),
            ("unknown version only", raw, {**signed, "webhook-signature": "v2,abc"}),
            ("no webhook-id", raw, {k: v for k, v in signed.items() if k != "webhook-id"}),
            ("no timestamp", raw, {k: v for k, v in signed.items() if k != "webhook-timestamp"}),
            ("no signature", raw, {k: v for k, v in signed.items() if k != "webhook-signature"}),
            ("timestamp not a number", raw, {**signed, "webhook-timestamp": "12.5"}),
            (
                "too old",
                raw,
                webhooks.headers_for(secret, msg, raw, timestamp=now - tolerance - 60),
            ),
            (
                "too new",
                raw,
                webhooks.headers_for(secret, msg, raw, timestamp=now + tolerance + 60),
            ),
            ("re-serialised body", json.dumps(json.loads(raw), indent=2).encode(), signed),
            ("other id, same signature", raw, {**signed, "webhook-id": "msg_hostile_2"}),
            ("other client's url", raw, signed),  # posted to another client below
        ]
        for label, content, headers in cases:
            target = url if label != "other client's url" else url.replace(str(cid), "1")
            r = await c.post(target, content=content, headers=headers)
            assert r.status_code == 401, (label, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
        assert await _metrics(db, cid) == 0 and await _received(db, cid) == 0

        # The id of those refused messages is still free: the genuine message goes in.
        r = await c.post(url, content=raw, headers=signed)
        assert r.status_code == 200, r.text
        assert await _metrics(db, cid) == 1 and await _received(db, cid) == 1

        # Replays: the same message, then the same id re-signed over another body.
        r = await c.post(url, content=raw, headers=signed)
        assert r.status_code == 409
        other = push_body(999)
        r = await c.post(url, content=other, headers=webhooks.headers_for(secret, msg, other))
        assert r.status_code == 409 and msg in r.json()["detail"]
        async with db.begin_nested():
            values = (
                await db.exec(
                    select(DailyMetric.value)
                    .join(Account, col(Account.id) == DailyMetric.account_id)
                    .where(Account.client_id == cid)
                )
            ).all()
        assert values == [100.0]  # the replay changed nothing
        assert await _received(db, cid) == 1


# ---------------------------------------------------------------------- outgoing targets

PRIVATE = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",  # a name that resolves to loopback
    "http://10.0.0.5/hook",
    "http://192.168.1.20/hook",
    "http://172.20.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "http://[::1]/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:10.0.0.5]/hook",  # IPv4-mapped private
    "http://[fd00::1]/hook",  # unique local
    "http://0.0.0.0/hook",
]


def _production(**extra):
    from cryptography.fernet import Fernet

    return {"environment": "production", "encryption_key": Fernet.generate_key().decode(), **extra}


async def _subscribe(c, cid: int, url: str):
    events = (await c.get("/v1/webhooks/events", headers=auth([cid]))).json()["events"]
    return await c.post(
        "/v1/webhooks/subscriptions",
        json={"client_id": cid, "url": url, "event_types": [events[0]["name"]]},
        headers=auth([cid]),
    )


@pytest.mark.parametrize("service", ["ingest", "benchmark"])
async def test_production_refuses_private_targets_and_test_mode_allows_them(
    migrated, var_dir, service
):
    cid = new_client_id()
    prod = build_app(service, migrated, var_dir, run_jobs_in_process=False, **_production())
    assert prod.state.settings.webhooks_allow_private is False
    async with (
        running(prod),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=prod), base_url=f"http://{service}"
        ) as c,
    ):
        for url in PRIVATE:
            r = await _subscribe(c, cid, url)
            assert r.status_code == 422, (url, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "private, loopback or link-local" in r.json()["detail"], url
        listed = await c.get(
            "/v1/webhooks/subscriptions", params={"client_id": cid}, headers=auth([cid])
        )
        assert listed.json()["data"] == []  # nothing of the refused ones was kept
        public = await _subscribe(c, cid, "https://93.184.215.14/hook")
        assert public.status_code == 201, public.text

    # The same service in test mode (the default outside production), and production with
    # the switch set for a lab: loopback receivers are allowed.
    for overrides in ({}, _production(webhook_allow_private_targets=True)):
        app = build_app(service, migrated, var_dir, run_jobs_in_process=False, **overrides)
        assert app.state.settings.webhooks_allow_private is True
        async with (
            running(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=f"http://{service}"
            ) as c,
        ):
            r = await _subscribe(c, new_client_id(), "http://127.0.0.1:9/hook")
            assert r.status_code == 201, (overrides.keys(), r.text)
