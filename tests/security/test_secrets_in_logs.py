"""No secret ever reaches a log line, whatever the level.

A realistic session on the whole in-process stack, every logger at DEBUG (SQLAlchemy's
statements and parameters and the HTTP clients included): a failed then a good login, an
API token created in the UI and used against two backends (including an upload), a
provider token pasted, a webhook subscription created (its signing secret shown once),
a push secret created, a file imported from the UI, the queued jobs run (the import, the
provider's first sync, which fails against an unreachable instance), and sign-out.
Every captured record (message, arguments, extra fields, traceback) and everything
written to stdout/stderr is then searched for each secret of the session.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import pytest
from sqlmodel import col, select

from services.ingest.jobs import registry as ingest_jobs
from services.ingest.models import IngestJob
from services.web import dependencies as web_dependencies
from services.web.security import SESSION_COOKIE
from shared.db import create_sessionmaker
from shared.jobs import base_context, execute
from tests.conftest import TEST_SECRET
from tests.ingest.helpers import FIXTURES
from tests.web.conftest import csrf_of, make_client, make_user, soup

LOGGERS = ("", "balise", "httpx", "httpcore", "sqlalchemy", "sqlalchemy.engine", "uvicorn")


def everything_logged(records: list[logging.LogRecord]) -> list[str]:
    lines = []
    for rec in records:
        lines.append(rec.getMessage())
        lines.append(repr(rec.__dict__))  # args, extra fields, exc_text, stack
        if rec.exc_info:
            lines.append(logging.Formatter().formatException(rec.exc_info))
    return lines


@pytest.fixture
def debug_everywhere() -> Any:
    previous = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield
    for name, level in previous.items():
        logging.getLogger(name).setLevel(level)


async def test_no_secret_reaches_the_logs(stack, caplog, capfd, debug_everywhere) -> None:
    caplog.set_level(logging.DEBUG)
    password = f"pw-{secrets.token_urlsafe(18)}"
    typo = password + "-typo"
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client], password=password)
    web = stack.web
    minted_before = {v[1] for v in web_dependencies._MINTED.values()}

    # Sign in: a typo first, then the password.
    page = await web.get("/login")
    r = await web.post(
        "/login", data={"email": user.email, "password": typo, "csrf_token": csrf_of(page)}
    )
    assert r.status_code == 401
    r = await web.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": csrf_of(page)}
    )
    assert r.status_code == 303
    cookie = web.cookies.get(SESSION_COOKIE)
    assert cookie
    sid = stack.web_app.state.signer.loads(cookie)

    # An API token, created in the UI, used on two backends (a read and an upload).
    page = await web.get("/settings/tokens")
    csrf = csrf_of(page)
    r = await web.post(
        "/settings/tokens",
        data={
            "name": "Zapier",
            "scope": "write",
            "expires_in_days": "30",
            "csrf_token": csrf,
            "services": ["ingest", "planner"],
            "client_ids": [str(client.id)],
        },
    )
    api_token = soup(r).select_one("[data-new-token]").get_text(strip=True)
    bearer = {"Authorization": f"Bearer {api_token}"}
    ok = await stack.backends["ingest"].get(
        "/v1/jobs", params={"client_id": client.id}, headers=bearer
    )
    assert ok.status_code == 200
    ok = await stack.backends["planner"].get(
        "/v1/plans", params={"client_id": client.id}, headers=bearer
    )
    assert ok.status_code == 200
    upload = await stack.backends["ingest"].post(
        f"/v1/clients/{client.id}/imports",
        headers=bearer,
        files={"file": ("posts.csv", (FIXTURES / "meta_facebook_posts.csv").read_bytes())},
    )
    assert upload.status_code == 202, upload.text
    refused = await stack.backends["ingest"].get(
        "/v1/jobs",
        params={"client_id": client.id},
        headers={"Authorization": bearer["Authorization"] + "x"},
    )
    assert refused.status_code == 401

    # A provider token pasted (Matomo: its token_auth), at an instance that cannot answer.
    board = f"/c/{client.slug}/analyse/connections"
    provider_token = secrets.token_hex(16)
    r = await web.post(
        f"{board}/token",
        data={
            "csrf_token": csrf,
            "network": "matomo",
            "token": provider_token,
            "external_id": "3",
            "base_url": "http://127.0.0.1:9",
        },
    )
    assert r.status_code == 303, r.text[:300]

    # A push secret and a webhook subscription: each secret shown once.
    r = await web.post(f"{board}/push-secret", data={"csrf_token": csrf})
    assert r.status_code == 200
    push_secret = soup(r).select_one("[data-new-secret]").get_text(strip=True)
    hooks = f"/c/{client.slug}/webhooks"
    events = [
        o["value"]
        for o in soup(await web.get(hooks)).select("input[name=event_types]")
        if o.get("value")
    ]
    assert events
    r = await web.post(
        hooks,
        data={
            "csrf_token": csrf,
            "service": "ingest",
            "url": "https://93.184.215.14/hook",
            "event_types": events[:1],
        },
    )
    assert r.status_code == 200, r.text[:300]
    webhook_secret = soup(r).select_one("[data-new-secret]").get_text(strip=True)

    # A file imported from the UI.
    r = await web.post(
        f"/c/{client.slug}/analyse/imports",
        files={"file": ("posts.csv", (FIXTURES / "meta_facebook_posts.csv").read_bytes())},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert r.status_code == 200

    # The queued jobs run, as a worker runs them: imports, the first sync (which fails).
    maker = create_sessionmaker(stack.engine)
    ingest = stack.apps["ingest"]
    ctx = await base_context(ingest_jobs, ingest.state.settings, stack.engine, maker)
    async with maker() as s:
        queued = (
            await s.exec(
                select(IngestJob).where(
                    col(IngestJob.client_id) == client.id, col(IngestJob.status) == "queued"
                )
            )
        ).all()
    assert len(queued) >= 3, [j.name for j in queued]
    for job in queued:
        await execute(ingest_jobs, ctx, job.id)
    async with maker() as s:
        done = {
            j.name: j.status
            for j in (
                await s.exec(select(IngestJob).where(col(IngestJob.client_id) == client.id))
            ).all()
        }
    assert "succeeded" in done.values() and "failed" in done.values(), done

    r = await web.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 303

    # Not searched: the CSRF token. It is stored as is in the session row, so SQLAlchemy's
    # parameter logging (off unless an operator turns it on) shows it; alone it grants
    # nothing (a request also needs the session cookie, which is never logged).
    minted = {v[1] for v in web_dependencies._MINTED.values()} - minted_before
    secrets_of_the_session = {
        "password": password,
        "mistyped password": typo,
        "session cookie": cookie,
        "session id": sid,
        "API token": api_token,
        # bal_<id>_<secret>: the secret itself may contain "_" (URL-safe base64).
        "API token's secret part": api_token.split("_", 2)[2],
        "provider token": provider_token,
        "push secret": push_secret,
        "webhook signing secret": webhook_secret,
        "encryption key": ingest.state.settings.encryption_key.get_secret_value(),
        "BALISE_SECRET_KEY": TEST_SECRET,
        **{f"service token {i}": t for i, t in enumerate(sorted(minted))},
    }
    assert minted, "web minted no service token: the flow did not reach the backends"
    out, err = capfd.readouterr()
    lines = everything_logged(caplog.records) + out.splitlines() + err.splitlines()
    assert len(caplog.records) > 100, "the capture saw too little to be trusted"
    assert any(rec.name.startswith("sqlalchemy.engine") for rec in caplog.records)
    # The search finds what is there: the failed sync's job id is logged, with its error.
    failed = [j.id for j in queued if done.get(j.name) == "failed"] or [j.id for j in queued]
    assert any(job_id in line for job_id in failed for line in lines)
    leaks = {
        what: next(line for line in lines if value in line)[:300]
        for what, value in secrets_of_the_session.items()
        if any(value in line for line in lines)
    }
    assert not leaks, f"secrets found in the logs: {leaks}"
