"""Managing a client's webhook subscriptions of the three backends from the browser."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import col, select

from services.ingest.webhooks.events import outbox
from services.ingest.webhooks.models import IngestWebhookSubscription
from shared.db import create_sessionmaker
from shared.outbox_dispatch import Dispatcher
from tests.shared.receiver import Receiver
from tests.web.conftest import csrf_of, login, make_client, make_user, soup


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


def hooks(slug: str) -> str:
    return f"/c/{slug}/webhooks"


async def subscribe(stack, slug: str, url: str, events: list[str]):
    page = await stack.web.get(hooks(slug))
    form = soup(page).select_one("form[data-form=subscribe-ingest]")
    return await stack.web.post(
        hooks(slug),
        data={
            "csrf_token": csrf_of(page),
            "service": "ingest",
            "url": url,
            "event_types": events,
            "description": "CRM de l'agence",
            "idempotency_key": form.select_one("input[name=idempotency_key]")["value"],
        },
    )


async def test_subscribe_secret_shown_once_then_listed(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    page = soup(await stack.web.get(hooks(client.slug)))
    assert page.find("h1").get_text() == "Webhooks"
    sections = {s["data-service"]: s for s in page.select("section[data-service]")}
    assert set(sections) == {"ingest", "benchmark", "planner"}
    boxes = [i["value"] for i in sections["ingest"].select("input[name=event_types]")]
    assert "ingest.sync.completed" in boxes and "ingest.account.reauth_required" in boxes
    for other in ("benchmark", "planner"):  # each offers its form once it mounts the API
        s = sections[other]
        assert s.select_one("form") is not None or "pas encore" in s.get_text()

    r = await subscribe(
        stack, client.slug, "https://93.184.215.14/hooks", ["ingest.sync.completed"]
    )
    assert r.status_code == 200, r.text
    created = soup(r)
    secret = created.select_one("code[data-new-secret]").get_text()
    assert secret.startswith("whsec_")
    [row] = created.select("section[data-service=ingest] tr[data-subscription]")
    assert row["data-enabled"] == "true" and "ingest.sync.completed" in row.get_text()

    again = await stack.web.get(hooks(client.slug))
    assert secret not in again.text and soup(again).select_one("[data-new-secret]") is None

    r = await subscribe(stack, client.slug, "http://x", [])
    assert r.status_code == 422 and soup(r).select_one("p.error")


async def test_test_ping_is_delivered_and_logged(stack, receiver):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "community_manager", [client])
    await login(stack.web, user.email)
    r = await subscribe(stack, client.slug, receiver.url, ["ingest.sync.failed"])
    receiver.secret = soup(r).select_one("code[data-new-secret]").get_text()
    sub_id = soup(r).select_one("section[data-service=ingest] tr[data-subscription]")[
        "data-subscription"
    ]
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf_of(r)}
    r = await stack.web.post(f"{hooks(client.slug)}/ingest/{sub_id}/ping", headers=headers)
    assert r.status_code == 200, r.text
    log = soup(r).select_one("div.deliveries")
    assert log["hx-trigger"] == "every 2s"  # polls while the message waits
    [waiting] = log.select("tr[data-delivery]")
    assert waiting["data-status"] == "pending" and "webhook.ping" in waiting.get_text()

    settings = stack.apps["ingest"].state.settings
    await Dispatcher(outbox, create_sessionmaker(stack.engine), settings).run(budget_seconds=5)
    assert receiver.received and receiver.received[0].verified

    r = await stack.web.get(f"{hooks(client.slug)}/ingest/{sub_id}/deliveries", headers=headers)
    log = soup(r).select_one("div.deliveries")
    assert not log.has_attr("hx-trigger")  # nothing left to wait for
    [done] = log.select("tr[data-delivery]")
    assert done["data-status"] == "succeeded" and "HTTP 200" in done.get_text()
    assert receiver.received[0].msg_id in done.get_text()


async def test_a_disabled_subscription_tells_why_and_can_be_re_enabled(stack):
    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    await subscribe(stack, client.slug, "https://93.184.215.14/h", ["ingest.sync.completed"])
    reason = (
        "Disabled after 23.6 hours of failed deliveries to https://93.184.215.14/h; "
        "last error: HTTP 503."
    )
    async with await stack.session() as s:
        sub = (
            await s.exec(
                select(IngestWebhookSubscription).where(
                    col(IngestWebhookSubscription.client_id) == client.id
                )
            )
        ).one()
        sub.enabled = False
        sub.disabled_at = dt.datetime.now(dt.UTC)
        sub.disabled_reason = reason
        s.add(sub)
        await s.commit()
        sub_id = sub.id
    page = await stack.web.get(hooks(client.slug))
    row = soup(page).select_one(f"tr[data-subscription='{sub_id}']")
    assert row["data-enabled"] == "false"
    assert reason in row.select_one("[data-disabled-reason]").get_text()
    assert row.select_one("[data-action=ping]") is None
    r = await stack.web.post(
        f"{hooks(client.slug)}/ingest/{sub_id}/enable", data={"csrf_token": csrf_of(page)}
    )
    assert r.status_code == 303
    row = soup(await stack.web.get(hooks(client.slug))).select_one(
        f"tr[data-subscription='{sub_id}']"
    )
    assert row["data-enabled"] == "true"


async def test_another_clients_subscription_is_not_found(stack):
    mine, theirs = await make_client(stack.engine), await make_client(stack.engine)
    me = await make_user(stack.engine, "strategist", [mine])
    them = await make_user(stack.engine, "strategist", [theirs])
    await login(stack.web, them.email)
    r = await subscribe(stack, theirs.slug, "https://93.184.215.14/t", ["ingest.sync.failed"])
    their_sub = soup(r).select_one("tr[data-subscription]")["data-subscription"]
    stack.web.cookies.clear()
    await login(stack.web, me.email)
    page = await stack.web.get(hooks(mine.slug))
    for path in ("deliveries",):
        r = await stack.web.get(f"{hooks(mine.slug)}/ingest/{their_sub}/{path}")
        assert r.status_code == 404
    for action in ("ping", "enable", "delete"):
        r = await stack.web.post(
            f"{hooks(mine.slug)}/ingest/{their_sub}/{action}", data={"csrf_token": csrf_of(page)}
        )
        assert r.status_code == 404, action
    r = await stack.web.get(hooks(theirs.slug))
    assert r.status_code == 404


async def test_planner_offers_its_at_risk_alert(stack):
    from services.planner.webhooks.models import PlannerWebhookSubscription
    from shared.db import create_sessionmaker as _sm

    client = await make_client(stack.engine)
    user = await make_user(stack.engine, "strategist", [client])
    await login(stack.web, user.email)
    page = await stack.web.get(hooks(client.slug))
    section = soup(page).select_one("section[data-service=planner]")
    boxes = [i["value"] for i in section.select("input[name=event_types]")]
    assert "planner.kpi.at_risk" in boxes
    form = section.select_one("form[data-form=subscribe-planner]")
    r = await stack.web.post(
        hooks(client.slug),
        data={
            "csrf_token": csrf_of(page),
            "service": "planner",
            "url": "https://93.184.215.14/alerts",
            "event_types": ["planner.kpi.at_risk"],
            "description": "Alertes du tableau de bord",
            "idempotency_key": form.select_one("input[name=idempotency_key]")["value"],
        },
    )
    assert r.status_code == 200, r.text
    [row] = soup(r).select("section[data-service=planner] tr[data-subscription]")
    assert "planner.kpi.at_risk" in row.get_text()
    async with _sm(stack.engine)() as s:
        subs = (
            await s.exec(
                select(PlannerWebhookSubscription).where(
                    col(PlannerWebhookSubscription.client_id) == client.id
                )
            )
        ).all()
    assert [(x.url, x.event_types) for x in subs] == [
        ("https://93.184.215.14/alerts", ["planner.kpi.at_risk"])
    ]
