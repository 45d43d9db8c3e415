"""Connecting with a pasted token or a GA4 service-account key; the health board."""

from __future__ import annotations

import datetime as dt
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from services.ingest.connections.models import Connection
from shared.crypto import box_for
from tests.conftest import auth, new_client_id


def service_account_key(**overrides):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    data = {
        "type": "service_account",
        "project_id": "balise-demo",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem,
        "client_email": "balise-reader@balise-demo.iam.gserviceaccount.com",
        "client_id": "109876543210987654321",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    data.update(overrides)
    return data


async def test_pasted_matomo_token(make_backend, db):
    cid = new_client_id()
    token = "5f1c0d6e8b2a4e3f9a7c6b5d4e3f2a1b"
    async with make_backend("ingest") as (app, c):
        r = await c.post(
            "/v1/connections/token",
            json={
                "client_id": cid,
                "network": "matomo",
                "token": token,
                "external_id": "3",
                "extra": {"base_url": "https://stats.example.org"},
                "label": "Matomo of the client",
            },
            headers=auth([cid]),
        )
        assert r.status_code == 201, r.text
        body = r.json()
        conn = body["connection"]
        assert conn["auth_kind"] == "token" and conn["status"] == "active"
        assert conn["accounts"] == [
            {"network": "matomo", "external_id": "3", "account_id": None, "name": None}
        ]
        assert conn["expires_at"] is None and conn["refreshable"] is False
        assert len(body["jobs"]) == 1
        assert token not in r.text
        row = await db.get(Connection, conn["id"])
        assert row.extra == {"base_url": "https://stats.example.org"}
        assert box_for(app.state.settings).decrypt(row.access_token_enc) == token

        # The same account pasted again updates the same connection (no duplicate).
        r = await c.post(
            "/v1/connections/token",
            json={
                "client_id": cid,
                "network": "matomo",
                "token": token[::-1],
                "external_id": "3",
                "extra": {"base_url": "https://stats.example.org"},
            },
            headers=auth([cid]),
        )
        assert r.status_code == 201 and r.json()["connection"]["id"] == conn["id"]
        board = (await c.get(f"/v1/clients/{cid}/connections", headers=auth([cid]))).json()
        assert [x["id"] for x in board["data"]] == [conn["id"]]


async def test_pasted_token_refusals(make_backend):
    cid = new_client_id()
    async with make_backend("ingest") as (app, c):
        cases = [
            ({"network": "matomo", "token": "abcdefgh12", "external_id": "3"}, "base_url"),
            ({"network": "facebook", "token": "EAAB12345678"}, "Page id"),
            ({"network": "youtube", "token": "ya29.abcdefgh", "external_id": "UC1"}, "pasted"),
            (
                {
                    "network": "plausible",
                    "token": "abcdefgh12",
                    "external_id": "example.org",
                    "extra": {"password": "x"},
                },
                "Unknown setting",
            ),
            (
                {
                    "network": "x",
                    "token": "AAAA bbbb cccc",
                    "external_id": None,
                },
                "spaces",
            ),
            (
                {
                    "network": "linkedin",
                    "token": "AQV12345678",
                    "external_id": "2414183",
                    "expires_at": "2020-01-01T00:00:00Z",
                },
                "expired",
            ),
        ]
        for body, words in cases:
            r = await c.post(
                "/v1/connections/token", json={"client_id": cid, **body}, headers=auth([cid])
            )
            assert r.status_code == 422, (body, r.text)
            assert words in r.json()["detail"], (body, r.json()["detail"])


async def test_ga4_service_account_key_is_validated_and_encrypted(make_backend, db):
    cid = new_client_id()
    key = service_account_key()
    async with make_backend("ingest") as (app, c):
        r = await c.post(
            "/v1/connections/service-account",
            json={"client_id": cid, "property_id": "properties/123456789", "key": json.dumps(key)},
            headers=auth([cid]),
        )
        assert r.status_code == 201, r.text
        conn = r.json()["connection"]
        assert conn["auth_kind"] == "service_account" and conn["provider"] == "google"
        assert conn["accounts"][0]["external_id"] == "123456789"
        assert conn["label"] == key["client_email"]
        assert "PRIVATE KEY" not in r.text
        row = await db.get(Connection, conn["id"])
        assert "PRIVATE KEY" not in row.service_account_enc
        assert box_for(app.state.settings).decrypt_json(row.service_account_enc) == key

        ec_pem = (
            ec.generate_private_key(ec.SECP256R1())
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )
        bad_keys = [
            ("{not json", "not valid JSON"),
            (json.dumps(service_account_key(type="authorized_user")), "not a service-account"),
            (json.dumps({**key, "private_key": ""}), "lacks: private_key"),
            (
                json.dumps({**key, "private_key": key["private_key"].replace("M", "N", 5)}),
                "not a readable PEM",
            ),
            (json.dumps({**key, "private_key": ec_pem}), "not an RSA key"),
            (json.dumps({**key, "token_uri": "http://evil.test/token"}), "https://"),
            (json.dumps({**key, "client_email": "nobody"}), "not an e-mail"),
        ]
        for bad, words in bad_keys:
            r = await c.post(
                "/v1/connections/service-account",
                json={"client_id": cid, "property_id": "123456789", "key": bad},
                headers=auth([cid]),
            )
            assert r.status_code == 422, (words, r.text)
            assert words in r.json()["detail"]
            assert "BEGIN" not in r.text  # the key is never echoed back
        r = await c.post(
            "/v1/connections/service-account",
            json={"client_id": cid, "property_id": "UA-1234-1", "key": key},
            headers=auth([cid]),
        )
        assert r.status_code == 422


async def test_board_runs_revoke_and_tenancy(make_backend, db):
    cid, other = new_client_id(), new_client_id()
    async with make_backend("ingest") as (app, c):
        r = await c.post(
            "/v1/connections/token",
            json={
                "client_id": cid,
                "network": "linkedin",
                "token": "AQVlinkedin-token-123",
                "external_id": "2414183",
                "expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).isoformat(),
            },
            headers=auth([cid]),
        )
        conn = r.json()["connection"]
        assert 9 * 86400 < conn["expires_in_seconds"] <= 10 * 86400
        assert conn["scopes_needed"] == ["r_organization_social", "rw_organization_admin"]
        for path in (
            f"/v1/connections/{conn['id']}",
            f"/v1/connections/{conn['id']}/runs",
            f"/v1/clients/{cid}/connections",
        ):
            assert (await c.get(path, headers=auth([other]))).status_code == 404
        for path in (f"/v1/connections/{conn['id']}/sync", f"/v1/connections/{conn['id']}/revoke"):
            assert (await c.post(path, headers=auth([other]))).status_code == 404
            viewer = auth([cid], role="client_viewer", scope="read")
            assert (await c.post(path, headers=viewer)).status_code == 403

        r = await c.post(f"/v1/connections/{conn['id']}/sync", headers=auth([cid]))
        assert r.status_code == 202
        first = r.json()["jobs"]
        # Asked again while the job waits: the same job, not a second one.
        r = await c.post(f"/v1/connections/{conn['id']}/sync", headers=auth([cid]))
        assert r.json()["jobs"] == first

        r = await c.post(f"/v1/connections/{conn['id']}/revoke", headers=auth([cid]))
        assert r.status_code == 200 and r.json()["status"] == "revoked"
        row = await db.get(Connection, conn["id"])
        await db.refresh(row)
        assert row.access_token_enc is None and row.refresh_token_enc is None
        r = await c.post(f"/v1/connections/{conn['id']}/sync", headers=auth([cid]))
        assert r.status_code == 409
