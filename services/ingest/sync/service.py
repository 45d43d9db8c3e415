"""Rules of syncing: which window, which jobs, and not twice the same one at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.connections.models import Connection
from services.ingest.connectors.base import ProviderError
from services.ingest.sync import repository as repo
from services.ingest.sync.connectors import connector_class
from services.ingest.sync.models import SyncRun
from shared.clock import utcnow
from shared.errors import Conflict, Invalid
from shared.jobs import JobBase, JobNames, JobQueue
from shared.schemas.common import JobAccepted
from shared.schemas.connections import ConnectionStatus, SyncRunPublic

KINDS = ("backfill", "daily", "manual", "resume", "webhook")


def max_days(network: str, settings: Any) -> int:
    """How far back a sync may reach: the setting, capped by what the provider serves."""
    days = int(settings.backfill_days)
    try:
        cap = getattr(connector_class(network), "max_backfill_days", None)
    except ProviderError:  # no connector for this network: the job will say so
        cap = None
    return min(days, int(cap)) if cap else days


def window(
    kind: str,
    settings: Any,
    conn: Connection,
    network: str,
    *,
    today: dt.date | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> tuple[dt.date, dt.date]:
    """The days a sync fetches (inclusive).

    * backfill: as far back as allowed (``backfill_days``, capped by the provider);
    * daily, manual, webhook: the last ``daily_sync_days`` (late-settling values are
      corrected by the upsert), reaching back to the last success when syncs were missed;
    * an explicit start/end (manual) within the allowed range.
    """
    today = today or utcnow().date()
    earliest = today - dt.timedelta(days=max_days(network, settings) - 1)
    if start is not None or end is not None:
        s = start or today - dt.timedelta(days=int(settings.daily_sync_days) - 1)
        e = end or today
        if e > today:
            raise Invalid("A sync cannot reach into the future.")
        if s > e:
            raise Invalid("The start of the window is after its end.")
        if s < earliest:
            raise Invalid(
                f"{network} can be synced back to {earliest.isoformat()} at most "
                f"({max_days(network, settings)} days)."
            )
        return s, e
    if kind == "backfill" or conn.last_success_at is None:
        return earliest, today
    recent = today - dt.timedelta(days=int(settings.daily_sync_days) - 1)
    since_success = conn.last_success_at.date() - dt.timedelta(days=1)
    return max(earliest, min(recent, since_success)), today


def targets(conn: Connection) -> list[dict[str, Any]]:
    return [{"network": a["network"], "external_id": a.get("external_id")} for a in conn.accounts]


async def enqueue_for_connection(
    session: AsyncSession,
    queue: JobQueue,
    settings: Any,
    conn: Connection,
    kind: str,
    *,
    created_by: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    only: list[dict[str, Any]] | None = None,
) -> list[JobBase]:
    """One sync job per account of the connection (a job already waiting is reused)."""
    assert conn.id is not None and kind in KINDS
    if conn.status != ConnectionStatus.active.value:
        raise Conflict(
            f"The connection is {conn.status.replace('_', ' ')}; reconnect it before syncing."
        )
    open_jobs = await repo.open_sync_jobs(session, conn.client_id)
    jobs: list[JobBase] = []
    for target in only if only is not None else targets(conn):
        existing = next(
            (
                j
                for j in open_jobs
                if j.args.get("connection_id") == conn.id
                and j.args.get("network") == target["network"]
                and j.args.get("external_id") == target.get("external_id")
            ),
            None,
        )
        if existing is not None:
            jobs.append(existing)
            continue
        s, e = window(kind, settings, conn, target["network"], start=start, end=end)
        jobs.append(
            await queue.enqueue(
                session,
                JobNames.INGEST_SYNC_ACCOUNT,
                client_id=conn.client_id,
                args={
                    "connection_id": conn.id,
                    "network": target["network"],
                    "external_id": target.get("external_id"),
                    "kind": kind,
                    "start": s.isoformat(),
                    "end": e.isoformat(),
                },
                created_by=created_by,
            )
        )
    return jobs


def accepted(job: JobBase) -> JobAccepted:
    return JobAccepted(job_id=job.id, status_url=f"/v1/jobs/{job.id}")


def run_public(run: SyncRun) -> SyncRunPublic:
    assert run.id is not None
    return SyncRunPublic(
        id=run.id,
        connection_id=run.connection_id,
        account_id=run.account_id,
        job_id=run.job_id,
        kind=run.kind,
        window_start=run.window_start,
        window_end=run.window_end,
        status=run.status,
        counts=dict(run.counts or {}),
        retired_metrics=list(run.retired_metrics or []),
        requests=run.requests,
        error=run.error,
        resume_at=run.resume_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
    )
