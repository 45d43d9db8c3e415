"""Generate the content calendar from the plan: cadence, pillar mix, best slots, animators.

For each space, week by week, the cadence gives the number of posts (a fractional cadence
carries over: 2.5 a week alternates 2 and 3). Posts go to the network's best slots, one a
day while distinct days remain. Pillars follow their shares with a smooth weighted
round-robin per network (after any number of posts each pillar is within one post of its
share); formats rotate through the space's formats. Networks of a phase that has not
started (a gate not yet open) are not scheduled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services.planner.compute.slots import DEFAULT_SLOTS
from shared.schemas.ingest import Network
from shared.schemas.planner import PlanDocument


@dataclass
class Draft:
    """One generated calendar item, before it is stored."""

    space_id: str
    network: Network
    scheduled_at: dt.datetime  # aware UTC
    animator_id: str | None
    pillar_id: str | None
    format: str | None
    title: str


class PillarMixer:
    """Smooth weighted round-robin: picks the pillar furthest below its share."""

    def __init__(self, pillars: list[tuple[str, float]]) -> None:
        total = sum(w for _, w in pillars) or 1.0
        self.weights = [(pid, w / total) for pid, w in pillars if w > 0]
        self.current = {pid: 0.0 for pid, _ in self.weights}

    def next(self) -> str | None:
        if not self.weights:
            return None
        for pid, w in self.weights:
            self.current[pid] += w
        best = max(self.weights, key=lambda pw: self.current[pw[0]])[0]
        self.current[best] -= 1.0
        return best


def scheduled_networks(doc: PlanDocument, start: dt.date) -> dict[Network, dt.date]:
    """Networks to schedule and from which day (phases gate the later networks)."""
    if not doc.phases:
        return {s.network: start for s in doc.spaces}
    out: dict[Network, dt.date] = {}
    for i, ph in enumerate(doc.phases):
        if i == 0 or ph.start is not None:
            for n in ph.networks:
                day = max(start, ph.start) if ph.start else start
                out[n] = min(out.get(n, day), day)
    return out


def _pick_slots(ranked: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    chosen: list[tuple[int, int]] = []
    days: set[int] = set()
    for s in ranked:
        if len(chosen) == n:
            break
        if s[0] not in days:
            chosen.append(s)
            days.add(s[0])
    for s in ranked:
        if len(chosen) == n:
            break
        if s not in chosen:
            chosen.append(s)
    i = 0
    while len(chosen) < n:  # more posts than known slots: stack them an hour apart
        d, h = ranked[i % len(ranked)]
        chosen.append((d, (h + 1 + i // len(ranked)) % 24))
        i += 1
    return chosen


def generate(
    doc: PlanDocument,
    start: dt.date,
    end: dt.date,
    slots: dict[Network, list[tuple[int, int]]] | None = None,
) -> list[Draft]:
    """Calendar drafts for ``start``..``end`` inclusive, ordered by time."""
    tz = ZoneInfo(doc.timezone)
    pillars = [(p.id, p.share) for p in doc.pillars]
    pillar_names = {p.id: p.name for p in doc.pillars}
    active = scheduled_networks(doc, start)
    slots = slots or {}
    out: list[Draft] = []
    for space in doc.spaces:
        if space.posts_per_week <= 0 or space.network not in active:
            continue
        first_day = active[space.network]
        ranked = slots.get(space.network) or DEFAULT_SLOTS
        mixer = PillarMixer(pillars)
        fmt_i = 0
        carry = 0.0
        monday = first_day - dt.timedelta(days=first_day.weekday())
        while monday <= end:
            carry += space.posts_per_week
            n = int(carry + 1e-9)
            carry -= n
            week: list[dt.datetime] = []
            for day, hour in _pick_slots(ranked, n):
                d = monday + dt.timedelta(days=day)
                if d < first_day or d > end:
                    continue
                local = dt.datetime(d.year, d.month, d.day, hour, 0, tzinfo=tz)
                week.append(local.astimezone(dt.UTC))
            for when in sorted(week):
                pid = mixer.next()
                fmt = space.formats[fmt_i % len(space.formats)] if space.formats else None
                fmt_i += 1
                label = pillar_names.get(pid or "", "")
                out.append(
                    Draft(
                        space_id=space.id,
                        network=space.network,
                        scheduled_at=when,
                        animator_id=space.animator_id,
                        pillar_id=pid,
                        format=fmt,
                        title=" · ".join(x for x in (label, fmt) if x) or space.network.value,
                    )
                )
            monday += dt.timedelta(days=7)
    out.sort(key=lambda d: (d.scheduled_at, d.network.value))
    return out
