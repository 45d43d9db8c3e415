"""The connection-health board and connecting accounts from the browser."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from services.ingest.connections.models import Connection
from tests.conftest import auth
from tests.ingest.connections.x_stub import XStub
from tests.servers import Served
from tests.web.conftest import csrf_of, login, make_client, make_user, open_stack, soup


def board(slug: str) -> str:
    return f"/c/{slug}/analyse/connections"


async def add_connection(stack, client_id: int, **fields) -> int:
    values = {
        "client_id": client_id,
        "provider": "x",
        "auth_kind": "oauth",
        "networks": ["x"],
        "accounts": [
            {"network": "x", "external_id": "2244994945", "account_id": None, "name": "XDevelopers"}
        ],
        "scopes_needed": ["tweet.read", "users.read", "offline.access"],
        "scopes_granted": ["tweet.read", "users.read", "offline.access"],
        "access_token_enc": "unused-in-this-test",
    }
    values.update(fields)
    async with await stack.session() as s:
        row = Connection(**values)
        s.add(row)
        await s.commit()
        return int(row.id)


async def test_board_shows_each_connections_health(stack):
    client = await make_client(stack.engine, "Musée des Ondes")
    user = await make_user(stack.engine, "strategist", [client])
    now = dt.datetime.now(dt.UTC)
    healthy = await add_connection(
        stack,
        client.id,
        expires_at=now + dt.timedelta(days=2, hours=5, minutes=10),
        refresh_token_enc="unused",
        last_success_at=now - dt.timedelta(hours=3),
        rate_limit={"users/:id/tweets": {"remaining": 12, "reset": "2026-01-01T00:00:00Z"}},
    )
    broken = await add_connection(
        stack,
        client.id,
        provider="meta",
        networks=["facebook"],
        accounts=[{"network": "facebook", "external_id": "123", "account_id": None, "name": None}],
        scopes_needed=["pages_show_list", "pages_read_engagement", "read_insights"],
        scopes_granted=["pages_show_list"],
        status="reconnect_needed",
        status_reason="facebook: Error validating access token (code 190)",
        last_error="facebook: Error validating access token (code 190)",
        last_error_at=now,
        expires_at=now - dt.timedelta(hours=2),
        next_allowed_at=now + dt.timedelta(hours=1),
        rate_limit={"blocked_by": "quota"},
    )
    await login(stack.web, user.email)
    r = await stack.web.get(board(client.slug))
    assert r.status_code == 200
    page = soup(r)
    assert page.find("h1").get_text() == "Connexions"
    rows = {int(tr["data-connection"]): tr for tr in page.select("tr[data-connection]")}
    assert set(rows) == {healthy, broken}

    ok = rows[healthy]
    assert ok["data-status"] == "active"
    expiry = ok.select_one("[data-expiry] time")
    assert expiry.get_text().startswith("expire dans 2 j 5 h") and expiry.get("datetime")
    assert "renouvelé automatiquement" in ok.select_one("[data-expiry]").get_text()
    assert "3 sur 3" in ok.select_one("[data-scopes]").get_text()
    assert "12 appels restants" in ok.select_one("[data-rate]").get_text()
    assert (
        ok.select_one("button[data-action=sync]")["hx-post"]
        == f"{board(client.slug)}/{healthy}/sync"
    )
    assert ok.select_one("a[data-action=reconnect]")["href"].endswith(f"/{healthy}/reconnect")

    bad = rows[broken]
    assert bad["data-status"] == "reconnect_needed"
    assert "expiré depuis 2 h" in bad.select_one("[data-expiry]").get_text()
    missing = [c.get_text() for c in bad.select("[data-scopes] code")]
    assert missing == ["pages_read_engagement", "read_insights"]
    assert "quota épuisé" in bad.select_one("[data-rate]").get_text()
    assert "code 190" in bad.get_text()
    assert bad.select_one("button[data-action=sync]") is None  # reconnect first
    assert "primary" in bad.select_one("a[data-action=reconnect]")["class"]

    # The board refreshes itself (the countdown moves) without reloading the page.
    assert page.select_one("#board")["hx-trigger"] == "every 30s"
    frag = await stack.web.get(
        board(client.slug), headers={"HX-Request": "true", "HX-Target": "board"}
    )
    assert frag.status_code == 200 and "<html" not in frag.text
    assert len(soup(frag).select("tr[data-connection]")) == 2


async def test_sync_now_shows_the_jobs_progress(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "community_manager", [client])
    conn_id = await add_connection(stack, client.id)
    await login(stack.web, user.email)
    page = await stack.web.get(board(client.slug))
    r = await stack.web.post(
        f"{board(client.slug)}/{conn_id}/sync",
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(page)},
    )
    assert r.status_code == 200, r.text
    job = soup(r).select_one("div.job")
    assert job["data-job-status"] == "queued"
    assert job["hx-get"].startswith("/jobs/ingest/") and job["hx-trigger"] == "every 1s"
    # Without the form's token nothing happens.
    r = await stack.web.post(f"{board(client.slug)}/{conn_id}/sync", headers={"HX-Request": "true"})
    assert r.status_code == 403


async def test_paste_forms_show_the_backends_reasons(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    page = await stack.web.get(board(client.slug))
    forms = soup(page)
    assert forms.select_one("form[data-form=token] input[name=token]")["type"] == "password"
    assert forms.select_one("form[data-form=service-account]")["enctype"] == "multipart/form-data"
    r = await stack.web.post(
        f"{board(client.slug)}/token",
        data={
            "csrf_token": csrf_of(page),
            "network": "matomo",
            "token": "abcdefgh1234",
            "external_id": "3",
        },
    )
    assert r.status_code == 422
    assert "Matomo" in soup(r).select_one("p.error").get_text()
    r = await stack.web.post(
        f"{board(client.slug)}/service-account",
        data={"csrf_token": csrf_of(page), "property_id": "1234", "key": "{}"},
    )
    assert r.status_code == 422
    r = await stack.web.post(
        f"{board(client.slug)}/token",
        data={
            "csrf_token": csrf_of(page),
            "network": "matomo",
            "token": "abcdefgh1234",
            "external_id": "3",
            "base_url": "https://stats.example.org",
        },
    )
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"{board(client.slug)}?connected=1&jobs=")
    done = soup(await stack.web.get(r.headers["location"]))
    assert done.select_one("div.notice") is not None
    assert done.select("#sync-jobs div.job")
    assert [tr["data-status"] for tr in done.select("tr[data-connection]")] == ["active"]


async def test_client_viewer_reads_the_board_without_actions(stack):
    client = await make_client(stack.engine)
    viewer = await make_user(stack.engine, "client_viewer", [client])
    await add_connection(stack, client.id)
    await login(stack.web, viewer.email)
    page = soup(await stack.web.get(board(client.slug)))
    assert page.select("tr[data-connection]")
    assert not page.select("[data-action]") and page.select_one("#connect") is None


async def test_the_board_degrades_when_ingest_is_down(migrated, var_dir, engine):
    async with open_stack(migrated, var_dir, engine, down=("ingest",)) as stack:
        client = await make_client(stack.engine)
        user = await make_user(stack.engine, "strategist", [client])
        await login(stack.web, user.email)
        r = await stack.web.get(board(client.slug))
        assert r.status_code == 200
        assert soup(r).select_one("#board .degraded") is not None


@pytest.fixture
def x_oauth(monkeypatch):
    stub = XStub()
    served = Served(stub.app()).start()
    base = served.base_url
    monkeypatch.setenv("INGEST_OAUTH_X_CLIENT_ID", stub.client_id)
    monkeypatch.setenv("INGEST_OAUTH_X_CLIENT_SECRET", stub.client_secret)
    monkeypatch.setenv("INGEST_OAUTH_X_AUTHORIZE_URL", f"{base}/i/oauth2/authorize")
    monkeypatch.setenv("INGEST_OAUTH_X_TOKEN_URL", f"{base}/2/oauth2/token")
    yield stub
    served.stop()


async def _to_provider(stack, slug: str) -> str:
    page = await stack.web.get(board(slug))
    r = await stack.web.post(
        f"{board(slug)}/oauth", data={"csrf_token": csrf_of(page), "network": "x"}
    )
    assert r.status_code == 303, r.text
    return r.headers["location"]


async def _consent(authorize_url: str) -> str:
    async with httpx.AsyncClient() as browser:
        r = await browser.get(authorize_url)
    assert r.status_code == 302
    back = urlsplit(r.headers["location"])
    assert back.path == "/oauth/callback"
    return f"{back.path}?{back.query}"


async def test_connecting_x_from_the_browser(migrated, var_dir, engine, x_oauth):
    async with open_stack(migrated, var_dir, engine) as stack:
        client = await make_client(stack.engine)
        user = await make_user(stack.engine, "strategist", [client])
        await login(stack.web, user.email)
        authorize = await _to_provider(stack, client.slug)
        q = parse_qs(urlsplit(authorize).query)
        assert q["redirect_uri"] == ["http://testserver/oauth/callback"]
        callback = await _consent(authorize)
        r = await stack.web.get(callback)
        assert r.status_code == 303, r.text
        assert r.headers["location"].startswith(f"{board(client.slug)}?connected=1&jobs=")
        page = soup(await stack.web.get(r.headers["location"]))
        [row] = page.select("tr[data-connection]")
        assert row["data-status"] == "active" and "3 sur 3" in row.get_text()
        assert page.select("#sync-jobs div.job")
        listed = await stack.backends["ingest"].get(
            f"/v1/clients/{client.id}/connections", headers=auth([client.id])
        )
        assert listed.json()["data"][0]["provider"] == "x"


async def test_a_callback_in_another_session_is_refused(migrated, var_dir, engine, x_oauth):
    async with open_stack(migrated, var_dir, engine) as stack:
        client = await make_client(stack.engine)
        user = await make_user(stack.engine, "strategist", [client])
        await login(stack.web, user.email)
        callback = await _consent(await _to_provider(stack, client.slug))
        # The same user, signed in again (a new session): the authorization is not theirs.
        stack.web.cookies.clear()
        await login(stack.web, user.email)
        r = await stack.web.get(callback)
        assert r.status_code == 403
        assert "another session" in soup(r).get_text()
