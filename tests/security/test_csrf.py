"""CSRF on every state-changing route of the web UI, walked from its routers.

Each POST/PUT/PATCH/DELETE route is called by a signed-in administrator (who may do
anything, so a refusal can only be the CSRF check) with real seeded resources in the
path, three ways: without a token, with a forged one in the X-CSRF-Token header, and
with another live session's token in the form. Each is refused with the stale-form
answer; afterwards the session is still alive and nothing the walk aimed at changed.
"""

from __future__ import annotations

import httpx
import pytest
from bs4 import BeautifulSoup

from services.web.i18n import Translator
from tests.security.conftest import Seeded
from tests.security.web_routes import fill, web_routes
from tests.web.conftest import csrf_of, login

WRITES = [(m, p) for m, p in web_routes() if m in ("POST", "PUT", "PATCH", "DELETE")]
STALE = "Your session has expired or the form was stale; please try again."


async def other_sessions_token(seeded: Seeded) -> str:
    """The CSRF token of another live session (the seeded client viewer's)."""
    if "other_csrf" in seeded.extra:
        return str(seeded.extra["other_csrf"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=seeded.stack.web_app, client=("10.9.9.9", 1)),
        base_url="http://testserver",
    ) as other:
        r = await login(other, seeded.extra["viewer_email"])
        assert r.status_code == 303
        seeded.extra["other_csrf"] = csrf_of(await other.get("/clients"))
        return str(seeded.extra["other_csrf"])


def refused_as_stale(r: httpx.Response) -> bool:
    text = " ".join(BeautifulSoup(r.text, "html.parser").get_text().split())
    return r.status_code == 403 and any(Translator(loc)(STALE) in text for loc in ("fr_CA", "en"))


@pytest.mark.parametrize(("method", "route"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
async def test_every_state_changing_route_needs_the_sessions_csrf_token(
    seeded: Seeded, method: str, route: str
) -> None:
    web = seeded.stack.web
    url = fill(route, seeded.params)
    form = {"name": "csrf-walk", "next": "/clients", "locale": "en"}
    missing = await web.request(method, url, data=form)
    assert refused_as_stale(missing), f"{method} {route} without a token: {missing.status_code}"
    forged = await web.request(
        method, url, data=form, headers={"X-CSRF-Token": "forged", "HX-Request": "true"}
    )
    assert refused_as_stale(forged), f"{method} {route} with a forged header: {forged.status_code}"
    stolen = await web.request(
        method, url, data={**form, "csrf_token": await other_sessions_token(seeded)}
    )
    assert refused_as_stale(stolen), (
        f"{method} {route} with another session's token: {stolen.status_code}"
    )


async def test_after_the_walk_the_session_and_the_data_are_untouched(seeded: Seeded) -> None:
    web = seeded.stack.web
    # POST /logout was refused: the session still works.
    page = await web.get("/clients")
    assert page.status_code == 200
    # Nothing the walk posted was stored: no client or peer group named after it, the
    # seeded plan and relay still exist, the API token is not revoked, English not chosen.
    assert "csrf-walk" not in page.text
    slug = seeded.params["slug"]
    assert "csrf-walk" not in (await web.get(f"/c/{slug}/benchmark")).text
    plans = await web.get(f"/c/{slug}/plan/v/{seeded.params['vid']}")
    assert plans.status_code == 200
    relay = await web.get(f"/c/{slug}/benchmark/relays/{seeded.params['relay_id']}")
    assert relay.status_code == 200
    tokens = BeautifulSoup((await web.get("/settings/tokens")).text, "html.parser")
    assert tokens.select(f"form[action='/settings/tokens/{seeded.params['token_pk']}/revoke']")
    assert BeautifulSoup(page.text, "html.parser").html["lang"] == "fr-CA"
    # The control: the same kind of call with the session's own token goes through.
    r = await web.post(
        "/lang", data={"locale": "en", "next": "/clients", "csrf_token": csrf_of(page)}
    )
    assert r.status_code == 303 and not refused_as_stale(r)
