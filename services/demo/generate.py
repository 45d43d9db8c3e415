"""The demo agency, generated: one client, its six peers and sixty relays.

:func:`generate` is pure and deterministic: no I/O besides reading the shipped reference
data, no clock, one fixed seed. The same call gives the same records on every run and
machine (:meth:`Demo.digest` is their fingerprint), which is what the demo's tests and
``balise demo`` rely on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel

from services.demo import client as client_part
from services.demo import peers as peer_part
from services.demo import relays as relay_part
from services.demo.client import DemoEvent
from services.demo.peers import DemoPeer
from services.demo.records import DemoAccount
from services.demo.reference import Reference, load_reference
from services.demo.relays import DemoRelay
from services.demo.timeline import DEMO_END, TIMEZONE, window_start
from services.demo.website import PROPERTY_ID, PROPERTY_NAME, website_data
from shared.schemas.ingest import DailyMetricRecord, WebMetricRecord

SEED = 20_260_415


@dataclass(frozen=True)
class DemoWebsite:
    external_id: str
    name: str
    url: str
    collected_from: dt.date
    daily: list[DailyMetricRecord]  # the property's daily totals
    web: list[WebMetricRecord]  # totals as ``total`` rows, and the breakdowns
    timezone: str = TIMEZONE


@dataclass(frozen=True)
class DemoClient:
    name: str
    slug: str
    website: DemoWebsite
    accounts: list[DemoAccount]
    events: list[DemoEvent]


@dataclass(frozen=True)
class Demo:
    seed: int
    start: dt.date
    end: dt.date
    client: DemoClient
    peers: list[DemoPeer]
    peer_groups: list[tuple[str, str, tuple[str, ...]]]  # (name, description, peer keys)
    relays: list[DemoRelay]
    shortlist: list[str]  # relay keys

    def all_accounts(self) -> Iterator[DemoAccount]:
        yield from self.client.accounts
        for peer in self.peers:
            yield from peer.accounts
        for relay in self.relays:
            yield from relay.accounts

    def digest(self) -> str:
        """SHA-256 over every record and every directory field, in order."""
        h = hashlib.sha256()

        def feed(value: object) -> None:
            text = value.model_dump_json() if isinstance(value, BaseModel) else repr(value)
            h.update(text.encode("utf-8"))
            h.update(b"\n")

        feed((self.seed, self.start, self.end, self.client.name, self.client.events))
        for daily in self.client.website.daily:
            feed(daily)
        for row in self.client.website.web:
            feed(row)
        for account in self.all_accounts():
            feed((account.ref, account.url, account.collected_from))
            for daily in account.daily:
                feed(daily)
            for post in account.posts:
                feed(post)
        for peer in self.peers:
            feed((peer.key, peer.name, peer.region, peer.added_on, peer.description))
        for relay in self.relays:
            feed(
                (
                    relay.key,
                    relay.name,
                    relay.kind,
                    relay.category,
                    relay.topics,
                    relay.tier,
                    relay.bio,
                    relay.status,
                    relay.notes,
                    relay.following,
                    relay.duplicate_of,
                    relay.signals,
                    relay.relays,
                    relay.added_on,
                )
            )
        feed((self.peer_groups, self.shortlist))
        return h.hexdigest()


def generate(seed: int = SEED, end: dt.date = DEMO_END, ref: Reference | None = None) -> Demo:
    """The whole demo for the 18 months ending on ``end``."""
    ref = ref or load_reference()
    start = window_start(end)
    accounts, events = client_part.client_accounts(seed, ref, start, end)
    contests = [(e.start, e.days) for e in events if e.kind == "contest"]
    site = website_data(seed, start, end, contests)
    website = DemoWebsite(
        external_id=PROPERTY_ID,
        name=PROPERTY_NAME,
        url=client_part.WEBSITE,
        collected_from=start,
        daily=site.daily,
        web=site.web,
    )
    client = DemoClient(client_part.NAME, client_part.SLUG, website, accounts, events)
    relays = relay_part.relays(seed, ref, end, accounts)
    return Demo(
        seed=seed,
        start=start,
        end=end,
        client=client,
        peers=peer_part.peers(seed, ref, end),
        peer_groups=list(peer_part.GROUPS),
        relays=relays,
        shortlist=relay_part.shortlist(relays),
    )
