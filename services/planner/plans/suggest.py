"""Compose the builder's suggestions: baselines, targets, networks, phases, co-creators.

The numbers are gathered over HTTP in one fan-out (ingest: a baseline per objective, the
accounts and their stats for the time slots; benchmark: the latest peer benchmark and the
co-creator candidates), then composed by the pure functions of ``compute``. A backend that
fails degrades its part (listed in ``degraded``), never the whole answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from services.planner.clients.benchmark import BenchmarkClient
from services.planner.clients.ingest import IngestClient
from services.planner.compute import kpis as kpi_catalogue
from services.planner.compute import networks, phases, slots, targets
from services.planner.plans.models import Plan
from services.planner.plans.service import horizon
from shared.clock import utcnow
from shared.http import BackendError
from shared.schemas.benchmark import BenchmarkResult, CoCreatorCandidate, KpiDistribution
from shared.schemas.ingest import AccountStats, Baseline, OwnerKind
from shared.schemas.planner import (
    BaselineValue,
    CoCreator,
    Objective,
    PlanDocument,
    Suggestions,
)

T = TypeVar("T")


@dataclass
class Gathered:
    baselines: dict[str, Baseline | None] = field(default_factory=dict)
    benchmark: BenchmarkResult | None = None
    cocreators: list[CoCreatorCandidate] = field(default_factory=list)
    stats: list[AccountStats] = field(default_factory=list)
    client_accounts: set[int] = field(default_factory=set)
    degraded: list[str] = field(default_factory=list)


def baseline_window(
    plan: Plan, doc: PlanDocument, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The window a baseline is measured on: the N days before the plan (or before today)."""
    today = today or utcnow().date()
    end = min(today, plan.period_start) - dt.timedelta(days=1)
    return end - dt.timedelta(days=doc.baseline_window_days - 1), end


async def _safe(degraded: list[str], what: str, call: Awaitable[T], default: T) -> T:
    try:
        return await call
    except BackendError as exc:
        degraded.append(f"{exc.service}: {what}: {exc}")
        return default


async def gather(
    ingest: IngestClient,
    benchmark: BenchmarkClient,
    token: str,
    plan: Plan,
    doc: PlanDocument,
    *,
    objectives: list[Objective] | None = None,
    with_slots: bool = True,
    with_cocreators: bool = True,
) -> Gathered:
    out = Gathered()
    start, end = baseline_window(plan, doc)
    objs = doc.objectives if objectives is None else objectives

    async def measured() -> dict[str, Baseline | None]:
        if not objs:
            return {}
        rows = await _safe(
            out.degraded,
            "baselines",
            ingest.baselines(token, plan.client_id, start=start, end=end),
            [],
        )
        return {o.id: pick(rows, o) for o in objs}

    async def time_slots() -> list[AccountStats]:
        accounts = await _safe(out.degraded, "accounts", ingest.accounts(token, plan.client_id), [])
        ids = [a.id for a in accounts if a.owner_kind in (OwnerKind.client, OwnerKind.peer)]
        out.client_accounts = {a.id for a in accounts if a.owner_kind == OwnerKind.client}
        return await _safe(out.degraded, "account stats", ingest.stats(token, ids, start, end), [])

    async def nothing() -> Any:
        return []

    results = await asyncio.gather(
        measured(),
        _safe(out.degraded, "peer benchmark", benchmark.latest(token, plan.client_id), None),
        _safe(out.degraded, "co-creators", benchmark.cocreators(token, plan.client_id), [])
        if with_cocreators
        else nothing(),
        time_slots() if with_slots else nothing(),
    )
    out.baselines = results[0]
    out.benchmark = results[1]
    out.cocreators = list(results[2])
    out.stats = list(results[3])
    return out


def pick(rows: list[Baseline], o: Objective) -> Baseline | None:
    """The baseline row of an objective: its KPI on its network (None: across networks)."""
    net = o.network.value if o.network else None
    for b in rows:
        if b.metric == o.kpi and (b.network.value if b.network else None) == net:
            return b
    return None


def to_value(b: Baseline | None, unit: str) -> BaselineValue | None:
    if b is None:
        return None
    return BaselineValue(
        value=b.value,
        unit=b.unit or unit,
        window_start=b.window_start,
        window_end=b.window_end,
        definition=b.definition,
        accounts=b.accounts,
        sources=b.sources,
        measured_at=utcnow(),
    )


def distributions(result: BenchmarkResult | None) -> dict[tuple[str, str], KpiDistribution]:
    if result is None:
        return {}
    return {(d.network.value, d.kpi): d for d in result.kpis}


def compose(
    version_id: int, plan: Plan, doc: PlanDocument, got: Gathered, today: dt.date | None = None
) -> Suggestions:
    """Everything the builder suggests, from the gathered numbers (no I/O)."""
    start, _ = horizon(plan, today)
    dists = distributions(got.benchmark)
    bench = got.benchmark
    bench_days = (bench.end - bench.start).days + 1 if bench is not None else None
    baselines: dict[str, BaselineValue] = {}
    suggestions = []
    for o in doc.objectives:
        spec = kpi_catalogue.get(o.kpi)
        measured = to_value(got.baselines.get(o.id), spec.unit)
        if measured is not None:
            baselines[o.id] = measured
        b = measured.value if measured is not None else None
        d = (
            dists.get((o.network.value, spec.benchmark_kpi))
            if o.network is not None and spec.benchmark_kpi
            else None
        )
        deadline = min(o.deadline or plan.period_end, plan.period_end)
        suggestions.append(
            targets.suggest(
                o.id,
                o.kpi,
                b,
                d,
                horizon_days=max(1, (deadline - start).days),
                benchmark_days=bench_days,
                benchmark_id=bench.id if bench else None,
                benchmark_version=bench.version if bench else None,
            )
        )
    recs = [r for a in doc.audiences for r in networks.recommend(doc, a, dists)]
    ranked = slots.best(got.stats, got.client_accounts)
    taken = {c.relay_id for c in doc.cocreators}
    return Suggestions(
        version_id=version_id,
        targets=suggestions,
        baselines=baselines,
        networks=recs,
        phases=phases.propose(doc, recs, start),
        cocreators=[
            CoCreator(
                id=f"cc-{c.relay_id}",
                relay_id=c.relay_id,
                name=c.name,
                networks=c.networks,
                reason=c.reason
                + (f" (score {c.composite_score:.2f})" if c.composite_score is not None else ""),
            )
            for c in got.cocreators
            if c.relay_id not in taken
        ],
        best_slots={n.value: [list(s) for s in v] for n, v in ranked.slots.items()},
        best_slots_sources={n.value: src for n, src in ranked.sources.items()},
        benchmark=(
            {"id": bench.id, "version": bench.version, "start": bench.start, "end": bench.end}
            if bench
            else None
        ),
        degraded=got.degraded,
    )
