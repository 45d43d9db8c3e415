"""The keep-alive GET path of the typed clients (:mod:`shared.http_get`): answers read
whole and never mixed up, connections reused only when that is safe, every failure a
:class:`BackendUnavailable`. The far side is a real local server: uvicorn where it is
well behaved, a raw asyncio server where it must misbehave on purpose."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from shared.http import BackendClient, BackendUnavailable
from shared.http_get import KeepAliveGet, plain_target, split_base


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/echo/{name}")
    async def echo(name: str, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "name": name,
                "query": list(request.query_params.multi_items()),
                "auth": request.headers.get("authorization"),
                "request_id": request.headers.get("x-request-id"),
            }
        )

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for i in range(50):
                yield f'{{"part": {i}}}\n'.encode() * 20
                await asyncio.sleep(0)

        return StreamingResponse(parts(), media_type="application/x-ndjson")

    @app.get("/slow")
    async def slow(seconds: float = 0.5) -> JSONResponse:
        await asyncio.sleep(seconds)
        return JSONResponse({"slow": seconds})

    @app.get("/close")
    async def close() -> JSONResponse:
        return JSONResponse({"closing": True}, headers={"Connection": "close"})

    return app


@pytest.fixture(scope="module")
def uvicorn_url() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(
        uvicorn.Config(_app(), host="127.0.0.1", port=port, log_level="error", lifespan="off")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(5)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


class RawServer:
    """An asyncio server in the test's own loop; ``handler(reader, writer, n)`` gets the
    connection's number (0, 1, …) and does what the test wants, however wrong."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        async def on_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            n = self.connections
            self.connections += 1
            try:
                await self.handler(reader, writer, n)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass  # the client went away: what these tests do on purpose
            finally:
                writer.close()

        self.server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests += 1
        return head


@contextlib.contextmanager
def _pool(url: str, *, limit: int) -> Iterator[KeepAliveGet]:
    """A bare keep-alive pool to ``url`` (the limit tests speak to it directly)."""
    split = split_base(url)
    assert split is not None
    pool = KeepAliveGet(*split, limit=limit)
    try:
        yield pool
    finally:
        pool.close()


@contextlib.asynccontextmanager
async def _client(url: str) -> AsyncIterator[BackendClient]:
    """A typed client with no retries of its own (each test counts requests)."""
    client = BackendClient(url, retries=0)
    try:
        yield client
    finally:
        await client.aclose()


def _ok(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def test_plain_gets_reuse_one_connection_and_send_query_and_headers(uvicorn_url):
    async with _client(uvicorn_url) as client:
        for i in range(20):
            resp = await client.request(
                "GET",
                f"/echo/n{i}",
                token="tok-1",
                params={"q": "été / à+b&c=d", "n": i, "flag": True, "many": ["x", "y"]},
            )
            assert resp.status_code == 200
            assert resp.json() == {
                "name": f"n{i}",
                "query": [
                    ["q", "été / à+b&c=d"],
                    ["n", str(i)],
                    ["flag", "true"],
                    ["many", "x"],
                    ["many", "y"],
                ],
                "auth": "Bearer tok-1",
                "request_id": None,
            }
            assert resp.headers["content-type"] == "application/json"
        pool = client._keepalive()
        assert pool is not None and pool.opened == 1


async def test_params_join_a_query_the_path_already_holds(uvicorn_url):
    async with _client(uvicorn_url) as client:
        resp = await client.request("GET", "/echo/q?first=1", params={"second": "2"})
        assert resp.json()["query"] == [["first", "1"], ["second", "2"]]


async def test_chunked_answers_are_read_whole(uvicorn_url):
    async with _client(uvicorn_url) as client:
        resp = await client.request("GET", "/stream")
        lines = resp.text.splitlines()
        assert len(lines) == 50 * 20
        assert lines[0] == '{"part": 0}' and lines[-1] == '{"part": 49}'
        assert resp.headers["transfer-encoding"] == "chunked"
        # and the connection is reused after a chunked answer
        await client.request("GET", "/echo/after")
        pool = client._keepalive()
        assert pool is not None and pool.opened == 1


async def test_a_connection_the_server_closes_is_not_reused(uvicorn_url):
    async with _client(uvicorn_url) as client:
        assert (await client.request("GET", "/close")).json() == {"closing": True}
        assert (await client.request("GET", "/echo/next")).json()["name"] == "next"
        pool = client._keepalive()
        assert pool is not None and pool.opened == 2


async def test_a_timed_out_get_is_unavailable_and_its_late_answer_reaches_no_one(uvicorn_url):
    async with _client(uvicorn_url) as client:
        with pytest.raises(BackendUnavailable):
            await client.request("GET", "/slow", params={"seconds": 0.6}, timeout=0.2)
        await asyncio.sleep(0.6)  # the slow answer would have arrived by now
        assert (await client.request("GET", "/echo/fresh")).json()["name"] == "fresh"
        pool = client._keepalive()
        assert pool is not None and pool.opened == 2


async def test_a_cancelled_get_does_not_leave_its_answer_for_the_next(uvicorn_url):
    async with _client(uvicorn_url) as client:
        slow = asyncio.ensure_future(client.request("GET", "/slow", params={"seconds": 0.3}))
        await asyncio.sleep(0.05)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        await asyncio.sleep(0.4)
        assert (await client.request("GET", "/echo/mine")).json()["name"] == "mine"


async def test_a_connection_closed_while_idle_is_replaced_without_an_error():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await raw.read_request(reader)
        writer.write(_ok(b'{"conn": %d}' % n))
        await writer.drain()
        # The second request on this connection is read and dropped, as a server
        # closing an idle connection at that very moment would.
        await reader.readuntil(b"\r\n\r\n")

    raw = RawServer(handler)
    async with raw as url, _client(url) as client:
        assert (await client.request("GET", "/a")).json() == {"conn": 0}
        assert (await client.request("GET", "/b")).json() == {"conn": 1}
    assert raw.connections == 2


async def test_an_answer_cut_short_is_an_error_never_a_short_body():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await raw.read_request(reader)
        writer.write(_ok(b'{"whole": true}'))
        await raw.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b'{"cut": ')
        await writer.drain()

    raw = RawServer(handler)
    async with raw as url, _client(url) as client:
        assert (await client.request("GET", "/whole")).json() == {"whole": True}
        with pytest.raises(BackendUnavailable, match="unreachable"):
            await client.request("GET", "/cut")
    # Part of an answer had arrived on the reused connection: not taken for a stale
    # connection, so not sent again (the caller's retries decide that).
    assert raw.requests == 2 and raw.connections == 1


@pytest.mark.parametrize("how", ["timeout", "cancel"])
async def test_a_get_given_up_closes_its_connection(how):
    closed = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await raw.read_request(reader)
        if await reader.read() == b"":  # the client closed its side
            closed.set()

    raw = RawServer(handler)
    async with raw as url, _client(url) as client:
        if how == "timeout":
            with pytest.raises(BackendUnavailable):
                await client.request("GET", "/never", timeout=0.2)
        else:
            call = asyncio.ensure_future(client.request("GET", "/never"))
            await asyncio.sleep(0.1)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
        await asyncio.wait_for(closed.wait(), 2)


async def test_connection_close_is_honoured_even_on_an_open_socket():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            await raw.read_request(reader)
            writer.write(_ok(b"{}", "Connection: close"))
            await writer.drain()

    raw = RawServer(handler)
    async with raw as url, _client(url) as client:
        for _ in range(3):
            assert (await client.request("GET", "/x")).json() == {}
    assert raw.connections == 3


async def test_an_answer_ended_by_the_connection_alone_is_refused():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await raw.read_request(reader)
        writer.write(b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"unframed": true}')
        await writer.drain()

    raw = RawServer(handler)
    async with raw as url, _client(url) as client:
        with pytest.raises(BackendUnavailable):
            await client.request("GET", "/unframed")


async def test_a_malformed_answer_is_unavailable():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await raw.read_request(reader)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.2)

    raw = RawServer(handler)
    async with raw as url, _client(url) as client:
        with pytest.raises(BackendUnavailable):
            await client.request("GET", "/x")


async def test_an_unreachable_backend_is_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    async with _client(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(BackendUnavailable, match="unreachable"):
            await client.request("GET", "/x")


async def test_the_pool_holds_at_most_its_limit_of_connections():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            try:
                await raw.read_request(reader)
            except asyncio.IncompleteReadError:
                return
            await asyncio.sleep(0.05)
            writer.write(_ok(b"{}"))
            await writer.drain()

    raw = RawServer(handler)
    async with raw as url:
        with _pool(url, limit=2) as pool:
            answers = await asyncio.gather(
                *(pool.send(pool.request_bytes(f"/n{i}", {}), 5, 1) for i in range(6))
            )
    assert [a[0] for a in answers] == [200] * 6
    assert raw.connections == 2 and raw.requests == 6


async def test_what_cannot_be_sent_as_is_goes_through_aiohttp(uvicorn_url):
    async with _client(uvicorn_url) as client:
        # A path needing quoting: the plain path refuses it, aiohttp quotes it.
        resp = await client.request("GET", "/echo/été et hiver")
        assert resp.json()["name"] == "été et hiver"
        pool = client._keepalive()
        assert pool is not None and pool.opened == 0


def test_what_the_plain_path_accepts():
    assert plain_target("/v1/jobs?client_id=1&limit=10")
    assert plain_target("/v1/x%2Fy?q=%C3%A9t%C3%A9")
    assert not plain_target("/v1/é")
    assert not plain_target("/v1/a b")
    assert not plain_target("/v1/a\r\nX-Evil: 1")
    assert not plain_target("/v1/%zz")
    assert not plain_target("http://elsewhere/x")
    pool = KeepAliveGet("127.0.0.1", 1)
    assert pool.request_bytes("/x", {"X-A": "ok\r\nX-Evil: 1"}) is None
    assert pool.request_bytes("/x", {"Bad Name": "v"}) is None
    assert pool.request_bytes("/x", {"X-A": "é"}) is None
    assert pool.request_bytes("/x", {"X-A": "v"}) == (
        b"GET /x HTTP/1.1\r\nHost: 127.0.0.1:1\r\nX-A: v\r\n\r\n"
    )
    assert split_base("http://ingest:8001") == ("ingest", 8001)
    assert split_base("http://balise_web") == ("balise_web", 80)
    assert split_base("http://[::1]:9000/") == ("::1", 9000)
    assert split_base("https://ingest:8001") is None
    assert split_base("http://ingest:8001/prefix") is None
    assert KeepAliveGet("::1", 9000).request_bytes("/", {}) == (
        b"GET / HTTP/1.1\r\nHost: [::1]:9000\r\n\r\n"
    )


def test_json_bodies_match_the_aiohttp_path(uvicorn_url):
    """The same GET through both paths gives the same status, body and content type."""

    async def both() -> tuple[object, object]:
        fast = BackendClient(uvicorn_url, retries=0)
        slow = BackendClient(uvicorn_url, retries=0)
        slow._get_target = None  # aiohttp only
        try:
            a = await fast.request("GET", "/echo/same", params={"q": "a b"}, token="t")
            b = await slow.request("GET", "/echo/same", params={"q": "a b"}, token="t")
            return (a.status_code, a.json(), a.headers["content-type"]), (
                b.status_code,
                b.json(),
                b.headers["content-type"],
            )
        finally:
            await fast.aclose()
            await slow.aclose()

    a, b = asyncio.run(both())
    assert a == b
    assert a == (
        200,
        {"name": "same", "query": [["q", "a b"]], "auth": "Bearer t", "request_id": None},
        "application/json",
    )


async def test_the_timeout_covers_the_wait_for_a_free_connection():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await raw.read_request(reader)
        await asyncio.sleep(1.5)
        writer.write(_ok(b"{}"))
        await writer.drain()

    raw = RawServer(handler)
    async with raw as url:
        with _pool(url, limit=1) as pool:
            first = asyncio.ensure_future(pool.send(pool.request_bytes("/a", {}), 5, 1))
            await asyncio.sleep(0.05)
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await pool.send(pool.request_bytes("/b", {}), 0.2, 1)
            assert time.monotonic() - started < 1.2  # not after the first one's answer
            assert (await first)[0] == 200
    assert raw.requests == 1
