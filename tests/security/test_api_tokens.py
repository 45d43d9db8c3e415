"""API tokens never reach further than their owner does today (beyond
tests/web/test_api_tokens.py: hashed, scoped, expired and revoked)."""

from __future__ import annotations

from sqlmodel import col, delete

from services.web.models import ApiToken, User, UserClient
from tests.web.conftest import csrf_of, login, make_client, make_user, soup


async def new_token(stack, client, *, scope: str = "write") -> str:
    page = await stack.web.get("/settings/tokens")
    r = await stack.web.post(
        "/settings/tokens",
        data={
            "name": "Tool",
            "scope": scope,
            "expires_in_days": "30",
            "csrf_token": csrf_of(page),
            "services": ["ingest", "planner"],
            "client_ids": [str(client.id)],
        },
    )
    assert r.status_code == 200
    return soup(r).select_one("[data-new-token]").get_text(strip=True)


async def test_a_token_follows_its_owners_assignments_and_account(stack) -> None:
    mine = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [mine])
    await login(stack.web, user.email)
    token = await new_token(stack, mine)
    h = {"Authorization": f"Bearer {token}"}
    params = {"client_id": mine.id}
    ingest = stack.backends["ingest"]
    assert (await ingest.get("/v1/jobs", params=params, headers=h)).status_code == 200
    # The owner is taken off the client: the token loses it at once (no cache in tests).
    async with await stack.session() as s:
        await s.exec(delete(UserClient).where(col(UserClient.user_id) == user.id))
        await s.commit()
    assert (await ingest.get("/v1/jobs", params=params, headers=h)).status_code == 404
    # Reassigned, then the owner's account is deactivated: the token dies with it.
    async with await stack.session() as s:
        s.add(UserClient(user_id=user.id, client_id=mine.id))
        await s.commit()
    assert (await ingest.get("/v1/jobs", params=params, headers=h)).status_code == 200
    async with await stack.session() as s:
        row = await s.get(User, user.id)
        row.active = False
        s.add(row)
        await s.commit()
    assert (await ingest.get("/v1/jobs", params=params, headers=h)).status_code == 401


async def test_a_read_token_cannot_write_and_the_store_keeps_no_plain_token(stack) -> None:
    mine = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [mine])
    await login(stack.web, user.email)
    token = await new_token(stack, mine, scope="read")
    h = {"Authorization": f"Bearer {token}"}
    r = await stack.backends["planner"].post(
        "/v1/plans",
        json={
            "client_id": mine.id,
            "name": "Written with a read token",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
        },
        headers=h,
    )
    assert r.status_code == 403, r.text
    listed = await stack.backends["planner"].get(
        "/v1/plans", params={"client_id": mine.id}, headers=h
    )
    assert listed.status_code == 200 and listed.json()["data"] == []
    async with await stack.session() as s:
        rows = (await s.exec(ApiToken.__table__.select())).all()  # type: ignore[attr-defined]
    secret = token.split("_", 2)[2]  # bal_<id>_<secret>; the secret may contain "_"
    assert rows and not any(secret in str(tuple(r)) for r in rows)


async def test_webs_internal_endpoints_answer_services_only(stack) -> None:
    """Introspection and client facts: a service token addressed to web, nothing else."""
    from shared.auth import Role
    from tests.conftest import token_for

    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "admin", [client])
    await login(stack.web, user.email)
    api_token = await new_token(stack, client)
    callers = {
        "a browser session": {},
        "an admin's token for the backends": {
            "Authorization": f"Bearer {token_for([client.id], role='admin')}"
        },
        "an admin's token addressed to web": {
            "Authorization": f"Bearer {token_for([client.id], role='admin', audience=('web',))}"
        },
        "an API token": {"Authorization": f"Bearer {api_token}"},
    }
    for who, headers in callers.items():
        facts = await stack.web.get(f"/internal/v1/clients/{client.id}", headers=headers)
        assert facts.status_code in (401, 403), f"{who}: {facts.status_code}"
        assert client.slug not in facts.text
        spy = await stack.web.post(
            "/internal/v1/introspect", json={"token": api_token}, headers=headers
        )
        assert spy.status_code in (401, 403), f"{who}: {spy.status_code}"
        assert "client_ids" not in spy.text
    service = token_for([client.id], role=Role.service, audience=("web",))
    ok = await stack.web.get(
        f"/internal/v1/clients/{client.id}", headers={"Authorization": f"Bearer {service}"}
    )
    assert ok.status_code == 200 and ok.json()["slug"] == client.slug
