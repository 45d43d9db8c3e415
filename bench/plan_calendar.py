"""A 12-month calendar for 6 networks (< 200 ms), next to building as many bare items.

The figure is the median time of ``calendar.generate`` (cadence per week with carry-over,
best slots, pillar mix, formats, time-zone conversion) for 6 spaces over 365 days; the
baseline, measured in the same run, creates the same number of aware datetimes and item
objects in a plain loop: what any generator has to pay.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bench.common import Figure, median_time


def run() -> list[Figure]:
    from services.planner.calendar.generate import Draft, generate
    from shared.schemas.ingest import Network
    from shared.schemas.planner import Animator, Pillar, PlanDocument, Space

    nets = [
        Network.facebook,
        Network.instagram,
        Network.linkedin,
        Network.x,
        Network.youtube,
        Network.tiktok,
    ]
    doc = PlanDocument(
        pillars=[
            Pillar(id=f"p{i}", name=f"Pillar {i}", share=s)
            for i, s in enumerate((0.4, 0.3, 0.2, 0.1))
        ],
        animators=[Animator(id="a", name="A", hours_per_week=40)],
        spaces=[
            Space(
                id=f"s{i}",
                network=n,
                animator_id="a",
                posts_per_week=ppw,
                formats=["photo", "video", "carousel"],
            )
            for i, (n, ppw) in enumerate(zip(nets, (5, 4, 2, 7, 1, 3.5), strict=True))
        ],
    )
    start = dt.date(2026, 1, 1)
    end = dt.date(2026, 12, 31)
    items = generate(doc, start, end)
    count = len(items)
    tz = ZoneInfo(doc.timezone)

    def baseline() -> None:
        out = []
        for k in range(count):
            d = start + dt.timedelta(days=k % 365)
            when = dt.datetime(d.year, d.month, d.day, 12, tzinfo=tz).astimezone(dt.UTC)
            out.append(Draft("s", Network.facebook, when, "a", "p0", "photo", "t"))

    value = median_time(lambda: generate(doc, start, end), runs=15)
    base = median_time(baseline, runs=15)
    return [
        Figure(
            name="plan_calendar_12m_6networks",
            value=round(value, 2),
            unit="ms",
            baseline=round(base, 2),
            target="<=200ms",
            note=f"{count} items generated",
        )
    ]
