"""A client's shortlist of relays and its co-creator candidates."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.benchmark.relays import repository as repo
from services.benchmark.relays import service
from services.benchmark.relays.models import RelationshipStatus
from services.benchmark.relays.schemas import ShortlistEntry
from shared.schemas.benchmark import CoCreatorCandidate


async def entries(session: AsyncSession, client_id: int) -> list[ShortlistEntry]:
    rows = await service.shortlist_rows(session, client_id)
    if not rows:
        return []
    found, _ = await repo.search(
        session,
        repo.Filters(ids=[r.relay_id for r in rows]),
        client_id=client_id,
        sort="name",
        descending=False,
        offset=0,
        limit=len(rows),
    )
    by_id = {p.id: p for p in await service.publics(session, found, client_id)}
    return [
        ShortlistEntry(
            relay=by_id[r.relay_id], note=r.note, added_at=r.added_at, added_by=r.added_by
        )
        for r in rows
        if r.relay_id in by_id
    ]


REASONS = {
    RelationshipStatus.co_creator.value: "already co-creates with the agency",
    RelationshipStatus.partner.value: "a partner of the agency",
    RelationshipStatus.relayed.value: "has relayed clients' posts before",
}


async def co_creators(session: AsyncSession, client_id: int) -> list[CoCreatorCandidate]:
    """Shortlisted relays that have not declined, by relationship then composite score."""
    out = []
    for e in await entries(session, client_id):
        r = e.relay
        if r.status == RelationshipStatus.declined.value:
            continue
        reason = REASONS.get(r.status, "shortlisted for this client")
        if r.scores.relevance is not None:
            reason += f"; relevance to the client's themes {r.scores.relevance:.0f}/100"
        out.append(
            CoCreatorCandidate(
                relay_id=r.id,
                name=r.name,
                kind="relay",
                networks=r.networks,
                composite_score=r.composite,
                status=r.status,
                reason=reason,
            )
        )
    rank = {s: i for i, s in enumerate(["co_creator", "partner", "relayed"])}
    out.sort(key=lambda c: (rank.get(c.status, 9), -(c.composite_score or -1.0), c.name))
    return out
