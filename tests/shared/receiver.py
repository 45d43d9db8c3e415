"""A real webhook receiver for the tests: an ASGI app served by uvicorn on a free port.

It verifies each message's Standard Webhooks signature on its own (plain ``hmac``, not
Balise's code), records what it got, and can be told to answer errors or to go down.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn


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
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    port: int = 0

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
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            loop="asyncio",
            interface="asgi3",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("receiver did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Go down: the port refuses connections until ``start()`` again (same port)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._server = None
        self._thread = None
