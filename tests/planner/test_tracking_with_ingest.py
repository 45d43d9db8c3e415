"""Plan versus actual on the real ingest: the daily KPI check, its alert, the dashboard.

The numbers, by hand. The plan starts on 2026-04-01 and its objectives' deadline is
2026-09-28, 180 days later; the check judges 2026-06-30, 90 days in, so the trajectory
is halfway from baseline to target. A baseline is measured on the 90 days before the plan
(2026-01-01 … 2026-03-31), an actual on the 90 days ending on the day judged
(2026-04-02 … 2026-06-30); followers are read at the window's last count.

* Instagram followers: baseline 4,000 (31 March), target 5,000, expected 4,500, actual
  4,480: 20 short of the expected, 2 % of the planned +1,000 (≤ 10 %): on track.
* Facebook followers: baseline 10,000, target 12,000, expected 11,000, actual 10,700:
  300 short, 15 % of the planned +2,000 (> 10 %, ≤ 25 %): at risk.
* X followers: baseline 2,000, target 2,600, but no count since 31 March: no data (the
  expected value is still drawn, 2,300), never an actual of zero.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import col, select

from services.planner.tracking.jobs import check_kpis
from services.planner.tracking.models import KpiState
from services.planner.webhooks.events import outbox
from services.planner.webhooks.models import PlannerWebhookDelivery
from shared.db import create_sessionmaker
from shared.outbox_dispatch import Dispatcher
from tests.conftest import auth, new_client_id
from tests.ingest.factories import add_daily, create_account
from tests.planner.factories import add, create_plan
from tests.shared.receiver import Receiver

START = dt.date(2026, 4, 1)
END = dt.date(2026, 12, 31)
DEADLINE = dt.date(2026, 9, 28)
AS_OF = dt.date(2026, 6, 30)
KPI_CHECK = "planner.check_kpis"


async def _seed_accounts(engine, cid: int) -> None:
    d = dt.date
    async with create_sessionmaker(engine)() as db:
        ig = await create_account(db, cid, "instagram", external_id=f"ig-{cid}")
        fb = await create_account(db, cid, "facebook", external_id=f"fb-{cid}")
        x = await create_account(db, cid, "x", external_id=f"x-{cid}")
        await add_daily(
            db, ig, "followers", {d(2026, 1, 1): 3_800, d(2026, 3, 31): 4_000, AS_OF: 4_480}
        )
        await add_daily(
            db, fb, "followers", {d(2026, 1, 1): 9_900, d(2026, 3, 31): 10_000, AS_OF: 10_700}
        )
        await add_daily(db, x, "followers", {d(2026, 1, 1): 1_950, d(2026, 3, 31): 2_000})
        await db.commit()


async def _rows(engine, q) -> list:
    async with create_sessionmaker(engine)() as s:
        return list((await s.exec(q)).all())


async def _active_plan(c, cid: int) -> tuple[dict, int, dict[str, str]]:
    """A plan with three followers objectives, baselines measured by ingest, activated."""
    h = auth([cid])
    plan, vid = await create_plan(c, cid, name="Plan de croissance", start=START, end=END)
    aud = await add(c, cid, vid, "audiences", {"name": "Familles", "language": "fr"})
    ids = {}
    for net, target in (("instagram", 5_000), ("facebook", 12_000), ("x", 2_600)):
        o = await add(
            c,
            cid,
            vid,
            "objectives",
            {
                "audience_id": aud["id"],
                "kind": "awareness",
                "kpi": "followers",
                "network": net,
                "target": target,
                "deadline": DEADLINE.isoformat(),
            },
        )
        ids[net] = o["id"]
    r = await c.post(f"/v1/versions/{vid}/baselines", headers=h)
    assert r.status_code == 200, r.text
    base = {o["network"]: o["baseline"] for o in r.json()["document"]["objectives"]}
    assert {n: b["value"] for n, b in base.items()} == {
        "instagram": 4_000,
        "facebook": 10_000,
        "x": 2_000,
    }
    assert base["instagram"]["window_start"] == "2026-01-01"
    assert base["instagram"]["window_end"] == "2026-03-31"
    for step in ("approve", "activate"):
        r = await c.post(f"/v1/versions/{vid}/{step}", headers=h)
        assert r.status_code == 200, r.text
    return plan, vid, ids


async def _deliveries(engine, cid: int) -> list[PlannerWebhookDelivery]:
    D = PlannerWebhookDelivery
    return await _rows(engine, select(D).where(col(D.client_id) == cid).order_by(col(D.id)))


async def _states(engine, vid: int) -> list[KpiState]:
    return await _rows(engine, select(KpiState).where(col(KpiState.version_id) == vid))


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


async def test_kpi_check_records_states_and_alerts_once(
    planner_stack, planner_job, engine, receiver
):
    cid, quiet = new_client_id(), new_client_id()
    await _seed_accounts(engine, cid)
    await _seed_accounts(engine, quiet)
    async with planner_stack() as s:
        c = s.planner
        r = await c.post(
            "/v1/webhooks/subscriptions",
            json={
                "client_id": cid,
                "url": receiver.url,
                "event_types": ["planner.kpi.at_risk"],
            },
            headers=auth([cid]),
        )
        assert r.status_code == 201, r.text
        sub_id = r.json()["id"]
        receiver.secret = r.json()["secret"]
        # The other client has the same plan but subscribed to pings only.
        r = await c.post(
            "/v1/webhooks/subscriptions",
            json={
                "client_id": quiet,
                "url": "http://127.0.0.1:9/x",
                "event_types": ["webhook.ping"],
            },
            headers=auth([quiet]),
        )
        assert r.status_code == 201, r.text
        plan, vid, ids = await _active_plan(c, cid)
        await _active_plan(c, quiet)

        out = await planner_job(s, check_kpis, KPI_CHECK, client_id=cid, as_of=AS_OF.isoformat())
        assert out == {"plans": 1, "kpis": 3, "alerts": 1, "deliveries": 1}
        states = await _states(engine, vid)
        by_obj = {st.objective_id: (st.status, st.expected, st.actual) for st in states}
        assert by_obj == {
            ids["instagram"]: ("on_track", 4_500, 4_480),
            ids["facebook"]: ("at_risk", 11_000, 10_700),
            ids["x"]: ("no_data", 2_300, None),
        }

        [delivery] = await _deliveries(engine, cid)
        assert delivery.subscription_id == sub_id and delivery.status == "pending"
        assert delivery.event_type == "planner.kpi.at_risk"
        body = json.loads(delivery.payload)
        assert body["type"] == "planner.kpi.at_risk"
        assert body["data"] == {
            "client_id": cid,
            "plan_id": plan["id"],
            "version_id": vid,
            "objective_id": ids["facebook"],
            "kpi": "followers",
            "network": "facebook",
            "status": "at_risk",
            "baseline": 10_000,
            "target": 12_000,
            "expected": 11_000,
            "actual": 10_700,
            "as_of": "2026-06-30",
        }

        # The dispatcher sends it, signed, to the subscriber.
        await Dispatcher(outbox, create_sessionmaker(engine), s.settings).run(budget_seconds=5)
        [got] = receiver.received
        assert got.verified and got.msg_id == delivery.msg_id
        assert got.json["type"] == "planner.kpi.at_risk"
        assert got.json["data"]["objective_id"] == ids["facebook"]

        # The same day again: the states stay, and only a change alerts.
        out = await planner_job(s, check_kpis, KPI_CHECK, client_id=cid, as_of=AS_OF.isoformat())
        assert out == {"plans": 1, "kpis": 3, "alerts": 0, "deliveries": 0}
        assert len(await _deliveries(engine, cid)) == 1
        states = await _states(engine, vid)
        assert len(states) == 3

        # The client without an alert subscription: judged and recorded, nothing queued.
        out = await planner_job(s, check_kpis, KPI_CHECK, client_id=quiet, as_of=AS_OF.isoformat())
        assert out == {"plans": 1, "kpis": 3, "alerts": 1, "deliveries": 0}
        assert await _deliveries(engine, quiet) == []


async def test_progress_and_dashboard_show_the_trajectory(planner_stack, engine):
    cid = new_client_id()
    h = auth([cid])
    await _seed_accounts(engine, cid)
    async with planner_stack() as s:
        c = s.planner
        plan, vid, ids = await _active_plan(c, cid)
        r = await c.get(f"/v1/versions/{vid}/progress", params={"as_of": "2026-06-30"}, headers=h)
        assert r.status_code == 200, r.text
        prog = r.json()
        assert prog["as_of"] == "2026-06-30" and prog["degraded"] == []
        kpis = {k["network"]: k for k in prog["kpis"]}
        ig, fb, x = kpis["instagram"], kpis["facebook"], kpis["x"]
        assert (ig["status"], ig["expected"], ig["actual"]) == ("on_track", 4_500, 4_480)
        assert abs(ig["progress"] - 0.48) < 1e-9  # (4,480 − 4,000) / 1,000
        assert (fb["status"], fb["expected"], fb["actual"]) == ("at_risk", 11_000, 10_700)
        assert abs(fb["progress"] - 0.35) < 1e-9  # (10,700 − 10,000) / 2,000
        assert "15%" in fb["explanation"]
        assert (x["status"], x["expected"], x["actual"], x["progress"]) == (
            "no_data",
            2_300,
            None,
            None,
        )
        assert all(
            k["deadline"] == "2026-09-28" and k["start"] == "2026-04-01" for k in kpis.values()
        )

        r = await c.get(f"/v1/clients/{cid}/dashboard", params={"as_of": "2026-06-30"}, headers=h)
        assert r.status_code == 200, r.text
        [entry] = r.json()
        assert entry["version_id"] == vid and entry["status"] == "active"
        assert entry["plan"]["id"] == plan["id"]
        dash = {k["network"]: k for k in entry["progress"]["kpis"]}
        assert {n: (k["status"], k["actual"]) for n, k in dash.items()} == {
            "instagram": ("on_track", 4_480),
            "facebook": ("at_risk", 10_700),
            "x": ("no_data", None),
        }
        # Six checkpoints from the start to the day judged, 18 days apart. On the first
        # the 90-day window still holds 31 March: every actual is its baseline, X's too.
        days = [p["day"] for p in dash["facebook"]["series"]]
        assert days == [
            "2026-04-01",
            "2026-04-19",
            "2026-05-07",
            "2026-05-25",
            "2026-06-12",
            "2026-06-30",
        ]
        first = {n: k["series"][0] for n, k in dash.items()}
        assert {n: (p["expected"], p["actual"]) for n, p in first.items()} == {
            "instagram": (4_000, 4_000),
            "facebook": (10_000, 10_000),
            "x": (2_000, 2_000),
        }
        # 7 May, 36 days in: expected 10,000 + 2,000 × 36 / 180 = 10,400.
        assert dash["facebook"]["series"][2]["expected"] == 10_400
        assert dash["x"]["series"][-1]["actual"] is None

        # Another client sees neither.
        other = auth([new_client_id()])
        assert (await c.get(f"/v1/versions/{vid}/progress", headers=other)).status_code == 404
        assert (await c.get(f"/v1/clients/{cid}/dashboard", headers=other)).status_code in (
            403,
            404,
        )
