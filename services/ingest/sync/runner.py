"""The sync of one account: credentials → connector → store loader, with its run row.

The job owns its transactions. The run row is committed first (the health board sees a
sync in progress); each phase (profile, daily metrics, posts, web metrics) is loaded and
committed on its own, so a phase interrupted by a rate limit is rolled back whole and
fetched again after the wait — the loader upserts, so nothing is ever duplicated; the run's
outcome, the connection's health and the webhook events are written together at the end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.connections import repository as conn_repo
from services.ingest.connections import service as conn_service
from services.ingest.connections import tokens
from services.ingest.connectors.base import (
    AuthExpired,
    ConnectorError,
    FetchWindow,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    SyncReport,
)
from services.ingest.store import loader
from services.ingest.store.models import Account
from services.ingest.sync import repository as repo
from services.ingest.sync.connectors import ConnectorFactory, factory_for, http_client
from services.ingest.sync.models import SyncRun, SyncStatus
from services.ingest.webhooks.events import SYNC_COMPLETED, SYNC_FAILED, outbox
from shared.clock import utcnow

log = logging.getLogger("balise.ingest.sync")

Progress = Callable[..., Awaitable[None]]


class SyncStopped(Exception):
    """The sync ended without success; the message is safe to show (the job's error)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable

    @property
    def public_message(self) -> str:
        return str(self)


@dataclass
class Totals:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, c: Any) -> None:
        for key in ("daily_rows", "posts", "post_metrics", "web_rows", "accounts_created"):
            self.counts[key] = self.counts.get(key, 0) + int(getattr(c, key, 0) or 0)
        self.counts["written"] = self.counts.get("written", 0) + int(getattr(c, "written", 0))


@dataclass
class Phase:
    name: str
    label: str
    start: int  # progress percent at its start
    end: int
    records: Callable[[], AsyncIterator[Any]]


class SyncJob:
    """One run of ``ingest.sync_account`` (args: connection_id, network, external_id,
    kind, start, end)."""

    def __init__(self, ctx: dict[str, Any], job_id: str) -> None:
        args = ctx["job"].args
        self.ctx = ctx
        self.job_id = job_id or None
        self.settings = ctx["settings"]
        self.maker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
        self.progress: Progress = ctx["progress"]
        self.sleep: Callable[[float], Awaitable[Any]] = ctx.get("sleep") or asyncio.sleep
        self.overrides: dict[str, ConnectorFactory] | None = ctx.get("connectors")
        self.connection_id = int(args["connection_id"])
        self.network = str(args["network"])
        self.external_id: str | None = args.get("external_id")
        self.kind = str(args.get("kind") or "manual")
        self.window = FetchWindow(
            dt.date.fromisoformat(args["start"]), dt.date.fromisoformat(args["end"])
        )
        self.report = SyncReport()
        self.totals = Totals()
        self.waits = 0
        self.run_id: int | None = None
        self.client_id: int | None = None
        self.account_id: int | None = None
        self.account_extra: dict[str, str] = {}

    # ------------------------------------------------------------------ flow

    async def run(self) -> dict[str, Any]:
        blocked = await self.open_run()
        if blocked is not None:
            return blocked
        try:
            access = await tokens.access_for(self.maker, self.settings, self.connection_id)
            async with http_client(self.settings) as http:
                build = factory_for(self.network, self.overrides)
                connector = build(http, self.settings, self.report)
                await self.progress(3, "Checking the account")
                creds = access.credentials(self.network, self.external_id, **self.account_extra)
                if self.account_id is None:
                    ref = await connector.account(creds)
                    await self.link(ref)
                    creds = access.credentials(self.network, self.external_id, **self.account_extra)
                for phase in self.phases(connector, creds):
                    await self.load_phase(phase)
        except RateLimited as exc:
            return await self.rescheduled(exc)
        except QuotaExhausted as exc:
            await self.stop_quota(exc)
        except AuthExpired as exc:
            await self.stop_auth(exc)
        except tokens.NotActive as exc:
            await self.fail(str(exc), retryable=False)
        except ProviderError as exc:
            await self.fail(exc.public_message, retryable=exc.retryable)
        except ConnectorError as exc:
            await self.fail(exc.public_message, retryable=False)
        except asyncio.CancelledError:
            await self.fail("cancelled: the worker stopped", retryable=True, raise_=False)
            raise
        except Exception as exc:
            if isinstance(exc, loader.LoadError):
                await self.fail(f"The store refused a record: {exc}", retryable=False)
            log.exception("sync run %s failed", self.run_id)
            await self.fail(f"{type(exc).__name__}: {exc}"[:500], retryable=True, raise_=False)
            raise
        return await self.succeed()

    async def announce(self, percent: int, message: str) -> None:
        """Progress that must be seen (a wait), past the usual few-writes-a-second limit."""
        tracker = self.ctx.get("tracker")
        if tracker is not None and self.job_id:
            await tracker.progress(self.job_id, percent, message)
        else:
            await self.progress(percent, message)

    def phases(self, connector: Any, creds: Any) -> list[Phase]:
        w = self.window
        out: list[Phase] = []
        profile = getattr(connector, "profile", None)
        if callable(profile):

            async def profile_records() -> AsyncIterator[Any]:
                snap = await profile(creds)
                for rec in snap.daily_records():
                    yield rec

            out.append(Phase("profile", "Reading today's totals", 5, 10, profile_records))
        out.append(
            Phase(
                "daily",
                "Storing daily metrics",
                10,
                45,
                lambda: connector.daily_metrics(creds, w),
            )
        )
        out.append(Phase("posts", "Storing posts", 45, 90, lambda: connector.posts(creds, w)))
        web = getattr(connector, "web_metrics", None)
        if callable(web):
            out.append(Phase("web", "Storing website metrics", 90, 97, lambda: web(creds, w)))
        return out

    async def load_phase(self, phase: Phase) -> None:
        max_wait = float(self.settings.sync_max_wait_seconds)
        while True:
            # A new phase is always shown (the usual progress may drop a write).
            await self.announce(phase.start, phase.label)

            async def on_batch(counts: Any, phase: Phase = phase) -> None:
                stored = int(getattr(counts, "daily_rows", 0)) + int(getattr(counts, "posts", 0))
                await self.progress(phase.start, f"{phase.label}: {stored} so far")

            try:
                async with self.maker() as session:
                    counts = await loader.load(
                        session, self.client_id, phase.records(), on_batch=on_batch
                    )
                    await session.commit()
            except RateLimited as exc:
                delay = (exc.retry_at - utcnow()).total_seconds()
                if delay > max_wait or self.waits >= int(self.settings.sync_max_waits):
                    raise
                self.waits += 1
                await self.announce(
                    phase.start, f"Rate limited by {exc.provider}: waiting {max(0, delay):.0f} s"
                )
                await self.sleep(max(0.0, delay))
                continue
            self.totals.add(counts)
            await self.progress(phase.end, phase.label)
            return

    # ------------------------------------------------------------------ run row

    async def open_run(self) -> dict[str, Any] | None:
        """Create the run row; a connection still blocked by its provider ends it here."""
        now = utcnow()
        async with self.maker() as s:
            conn = await conn_repo.get(s, self.connection_id)
            if conn is None:
                raise SyncStopped(f"Connection {self.connection_id} no longer exists.")
            self.client_id = conn.client_id
            target = self._target(conn)
            if target is None:
                raise SyncStopped(f"The connection no longer serves this {self.network} account.")
            self.account_id = target.get("account_id")
            if self.account_id is not None:
                account = await s.get(Account, self.account_id)
                if account is not None:
                    self.account_extra = {"timezone": account.timezone}
                    if account.name:
                        self.account_extra["name"] = account.name
            if self.job_id:
                # A worker killed during an earlier attempt of this job left its run open.
                await s.exec(
                    update(SyncRun)
                    .where(col(SyncRun.job_id) == self.job_id, col(SyncRun.status) == "running")
                    .values(
                        status=SyncStatus.failed,
                        retryable=True,
                        error="The worker stopped before this sync finished.",
                        finished_at=now,
                    )
                )
            run = SyncRun(
                client_id=conn.client_id,
                connection_id=self.connection_id,
                account_id=self.account_id,
                network=self.network,
                external_id=self.external_id,
                job_id=self.job_id,
                kind=self.kind,
                window_start=self.window.start,
                window_end=self.window.end,
                started_at=now,
            )
            s.add(run)
            await s.commit()
            self.run_id = run.id
            blocked_until = conn.next_allowed_at
            blocked_by = (conn.rate_limit or {}).get("blocked_by")
        if blocked_until is None or blocked_until <= now:
            return None
        wait = (blocked_until - now).total_seconds()
        if blocked_by == "quota":
            await self.stop_quota(
                QuotaExhausted(
                    "the provider's quota is still exhausted",
                    provider=self.network,
                    resume_at=blocked_until,
                )
            )
        if wait <= float(self.settings.sync_max_wait_seconds):
            await self.announce(1, f"Waiting {wait:.0f} s for the provider's rate limit")
            await self.sleep(wait)
            return None
        return await self.rescheduled(
            RateLimited(
                "the provider's rate limit is still in force",
                provider=self.network,
                retry_at=blocked_until,
            )
        )

    def _target(self, conn: Any) -> dict[str, Any] | None:
        same = [a for a in conn.accounts if a.get("network") == self.network]
        for a in same:
            if a.get("external_id") == self.external_id:
                return dict(a)
        if self.external_id is None and len(same) == 1:
            # A job queued before its account was discovered (a retried backfill): the
            # connection's only account of this network is the one it meant.
            self.external_id = same[0].get("external_id")
            return dict(same[0])
        return None

    async def link(self, ref: Any) -> None:
        """Attach the account the credentials reach to the connection and the run."""
        discovered = str(ref.external_id)
        async with self.maker() as s:
            conn = await conn_repo.get(s, self.connection_id)
            assert conn is not None and self.client_id is not None
            account = await repo.account_for(
                s,
                self.client_id,
                self.network,
                discovered,
                name=getattr(ref, "name", None),
                handle=getattr(ref, "handle", None),
            )
            await s.flush()
            accounts = []
            for a in conn.accounts:
                a = dict(a)
                if a.get("network") == self.network and a.get("external_id") in (
                    self.external_id,
                    discovered,
                ):
                    a.update(
                        external_id=discovered,
                        account_id=account.id,
                        name=getattr(ref, "name", None) or a.get("name"),
                    )
                accounts.append(a)
            conn.accounts = accounts
            s.add(conn)
            run = await s.get(SyncRun, self.run_id)
            assert run is not None
            run.account_id = account.id
            run.external_id = discovered
            s.add(run)
            await s.commit()
        self.external_id = discovered
        self.account_id = account.id
        self.account_extra = {"timezone": account.timezone}
        if account.name:
            self.account_extra["name"] = account.name

    # ------------------------------------------------------------------ endings

    def _event_base(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "connection_id": self.connection_id,
            "account_id": self.account_id,
            "network": self.network,
            "kind": self.kind,
            "window": {"start": self.window.start.isoformat(), "end": self.window.end.isoformat()},
        }

    async def _finish(
        self,
        status: str,
        *,
        error: str | None = None,
        retryable: bool = False,
        resume_at: dt.datetime | None = None,
        conn_update: Callable[[Any], None] | None = None,
        event: tuple[str, dict[str, Any]] | None = None,
        reauth_reason: str | None = None,
    ) -> None:
        now = utcnow()
        async with self.maker() as s:
            run = await s.get(SyncRun, self.run_id)
            conn = await conn_repo.get(s, self.connection_id)
            if run is not None:
                run.status = status
                run.error = error
                run.retryable = retryable
                run.resume_at = resume_at
                run.counts = dict(self.totals.counts)
                run.retired_metrics = [
                    n.model_dump(mode="json") if hasattr(n, "model_dump") else dict(n)
                    for n in self.report.retired_metrics
                ]
                run.requests = int(self.report.requests)
                run.finished_at = now
                s.add(run)
            if conn is not None:
                if conn_update is not None:
                    conn_update(conn)
                conn.updated_at = now
                s.add(conn)
                if reauth_reason is not None:
                    await conn_service.mark_reconnect_needed(s, conn, reauth_reason)
            if event is not None and self.client_id is not None:
                await outbox.emit(s, self.client_id, event[0], event[1])
            await s.commit()

    async def succeed(self) -> dict[str, Any]:
        now = utcnow()
        limits = dict(self.report.rate_limit)

        def update(conn: Any) -> None:
            conn.last_success_at = now
            conn.last_error = None
            conn.last_error_at = None
            conn.rate_limit = limits
            conn.next_allowed_at = None

        retired = [
            n.model_dump(mode="json") if hasattr(n, "model_dump") else dict(n)
            for n in self.report.retired_metrics
        ]
        await self._finish(
            SyncStatus.succeeded,
            conn_update=update,
            event=(
                SYNC_COMPLETED,
                {**self._event_base(), "counts": self.totals.counts, "retired_metrics": retired},
            ),
        )
        await self.progress(100, "Sync finished")
        return {
            "status": SyncStatus.succeeded,
            "run_id": self.run_id,
            "account_id": self.account_id,
            **self.totals.counts,
            "requests": self.report.requests,
            "retired_metrics": len(retired),
        }

    async def rescheduled(self, exc: RateLimited) -> dict[str, Any]:
        limits = {
            **self.report.rate_limit,
            "blocked_by": "rate_limit",
            "retry_at": exc.retry_at.isoformat(),
        }

        def update(conn: Any) -> None:
            conn.next_allowed_at = exc.retry_at
            conn.rate_limit = limits

        await self._finish(
            SyncStatus.rate_limited,
            error=f"{exc.public_message}; resumes at {exc.retry_at:%Y-%m-%d %H:%M} UTC",
            resume_at=exc.retry_at,
            conn_update=update,
        )
        return {
            "status": SyncStatus.rate_limited,
            "run_id": self.run_id,
            "resume_at": exc.retry_at.isoformat(),
            **self.totals.counts,
        }

    async def stop_quota(self, exc: QuotaExhausted) -> None:
        when = (
            f"it can resume at {exc.resume_at:%Y-%m-%d %H:%M} UTC"
            if exc.resume_at
            else "the provider did not say when it resets"
        )
        message = f"{exc.public_message}; quota exhausted, not retried: {when}."
        limits = {**self.report.rate_limit, "blocked_by": "quota"}
        if exc.resume_at:
            limits["retry_at"] = exc.resume_at.isoformat()

        def update(conn: Any) -> None:
            conn.next_allowed_at = exc.resume_at
            conn.rate_limit = limits
            conn.last_error = message[:2000]
            conn.last_error_at = utcnow()

        await self._finish(
            SyncStatus.quota_exhausted,
            error=message,
            resume_at=exc.resume_at,
            conn_update=update,
            event=(
                SYNC_FAILED,
                {
                    **self._event_base(),
                    "status": SyncStatus.quota_exhausted,
                    "error": message,
                    "retryable": False,
                    "resume_at": exc.resume_at.isoformat() if exc.resume_at else None,
                },
            ),
        )
        raise SyncStopped(message, retryable=False)

    async def stop_auth(self, exc: AuthExpired) -> None:
        message = f"{exc.public_message}; the account must be reconnected."
        await self._finish(
            SyncStatus.reauth_required,
            error=message,
            reauth_reason=exc.public_message,
            event=(
                SYNC_FAILED,
                {
                    **self._event_base(),
                    "status": SyncStatus.reauth_required,
                    "error": message,
                    "retryable": False,
                    "resume_at": None,
                },
            ),
        )
        raise SyncStopped(message, retryable=False)

    async def fail(self, message: str, *, retryable: bool, raise_: bool = True) -> None:
        def update(conn: Any) -> None:
            conn.last_error = message[:2000]
            conn.last_error_at = utcnow()

        await self._finish(
            SyncStatus.failed,
            error=message,
            retryable=retryable,
            conn_update=update,
            event=(
                SYNC_FAILED,
                {
                    **self._event_base(),
                    "status": SyncStatus.failed,
                    "error": message[:500],
                    "retryable": retryable,
                    "resume_at": None,
                },
            ),
        )
        if raise_:
            raise SyncStopped(message, retryable=retryable)


async def sync_account(ctx: dict[str, Any], job_id: str) -> dict[str, Any]:
    """Job ``ingest.sync_account``: sync one account of a connection over a window."""
    return await SyncJob(ctx, job_id).run()
