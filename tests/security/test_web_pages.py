"""Every HTML page of the web UI, rendered with real seeded data: security headers, a CSP
allowing only the app's own static files, and user-provided text rendered inert."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from tests.security.conftest import SCRIPT, XSS, Seeded
from tests.security.web_routes import fill, web_routes

GETS = [path for method, path in web_routes() if method == "GET"]
# GET routes that answer something else than a 200 page, each with its status and why.
NOT_PAGES: dict[str, tuple[int, str]] = {
    "/": (303, "an admin with several clients goes to the client list"),
    "/login": (303, "a signed-in user is sent home"),
    "/oauth/callback": (422, "a callback without the provider's code and state is refused"),
    "/c/{slug}/implementation": (303, "no active plan version yet: sent to the plan step"),
    "/c/{slug}/analyse/report/{job_id}/download": (
        404,
        "the seeded job is a generic failed job, not a rendered report",
    ),
    "/feeds/{token}.ics": (404, "an unknown feed token"),
}
# Downloads (not HTML): their headers are checked, not their markup.
DOWNLOADS = {
    "/c/{slug}/analyse/export/{table}.{fmt}",
    "/c/{slug}/plan/v/{vid}/calendar.csv",
    "/c/{slug}/plan/exports/{export_id}",
    "/c/{slug}/benchmark/relays.csv",
    "/c/{slug}/analyse/report/{job_id}/download",
}


def csp_directives(value: str) -> dict[str, list[str]]:
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_inert(path: str, html: str) -> None:
    """Nothing the seed planted is live markup: no script, handler or img of ours."""
    assert SCRIPT not in html, f"{path}: the <script> payload is rendered raw"
    assert "<img src=x" not in html, f"{path}: the <img onerror> payload is rendered raw"
    page = BeautifulSoup(html, "html.parser")
    for script in page.find_all("script"):
        assert script.get("src", "").startswith("/static/"), f"{path}: inline or foreign {script}"
    for tag in page.find_all(True):
        handlers = [a for a in tag.attrs if a.lower().startswith("on")]
        assert not handlers, f"{path}: event handler attribute on <{tag.name}>: {handlers}"
        for attr in ("href", "src", "action", "formaction"):
            assert not str(tag.get(attr, "")).lower().startswith("javascript:"), f"{path}: {tag}"


@pytest.mark.parametrize("route", GETS)
async def test_every_page_carries_the_security_headers(seeded: Seeded, route: str) -> None:
    r = await seeded.stack.web.get(fill(route, seeded.params))
    expected = NOT_PAGES.get(route, (200, ""))[0]
    assert r.status_code == expected, f"GET {route} answered {r.status_code}: {r.text[:300]}"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-frame-options"] == "DENY"
    ctype = r.headers.get("content-type", "")
    if 300 <= r.status_code < 400:
        return  # a redirect has no body to protect
    if route in DOWNLOADS and r.status_code == 200:
        assert not ctype.startswith("text/html"), f"{route} is a download, served as {ctype}"
        return
    assert ctype.startswith("text/html"), f"{route} answered {ctype}"
    csp = csp_directives(r.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"], "scripts: the app's own static files only"
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert r.headers["cache-control"] == "no-store"
    assert_inert(route, r.text)
    page = BeautifulSoup(r.text, "html.parser")
    if page.find("html") is not None and page.find("script") is not None:
        # HTMX must neither eval attribute code nor run scripts in swapped fragments.
        meta = page.find("meta", attrs={"name": "htmx-config"})
        assert meta is not None, f"{route}: HTMX without its hardened config"
        config = json.loads(str(meta["content"]))
        assert config["allowEval"] is False and config["allowScriptTags"] is False


# Pages that show the hostile seed, with the label the seed put before the payload.
SHOWS_SEED = {
    "/clients": "Musée",  # the client's name
    "/c/{slug}": "Musée",
    "/c/{slug}/analyse": "Page",  # an account name
    "/c/{slug}/benchmark/relays/{relay_id}": "Bio",  # the relay's bio
    "/c/{slug}/benchmark/shortlist": "Relais",  # the relay's name
    "/c/{slug}/benchmark/groups/{group_id}": "Pair",  # the peer's name
    "/c/{slug}/plan": "Plan",  # the plan's name
    "/c/{slug}/plan/v/{vid}": "Public",  # the audience's name
    "/admin/users": "Viewer",  # a user's name
    "/settings/tokens": "Outil",  # an API token's name
}


@pytest.mark.parametrize("route", sorted(SHOWS_SEED))
async def test_user_provided_text_is_shown_escaped(seeded: Seeded, route: str) -> None:
    r = await seeded.stack.web.get(fill(route, seeded.params))
    assert r.status_code == 200, r.text[:300]
    assert_inert(route, r.text)
    text = " ".join(BeautifulSoup(r.text, "html.parser").get_text().split())
    assert f"{SHOWS_SEED[route]} {XSS}" in text, f"{route} should show the seed as plain text"


async def test_an_error_page_carries_the_headers_too(seeded: Seeded) -> None:
    r = await seeded.stack.web.get(f"/c/{seeded.params['slug']}/no-such-step")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert csp_directives(r.headers["content-security-policy"])["script-src"] == ["'self'"]
    assert r.headers["x-content-type-options"] == "nosniff"
