"""Rules of scoring: the agency's settings, clients' themes, and a rescoring run."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benchmark import reference
from services.benchmark.clients.ingest import IngestClient
from services.benchmark.relays import service as relay_service
from services.benchmark.relays.models import Relay, RelayAccount, RelayTopic
from services.benchmark.scoring import engine as E
from services.benchmark.scoring import explain, inputs
from services.benchmark.scoring.models import (
    ClientThemes,
    RelayRelevance,
    RelayScore,
    ScoringRun,
    ScoringSettings,
)
from services.benchmark.scoring.text import Relevance
from shared.clock import utcnow
from shared.errors import Invalid

log = logging.getLogger("balise.benchmark.scoring")

Progress = Callable[[float, str], Awaitable[None]]
WRITE_BATCH = 5000


async def get_settings(session: AsyncSession) -> ScoringSettings:
    row = await session.get(ScoringSettings, 1)
    if row is None:
        row = ScoringSettings(id=1, weights=dict(E.DEFAULT_WEIGHTS))
        session.add(row)
        await session.flush()
    return row


def check_weights(weights: dict[str, float]) -> dict[str, float]:
    unknown = sorted(set(weights) - set(E.COMPONENTS))
    if unknown:
        raise Invalid(f"Unknown component(s): {', '.join(unknown)}.", field="weights")
    if any(w < 0 for w in weights.values()):
        raise Invalid("Weights are zero or more.", field="weights")
    if sum(weights.values()) <= 0:
        raise Invalid("At least one weight must be above zero.", field="weights")
    return {k: float(weights.get(k, 0.0)) for k in E.COMPONENTS}


async def update_settings(
    session: AsyncSession,
    weights: dict[str, float] | None,
    tier_scheme: str | None,
    by: str,
) -> ScoringSettings:
    row = await get_settings(session)
    if weights is not None:
        row.weights = check_weights(weights)
    if tier_scheme is not None:
        if tier_scheme not in reference.tier_schemes():
            raise Invalid(
                f"Unknown tier scheme {tier_scheme!r}; known: "
                f"{', '.join(reference.tier_schemes())}.",
                field="tier_scheme",
            )
        row.tier_scheme = tier_scheme
    row.version += 1
    row.updated_by = by
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    return row


async def get_themes(session: AsyncSession, client_id: int) -> list[str]:
    row = await session.get(ClientThemes, client_id)
    return list(row.keywords) if row else []


async def set_themes(session: AsyncSession, client_id: int, keywords: list[str]) -> list[str]:
    clean: list[str] = []
    for k in keywords:
        k = " ".join(k.split())
        if k and k.casefold() not in {c.casefold() for c in clean}:
            clean.append(k[:100])
    row = await session.get(ClientThemes, client_id)
    if row is None:
        row = ClientThemes(client_id=client_id, keywords=clean)
    row.keywords = clean
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    return clean


# --------------------------------------------------------------------------- a run


async def rescore(
    session: AsyncSession,
    ingest: IngestClient,
    token: str,
    progress: Progress,
    *,
    as_of: dt.date | None = None,
    job_id: str | None = None,
) -> ScoringRun:
    """Score every relay, then every client's relevance; store one versioned run.

    Used by the rescoring job, which owns ``session``: this function commits between its
    phases. Progress is reported only while no write is pending, and ingest is called
    only then: in the embedded mode every service shares one SQLite file, and a write
    transaction held open would lock out the progress updates and ingest's own writes.
    """
    await progress(2, "reading the directory")
    relays = list((await session.exec(select(Relay).order_by(col(Relay.id)))).all())
    index = {r.id: i for i, r in enumerate(relays)}
    accounts = list((await session.exec(select(RelayAccount))).all())
    for a in accounts:
        if a.ingest_account_id is None:
            await relay_service.register(ingest, token, relays[index[a.relay_id]], a)
            session.add(a)
    settings = await get_settings(session)
    await session.commit()
    as_of = as_of or (utcnow().date() - dt.timedelta(days=1))
    known = [a for a in accounts if a.ingest_account_id is not None]
    table = E.AccountTable.build(
        [(a.ingest_account_id or 0, index[a.relay_id], a.network) for a in known], len(relays)
    )
    themes = {
        c.client_id: list(c.keywords)
        for c in (await session.exec(select(ClientThemes))).all()
        if c.keywords
    }
    await progress(10, f"reading {table.n} accounts from ingest")
    data = await inputs.read(ingest, token, table, as_of, texts=bool(themes))
    await progress(55, "scoring")
    scores = E.score(
        table,
        data.facts,
        as_of=inputs.epoch(as_of),
        tier_scheme=settings.tier_scheme,
        weights={k: v for k, v in settings.weights.items() if k != "relevance"},
    )
    await progress(65, f"writing the scores and the relevance for {len(themes)} client(s)")
    run = ScoringRun(
        settings_version=settings.version,
        weights=dict(settings.weights),
        tier_scheme=settings.tier_scheme,
        window_start=as_of - dt.timedelta(days=E.WINDOW_DAYS - 1),
        window_end=as_of,
        job_id=job_id,
        relays=len(relays),
        data_path=data.path,
        rate_method=data.rate_method,
        notes=data.notes,
    )
    session.add(run)
    await session.flush()
    assert run.id is not None
    now = utcnow()
    await _write_scores(session, relays, scores, run, now)
    if themes:
        await _relevance(session, relays, scores, themes, data, known, run, settings, now)
    run.finished_at = utcnow()
    session.add(run)
    await session.commit()
    await progress(98, f"scored {len(relays)} relays")
    return run


async def _write_scores(
    session: AsyncSession,
    relays: list[Relay],
    s: E.Scores,
    run: ScoringRun,
    now: dt.datetime,
) -> None:
    conn = await session.connection()
    ids = [r.id for r in relays]
    for i in range(0, len(ids), WRITE_BATCH):
        await conn.execute(
            delete(RelayScore).where(col(RelayScore.relay_id).in_(ids[i : i + WRITE_BATCH]))
        )
    score_rows: list[dict[str, Any]] = []
    relay_rows: list[dict[str, Any]] = []
    compact = explain.compact_all(s)
    for i, r in enumerate(relays):
        score_rows.append(
            {
                "relay_id": r.id,
                "run_id": run.id,
                "composite": E.finite_or_none(s.composite[i]),
                "reach": E.finite_or_none(s.reach[i]),
                "resonance": E.finite_or_none(s.resonance[i]),
                "authenticity": E.finite_or_none(s.authenticity[i]),
                "activity": E.finite_or_none(s.activity[i]),
                "components": compact[i],
                "computed_at": now,
            }
        )
        tier = int(s.tier[i])
        relay_rows.append(
            {
                "rid": r.id,
                "followers": E.finite_or_none(s.followers[i]),
                "tier": E.TIERS[tier] if tier >= 0 else None,
                "composite": E.finite_or_none(s.composite[i]),
                "scored_run_id": run.id,
            }
        )
    for i in range(0, len(score_rows), WRITE_BATCH):
        await conn.execute(insert(RelayScore), score_rows[i : i + WRITE_BATCH])
    table = Relay.__table__  # type: ignore[attr-defined]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("rid"))
        .values(
            followers=bindparam("followers"),
            tier=bindparam("tier"),
            composite=bindparam("composite"),
            scored_run_id=bindparam("scored_run_id"),
        )
    )
    for i in range(0, len(relay_rows), WRITE_BATCH):
        await conn.execute(stmt, relay_rows[i : i + WRITE_BATCH])
    # Keep the loaded objects in step with the rows just written (without a reload).
    for r, values in zip(relays, relay_rows, strict=True):
        for name in ("followers", "tier", "composite", "scored_run_id"):
            set_committed_value(r, name, values[name])


async def _relevance(
    session: AsyncSession,
    relays: list[Relay],
    s: E.Scores,
    themes: dict[int, list[str]],
    data: inputs.Inputs,
    accounts: list[RelayAccount],
    run: ScoringRun,
    settings: ScoringSettings,
    now: dt.datetime,
) -> None:
    topics: dict[int, list[str]] = {}
    for rid, topic in (await session.exec(select(RelayTopic.relay_id, RelayTopic.topic))).all():
        topics.setdefault(rid, []).append(topic)
    texts: dict[int, list[str]] = {}
    for a in accounts:
        texts.setdefault(a.relay_id, []).extend(data.texts.get(a.ingest_account_id or 0, []))
    docs = []
    for r in relays:
        rid = r.id or 0
        docs.append(" ".join([r.bio or "", " ".join(topics.get(rid, [])), *texts.get(rid, [])]))
    corpus = Relevance.fit(docs)
    weights = dict(settings.weights)
    conn = await session.connection()
    for client_id, keywords in themes.items():
        matches = corpus.query(keywords)
        rel = np.array([np.nan if m is None else m.score for m in matches])
        comp = E.composite(
            {
                "reach": s.reach,
                "resonance": s.resonance,
                "authenticity": s.authenticity,
                "activity": s.activity,
                "relevance": rel,
            },
            weights,
        )
        await conn.execute(delete(RelayRelevance).where(col(RelayRelevance.client_id) == client_id))
        rows = []
        for i, r in enumerate(relays):
            m = matches[i]
            rows.append(
                {
                    "client_id": client_id,
                    "relay_id": r.id,
                    "run_id": run.id,
                    "score": None if m is None else m.score,
                    "composite": E.finite_or_none(comp[i]),
                    "detail": {
                        "keywords": keywords,
                        "matched": [] if m is None else [list(x) for x in m.matched],
                        "cosine": None if m is None else m.cosine,
                        "rule": "100 × cosine similarity of TF-IDF vectors (French and English "
                        "stems, accents folded) between the client's keywords and the relay's "
                        "bio, topics and recent posts",
                        "not_scored": "no bio, topic or post text" if m is None else None,
                    },
                    "computed_at": now,
                }
            )
        for i in range(0, len(rows), WRITE_BATCH):
            await conn.execute(insert(RelayRelevance), rows[i : i + WRITE_BATCH])
