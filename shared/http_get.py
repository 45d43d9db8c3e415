"""Plain GETs between Balise services over pooled keep-alive HTTP/1.1 connections.

Every page of a client starts with a GET to each of the three backends (their job
lists), so these calls are the web service's most frequent work. Through aiohttp each
costs ~100 µs of the caller's CPU (URL objects, header multidicts, timers, a response
object, a stream reader); written straight to an :class:`asyncio.Protocol` and read by
httptools' parser (the one uvicorn serves with) it costs ~30 µs. That is the whole of
this module: a request line and headers out, a status, headers and body back.

It serves only what it can serve exactly (:func:`plain_target`): a GET with no body to
an ``http://`` base, on a path and query made of characters that need no quoting. Every
other call stays on aiohttp (:mod:`shared.http`). The answer must be framed by
``Content-Length`` or chunked encoding (uvicorn always frames its answers); an answer
that ends with the connection instead is an error here, never a truncated body.

A connection goes back to the pool only after a whole answer that allows keep-alive;
any failure, timeout or cancellation closes it. A reused connection that the server had
already closed (uvicorn drops idle ones after 5 s) fails before any byte of an answer
arrives; the GET is then sent once more on a new connection, which is safe for a GET
and is what aiohttp does too.
"""

from __future__ import annotations

import asyncio
import re

import httptools

#: The characters a target may hold to be sent as is (RFC 3986 unreserved, sub-delims,
#: ':', '@', '/', '?' and '%' followed by two hex digits); anything else goes to aiohttp,
#: which quotes it.
_PLAIN_TARGET = re.compile(r"/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*")
#: Header names are tokens; values are visible ASCII and spaces (no CR, LF or NUL).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[\x20-\x7e\t]*")


def plain_target(target: str) -> bool:
    """True when ``target`` (path and query) can go on the request line unquoted."""
    return _PLAIN_TARGET.fullmatch(target) is not None


class IncompleteAnswer(ConnectionError):
    """The connection ended before a whole answer arrived."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]] | None = None
        self.closed = False
        #: bytes of the current answer received so far (a stale connection gets none)
        self.received = 0
        self.keep_alive = False
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses; both have write/abort.
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None or self.waiter.done():
            # Nothing was asked: an unsolicited answer leaves the connection unusable.
            self.abort()
            return
        self.received += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(IncompleteAnswer(f"malformed answer: {exc}"))
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(IncompleteAnswer("the connection closed before the whole answer"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        waiter, self.waiter = self.waiter, None
        answer = (self.parser.get_status_code(), self._headers, b"".join(self._body))
        self._headers, self._body = [], []
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def send(
        self, request: bytes, loop: asyncio.AbstractEventLoop
    ) -> asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]]:
        assert self.transport is not None
        self.waiter = loop.create_future()
        self.received = 0
        self.keep_alive = False
        self.transport.write(request)
        return self.waiter

    def expire(self) -> None:
        self._fail(TimeoutError("no whole answer within the timeout"))
        self.abort()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class KeepAliveGet:
    """GETs to one ``host:port``, at most ``limit`` connections open at once."""

    def __init__(self, host: str, port: int, *, limit: int = 200) -> None:
        self.host = host
        self.port = port
        shown = f"[{host}]" if ":" in host else host
        self._host_header = f"Host: {shown}:{port}\r\n".encode("ascii")
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(limit)
        self.opened = 0  # connections made, for the tests and the curious

    async def send(
        self, request: bytes | None, timeout: float, connect_timeout: float
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Send a GET made by :meth:`request_bytes`: status, raw headers, body.

        Raises :class:`TimeoutError` past ``timeout`` (the whole call: waiting for a free
        connection, connecting, the answer) or past ``connect_timeout`` (connecting),
        :class:`OSError` when the server cannot be reached or the answer is cut short,
        :class:`ValueError` for a request that :meth:`request_bytes` refused (None)."""
        if request is None:
            raise ValueError("the target or a header cannot be sent as is")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout  # for the whole call, as aiohttp's total timeout
        if self._slots.locked():
            await asyncio.wait_for(self._slots.acquire(), timeout)
        else:
            await self._slots.acquire()
        try:
            conn = self._take_idle()
            if conn is not None:
                try:
                    return await self._exchange(conn, request, loop, deadline)
                except IncompleteAnswer:
                    if conn.received:
                        raise
                    # Closed by the server while idle: once more on a new connection.
            left = deadline - loop.time()
            conn = await self._connect(loop, min(connect_timeout, left))
            return await self._exchange(conn, request, loop, deadline)
        finally:
            self._slots.release()

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.abort()

    def request_bytes(self, target: str, headers: dict[str, str]) -> bytes | None:
        """The request as sent, or None when the target or a header cannot go as is."""
        if not plain_target(target):
            return None
        lines = [b"GET ", target.encode("ascii"), b" HTTP/1.1\r\n", self._host_header]
        for name, value in headers.items():
            if _TOKEN.fullmatch(name) is None or _VALUE.fullmatch(value) is None:
                return None
            lines.append(f"{name}: {value}\r\n".encode("ascii"))
        lines.append(b"\r\n")
        return b"".join(lines)

    def _take_idle(self) -> _Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed:
                return conn
        return None

    async def _connect(self, loop: asyncio.AbstractEventLoop, timeout: float) -> _Connection:
        _, conn = await asyncio.wait_for(
            loop.create_connection(_Connection, self.host, self.port), timeout
        )
        self.opened += 1
        return conn

    async def _exchange(
        self, conn: _Connection, request: bytes, loop: asyncio.AbstractEventLoop, deadline: float
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        timer = loop.call_at(deadline, conn.expire)
        try:
            answer = await conn.send(request, loop)
        except BaseException:
            # A failure, a timeout or the caller's cancellation: the connection may hold
            # half an answer, so it is never reused.
            conn.abort()
            raise
        finally:
            timer.cancel()
        if conn.keep_alive and not conn.closed:
            self._idle.append(conn)
        else:
            conn.abort()
        return answer


def split_base(base_url: str) -> tuple[str, int] | None:
    """``(host, port)`` of an ``http://host[:port]`` base URL with no path, else None."""
    m = re.fullmatch(r"http://([A-Za-z0-9.\-_]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?/?", base_url)
    if m is None:
        return None
    host = m.group(1).strip("[]")
    port = int(m.group(2) or 80)
    return (host, port) if 0 < port < 65536 else None
