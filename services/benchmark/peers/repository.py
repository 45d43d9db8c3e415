"""Queries of peer groups, peers and results (every one scoped by client)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benchmark.peers.models import BenchmarkResultRow, Peer, PeerAccount, PeerGroup


async def groups_of(session: AsyncSession, client_id: int) -> Sequence[PeerGroup]:
    q = select(PeerGroup).where(PeerGroup.client_id == client_id).order_by(col(PeerGroup.name))
    return (await session.exec(q)).all()


async def peer_counts(session: AsyncSession, group_ids: Sequence[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    q = (
        select(Peer.group_id, func.count())
        .where(col(Peer.group_id).in_(group_ids))
        .group_by(col(Peer.group_id))
    )
    return {int(g): int(n) for g, n in (await session.exec(q)).all()}


async def latest_results(
    session: AsyncSession, group_ids: Sequence[int]
) -> dict[int, BenchmarkResultRow]:
    if not group_ids:
        return {}
    newest = (
        select(BenchmarkResultRow.peer_group_id, func.max(BenchmarkResultRow.version).label("v"))
        .where(col(BenchmarkResultRow.peer_group_id).in_(group_ids))
        .group_by(col(BenchmarkResultRow.peer_group_id))
        .subquery()
    )
    q = select(BenchmarkResultRow).join(
        newest,
        (col(BenchmarkResultRow.peer_group_id) == newest.c.peer_group_id)
        & (col(BenchmarkResultRow.version) == newest.c.v),
    )
    return {r.peer_group_id: r for r in (await session.exec(q)).all()}


async def peers_of(session: AsyncSession, group_id: int) -> Sequence[Peer]:
    q = select(Peer).where(Peer.group_id == group_id).order_by(col(Peer.name), col(Peer.id))
    return (await session.exec(q)).all()


async def accounts_of(session: AsyncSession, peer_ids: Sequence[int]) -> Sequence[PeerAccount]:
    if not peer_ids:
        return []
    q = (
        select(PeerAccount)
        .where(col(PeerAccount.peer_id).in_(peer_ids))
        .order_by(col(PeerAccount.network), col(PeerAccount.id))
    )
    return (await session.exec(q)).all()


async def results_of(session: AsyncSession, group_id: int) -> Sequence[BenchmarkResultRow]:
    q = (
        select(BenchmarkResultRow)
        .where(BenchmarkResultRow.peer_group_id == group_id)
        .order_by(col(BenchmarkResultRow.version).desc())
    )
    return (await session.exec(q)).all()


async def next_version(session: AsyncSession, group_id: int) -> int:
    q = select(func.max(BenchmarkResultRow.version)).where(
        BenchmarkResultRow.peer_group_id == group_id
    )
    current = (await session.exec(q)).one()
    return int(current or 0) + 1


async def client_results(session: AsyncSession, client_id: int) -> Sequence[BenchmarkResultRow]:
    """Every result of every group of a client, newest computation first."""
    q = (
        select(BenchmarkResultRow)
        .where(BenchmarkResultRow.client_id == client_id)
        .order_by(col(BenchmarkResultRow.computed_at).desc(), col(BenchmarkResultRow.id).desc())
    )
    return (await session.exec(q)).all()
