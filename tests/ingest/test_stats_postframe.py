"""The stats' vector path gives the figures of the SQL aggregates it replaces.

Random posts around daylight-saving changes, with missing metrics, zero and missing
followers, in two zones: ``postframe`` must agree with ``repository.post_groups``,
``median_engagements`` and ``posting_heatmap`` (kept for the audit) on both databases.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from services.ingest.stats import postframe
from services.ingest.stats import repository as repo
from tests.conftest import new_client_id
from tests.ingest.factories import add_daily, add_post, create_account

START, END = dt.date(2024, 2, 20), dt.date(2024, 11, 10)  # both DST changes of 2024


@pytest.mark.parametrize("tz", ["America/Toronto", "Europe/Paris"])
async def test_vector_figures_match_the_sql_aggregates(db, tz):
    rng = random.Random(tz)
    cid = new_client_id()
    accounts = [await create_account(db, cid, "facebook", n=k, timezone=tz) for k in range(3)]
    for a in accounts[:2]:  # the third has posts but no followers at all
        days = sorted(rng.sample(range(-40, 270), 40))
        await add_daily(
            db,
            a,
            "followers",
            {START + dt.timedelta(days=d): float(rng.choice([0, 500, 1200, 9000])) for d in days},
        )
    for k in range(150):
        a = accounts[k % 3]
        when = dt.datetime.combine(START - dt.timedelta(days=2), dt.time(), dt.UTC) + dt.timedelta(
            minutes=rng.randrange(0, 270 * 24 * 60)
        )
        metrics = {
            m: float(rng.randrange(0, 3000))
            for m in ("engagements", "reach", "impressions", "views")
            if rng.random() < 0.7
        }
        await add_post(
            db,
            a,
            when,
            content_type=rng.choice(["photo", "video", None]),
            metrics=metrics,
            external_id=f"p{k}",
        )
    ids = [a.id for a in accounts]
    frame = await postframe.load(db, ids, tz, START, END)
    assert 0 < frame.n < 150  # some posts fall outside the period

    sql_groups = await repo.post_groups(db, ids, tz, START, END)
    vec_groups = postframe.groups(frame)
    assert vec_groups.keys() == sql_groups.keys()
    for key, g in sql_groups.items():
        v = vec_groups[key]
        for field in g.__dataclass_fields__:
            assert getattr(v, field) == pytest.approx(getattr(g, field), rel=1e-12), (key, field)
    sql_med = await repo.median_engagements(db, ids, tz, START, END)
    assert postframe.median_engagements(frame) == pytest.approx(sql_med)
    assert postframe.heatmap(frame) == await repo.posting_heatmap(db, ids, tz, START, END)
