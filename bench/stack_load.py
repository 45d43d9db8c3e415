"""The running stack under load (PostgreSQL + Redis, demo loaded), each beside its baseline.

The four services run as in ``balise up``: one uvicorn process each (uvloop, httptools),
on a fresh PostgreSQL database (``BENCH_DATABASE_URL``, default
``postgresql://postgres@127.0.0.1:5432/balise_bench_load``, dropped and recreated) with
Redis (``BENCH_REDIS_URL``, default db 10), migrated and loaded with the demo agency
(``balise demo``). ``BENCH_STACK_REUSE=1`` keeps a database that already holds the demo.

wrk then loads, on loopback, at 50 and 200 connections:

* **dashboard**: ``GET /c/<slug>`` signed in as the demo strategist (session lookup, the
  fan-out to the three backends' job lists, the page); a page with a degraded panel counts
  as an error. Baseline: a bare FastAPI page fanning out to three trivial endpoints (three
  processes, like the backends) through one bare ``aiohttp.ClientSession`` and rendering a
  Jinja2 page of the same size.
* **audit**: ``GET /v1/clients/<id>/audit`` on ingest with an API token (the default 90
  days against the previous 90).
* **relays**: ``GET /v1/relays?client_id=<id>`` on benchmark with an API token (the first
  page of the scored directory with the client's relevance).
* **push**: ``POST /v1/incoming/clients/<id>/metrics`` on ingest, each message signed per
  Standard Webhooks with its own ``webhook-id`` (three daily values of one account).
  Baseline: a bare FastAPI POST that reads the same bodies.

The APIs' baseline is a bare FastAPI endpoint (``GET /bare``). Every measurement is wrk
for ``BENCH_SECONDS`` (3) after a 1 s warm-up, target and baseline alternated, repeated
``BENCH_ROUNDS`` (3) times; medians are reported. ``BENCH_ONLY=push,audit`` runs only
the loads named. Targets (issue 6): no errors at 50 and
200; the dashboard at least 0.4 of its baseline's requests/s with p99 under 300 ms at 50;
the push at least 0.4 of the bare endpoint's requests/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.common import Figure
from bench.load import ROOT, LoadResult, _wrk_load, free_port, serve

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/balise_bench_load"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
#: comma-separated names of the loads to run (default all: dashboard,audit,relays,push)
ONLY = {n for n in os.environ.get("BENCH_ONLY", "").split(",") if n}
CONCURRENCIES = (50, 200)
LOG_DIR = ROOT / "var" / "bench"
SECRET = "bench-stack-secret-0123456789-0123456789-0123456789"
STRATEGIST = ("strategiste@demo.balise", "balise-demo-2026")
SLUG = "tourisme-haute-cote"
PUSH_ACCOUNT = "bench-push-account"
PUSH_MESSAGES = 40_000  # per wrk run; more than any run can send

# Counts answers that are 2xx but wrong (a page with a degraded panel) and prints them.
CHECK_LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status < 400 and body and string.find(body, MARKER, 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + (t:get("bad") or 0) end
  io.write("BAD " .. n .. "\\n")
end
"""

# Signed pushes: each thread takes every other message; none is sent twice.
PUSH_LUA = """
local k = 0
function setup(thread) thread:set("offset", k); k = k + 1 end
local i = nil
request = function()
  if i == nil then i = offset + 1 end
  local m = msgs[i] or msgs[#msgs]
  i = i + 2
  return wrk.format("POST", PATH, {
    ["content-type"] = "application/json",
    ["webhook-id"] = m[1], ["webhook-timestamp"] = m[2], ["webhook-signature"] = m[3],
  }, m[4])
end
"""


def _lua_str(s: str) -> str:
    assert "]==]" not in s
    return "[==[" + s + "]==]"


def _check_script(tmp: Path, marker: str) -> str:
    path = tmp / "check.lua"
    path.write_text(f"MARKER = {_lua_str(marker)}\n" + CHECK_LUA)
    return str(path)


def _push_script(tmp: Path, secret: str, path: str, n: int = PUSH_MESSAGES) -> str:
    """A fresh Lua file of ``n`` signed messages (ids never reused, timestamps now)."""
    from shared import webhooks

    ts = int(time.time())
    end = dt.date.today() - dt.timedelta(days=1)
    run = uuid.uuid4().hex[:12]
    lines = [f"PATH = {_lua_str(path)}", "msgs = {"]
    for i in range(n):
        day = (end - dt.timedelta(days=i % 365)).isoformat()
        body = json.dumps(
            {
                "account": {"network": "facebook", "external_id": PUSH_ACCOUNT},
                "provider": "bench",
                "metrics": [
                    {"metric": "followers", "day": day, "value": 1000 + i},
                    {"metric": "impressions", "day": day, "value": 50 + i % 97},
                    {"metric": "engagements", "day": day, "value": i % 13},
                ],
            },
            separators=(",", ":"),
        )
        msg_id = f"msg_{run}_{i}"
        sig = webhooks.sign(secret, msg_id, ts, body.encode())
        lines.append(f'{{"{msg_id}","{ts}","{sig}",{_lua_str(body)}}},')
    lines.append("}")
    file = tmp / f"push-{run}.lua"
    file.write_text("\n".join(lines) + "\n" + PUSH_LUA)
    return str(file)


def _first_push(url: str, secret: str) -> None:
    from shared import webhooks

    body = json.dumps(
        {
            "account": {"network": "facebook", "external_id": PUSH_ACCOUNT},
            "metrics": [{"metric": "followers", "day": dt.date.today().isoformat(), "value": 1}],
        }
    ).encode()
    headers = webhooks.headers_for(secret, f"msg_first_{uuid.uuid4().hex}", body)
    r = httpx.post(url, content=body, headers=headers, timeout=30)
    if r.status_code != 200:
        raise RuntimeError(f"first push: {r.status_code} {r.text[:300]}")


@dataclass
class Target:
    """One URL to load, with how to load it (headers, a fresh Lua script per run)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    script: Callable[[], str | None] = lambda: None


def _drain(urls: list[str], limit: float = 90.0) -> float:
    """Wait until every server answers its health check quickly again: requests a run
    left queued (the client hung up, the server still works through them) must not
    weigh on the next run. Returns the seconds waited."""
    t0 = time.perf_counter()
    quick = 0
    with httpx.Client(timeout=10) as client:
        while quick < 3 and time.perf_counter() - t0 < limit:
            slow = False
            for u in urls:
                s0 = time.perf_counter()
                try:
                    client.get(u + "/healthz")
                except httpx.HTTPError:
                    slow = True
                slow = slow or time.perf_counter() - s0 > 0.05
            quick = 0 if slow else quick + 1
            time.sleep(0.2)
    return time.perf_counter() - t0


def _measure(t: Target, concurrency: int) -> LoadResult:
    _wrk_load(t.url, t.headers, concurrency, 1, t.script())
    res = _wrk_load(t.url, t.headers, concurrency, SECONDS, t.script())
    if res.requests == 0:
        # Nothing answered within the run: every connection's request failed.
        res.errors += concurrency
        res.p50_ms = res.p99_ms = float("inf")
    return res


# ------------------------------------------------------------------ the stack


def _recreate_database(url: str) -> None:
    import asyncpg

    base, name = url.rsplit("/", 1)

    async def go() -> None:
        conn = await asyncpg.connect(base.replace("postgresql://", "postgres://") + "/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(go())


def _balise(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"balise {' '.join(args)} failed: {out.stderr[-2000:]}")
    return out.stdout


def _has_demo(env: dict[str, str]) -> bool:
    try:
        return any(c["slug"] == SLUG for c in json.loads(_balise(env, "client", "list", "--json")))
    except (RuntimeError, ValueError):
        return False


def _prepare_database(env: dict[str, str]) -> float:
    """Migrate and load the demo (unless reused); returns the seconds it took."""
    t0 = time.perf_counter()
    if os.environ.get("BENCH_STACK_REUSE") == "1" and _has_demo(env):
        return 0.0
    _recreate_database(DATABASE_URL)
    _balise(env, "migrate")
    _balise(env, "demo")
    return time.perf_counter() - t0


@contextlib.contextmanager
def _stack(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The four services; their logs are kept in ``var/bench/stack-<service>.log``."""
    ports = {s: free_port() for s in ("web", "ingest", "benchmark", "planner")}
    urls = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
    env = dict(env)
    for svc in ("ingest", "benchmark", "planner"):
        env[f"WEB_{svc.upper()}_URL"] = urls[svc]
        env[f"{svc.upper()}_WEB_URL"] = urls["web"]
    env["BENCHMARK_INGEST_URL"] = urls["ingest"]
    env["PLANNER_INGEST_URL"] = urls["ingest"]
    env["PLANNER_BENCHMARK_URL"] = urls["benchmark"]
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        for svc in ("ingest", "benchmark", "planner", "web"):
            stack.enter_context(
                serve(
                    f"services.{svc}.app:create_app",
                    env,
                    port=ports[svc],
                    ready_path="/readyz",
                    log_to=LOG_DIR / f"stack-{svc}.log",
                )
            )
        yield urls


def _sign_in(web: str) -> str:
    """Sign in as the demo strategist through the login form; returns the session cookie."""
    with httpx.Client(base_url=web, timeout=30) as c:
        c.get("/login")
        csrf = c.cookies.get("balise_precsrf") or ""
        email, password = STRATEGIST
        r = c.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": csrf, "next": "/"},
        )
        session = c.cookies.get("balise_session")
        if r.status_code >= 400 or not session:
            raise RuntimeError(f"sign-in failed: {r.status_code}")
        return f"balise_session={session}"


def _stack_env(var_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "BALISE_SECRET_KEY": SECRET,
        "BALISE_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        "LOG_JSON": "true",
    }


def _api_token(env: dict[str, str], name: str) -> str:
    """A write API token of the demo strategist for the demo client, valid a day."""
    args = ["token", "create", "--user", STRATEGIST[0], "--name", name, "--client", SLUG]
    return _balise(env, *args, "--scope", "write", "--days", "1").strip()


def _client_id(env: dict[str, str]) -> int:
    clients = json.loads(_balise(env, "client", "list", "--json"))
    return int(next(c["id"] for c in clients if c["slug"] == SLUG))


def _check(url: str, headers: dict[str, str], marker: str | None = None) -> bytes:
    r = httpx.get(url, headers=headers, timeout=60)
    if r.status_code != 200:
        raise RuntimeError(f"{url}: {r.status_code} {r.text[:300]}")
    if marker and marker in r.text:
        raise RuntimeError(f"{url}: the page has a degraded panel before any load")
    return r.content


# ------------------------------------------------------------------ the run


@dataclass
class Pair:
    name: str
    target: Target
    baseline: Target
    baseline_name: str
    results: dict[int, tuple[list[LoadResult], list[LoadResult]]] = field(default_factory=dict)


def _median(results: list[LoadResult]) -> LoadResult:
    def med(attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in results))

    return LoadResult(
        rps=med("rps"),
        p50_ms=med("p50_ms"),
        p99_ms=med("p99_ms"),
        errors=sum(r.errors for r in results),
        requests=sum(r.requests for r in results),
        tool=results[0].tool,
    )


def _missing_wrk() -> list[Figure]:
    print("   wrk is needed for this benchmark: apt-get install wrk")
    return [Figure(name="stack_load_wrk", value=0, unit="wrk", target=">=1wrk")]


def run() -> list[Figure]:
    if not shutil.which("wrk"):
        return _missing_wrk()
    tmp_dir = tempfile.TemporaryDirectory()
    tmp = Path(tmp_dir.name)
    env = _stack_env(tmp)
    try:
        loaded = _prepare_database(env)
        cid = _client_id(env)
        token = _api_token(env, "bench")
        with _stack(env) as urls, contextlib.ExitStack() as bare:
            bare_backends = [bare.enter_context(serve("bench.bare:create_app")) for _ in range(3)]
            api = {"Authorization": f"Bearer {token}"}
            r = httpx.post(f"{urls['ingest']}/v1/clients/{cid}/push-secret", headers=api)
            r.raise_for_status()
            push_secret = r.json()["secret"]
            push_path = f"/v1/incoming/clients/{cid}/metrics"
            # The account exists before the load (its first push registers it).
            _first_push(urls["ingest"] + push_path, push_secret)

            cookie = {"Cookie": _sign_in(urls["web"])}
            marker = 'class="degraded"'
            page = _check(f"{urls['web']}/c/{SLUG}", cookie, marker)
            bare_env = {
                "BARE_BACKENDS": ",".join(bare_backends),
                "BARE_PAGE_BYTES": str(len(page)),
            }
            fanout = bare.enter_context(
                serve("bench.bare:create_fanout_app", {**os.environ, **bare_env})
            )
            bare_page = _check(f"{fanout}/page", {})
            bare_api = bare_backends[0]
            check = _check_script(tmp, marker)
            audit_url = f"{urls['ingest']}/v1/clients/{cid}/audit"
            relays_url = f"{urls['benchmark']}/v1/relays?client_id={cid}"
            _check(audit_url, api)
            _check(relays_url, api)
            print(
                f"   stack on {DATABASE_URL.rsplit('@', 1)[-1]} + Redis "
                f"({f'demo loaded in {loaded:.0f} s' if loaded else 'demo reused'}); "
                f"dashboard page {len(page):,} B, baseline page {len(bare_page):,} B; "
                f"wrk {SECONDS:.0f} s per run, {ROUNDS} rounds",
                flush=True,
            )
            pairs = [
                Pair(
                    "dashboard",
                    Target(f"{urls['web']}/c/{SLUG}", cookie, lambda: check),
                    Target(f"{fanout}/page", {}, lambda: check),
                    "bare fan-out page",
                ),
                Pair("audit", Target(audit_url, api), Target(f"{bare_api}/bare"), "bare GET"),
                Pair("relays", Target(relays_url, api), Target(f"{bare_api}/bare"), "bare GET"),
                Pair(
                    "push",
                    Target(
                        urls["ingest"] + push_path,
                        script=lambda: _push_script(tmp, push_secret, push_path),
                    ),
                    Target(
                        f"{bare_api}/bare-push/{cid}",
                        script=lambda: _push_script(tmp, push_secret, f"/bare-push/{cid}"),
                    ),
                    "bare POST",
                ),
            ]
            pairs = [p for p in pairs if not ONLY or p.name in ONLY]
            servers = [*urls.values(), *bare_backends, fanout]
            drained = 0.0
            for _ in range(ROUNDS):
                for p in pairs:
                    for c in CONCURRENCIES:
                        mine, base = p.results.setdefault(c, ([], []))
                        drained += _drain(servers)
                        base.append(_measure(p.baseline, c))
                        drained += _drain(servers)
                        mine.append(_measure(p.target, c))
                        for f in tmp.glob("push-*.lua"):
                            f.unlink()
            print(f"   waited {drained:.0f} s in all for the servers to drain between runs")
    finally:
        tmp_dir.cleanup()
    return _figures(pairs)


def _figures(pairs: list[Pair]) -> list[Figure]:
    figures: list[Figure] = []
    print(f"   {'what':<10} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for p in pairs:
        for c, (mine_runs, base_runs) in p.results.items():
            mine, base = _median(mine_runs), _median(base_runs)
            rate = mine.errors / mine.requests if mine.requests else 0.0
            for label, r in ((p.name, mine), (f"  {p.baseline_name}", base)):
                print(
                    f"   {label:<10} {c:>7} {r.rps:>8.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} "
                    f"{r.errors:>7}"
                )
            note = (
                f"{mine.rps:.0f} req/s (baseline {p.baseline_name} {base.rps:.0f}, ratio "
                f"{mine.rps / base.rps if base.rps else 0:.2f}), p50 {mine.p50_ms:.1f} ms, "
                f"p99 {mine.p99_ms:.1f} ms (baseline {base.p50_ms:.1f} / {base.p99_ms:.1f}); "
                f"{mine.errors} errors in {mine.requests} requests ({rate:.2%}); "
                f"medians of {len(mine_runs)} runs"
            )
            figures.append(
                Figure(
                    name=f"stack_{p.name}_c{c}_errors",
                    value=mine.errors,
                    unit="errors",
                    target="<=0errors",
                    note=note,
                )
            )
            if c == 50 and p.name in ("dashboard", "push"):
                figures.append(
                    Figure(
                        name=f"stack_{p.name}_c{c}_rps",
                        value=round(mine.rps, 1),
                        unit="req/s",
                        baseline=round(base.rps, 1),
                        target=">=0.4",
                    )
                )
            if c == 50 and p.name == "dashboard":
                figures.append(
                    Figure(
                        name=f"stack_{p.name}_c{c}_p99",
                        value=round(mine.p99_ms, 1),
                        unit="ms",
                        baseline=round(base.p99_ms, 1),
                        target="<=300ms",
                    )
                )
    return figures


def _hold() -> None:
    """``python -m bench.stack_load``: start the stack and keep it up (for profiling)."""
    tmp = Path(tempfile.mkdtemp())
    env = _stack_env(tmp)
    _prepare_database(env)
    cid = _client_id(env)
    token = _api_token(env, "hold")
    with _stack(env) as urls:
        print(
            json.dumps({**urls, "client_id": cid, "token": token, "cookie": _sign_in(urls["web"])}),
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)


if __name__ == "__main__":
    _hold()
