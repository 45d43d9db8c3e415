"""Loads the demo agency: its staff, its client, and (through each service) its data.

Everything is written in one transaction on the shared database, each service's part
through that service's own functions: web's clients and users, ingest's account service
and store loader, the benchmark's peer groups, peers and relays (their accounts registered
in ingest by the benchmark's own ingest client), the planner's draft plan. A failure
leaves the database as it was (``balise demo`` refuses a non-empty one).

Then, as the running services would in their jobs, the peer benchmark is computed and the
relays are scored, so that the pages open on numbers. Those two commit on their own; if
one fails the demo stays loaded and the summary says what to run again.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from services.demo.generate import Demo, generate

DEMO_CLIENT = {
    "name": "Tourisme Haute-Côte (démo)",
    "slug": "tourisme-haute-cote",
    "locale": "fr_CA",
}
DEMO_STAFF = [
    ("admin@demo.balise", "Alex Admin", "admin"),
    ("strategiste@demo.balise", "Camille Stratège", "strategist"),
    ("animation@demo.balise", "Jordan Animation", "community_manager"),
    ("client@demo.balise", "Sam Client", "client_viewer"),
]


class _Laps:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._clock = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._clock, 2)
        self._clock = now


async def load_all(
    database_url: str | None = None, demo: Demo | None = None, *, warm_up: bool = True
) -> dict[str, Any]:
    """Generate the demo and load it into the database at ``database_url`` (default: the
    configured ``DATABASE_URL``), whose schema must be at head. Returns what was loaded,
    with the time each part took."""
    from services.web.config import WebSettings
    from shared.db import check_schema, create_engine, create_sessionmaker

    lap = _Laps()
    # The demo ends yesterday, so its default audit period (the last 90 days) always
    # has data; for a given end date the generation is identical on every machine.
    demo = demo or generate(end=dt.date.today() - dt.timedelta(days=1))
    lap("generate")
    engine = create_engine(database_url or WebSettings().database_url)
    try:
        await check_schema(engine)
        async with create_sessionmaker(engine)() as session:
            summary = await load_into(session, engine, demo, lap)
            await session.commit()
            lap("commit")
        if warm_up:
            summary.update(await _warm_up(engine, summary, demo))
            lap("benchmark_and_scores")
    finally:
        await engine.dispose()
    summary["seconds"] = lap.seconds
    return summary


async def load_into(
    session: AsyncSession, engine: AsyncEngine, demo: Demo, lap: _Laps | None = None
) -> dict[str, Any]:
    """Load ``demo`` in ``session``'s transaction (the caller commits); ``engine`` is the
    session's, on which the in-process ingest app serves the benchmark."""
    from services.demo import load_benchmark, load_ingest, load_planner
    from services.demo.inprocess import ingest_client
    from services.demo.plan import plan_draft

    lap = lap or _Laps()
    lap("imports")
    client_id = await _web_part(session)
    lap("web")
    summary: dict[str, Any] = {"client_id": client_id, "users": len(DEMO_STAFF)}
    summary.update(await load_ingest.load_client(session, client_id, demo))
    lap("ingest")
    async with ingest_client(engine, [client_id], session) as (ingest, token):
        bench = await load_benchmark.load(session, client_id, demo, ingest, token)
    summary.update(
        peer_group_ids=bench.group_ids,
        peers=bench.peers,
        relays=bench.relays,
        public_accounts=bench.accounts,
        public_daily_rows=bench.daily_rows,
        public_posts=bench.posts,
        public_post_metrics=bench.post_metrics,
    )
    lap("benchmark")
    draft = plan_draft(demo.end)
    summary["plan_id"] = await load_planner.draft_plan(session, client_id, draft, bench.cocreators)
    lap("planner")
    return summary


async def _web_part(session: AsyncSession) -> int:
    from services.cli import DEMO_PASSWORD
    from services.web import service as web_service

    client = await web_service.create_client(session, **DEMO_CLIENT)
    assert client.id is not None
    for email, name, role in DEMO_STAFF:
        await web_service.create_user(
            session,
            email=email,
            name=name,
            password=DEMO_PASSWORD,
            role=role,
            client_ids=[] if role == "admin" else [client.id],
        )
    return client.id


async def _warm_up(engine: AsyncEngine, summary: dict[str, Any], demo: Demo) -> dict[str, Any]:
    from services.demo import load_benchmark
    from services.demo.inprocess import ingest_client

    client_id = summary["client_id"]
    try:
        async with ingest_client(engine, [client_id]) as (ingest, token):
            return await load_benchmark.warm_up(
                engine, ingest, token, summary["peer_group_ids"], demo.end
            )
    except Exception as exc:  # the demo is loaded; say what is missing
        return {
            "warm_up_error": f"{type(exc).__name__}: {exc}. The demo is loaded; compute the "
            "peer benchmark and rescore the relays from their pages."
        }
