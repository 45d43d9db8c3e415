"""The PDF of a full plan (< 5 s), next to the Markdown of the same report.

A full plan: 5 audiences, 20 objectives with suggested targets, 6 pillars, a style guide,
4 animators, 6 spaces, co-creators and two phases; the PDF embeds the DejaVu fonts and
draws its charts. The baseline, in the same run, renders the same report as Markdown.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from bench.common import Figure


def _version():
    from services.planner.compute import workload
    from shared.schemas.ingest import Network
    from shared.schemas.planner import (
        Animator,
        Audience,
        BaselineValue,
        CoCreator,
        GateCondition,
        Objective,
        ObjectiveKind,
        Phase,
        Pillar,
        PlanDocument,
        PlanStatus,
        PlanVersionPublic,
        Space,
        StyleGuide,
        TargetSuggestion,
    )

    nets = list(Network)[:6]
    day = dt.date(2026, 1, 1)
    audiences = [
        Audience(
            id=f"a{i}",
            name=f"Public {i} — familles à Québec",
            description="Parents actifs qui planifient leurs sorties " * 3,
            age_bands=["25-34", "35-44"],
            language="fr",
            region="QC",
            interests=["plein air", "gastronomie"],
            networks=nets[:2],
        )
        for i in range(5)
    ]
    objectives = [
        Objective(
            id=f"o{i}",
            audience_id=f"a{i % 5}",
            kind=list(ObjectiveKind)[i % 5],
            kpi="followers",
            network=nets[i % 6],
            baseline=BaselineValue(
                value=1000 + i * 10, unit="count", window_start=day, window_end=day, definition="d"
            ),
            target=1200 + i * 15,
            deadline=dt.date(2026, 12, 31),
            target_source=TargetSuggestion(
                objective_id=f"o{i}",
                value=1200 + i * 15,
                method="next_quartile",
                rationale="From 1 000 to the peers' P50. " * 3,
            ),
        )
        for i in range(20)
    ]
    doc = PlanDocument(
        audiences=audiences,
        objectives=objectives,
        pillars=[Pillar(id=f"p{i}", name=f"Pilier {i}", share=1 / 6) for i in range(6)],
        style=StyleGuide(
            tone="Chaleureux, précis, québécois.",
            voice_attributes=["chaleureuse"],
            do=["Tutoyer"],
            dont=["Jargon"],
            hashtags=["#QuébecOriginal"],
            languages=["fr", "en"],
        ),
        animators=[
            Animator(id=f"m{i}", name=f"Animateur {i}", hours_per_week=10) for i in range(4)
        ],
        spaces=[
            Space(id=f"s{i}", network=n, animator_id=f"m{i % 4}", formats=["photo"])
            for i, n in enumerate(nets)
        ],
        cocreators=[CoCreator(id="c1", relay_id=1, name="Média local", reason="Relaie souvent")],
        phases=[
            Phase(id="ph1", name="Phase 1", networks=nets[:2], start=day),
            Phase(
                id="ph2",
                name="Phase 2",
                networks=nets[2:],
                gate=[GateCondition(objective_id="o0", threshold=1100)],
            ),
        ],
    )
    load = workload.workload(doc)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return PlanVersionPublic(
        id=1,
        plan_id=1,
        client_id=1,
        plan_name="Plan 2026",
        period_start=day,
        period_end=dt.date(2026, 12, 31),
        number=1,
        status=PlanStatus.approved,
        based_on=None,
        document=doc,
        created_at=now,
        created_by="1",
        approved_at=now,
        approved_by="1",
        activated_at=None,
        closed_at=None,
        workload=load,
        warnings=workload.warnings(doc, load),
    )


def run() -> list[Figure]:
    from services.planner.exports import content, writers

    v = _version()

    def timed(fn, runs: int) -> float:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    pdf_ms = timed(lambda: writers.pdf(content.build(v, "Tourisme démo", "fr_CA")), 5)
    md_ms = timed(lambda: writers.markdown(content.build(v, "Tourisme démo", "fr_CA")), 5)
    size = len(writers.pdf(content.build(v, "Tourisme démo", "fr_CA")))
    return [
        Figure(
            name="plan_pdf_full",
            value=round(pdf_ms, 1),
            unit="ms",
            baseline=round(md_ms, 2),
            target="<=5000ms",
            note=f"{size // 1024} KiB; baseline = Markdown of the same report",
        )
    ]
