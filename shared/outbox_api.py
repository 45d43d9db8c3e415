"""The REST API of a backend's outgoing webhooks, as a router factory.

``app.include_router(webhooks_router(outbox))`` gives a backend ``/v1/webhooks/…``: its
event catalogue, subscriptions per client (the ``whsec_`` secret is shown once, at
creation), their delivery log, a test ping, re-enabling a disabled subscription and
re-sending a failed delivery (same ``webhook-id``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import netguard, webhooks
from shared.auth import Principal, PrincipalDep, WriterDep
from shared.clock import utcnow
from shared.crypto import box_for
from shared.db import SessionDep
from shared.errors import Conflict, Invalid, NotFound
from shared.outbox import PING_EVENT, DeliveryStatus, Outbox, WebhookSubscriptionBase
from shared.schemas.common import Page, decode_cursor, encode_cursor
from shared.schemas.webhooks import (
    DeliveryPublic,
    EventCatalogue,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
)

MAX_SUBSCRIPTIONS_PER_CLIENT = 25
IDEMPOTENCY_WINDOW = dt.timedelta(hours=24)


def webhooks_router(outbox: Outbox) -> APIRouter:
    """Routes managing ``outbox``'s subscriptions, scoped to the caller's clients."""
    router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
    S, D = outbox.Subscription, outbox.Delivery

    async def sub_or_404(
        session: AsyncSession, principal: Principal, sub_id: int
    ) -> WebhookSubscriptionBase:
        sub = await session.get(S, sub_id)
        if sub is None or not principal.sees(sub.client_id):
            raise NotFound(f"No webhook subscription {sub_id}")
        return sub

    async def public(session: AsyncSession, sub: WebhookSubscriptionBase) -> SubscriptionPublic:
        counts = await outbox.pending_counts(session, [sub.id or 0])
        return outbox.public(sub, counts.get(sub.id or 0, 0))

    @router.get("/events", response_model=EventCatalogue, summary="Events this service sends")
    async def events(principal: PrincipalDep) -> EventCatalogue:
        return EventCatalogue(service=outbox.service, events=outbox.event_catalogue())

    @router.post(
        "/subscriptions",
        response_model=SubscriptionCreated,
        status_code=201,
        summary="Subscribe a URL to events of one client",
        description=(
            "Messages are POSTed as JSON `{type, timestamp, data}` and signed per Standard "
            "Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the "
            "returned `whsec_` secret, which is shown only in this answer. A repeated "
            "request with the same `Idempotency-Key` (within 24 h) returns the same "
            "subscription and secret."
        ),
    )
    async def create(
        body: SubscriptionCreate,
        request: Request,
        response: Response,
        session: SessionDep,
        principal: WriterDep,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> SubscriptionCreated:
        principal.require_client(body.client_id)
        settings = request.app.state.settings
        secrets_box = box_for(settings)
        if idempotency_key:
            q = select(S).where(
                col(S.client_id) == body.client_id, col(S.idempotency_key) == idempotency_key
            )
            prior = (await session.exec(q)).first()
            if prior is not None and prior.created_at > utcnow() - IDEMPOTENCY_WINDOW:
                if prior.url != body.url or sorted(prior.event_types) != sorted(body.event_types):
                    raise Conflict("This Idempotency-Key was used for a different subscription.")
                response.status_code = 200
                return SubscriptionCreated(
                    **(await public(session, prior)).model_dump(),
                    secret=secrets_box.decrypt(prior.secret_encrypted),
                )
        unknown = sorted(set(body.event_types) - set(outbox.events))
        if unknown:
            raise Invalid(
                f"Unknown event type(s) {', '.join(unknown)}; {outbox.service} sends: "
                f"{', '.join(sorted(outbox.events))}.",
                field="event_types",
            )
        url = body.url.strip()
        try:
            await netguard.resolve(url, allow_private=bool(settings.webhooks_allow_private))
        except netguard.UnsafeTarget as exc:
            raise Invalid(str(exc), field="url") from exc
        existing = await outbox.subscriptions(session, body.client_id)
        if len(existing) >= MAX_SUBSCRIPTIONS_PER_CLIENT:
            raise Conflict(
                f"A client may have at most {MAX_SUBSCRIPTIONS_PER_CLIENT} subscriptions "
                f"on {outbox.service}; delete one first."
            )
        secret = webhooks.new_secret(32)
        sub = S(
            client_id=body.client_id,
            url=url,
            description=body.description.strip(),
            event_types=sorted(set(body.event_types)),
            secret_encrypted=secrets_box.encrypt(secret),
            idempotency_key=idempotency_key,
            created_by=f"{principal.kind}:{principal.subject}"[:64],
        )
        session.add(sub)
        await session.flush()
        response.headers["Location"] = f"/v1/webhooks/subscriptions/{sub.id}"
        return SubscriptionCreated(**outbox.public(sub).model_dump(), secret=secret)

    @router.get(
        "/subscriptions",
        response_model=Page[SubscriptionPublic],
        summary="A client's webhook subscriptions",
    )
    async def list_subscriptions(
        session: SessionDep, principal: PrincipalDep, client_id: int
    ) -> Page[SubscriptionPublic]:
        principal.require_client(client_id)
        subs = await outbox.subscriptions(session, client_id)
        counts = await outbox.pending_counts(session, [s.id or 0 for s in subs])
        return Page[SubscriptionPublic](
            data=[outbox.public(s, counts.get(s.id or 0, 0)) for s in subs]
        )

    @router.get("/subscriptions/{sub_id}", response_model=SubscriptionPublic)
    async def get_subscription(
        sub_id: int, session: SessionDep, principal: PrincipalDep
    ) -> SubscriptionPublic:
        return await public(session, await sub_or_404(session, principal, sub_id))

    @router.delete(
        "/subscriptions/{sub_id}", status_code=204, summary="Delete a subscription and its log"
    )
    async def delete_subscription(
        sub_id: int, session: SessionDep, principal: WriterDep
    ) -> Response:
        sub = await sub_or_404(session, principal, sub_id)
        sid = D.subscription_id  # type: ignore[attr-defined]
        await session.exec(delete(D).where(col(sid) == sub_id))
        await session.delete(sub)
        await session.flush()
        return Response(status_code=204)

    @router.post(
        "/subscriptions/{sub_id}/enable",
        response_model=SubscriptionPublic,
        summary="Re-enable a subscription disabled after repeated failures",
    )
    async def enable(sub_id: int, session: SessionDep, principal: WriterDep) -> SubscriptionPublic:
        sub = await sub_or_404(session, principal, sub_id)
        sub.enabled = True
        sub.disabled_at = None
        sub.disabled_reason = None
        sub.failing_since = None
        session.add(sub)
        await session.flush()
        return await public(session, sub)

    @router.post(
        "/subscriptions/{sub_id}/ping",
        response_model=DeliveryPublic,
        status_code=202,
        summary="Queue a signed test message to this subscription",
    )
    async def ping(sub_id: int, session: SessionDep, principal: WriterDep) -> DeliveryPublic:
        sub = await sub_or_404(session, principal, sub_id)
        if not sub.enabled:
            raise Conflict("The subscription is disabled; re-enable it first.")
        rows = await outbox.emit(
            session,
            sub.client_id,
            PING_EVENT,
            {"subscription_id": sub.id, "message": "Test message from Balise."},
            subscription_id=sub.id,
        )
        return outbox.delivery_public(rows[0])

    @router.get(
        "/subscriptions/{sub_id}/deliveries",
        response_model=Page[DeliveryPublic],
        summary="The delivery log of a subscription, newest first",
    )
    async def deliveries(
        sub_id: int,
        session: SessionDep,
        principal: PrincipalDep,
        status: Annotated[str | None, Query(pattern="^(pending|succeeded|failed)$")] = None,
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> Page[DeliveryPublic]:
        await sub_or_404(session, principal, sub_id)
        sid = D.subscription_id  # type: ignore[attr-defined]
        q = select(D).where(col(sid) == sub_id)
        if status:
            q = q.where(col(D.status) == status)
        after = decode_cursor(cursor)
        if after is not None:
            before = after.get("before")
            if not isinstance(before, int):
                raise Invalid("The cursor is malformed.")
            q = q.where(col(D.id) < before)
        rows = (await session.exec(q.order_by(col(D.id).desc()).limit(limit + 1))).all()
        more = len(rows) > limit
        rows = rows[:limit]
        nxt = encode_cursor({"before": rows[-1].id}) if more and rows else None
        return Page[DeliveryPublic](data=[outbox.delivery_public(d) for d in rows], next_cursor=nxt)

    @router.post(
        "/deliveries/{delivery_id}/retry",
        response_model=DeliveryPublic,
        status_code=202,
        summary="Send a failed delivery again (same webhook-id)",
    )
    async def retry(delivery_id: int, session: SessionDep, principal: WriterDep) -> DeliveryPublic:
        d = await session.get(D, delivery_id)
        if d is None or not principal.sees(d.client_id):
            raise NotFound(f"No delivery {delivery_id}")
        sub = await sub_or_404(session, principal, d.subscription_id)  # type: ignore[attr-defined]
        if d.status != DeliveryStatus.failed:
            raise Conflict(f"Only a failed delivery can be sent again; this one is {d.status}.")
        if not sub.enabled:
            raise Conflict("The subscription is disabled; re-enable it first.")
        d.status = DeliveryStatus.pending
        d.attempts = 0
        d.first_attempt_at = None
        d.next_attempt_at = utcnow()
        d.lease_until = None
        session.add(d)
        await session.flush()
        return outbox.delivery_public(d)

    return router
