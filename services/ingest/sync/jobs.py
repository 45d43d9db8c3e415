"""The sync jobs and their schedules, registered on ingest's job registry.

* ``ingest.sync_account`` — one account of one connection over a window (backfill,
  daily, "sync now", resume after a rate limit, a Meta webhook).
* ``ingest.daily_sync`` — every day at 07:00 UTC: renew tokens that expire soon, then
  queue a sync of every account of every active connection.
* ``ingest.resume_syncs`` — every minute: queue the syncs rescheduled by a rate limit
  whose time has come.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import delete
from sqlmodel import col

from services.ingest.connections import repository as conn_repo
from services.ingest.connections import tokens
from services.ingest.sync import repository as repo
from services.ingest.sync import service as sync_service
from services.ingest.sync.runner import sync_account
from services.ingest.webhooks.events import outbox
from services.ingest.webhooks.models import PushMessage
from shared.clock import utcnow
from shared.jobs import CronSpec, JobNames, JobQueue, JobRegistry, run_after_commit

log = logging.getLogger("balise.ingest.sync")

DAILY_HOUR_UTC = 7  # 03:00 in Montréal: after the networks close their day


async def daily_sync(ctx: dict[str, Any], job_id: str) -> dict[str, int]:
    """Renew expiring tokens, then queue today's sync of every connected account."""
    settings, maker = ctx["settings"], ctx["sessionmaker"]
    queue: JobQueue | None = ctx.get("queue")
    within = dt.timedelta(days=int(settings.token_refresh_ahead_days))
    out = dict(await tokens.refresh_expiring(maker, settings, within=within))
    out.update(await housekeeping(maker, settings))
    out["queued"] = 0
    out["skipped"] = 0
    if queue is None:
        log.warning("daily sync: no job queue in this context; nothing queued")
        return out
    now = utcnow()
    async with maker() as s:
        connections = await conn_repo.active(s)
        for conn in connections:
            if conn.next_allowed_at is not None and conn.next_allowed_at > now:
                out["skipped"] += 1  # a quota or rate limit still holds; say so, skip
                continue
            jobs = await sync_service.enqueue_for_connection(
                s, queue, settings, conn, "daily", created_by="schedule"
            )
            out["queued"] += len(jobs)
        await s.commit()
        await run_after_commit(s)
    return out


async def housekeeping(maker: Any, settings: Any) -> dict[str, int]:
    """Old delivery logs and the replay memory of pushes (past the timestamp tolerance,
    a replayed message is refused for its age anyway)."""
    now = utcnow()
    async with maker() as s:
        purged = await outbox.purge(s, now - dt.timedelta(days=int(settings.webhook_log_days)))
        horizon = now - dt.timedelta(seconds=max(86400, 2 * int(settings.push_tolerance_seconds)))
        res = await s.exec(delete(PushMessage).where(col(PushMessage.received_at) < horizon))
        await s.commit()
    return {"deliveries_purged": purged, "push_ids_purged": int(res.rowcount or 0)}


async def resume_syncs(ctx: dict[str, Any], job_id: str) -> dict[str, int]:
    """Queue again the syncs a rate limit rescheduled, once their time has come."""
    queue: JobQueue | None = ctx.get("queue")
    if queue is None:
        return {"resumed": 0}
    resumed = 0
    async with ctx["sessionmaker"]() as s:
        for run in await repo.due_resumes(s, utcnow()):
            conn = await conn_repo.get(s, run.connection_id)
            if conn is None or conn.status != "active":
                continue
            nested = await s.begin_nested()
            job = await queue.enqueue(
                s,
                JobNames.INGEST_SYNC_ACCOUNT,
                client_id=run.client_id,
                args={
                    "connection_id": run.connection_id,
                    "network": run.network,
                    "external_id": run.external_id,
                    "kind": "resume",
                    "start": run.window_start.isoformat(),
                    "end": run.window_end.isoformat(),
                },
                created_by="schedule",
            )
            if await repo.claim_resume(s, run.id or 0, job.id):
                await nested.commit()
                resumed += 1
            else:  # another worker resumed it first: forget the job and its submission
                await nested.rollback()
                s.info.get("after_commit", [None]).pop()
        await s.commit()
        await run_after_commit(s)
    return {"resumed": resumed}


def register(registry: JobRegistry) -> None:
    registry.register(JobNames.INGEST_SYNC_ACCOUNT)(sync_account)
    registry.register(JobNames.INGEST_DAILY_SYNC)(daily_sync)
    registry.register(JobNames.INGEST_SYNC_RESUME)(resume_syncs)
    registry.cron.append(CronSpec(JobNames.INGEST_DAILY_SYNC, hour=DAILY_HOUR_UTC, minute=0))
    registry.cron.append(CronSpec(JobNames.INGEST_SYNC_RESUME, every_seconds=60))
