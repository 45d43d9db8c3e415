"""A webhook receiver is down for a day.

The dispatcher's clock is driven in small steps through more than a day (no sleeping): each
attempt happens on the backoff schedule and never before it is due; once the first message
has failed its whole schedule the subscription is disabled, the reason is recorded where
the agency reads it (the API and the webhooks page), and nothing reaches the receiver
twice under different ids, before or after the agency re-enables and re-sends.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import pytest

from services.ingest.webhooks.events import SYNC_COMPLETED, SYNC_FAILED, outbox
from services.ingest.webhooks.models import IngestWebhookDelivery, IngestWebhookSubscription
from shared.outbox import JITTER, RETRY_SCHEDULE
from tests.conftest import auth, new_client_id
from tests.shared.outbox_helpers import FakeClock, delivery_rows, dispatcher
from tests.shared.receiver import Receiver

STEP = dt.timedelta(minutes=1)  # the first two hours (retries after 5 s, 5 and 30 min)
LONG_STEP = dt.timedelta(minutes=10)  # then (retries hours apart)


def step_at(elapsed: dt.timedelta) -> dt.timedelta:
    return STEP if elapsed < dt.timedelta(hours=2) else LONG_STEP


class WatchingReceiver(Receiver):
    """The test receiver, also noting every request that reached it, whatever it answered
    (a receiver that processed a message but failed to answer 2xx will see it again)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[str, bytes]] = []

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []

        async def replay() -> dict[str, Any]:
            msg = await receive()
            chunks.append(msg.get("body", b""))
            return dict(msg)

        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        await super().app(scope, replay, send)
        self.arrivals.append((headers.get("webhook-id", ""), b"".join(chunks)))


@pytest.fixture
def receiver():
    r = WatchingReceiver().start()
    yield r
    r.stop()


def attempt_times(row: IngestWebhookDelivery) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(a["at"]) for a in row.log]


async def test_receiver_down_for_a_day(make_backend, db, connection, receiver):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        r = await c.post(
            "/v1/webhooks/subscriptions",
            json={
                "client_id": cid,
                "url": receiver.url,
                "event_types": [SYNC_COMPLETED, SYNC_FAILED],
            },
            headers=auth([cid]),
        )
        assert r.status_code == 201, r.text
        sub = r.json()
        receiver.secret = sub["secret"]
        # The receiver first fails while it is still up (it sees the message, answers 500),
        # then goes down altogether.
        receiver.always_fail, receiver.fail_status = True, 500
        await outbox.emit(db, cid, SYNC_COMPLETED, {"run_id": 1})
        await db.commit()
        clock = FakeClock()
        start = clock.now
        d = dispatcher(outbox, connection, app.state.settings, clock)

        disabled_at = None
        emitted_second = down = False
        end = start + dt.timedelta(hours=30)
        while clock.now < end:
            await d.run()
            s = await db.get(IngestWebhookSubscription, sub["id"])
            await db.refresh(s)
            if disabled_at is None and not s.enabled:
                disabled_at = clock.now
            up_long_enough = clock.now - start >= dt.timedelta(minutes=10)
            if up_long_enough and not down and receiver.attempts >= 2:
                receiver.stop()  # down: connections refused from now on
                down = True
            if not emitted_second and clock.now - start >= dt.timedelta(hours=3):
                await outbox.emit(db, cid, SYNC_FAILED, {"run_id": 2})
                await db.commit()
                emitted_second = True
            clock.advance(step_at(clock.now - start))

        first, second = await delivery_rows(db, cid)
        # The first message: every attempt on the schedule, none early, none missed.
        times = attempt_times(first)
        assert len(times) == outbox.max_attempts == 1 + len(RETRY_SCHEDULE)
        assert times[0] - start < STEP
        for i, delay in enumerate(RETRY_SCHEDULE):
            gap = times[i + 1] - times[i]
            slack = step_at(times[i + 1] - start)
            assert delay <= gap <= delay * (1 + JITTER) + slack, (i, gap, delay)
        assert first.status == "failed" and first.next_attempt_at is None
        # Answered 500 while it was up, refused once it was down: all failures.
        up = [a for a in first.log if a["status_code"] is not None]
        assert len(up) >= 2 and {a["status_code"] for a in up} == {500}
        assert first.log[: len(up)] == up
        assert all(a["error"].startswith("connection failed") for a in first.log[len(up) :])

        # Then the subscription was disabled, once the whole schedule failed, not before.
        assert disabled_at is not None
        schedule = sum(RETRY_SCHEDULE, dt.timedelta())  # 23 h 35 min, plus jitter
        assert schedule <= disabled_at - start <= schedule * (1 + JITTER) + 2 * LONG_STEP
        s = await db.get(IngestWebhookSubscription, sub["id"])
        await db.refresh(s)
        assert s.enabled is False and s.disabled_at is not None
        # The second message stopped with it, its schedule not yet over.
        assert second.status == "failed" and second.attempts < outbox.max_attempts
        assert "disabled" in (second.last_error or "")

        # The agency is told: the subscription says why, in its own words.
        shown = (await c.get(f"/v1/webhooks/subscriptions/{sub['id']}", headers=auth([cid]))).json()
        assert shown["enabled"] is False
        reason = shown["disabled_reason"]
        assert receiver.url in reason and "hours of failed deliveries" in reason
        assert "re-enable" in reason and first.msg_id in reason

        # Fixed and re-enabled: both messages re-sent, each under the id it always had.
        receiver.always_fail = False
        receiver.start()
        r = await c.post(f"/v1/webhooks/subscriptions/{sub['id']}/enable", headers=auth([cid]))
        assert r.status_code == 200 and r.json()["enabled"] is True
        for row in (first, second):
            r = await c.post(f"/v1/webhooks/deliveries/{row.id}/retry", headers=auth([cid]))
            assert r.status_code == 202, r.text
        clock.advance(STEP)
        await d.run()
        clock.advance(dt.timedelta(days=2))
        await d.run()  # nothing more: delivered messages are never sent again

        ids_by_body: dict[str, set[str]] = defaultdict(set)
        for msg_id, body in receiver.arrivals:
            ids_by_body[json.loads(body)["data"]["run_id"]].add(msg_id)
        assert ids_by_body == {1: {first.msg_id}, 2: {second.msg_id}}
        assert sorted(m.msg_id for m in receiver.received) == sorted([first.msg_id, second.msg_id])
        assert all(m.verified for m in receiver.received)
        first, second = await delivery_rows(db, cid)
        assert first.status == second.status == "succeeded"
