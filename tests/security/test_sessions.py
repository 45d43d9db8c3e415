"""Session cookies where TLS is configured, and what tests/web/test_sessions.py leaves out:
the cookie flags of every cookie web sets, in both modes; sessions stored hashed;
a session cookie refused once its user is deactivated."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from services.web.config import WebSettings
from services.web.models import Session, User
from tests.conftest import TEST_SECRET
from tests.web.conftest import PASSWORD, csrf_of, login, make_client, make_user, open_stack


def cookies_of(r: httpx.Response) -> dict[str, dict[str, str | bool]]:
    out: dict[str, dict[str, str | bool]] = {}
    for header in r.headers.get_list("set-cookie"):
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            out[name] = {
                "httponly": bool(morsel["httponly"]),
                "secure": bool(morsel["secure"]),
                "samesite": str(morsel["samesite"]).lower(),
                "path": morsel["path"],
            }
    return out


@pytest.mark.parametrize("secure", [True, False], ids=["tls-configured", "plain-http-dev"])
async def test_every_cookie_is_httponly_samesite_and_secure_when_configured(
    migrated: str, var_dir: Path, engine: AsyncEngine, secure: bool
) -> None:
    async with open_stack(migrated, var_dir, engine, cookie_secure=secure) as stack:
        client = await make_client(stack.engine)
        user = await make_user(stack.engine, "strategist", [client])
        # Behind the TLS proxy the browser speaks https.
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=stack.web_app, client=("10.7.7.7", 1)),
            base_url="https://testserver" if secure else "http://testserver",
        ) as web:
            form = await web.get("/login")
            seen = cookies_of(form)
            r = await login(web, user.email)
            assert r.status_code == 303
            seen.update(cookies_of(r))
            page = await web.get("/clients")
            r = await web.post(
                "/lang", data={"locale": "en", "next": "/", "csrf_token": csrf_of(page)}
            )
            seen.update(cookies_of(r))
    assert {"balise_session", "balise_locale"} <= set(seen), seen
    assert len(seen) >= 3, f"the pre-login CSRF cookie is missing: {seen}"
    for name, flags in seen.items():
        assert flags["httponly"] is True, f"{name} readable by scripts"
        assert flags["secure"] is secure, f"{name}: Secure={flags['secure']}"
        assert flags["samesite"] in ("lax", "strict"), f"{name}: SameSite={flags['samesite']}"
        assert flags["path"] == "/"


def test_production_cookies_are_secure_by_default() -> None:
    common = {"secret_key": TEST_SECRET, "database_url": "postgresql://x@127.0.0.1/x"}
    assert WebSettings(environment="production", **common).secure_cookies is True
    assert WebSettings(environment="test", **common).secure_cookies is False


async def test_sessions_are_stored_hashed_and_die_with_their_user(stack) -> None:
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    cookie = stack.web.cookies.get("balise_session")
    assert cookie
    sid = stack.web_app.state.signer.loads(cookie)
    async with await stack.session() as s:
        rows = (await s.exec(select(Session).where(Session.user_id == user.id))).all()
        assert len(rows) == 1
        stored = rows[0].model_dump()
        assert all(sid not in str(v) and cookie not in str(v) for v in stored.values())
        row = await s.get(User, user.id)
        row.active = False
        s.add(row)
        await s.commit()
    r = await stack.web.get("/clients")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_password_spraying_from_one_address_is_throttled(stack) -> None:
    """Five failures on five different accounts lock the address, not only an account;
    the same user from another address is not locked out."""
    client = await make_client(stack.engine)
    victims = [await make_user(stack.engine, "strategist", [client]) for _ in range(5)]
    codes = [(await login(stack.web, v.email, "Winter2026!")).status_code for v in victims]
    assert codes == [401] * 5
    target = await make_user(stack.engine, "strategist", [client])
    locked = await login(stack.web, target.email)  # right password, same address
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert "balise_session" not in locked.headers.get("set-cookie", "")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.web_app, client=("10.250.1.2", 1)),
        base_url="http://testserver",
    ) as elsewhere:
        assert (await login(elsewhere, target.email)).status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example",
        "\\\\evil.example",
        "//evil.example",
    ],
    ids=["backslash", "tab", "newline", "double-backslash", "scheme-relative"],
)
async def test_the_login_never_redirects_off_site(stack, target: str) -> None:
    user = await make_user(stack.engine)
    page = await stack.web.get("/login")
    r = await stack.web.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": csrf_of(page),
            "next": target,
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/", r.headers.get("location")
    # A same-site target with a query survives.
    page = await stack.web.get("/clients")
    r = await stack.web.post(
        "/lang",
        data={"locale": "en", "next": "/clients?q=a b", "csrf_token": csrf_of(page)},
    )
    assert r.status_code == 303 and r.headers["location"] == "/clients?q=a b"
