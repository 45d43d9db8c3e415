"""Queries of the sync domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.models import IngestJob
from services.ingest.store.models import Account
from services.ingest.sync.models import SyncRun, SyncStatus
from shared.jobs import JobNames, JobStatus


async def runs_of_connection(
    session: AsyncSession, connection_id: int, *, before: int | None = None, limit: int = 50
) -> Sequence[SyncRun]:
    q = select(SyncRun).where(col(SyncRun.connection_id) == connection_id)
    if before is not None:
        q = q.where(col(SyncRun.id) < before)
    return (await session.exec(q.order_by(col(SyncRun.id).desc()).limit(limit))).all()


async def last_runs(session: AsyncSession, connection_ids: Sequence[int]) -> dict[int, SyncRun]:
    if not connection_ids:
        return {}
    latest = (
        select(func.max(SyncRun.id))
        .where(col(SyncRun.connection_id).in_(list(connection_ids)))
        .group_by(col(SyncRun.connection_id))
    )
    rows = (await session.exec(select(SyncRun).where(col(SyncRun.id).in_(latest)))).all()
    return {r.connection_id: r for r in rows}


async def open_sync_jobs(session: AsyncSession, client_id: int) -> Sequence[IngestJob]:
    q = select(IngestJob).where(
        col(IngestJob.client_id) == client_id,
        col(IngestJob.name) == JobNames.INGEST_SYNC_ACCOUNT,
        col(IngestJob.status).in_([JobStatus.queued, JobStatus.running]),
    )
    return (await session.exec(q)).all()


async def due_resumes(session: AsyncSession, now: dt.datetime) -> Sequence[SyncRun]:
    q = (
        select(SyncRun)
        .where(
            col(SyncRun.status) == SyncStatus.rate_limited,
            col(SyncRun.resume_at) <= now,
            col(SyncRun.resumed_by_job).is_(None),
        )
        .order_by(col(SyncRun.resume_at))
        .limit(100)
    )
    return (await session.exec(q)).all()


async def claim_resume(session: AsyncSession, run_id: int, job_id: str) -> bool:
    res = await session.exec(
        update(SyncRun)
        .where(col(SyncRun.id) == run_id, col(SyncRun.resumed_by_job).is_(None))
        .values(resumed_by_job=job_id)
    )
    return bool(res.rowcount)


async def account_for(
    session: AsyncSession, client_id: int, network: str, external_id: str, **attrs: Any
) -> Account:
    """The client's account with this platform id, created if new (names kept fresh)."""
    scope = str(client_id)
    q = select(Account).where(
        col(Account.scope_key) == scope,
        col(Account.network) == network,
        col(Account.external_id) == external_id,
    )
    found = (await session.exec(q)).first()
    if found is None:
        try:
            async with session.begin_nested():
                found = Account(
                    client_id=client_id,
                    scope_key=scope,
                    owner_kind="client",
                    network=network,
                    external_id=external_id,
                    **{k: v for k, v in attrs.items() if v},
                )
                session.add(found)
        except IntegrityError:  # created by a concurrent sync of the same account
            found = (await session.exec(q)).one()
        return found
    changed = False
    for k, v in attrs.items():
        if v and getattr(found, k) != v:
            setattr(found, k, v)
            changed = True
    if changed:
        session.add(found)
    return found
