"""Events end to end on the committed database: the job or request writes the outbox row,
the scheduled dispatcher (the in-process runner's, or an arq worker's cron with Redis)
sends it, and a real receiver verifies it."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from services.ingest.webhooks.events import IMPORT_COMPLETED
from tests.conftest import auth, new_client_id, settings_for
from tests.ingest.helpers import FIXTURES
from tests.shared.receiver import Receiver


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


async def wait_for(receiver: Receiver, n: int = 1, seconds: float = 15) -> None:
    for _ in range(int(seconds / 0.1)):
        if len(receiver.received) >= n:
            return
        await asyncio.sleep(0.1)


async def test_an_import_announces_itself_to_subscribers(make_live_backend, receiver):
    cid = new_client_id()
    async with make_live_backend("ingest") as (app, c):
        r = await c.post(
            "/v1/webhooks/subscriptions",
            json={"client_id": cid, "url": receiver.url, "event_types": [IMPORT_COMPLETED]},
            headers=auth([cid]),
        )
        receiver.secret = r.json()["secret"]
        name = "meta_facebook_posts.csv"
        r = await c.post(
            f"/v1/clients/{cid}/imports",
            files={"file": (name, (FIXTURES / name).read_bytes(), "text/csv")},
            headers=auth([cid]),
        )
        assert r.status_code == 202, r.text
        import_id = r.json()["id"]
        assert await app.state.runner.wait_idle(30)
        await wait_for(receiver)
        [got] = receiver.received
        assert got.verified and got.json["type"] == IMPORT_COMPLETED
        data = got.json["data"]
        assert data["import_id"] == import_id and data["status"] == "succeeded"
        assert (data["posts"], data["accounts"], data["file"]) == (3, 1, name)


@pytest.mark.redis
async def test_an_arq_worker_cron_dispatches(
    make_live_backend, migrated, var_dir, redis_dsn, receiver
):
    from arq.worker import create_worker

    from services.ingest.config import IngestSettings
    from services.ingest.jobs import registry
    from shared.jobs import arq_worker_settings

    cid = new_client_id()
    # The API process without a runner: only the arq worker's cron can send the ping.
    async with make_live_backend("ingest", run_jobs_in_process=False) as (app, c):
        r = await c.post(
            "/v1/webhooks/subscriptions",
            json={"client_id": cid, "url": receiver.url, "event_types": [IMPORT_COMPLETED]},
            headers=auth([cid]),
        )
        receiver.secret = r.json()["secret"]
        sub = r.json()["id"]
        r = await c.post(f"/v1/webhooks/subscriptions/{sub}/ping", headers=auth([cid]))
        assert r.status_code == 202
        msg_id = r.json()["msg_id"]

    worker_settings = arq_worker_settings(
        registry, lambda: settings_for(IngestSettings, migrated, var_dir, redis_url=redis_dsn)
    )
    worker = create_worker(worker_settings, handle_signals=False, burst=False)
    task = asyncio.create_task(worker.async_run())
    try:
        await wait_for(receiver)
    finally:
        await worker.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    assert [m.msg_id for m in receiver.received] == [msg_id]
    assert receiver.received[0].verified
