""" "Start small, think big": the first phase and the KPI gates of the next ones.

The expected return of a network is its best recommendation score over the audiences
(audience use, client's performance, peers, capacity); its effort is the hours a week it
takes. Phase 1 takes the one or two networks with the highest return per hour — two only
when the team's hours cover both. Phase 2 holds the other recommended networks and opens
when each phase-1 objective that has a baseline and a target has covered half of the way.
"""

from __future__ import annotations

import datetime as dt

from services.planner.compute.networks import DEFAULT_EFFORT
from services.planner.compute.workload import space_hours
from shared.schemas.ingest import Network
from shared.schemas.planner import (
    GateCondition,
    GateStatus,
    NetworkRecommendation,
    Phase,
    PhaseProposal,
    PlanDocument,
)

GATE_FRACTION = 0.5


def network_hours(doc: PlanDocument, net: Network) -> float:
    for s in doc.spaces:
        if s.network == net:
            return space_hours(s.posts_per_week, s.minutes_per_post, s.community_minutes_per_week)
    return space_hours(*DEFAULT_EFFORT.get(net, (3, 45, 60)))


def propose(
    doc: PlanDocument, recommendations: list[NetworkRecommendation], start: dt.date
) -> PhaseProposal:
    best: dict[Network, float] = {}
    chosen: set[Network] = set(n for a in doc.audiences for n in a.networks)
    for r in recommendations:
        if r.score is None:
            continue
        if r.recommended:
            chosen.add(r.network)
        best[r.network] = max(best.get(r.network, 0.0), r.score)
    returns: dict[str, float | None] = {}
    for net in chosen:
        score = best.get(net)
        hours = network_hours(doc, net)
        returns[net.value] = round(score / hours, 4) if score is not None and hours > 0 else None
    ranked = sorted(
        (n for n in chosen if returns.get(n.value) is not None),
        key=lambda n: -(returns[n.value] or 0),
    )
    if not ranked:
        return PhaseProposal(
            phases=[],
            rationale="No network could be scored yet: add audiences (with age bands and "
            "region) and run the benchmark.",
            returns=returns,
        )
    team = sum(a.hours_per_week for a in doc.animators)
    first = ranked[:1]
    if len(ranked) > 1 and (
        team <= 0 or network_hours(doc, ranked[0]) + network_hours(doc, ranked[1]) <= team
    ):
        first = ranked[:2]
    rest = [n for n in ranked if n not in first] + sorted(
        (n for n in chosen if returns.get(n.value) is None and n not in first), key=str
    )
    gate = [
        GateCondition(
            objective_id=o.id,
            threshold=round(o.baseline.value + (o.target - o.baseline.value) * GATE_FRACTION, 6),
        )
        for o in doc.objectives
        if o.network in first
        and o.target is not None
        and o.baseline is not None
        and o.baseline.value is not None
    ]
    names = ", ".join(n.value for n in first)
    phases = [
        Phase(
            id="phase-1",
            name="Phase 1: pilot",
            networks=list(first),
            start=start,
            rationale=(
                f"Start small on {names}: the best expected return per hour of effort ("
                + ", ".join(f"{n.value} {returns[n.value]:.3f}/h" for n in first)
                + ")."
            ),
        )
    ]
    if rest:
        phases.append(
            Phase(
                id="phase-2",
                name="Phase 2: expansion",
                networks=rest,
                gate=gate,
                rationale=(
                    "Opens when every phase-1 objective has covered half of the way from its "
                    "baseline to its target."
                    if gate
                    else "Set baselines and targets on the phase-1 objectives to gate this "
                    "phase on them."
                ),
            )
        )
    return PhaseProposal(
        phases=phases,
        rationale=f"Phase 1 on {names}; {len(rest)} network(s) later, gated on KPI thresholds.",
        returns=returns,
    )


def gate_status(phase: Phase, actuals: dict[str, float | None]) -> GateStatus:
    """Whether a phase's gate is met, condition by condition, from measured values."""
    conditions = []
    for c in phase.gate:
        actual = actuals.get(c.objective_id)
        conditions.append(
            {
                "objective_id": c.objective_id,
                "threshold": c.threshold,
                "actual": actual,
                "met": None if actual is None else actual >= c.threshold,
            }
        )
    is_open = all(c["met"] is True for c in conditions)
    return GateStatus(phase_id=phase.id, name=phase.name, open=is_open, conditions=conditions)
