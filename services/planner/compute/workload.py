"""Workload against capacity, and the warnings a plan shows until they are fixed.

A space costs ``posts_per_week × minutes_per_post + community_minutes_per_week`` minutes a
week; the team has the sum of its animators' hours. "No space without an animator."
"""

from __future__ import annotations

from shared.schemas.planner import PlanDocument, Warning, Workload

EPS = 1e-9


def space_hours(posts_per_week: float, minutes_per_post: float, community_minutes: float) -> float:
    """Hours per week one space takes."""
    return (posts_per_week * minutes_per_post + community_minutes) / 60.0


def workload(doc: PlanDocument) -> Workload:
    animators = {a.id: a for a in doc.animators}
    per_space = {
        s.id: space_hours(s.posts_per_week, s.minutes_per_post, s.community_minutes_per_week)
        for s in doc.spaces
    }
    per_animator = {a.id: 0.0 for a in doc.animators}
    unassigned = 0.0
    for s in doc.spaces:
        if s.animator_id in animators:
            per_animator[s.animator_id] += per_space[s.id]
        else:
            unassigned += per_space[s.id]
    return Workload(
        spaces={k: round(v, 4) for k, v in per_space.items()},
        animators={k: round(v, 4) for k, v in per_animator.items()},
        planned_hours=round(sum(per_space.values()), 4),
        team_hours=round(sum(a.hours_per_week for a in doc.animators), 4),
        unassigned_hours=round(unassigned, 4),
    )


def warnings(doc: PlanDocument, load: Workload | None = None) -> list[Warning]:
    load = load or workload(doc)
    out: list[Warning] = []
    animators = {a.id: a for a in doc.animators}
    for s in doc.spaces:
        if s.animator_id not in animators:
            out.append(
                Warning(
                    code="no_animator",
                    message=f"The {s.network.value} space has no animator: no space without "
                    f"an animator.",
                    subject=s.id,
                )
            )
    if load.planned_hours > load.team_hours + EPS:
        out.append(
            Warning(
                code="over_capacity",
                message=(
                    f"The plan needs {load.planned_hours:.1f} h a week but the team has "
                    f"{load.team_hours:.1f} h."
                ),
                numbers={"planned_hours": load.planned_hours, "team_hours": load.team_hours},
            )
        )
    for aid, hours in load.animators.items():
        a = animators[aid]
        if hours > a.hours_per_week + EPS:
            out.append(
                Warning(
                    code="animator_over_capacity",
                    message=(
                        f"{a.name} is given {hours:.1f} h a week of work for "
                        f"{a.hours_per_week:.1f} h available."
                    ),
                    subject=aid,
                    numbers={"planned_hours": hours, "hours_per_week": a.hours_per_week},
                )
            )
    if doc.pillars:
        total = sum(p.share for p in doc.pillars)
        if abs(total - 1) > 0.01:
            out.append(
                Warning(
                    code="pillar_shares",
                    message=f"The pillars' shares add up to {total:.0%}, not 100 %.",
                    numbers={"total": total},
                )
            )
    audiences = {a.id for a in doc.audiences}
    with_objectives = {o.audience_id for o in doc.objectives}
    for au in doc.audiences:
        if au.id not in with_objectives:
            out.append(
                Warning(
                    code="audience_without_objective",
                    message=f"The audience {au.name!r} has no objective.",
                    subject=au.id,
                )
            )
    for o in doc.objectives:
        if o.audience_id not in audiences:
            out.append(
                Warning(
                    code="orphan_objective", message="An objective has no audience.", subject=o.id
                )
            )
        if o.target is None:
            out.append(
                Warning(
                    code="objective_without_target",
                    message=f"The objective on {o.kpi} has no target yet.",
                    subject=o.id,
                )
            )
        elif (
            o.baseline is not None and o.baseline.value is not None and o.target < o.baseline.value
        ):
            out.append(
                Warning(
                    code="target_below_baseline",
                    message=(
                        f"The target of the objective on {o.kpi} is below its baseline: a growth "
                        f"objective cannot aim lower than where it starts."
                    ),
                    subject=o.id,
                    numbers={"baseline": o.baseline.value, "target": o.target},
                )
            )
    return out
