"""Plan versus actual: each KPI measured by ingest and judged against its trajectory.

The actual value of a KPI on a day is measured over the same length of window as its
baseline, ending that day (a stock such as followers is read at the window's end), so
baseline, actual and target are the same quantity.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.planner.clients.ingest import IngestClient
from services.planner.compute import kpis as kpi_catalogue
from services.planner.compute import phases as phase_rules
from services.planner.compute import trajectory
from services.planner.plans.models import Plan, PlanVersion
from services.planner.plans.service import document
from services.planner.plans.suggest import pick
from services.planner.tracking.models import KpiState
from shared.clock import utcnow
from shared.http import BackendError
from shared.schemas.ingest import Baseline
from shared.schemas.planner import (
    KpiPoint,
    KpiProgress,
    KpiStatus,
    PlanDocument,
    PlanProgress,
)

log = logging.getLogger("balise.planner.tracking")

ALERT_STATUSES = (KpiStatus.at_risk, KpiStatus.off_track)


async def _measure(
    ingest: IngestClient,
    token: str,
    plan: Plan,
    doc: PlanDocument,
    day: dt.date,
    degraded: list[str],
) -> list[Baseline]:
    """Every KPI over the window of the baseline's length ending on ``day``."""
    start = day - dt.timedelta(days=doc.baseline_window_days - 1)
    try:
        return await ingest.baselines(token, plan.client_id, start=start, end=day)
    except BackendError as exc:
        degraded.append(f"{exc.service}: {day}: {exc}")
        return []


def _value(b: Baseline | None) -> float | None:
    return b.value if b is not None else None


def checkpoints(start: dt.date, as_of: dt.date, n: int = 6) -> list[dt.date]:
    """Up to ``n`` days from the plan's start to ``as_of``, evenly spaced, ``as_of`` last."""
    if as_of <= start:
        return [as_of]
    span = (as_of - start).days
    days = sorted({start + dt.timedelta(days=round(span * i / (n - 1))) for i in range(n)})
    return days


async def progress(
    ingest: IngestClient,
    token: str,
    plan: Plan,
    v: PlanVersion,
    as_of: dt.date | None = None,
    *,
    series: bool = False,
) -> PlanProgress:
    assert v.id is not None
    doc = document(v)
    as_of = as_of or utcnow().date()
    start = plan.period_start
    degraded: list[str] = []
    objectives = [o for o in doc.objectives]
    days = checkpoints(start, as_of) if series else [as_of]
    per_day = (
        await asyncio.gather(*(_measure(ingest, token, plan, doc, d, degraded) for d in days))
        if objectives
        else [[] for _ in days]
    )
    out: list[KpiProgress] = []
    actuals: dict[str, float | None] = {}
    for o in objectives:
        values = [_value(pick(rows, o)) for rows in per_day]
        actual = values[-1]
        actuals[o.id] = actual
        baseline = o.baseline.value if o.baseline is not None else None
        deadline = o.deadline or plan.period_end
        status, expected, prog, why = trajectory.judge(
            baseline, o.target, start, deadline, as_of, actual
        )
        pts = []
        if series:
            for d, val in zip(days, values, strict=True):
                exp = (
                    trajectory.expected_at(baseline, o.target, start, deadline, d)
                    if baseline is not None and o.target is not None
                    else None
                )
                pts.append(KpiPoint(day=d, expected=exp, actual=val))
        out.append(
            KpiProgress(
                objective_id=o.id,
                audience_id=o.audience_id,
                kpi=o.kpi,
                network=o.network,
                unit=kpi_catalogue.get(o.kpi).unit,
                baseline=baseline,
                target=o.target,
                start=start,
                deadline=deadline,
                as_of=as_of,
                expected=expected,
                actual=actual,
                progress=prog,
                status=status,
                explanation=why,
                series=pts,
            )
        )
    gates = [phase_rules.gate_status(p, actuals) for p in doc.phases if p.gate]
    return PlanProgress(version_id=v.id, as_of=as_of, kpis=out, gates=gates, degraded=degraded)


async def record(session: AsyncSession, v: PlanVersion, result: PlanProgress) -> list[KpiProgress]:
    """Store each KPI's status; return those that just moved into at risk / off track."""
    assert v.id is not None
    rows = (await session.exec(select(KpiState).where(KpiState.version_id == v.id))).all()
    known = {r.objective_id: r for r in rows}
    changed: list[KpiProgress] = []
    now = utcnow()
    for k in result.kpis:
        row = known.get(k.objective_id)
        before = row.status if row else None
        if k.status in ALERT_STATUSES and before not in [s.value for s in ALERT_STATUSES]:
            changed.append(k)
        if row is None:
            row = KpiState(
                version_id=v.id, client_id=v.client_id, objective_id=k.objective_id, status=k.status
            )
        row.status = k.status
        row.actual = k.actual
        row.expected = k.expected
        row.checked_at = now
        session.add(row)
    await session.flush()
    return changed
