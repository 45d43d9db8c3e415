"""Preferred networks per audience, each recommendation explained by its components.

Four components, each 0–1 with its source, weighted and renormalised over the components
that have data (a missing component is said, never counted as zero):

* **audience_use** (0.4): the share of the audience that uses the network, read from *one*
  survey dataset per audience (the region's most relevant one). The audience's age bands
  are matched to the dataset's own bands and their figures averaged (unweighted); other
  dimensions (gender, education) are published as separate marginals and are never
  multiplied with age.
* **own_performance** (0.2): the client's percentile among its peers on engagement rate
  by follower on that network (benchmark).
* **peers** (0.2): how many peers are present there, relative to the network where most
  are.
* **capacity** (0.2): 1 − the share of the team's weekly hours the network would take at
  its planned (or default) cadence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from services.planner.compute.workload import space_hours
from shared.schemas.benchmark import KpiDistribution
from shared.schemas.ingest import SOCIAL_NETWORKS, Network
from shared.schemas.planner import (
    Audience,
    NetworkComponent,
    NetworkRecommendation,
    PlanDocument,
)

REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "audience_networks.json"
WEIGHTS = {"audience_use": 0.4, "own_performance": 0.2, "peers": 0.2, "capacity": 0.2}

#: Planning defaults per network when the plan has no space there yet: (posts a week,
#: minutes per post, community minutes a week). Agency defaults, editable per space.
DEFAULT_EFFORT: dict[Network, tuple[float, float, float]] = {
    Network.facebook: (4, 45, 90),
    Network.instagram: (4, 60, 90),
    Network.x: (5, 15, 60),
    Network.linkedin: (2, 45, 45),
    Network.youtube: (1, 240, 60),
    Network.pinterest: (5, 20, 30),
    Network.tiktok: (3, 90, 60),
}


@dataclass(frozen=True)
class Dataset:
    id: str
    title: str
    publisher: str
    year: int
    region: str
    measure: str
    wording: str
    base: str
    sample: str
    sources: tuple[str, ...]
    dimensions: dict[str, dict[str, dict[str, float]]]

    def label(self) -> str:
        return f"{self.publisher}, {self.title} ({self.year}); {self.measure}; base: {self.base}"

    def networks(self) -> set[str]:
        return {n for dim in self.dimensions.values() for seg in dim.values() for n in seg}


@cache
def reference() -> tuple[dict[str, Dataset], dict[str, list[str]]]:
    raw: dict[str, Any] = json.loads(REFERENCE.read_text(encoding="utf-8"))
    datasets = {
        d["id"]: Dataset(
            id=d["id"],
            title=d["title"],
            publisher=d["publisher"],
            year=d["year"],
            region=d["region"],
            measure=d["measure"],
            wording=d["wording"],
            base=d["base"],
            sample=d["sample"],
            sources=tuple(d["sources"]),
            dimensions=d["dimensions"],
        )
        for d in raw["datasets"]
    }
    return datasets, raw["region_preference"]


def _band(label: str) -> tuple[int, int]:
    if label.endswith("+"):
        return int(label[:-1]), 200
    lo, hi = label.split("-")
    return int(lo), int(hi)


def _overlaps(a: str, b: str) -> bool:
    alo, ahi = _band(a)
    blo, bhi = _band(b)
    return alo <= bhi and blo <= ahi


def dataset_for(audience: Audience) -> Dataset:
    """The one dataset an audience's scores are read from."""
    datasets, prefs = reference()
    order = prefs.get((audience.region or "").upper(), prefs[""])
    # The region's most relevant dataset, even when it covers fewer networks: a network it
    # does not measure is said to be unmeasured rather than read from another base.
    return datasets[order[0]]


def audience_use(audience: Audience, network: Network, ds: Dataset) -> tuple[float | None, str]:
    """Share (0–1) of the audience using ``network`` in ``ds``, with how it was read."""
    net = network.value
    age = ds.dimensions.get("age", {})
    if audience.age_bands and age:
        bands = [
            b
            for b in age
            if any(_overlaps(b, mine) for mine in audience.age_bands) and net in age[b]
        ]
        if bands:
            values = [age[b][net] for b in bands]
            mean = sum(values) / len(values)
            parts = ", ".join(f"{b}: {age[b][net]:g} %" for b in bands)
            how = "" if len(bands) == 1 else " (unweighted mean of the bands)"
            return mean / 100, f"{parts}{how}"
    allrow = ds.dimensions.get("all", {}).get("All", {})
    if net in allrow:
        note = (
            " (no age split published for this network; all respondents)"
            if audience.age_bands
            else ""
        )
        return allrow[net] / 100, f"all respondents: {allrow[net]:g} %{note}"
    return None, "not measured by this survey"


def recommend(
    doc: PlanDocument,
    audience: Audience,
    distributions: dict[tuple[str, str], KpiDistribution],
    candidates: list[Network] | None = None,
) -> list[NetworkRecommendation]:
    """Score each candidate network for one audience; the best two are recommended."""
    ds = dataset_for(audience)
    nets = candidates or list(SOCIAL_NETWORKS)
    team_hours = sum(a.hours_per_week for a in doc.animators)
    spaces = {s.network: s for s in doc.spaces}
    peer_counts = {
        n: (distributions.get((n.value, "engagement_rate_by_follower")) or _none()).peers_with_data
        for n in nets
    }
    most_peers = max(peer_counts.values(), default=0)
    out: list[NetworkRecommendation] = []
    for net in nets:
        comps: list[NetworkComponent] = []
        use, how = audience_use(audience, net, ds)
        comps.append(
            NetworkComponent(
                name="audience_use",
                value=use,
                weight=WEIGHTS["audience_use"],
                detail=how,
                source=ds.label(),
            )
        )
        er = distributions.get((net.value, "engagement_rate_by_follower"))
        pct = er.client_percentile if er is not None else None
        comps.append(
            NetworkComponent(
                name="own_performance",
                value=None if pct is None else pct / 100,
                weight=WEIGHTS["own_performance"],
                detail=(
                    "the client has no data on this network"
                    if pct is None
                    else f"percentile {pct:.0f} among peers on engagement rate by follower"
                    + (
                        f" ({er.client_value * 100:.2f} % vs peer median {er.p50 * 100:.2f} %)"
                        if er is not None and er.client_value is not None and er.p50 is not None
                        else ""
                    )
                ),
                source="benchmark" if pct is not None else None,
            )
        )
        count = peer_counts[net]
        comps.append(
            NetworkComponent(
                name="peers",
                value=(count / most_peers) if most_peers else None,
                weight=WEIGHTS["peers"],
                detail=(
                    f"{count} peers with data here (most on one network: {most_peers})"
                    if most_peers
                    else "no peer benchmark"
                ),
                source="benchmark" if most_peers else None,
            )
        )
        s = spaces.get(net)
        ppw, mpp, cm = (
            (s.posts_per_week, s.minutes_per_post, s.community_minutes_per_week)
            if s is not None
            else DEFAULT_EFFORT.get(net, (3, 45, 60))
        )
        hours = space_hours(ppw, mpp, cm)
        comps.append(
            NetworkComponent(
                name="capacity",
                value=max(0.0, 1 - hours / team_hours) if team_hours > 0 else None,
                weight=WEIGHTS["capacity"],
                detail=(
                    f"{hours:.1f} h a week ({ppw:g} posts × {mpp:g} min + {cm:g} min of "
                    f"community management) of the team's {team_hours:.1f} h"
                    if team_hours > 0
                    else f"{hours:.1f} h a week; no team hours entered yet"
                ),
                source="plan" if s is not None else "planning defaults",
            )
        )
        known = [(c.value, c.weight) for c in comps if c.value is not None]
        weight = sum(w for _, w in known)
        score = (
            round(sum(v * w for v, w in known) / weight, 4) if use is not None and weight else None
        )
        out.append(
            NetworkRecommendation(
                audience_id=audience.id,
                network=net,
                score=score,
                recommended=False,
                components=comps,
                explanation="",
            )
        )
    ranked = sorted((r for r in out if r.score is not None), key=lambda r: -(r.score or 0))
    for r in ranked[:2]:
        r.recommended = True
    for r in out:
        r.explanation = _explain(r, ds)
    return out


def _explain(r: NetworkRecommendation, ds: Dataset) -> str:
    if r.score is None:
        return (
            f"{r.network.value}: not scored, the audience's use of it is not measured by "
            f"{ds.publisher} {ds.year} (its survey base is not mixed with another's)."
        )
    parts = "; ".join(
        f"{c.name.replace('_', ' ')} {c.value:.2f} ({c.detail})"
        if c.value is not None
        else f"{c.name.replace('_', ' ')}: no data ({c.detail})"
        for c in r.components
    )
    verdict = "recommended" if r.recommended else "not in the top two"
    return f"{r.network.value}: score {r.score:.2f}, {verdict}. {parts}. Survey: {ds.label()}."


def _none() -> KpiDistribution:
    return KpiDistribution(
        network=Network.facebook,
        kpi="engagement_rate_by_follower",
        definition="",
        client_value=None,
        peer_values={},
        p25=None,
        p50=None,
        p75=None,
        client_percentile=None,
        peers_with_data=0,
    )
