"""Loopback HTTP load and server processes shared by the benchmarks.

``measure`` drives a fixed number of concurrent connections for a bounded time with
aiohttp (or ``wrk`` when the machine has it) and reports requests/s, p50/p99 and errors.
``serve`` starts an app under uvicorn (uvloop + httptools, one worker) on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class LoadResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    tool: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(
    target: str,
    env: dict[str, str] | None = None,
    *,
    factory: bool = True,
    ready_path: str = "/healthz",
    timeout: float = 60,
    port: int | None = None,
    log_to: Path | None = None,
) -> Iterator[str]:
    """Run ``target`` (module:attr) under uvicorn; yield its base URL. Its output is kept
    in ``log_to`` when given."""
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if factory:
        cmd.append("--factory")
    # The server's output goes to a file: a pipe nobody reads would fill up and block
    # the server in the middle of a log line.
    log = log_to.open("w+b") if log_to is not None else tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")

    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{target} exited: {output()[-2000:]}")
            try:
                if httpx.get(url + ready_path, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{target} not ready after {timeout}s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


async def _aiohttp_load(
    url: str,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    method: str = "GET",
    body: bytes | None = None,
) -> LoadResult:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    async with session.request(method, url, data=body) as resp:
                        await resp.read()
                        if resp.status >= 400:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append((time.perf_counter() - t0) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    n = len(latencies)
    return LoadResult(
        rps=n / elapsed,
        p50_ms=statistics.median(latencies) if n else 0.0,
        p99_ms=latencies[min(n - 1, int(n * 0.99))] if n else 0.0,
        errors=errors,
        requests=n,
        tool="aiohttp",
    )


def _wrk_load(
    url: str,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    script: str | None = None,
    timeout: float = 30.0,
) -> LoadResult:
    """One wrk run. ``script`` is a Lua file; a line ``BAD <n>`` it prints in ``done`` adds
    ``n`` errors (answers that were 2xx but wrong, such as a degraded page)."""
    wrk = shutil.which("wrk")
    assert wrk
    cmd = [wrk, "-t2", f"-c{concurrency}", f"-d{max(1, int(seconds))}s", "--latency"]
    cmd += [f"--timeout={int(timeout)}s"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return 0.0
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors_m = re.search(r"Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if errors_m:
        errors += sum(int(g) for g in errors_m.groups())
    bad = re.search(r"^BAD (\d+)$", out, re.M)
    if bad:
        errors += int(bad.group(1))
    total = re.search(r"(\d+) requests in", out)
    return LoadResult(
        rps=rps,
        p50_ms=pct("50"),
        p99_ms=pct("99"),
        errors=errors,
        requests=int(total.group(1)) if total else 0,
        tool="wrk",
    )


def measure(
    url: str,
    headers: dict[str, str] | None = None,
    *,
    concurrency: int = 50,
    seconds: float = 5.0,
    warmup: float = 1.0,
) -> LoadResult:
    """Bounded load on one URL (loopback only)."""
    assert url.startswith("http://127.0.0.1"), "loads target loopback only"
    headers = headers or {}
    if shutil.which("wrk"):
        _wrk_load(url, headers, concurrency, warmup)
        return _wrk_load(url, headers, concurrency, seconds)
    asyncio.run(_aiohttp_load(url, headers, concurrency, warmup))
    return asyncio.run(_aiohttp_load(url, headers, concurrency, seconds))
