"""A real webhook receiver for the tests: an ASGI app served by uvicorn on a free port.

It verifies each message's Standard Webhooks signature on its own (plain ``hmac``, not
Balise's code), records what it got, and can be told to answer errors or to go down.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

from tests.servers import Served


def independent_verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's own check, written from the spec: HMAC-SHA256 over id.timestamp.body."""
    msg_id = headers.get("webhook-id", "")
    ts = headers.get("webhook-timestamp", "")
    sigs = headers.get("webhook-signature", "")
    if not (msg_id and ts.isdigit() and sigs):
        return False
    if abs(time.time() - int(ts)) > 300:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    for entry in sigs.split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    path: str

    @property
    def msg_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Start with ``start()``; ``url`` is where it listens. Thread-safe enough for tests."""

    secret: str | None = None
    fail_next: int = 0  # answer ``fail_status`` to this many requests, then 200
    fail_status: int = 503
    always_fail: bool = False
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    port: int = 0
    _served: Served | None = None

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.attempts += 1
        status = 200
        if self.always_fail:
            status = self.fail_status
        elif self.fail_next > 0:
            self.fail_next -= 1
            status = self.fail_status
        verified = bool(self.secret) and independent_verify(self.secret or "", headers, body)
        if status == 200:
            self.received.append(Received(headers, body, verified, scope["path"]))
        payload = b'{"ok":true}' if status == 200 else b'{"error":"receiver is failing"}'
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/balise"

    def start(self) -> Receiver:
        if self._served is None:
            self._served = Served(self.app, self.port)
        self._served.start()
        self.port = self._served.port
        return self

    def stop(self) -> None:
        """Go down: the port refuses connections until ``start()`` again (same port)."""
        if self._served is not None:
            self._served.stop()
