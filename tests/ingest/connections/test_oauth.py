"""Connecting X through OAuth 2.0 + PKCE against a local stub authorization server.

The round trip is the real one over loopback HTTP: ingest builds the authorization URL,
the "browser" follows it to the stub, which redirects back with a code; ingest exchanges
the code (PKCE verifier, client authentication), stores the tokens encrypted, and later
refreshes them before they expire (the stub rotates refresh tokens, as X does).
"""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import col, select

from services.ingest.connections import tokens
from services.ingest.connections.models import Connection, OAuthState
from services.ingest.connectors.base import AuthExpired
from services.ingest.webhooks.events import REAUTH_REQUIRED
from services.ingest.webhooks.models import IngestWebhookDelivery
from shared.crypto import box_for
from tests.conftest import auth, new_client_id
from tests.ingest.connections.conftest import session_binding, x_settings
from tests.shared.outbox_helpers import tx_sessionmaker

REDIRECT = "http://web.test/oauth/callback"


async def start(c, cid, binding, **kw):
    r = await c.post(
        "/v1/connections/oauth/start",
        json={
            "client_id": cid,
            "network": "x",
            "redirect_uri": REDIRECT,
            "session_binding": binding,
            **kw,
        },
        headers=auth([cid]),
    )
    assert r.status_code == 200, r.text
    return r.json()


async def consent(authorize_url: str) -> dict[str, str]:
    """The user's browser at the provider: it redirects back to web's callback."""
    async with httpx.AsyncClient() as browser:
        r = await browser.get(authorize_url)
    assert r.status_code == 302, r.text
    location = r.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def connect(c, cid, binding):
    started = await start(c, cid, binding)
    back = await consent(started["authorize_url"])
    r = await c.post(
        "/v1/connections/oauth/complete",
        json={"state": back["state"], "code": back["code"], "session_binding": binding},
        headers=auth([cid]),
    )
    assert r.status_code == 200, r.text
    return started, back, r.json()


async def test_full_oauth_round_trip_with_pkce_then_refresh(make_backend, db, connection, xstub):
    cid = new_client_id()
    binding = session_binding()
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        started, back, created = await connect(c, cid, binding)

        # The authorization request: PKCE S256, the scopes X needs, our state.
        q = parse_qs(urlsplit(started["authorize_url"]).query)
        assert q["response_type"] == ["code"] and q["client_id"] == [xstub.client_id]
        assert q["redirect_uri"] == [REDIRECT] and q["code_challenge_method"] == ["S256"]
        assert set(q["scope"][0].split()) == {"tweet.read", "users.read", "offline.access"}
        assert q["state"] == [started["state"]] == [back["state"]]

        # The code exchange carried the verifier and authenticated the client (Basic).
        exchange = next(p for m, path, p in xstub.calls if path == "/2/oauth2/token")
        assert exchange["grant_type"] == "authorization_code" and exchange["code_verifier"]

        conn = created["connection"]
        assert conn["status"] == "active" and conn["provider"] == "x"
        assert conn["auth_kind"] == "oauth" and conn["networks"] == ["x"]
        assert conn["scopes_missing"] == [] and "offline.access" in conn["scopes_granted"]
        assert 7000 < conn["expires_in_seconds"] <= 7200 and conn["refreshable"] is True
        assert len(created["jobs"]) == 1  # the backfill of the new account

        # Tokens are stored encrypted, and only there.
        issued = xstub.issued[0]
        row = await db.get(Connection, conn["id"])
        box = box_for(app.state.settings)
        assert issued["access_token"] not in row.access_token_enc
        assert box.decrypt(row.access_token_enc) == issued["access_token"]
        assert box.decrypt(row.refresh_token_enc) == issued["refresh_token"]
        shown = await c.get(f"/v1/connections/{conn['id']}", headers=auth([cid]))
        for secret in (issued["access_token"], issued["refresh_token"]):
            assert secret not in shown.text and secret not in created.__repr__()

        # Refreshed before it expires: a sync 5 minutes before expiry gets a new token.
        maker = tx_sessionmaker(connection)
        soon = row.expires_at - dt.timedelta(minutes=5)
        access = await tokens.access_for(maker, app.state.settings, conn["id"], now=soon)
        assert access.access_token == xstub.issued[1]["access_token"] != issued["access_token"]
        refresh_call = [p for m, path, p in xstub.calls if path == "/2/oauth2/token"][-1]
        assert refresh_call["grant_type"] == "refresh_token"
        assert refresh_call["refresh_token"] == issued["refresh_token"]
        assert issued["refresh_token"] not in xstub.refresh_tokens  # rotated away
        await db.refresh(row)
        assert box.decrypt(row.refresh_token_enc) == xstub.issued[1]["refresh_token"]
        assert row.token_version == 2

        # Far from expiry nothing is refreshed.
        again = await tokens.access_for(maker, app.state.settings, conn["id"])
        assert again.access_token == access.access_token and len(xstub.issued) == 2


async def test_state_is_single_use_and_bound_to_session_user_and_client(make_backend, xstub):
    cid = new_client_id()
    binding = session_binding()
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        started = await start(c, cid, binding)
        back = await consent(started["authorize_url"])
        body = {"state": back["state"], "code": back["code"], "session_binding": binding}

        other_session = {**body, "session_binding": session_binding()}
        r = await c.post("/v1/connections/oauth/complete", json=other_session, headers=auth([cid]))
        assert r.status_code == 403
        r = await c.post(
            "/v1/connections/oauth/complete", json=body, headers=auth([cid], user_id=99)
        )
        assert r.status_code == 403
        r = await c.post(
            "/v1/connections/oauth/complete", json=body, headers=auth([new_client_id()])
        )
        assert r.status_code == 404  # another tenant's authorization does not exist for it

        r = await c.post("/v1/connections/oauth/complete", json=body, headers=auth([cid]))
        assert r.status_code == 200, r.text
        r = await c.post("/v1/connections/oauth/complete", json=body, headers=auth([cid]))
        assert r.status_code == 404 and "already used" in r.json()["detail"]

        r = await c.post(
            "/v1/connections/oauth/complete",
            json={**body, "state": "x" * 43},
            headers=auth([cid]),
        )
        assert r.status_code == 404


async def test_expired_state_and_provider_refusals(make_backend, db, xstub):
    cid = new_client_id()
    binding = session_binding()
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        started = await start(c, cid, binding)
        rows = (await db.exec(select(OAuthState).where(col(OAuthState.client_id) == cid))).all()
        assert len(rows) == 1 and rows[0].code_verifier_enc  # the verifier is kept encrypted
        rows[0].expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.add(rows[0])
        await db.commit()
        r = await c.post(
            "/v1/connections/oauth/complete",
            json={"state": started["state"], "code": "whatever", "session_binding": binding},
            headers=auth([cid]),
        )
        assert r.status_code == 422 and "expired" in r.json()["detail"]

        started = await start(c, cid, binding)
        r = await c.post(
            "/v1/connections/oauth/complete",
            json={
                "state": started["state"],
                "error": "access_denied",
                "error_description": "The user cancelled",
                "session_binding": binding,
            },
            headers=auth([cid]),
        )
        assert r.status_code == 422 and "access_denied" in r.json()["detail"]

        started = await start(c, cid, binding)
        r = await c.post(
            "/v1/connections/oauth/complete",
            json={"state": started["state"], "code": "forged-code", "session_binding": binding},
            headers=auth([cid]),
        )
        assert r.status_code == 422 and "invalid" in r.json()["detail"]
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_unconfigured_provider_and_read_only_callers(make_backend):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        r = await c.post(
            "/v1/connections/oauth/start",
            json={
                "client_id": cid,
                "network": "x",
                "redirect_uri": REDIRECT,
                "session_binding": session_binding(),
            },
            headers=auth([cid]),
        )
        assert r.status_code == 409 and "INGEST_OAUTH_X_CLIENT_ID" in r.json()["detail"]
        r = await c.post(
            "/v1/connections/oauth/start",
            json={
                "client_id": cid,
                "network": "matomo",
                "redirect_uri": REDIRECT,
                "session_binding": session_binding(),
            },
            headers=auth([cid]),
        )
        assert r.status_code == 422
        r = await c.post(
            "/v1/connections/oauth/start",
            json={
                "client_id": cid,
                "network": "x",
                "redirect_uri": REDIRECT,
                "session_binding": session_binding(),
            },
            headers=auth([cid], role="client_viewer", scope="read"),
        )
        assert r.status_code == 403
        providers = (await c.get("/v1/connections/providers", headers=auth([cid]))).json()
        x = next(p for p in providers if p["network"] == "x")
        assert x["oauth_configured"] is False and "offline.access" in x["scopes"]


async def test_dead_refresh_token_marks_reconnect_needed_and_fires_the_event(
    make_backend, db, connection, xstub
):
    cid = new_client_id()
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        r = await c.post(
            "/v1/webhooks/subscriptions",
            json={
                "client_id": cid,
                "url": "https://93.184.215.14/h",
                "event_types": [REAUTH_REQUIRED],
            },
            headers=auth([cid]),
        )
        assert r.status_code == 201
        _, _, created = await connect(c, cid, session_binding())
        conn_id = created["connection"]["id"]
        xstub.revoke_everything()  # the user revoked Balise's access at X
        row = await db.get(Connection, conn_id)
        soon = row.expires_at - dt.timedelta(minutes=1)
        with pytest.raises(AuthExpired):
            await tokens.access_for(
                tx_sessionmaker(connection), app.state.settings, conn_id, now=soon
            )
        shown = (await c.get(f"/v1/connections/{conn_id}", headers=auth([cid]))).json()
        assert shown["status"] == "reconnect_needed"
        assert "token was invalid" in shown["status_reason"]
        events = (
            await db.exec(
                select(IngestWebhookDelivery).where(col(IngestWebhookDelivery.client_id) == cid)
            )
        ).all()
        assert [e.event_type for e in events] == [REAUTH_REQUIRED]
        assert f'"connection_id":{conn_id}' in events[0].payload

        # Syncing is refused until someone reconnects; reconnecting revives the row.
        r = await c.post(f"/v1/connections/{conn_id}/sync", headers=auth([cid]))
        assert r.status_code == 409
        binding = session_binding()
        started = await start(c, cid, binding, connection_id=conn_id)
        back = await consent(started["authorize_url"])
        r = await c.post(
            "/v1/connections/oauth/complete",
            json={"state": back["state"], "code": back["code"], "session_binding": binding},
            headers=auth([cid]),
        )
        assert r.status_code == 200
        assert r.json()["connection"]["id"] == conn_id
        assert r.json()["connection"]["status"] == "active"


async def test_tokens_never_reach_the_logs(make_backend, connection, xstub, caplog):
    cid = new_client_id()
    caplog.set_level(logging.DEBUG)
    async with make_backend("ingest", **x_settings(xstub)) as (app, c):
        started, back, created = await connect(c, cid, session_binding())
        row_id = created["connection"]["id"]
        maker = tx_sessionmaker(connection)
        async with maker() as s:
            row = await s.get(Connection, row_id)
            soon = row.expires_at - dt.timedelta(minutes=1)
        await tokens.access_for(maker, app.state.settings, row_id, now=soon)
        xstub.revoke_everything()
        with pytest.raises(AuthExpired):
            later = soon + dt.timedelta(hours=2)
            await tokens.access_for(maker, app.state.settings, row_id, now=later)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    text = caplog.text + "\n".join(repr(r.__dict__) for r in caplog.records)
    secrets = [xstub.client_secret, back["code"]]
    for issued in xstub.issued:
        secrets += [issued["access_token"], issued["refresh_token"]]
    verifier = next(p["code_verifier"] for m, path, p in xstub.calls if "code_verifier" in p)
    secrets.append(verifier)
    leaked = [s for s in secrets if s in text]
    assert not leaked, "a secret was logged"


class MetaStub:
    """Facebook Login's dialog and Graph's token, long-lived exchange and permissions."""

    def __init__(self) -> None:
        self.client_id, self.client_secret = "1234567890", "meta-app-secret-value"
        self.codes: set[str] = set()
        self.exchanges: list[dict[str, str]] = []

    async def dialog(self, request):
        from starlette.responses import RedirectResponse

        q = request.query_params
        code = "AQD" + q["state"][:8]
        self.codes.add(code)
        return RedirectResponse(f"{q['redirect_uri']}?code={code}&state={q['state']}#_=_", 302)

    async def token(self, request):
        from starlette.responses import JSONResponse

        form = dict(await request.form())
        self.exchanges.append({k: str(v) for k, v in form.items()})
        if form.get("client_secret") != self.client_secret:
            return JSONResponse(
                {
                    "error": {
                        "message": "Error validating client secret.",
                        "type": "OAuthException",
                        "code": 1,
                    }
                },
                status_code=400,
            )
        if form.get("grant_type") == "fb_exchange_token":
            if form.get("fb_exchange_token") != "EAAshort":
                return JSONResponse(
                    {
                        "error": {
                            "message": "Invalid OAuth access token.",
                            "type": "OAuthException",
                            "code": 190,
                        }
                    },
                    status_code=400,
                )
            return JSONResponse(
                {"access_token": "EAAlong-lived", "token_type": "bearer", "expires_in": 5183944}
            )
        if form.get("code") not in self.codes:
            return JSONResponse(
                {
                    "error": {
                        "message": "Invalid verification code format.",
                        "type": "OAuthException",
                        "code": 100,
                    }
                },
                status_code=400,
            )
        self.codes.discard(str(form["code"]))
        return JSONResponse(
            {"access_token": "EAAshort", "token_type": "bearer", "expires_in": 5400}
        )

    async def permissions(self, request):
        from starlette.responses import JSONResponse

        assert request.headers["authorization"] == "Bearer EAAlong-lived"
        return JSONResponse(
            {
                "data": [
                    {"permission": "pages_show_list", "status": "granted"},
                    {"permission": "pages_read_engagement", "status": "granted"},
                    {"permission": "read_insights", "status": "declined"},
                    {"permission": "public_profile", "status": "granted"},
                ]
            }
        )

    def app(self):
        from starlette.applications import Starlette
        from starlette.routing import Route

        return Starlette(
            routes=[
                Route("/v23.0/dialog/oauth", self.dialog),
                Route("/v23.0/oauth/access_token", self.token, methods=["POST"]),
                Route("/v23.0/me/permissions", self.permissions),
            ]
        )


async def test_meta_code_then_long_lived_token_and_declined_permissions(make_backend, db):
    from tests.servers import Served

    meta = MetaStub()
    served = Served(meta.app()).start()
    base = served.base_url
    cid = new_client_id()
    binding = session_binding()
    try:
        async with make_backend(
            "ingest",
            oauth_meta_client_id=meta.client_id,
            oauth_meta_client_secret=meta.client_secret,
            oauth_meta_authorize_url=f"{base}/v23.0/dialog/oauth",
            oauth_meta_token_url=f"{base}/v23.0/oauth/access_token",
        ) as (app, c):
            r = await c.post(
                "/v1/connections/oauth/start",
                json={
                    "client_id": cid,
                    "network": "facebook",
                    "external_id": "123456789",
                    "redirect_uri": REDIRECT,
                    "session_binding": binding,
                },
                headers=auth([cid]),
            )
            q = parse_qs(urlsplit(r.json()["authorize_url"]).query)
            assert q["scope"] == ["pages_show_list,pages_read_engagement,read_insights"]
            assert "code_challenge" not in q  # Facebook Login: no PKCE for a server app
            back = await consent(r.json()["authorize_url"])
            r = await c.post(
                "/v1/connections/oauth/complete",
                json={"state": back["state"], "code": back["code"], "session_binding": binding},
                headers=auth([cid]),
            )
            assert r.status_code == 200, r.text
            conn = r.json()["connection"]
            assert [e["grant_type"] for e in meta.exchanges] == [
                "authorization_code",
                "fb_exchange_token",
            ]
            # The 60-day token is kept, and Meta cannot refresh it: the board counts down.
            assert 59 * 86400 < conn["expires_in_seconds"] <= 60 * 86400
            assert conn["refreshable"] is False
            assert conn["scopes_missing"] == ["read_insights"]
            assert conn["accounts"][0]["external_id"] == "123456789"
            row = await db.get(Connection, conn["id"])
            assert box_for(app.state.settings).decrypt(row.access_token_enc) == "EAAlong-lived"
            assert row.refresh_token_enc is None
    finally:
        served.stop()


def test_google_asks_for_offline_access_with_pkce():
    from services.ingest.connections import oauth
    from services.ingest.connections.providers import PROVIDERS, OAuthApp

    app = OAuthApp(
        provider=PROVIDERS["google"],
        client_id="cid.apps.googleusercontent.com",
        client_secret="x",
        authorize_url=PROVIDERS["google"].authorize_url,
        token_url=PROVIDERS["google"].token_url,
    )
    url = oauth.authorization_url(
        app,
        scopes=["https://www.googleapis.com/auth/analytics.readonly"],
        redirect_uri=REDIRECT,
        state="s" * 20,
        code_verifier=oauth.new_code_verifier(),
    )
    q = parse_qs(urlsplit(url).query)
    assert q["access_type"] == ["offline"] and q["prompt"] == ["consent"]
    assert q["code_challenge_method"] == ["S256"]
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
