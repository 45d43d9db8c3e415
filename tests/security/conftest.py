"""A whole stack seeded with one client whose every user-provided text is hostile.

``seeded`` (module scope) opens the in-process stack of tests/web (web + the three real
backends on the committed test database) and creates, for one client, a resource behind
every path parameter of the web pages: accounts with posts, an import, a connection, a
webhook subscription with a delivery on two backends, a peer group with a computed
benchmark row, a shortlisted relay, a plan with a version and an export, jobs, an API
token and users. The client's name, a post's text, the relay's name and bio, the plan's
name and an audience's name carry :data:`XSS`, so any page showing them proves it
escapes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_sessionmaker
from tests.contract.resources import FACTORIES, _planner_version
from tests.web.conftest import Stack, login, make_client, make_user, open_stack
from tests.web.conftest import stack as stack  # the whole-stack fixture, per test

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
XSS = f"{SCRIPT}{IMG}"


@dataclass
class Seeded:
    stack: Stack
    params: dict[str, Any]
    admin_email: str
    admin_id: int
    client_id: int
    extra: dict[str, Any] = field(default_factory=dict)


async def seed(stack: Stack) -> Seeded:
    from services.web import service as web_service
    from services.web.models import User
    from tests.ingest.factories import add_daily, add_post, create_account

    client = await make_client(stack.engine, f"Musée {XSS}")
    admin = await make_user(stack.engine, "admin")
    viewer = await make_user(stack.engine, "client_viewer", [client])
    cid = int(client.id)
    maker = create_sessionmaker(stack.engine)
    params: dict[str, Any] = {"slug": client.slug}
    async with maker() as s:
        named = await s.get(User, viewer.id)
        assert named is not None
        named.name = f"Viewer {XSS}"
        s.add(named)
        # ingest: an account with figures and a hostile post in the audit's default period
        account = await create_account(s, cid, "facebook", name=f"Page {XSS}")
        today = dt.date.today()
        days = {today - dt.timedelta(days=i): 1000.0 + i for i in range(1, 60)}
        await add_daily(s, account, "followers", days)
        for i in range(1, 4):
            await add_post(
                s,
                account,
                dt.datetime.now(dt.UTC) - dt.timedelta(days=3 * i),
                metrics={"reactions": 10.0 * i, "comments": 2.0, "shares": 1.0},
                text=f"Post {i} {XSS}",
                external_id=f"xss-{cid}-{i}",
            )
        for name in ("import_id", "connection_id", "sub_id", "delivery_id", "job_id"):
            params[f"ingest.{name}"] = await FACTORIES["ingest"][name](s, cid)
        # benchmark: peer group, peer, account, result; a shortlisted hostile relay
        for name in ("group_id", "peer_id", "account_id", "result_id", "relay_id"):
            params[name] = await FACTORIES["benchmark"][name](s, cid)
        for name in ("sub_id", "delivery_id", "job_id"):
            params[f"benchmark.{name}"] = await FACTORIES["benchmark"][name](s, cid)
        from services.benchmark.peers.models import Peer
        from services.benchmark.relays.models import Relay

        relay = await s.get(Relay, params["relay_id"])
        assert relay is not None
        relay.name, relay.bio = f"Relais {XSS}"[:200], f"Bio {XSS}"
        s.add(relay)
        peer = await s.get(Peer, params["peer_id"])
        assert peer is not None
        peer.name = f"Pair {XSS}"
        s.add(peer)
        # planner: a plan whose version holds a hostile audience, an animator, an export
        from services.planner.plans.models import Plan

        for name in ("plan_id", "version_id", "export_id", "job_id"):
            params[f"planner.{name}" if name == "job_id" else name] = await FACTORIES["planner"][
                name
            ](s, cid)
        version = await _planner_version(s, cid)
        doc = dict(version.document)
        doc["audiences"] = [dict(doc["audiences"][0], name=f"Public {XSS}")]
        version.document = doc
        s.add(version)
        plan = await s.get(Plan, params["plan_id"])
        assert plan is not None
        plan.name = f"Plan {XSS}"
        s.add(plan)
        # web: an API token of the admin's
        owner = await s.get(User, admin.id)
        assert owner is not None
        _, token_row = await web_service.create_api_token(
            s,
            owner,
            name=f"Outil {XSS}",
            services=["ingest"],
            client_ids=[cid],
            scope="read",
            expires_in_days=5,
        )
        await s.commit()
        params["token_pk"] = token_row.id
    params.update(
        vid=params["version_id"],
        collection="audiences",
        item_id="aud-b",
        animator_id="ani-b",
        action="approve",
        user_id=viewer.id,
        step_key="analyse",
        table="findings",
        fmt="csv",
        token="no-such-feed",
        service="ingest",
    )
    return Seeded(
        stack=stack,
        params=params,
        admin_email=admin.email,
        admin_id=int(admin.id),
        client_id=cid,
        extra={"viewer_email": viewer.email, "ingest_account": account.id},
    )


@pytest.fixture(scope="module")
async def seeded(migrated: str, var_dir: Path, engine: AsyncEngine) -> AsyncIterator[Seeded]:
    async with open_stack(migrated, var_dir, engine) as stack:
        data = await seed(stack)
        r = await login(stack.web, data.admin_email)
        assert r.status_code == 303
        yield data
