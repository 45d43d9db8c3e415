"""Suggestions for a plan of 5 audiences × 4 objectives, with their HTTP calls (< 1 s p50).

The real ingest, benchmark and planner apps run in-process (httpx over ASGI) on one
migrated SQLite database holding 90 days of daily metrics for the client's six accounts.
The figure is the p50 of `GET /v1/versions/{id}/suggestions` (one baselines call, the
accounts, their stats and the two benchmark calls, then the composition); the baseline,
measured in the same run, is the ingest baselines call alone, the largest piece of it.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import Figure

SECRET = "bench-secret-key-0123456789-0123456789-0123456789"
CLIENT = 1
NETWORKS = ("facebook", "instagram", "linkedin", "x", "youtube", "tiktok")
RUNS = 15


async def _seed(engine: Any) -> None:
    from services.ingest.store.models import Account, DailyMetric
    from shared.db import create_sessionmaker

    today = dt.date.today()
    async with create_sessionmaker(engine)() as s:
        for i, net in enumerate(NETWORKS):
            a = Account(
                client_id=CLIENT,
                scope_key=str(CLIENT),
                owner_kind="client",
                network=net,
                external_id=f"acct-{net}",
                name=f"Client on {net}",
            )
            s.add(a)
            await s.flush()
            for d in range(120):
                day = today - dt.timedelta(days=120 - d)
                for metric, value in (
                    ("followers", 1000 * (i + 1) + d * 3),
                    ("engagements", 40 + (d % 7) * 5),
                    ("reach", 2000 + (d % 5) * 100),
                    ("impressions", 3000 + (d % 3) * 50),
                ):
                    s.add(DailyMetric(account_id=a.id or 0, metric=metric, day=day, value=value))
        await s.commit()


async def _run(url: str, tmp: str) -> list[Figure]:
    from services.benchmark.app import create_app as benchmark_app
    from services.benchmark.config import BenchmarkSettings
    from services.ingest.app import create_app as ingest_app
    from services.ingest.config import IngestSettings
    from services.planner.app import create_app as planner_app
    from services.planner.config import PlannerSettings
    from shared.auth import mint_service_token
    from shared.db import create_engine

    if True:
        engine = create_engine(url)
        await _seed(engine)
        common = {"database_url": url, "secret_key": SECRET, "var_dir": Path(tmp), "redis_url": ""}
        ingest = ingest_app(IngestSettings(**common, log_level="WARNING"), engine=engine)
        bench_app = benchmark_app(BenchmarkSettings(**common, log_level="WARNING"), engine=engine)
        planner = planner_app(
            PlannerSettings(**common, log_level="WARNING"),
            engine=engine,
            transports={
                "ingest": httpx.ASGITransport(app=ingest),
                "benchmark": httpx.ASGITransport(app=bench_app),
            },
        )
        token = mint_service_token(
            SECRET, subject="1", kind="user", role="strategist", client_ids=[CLIENT], ttl=3600
        )
        h = {"Authorization": f"Bearer {token}"}
        async with (
            ingest.router.lifespan_context(ingest),
            bench_app.router.lifespan_context(bench_app),
            planner.router.lifespan_context(planner),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=planner), base_url="http://p") as p,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=ingest), base_url="http://i") as i,
        ):
            today = dt.date.today()
            r = await p.post(
                "/v1/plans",
                json={
                    "client_id": CLIENT,
                    "name": "Bench",
                    "period_start": today.isoformat(),
                    "period_end": (today + dt.timedelta(days=365)).isoformat(),
                },
                headers=h,
            )
            vid = r.json()["versions"][0]["id"]
            kpis = ("followers", "engagement_rate_by_follower", "reach", "engagements")
            for a in range(5):
                r = await p.post(
                    f"/v1/versions/{vid}/audiences",
                    json={"name": f"Audience {a}", "age_bands": ["25-34"], "region": "QC"},
                    headers=h,
                )
                aid = r.json()["document"]["audiences"][-1]["id"]
                for k, kpi in enumerate(kpis):
                    r = await p.post(
                        f"/v1/versions/{vid}/objectives",
                        json={
                            "audience_id": aid,
                            "kind": "engagement",
                            "kpi": kpi,
                            "network": NETWORKS[(a + k) % len(NETWORKS)],
                        },
                        headers=h,
                    )
                    assert r.status_code == 201, r.text
            start = (today - dt.timedelta(days=90)).isoformat()
            end = (today - dt.timedelta(days=1)).isoformat()

            async def timed(fn: Any) -> float:
                t0 = time.perf_counter()
                await fn()
                return (time.perf_counter() - t0) * 1000

            async def suggestions() -> None:
                r = await p.get(f"/v1/versions/{vid}/suggestions", headers=h)
                assert r.status_code == 200, r.text
                body = r.json()
                assert len(body["targets"]) == 20 and len(body["baselines"]) > 0

            async def baselines() -> None:
                r = await i.get(
                    f"/v1/clients/{CLIENT}/baselines",
                    params={"start": start, "end": end},
                    headers=h,
                )
                assert r.status_code == 200

            await suggestions()
            await baselines()
            sug = [await timed(suggestions) for _ in range(RUNS)]
            base = [await timed(baselines) for _ in range(RUNS)]
        await engine.dispose()
    return [
        Figure(
            name="plan_suggestions_p50",
            value=round(statistics.median(sug), 1),
            unit="ms",
            baseline=round(statistics.median(base), 1),
            target="<=1000ms",
            note=f"5 audiences × 4 objectives, 6 accounts × 120 days; {RUNS} runs; baseline = "
            "the ingest baselines call alone",
        )
    ]


def run() -> list[Figure]:
    import asyncio

    from alembic import command

    from shared.db import alembic_config

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        command.upgrade(alembic_config(url), "head")  # before the loop: env.py runs its own
        return asyncio.run(_run(url, tmp))
