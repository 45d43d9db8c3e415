"""Pushes arriving together are written together (services/ingest/webhooks/push_writer.py),
and each still gets its own answer: 200 once stored, or the refusal of its own message."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

from sqlalchemy import func, select

from services.ingest.store.models import Account, DailyMetric
from services.ingest.webhooks.models import PushMessage
from shared.db import create_engine
from tests.conftest import DB_KIND, new_client_id
from tests.ingest.connections.test_push import new_secret, push, rows

DAY0 = dt.date(2026, 3, 1)


def message(external_id: str, start: int, values: list[float], metric: str = "sessions") -> bytes:
    return json.dumps(
        {
            "account": {"network": "plausible", "external_id": external_id},
            "metrics": [
                {
                    "metric": metric,
                    "day": (DAY0 + dt.timedelta(days=start + i)).isoformat(),
                    "value": v,
                }
                for i, v in enumerate(values)
            ],
            "provider": "agency-etl",
        }
    ).encode()


async def test_concurrent_pushes_share_transactions_and_each_is_stored(make_backend, db):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        secret = await new_secret(c, cid)
        writer = app.state.push_writer
        before = writer.stats.batches
        # 40 messages of two accounts, each account's 10 days named twice.
        bodies = [message(f"site-{i % 2}.org", (i // 2) % 10, [1000.0 + i]) for i in range(40)]
        answers = await asyncio.gather(*(push(c, cid, secret, b) for b in bodies))
        assert [a.status_code for a in answers] == [200] * 40, [a.text for a in answers]
        assert all(a.json()["daily_rows"] == 1 for a in answers)
        ids = {a.json()["account_id"] for a in answers}
        assert len(ids) == 2 and None not in ids
        batches = writer.stats.batches - before
        assert 1 <= batches < 40  # grouped, not one transaction per message
        assert writer.stats.largest > 1
        # Two accounts x 10 days; each (account, day) once, not one row per message.
        assert await rows(db, cid) == 20
        stored = (
            await db.exec(
                select(func.count()).select_from(PushMessage).where(PushMessage.client_id == cid)
            )
        ).one()[0]
        assert stored == 40


async def test_one_batch_answers_each_message_for_itself(make_backend, db):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        secret = await new_secret(c, cid)
        first = message("mixed.org", 0, [5.0])
        assert (await push(c, cid, secret, first, msg_id="msg_seen")).status_code == 200

        good = [message("mixed.org", i + 1, [10.0 + i]) for i in range(5)]
        twice = message("mixed.org", 20, [99.0])
        sends = [
            *(push(c, cid, secret, b) for b in good),
            push(c, cid, secret, first, msg_id="msg_seen"),  # a replay of a stored id
            push(c, cid, secret, twice, msg_id="msg_twice"),
            push(c, cid, secret, twice, msg_id="msg_twice"),  # the same new id twice
            push(c, cid, "whsec_" + "B" * 43, good[0]),  # a forged signature
            push(c, cid, secret, message("mixed.org", 30, [1.0], metric="likes_per_moon")),
        ]
        answers = await asyncio.gather(*sends)
        codes = [a.status_code for a in answers]
        assert codes[:5] == [200] * 5
        assert codes[5] == 409 and "msg_seen" in answers[5].json()["detail"]
        assert sorted(codes[6:8]) == [200, 409]
        assert codes[8] == 401 and codes[9] == 422
        assert all(
            a.headers["content-type"].startswith("application/problem+json")
            for a in answers[5:]
            if a.status_code != 200
        )
        # 1 first + 5 good + 1 twice; the refused ones stored nothing and burnt no id.
        assert await rows(db, cid) == 7
        ids = [
            r[0]
            for r in (
                await db.exec(select(PushMessage.msg_id).where(PushMessage.client_id == cid))
            ).all()
        ]
        assert len(ids) == 7 and ids.count("msg_twice") == 1


async def test_a_value_the_database_refuses_is_charged_to_its_own_message(make_backend, db):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        secret = await new_secret(c, cid)
        writer = app.state.push_writer
        retried = writer.stats.retried
        good = [message("clean.org", i, [float(i)]) for i in range(6)]
        # A NUL inside a text: PostgreSQL refuses it when the batch is written (SQLite
        # stores it), so on PostgreSQL the batch fails and is written message by message.
        poison = message("bad\u0000id.org", 0, [1.0])
        # Held until all seven wait, so that they are written as one batch.
        writer.concurrency = 0
        sends = [
            *(push(c, cid, secret, b) for b in good[:3]),
            push(c, cid, secret, poison),
            *(push(c, cid, secret, b) for b in good[3:]),
        ]
        tasks = [asyncio.ensure_future(s) for s in sends]
        for _ in range(500):  # at most 5 s
            if len(writer._pending) == len(tasks):
                break
            await asyncio.sleep(0.01)
        assert len(writer._pending) == len(tasks)
        writer.concurrency = 1
        writer._start_batches()
        answers = await asyncio.gather(*tasks)
        codes = [a.status_code for a in answers]
        assert codes[:3] + codes[4:] == [200] * 6
        if DB_KIND == "postgres":
            assert codes[3] == 422, answers[3].text
            assert writer.stats.retried > retried
            assert await rows(db, cid) == 6
        else:
            assert codes[3] == 200
            assert await rows(db, cid) == 7


async def test_live_pushes_on_overlapping_transactions_lose_and_double_nothing(
    make_live_backend, migrated
):
    """The committed database and the service's own writer (on PostgreSQL, batches
    overlap on several connections): 120 messages over 3 accounts and the same 15 days."""
    cid = new_client_id()
    async with make_live_backend("ingest", run_jobs_in_process=False) as (app, c):
        secret = await new_secret(c, cid)
        writer = app.state.push_writer
        bodies = []
        for i in range(120):
            ext, day = f"live-{i % 3}.org", (i // 3) % 15
            bodies.append((message(ext, day, [float(i)]), f"msg_{uuid.uuid4().hex}"))
        answers = await asyncio.gather(*(push(c, cid, secret, b, msg_id=m) for b, m in bodies))
        assert [a.status_code for a in answers] == [200] * 120
        assert writer.stats.largest > 1  # grouped
    engine = create_engine(migrated)
    try:
        async with engine.connect() as conn:
            stored = (
                await conn.execute(
                    select(Account.external_id, DailyMetric.day, DailyMetric.value)
                    .join(Account, Account.id == DailyMetric.account_id)
                    .where(Account.client_id == cid)
                )
            ).all()
            ids = (
                await conn.execute(
                    select(func.count())
                    .select_from(PushMessage)
                    .where(PushMessage.client_id == cid)
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert ids == 120
    assert len(stored) == 45  # 3 accounts x 15 days, once each
    # Each (account, day) holds the value of one of the messages that named it.
    for ext, day, value in stored:
        i = int(value)
        assert f"live-{i % 3}.org" == ext and DAY0 + dt.timedelta(days=(i // 3) % 15) == day


async def test_an_account_removed_by_hand_is_found_again_not_written_to_its_old_id(
    make_live_backend, migrated
):
    """The writer keeps the ids its committed batches resolved (a push names the same
    account thousands of times). Ingest never deletes an account, but if one goes (by
    hand, in the database) the next push must not write facts for an id that is gone:
    its batch fails on the foreign key, the writer forgets what it kept for that client
    and the message is written again, creating the account anew."""
    cid = new_client_id()
    engine = create_engine(migrated)
    try:
        async with make_live_backend("ingest", run_jobs_in_process=False) as (app, c):
            secret = await new_secret(c, cid)
            first = await push(c, cid, secret, message("gone.org", 0, [1.0]))
            assert first.status_code == 200, first.text
            old_id = first.json()["account_id"]
            writer = app.state.push_writer
            warm = writer.stats.warm
            again = await push(c, cid, secret, message("gone.org", 1, [2.0]))
            assert again.json()["account_id"] == old_id  # served by the writer's memo
            if DB_KIND == "postgres":
                assert writer.stats.warm == warm + 1  # and written on the driver

            async with engine.begin() as conn:  # an operator removes the account
                await conn.execute(Account.__table__.delete().where(Account.id == old_id))

            after = await push(c, cid, secret, message("gone.org", 2, [3.0]))
            assert after.status_code == 200, after.text
            new_id = after.json()["account_id"]
            assert new_id is not None
            if DB_KIND == "postgres":  # SQLite hands the freed id out again
                assert new_id != old_id
            last = await push(c, cid, secret, message("gone.org", 3, [4.0]))
            assert last.status_code == 200 and last.json()["account_id"] == new_id
        async with engine.connect() as conn:
            stored = (
                await conn.execute(
                    select(Account.id, DailyMetric.day, DailyMetric.value)
                    .join(Account, Account.id == DailyMetric.account_id)
                    .where(Account.client_id == cid)
                    .order_by(DailyMetric.day)
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in stored] == [
        (new_id, DAY0 + dt.timedelta(days=2), 3.0),
        (new_id, DAY0 + dt.timedelta(days=3), 4.0),
    ]


async def test_a_batch_rolled_back_leaves_no_id_behind_for_the_next(make_backend, db):
    """An account created by a batch that is then rolled back does not exist: the next
    batch must not reuse its id (the writer keeps ids only from committed batches)."""
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        secret = await new_secret(c, cid)
        writer = app.state.push_writer
        # The same new account twice in one batch with a message the store refuses
        # (PostgreSQL refuses a NUL in a text): on PostgreSQL the batch fails whole.
        poison = message("bad\u0000id.org", 0, [1.0])
        writer.concurrency = 0
        tasks = [
            asyncio.ensure_future(push(c, cid, secret, message("fresh.org", 0, [5.0]))),
            asyncio.ensure_future(push(c, cid, secret, poison)),
        ]
        for _ in range(500):  # at most 5 s
            if len(writer._pending) == len(tasks):
                break
            await asyncio.sleep(0.01)
        writer.concurrency = 1
        writer._start_batches()
        answers = await asyncio.gather(*tasks)
        assert answers[0].status_code == 200, answers[0].text
        fresh_id = answers[0].json()["account_id"]
        later = await push(c, cid, secret, message("fresh.org", 1, [6.0]))
        assert later.status_code == 200 and later.json()["account_id"] == fresh_id
        stored = (
            await db.exec(
                select(Account.id, func.count())
                .join(DailyMetric, DailyMetric.account_id == Account.id)
                .where(Account.client_id == cid, Account.external_id == "fresh.org")
                .group_by(Account.id)
            )
        ).all()
        assert [tuple(r) for r in stored] == [(fresh_id, 2)]


async def test_the_ids_kept_per_client_are_bounded(make_backend, db, monkeypatch):
    """A client whose pushes name more accounts than the writer keeps ids for is looked
    up again each batch instead of holding an ever larger memo."""
    from services.ingest.webhooks import push_writer

    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        secret = await new_secret(c, cid)
        writer = app.state.push_writer
        first = await push(c, cid, secret, message("one.org", 0, [1.0]))
        assert first.status_code == 200
        kept = writer._memos[cid]
        assert len(kept.accounts) + len(kept.sources) == 2  # one account, one source
        monkeypatch.setattr(push_writer, "MEMO_LIMIT", 2)
        second = await push(c, cid, secret, message("two.org", 0, [2.0]))
        assert second.status_code == 200
        assert cid not in writer._memos
        assert await rows(db, cid) == 2
