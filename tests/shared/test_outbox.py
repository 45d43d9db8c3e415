"""Outgoing webhooks: subscriptions API, the transactional outbox and the dispatcher.

Deliveries go to a real receiver (uvicorn on a free loopback port) that checks each
signature on its own; the dispatcher's clock is driven by the test to walk the retry
schedule without waiting a day.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import col, select

from services.ingest.webhooks.events import SYNC_COMPLETED, SYNC_FAILED, outbox
from services.ingest.webhooks.models import IngestWebhookDelivery, IngestWebhookSubscription
from shared.crypto import box_for
from shared.outbox import RETRY_SCHEDULE
from tests.conftest import auth, new_client_id
from tests.shared.outbox_helpers import FakeClock, delivery_rows, dispatcher
from tests.shared.receiver import Receiver


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


async def subscribe(c, cid, url, events=(SYNC_COMPLETED,), **kw):
    r = await c.post(
        "/v1/webhooks/subscriptions",
        json={"client_id": cid, "url": url, "event_types": list(events), **kw},
        headers=auth([cid]),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_subscription_secret_is_shown_once_and_encrypted_at_rest(make_backend, db):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        created = await subscribe(c, cid, "https://93.184.215.14/hook", description="CRM")
        secret = created["secret"]
        assert secret.startswith("whsec_") and len(secret) > 40
        assert created["enabled"] is True and created["service"] == "ingest"
        assert created["event_types"] == [SYNC_COMPLETED]

        shown = await c.get(f"/v1/webhooks/subscriptions/{created['id']}", headers=auth([cid]))
        assert shown.status_code == 200 and "secret" not in shown.json()
        listed = await c.get(
            "/v1/webhooks/subscriptions", params={"client_id": cid}, headers=auth([cid])
        )
        assert [s["id"] for s in listed.json()["data"]] == [created["id"]]
        assert secret not in listed.text

        row = await db.get(IngestWebhookSubscription, created["id"])
        assert row is not None and secret not in row.secret_encrypted
        assert box_for(app.state.settings).decrypt(row.secret_encrypted) == secret


async def test_subscriptions_are_tenant_scoped_and_validated(make_backend):
    cid, other = new_client_id(), new_client_id()
    async with make_backend("ingest") as (app, c):
        created = await subscribe(c, cid, "https://93.184.215.14/hook")
        path = f"/v1/webhooks/subscriptions/{created['id']}"
        for method in ("GET", "DELETE"):
            r = await c.request(method, path, headers=auth([other]))
            assert r.status_code == 404, method
        r = await c.get(
            "/v1/webhooks/subscriptions", params={"client_id": cid}, headers=auth([other])
        )
        assert r.status_code == 404
        r = await c.post(
            "/v1/webhooks/subscriptions",
            json={"client_id": cid, "url": "https://93.184.215.14/", "event_types": [SYNC_FAILED]},
            headers=auth([cid], role="client_viewer", scope="read"),
        )
        assert r.status_code == 403
        r = await c.post(
            "/v1/webhooks/subscriptions",
            json={"client_id": cid, "url": "https://93.184.215.14/", "event_types": ["nope.x"]},
            headers=auth([cid]),
        )
        assert r.status_code == 422 and "nope.x" in r.json()["detail"]
        for bad in ("ftp://example.org/x", "https://user:pw@93.184.215.14/", "not a url"):
            r = await c.post(
                "/v1/webhooks/subscriptions",
                json={"client_id": cid, "url": bad, "event_types": [SYNC_FAILED]},
                headers=auth([cid]),
            )
            assert r.status_code == 422, bad
            assert r.headers["content-type"].startswith("application/problem+json")
        events = (await c.get("/v1/webhooks/events", headers=auth([cid]))).json()
        names = {e["name"] for e in events["events"]}
        assert {
            "ingest.sync.completed",
            "ingest.sync.failed",
            "ingest.import.completed",
            "ingest.account.reauth_required",
            "webhook.ping",
        } <= names


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.10/x",
        "http://172.16.5.4/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://[fe80::1]/x",
        "http://0.0.0.0/x",
        "http://100.64.0.1/x",
    ],
)
async def test_private_targets_refused_in_production_mode(make_backend, url):
    cid = new_client_id()
    async with make_backend("ingest", webhook_allow_private_targets=False) as (app, c):
        r = await c.post(
            "/v1/webhooks/subscriptions",
            json={"client_id": cid, "url": url, "event_types": [SYNC_FAILED]},
            headers=auth([cid]),
        )
        assert r.status_code == 422, r.text
        assert "private" in r.json()["detail"] or "resolved" in r.json()["detail"]


async def test_production_default_refuses_private_targets(migrated, var_dir):
    from cryptography.fernet import Fernet

    from services.ingest.config import IngestSettings
    from tests.conftest import settings_for

    prod = settings_for(
        IngestSettings,
        migrated,
        var_dir,
        environment="production",
        encryption_key=Fernet.generate_key().decode(),
    )
    assert prod.webhooks_allow_private is False
    test = settings_for(IngestSettings, migrated, var_dir)
    assert test.webhooks_allow_private is True


async def test_emit_joins_the_callers_transaction(make_backend, db):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        sub = await subscribe(c, cid, "https://93.184.215.14/hook", events=(SYNC_COMPLETED,))
        # A rolled-back transaction sends nothing.
        nested = await db.begin_nested()
        rows = await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": 1})
        assert len(rows) == 1
        await nested.rollback()
        q = select(IngestWebhookDelivery).where(col(IngestWebhookDelivery.client_id) == cid)
        assert (await db.exec(q)).all() == []
        # An event nobody subscribed to queues nothing; another client's neither.
        assert await outbox.emit(db, cid, SYNC_FAILED, {"run_id": 2}) == []
        assert await outbox.emit(db, new_client_id(), SYNC_COMPLETED, {"run_id": 3}) == []
        rows = await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": 4})
        await db.commit()
        stored = (await db.exec(q)).all()
        assert [d.id for d in stored] == [rows[0].id]
        body = json.loads(stored[0].payload)
        assert body["type"] == SYNC_COMPLETED and body["data"] == {"run_id": 4}
        assert stored[0].subscription_id == sub["id"]
        assert stored[0].msg_id.startswith("msg_")
        with pytest.raises(ValueError):
            await outbox.emit(db, cid, "ingest.unknown", {})


async def test_delivery_is_signed_and_verified_by_the_receiver(
    make_backend, db, connection, receiver
):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        sub = await subscribe(c, cid, receiver.url)
        receiver.secret = sub["secret"]
        await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": 7, "counts": {"posts": 3}})
        await db.commit()
        clock = FakeClock()
        # The dispatcher serves every client's due deliveries (other tests may have left
        # some): what counts is what this receiver got.
        await dispatcher(outbox, connection, app.state.settings, clock).run()
        assert len(receiver.received) == 1 and receiver.attempts == 1
        got = receiver.received[0]
        assert got.verified, "the receiver could not verify the signature"
        assert got.json["type"] == SYNC_COMPLETED and got.json["data"]["run_id"] == 7
        assert got.headers["user-agent"].startswith("Balise-Webhooks")
        assert got.path == "/hooks/balise"
        # Nothing more to send: a second pass sends nothing.
        await dispatcher(outbox, connection, app.state.settings, clock).run()
        assert receiver.attempts == 1
        log = (
            await c.get(f"/v1/webhooks/subscriptions/{sub['id']}/deliveries", headers=auth([cid]))
        ).json()
        [d] = log["data"]
        assert d["status"] == "succeeded" and d["attempts"] == 1
        assert d["msg_id"] == got.msg_id and d["log"][0]["status_code"] == 200


async def test_retries_keep_the_same_webhook_id(make_backend, db, connection, receiver):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        sub = await subscribe(c, cid, receiver.url)
        receiver.secret = sub["secret"]
        receiver.fail_next = 3
        await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": 8})
        await db.commit()
        clock = FakeClock()
        d = dispatcher(outbox, connection, app.state.settings, clock)
        await d.run()
        assert receiver.attempts == 1 and not receiver.received
        # Not due yet: nothing is sent before the backoff delay.
        await d.run()
        assert receiver.attempts == 1
        for delay in RETRY_SCHEDULE[:3]:
            clock.advance(delay * 1.1 + dt.timedelta(seconds=1))
            await d.run()
        assert receiver.attempts == 4
        assert len(receiver.received) == 1 and receiver.received[0].verified
        clock.advance(dt.timedelta(days=2))
        await d.run()
        assert receiver.attempts == 4, "a delivered message was sent again"
        row = (
            await db.exec(
                select(IngestWebhookDelivery).where(col(IngestWebhookDelivery.client_id) == cid)
            )
        ).one()
        await db.refresh(row)
        assert row.status == "succeeded" and row.attempts == 4
        assert row.msg_id == receiver.received[0].msg_id
        assert [a["status_code"] for a in row.log] == [503, 503, 503, 200]
        s = await db.get(IngestWebhookSubscription, sub["id"])
        await db.refresh(s)
        assert s.enabled and s.failing_since is None and s.last_success_at is not None


async def test_receiver_down_for_a_day_disables_the_subscription(
    make_backend, db, connection, receiver
):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        sub = await subscribe(c, cid, receiver.url, events=(SYNC_COMPLETED, SYNC_FAILED))
        receiver.secret = sub["secret"]
        receiver.stop()  # down: connections are refused
        await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": 1})
        await db.commit()
        clock = FakeClock()
        start = clock.now
        d = dispatcher(outbox, connection, app.state.settings, clock)
        await d.run()
        clock.advance(dt.timedelta(hours=3))
        await outbox.emit(db, cid, SYNC_FAILED, {"run_id": 2})  # a second message meanwhile
        await db.commit()
        for _ in range(12):
            clock.advance(dt.timedelta(hours=9))
            await d.run()
        s = await db.get(IngestWebhookSubscription, sub["id"])
        await db.refresh(s)
        assert s.enabled is False and s.disabled_at is not None
        assert s.disabled_at - start >= dt.timedelta(hours=20)
        assert "failed deliveries" in s.disabled_reason and "connection failed" in s.disabled_reason
        rows = await delivery_rows(db, cid)
        assert [r.status for r in rows] == ["failed", "failed"]
        assert rows[0].attempts == outbox.max_attempts == 8
        first_id, first_msg = rows[0].id, rows[0].msg_id
        shown = (await c.get(f"/v1/webhooks/subscriptions/{sub['id']}", headers=auth([cid]))).json()
        assert shown["enabled"] is False and shown["disabled_reason"] == s.disabled_reason

        # Nothing is sent to a disabled subscription, and no new message is queued for it.
        assert await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": 3}) == []
        r = await c.post(f"/v1/webhooks/subscriptions/{sub['id']}/ping", headers=auth([cid]))
        assert r.status_code == 409

        # The agency fixes the receiver, re-enables, and re-sends the first message.
        receiver.start()
        r = await c.post(f"/v1/webhooks/subscriptions/{sub['id']}/enable", headers=auth([cid]))
        assert r.status_code == 200 and r.json()["enabled"] is True
        r = await c.post(f"/v1/webhooks/deliveries/{first_id}/retry", headers=auth([cid]))
        assert r.status_code == 202, r.text
        await d.run()
        assert [m.msg_id for m in receiver.received] == [first_msg]
        assert receiver.received[0].verified
        r = await c.post(f"/v1/webhooks/deliveries/{first_id}/retry", headers=auth([cid]))
        assert r.status_code == 409  # already delivered


async def test_a_success_in_between_keeps_the_subscription(make_backend, db, connection, receiver):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        sub = await subscribe(c, cid, receiver.url)
        receiver.secret = sub["secret"]
        receiver.always_fail = True
        await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": 1})
        await db.commit()
        clock = FakeClock()
        d = dispatcher(outbox, connection, app.state.settings, clock)
        await d.run()
        receiver.always_fail = False
        await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": 2})
        await db.commit()
        clock.advance(dt.timedelta(seconds=1))
        await d.run()  # run 2 gets through
        receiver.always_fail = True
        for _ in range(10):
            clock.advance(dt.timedelta(hours=9))
            await d.run()
        s = await db.get(IngestWebhookSubscription, sub["id"])
        await db.refresh(s)
        # Message 1 gave up, but something got through after its first attempt.
        assert s.enabled is True
        assert [m.json["data"]["run_id"] for m in receiver.received] == [2]


async def test_private_target_refused_at_send_time(make_backend, db, connection, receiver):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        sub = await subscribe(c, cid, receiver.url)
        await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": 1})
        await db.commit()
        strict = app.state.settings.model_copy(update={"webhook_allow_private_targets": False})
        await dispatcher(outbox, connection, strict, FakeClock()).run()
        assert receiver.attempts == 0
        log = (
            await c.get(f"/v1/webhooks/subscriptions/{sub['id']}/deliveries", headers=auth([cid]))
        ).json()["data"]
        assert log[0]["status"] == "pending" and log[0]["last_error"].startswith("refused")


async def test_two_dispatchers_never_claim_the_same_row(make_backend, db, connection):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        await subscribe(c, cid, "https://93.184.215.14/hook")
        for i in range(3):
            await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": i})
        await db.commit()
        clock = FakeClock()
        first = await dispatcher(outbox, connection, app.state.settings, clock).claim()
        second = await dispatcher(outbox, connection, app.state.settings, clock).claim()
        mine = {
            d.id
            for d in (
                await db.exec(
                    select(IngestWebhookDelivery).where(col(IngestWebhookDelivery.client_id) == cid)
                )
            ).all()
        }
        assert mine <= set(first) and not (mine & set(second))
        # After the lease, a crashed dispatcher's rows are claimable again.
        clock.advance(dt.timedelta(minutes=5))
        third = await dispatcher(outbox, connection, app.state.settings, clock).claim()
        assert mine <= set(third)


async def test_ping_and_delivery_log_paging(make_backend, db, connection, receiver):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        sub = await subscribe(c, cid, receiver.url)
        receiver.secret = sub["secret"]
        for _ in range(3):
            r = await c.post(f"/v1/webhooks/subscriptions/{sub['id']}/ping", headers=auth([cid]))
            assert r.status_code == 202 and r.json()["event_type"] == "webhook.ping"
        await dispatcher(outbox, connection, app.state.settings, FakeClock()).run()
        assert len(receiver.received) == 3 and all(m.verified for m in receiver.received)
        assert len({m.msg_id for m in receiver.received}) == 3
        path = f"/v1/webhooks/subscriptions/{sub['id']}/deliveries"
        page1 = (await c.get(path, params={"limit": 2}, headers=auth([cid]))).json()
        assert len(page1["data"]) == 2 and page1["next_cursor"]
        page2 = (
            await c.get(
                path, params={"limit": 2, "cursor": page1["next_cursor"]}, headers=auth([cid])
            )
        ).json()
        assert len(page2["data"]) == 1 and page2["next_cursor"] is None
        ids = [d["id"] for d in page1["data"] + page2["data"]]
        assert ids == sorted(ids, reverse=True)
        r = await c.delete(f"/v1/webhooks/subscriptions/{sub['id']}", headers=auth([cid]))
        assert r.status_code == 204
        r = await c.get(path, headers=auth([cid]))
        assert r.status_code == 404


async def test_idempotency_key_returns_the_same_subscription(make_backend):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        body = {"client_id": cid, "url": "https://93.184.215.14/h", "event_types": [SYNC_FAILED]}
        hdrs = {**auth([cid]), "Idempotency-Key": "abc-1"}
        a = await c.post("/v1/webhooks/subscriptions", json=body, headers=hdrs)
        b = await c.post("/v1/webhooks/subscriptions", json=body, headers=hdrs)
        assert a.status_code == 201 and b.status_code == 200
        assert a.json()["id"] == b.json()["id"] and a.json()["secret"] == b.json()["secret"]
        other = {**body, "url": "https://93.184.215.14/other"}
        r = await c.post("/v1/webhooks/subscriptions", json=other, headers=hdrs)
        assert r.status_code == 409


async def test_live_cron_delivers_a_ping(make_live_backend, receiver):
    """The real schedule: the in-process runner's cron sends the ping within seconds."""
    import asyncio

    cid = new_client_id()
    async with make_live_backend("ingest") as (app, c):
        sub = await subscribe(c, cid, receiver.url)
        receiver.secret = sub["secret"]
        r = await c.post(f"/v1/webhooks/subscriptions/{sub['id']}/ping", headers=auth([cid]))
        assert r.status_code == 202
        for _ in range(100):
            if receiver.received:
                break
            await asyncio.sleep(0.1)
        assert len(receiver.received) == 1 and receiver.received[0].verified
        assert receiver.received[0].msg_id == r.json()["msg_id"]


async def test_purge_keeps_what_is_still_pending(make_backend, db, connection, receiver):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        await subscribe(c, cid, receiver.url)
        await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": 1})
        await db.commit()
        await dispatcher(outbox, connection, app.state.settings, FakeClock()).run()
        await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": 2})
        await db.commit()
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        assert await outbox.purge(db, later) >= 1
        left = (
            await db.exec(
                select(IngestWebhookDelivery).where(col(IngestWebhookDelivery.client_id) == cid)
            )
        ).all()
        assert [json.loads(d.payload)["data"]["run_id"] for d in left] == [2]
