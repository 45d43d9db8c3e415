"""Suggested targets: from the client's place among its peers to the next quartile.

The rule, in the order it is tried:

1. **Peer distribution** of the KPI (benchmark): the target is the next quartile above the
   client's baseline (P25, P50, then P75). A quartile step is planned over 6 months; a
   shorter horizon gets the same fraction of the step. At or above P75 the plan holds the
   lead with +5 %. Stocks such as followers are grown by the peers' growth rate at the
   next quartile of *growth*, compounded over the horizon.
2. **Industry reference** (a published figure with the same definition) when no peer
   distribution exists.
3. Otherwise no suggestion, and the reason says so.

A suggestion is never below the baseline (every objective is a growth objective), and a
missing baseline is never read as zero: without it the suggestion falls back to the peer
median as a reference and says that the baseline must be measured first.
"""

from __future__ import annotations

import math

from services.planner.compute import kpis
from shared.schemas.benchmark import IndustryFigure, KpiDistribution
from shared.schemas.planner import TargetSuggestion

STEP_DAYS = 180  # a quartile step is planned over about six months
HOLD_GROWTH = 0.05  # at or above P75: hold the lead with +5 %


def _round(kpi: str, value: float) -> float:
    if kpis.get(kpi).unit == "count":
        return float(math.ceil(value - 1e-9))
    return round(value, 6)


def _quartiles(d: KpiDistribution) -> list[tuple[str, float]]:
    return [(n, q) for n, q in (("P25", d.p25), ("P50", d.p50), ("P75", d.p75)) if q is not None]


def _fmt(kpi: str, v: float | None) -> str:
    if v is None:
        return "n/a"
    if kpis.get(kpi).unit == "ratio":
        return f"{v * 100:.2f} %"
    return f"{v:,.2f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.0f}"


def suggest(
    objective_id: str,
    kpi: str,
    baseline: float | None,
    distribution: KpiDistribution | None,
    *,
    horizon_days: int,
    benchmark_days: int | None = None,
    benchmark_id: int | None = None,
    benchmark_version: int | None = None,
) -> TargetSuggestion:
    """Suggest a target for one objective (see the module's rule)."""
    s = _suggest(
        objective_id,
        kpi,
        baseline,
        distribution,
        horizon_days=horizon_days,
        benchmark_days=benchmark_days,
        benchmark_id=benchmark_id,
        benchmark_version=benchmark_version,
    )
    if s.value is not None and baseline is not None and s.value < baseline:
        # Rounding must not take a growth target under its starting point.
        s.value = baseline
    return s


def _suggest(
    objective_id: str,
    kpi: str,
    baseline: float | None,
    distribution: KpiDistribution | None,
    *,
    horizon_days: int,
    benchmark_days: int | None = None,
    benchmark_id: int | None = None,
    benchmark_version: int | None = None,
) -> TargetSuggestion:
    spec = kpis.get(kpi)
    horizon_days = max(1, horizon_days)
    base = {
        "objective_id": objective_id,
        "benchmark_id": benchmark_id,
        "benchmark_version": benchmark_version,
    }
    sources: list[str] = []
    if distribution is not None and benchmark_id is not None:
        sources.append(
            f"benchmark #{benchmark_id} v{benchmark_version}: {distribution.kpi} on "
            f"{distribution.network.value}, {distribution.peers_with_data} peers with data"
        )
    quarts = _quartiles(distribution) if distribution is not None else []

    if spec.via_growth:
        return _grow_stock(
            base, kpi, baseline, distribution, quarts, horizon_days, benchmark_days, sources
        )

    numbers: dict[str, float | None] = {"baseline": baseline}
    if distribution is not None:
        numbers.update(
            p25=distribution.p25,
            p50=distribution.p50,
            p75=distribution.p75,
            client_percentile=distribution.client_percentile,
            horizon_days=float(horizon_days),
        )
    if quarts:
        if baseline is None:
            p50 = distribution.p50 if distribution is not None else None
            ref_name, ref = ("P50", p50) if p50 is not None else quarts[0]
            return TargetSuggestion(
                **base,
                value=_round(kpi, ref),
                method="peer_median",
                rationale=(
                    f"No baseline: the client has no data for this KPI in the window. The "
                    f"peers' {ref_name} ({_fmt(kpi, ref)}) is shown as a reference; measure "
                    f"a baseline before committing to it."
                ),
                numbers=numbers,
                sources=sources,
            )
        above = [(n, q) for n, q in quarts if q > baseline]
        if not above:
            target = baseline * (1 + HOLD_GROWTH)
            return TargetSuggestion(
                **base,
                value=_round(kpi, target),
                method="hold_top_quartile",
                rationale=(
                    f"At {_fmt(kpi, baseline)} the client is at or above its peers' P75 "
                    f"({_fmt(kpi, quarts[-1][1])}): hold the lead with +{HOLD_GROWTH:.0%}."
                ),
                numbers=numbers,
                sources=sources,
            )
        name, q = above[0]
        fraction = min(1.0, horizon_days / STEP_DAYS)
        target = baseline + (q - baseline) * fraction
        pct = (
            f" (percentile {distribution.client_percentile:.0f} among peers)"
            if distribution is not None and distribution.client_percentile is not None
            else ""
        )
        rationale = (
            f"From {_fmt(kpi, baseline)}{pct} to the peers' next quartile {name} ({_fmt(kpi, q)})"
        )
        if fraction < 1:
            rationale += (
                f"; the horizon of {horizon_days} days covers {fraction:.0%} of the "
                f"{STEP_DAYS}-day step a quartile takes"
            )
        return TargetSuggestion(
            **base,
            value=_round(kpi, max(target, baseline)),
            method="next_quartile",
            rationale=rationale + ".",
            numbers=numbers,
            sources=sources,
        )

    ref_fig = _industry(distribution, spec.unit)
    if ref_fig is not None:
        ref = ref_fig.value
        numbers["industry"] = ref
        sources.append(
            f"{ref_fig.source} {ref_fig.year} ({ref_fig.method}"
            + (f"; denominator: {ref_fig.denominator}" if ref_fig.denominator else "")
            + ")"
        )
        if baseline is None:
            value, method = ref, "industry_reference"
            why = (
                f"No baseline and no peer distribution: the published reference "
                f"{_fmt(kpi, ref)} is shown; measure a baseline first."
            )
        elif ref > baseline:
            value, method = ref, "industry_reference"
            why = (
                f"No peer distribution; from {_fmt(kpi, baseline)} to the published "
                f"industry figure {_fmt(kpi, ref)}."
            )
        else:
            value, method = baseline * (1 + HOLD_GROWTH), "hold_top_quartile"
            why = (
                f"Already above the published industry figure {_fmt(kpi, ref)}: hold the "
                f"lead with +{HOLD_GROWTH:.0%}."
            )
        if baseline is not None:
            value = max(value, baseline)
        return TargetSuggestion(
            **base,
            value=_round(kpi, value),
            method=method,
            rationale=why,
            numbers=numbers,
            sources=sources,
        )
    return TargetSuggestion(
        **base,
        value=None,
        method="none",
        rationale=(
            "No peer distribution and no published reference for this KPI"
            + ("" if baseline is not None else ", and no baseline")
            + ": set the target by hand."
        ),
        numbers=numbers,
        sources=sources,
    )


def _industry(d: KpiDistribution | None, unit: str) -> IndustryFigure | None:
    if d is None or not d.industry:
        return None
    wanted = "ratio" if unit == "ratio" else "count"
    figs = [f for f in d.industry if f.unit == wanted]
    return max(figs, key=lambda f: f.year) if figs else None


def _grow_stock(
    base: dict[str, int | str | None],
    kpi: str,
    baseline: float | None,
    d: KpiDistribution | None,
    quarts: list[tuple[str, float]],
    horizon_days: int,
    benchmark_days: int | None,
    sources: list[str],
) -> TargetSuggestion:
    numbers: dict[str, float | None] = {"baseline": baseline}
    if d is not None:
        numbers.update(
            growth_p25=d.p25,
            growth_p50=d.p50,
            growth_p75=d.p75,
            client_growth=d.client_value,
            horizon_days=float(horizon_days),
            benchmark_days=float(benchmark_days) if benchmark_days else None,
        )
    if baseline is None:
        return TargetSuggestion(
            **base,
            value=None,
            method="none",
            rationale="No baseline: the number of followers in the window is unknown, so no "
            "target can be grown from it. Connect or import the account first.",
            numbers=numbers,
            sources=sources,
        )
    if not quarts or not benchmark_days:
        return TargetSuggestion(
            **base,
            value=None,
            method="none",
            rationale="No peer growth distribution for this network: set the target by hand.",
            numbers=numbers,
            sources=sources,
        )
    client_growth = d.client_value if d is not None else None
    above = [(n, q) for n, q in quarts if client_growth is None or q > client_growth]
    name, growth = above[0] if above else quarts[-1]
    if not above and client_growth is not None:
        growth = max(growth, client_growth)
        name = "client's own rate (at or above P75)"
    growth = max(growth, 0.0)
    periods = horizon_days / benchmark_days
    grown = (1 + growth) ** periods - 1
    target = baseline * (1 + grown)
    numbers["growth_used"] = growth
    numbers["growth_over_horizon"] = grown
    return TargetSuggestion(
        **base,
        value=_round(kpi, max(target, baseline)),
        method="next_quartile",
        rationale=(
            f"{baseline:,.0f} followers grown at the peers' {name} growth rate "
            f"({growth * 100:.2f} % per {benchmark_days} days"
            + (
                f", the client's own being {client_growth * 100:.2f} %"
                if client_growth is not None
                else ""
            )
            + f"), compounded over {horizon_days} days: +{grown * 100:.2f} %."
        ),
        numbers=numbers,
        sources=sources,
    )
