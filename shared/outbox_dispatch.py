"""The webhook dispatcher: sends due outbox rows, retries, disables dead subscriptions.

Runs as a job (``JobNames.WEBHOOK_DISPATCH``) scheduled every few seconds by a
:class:`shared.jobs.CronSpec` (arq cron with Redis, the in-process runner's scheduler
otherwise). Several dispatchers may run at once: a row is *claimed* with a lease by a
conditional ``UPDATE … RETURNING`` before it is sent, so no message is sent by two of them,
and a dispatcher that dies mid-send only delays its rows until the lease ends.

Each attempt re-resolves the target and connects to the checked address
(:mod:`shared.netguard`), never follows redirects (a 3xx is a failure, as the Standard
Webhooks spec counts only 2xx), and keeps no connection alive between attempts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import netguard, webhooks
from shared.clock import utcnow
from shared.crypto import DecryptionFailed, box_for
from shared.jobs import CronSpec, JobNames, JobRegistry
from shared.outbox import JITTER, DeliveryStatus, Outbox

log = logging.getLogger("balise.webhooks")

LEASE = dt.timedelta(seconds=90)
MAX_LOG = 20  # attempts kept on a delivery row (the schedule has 8)
EXCERPT = 300  # characters of the receiver's answer kept for the log
USER_AGENT = "Balise-Webhooks/1.0"
Clock = Callable[[], dt.datetime]


@dataclass
class Attempt:
    at: dt.datetime
    status_code: int | None
    duration_ms: int | None
    error: str | None
    response: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def as_log(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "status_code": self.status_code,
            "duration_ms": self.duration_ms,
            "error": self.error,
            "response": self.response,
        }


def new_http_client(timeout: float) -> httpx.AsyncClient:
    # No keep-alive: the connection goes to a checked IP with the host's SNI, and a pooled
    # TLS connection must never be reused for another host name on the same address.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=0),
        trust_env=False,
    )


async def send_once(
    http: httpx.AsyncClient,
    *,
    url: str,
    secret: str,
    msg_id: str,
    body: bytes,
    allow_private: bool,
    at: dt.datetime,
) -> Attempt:
    """One signed POST of ``body``; never raises (the outcome is the Attempt)."""
    try:
        target = await netguard.resolve(url, allow_private=allow_private)
    except netguard.UnsafeTarget as exc:
        return Attempt(at, None, None, f"refused: {exc}", None)
    headers = webhooks.headers_for(secret, msg_id, body)
    headers["user-agent"] = USER_AGENT
    headers["host"] = target.host_header
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    start = time.perf_counter()
    try:
        async with http.stream(
            "POST", target.ip_url, content=body, headers=headers, extensions=extensions
        ) as resp:
            chunk = b""
            async for part in resp.aiter_bytes():
                chunk += part
                if len(chunk) >= EXCERPT * 4:
                    break
            status = resp.status_code
    except httpx.TimeoutException:
        ms = int((time.perf_counter() - start) * 1000)
        return Attempt(at, None, ms, "timed out", None)
    except (httpx.HTTPError, OSError) as exc:
        ms = int((time.perf_counter() - start) * 1000)
        return Attempt(at, None, ms, f"connection failed: {type(exc).__name__}", None)
    ms = int((time.perf_counter() - start) * 1000)
    text = chunk.decode("utf-8", "replace")[:EXCERPT] or None
    error = None
    if not 200 <= status < 300:
        error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    return Attempt(at, status, ms, error, text)


class Dispatcher:
    """Sends one service's due deliveries. ``clock`` is injectable for the retry tests."""

    def __init__(
        self,
        outbox: Outbox,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Any,
        *,
        clock: Clock = utcnow,
        http: httpx.AsyncClient | None = None,
        concurrency: int = 10,
    ) -> None:
        self.outbox = outbox
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clock = clock
        self._http = http
        self.concurrency = concurrency

    async def run(self, *, budget_seconds: float = 25.0) -> dict[str, int]:
        """Send what is due, pass after pass, until nothing is due or the budget is spent."""
        totals = {"sent": 0, "failed_attempts": 0, "gave_up": 0, "disabled": 0}
        deadline = time.monotonic() + budget_seconds
        own = self._http is None
        http: httpx.AsyncClient | None = self._http
        sem = asyncio.Semaphore(self.concurrency)

        async def one(delivery_id: int, client: httpx.AsyncClient) -> dict[str, int]:
            async with sem:
                return await self.deliver(delivery_id, client)

        try:
            while time.monotonic() < deadline:
                claimed = await self.claim()
                if not claimed:
                    break
                if http is None:
                    http = new_http_client(float(self.settings.webhook_timeout_seconds))
                for outcome in await asyncio.gather(*(one(i, http) for i in claimed)):
                    for k, v in outcome.items():
                        totals[k] += v
        finally:
            if own and http is not None:
                await http.aclose()
        return totals

    async def claim(self) -> list[int]:
        """Lease up to a batch of due rows; returns the ids this dispatcher now owns."""
        D, S = self.outbox.Delivery, self.outbox.Subscription
        now = self.clock()
        free = or_(col(D.lease_until).is_(None), col(D.lease_until) < now)
        async with self.sessionmaker() as s:
            sid = D.subscription_id  # type: ignore[attr-defined]
            q = (
                select(D.id)
                .join(S, col(S.id) == sid)
                .where(
                    col(D.status) == DeliveryStatus.pending,
                    col(D.next_attempt_at) <= now,
                    free,
                    col(S.enabled).is_(True),
                )
                .order_by(col(D.next_attempt_at), col(D.id))
                .limit(int(getattr(self.settings, "webhook_dispatch_batch", 50)))
            )
            ids = [int(i) for i in (await s.exec(q)).all() if i is not None]
            if not ids:
                return []
            res = await s.exec(
                update(D)
                .where(col(D.id).in_(ids), col(D.status) == DeliveryStatus.pending, free)
                .values(lease_until=now + LEASE)
                .returning(col(D.id))
            )
            owned = [int(r[0]) for r in res.all()]
            await s.commit()
        return owned

    async def deliver(self, delivery_id: int, http: httpx.AsyncClient) -> dict[str, int]:
        D, S = self.outbox.Delivery, self.outbox.Subscription
        async with self.sessionmaker() as s:
            d = await s.get(D, delivery_id)
            if d is None or d.status != DeliveryStatus.pending:
                return {}
            sub = await s.get(S, d.subscription_id)  # type: ignore[attr-defined]
            if sub is None or not sub.enabled:
                return {}
            url, msg_id, body = sub.url, d.msg_id, d.payload.encode()
            try:
                secret = box_for(self.settings).decrypt(sub.secret_encrypted)
            except DecryptionFailed as exc:
                secret = None
                key_error = str(exc)
        at = self.clock()
        if secret is None:
            attempt = Attempt(at, None, None, f"not sent: {key_error}", None)
        else:
            attempt = await send_once(
                http,
                url=url,
                secret=secret,
                msg_id=msg_id,
                body=body,
                allow_private=bool(self.settings.webhooks_allow_private),
                at=at,
            )
        return await self.record(delivery_id, attempt)

    async def record(self, delivery_id: int, attempt: Attempt) -> dict[str, int]:
        """Write an attempt's outcome, schedule the retry or give up (and maybe disable)."""
        D, S = self.outbox.Delivery, self.outbox.Subscription
        out = {"sent": 0, "failed_attempts": 0, "gave_up": 0, "disabled": 0}
        async with self.sessionmaker() as s:
            d = await s.get(D, delivery_id)
            if d is None or d.status != DeliveryStatus.pending:
                return out  # deleted with its subscription meanwhile
            sub = await s.get(S, d.subscription_id)  # type: ignore[attr-defined]
            if sub is None:
                return out
            now = self.clock()
            d.attempts += 1
            d.first_attempt_at = d.first_attempt_at or attempt.at
            d.last_attempt_at = attempt.at
            d.last_status_code = attempt.status_code
            d.last_error = attempt.error[:500] if attempt.error else None
            d.log = [*(d.log or []), attempt.as_log()][-MAX_LOG:]
            d.lease_until = None
            if attempt.ok:
                d.status = DeliveryStatus.succeeded
                d.delivered_at = now
                d.next_attempt_at = None
                sub.last_success_at = now
                sub.failing_since = None
                out["sent"] = 1
            else:
                out["failed_attempts"] = 1
                sub.last_failure_at = now
                if sub.failing_since is None:
                    sub.failing_since = attempt.at
                if d.attempts < self.outbox.max_attempts:
                    delay = self.outbox.schedule[d.attempts - 1]
                    d.next_attempt_at = now + delay * (1 + random.uniform(0, JITTER))
                else:
                    d.status = DeliveryStatus.failed
                    d.next_attempt_at = None
                    out["gave_up"] = 1
                    # Disable only when nothing got through since this message's first try:
                    # the receiver has been failing for the whole schedule (about a day).
                    if sub.enabled and sub.failing_since <= d.first_attempt_at:
                        await self._disable(s, sub, d, now)
                        out["disabled"] = 1
            s.add(d)
            s.add(sub)
            await s.commit()
        return out

    async def _disable(self, s: AsyncSession, sub: Any, d: Any, now: dt.datetime) -> None:
        D = self.outbox.Delivery
        since = sub.failing_since or d.first_attempt_at or now
        hours = (now - since).total_seconds() / 3600
        last = d.last_error or (f"HTTP {d.last_status_code}" if d.last_status_code else "none")
        sub.enabled = False
        sub.disabled_at = now
        sub.disabled_reason = (
            f"Disabled after {hours:.1f} hours of failed deliveries to {sub.url} "
            f"(since {since:%Y-%m-%d %H:%M} UTC, {d.attempts} attempts of message {d.msg_id}); "
            f"last error: {last}. Fix the receiver, then re-enable the subscription."
        )[:1000]
        await s.exec(
            update(D)
            .where(
                col(D.subscription_id) == sub.id,  # type: ignore[attr-defined]
                col(D.status) == DeliveryStatus.pending,
                col(D.id) != d.id,
            )
            .values(
                status=DeliveryStatus.failed,
                next_attempt_at=None,
                lease_until=None,
                last_error="not sent: the subscription was disabled",
            )
        )
        log.warning(
            "webhook subscription %s of client %s disabled after %.1f h of failures",
            sub.id,
            sub.client_id,
            hours,
        )


def register_dispatcher(registry: JobRegistry, outbox: Outbox, *, every_seconds: int = 3) -> None:
    """Register the dispatch job of ``outbox`` and its schedule on a service's registry."""

    @registry.register(JobNames.WEBHOOK_DISPATCH)
    async def dispatch_webhooks(ctx: dict[str, Any], job_id: str) -> dict[str, int]:
        """Send the service's due webhook deliveries (cron every few seconds)."""
        return await Dispatcher(outbox, ctx["sessionmaker"], ctx["settings"]).run()

    registry.cron.append(CronSpec(JobNames.WEBHOOK_DISPATCH, every_seconds=every_seconds))
