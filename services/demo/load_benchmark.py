"""Writes the demo's peers and relays through the benchmark's own services.

Peers and relays are created as the benchmark's API creates them, their accounts
registered in ingest by the benchmark's ingest client (served in-process, see
:mod:`services.demo.inprocess`); the public data the connectors would have collected is
then stored through ingest's store loader, from the day each was added.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benchmark.clients.ingest import IngestClient
from services.benchmark.peers import repository as peer_repo
from services.benchmark.peers import service as peer_service
from services.benchmark.peers.schemas import PeerAccountIn, PeerCreate, PeerGroupCreate
from services.benchmark.relays import repository as relay_repo
from services.benchmark.relays import service as relay_service
from services.benchmark.relays.models import RelationshipStatus, Relay, RelayKind
from services.benchmark.relays.schemas import HistoryIn, RelayAccountIn, RelayCreate
from services.benchmark.scoring import service as scoring_service
from services.demo import load_ingest
from services.demo.generate import Demo
from services.demo.records import DemoAccount
from services.demo.relays import DemoRelay
from shared.schemas.ingest import OwnerKind
from shared.schemas.planner import CoCreator

# The client's editorial keywords, which relevance scoring compares relays' words with.
CLIENT_THEMES = [
    "baleines",
    "fjord",
    "faune marine",
    "plein air",
    "kayak de mer",
    "randonnée",
    "gastronomie",
    "fruits de mer",
    "patrimoine",
    "écotourisme",
    "Côte-Nord",
    "whale watching",
]


@dataclass
class Loaded:
    group_ids: list[int] = field(default_factory=list)
    peers: int = 0
    relays: int = 0
    accounts: int = 0
    daily_rows: int = 0
    posts: int = 0
    post_metrics: int = 0
    cocreators: list[CoCreator] = field(default_factory=list)


async def load(
    session: AsyncSession, client_id: int, demo: Demo, ingest: IngestClient, token: str
) -> Loaded:
    out = Loaded()
    await _peers(session, client_id, demo, ingest, token, out)
    await _store(
        session, client_id, [a for p in demo.peers for a in p.accounts], OwnerKind.peer, out
    )
    relays = await _relays(session, client_id, demo, ingest, token, out)
    await _store(session, None, [a for r in demo.relays for a in r.accounts], OwnerKind.relay, out)
    await scoring_service.set_themes(session, client_id, CLIENT_THEMES)
    by_key = {r.key: r for r in demo.relays}
    for key in demo.shortlist:
        relay, spec = relays[key], by_key[key]
        note = "Co-créatrice de la saison estivale" if spec.status == "co_creator" else None
        await relay_service.shortlist_add(session, client_id, relay, note, "demo")
        if spec.status == "co_creator":
            out.cocreators.append(
                CoCreator(
                    relay_id=relay.id or 0,
                    name=relay.name,
                    networks=[a.ref.network for a in spec.accounts],
                    reason="Déjà co-créateur de contenus avec la Haute-Côte ; thèmes : "
                    + ", ".join(spec.topics),
                    role="Contenus vidéo de la saison des baleines",
                )
            )
    return out


async def _store(
    session: AsyncSession,
    client_id: int | None,
    accounts: list[DemoAccount],
    owner_kind: OwnerKind,
    out: Loaded,
) -> None:
    counts = await load_ingest.store_records(
        session, client_id, load_ingest.account_records(accounts), owner_kind
    )
    out.accounts += len(accounts)
    out.daily_rows += counts.daily_rows
    out.posts += counts.posts_created
    out.post_metrics += counts.post_metrics


async def _peers(
    session: AsyncSession,
    client_id: int,
    demo: Demo,
    ingest: IngestClient,
    token: str,
    out: Loaded,
) -> None:
    by_key = {p.key: p for p in demo.peers}
    for name, description, keys in demo.peer_groups:
        group = await peer_service.create_group(
            session, client_id, PeerGroupCreate(name=name, description=description)
        )
        assert group.id is not None
        out.group_ids.append(group.id)
        for key in keys:
            spec = by_key[key]
            peer = await peer_service.add_peer(
                session,
                group,
                PeerCreate(
                    name=spec.name,
                    website=spec.website,
                    notes=f"{spec.description} Région : {spec.region} ({spec.province}).",
                    accounts=[
                        PeerAccountIn(
                            network=a.ref.network,
                            handle=a.ref.handle,
                            external_id=a.ref.external_id,
                            url=a.url,
                        )
                        for a in spec.accounts
                    ],
                ),
                ingest,
                token,
            )
            rows = await peer_repo.accounts_of(session, [peer.id or 0])
            registered = [(a.network, a.external_id, a.ingest_account_id) for a in rows]
            await _collection_starts(session, spec.accounts, registered)
            out.peers += 1


async def _relays(
    session: AsyncSession,
    client_id: int,
    demo: Demo,
    ingest: IngestClient,
    token: str,
    out: Loaded,
) -> dict[str, Relay]:
    created: dict[str, Relay] = {}
    for spec in demo.relays:
        relay = await relay_service.create(session, _relay_body(spec), ingest, token)
        created[spec.key] = relay
        rows = (await relay_repo.accounts_of(session, [relay.id or 0])).get(relay.id or 0, [])
        registered = [(a.network, a.external_id, a.ingest_account_id) for a in rows]
        await _collection_starts(session, spec.accounts, registered)
        await _history(session, client_id, demo, relay, spec)
        out.relays += 1
    return created


def _relay_body(spec: DemoRelay) -> RelayCreate:
    return RelayCreate(
        name=spec.name,
        kind=RelayKind(spec.category),
        language=spec.language,
        region=spec.region,
        bio=spec.bio,
        status=RelationshipStatus(spec.status),
        notes=spec.notes or None,
        topics=list(spec.topics),
        accounts=[
            RelayAccountIn(
                network=a.ref.network,
                handle=a.ref.handle or a.ref.external_id,
                external_id=a.ref.external_id,
                url=a.url,
            )
            for a in spec.accounts
        ],
    )


Registered = Sequence[tuple[str, str | None, int | None]]  # network, external id, ingest id


async def _collection_starts(
    session: AsyncSession, accounts: list[DemoAccount], registered: Registered
) -> None:
    """Collection of a registered account starts the day the demo says it was added."""
    ids = {(network, external_id): account_id for network, external_id, account_id in registered}
    for account in accounts:
        account_id = ids.get((account.network, account.ref.external_id))
        if account_id is None:
            raise RuntimeError(f"{account.network} {account.ref.external_id} was not registered")
        await load_ingest.set_collection_start(
            session, account_id, account.collected_from, account.timezone
        )


async def _history(
    session: AsyncSession, client_id: int, demo: Demo, relay: Relay, spec: DemoRelay
) -> None:
    if not spec.relays:
        return
    own = {a.network: a for a in demo.client.accounts}
    for event in spec.relays:
        account = own[event.network]
        post_id, permalink = await load_ingest.client_post(
            session, client_id, account.ref, event.client_post
        )
        await relay_service.add_history(
            session,
            relay,
            HistoryIn(
                client_id=client_id,
                relayed_on=event.relayed_on,
                client_post_id=post_id,
                client_post_url=permalink,
                network=account.ref.network,
                amplification=event.amplification,
                amplification_metric="reach" if event.amplification is not None else None,
                amplification_source="reach of the relay's share, reported by the relay (demo)"
                if event.amplification is not None
                else None,
            ),
        )


async def warm_up(
    engine: AsyncEngine, ingest: IngestClient, token: str, group_ids: list[int], end: dt.date
) -> dict[str, Any]:
    """Compute each group's benchmark over the last 90 days and score the directory, as
    the benchmark's jobs do (they commit as they go)."""
    from services.benchmark.peers.models import PeerGroup
    from shared.db import create_sessionmaker

    async def quiet(_pct: float, _message: str) -> None:
        return None

    versions = []
    async with create_sessionmaker(engine)() as session:
        for group_id in group_ids:
            group = await session.get(PeerGroup, group_id)
            assert group is not None
            start = end - dt.timedelta(days=89)
            row = await peer_service.compute_result(
                session, group, start, end, ingest, token, quiet
            )
            await session.commit()
            versions.append(row.id)
        run = await scoring_service.rescore(session, ingest, token, quiet, as_of=end)
        await session.commit()
    return {"benchmark_result_ids": versions, "scoring_run_id": run.id}
