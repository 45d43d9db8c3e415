"""Plan versus actual: where a KPI should be today on the way to its target.

The trajectory is a straight line from the baseline at the plan's start to the target at
the objective's deadline. A KPI is judged by how far the measured value falls short of the
expected one, in fractions of the whole planned change (target − baseline):

* shortfall ≤ 10 % of the planned change (or ahead of it): **on track**;
* shortfall ≤ 25 %: **at risk**;
* more: **off track**.

A KPI without a measured value is "no data", never judged as zero.
"""

from __future__ import annotations

import datetime as dt

from shared.schemas.planner import KpiStatus

AT_RISK = 0.10
OFF_TRACK = 0.25


def expected_at(
    baseline: float, target: float, start: dt.date, deadline: dt.date, day: dt.date
) -> float:
    if day <= start or deadline <= start:
        return baseline if deadline > start else target
    if day >= deadline:
        return target
    frac = (day - start).days / (deadline - start).days
    return baseline + (target - baseline) * frac


def judge(
    baseline: float | None,
    target: float | None,
    start: dt.date,
    deadline: dt.date,
    day: dt.date,
    actual: float | None,
) -> tuple[KpiStatus, float | None, float | None, str]:
    """Return ``(status, expected, progress, explanation)`` for one KPI on ``day``."""
    if target is None:
        return KpiStatus.no_target, None, None, "No target is set."
    if baseline is None:
        return (
            KpiStatus.no_data,
            None,
            None,
            "No baseline: the trajectory to the target cannot be drawn.",
        )
    expected = expected_at(baseline, target, start, deadline, day)
    if actual is None:
        return KpiStatus.no_data, expected, None, "No measured value for this period yet."
    span = target - baseline
    if abs(span) < 1e-12:
        # A hold objective: judged against the level itself.
        scale = abs(target) or 1.0
        shortfall = (target - actual) / scale
        progress = None
    else:
        shortfall = (expected - actual) / span
        progress = (actual - baseline) / span
    if shortfall <= AT_RISK:
        status = KpiStatus.on_track
    elif shortfall <= OFF_TRACK:
        status = KpiStatus.at_risk
    else:
        status = KpiStatus.off_track
    if shortfall <= 0:
        why = "At or ahead of the trajectory."
    else:
        why = f"Behind the trajectory by {shortfall:.0%} of the planned change."
    return status, expected, progress, why
