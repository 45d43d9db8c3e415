"""Browser tests: the four services as real uvicorn processes, driven by a real Chromium.

How to use (other areas write their e2e tests on these fixtures)::

    import pytest
    pytestmark = pytest.mark.e2e

    def test_something(stack, page, login):
        stack.seed(my_async_seeder)          # optional: add your data (see ``Stack.seed``)
        login(page)                          # signs in as ``stack.email`` (a strategist)
        page.goto(f"/c/{stack.client_slug}/analyse")
        ...

Fixtures:

* ``stack`` (session): a fresh SQLite database in a temporary directory, migrated to head,
  with one client (``stack.client_id`` / ``stack.client_slug``) and one strategist assigned
  to it (``stack.email`` / ``stack.password``); web, ingest, benchmark and planner started
  with ``uvicorn --factory`` on free loopback ports (``stack.urls[name]``), jobs running
  in-process, and torn down at the end of the run. Their logs are in ``stack.log_dir``;
  a service that fails to start fails the fixture with the tail of its log.
* ``stack.seed(fn)``: runs ``async fn(session, stack)`` on the stack's database with a
  committed ``AsyncSession`` (use each service's models or your factories).
* ``browser`` (module): Chromium from ``/usr/bin/chromium`` through Playwright's sync
  API, headless, never a downloaded browser. Without that binary the e2e tests are skipped
  with the reason, except with ``CI=true`` where they fail.
* ``page``: a new browser context and page whose ``base_url`` is the web service.
* ``login``: ``login(page, email=None, password=None)`` signs in through the login form.

Mark every test ``@pytest.mark.e2e`` (``make test-postgres`` deselects them).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVICES = ("ingest", "benchmark", "planner", "web")
SECRET = "e2e-secret-key-for-balise-browser-tests-0123456789"
PASSWORD = "e2e-password-2026"


def _need_chromium() -> None:
    reason = None
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is absent: install Chromium from Debian (make system-deps)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright package is not installed (pip install -e .[test])"
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_coroutine(fn: Callable[[], Awaitable[Any]]) -> Any:
    """Run a coroutine to the end on a fresh loop in a thread (tests may have one running)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(fn())  # type: ignore[arg-type]
        except BaseException as exc:
            box["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


@dataclass
class Stack:
    root: Path
    database_url: str
    urls: dict[str, str] = field(default_factory=dict)
    client_id: int = 0
    client_slug: str = "e2e-client"
    email: str = "strategist@e2e.balise"
    password: str = PASSWORD
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def web_url(self) -> str:
        return self.urls["web"]

    def seed(self, fn: Callable[[Any, Stack], Awaitable[Any]]) -> Any:
        """Run ``await fn(session, stack)`` on the stack's database, then commit."""
        from shared.db import create_engine, create_sessionmaker

        async def go() -> Any:
            engine = create_engine(self.database_url)
            try:
                async with create_sessionmaker(engine)() as session:
                    result = await fn(session, self)
                    await session.commit()
                    return result
            finally:
                await engine.dispose()

        return run_coroutine(go)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _env(stack: Stack, ports: dict[str, int]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INGEST_", "WEB_", "BENCHMARK_", "PLANNER_", "DATABASE_", "REDIS_"))
    }
    base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env.update(
        DATABASE_URL=stack.database_url,
        REDIS_URL="",
        BALISE_SECRET_KEY=SECRET,
        BALISE_ENV="test",
        BALISE_VAR_DIR=str(stack.root / "var"),
        LOG_JSON="true",
        LOG_LEVEL="WARNING",
        WEB_INGEST_URL=base["ingest"],
        WEB_BENCHMARK_URL=base["benchmark"],
        WEB_PLANNER_URL=base["planner"],
        INGEST_WEB_URL=base["web"],
        BENCHMARK_WEB_URL=base["web"],
        PLANNER_WEB_URL=base["web"],
        BENCHMARK_INGEST_URL=base["ingest"],
        PLANNER_INGEST_URL=base["ingest"],
        PLANNER_BENCHMARK_URL=base["benchmark"],
    )
    return env


def _seed_base(stack: Stack) -> None:
    from services.web import service as web_service

    async def go(session: Any, stack: Stack) -> None:
        client = await web_service.create_client(session, "Client E2E", stack.client_slug)
        await web_service.create_user(
            session,
            email=stack.email,
            name="Stratège E2E",
            password=stack.password,
            role="strategist",
            client_ids=[client.id or 0],
            locale="en",
        )
        stack.client_id = client.id or 0

    stack.seed(go)


def _start(stack: Stack) -> None:
    ports = {name: free_port() for name in SERVICES}
    env = _env(stack, ports)
    stack.log_dir.mkdir(parents=True, exist_ok=True)
    for name in SERVICES:
        log = (stack.log_dir / f"{name}.log").open("wb")
        cmd = [
            sys.executable, "-m", "uvicorn", f"services.{name}.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(ports[name]), "--no-access-log",
            "--log-level", "warning", "--timeout-graceful-shutdown", "3",
        ]  # fmt: skip
        stack.procs[name] = subprocess.Popen(
            cmd, env=env, cwd=stack.root, stdout=log, stderr=subprocess.STDOUT
        )
        stack.urls[name] = f"http://127.0.0.1:{ports[name]}"
    deadline = time.monotonic() + 60
    pending = set(SERVICES)
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            proc = stack.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {proc.returncode} while starting:\n{stack.log_tail(name)}"
                )
            try:
                if httpx.get(stack.urls[name] + "/readyz", timeout=1).status_code == 200:
                    pending.discard(name)
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    if pending:
        tails = "\n".join(f"--- {n}\n{stack.log_tail(n)}" for n in pending)
        raise RuntimeError(f"not ready after 60 s: {', '.join(sorted(pending))}\n{tails}")


def _stop(stack: Stack) -> None:
    for proc in stack.procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 10
    for proc in stack.procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    _need_chromium()
    root = tmp_path_factory.mktemp("e2e")
    url = f"sqlite+aiosqlite:///{root / 'balise.db'}"
    from alembic import command

    from shared.db import alembic_config

    run_coroutine(lambda: asyncio.to_thread(command.upgrade, alembic_config(url), "head"))
    s = Stack(root=root, database_url=url)
    _seed_base(s)
    try:
        _start(s)
        yield s
    finally:
        _stop(s)
        if os.environ.get("BALISE_E2E_KEEP") != "1":
            shutil.rmtree(root / "var", ignore_errors=True)


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Any]:
    # Module scope, not session: while Playwright's sync API is started it keeps an event
    # loop marked running on the main thread, which would break every later test that
    # calls asyncio.run() (Alembic's migrations, for one).
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture
def page(browser: Any, stack: Stack) -> Iterator[Any]:
    context = browser.new_context(base_url=stack.web_url, locale="en-CA", accept_downloads=True)
    context.set_default_timeout(15_000)
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()


@pytest.fixture
def login(stack: Stack) -> Callable[..., None]:
    def _login(page: Any, email: str | None = None, password: str | None = None) -> None:
        page.goto("/login")
        page.fill("input[name=email]", email or stack.email)
        page.fill("input[name=password]", password or stack.password)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "/login" not in page.url, f"login failed at {page.url}"

    return _login
