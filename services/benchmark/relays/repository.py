"""Queries of the relay directory: search with filters and sorting, and related rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, union, union_all
from sqlalchemy.sql import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benchmark.relays.matching import handle_key
from services.benchmark.relays.models import (
    DuplicateDismissal,
    Relay,
    RelayAccount,
    RelayHistory,
    RelayTopic,
    Shortlist,
)
from services.benchmark.scoring.models import RelayRelevance, RelayScore


@dataclass
class Filters:
    q: str | None = None
    topics: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    ids: list[int] | None = None
    shortlisted_for: int | None = None


@dataclass(slots=True)
class RelayLine:
    """A relay as a page of results shows and exports it (no explanation, no history)."""

    id: int
    name: str
    kind: str
    language: str | None
    region: str | None
    status: str
    followers: float | None
    tier: str | None
    composite: float | None
    updated_at: dt.datetime
    email: str | None
    bio: str | None
    notes: str | None


@dataclass(slots=True)
class ScoreLine:
    reach: float | None
    resonance: float | None
    authenticity: float | None
    activity: float | None


@dataclass(slots=True)
class RelevanceLine:
    score: float | None
    composite: float | None


@dataclass
class Row:
    relay: Relay | RelayLine
    score: RelayScore | ScoreLine | None
    relevance: RelayRelevance | RelevanceLine | None


_RELAY_COLS = [getattr(Relay, f) for f in RelayLine.__slots__]
_SCORE_COLS = [getattr(RelayScore, f) for f in ScoreLine.__slots__]
_RELEVANCE_COLS = [RelayRelevance.score, RelayRelevance.composite]


def _conditions(f: Filters, client_id: int | None) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if f.q:
        like = f"%{f.q.strip().casefold()}%"
        # One id list per place the text may be, each a scan its own (trigram) index
        # serves on PostgreSQL (migration 0003); an OR over the three would scan every
        # relay.
        matching: Any = union(
            select(Relay.id).where(func.lower(col(Relay.name)).like(like)),
            select(Relay.id).where(func.lower(col(Relay.bio)).like(like)),
            select(RelayAccount.relay_id).where(
                col(RelayAccount.handle_key).like(f"%{handle_key(f.q)}%")
            ),
        )
        conds.append(col(Relay.id).in_(matching))
    if f.topics:
        conds.append(
            exists().where(
                col(RelayTopic.relay_id) == col(Relay.id),
                col(RelayTopic.topic).in_([t.casefold() for t in f.topics]),
            )
        )
    if f.networks:
        conds.append(
            exists().where(
                col(RelayAccount.relay_id) == col(Relay.id),
                col(RelayAccount.network).in_(f.networks),
            )
        )
    if f.tiers:
        conds.append(col(Relay.tier).in_(f.tiers))
    if f.languages:
        conds.append(or_(*(col(Relay.language).like(f"%{lang}%") for lang in f.languages)))
    if f.regions:
        conds.append(func.lower(col(Relay.region)).in_([r.casefold() for r in f.regions]))
    if f.statuses:
        conds.append(col(Relay.status).in_(f.statuses))
    if f.ids is not None:
        conds.append(col(Relay.id).in_(f.ids))
    if f.shortlisted_for is not None:
        conds.append(
            exists().where(
                col(Shortlist.relay_id) == col(Relay.id),
                col(Shortlist.client_id) == f.shortlisted_for,
            )
        )
    for name, (lo, hi) in f.ranges.items():
        c = score_column(name, client_id)
        if lo is not None:
            conds.append(c >= lo)
        if hi is not None:
            conds.append(c <= hi)
    return conds


def score_column(name: str, client_id: int | None) -> Any:
    if name == "composite":
        if client_id is not None:
            return func.coalesce(col(RelayRelevance.composite), col(Relay.composite))
        return col(Relay.composite)
    if name == "relevance":
        return col(RelayRelevance.score)
    if name == "followers":
        return col(Relay.followers)
    if name == "name":
        return func.lower(col(Relay.name))
    if name == "updated_at":
        return col(Relay.updated_at)
    return getattr(RelayScore, name)


async def search(
    session: AsyncSession,
    f: Filters,
    *,
    client_id: int | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[list[Row], int]:
    # Plain columns, not ORM objects: a page of 50 relays built ~300 mapped instances, most
    # of the search's time.
    base = (
        select(  # type: ignore[call-overload]
            *_RELAY_COLS,
            RelayScore.relay_id.label("scored"),  # type: ignore[attr-defined]
            *_SCORE_COLS,
            RelayRelevance.relay_id.label("related"),  # type: ignore[attr-defined]
            *_RELEVANCE_COLS,
        )
        .outerjoin(RelayScore, col(RelayScore.relay_id) == col(Relay.id))
        .outerjoin(
            RelayRelevance,
            and_(
                col(RelayRelevance.relay_id) == col(Relay.id),
                col(RelayRelevance.client_id) == (client_id if client_id is not None else -1),
            ),
        )
    )
    conds = _conditions(f, client_id)
    if conds:
        base = base.where(and_(*conds))
    total_q = select(func.count()).select_from(base.subquery())
    total = int((await session.exec(total_q)).one())
    key = score_column(sort, client_id)
    # Missing scores go last whichever the direction: "no data" is never ranked as 0.
    order = [key.is_(None), key.desc() if descending else key.asc(), col(Relay.id).asc()]
    q = base.order_by(*order).offset(offset).limit(limit)
    n, m = len(_RELAY_COLS), len(_SCORE_COLS)
    out = []
    for r in (await session.exec(q)).all():
        relay = RelayLine(*r[:n])
        score = ScoreLine(*r[n + 1 : n + 1 + m]) if r[n] is not None else None
        rel = RelevanceLine(*r[n + 2 + m :]) if r[n + 1 + m] is not None else None
        out.append(Row(relay, score, rel))
    return out, total


async def topics_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    if ids:
        q = (
            select(RelayTopic.relay_id, RelayTopic.topic)
            .where(col(RelayTopic.relay_id).in_(ids))
            .order_by(col(RelayTopic.topic))
        )
        for rid, topic in (await session.exec(q)).all():
            out[rid].append(topic)
    return out


async def accounts_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[RelayAccount]]:
    out: dict[int, list[RelayAccount]] = defaultdict(list)
    if ids:
        q = (
            select(RelayAccount)
            .where(col(RelayAccount.relay_id).in_(ids))
            .order_by(col(RelayAccount.network), col(RelayAccount.id))
        )
        for a in (await session.exec(q)).all():
            out[a.relay_id].append(a)
    return out


@dataclass
class PageFacts:
    """What a page of results shows beside each relay's own columns."""

    topics: dict[int, list[str]]
    networks: dict[int, set[str]]
    shortlisted: set[int]


async def page_facts(session: AsyncSession, ids: Sequence[int], client_id: int | None) -> PageFacts:
    """The topics, networks and (for a client) shortlist marks of relays ``ids``, in one
    round trip: a page of results used to send three queries for them."""
    facts = PageFacts(defaultdict(list), defaultdict(set), set())
    if not ids:
        return facts
    page = select(col(Relay.id).label("id")).where(col(Relay.id).in_(ids)).cte("page")
    topic, network = col(RelayTopic.topic), col(RelayAccount.network)
    parts: list[Any] = [
        select(literal(0).label("kind"), col(RelayTopic.relay_id), topic.label("value")).join(
            page, page.c.id == col(RelayTopic.relay_id)
        ),
        select(literal(1), col(RelayAccount.relay_id), network).join(
            page, page.c.id == col(RelayAccount.relay_id)
        ),
    ]
    if client_id is not None:
        parts.append(
            select(literal(2), col(Shortlist.relay_id), literal(""))
            .join(page, page.c.id == col(Shortlist.relay_id))
            .where(col(Shortlist.client_id) == client_id)
        )
    for kind, rid, value in (await session.exec(union_all(*parts))).all():  # type: ignore[call-overload]
        if kind == 0:
            facts.topics[rid].append(value)
        elif kind == 1:
            facts.networks[rid].add(value)
        else:
            facts.shortlisted.add(int(rid))
    for topics in facts.topics.values():
        topics.sort()
    return facts


async def history_of(session: AsyncSession, relay_id: int, clients: Sequence[int] | None):
    q = select(RelayHistory).where(RelayHistory.relay_id == relay_id)
    if clients is not None:
        q = q.where(col(RelayHistory.client_id).in_(clients))
    q = q.order_by(col(RelayHistory.relayed_on).desc(), col(RelayHistory.id).desc())
    return (await session.exec(q)).all()


async def account_by_handle(session: AsyncSession, network: str, key: str) -> RelayAccount | None:
    q = select(RelayAccount).where(RelayAccount.network == network, RelayAccount.handle_key == key)
    return (await session.exec(q)).first()


async def all_candidates(session: AsyncSession) -> list[tuple[int, str, list[str], set[str]]]:
    """Every relay's id, name, aliases and handle keys (for duplicate detection)."""
    relays = (await session.exec(select(Relay.id, Relay.name, Relay.aliases))).all()
    handles: dict[int, set[str]] = defaultdict(set)
    for rid, key in (
        await session.exec(select(RelayAccount.relay_id, RelayAccount.handle_key))
    ).all():
        handles[rid].add(key)
    return [
        (int(r[0] or 0), r[1], list(r[2] or []), handles.get(int(r[0] or 0), set())) for r in relays
    ]


async def dismissed_pairs(session: AsyncSession) -> list[tuple[int, int]]:
    rows = (await session.exec(select(DuplicateDismissal.low_id, DuplicateDismissal.high_id))).all()
    return [(int(a), int(b)) for a, b in rows]
