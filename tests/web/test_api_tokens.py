"""API tokens: created in the UI, shown once, stored hashed, scoped, expiring, revocable."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from services.web.models import ApiToken
from shared.auth import hash_api_token
from tests.web.conftest import csrf_of, login, make_client, make_user, soup


async def create_token(
    stack, *, clients, services=("ingest",), scope="read", days="30", name="Zapier"
) -> tuple[str, object]:
    page = await stack.web.get("/settings/tokens")
    data = {
        "name": name,
        "scope": scope,
        "expires_in_days": days,
        "csrf_token": csrf_of(page),
        "services": list(services),
        "client_ids": [str(c.id) for c in clients],
    }
    r = await stack.web.post("/settings/tokens", data=data)
    return r.status_code, r


async def test_token_is_shown_once_and_stored_hashed(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    status, r = await create_token(stack, clients=[client])
    assert status == 200
    token = soup(r).select_one("[data-new-token]").get_text(strip=True)
    assert token.startswith("bal_")
    again = await stack.web.get("/settings/tokens")
    assert token not in again.text  # never shown again
    async with await stack.session() as s:
        rows = (await s.exec(select(ApiToken).where(ApiToken.user_id == user.id))).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hash_api_token(token) and token not in rows[0].token_hash


async def test_token_reaches_only_its_services_clients_and_scope(stack):
    mine = await make_client(stack.engine)
    other = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [mine, other])
    await login(stack.web, user.email)
    _, r = await create_token(stack, clients=[mine], services=("ingest",), scope="read")
    token = soup(r).select_one("[data-new-token]").get_text(strip=True)
    h = {"Authorization": f"Bearer {token}"}
    ok = await stack.backends["ingest"].get("/v1/jobs", params={"client_id": mine.id}, headers=h)
    assert ok.status_code == 200 and ok.json()["data"] == []
    other_client = await stack.backends["ingest"].get(
        "/v1/jobs", params={"client_id": other.id}, headers=h
    )
    assert other_client.status_code == 404
    wrong_service = await stack.backends["planner"].get(
        "/v1/jobs", params={"client_id": mine.id}, headers=h
    )
    assert wrong_service.status_code == 403
    read_only = await stack.backends["ingest"].post("/v1/jobs/nope/retry", headers=h)
    assert read_only.status_code in (403, 404)


async def test_revoked_and_expired_tokens_are_refused(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    _, r = await create_token(stack, clients=[client])
    token = soup(r).select_one("[data-new-token]").get_text(strip=True)
    h = {"Authorization": f"Bearer {token}"}
    params = {"client_id": client.id}
    assert (
        await stack.backends["ingest"].get("/v1/jobs", params=params, headers=h)
    ).status_code == 200
    page = await stack.web.get("/settings/tokens")
    form = soup(page).select_one("form[action$='/revoke']")
    r = await stack.web.post(form["action"], data={"csrf_token": csrf_of(page)})
    assert r.status_code == 303
    refused = await stack.backends["ingest"].get("/v1/jobs", params=params, headers=h)
    assert refused.status_code == 401

    _, r = await create_token(stack, clients=[client], name="Expiring")
    token2 = soup(r).select_one("[data-new-token]").get_text(strip=True)
    async with await stack.session() as s:
        row = (
            await s.exec(select(ApiToken).where(ApiToken.token_hash == hash_api_token(token2)))
        ).one()
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        s.add(row)
        await s.commit()
    expired = await stack.backends["ingest"].get(
        "/v1/jobs", params=params, headers={"Authorization": f"Bearer {token2}"}
    )
    assert expired.status_code == 401
    garbage = await stack.backends["ingest"].get(
        "/v1/jobs", params=params, headers={"Authorization": "Bearer bal_00000000_nope"}
    )
    assert garbage.status_code == 401


async def test_a_token_cannot_reach_beyond_its_owner(stack):
    mine = await make_client(stack.engine)
    theirs = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [mine])
    await login(stack.web, user.email)
    status, r = await create_token(stack, clients=[theirs])
    assert status == 403
    assert soup(r).select_one("p.error")
    viewer = await make_user(stack.engine, "client_viewer", [mine])
    await stack.web.post("/logout", data={"csrf_token": csrf_of(await stack.web.get("/clients"))})
    await login(stack.web, viewer.email)
    status, _ = await create_token(stack, clients=[mine], scope="write")
    assert status == 403
