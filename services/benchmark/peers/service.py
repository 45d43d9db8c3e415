"""Rules of peer groups and peers, and the computation of a benchmark version."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from services.benchmark.clients.ingest import IngestClient
from services.benchmark.peers import compute, practices
from services.benchmark.peers import repository as repo
from services.benchmark.peers.models import BenchmarkResultRow, Peer, PeerAccount, PeerGroup
from services.benchmark.peers.schemas import (
    PeerAccountIn,
    PeerAccountPublic,
    PeerCreate,
    PeerGroupCreate,
    PeerGroupDetail,
    PeerGroupPublic,
    PeerGroupUpdate,
    PeerPublic,
    PeerUpdate,
    ResultSummary,
)
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import Conflict, NotFound
from shared.http import BackendUnavailable
from shared.schemas.benchmark import BenchmarkResultFull
from shared.schemas.ingest import (
    SOCIAL_NETWORKS,
    AccountCreate,
    AccountPublic,
    Network,
    OwnerKind,
)

log = logging.getLogger("balise.benchmark.peers")

Progress = Callable[[float, str], Awaitable[None]]


# --------------------------------------------------------------------------- lookups


async def group_or_404(session: AsyncSession, principal: Principal, group_id: int) -> PeerGroup:
    group = await session.get(PeerGroup, group_id)
    if group is None or not principal.sees(group.client_id):
        raise NotFound(f"No peer group {group_id}")
    return group


async def peer_or_404(session: AsyncSession, principal: Principal, peer_id: int) -> Peer:
    peer = await session.get(Peer, peer_id)
    if peer is None or not principal.sees(peer.client_id):
        raise NotFound(f"No peer {peer_id}")
    return peer


async def result_or_404(
    session: AsyncSession, principal: Principal, result_id: int
) -> BenchmarkResultRow:
    row = await session.get(BenchmarkResultRow, result_id)
    if row is None or not principal.sees(row.client_id):
        raise NotFound(f"No benchmark result {result_id}")
    return row


# --------------------------------------------------------------------------- views


def summary(row: BenchmarkResultRow) -> ResultSummary:
    assert row.id is not None
    return ResultSummary(
        id=row.id, version=row.version, start=row.start, end=row.end, computed_at=row.computed_at
    )


def account_public(a: PeerAccount) -> PeerAccountPublic:
    assert a.id is not None
    return PeerAccountPublic(
        id=a.id,
        peer_id=a.peer_id,
        network=Network(a.network),
        external_id=a.external_id,
        handle=a.handle,
        url=a.url,
        ingest_account_id=a.ingest_account_id,
        created_at=a.created_at,
    )


def peer_public(p: Peer, accounts: Sequence[PeerAccount]) -> PeerPublic:
    assert p.id is not None
    return PeerPublic(
        id=p.id,
        group_id=p.group_id,
        name=p.name,
        website=p.website,
        notes=p.notes,
        accounts=[account_public(a) for a in accounts if a.peer_id == p.id],
        created_at=p.created_at,
    )


async def list_groups(session: AsyncSession, client_id: int) -> list[PeerGroupPublic]:
    groups = await repo.groups_of(session, client_id)
    ids = [g.id for g in groups if g.id is not None]
    counts = await repo.peer_counts(session, ids)
    latest = await repo.latest_results(session, ids)
    return [_group_public(g, counts.get(g.id or 0, 0), latest.get(g.id or 0)) for g in groups]


def _group_public(g: PeerGroup, peers: int, latest: BenchmarkResultRow | None) -> PeerGroupPublic:
    assert g.id is not None
    return PeerGroupPublic(
        id=g.id,
        client_id=g.client_id,
        name=g.name,
        description=g.description,
        peers=peers,
        latest_result=summary(latest) if latest else None,
        created_at=g.created_at,
        updated_at=g.updated_at,
    )


async def group_detail(session: AsyncSession, group: PeerGroup) -> PeerGroupDetail:
    assert group.id is not None
    peers = await repo.peers_of(session, group.id)
    accounts = await repo.accounts_of(session, [p.id for p in peers if p.id is not None])
    latest = (await repo.latest_results(session, [group.id])).get(group.id)
    base = _group_public(group, len(peers), latest)
    return PeerGroupDetail(**base.model_dump(), members=[peer_public(p, accounts) for p in peers])


# --------------------------------------------------------------------------- changes


async def create_group(session: AsyncSession, client_id: int, body: PeerGroupCreate) -> PeerGroup:
    group = PeerGroup(client_id=client_id, name=body.name.strip(), description=body.description)
    session.add(group)
    await session.flush()
    return group


async def update_group(session: AsyncSession, group: PeerGroup, body: PeerGroupUpdate) -> None:
    for k, v in body.model_dump(exclude_unset=True).items():
        setattr(group, k, v.strip() if isinstance(v, str) and k == "name" else v)
    group.updated_at = utcnow()
    session.add(group)
    await session.flush()


async def delete_group(session: AsyncSession, group: PeerGroup) -> None:
    await session.delete(group)
    await session.flush()


async def add_peer(
    session: AsyncSession,
    group: PeerGroup,
    body: PeerCreate,
    ingest: IngestClient,
    token: str,
) -> Peer:
    """Create a peer with its accounts; ingest is asked to collect them first.

    Ingest is called before this request writes anything: in the embedded mode the
    services share one SQLite file, and a write transaction held open across the call
    would lock ingest out of its own write.
    """
    assert group.id is not None
    peer = Peer(
        group_id=group.id,
        client_id=group.client_id,
        name=body.name.strip(),
        website=body.website,
        notes=body.notes,
    )
    seen: set[tuple[str, str]] = set()
    planned: list[PeerAccount] = []
    for acc in body.accounts:
        account = _new_account(peer, acc)
        key = (account.network, account.external_id)
        if key in seen:
            raise Conflict(f"The {account.network} account {account.external_id} is listed twice.")
        seen.add(key)
        planned.append(account)
    for account in planned:
        await _try_register(ingest, token, peer, account)
    session.add(peer)
    await session.flush()
    for account in planned:
        account.peer_id = peer.id or 0
        session.add(account)
    group.updated_at = utcnow()
    session.add(group)
    await session.flush()
    return peer


def _new_account(peer: Peer, body: PeerAccountIn) -> PeerAccount:
    return PeerAccount(
        peer_id=peer.id or 0,
        client_id=peer.client_id,
        network=body.network.value,
        external_id=(body.external_id or body.handle or "").strip(),
        handle=body.handle,
        url=body.url,
    )


async def _try_register(ingest: IngestClient, token: str, peer: Peer, account: PeerAccount) -> None:
    """Register in ingest; when it is down the account is kept unregistered and the next
    benchmark computation registers it (collection then starts that day: no history is
    invented)."""
    try:
        account.ingest_account_id = (await _register(ingest, token, peer, account)).id
    except BackendUnavailable as exc:
        log.warning("ingest registration of a %s account deferred: %s", account.network, exc)


async def update_peer(session: AsyncSession, peer: Peer, body: PeerUpdate) -> None:
    for k, v in body.model_dump(exclude_unset=True).items():
        setattr(peer, k, v)
    session.add(peer)
    await session.flush()


async def delete_peer(session: AsyncSession, peer: Peer) -> None:
    await session.delete(peer)
    await session.flush()


async def add_account(
    session: AsyncSession,
    peer: Peer,
    body: PeerAccountIn,
    ingest: IngestClient,
    token: str,
) -> PeerAccount:
    """Attach an account to a peer; ingest registers it first (see :func:`add_peer`)."""
    assert peer.id is not None
    account = _new_account(peer, body)
    existing = await repo.accounts_of(session, [peer.id])
    if any(a.network == account.network and a.external_id == account.external_id for a in existing):
        raise Conflict(
            f"{peer.name} already has the {account.network} account {account.external_id}."
        )
    await _try_register(ingest, token, peer, account)
    session.add(account)
    await session.flush()
    return account


async def _register(
    ingest: IngestClient, token: str, peer: Peer, account: PeerAccount
) -> AccountPublic:
    return await ingest.register_client_account(
        token,
        peer.client_id,
        AccountCreate(
            owner_kind=OwnerKind.peer,
            owner_ref=peer.ref,
            network=Network(account.network),
            external_id=account.external_id,
            handle=account.handle,
            name=peer.name,
            url=account.url,
        ),
    )


async def delete_account(session: AsyncSession, peer: Peer, account_id: int) -> None:
    account = await session.get(PeerAccount, account_id)
    if account is None or account.peer_id != peer.id:
        raise NotFound(f"No account {account_id} on this peer")
    await session.delete(account)
    await session.flush()


# --------------------------------------------------------------------------- computation


async def compute_result(
    session: AsyncSession,
    group: PeerGroup,
    start: dt.date,
    end: dt.date,
    ingest: IngestClient,
    token: str,
    progress: Progress,
    job_id: str | None = None,
    concurrency: int = 4,
) -> BenchmarkResultRow:
    """Read everything from ingest, compute, and store a new version of the result."""
    assert group.id is not None
    peers = list(await repo.peers_of(session, group.id))
    accounts = list(await repo.accounts_of(session, [p.id for p in peers if p.id is not None]))
    await progress(5, "registering peers' accounts")
    by_peer = {p.id: p for p in peers}
    for acc in accounts:
        if acc.ingest_account_id is None:
            acc.ingest_account_id = (await _register(ingest, token, by_peer[acc.peer_id], acc)).id
            session.add(acc)
    # Used by the job, which owns the session: commit before reporting progress again,
    # since in the embedded mode (one SQLite file) a pending write would lock it out.
    await session.commit()

    await progress(15, "reading the client's accounts")
    registered = await ingest.client_accounts(token, group.client_id)
    social = [
        a for a in registered if a.owner_kind == OwnerKind.client and a.network in SOCIAL_NETWORKS
    ]
    timezones = {a.id: a.timezone for a in registered}
    ids = [a.id for a in social] + [a.ingest_account_id for a in accounts if a.ingest_account_id]
    await progress(25, "reading period statistics")
    stats = {s.account_id: s for s in await ingest.stats(token, ids, start, end)}

    client_owner = compute.Owner("client", [stats[a.id] for a in social if a.id in stats])
    peer_owners = []
    for p in peers:
        mine = [
            stats[a.ingest_account_id]
            for a in accounts
            if a.peer_id == p.id and a.ingest_account_id in stats
        ]
        peer_owners.append(compute.Owner(p.name, mine))
    kpis, notes = compute.kpi_table(client_owner, peer_owners)

    await progress(45, "reading peers' posts")
    posts_in: list[practices.AccountPosts] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def fetch(acc: PeerAccount) -> None:
        assert acc.ingest_account_id is not None
        async with semaphore:
            posts = await ingest.posts(token, acc.ingest_account_id, start, end)
        posts_in.append(
            practices.AccountPosts(
                acc.ingest_account_id,
                by_peer[acc.peer_id].name,
                Network(acc.network),
                timezones.get(acc.ingest_account_id, "America/Toronto"),
                posts,
            )
        )

    await asyncio.gather(*(fetch(a) for a in accounts if a.ingest_account_id))
    posts_in.sort(key=lambda x: x.account_id)  # stable evidence order whatever the timing
    await progress(75, "finding best practices")
    best = practices.analyse(posts_in)
    sources = sorted({src for s in stats.values() for src in s.sources})
    if not peers:
        notes.append("The group has no peers yet.")
    missing = [p.name for p, o in zip(peers, peer_owners, strict=True) if not o.stats]
    if missing:
        notes.append(
            "No data collected yet for: " + ", ".join(missing) + " (collection starts the day "
            "an account is added; history beyond what the platform backfills is not invented)."
        )

    await progress(90, "storing a new version")
    version = await repo.next_version(session, group.id)
    now = utcnow()
    row = BenchmarkResultRow(
        client_id=group.client_id,
        peer_group_id=group.id,
        version=version,
        start=start,
        end=end,
        computed_at=now,
        job_id=job_id,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    result = BenchmarkResultFull(
        id=row.id,
        version=version,
        client_id=group.client_id,
        peer_group_id=group.id,
        start=start,
        end=end,
        computed_at=now,
        kpis=kpis,
        peer_group_name=group.name,
        content_mix=compute.content_mix(client_owner, peer_owners),
        posting_times=compute.posting_times(client_owner, peer_owners),
        best_practices=best,
        notes=notes,
        sources=sources,
    )
    row.payload = result.model_dump(mode="json")
    session.add(row)
    await session.flush()
    return row


def result_model(row: BenchmarkResultRow) -> BenchmarkResultFull:
    return BenchmarkResultFull.model_validate(row.payload)
