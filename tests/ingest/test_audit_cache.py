"""Computed audits are served again while the client's data is unchanged, and only then."""

from __future__ import annotations

import json

from services.ingest.audit.cache import AuditCache
from tests.conftest import auth, new_client_id
from tests.ingest.connections.test_push import new_secret, push
from tests.ingest.test_audit import MARCH, seed_client


def followers_push(cid: int, value: float) -> bytes:
    """The seeded Facebook page's follower count on 31 March, pushed by an agency tool."""
    return json.dumps(
        {
            "account": {"network": "facebook", "external_id": f"facebook-{cid}-1"},
            "metrics": [{"metric": "followers", "day": "2024-03-31", "value": value}],
            "provider": "agency-etl",
        }
    ).encode()


def facebook(report: dict) -> dict:
    return next(a for a in report["accounts"] if a["account"]["network"] == "facebook")


async def test_an_audit_is_served_again_until_the_clients_data_changes(db, make_backend):
    cid, other = new_client_id(), new_client_id()
    fb_id, _ = await seed_client(db, cid)
    await seed_client(db, other)
    async with make_backend("ingest") as (app, c):
        get = lambda **p: c.get(  # noqa: E731
            f"/v1/clients/{cid}/audit", params={**MARCH, **p}, headers=auth([cid])
        )
        first = await get()
        assert first.status_code == 200 and first.headers["x-audit-cache"] == "miss"
        assert facebook(first.json())["current"]["follower_growth"] == 100
        again = await get()
        assert again.headers["x-audit-cache"] == "hit" and again.content == first.content
        # Another period or sample is another audit.
        assert (await get(min_sample=4)).headers["x-audit-cache"] == "miss"
        assert (await get(compare="year")).headers["x-audit-cache"] == "miss"
        assert (await get()).headers["x-audit-cache"] == "hit"

        # Another client's numbers change: this client's audit stands.
        secret_other = await new_secret(c, other)
        r = await push(c, other, secret_other, followers_push(other, 5000))
        assert r.status_code == 200, r.text
        assert (await get()).headers["x-audit-cache"] == "hit"

        # This client's numbers change (a pushed follower count): computed again, right.
        secret = await new_secret(c, cid)
        r = await push(c, cid, secret, followers_push(cid, 1200))
        assert r.status_code == 200, r.text
        changed = await get()
        assert changed.headers["x-audit-cache"] == "miss"
        assert facebook(changed.json())["current"]["follower_growth"] == 200
        assert (await get()).headers["x-audit-cache"] == "hit"

        # An account archived leaves the audit at once.
        r = await c.post(f"/v1/accounts/{fb_id}/archive", headers=auth([cid]))
        assert r.status_code == 200, r.text
        archived = await get()
        assert archived.headers["x-audit-cache"] == "miss"
        assert [a["account"]["network"] for a in archived.json()["accounts"]] == ["linkedin"]

        # The cache never crosses clients.
        r = await c.get(f"/v1/clients/{cid}/audit", params=MARCH, headers=auth([other]))
        assert r.status_code in (403, 404)


async def test_without_a_cache_every_audit_is_computed(db, make_backend):
    cid = new_client_id()
    await seed_client(db, cid)
    async with make_backend("ingest", audit_cache_mb=0) as (_app, c):
        for _ in range(2):
            r = await c.get(f"/v1/clients/{cid}/audit", params=MARCH, headers=auth([cid]))
            assert r.status_code == 200 and r.headers["x-audit-cache"] == "miss"


def test_the_least_recently_used_audits_leave_first_within_the_byte_budget():
    cache = AuditCache(max_bytes=10)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    assert cache.get("a") == b"aaaa"  # now the most recently used
    cache.put("c", b"cccc")  # 12 bytes: "b" goes
    assert cache.get("b") is None and cache.get("a") == b"aaaa" and cache.get("c") == b"cccc"
    cache.put("huge", b"x" * 11)  # larger than the whole budget: not kept, nothing dropped
    assert cache.get("huge") is None and len(cache) == 2
    cache.put("a", b"a")  # replacing an entry counts its new size only
    cache.put("d", b"dddd")
    assert {k for k in ("a", "c", "d") if cache.get(k) is not None} == {"a", "c", "d"}
