"""Rules of the relay directory: relays, accounts, topics, history, shortlists, merges."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benchmark.clients.ingest import IngestClient
from services.benchmark.relays import matching
from services.benchmark.relays import repository as repo
from services.benchmark.relays.models import (
    DuplicateDismissal,
    RelationshipStatus,
    Relay,
    RelayAccount,
    RelayHistory,
    RelayMerge,
    RelayTopic,
    Shortlist,
)
from services.benchmark.relays.schemas import (
    ComponentScores,
    DuplicatePair,
    HistoryIn,
    HistoryPublic,
    RelayAccountIn,
    RelayAccountPublic,
    RelayCreate,
    RelayDetail,
    RelayPublic,
    RelayUpdate,
)
from services.benchmark.scoring import explain
from services.benchmark.scoring.models import RelayRelevance, RelayScore, ScoringRun
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import Conflict, Invalid, NotFound
from shared.http import BackendUnavailable
from shared.schemas.ingest import AccountCreate, Network, OwnerKind

log = logging.getLogger("balise.benchmark.relays")

STATUS_ORDER = [s.value for s in RelationshipStatus]


async def relay_or_404(session: AsyncSession, relay_id: int) -> Relay:
    relay = await session.get(Relay, relay_id)
    if relay is None:
        raise NotFound(f"No relay {relay_id}")
    return relay


# --------------------------------------------------------------------------- views


async def publics(
    session: AsyncSession,
    rows: Sequence[repo.Row],
    client_id: int | None,
) -> list[RelayPublic]:
    ids = [r.relay.id for r in rows if r.relay.id is not None]
    facts = await repo.page_facts(session, ids, client_id)
    out = []
    for r in rows:
        rid = r.relay.id or 0
        topics, networks = facts.topics.get(rid, []), facts.networks.get(rid, set())
        out.append(_public(r, topics, networks, client_id, rid in facts.shortlisted))
    return out


def _public(
    r: repo.Row,
    topics: list[str],
    networks: set[str],
    client_id: int | None,
    shortlisted: bool,
) -> RelayPublic:
    relay, score, rel = r.relay, r.score, r.relevance
    composite = relay.composite
    if client_id is not None and rel is not None and rel.composite is not None:
        composite = rel.composite
    assert relay.id is not None
    return RelayPublic(
        id=relay.id,
        name=relay.name,
        kind=relay.kind,
        language=relay.language,
        region=relay.region,
        status=relay.status,
        topics=topics,
        networks=sorted((Network(n) for n in networks), key=lambda n: n.value),
        followers=relay.followers,
        tier=relay.tier,
        composite=composite,
        scores=ComponentScores(
            reach=score.reach if score else None,
            resonance=score.resonance if score else None,
            authenticity=score.authenticity if score else None,
            activity=score.activity if score else None,
            relevance=rel.score if rel else None,
        ),
        shortlisted=shortlisted if client_id is not None else None,
        updated_at=relay.updated_at,
    )


async def one_public(session: AsyncSession, relay: Relay, client_id: int | None) -> RelayPublic:
    score = await session.get(RelayScore, relay.id)
    rel = await _relevance(session, relay.id or 0, client_id)
    return (await publics(session, [repo.Row(relay, score, rel)], client_id))[0]


async def _relevance(
    session: AsyncSession, relay_id: int, client_id: int | None
) -> RelayRelevance | None:
    if client_id is None:
        return None
    q = select(RelayRelevance).where(
        RelayRelevance.relay_id == relay_id, RelayRelevance.client_id == client_id
    )
    return (await session.exec(q)).first()


def account_public(a: RelayAccount) -> RelayAccountPublic:
    assert a.id is not None
    return RelayAccountPublic(
        id=a.id,
        network=Network(a.network),
        handle=a.handle,
        external_id=a.external_id,
        url=a.url,
        ingest_account_id=a.ingest_account_id,
    )


def history_public(h: RelayHistory) -> HistoryPublic:
    assert h.id is not None
    return HistoryPublic.model_validate(h, from_attributes=True)


async def detail(
    session: AsyncSession, relay: Relay, principal: Principal, client_id: int | None
) -> RelayDetail:
    assert relay.id is not None
    score = await session.get(RelayScore, relay.id)
    rel = await _relevance(session, relay.id, client_id)
    base = (await publics(session, [repo.Row(relay, score, rel)], client_id))[0]
    accounts = (await repo.accounts_of(session, [relay.id])).get(relay.id, [])
    visible = sorted(principal.client_ids)
    history = await repo.history_of(session, relay.id, visible)
    short_q = select(Shortlist.client_id).where(
        Shortlist.relay_id == relay.id, col(Shortlist.client_id).in_(visible)
    )
    shortlisted_for = sorted(int(c) for c in (await session.exec(short_q)).all())
    return RelayDetail(
        **base.model_dump(),
        bio=relay.bio,
        notes=relay.notes,
        email=relay.email,
        aliases=list(relay.aliases or []),
        accounts=[account_public(a) for a in accounts],
        history=[history_public(h) for h in history],
        explanation=(
            explain.explanation(score, await session.get(ScoringRun, score.run_id))
            if score
            else None
        ),
        relevance=rel.detail if rel else None,
        scored_at=score.computed_at if score else None,
        shortlisted_for=shortlisted_for,
    )


# --------------------------------------------------------------------------- changes


async def set_topics(session: AsyncSession, relay_id: int, topics: list[str]) -> None:
    await session.exec(delete(RelayTopic).where(col(RelayTopic.relay_id) == relay_id))
    for t in topics:
        session.add(RelayTopic(relay_id=relay_id, topic=t))
    await session.flush()


async def create(
    session: AsyncSession, body: RelayCreate, ingest: IngestClient | None, token: str
) -> Relay:
    """Create a relay; its accounts are registered in ingest before anything is written
    here (one SQLite file in the embedded mode: a write held open would lock ingest out)."""
    relay = new_relay(body)
    planned = await plan_accounts(session, relay, body.accounts)
    if ingest is not None:
        for account in planned:
            await register(ingest, token, relay, account)
    return await insert(session, relay, body.topics, planned)


def new_relay(body: RelayCreate) -> Relay:
    relay = Relay(**body.model_dump(exclude={"topics", "accounts", "kind", "status"}))
    relay.kind = body.kind.value
    relay.status = body.status.value
    return relay


async def plan_accounts(
    session: AsyncSession,
    relay: Relay,
    accounts: Sequence[RelayAccountIn],
    taken: set[tuple[str, str]] | None = None,
) -> list[RelayAccount]:
    """Account rows to insert, checked against the directory (and ``taken`` in a batch)."""
    out = []
    taken = taken if taken is not None else set()
    for body in accounts:
        key = matching.handle_key(body.handle)
        if not key:
            raise Invalid(f"The handle {body.handle!r} has no letters or digits.", field="handle")
        other = await repo.account_by_handle(session, body.network.value, key)
        if other is not None:
            raise Conflict(
                f"@{body.handle} on {body.network.value} already belongs to relay "
                f"{other.relay_id}; merge the two relays instead.",
                relay_id=other.relay_id,
            )
        if (body.network.value, key) in taken:
            raise Conflict(f"@{body.handle} on {body.network.value} is listed twice.")
        taken.add((body.network.value, key))
        out.append(
            RelayAccount(
                relay_id=relay.id or 0,
                network=body.network.value,
                handle=body.handle,
                handle_key=key,
                external_id=body.external_id,
                url=body.url,
            )
        )
    return out


async def insert(
    session: AsyncSession, relay: Relay, topics: list[str], accounts: list[RelayAccount]
) -> Relay:
    session.add(relay)
    await session.flush()
    assert relay.id is not None
    await set_topics(session, relay.id, topics)
    for a in accounts:
        a.relay_id = relay.id
        session.add(a)
    await session.flush()
    return relay


async def update_relay(session: AsyncSession, relay: Relay, body: RelayUpdate) -> None:
    data = body.model_dump(exclude_unset=True)
    topics = data.pop("topics", None)
    for k, v in data.items():
        setattr(relay, k, v.value if hasattr(v, "value") else v)
    relay.updated_at = utcnow()
    session.add(relay)
    await session.flush()
    if topics is not None:
        await set_topics(session, relay.id or 0, topics)


async def add_account(
    session: AsyncSession,
    relay: Relay,
    body: RelayAccountIn,
    ingest: IngestClient | None,
    token: str,
) -> RelayAccount:
    """Attach an account; ingest is asked to collect its public data (agency-wide)."""
    (account,) = await plan_accounts(session, relay, [body])
    if ingest is not None:
        await register(ingest, token, relay, account)
    session.add(account)
    relay.updated_at = utcnow()
    session.add(relay)
    await session.flush()
    return account


async def register(ingest: IngestClient, token: str, relay: Relay, account: RelayAccount) -> None:
    """Register in ingest; kept unregistered (and retried at rescoring) when ingest is down."""
    try:
        registered = await ingest.register_agency_account(
            token,
            AccountCreate(
                owner_kind=OwnerKind.relay,
                owner_ref=relay.ref,
                network=Network(account.network),
                external_id=account.external_id or account.handle_key,
                handle=account.handle,
                name=relay.name,
                url=account.url,
            ),
        )
    except BackendUnavailable as exc:
        log.warning("ingest registration of a relay account deferred: %s", exc)
        return
    account.ingest_account_id = registered.id


async def delete_account(session: AsyncSession, relay: Relay, account_id: int) -> None:
    account = await session.get(RelayAccount, account_id)
    if account is None or account.relay_id != relay.id:
        raise NotFound(f"No account {account_id} on this relay")
    await session.delete(account)
    await session.flush()


async def add_history(session: AsyncSession, relay: Relay, body: HistoryIn) -> RelayHistory:
    row = RelayHistory(relay_id=relay.id or 0, **body.model_dump(exclude={"network"}))
    row.network = body.network.value if body.network else None
    session.add(row)
    if relay.status in (RelationshipStatus.to_contact, RelationshipStatus.contacted):
        relay.status = RelationshipStatus.relayed.value  # they did relay: say so
    relay.updated_at = utcnow()
    session.add(relay)
    await session.flush()
    return row


# --------------------------------------------------------------------------- shortlists


async def shortlist_add(
    session: AsyncSession, client_id: int, relay: Relay, note: str | None, by: str
) -> Shortlist:
    q = select(Shortlist).where(Shortlist.client_id == client_id, Shortlist.relay_id == relay.id)
    existing = (await session.exec(q)).first()
    if existing is not None:
        if note is not None:
            existing.note = note
            session.add(existing)
            await session.flush()
        return existing
    row = Shortlist(client_id=client_id, relay_id=relay.id or 0, note=note, added_by=by)
    session.add(row)
    await session.flush()
    return row


async def shortlist_remove(session: AsyncSession, client_id: int, relay_id: int) -> None:
    q = select(Shortlist).where(Shortlist.client_id == client_id, Shortlist.relay_id == relay_id)
    row = (await session.exec(q)).first()
    if row is None:
        raise NotFound(f"Relay {relay_id} is not on this client's shortlist")
    await session.delete(row)
    await session.flush()


async def shortlist_rows(session: AsyncSession, client_id: int) -> list[Shortlist]:
    q = (
        select(Shortlist)
        .where(Shortlist.client_id == client_id)
        .order_by(col(Shortlist.added_at).desc(), col(Shortlist.id).desc())
    )
    return list((await session.exec(q)).all())


# --------------------------------------------------------------------------- duplicates


async def candidates(session: AsyncSession) -> list[matching.Candidate]:
    out = []
    for rid, name, aliases, handles in await repo.all_candidates(session):
        out.append(matching.Candidate(rid, name, set(handles)))
        for alias in aliases:  # a merged relay's former names still match
            out.append(matching.Candidate(rid, alias, set()))
    return out


async def duplicate_pairs(session: AsyncSession, limit: int = 100) -> list[DuplicatePair]:
    pairs = matching.all_pairs(await candidates(session), await repo.dismissed_pairs(session))
    pairs = pairs[:limit]
    ids = sorted({p.a for p in pairs} | {p.b for p in pairs})
    rows, _ = await repo.search(
        session,
        repo.Filters(ids=ids),
        client_id=None,
        sort="name",
        descending=False,
        offset=0,
        limit=max(1, len(ids)),
    )
    by_id = {p.id: p for p in await publics(session, rows, None)}
    return [
        DuplicatePair(a=by_id[p.a], b=by_id[p.b], similarity=p.similarity, reasons=p.reasons)
        for p in pairs
        if p.a in by_id and p.b in by_id
    ]


async def dismiss(session: AsyncSession, a: int, b: int) -> None:
    if a == b:
        raise Invalid("A relay is not a duplicate of itself.")
    lo, hi = sorted((a, b))
    await relay_or_404(session, lo)
    await relay_or_404(session, hi)
    if await session.get(DuplicateDismissal, (lo, hi)) is None:
        session.add(DuplicateDismissal(low_id=lo, high_id=hi))
        await session.flush()


async def merge(session: AsyncSession, keep: Relay, other: Relay, by: str) -> Relay:
    """Merge ``other`` into ``keep`` (confirmed by a person) and remove ``other``.

    Accounts, topics, history and shortlists move over; fields ``keep`` lacks are taken
    from ``other``; notes are appended; ``other``'s names become aliases. A snapshot of
    ``other`` is kept in ``benchmark_relay_merge``.
    """
    if keep.id == other.id:
        raise Invalid("A relay cannot be merged into itself.")
    assert keep.id is not None and other.id is not None
    accounts = await repo.accounts_of(session, [keep.id, other.id])
    kept_keys = {(a.network, a.handle_key) for a in accounts.get(keep.id, [])}
    for a in accounts.get(other.id, []):
        if (a.network, a.handle_key) in kept_keys:
            await session.delete(a)
        else:
            a.relay_id = keep.id
            session.add(a)
    topics = await repo.topics_of(session, [keep.id, other.id])
    merged_topics = sorted(set(topics.get(keep.id, [])) | set(topics.get(other.id, [])))
    await session.exec(
        update(RelayHistory).where(col(RelayHistory.relay_id) == other.id).values(relay_id=keep.id)
    )
    keep_clients = {
        s.client_id
        for s in (await session.exec(select(Shortlist).where(Shortlist.relay_id == keep.id))).all()
    }
    for s in (await session.exec(select(Shortlist).where(Shortlist.relay_id == other.id))).all():
        if s.client_id in keep_clients:
            await session.delete(s)
        else:
            s.relay_id = keep.id
            session.add(s)
    for field in ("language", "region", "bio", "email"):
        if not getattr(keep, field) and getattr(other, field):
            setattr(keep, field, getattr(other, field))
    if other.notes:
        keep.notes = f"{keep.notes}\n\n{other.notes}" if keep.notes else other.notes
    if STATUS_ORDER.index(keep.status) == 0 and other.status != keep.status:
        keep.status = other.status  # keep the relationship that has moved furthest
    aliases = list(keep.aliases or [])
    for n in [other.name, *(other.aliases or [])]:
        if n != keep.name and n not in aliases:
            aliases.append(n)
    keep.aliases = aliases
    keep.updated_at = utcnow()
    snapshot: dict[str, Any] = other.model_dump(mode="json")
    snapshot["topics"] = topics.get(other.id, [])
    session.add(
        RelayMerge(
            merged_id=other.id,
            merged_into_id=keep.id,
            merged_name=other.name,
            snapshot=snapshot,
            merged_by=by,
        )
    )
    await session.flush()
    await session.delete(other)
    await session.flush()
    await set_topics(session, keep.id, merged_topics)
    session.add(keep)
    await session.flush()
    return keep
