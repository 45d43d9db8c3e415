"""Sign-in, sessions, CSRF, throttling, fixation, logout, language."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, csrf_of, login, make_client, make_user, soup


async def test_login_sets_a_hardened_cookie_and_shows_the_clients(stack):
    client = await make_client(stack.engine, "Musée Régional")
    user = await make_user(stack.engine, "strategist", [client])
    r = await login(stack.web, user.email)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "balise_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    # One client: the root goes straight to its home.
    r = await stack.web.get("/")
    assert r.status_code == 303 and r.headers["location"] == f"/c/{client.slug}"
    r = await stack.web.get("/clients")
    page = soup(r)
    assert [a.get_text(strip=True) for a in page.select("ul.cards a")] == ["Musée Régional"]


async def test_wrong_password_fails_the_same_way_as_unknown_email(stack):
    user = await make_user(stack.engine)
    bad = await login(stack.web, user.email, "not the password")
    unknown = await login(stack.web, "nobody@example.test", "not the password")
    assert bad.status_code == unknown.status_code == 401
    assert (
        soup(bad).select_one("p.error").get_text() == soup(unknown).select_one("p.error").get_text()
    )
    assert "balise_session" not in bad.headers.get("set-cookie", "")


async def test_login_throttling_locks_after_repeated_failures(stack):
    user = await make_user(stack.engine)
    codes = [(await login(stack.web, user.email, "wrong password!")).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 401, 401]
    locked = await login(stack.web, user.email, PASSWORD)  # even the right password
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0


async def test_login_form_needs_its_csrf_token(stack):
    user = await make_user(stack.engine)
    await stack.web.get("/login")
    r = await stack.web.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert r.status_code == 403
    assert "balise_session" not in r.headers.get("set-cookie", "")


async def test_a_new_login_replaces_the_session_id_and_logout_kills_it(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    other = await make_user(stack.engine, "strategist", [client])
    form = await stack.web.get("/login")
    token = csrf_of(form)
    await stack.web.post(
        "/login", data={"email": other.email, "password": PASSWORD, "csrf_token": token}
    )
    first = stack.web.cookies.get("balise_session")
    # A browser carrying someone's session (a planted cookie) signs in: it gets a new id.
    await stack.web.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    second = stack.web.cookies.get("balise_session")
    assert first and second and first != second
    # The first session died when the second began (no fixation).
    stack.web.cookies.set("balise_session", first)
    r = await stack.web.get("/clients")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    stack.web.cookies.set("balise_session", second)
    page = await stack.web.get("/clients")
    assert page.status_code == 200
    r = await stack.web.post("/logout", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 303
    stack.web.cookies.set("balise_session", second)  # replaying the old cookie
    r = await stack.web.get("/clients")
    assert r.status_code == 303


async def test_state_changing_forms_need_the_session_csrf_token(stack):
    admin = await make_user(stack.engine, "admin")
    await login(stack.web, admin.email)
    r = await stack.web.post("/clients", data={"name": "No Token Inc"})
    assert r.status_code == 403
    page = await stack.web.get("/clients")
    r = await stack.web.post(
        "/clients", data={"name": "Token Inc", "slug": "", "csrf_token": csrf_of(page)}
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/c/token-inc")


async def test_language_switch_changes_the_interface(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    page = await stack.web.get("/clients")
    r = await stack.web.post(
        "/lang", data={"locale": "en", "next": "/clients", "csrf_token": csrf_of(page)}
    )
    assert r.status_code == 303
    en = soup(await stack.web.get("/clients"))
    assert en.html["lang"] == "en" and en.find("h1").get_text() == "Clients"
    assert en.select_one("form[action='/logout'] button").get_text() == "Sign out"
    page = await stack.web.get("/clients")
    await stack.web.post(
        "/lang", data={"locale": "fr_CA", "next": "/clients", "csrf_token": csrf_of(page)}
    )
    fr = soup(await stack.web.get("/clients"))
    assert fr.html["lang"] == "fr-CA"
    assert fr.select_one("form[action='/logout'] button").get_text() == "Déconnexion"


async def test_open_redirects_are_refused(stack):
    user = await make_user(stack.engine)
    page = await stack.web.get("/login")
    r = await stack.web.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": csrf_of(page),
            "next": "https://evil.example/",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


async def test_html_pages_carry_security_headers(stack):
    r = await stack.web.get("/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["vary"] == "HX-Request"


async def test_idle_sessions_expire_and_active_ones_are_refreshed(stack):
    import datetime as dt

    from sqlmodel import select

    from services.web.models import Session

    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)

    async def set_last_seen(minutes_ago: int) -> None:
        async with await stack.session() as s:
            row = (await s.exec(select(Session).where(Session.user_id == user.id))).one()
            row.last_seen_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
            s.add(row)
            await s.commit()

    await set_last_seen(5)
    assert (await stack.web.get("/clients")).status_code == 200
    async with await stack.session() as s:
        row = (await s.exec(select(Session).where(Session.user_id == user.id))).one()
    assert dt.datetime.now(dt.UTC) - row.last_seen_at < dt.timedelta(minutes=1)
    await set_last_seen(60 * 3)  # longer than the idle limit (two hours)
    r = await stack.web.get("/clients")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
