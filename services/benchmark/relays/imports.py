"""Importing relays from CSV (all or nothing, duplicates decided) and exporting them."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.benchmark.clients.ingest import IngestClient
from services.benchmark.relays import csvio, matching, service
from services.benchmark.relays import repository as repo
from services.benchmark.relays.models import Relay, RelayAccount, RelayTopic
from services.benchmark.relays.schemas import ImportDuplicate, RelayCreate, RelayImportSummary

EXPORT_PAGE = 2000


async def import_csv(
    session: AsyncSession,
    data: bytes,
    ingest: IngestClient | None,
    token: str,
    *,
    dry_run: bool,
    on_duplicate: str,
) -> RelayImportSummary:
    parsed = csvio.parse(data)
    summary = RelayImportSummary(dry_run=dry_run, rows=len(parsed.rows), errors=parsed.errors)
    existing = await service.candidates(session)
    names = {c.relay_id: c.name for c in existing}
    merge_into: dict[int, int] = {}
    for line, body in parsed.rows:
        cand = matching.Candidate(
            0, body.name, {matching.handle_key(a.handle) for a in body.accounts}
        )
        found = matching.matches_for(cand, existing)
        for m in found:
            other = m.b if m.a == 0 else m.a
            summary.duplicates.append(
                ImportDuplicate(
                    row=line,
                    name=body.name,
                    existing_id=other,
                    existing_name=names.get(other, ""),
                    similarity=m.similarity,
                    reasons=m.reasons,
                )
            )
        exact = [m for m in found if any(r.startswith("same handle") for r in m.reasons)]
        if exact:
            merge_into[line] = exact[0].b if exact[0].a == 0 else exact[0].a
    if summary.errors or dry_run:
        return summary
    if summary.duplicates and on_duplicate == "refuse":
        from shared.errors import Conflict

        raise Conflict(
            f"{len(summary.duplicates)} row(s) look like relays already in the directory; "
            "choose on_duplicate=merge or on_duplicate=create (a dry run lists them).",
            duplicates=[d.model_dump() for d in summary.duplicates],
        )
    # Plan every row, then register every new account in ingest, then write: no write
    # transaction is open while ingest writes (one SQLite file in the embedded mode).
    taken: set[tuple[str, str]] = set()
    plans: list[tuple[Relay, RelayCreate, list[RelayAccount], bool]] = []
    for line, body in parsed.rows:
        target = merge_into.get(line) if on_duplicate == "merge" else None
        if target is not None:
            relay = await service.relay_or_404(session, target)
            have = {
                (a.network, a.handle_key)
                for a in (await repo.accounts_of(session, [target])).get(target, [])
            }
            extra = [
                a
                for a in body.accounts
                if (a.network.value, matching.handle_key(a.handle)) not in have
            ]
            accounts = await service.plan_accounts(session, relay, extra, taken)
            plans.append((relay, body, accounts, True))
        else:
            relay = service.new_relay(body)
            accounts = await service.plan_accounts(session, relay, body.accounts, taken)
            plans.append((relay, body, accounts, False))
    if ingest is not None:
        for relay, _, accounts, _ in plans:
            for a in accounts:
                await service.register(ingest, token, relay, a)
    for relay, body, accounts, merging in plans:
        if merging:
            assert relay.id is not None
            current = set((await repo.topics_of(session, [relay.id])).get(relay.id, []))
            for t in body.topics:
                if t not in current:
                    session.add(RelayTopic(relay_id=relay.id, topic=t))
            for field in ("language", "region", "bio", "email"):
                if not getattr(relay, field) and getattr(body, field):
                    setattr(relay, field, getattr(body, field))
            for a in accounts:
                a.relay_id = relay.id
                session.add(a)
            session.add(relay)
            await session.flush()
            summary.merged += 1
        else:
            await service.insert(session, relay, body.topics, accounts)
            summary.created += 1
            summary.created_ids.append(relay.id or 0)
    return summary


async def export_csv(session: AsyncSession, filters: repo.Filters) -> str:
    rows_out: list[dict[str, object]] = []
    offset = 0
    while True:
        rows, total = await repo.search(
            session,
            filters,
            client_id=None,
            sort="name",
            descending=False,
            offset=offset,
            limit=EXPORT_PAGE,
        )
        ids = [r.relay.id or 0 for r in rows]
        topics = await repo.topics_of(session, ids)
        accounts = await repo.accounts_of(session, ids)
        for r in rows:
            rel = r.relay
            rid = rel.id or 0
            row: dict[str, object] = {
                "id": rid,
                "name": rel.name,
                "kind": rel.kind,
                "language": rel.language,
                "region": rel.region,
                "topics": "; ".join(topics.get(rid, [])),
                "status": rel.status,
                "email": rel.email,
                "bio": rel.bio,
                "notes": rel.notes,
                "followers": rel.followers,
                "tier": rel.tier,
                "composite": None if rel.composite is None else round(rel.composite, 1),
            }
            for a in accounts.get(rid, []):
                row[a.network] = "@" + a.handle if not a.url else a.url
            if r.score is not None:
                for comp in ("reach", "resonance", "authenticity", "activity"):
                    v = getattr(r.score, comp)
                    row[comp] = None if v is None else round(v, 1)
            rows_out.append(row)
        offset += EXPORT_PAGE
        if offset >= total:
            return csvio.write(rows_out)
