"""Service tokens: minted by web, verified by each backend for its own audience."""

from __future__ import annotations

import time

import jwt
import pytest

from shared.auth import Role, Scope, mint_service_token, verify_service_token
from shared.errors import Forbidden, NotFound, Unauthorized

SECRET = "s" * 48


def test_round_trip_carries_user_role_clients_and_scope():
    tok = mint_service_token(
        SECRET,
        subject="7",
        kind="user",
        role=Role.strategist,
        client_ids=[3, 1, 3],
        scope=Scope.write,
    )
    p = verify_service_token(SECRET, tok, "ingest")
    assert p.user_id == 7 and p.role == Role.strategist
    assert p.client_ids == frozenset({1, 3}) and p.can_write
    assert p.require_client(3) == 3
    with pytest.raises(NotFound):
        p.require_client(2)


def test_client_viewer_and_read_scope_cannot_write():
    viewer = verify_service_token(
        SECRET,
        mint_service_token(
            SECRET,
            subject="1",
            kind="user",
            role=Role.client_viewer,
            client_ids=[1],
            scope=Scope.write,
        ),
        "planner",
    )
    assert not viewer.can_write
    reader = verify_service_token(
        SECRET,
        mint_service_token(
            SECRET, subject="1", kind="user", role=Role.admin, client_ids=[1], scope=Scope.read
        ),
        "planner",
    )
    with pytest.raises(Forbidden):
        reader.require_write()


def test_expired_wrong_audience_tampered_and_foreign_tokens_are_refused():
    expired = mint_service_token(
        SECRET, subject="1", kind="user", role="admin", client_ids=[1], ttl=-60
    )
    with pytest.raises(Unauthorized, match="expired"):
        verify_service_token(SECRET, expired, "ingest")
    web_only = mint_service_token(
        SECRET, subject="ingest", kind="service", role="service", client_ids=[], audience=["web"]
    )
    with pytest.raises(Unauthorized, match="not valid for the ingest"):
        verify_service_token(SECRET, web_only, "ingest")
    good = mint_service_token(SECRET, subject="1", kind="user", role="admin", client_ids=[1])
    head, body, sig = good.split(".")
    with pytest.raises(Unauthorized):
        verify_service_token(SECRET, f"{head}.{body}.{sig[::-1]}", "ingest")
    other = mint_service_token("x" * 48, subject="1", kind="user", role="admin", client_ids=[1])
    with pytest.raises(Unauthorized):
        verify_service_token(SECRET, other, "ingest")
    # A token signed with "none" must never pass.
    unsigned = jwt.encode(
        {
            "sub": "1",
            "aud": ["ingest"],
            "iss": "balise",
            "role": "admin",
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
        },
        key=None,
        algorithm="none",
    )
    with pytest.raises(Unauthorized):
        verify_service_token(SECRET, unsigned, "ingest")
