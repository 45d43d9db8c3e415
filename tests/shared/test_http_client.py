"""The typed client base: retries with backoff on idempotent calls, error mapping, and the
request id forwarded across services. The far side is a real local server."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.http import BackendClient, BackendNotFound, BackendRejected, BackendUnavailable
from shared.logging import request_id_var


class Flaky:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.seen_request_ids: list[str | None] = []


def make_app(state: Flaky) -> FastAPI:
    app = FastAPI()

    @app.api_route("/flaky/{name}", methods=["GET", "POST"])
    async def flaky(name: str, request: Request) -> JSONResponse:
        state.calls[name] = state.calls.get(name, 0) + 1
        state.seen_request_ids.append(request.headers.get("x-request-id"))
        if state.calls[name] <= 2:
            return JSONResponse({"detail": "busy"}, status_code=503)
        return JSONResponse({"ok": True, "calls": state.calls[name]})

    @app.get("/missing")
    async def missing() -> JSONResponse:
        return JSONResponse(
            {"type": "x/not-found", "status": 404, "detail": "no such plan"},
            status_code=404,
            media_type="application/problem+json",
        )

    @app.post("/refuse")
    async def refuse() -> JSONResponse:
        return JSONResponse(
            {
                "status": 422,
                "detail": "target below baseline",
                "errors": [{"field": "body.target"}],
            },
            status_code=422,
        )

    @app.get("/slow")
    async def slow() -> JSONResponse:
        await asyncio.sleep(2)
        return JSONResponse({})

    return app


@pytest.fixture
def server() -> Iterator[tuple[str, Flaky]]:
    state = Flaky()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        make_app(state), host="127.0.0.1", port=port, log_level="error", lifespan="off"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", state
    srv.should_exit = True
    thread.join(5)


async def test_idempotent_calls_are_retried_and_carry_the_request_id(server):
    url, state = server
    client = BackendClient(url, retries=2, backoff=0.01)
    token = request_id_var.set("req-42")
    try:
        r = await client.request("GET", "/flaky/a")
    finally:
        request_id_var.reset(token)
        await client.aclose()
    assert r.json() == {"ok": True, "calls": 3}
    assert state.seen_request_ids == ["req-42"] * 3


async def test_non_idempotent_posts_are_not_retried_without_a_key(server):
    url, state = server
    client = BackendClient(url, retries=2, backoff=0.01)
    try:
        with pytest.raises(BackendUnavailable):
            await client.request("POST", "/flaky/b")
        assert state.calls["b"] == 1
        r = await client.request("POST", "/flaky/c", idempotency_key="k-1")
        assert r.status_code == 200 and state.calls["c"] == 3
    finally:
        await client.aclose()


async def test_errors_are_mapped(server):
    url, _ = server
    client = BackendClient(url, retries=0, timeout=0.5)
    try:
        with pytest.raises(BackendNotFound, match="no such plan"):
            await client.request("GET", "/missing")
        with pytest.raises(BackendRejected) as rejected:
            await client.request("POST", "/refuse")
        assert rejected.value.status == 422
        assert rejected.value.problem["errors"] == [{"field": "body.target"}]
        with pytest.raises(BackendUnavailable):
            await client.request("GET", "/slow")
    finally:
        await client.aclose()
    down = BackendClient("http://127.0.0.1:9", retries=1, backoff=0.01)
    try:
        with pytest.raises(BackendUnavailable, match="unreachable"):
            await down.request("GET", "/anything")
    finally:
        await down.aclose()
