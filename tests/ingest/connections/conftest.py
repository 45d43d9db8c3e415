"""Fixtures of the ingest tests: the X stub served on a free loopback port."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ingest.connections.x_stub import XStub
from tests.servers import Served


@pytest.fixture
def xstub() -> Iterator[XStub]:
    stub = XStub()
    served = Served(stub.app()).start()
    stub.base_url = served.base_url  # type: ignore[attr-defined]
    yield stub
    served.stop()


def x_settings(stub: XStub) -> dict[str, Any]:
    """Ingest settings pointing X's OAuth app and API at the stub."""
    base = stub.base_url  # type: ignore[attr-defined]
    return {
        "oauth_x_client_id": stub.client_id,
        "oauth_x_client_secret": stub.client_secret,
        "oauth_x_authorize_url": f"{base}/i/oauth2/authorize",
        "oauth_x_token_url": f"{base}/2/oauth2/token",
        "x_base_url": base,
        "x_api_version": "2",
    }


def session_binding() -> str:
    """What web sends: a hash of the user's browser session."""
    return hashlib.sha256(secrets.token_bytes(16)).hexdigest()
