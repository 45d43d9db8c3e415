"""The columnar streams of posts and daily metrics, checked against values set by hand."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from services.ingest.stats import columns as column_service
from shared.schemas.ingest_columns import (
    BINARY,
    FrameReader,
    decode_chunk,
    decode_frame,
    epoch_day,
)
from tests.conftest import auth, new_client_id
from tests.ingest.factories import add_daily, add_post, at, create_account

D = dt.date
MARCH = {"start": "2024-03-01", "end": "2024-03-31"}
NAN = float("nan")


def _ts(*a: int) -> int:
    return int(dt.datetime(*a, tzinfo=dt.UTC).timestamp())


async def _seed(db, cid):
    """A Toronto page (DST starts 10 March 2024) and an agency-wide relay account.

    Followers 1000 (1 Mar), 1100 (15 Mar), 1200 (31 Mar). Posts, in UTC:
      A 1 Mar 04:30 = 29 Feb 23:30 EST local: no followers count on or before that day;
      B 5 Mar 14:30: 50 engagements, reach 1000 → followers 1000;
      C 15 Mar 02:00 = 14 Mar 22:00 EDT: 80 engagements → followers 1000 (not 15 Mar's);
      D 20 Mar 01:30: no metrics → engagements missing, followers 1100;
      E 1 Apr 03:00 = 31 Mar local but 1 April in UTC: outside the period.
    The relay: following 7000 and 7100, two posts, one in March.
    """
    fb = await create_account(db, cid, "facebook", n=1)
    await add_daily(
        db, fb, "followers", {D(2024, 3, 1): 1000, D(2024, 3, 15): 1100, D(2024, 3, 31): 1200}
    )
    await add_post(db, fb, at(2024, 3, 1, 4, 30), metrics={"engagements": 7}, text="A")
    await add_post(
        db, fb, at(2024, 3, 5, 14, 30), metrics={"engagements": 50, "reach": 1000}, text="B"
    )
    await add_post(db, fb, at(2024, 3, 15, 2, 0), metrics={"engagements": 80}, text="C")
    await add_post(db, fb, at(2024, 3, 20, 1, 30), text="D")
    await add_post(db, fb, at(2024, 4, 1, 3, 0), metrics={"engagements": 9}, text="E")
    relay = await create_account(db, None, "instagram", n=2, timezone="UTC")
    await add_daily(db, relay, "following", {D(2024, 3, 2): 7000, D(2024, 3, 3): 7100})
    await add_daily(db, relay, "followers", {D(2024, 3, 3): 40_000})
    await add_post(db, relay, at(2024, 3, 3, 12), metrics={"engagements": 400}, text="R1")
    await add_post(db, relay, at(2024, 2, 3, 12), metrics={"engagements": 1}, text="R0")
    await db.commit()
    return fb, relay


def _chunks(resp) -> list[tuple[int, dict, dict]]:
    if resp.headers["content-type"].startswith(BINARY):
        reader = FrameReader()
        frames = reader.feed(resp.content)
        reader.close()
        return [decode_frame(f) for f in frames]
    return [decode_chunk(line) for line in resp.content.splitlines() if line.strip()]


def _concat(chunks) -> dict[str, list]:
    out: dict[str, list] = {}
    for _, cols, _ in chunks:
        for k, v in cols.items():
            out.setdefault(k, []).extend(v if isinstance(v, list) else v.tolist())
    return out


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        (
            (x is None or (isinstance(x, float) and math.isnan(x)))
            and (y is None or (isinstance(y, float) and math.isnan(y)))
        )
        or x == y
        for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("encoding", ["json", "base64", "binary"])
async def test_post_columns_by_hand(db, make_backend, monkeypatch, encoding):
    monkeypatch.setattr(column_service, "ACCOUNT_BATCH", 1)  # one account per batch
    cid = new_client_id()
    fb, relay = await _seed(db, cid)
    async with make_backend("ingest") as (_app, c):
        r = await c.post(
            "/v1/stats/posts/columns",
            json={
                "account_ids": [relay.id, fb.id, fb.id],  # any order, duplicates
                **MARCH,
                "metrics": ["engagements", "followers_at_post", "reach"],
                "text_last": 2,
                "encoding": encoding,
            },
            headers=auth([cid]),
        )
    assert r.status_code == 200, r.text
    chunks = _chunks(r)
    assert len(chunks) == 2  # one per account batch here
    cols = _concat(chunks)
    # Ordered by account, then time: the client's page (lower id) first.
    assert fb.id < relay.id
    assert cols["account_id"] == [fb.id] * 4 + [relay.id]
    assert cols["published_at"] == [
        _ts(2024, 3, 1, 4, 30),
        _ts(2024, 3, 5, 14, 30),
        _ts(2024, 3, 15, 2, 0),
        _ts(2024, 3, 20, 1, 30),
        _ts(2024, 3, 3, 12),
    ]
    assert _same(cols["engagements"], [7.0, 50.0, 80.0, NAN, 400.0])
    assert _same(cols["followers_at_post"], [NAN, 1000.0, 1000.0, 1100.0, 40_000.0])
    assert _same(cols["reach"], [NAN, 1000.0, NAN, NAN, NAN])
    assert len(set(cols["post_id"])) == 5
    # The texts of each account's two newest posts of the period, None elsewhere.
    assert cols["text"] == [None, None, "C", "D", "R1"]


async def test_followers_look_back_at_most_30_days(db, make_backend):
    cid = new_client_id()
    acc = await create_account(db, cid, "x", n=1, timezone="UTC")
    await add_daily(db, acc, "followers", {D(2024, 1, 1): 500})
    await add_post(db, acc, at(2024, 1, 31, 10), metrics={"engagements": 5})  # 30 days
    await add_post(db, acc, at(2024, 2, 1, 10), metrics={"engagements": 6})  # 31 days
    async with make_backend("ingest") as (_app, c):
        r = await c.post(
            "/v1/stats/posts/columns",
            json={"account_ids": [acc.id], "start": "2024-01-01", "end": "2024-02-29"},
            headers=auth([cid]),
        )
    cols = _concat(_chunks(r))
    assert _same(cols["followers_at_post"], [500.0, NAN])
    assert "text" not in cols  # not asked


async def test_daily_columns_by_hand(db, make_backend):
    cid = new_client_id()
    fb, relay = await _seed(db, cid)
    async with make_backend("ingest") as (_app, c):
        r = await c.post(
            "/v1/stats/daily/columns",
            json={
                "account_ids": [relay.id, fb.id],
                "start": "2024-03-02",
                "end": "2024-03-31",
                "metrics": ["followers", "following"],
                "encoding": "binary",
            },
            headers=auth([cid]),
        )
    assert r.status_code == 200, r.text
    chunks = _chunks(r)
    by_metric: dict[str, list] = {}
    for _, cols, extra in chunks:
        rows = by_metric.setdefault(extra["metric"], [])
        acc, day, val = (cols[k].tolist() for k in ("account_id", "day", "value"))
        rows += list(zip(acc, day, val, strict=True))
    assert by_metric["followers"] == [
        (fb.id, epoch_day(D(2024, 3, 15)), 1100.0),
        (fb.id, epoch_day(D(2024, 3, 31)), 1200.0),
        (relay.id, epoch_day(D(2024, 3, 3)), 40_000.0),
    ]
    assert by_metric["following"] == [
        (relay.id, epoch_day(D(2024, 3, 2)), 7000.0),
        (relay.id, epoch_day(D(2024, 3, 3)), 7100.0),
    ]


async def test_columns_tenancy_and_bad_queries(db, make_backend):
    cid, other = new_client_id(), new_client_id()
    fb, relay = await _seed(db, cid)
    theirs = await create_account(db, other, "facebook", n=9)
    empty = await create_account(db, cid, "x", n=3)
    await db.commit()
    # Plain ids: a refused request rolls the session back and expires the objects.
    fb, relay, theirs, empty = (type("A", (), {"id": x.id})() for x in (fb, relay, theirs, empty))
    async with make_backend("ingest") as (_app, c):
        for path in ("/v1/stats/posts/columns", "/v1/stats/daily/columns"):
            # Another tenant's account, or an unknown one: 404, nothing streamed.
            r = await c.post(
                path, json={"account_ids": [fb.id, theirs.id], **MARCH}, headers=auth([cid])
            )
            assert r.status_code == 404 and str(theirs.id) in r.json()["detail"]
            r = await c.post(path, json={"account_ids": [10**12], **MARCH}, headers=auth([cid]))
            assert r.status_code == 404
            # Relays' accounts are the agency's: staff read them, a client viewer does not.
            r = await c.post(
                path,
                json={"account_ids": [relay.id], **MARCH},
                headers=auth([cid], role="client_viewer", scope="read"),
            )
            assert r.status_code == 404
            r = await c.post(path, json={"account_ids": [relay.id], **MARCH}, headers=auth([other]))
            assert r.status_code == 200
            r = await c.post(path, json={"account_ids": [fb.id], **MARCH})
            assert r.status_code == 401
            r = await c.post(
                path,
                json={"account_ids": [fb.id], "start": "2024-03-31", "end": "2024-03-01"},
                headers=auth([cid]),
            )
            assert r.status_code == 422
            r = await c.post(
                path,
                json={"account_ids": [fb.id], **MARCH, "metrics": ["charm"]},
                headers=auth([cid]),
            )
            assert r.status_code == 422 and "charm" in r.json()["detail"]
        r = await c.post(
            "/v1/stats/daily/columns",
            json={"account_ids": [fb.id], **MARCH, "metrics": ["followers_at_post"]},
            headers=auth([cid]),
        )
        assert r.status_code == 422
        # An account without data in the period: an empty stream, not a row of zeros.
        r = await c.post(
            "/v1/stats/posts/columns",
            json={"account_ids": [empty.id], **MARCH, "encoding": "json"},
            headers=auth([cid]),
        )
        assert r.status_code == 200 and _concat(_chunks(r)).get("account_id", []) == []
