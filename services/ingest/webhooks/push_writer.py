"""Group commit of the signed metrics push.

A push written in a transaction of its own costs about ten statements (its client's
secret, its ``webhook-id``, the loader's savepoint, source, account, values and the
client's revision) and a commit: under load that bound the endpoint near 220 messages a
second, the CPU of one transaction per message across ingest and PostgreSQL.

So each process has one :class:`PushWriter`. A request hands it the raw message and waits;
the writer takes every message waiting and, in **one** transaction, reads their clients'
push secrets, checks each message (the signature on the exact bytes first, then the body),
records the accepted ``webhook-id`` values (a replay, or the same id twice in the batch,
is refused), loads all their values through the store loader (one revision raise per
client) and commits; only then does it answer the requests. While a batch is written the
next one gathers, so batches grow with the load, and a lone message is written at once:
no timer adds a wait.

A tool pushes the same few accounts all day: the account and source ids a committed batch
resolved are kept per client (:class:`loader.LoadMemo`), so a batch's statements are its
secrets, its ids, its values and the revision. Ids join the memo only once their batch is
committed; a batch that fails forgets its clients' memos and, if it used one, is written
once more with everything looked up (an account removed by hand fails its foreign key).
A batch whose clients all have a memo is written on a bare asyncpg connection of the
service's pool (:class:`_Driver`, :func:`loader.load_on_driver`): the same statements
without SQLAlchemy's work per statement, which had become half of the writer's CPU. If it
meets an account or source the memo lacks, it is rolled back and written through
SQLAlchemy (:class:`_Core`), as on SQLite and for the first batch of every client.

What a caller sees is unchanged: 200 once its values are committed; 401, 409 or 422 for
its own message alone; 503 when the database cannot be reached. A failure of a batch that
is not the database going away (a value the store refuses) is retried message by
message, so it is charged to the message that caused it and the others are stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.store import loader
from services.ingest.webhooks.models import PushMessage, PushSecret
from shared import webhooks
from shared.clock import utcnow
from shared.crypto import box_for
from shared.db import HotReader, database_unavailable, is_connection_error
from shared.errors import Conflict, Invalid, Unauthorized
from shared.metrics_catalogue import CATALOGUE
from shared.schemas.connections import MetricsPush, PushAccepted
from shared.schemas.ingest import AccountRef, Source

log = logging.getLogger("balise.ingest.incoming")

#: the headers a Standard Webhooks message is checked with
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
#: a batch's most messages (a few hundred values each at most: one loader batch)
MAX_BATCH = 256
#: the most ids kept for one client, and the most clients kept (then forgotten, and
#: looked up again)
MEMO_LIMIT = 4096
MEMO_CLIENTS = 1024
_NOT_VERIFIED = "The message's signature could not be verified"
_SECRET_T = PushSecret.__table__  # type: ignore[attr-defined]
#: built once: a statement built per batch costs its cache key every time
_SECRETS = select(_SECRET_T.c.client_id, _SECRET_T.c.secret_encrypted).where(
    _SECRET_T.c.client_id.in_(bindparam("ids", expanding=True))
)


@dataclass(eq=False)
class _Message:
    client_id: int
    headers: dict[str, str]
    body: bytes
    future: asyncio.Future[PushAccepted]
    msg_id: str = ""
    push: MetricsPush | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.client_id, self.msg_id[:200])


Outcome = PushAccepted | Exception
#: a session in a transaction of its own, committed when the block ends without error
Transaction = Callable[[], contextlib.AbstractAsyncContextManager[AsyncSession]]


def _transaction(maker: async_sessionmaker[AsyncSession]) -> Transaction:
    @contextlib.asynccontextmanager
    async def transaction() -> AsyncIterator[AsyncSession]:
        async with maker() as session, session.begin():
            yield session

    return transaction


@dataclass
class WriterStats:
    """Counters of one process's writer: transactions, messages, the largest batch, how
    many batches were written again message by message, and how many on the driver."""

    batches: int = 0
    messages: int = 0
    largest: int = 0
    retried: int = 0
    #: batches written on the driver, every id from the memo
    warm: int = 0


class PushWriter:
    """Writes the pushes a process receives, a batch per transaction (module docstring).

    Up to ``concurrency`` batches are written at once, each on its own connection: while
    one waits on the database the next is checked and sent. Within a batch the values are
    ordered by their key, so concurrent batches lock the rows they share in the same
    order. SQLite has one writer at a time: one batch at a time there.
    """

    def __init__(
        self,
        maker: async_sessionmaker[AsyncSession],
        settings: Any,
        *,
        max_batch: int = MAX_BATCH,
        concurrency: int = 1,
        hot: HotReader | None = None,
    ) -> None:
        self.transaction: Transaction = _transaction(maker)
        self.concurrency = max(1, concurrency)
        #: the service's asyncpg pool, for the warm batches (None: every batch through
        #: SQLAlchemy, as on SQLite and in the tests that lend their session)
        self.hot = hot
        self._box = box_for(settings)
        self._tolerance = int(settings.push_tolerance_seconds)
        self._max_batch = max(1, max_batch)
        self._pending: list[_Message] = []
        self._writing: set[asyncio.Task[None]] = set()
        # ciphertext -> secret: a rotated secret has a new ciphertext, so it is never stale
        self._secrets: dict[str, str] = {}
        # client -> the account and source ids its committed batches resolved
        self._memos: dict[int, loader.LoadMemo] = {}
        self.stats = WriterStats()

    async def submit(self, client_id: int, headers: dict[str, str], body: bytes) -> PushAccepted:
        """Queue one raw message; return its answer once its batch is committed, or raise
        the problem that refuses it."""
        future: asyncio.Future[PushAccepted] = asyncio.get_running_loop().create_future()
        self._pending.append(_Message(client_id, headers, body, future))
        self._start_batches()
        return await future

    async def close(self) -> None:
        """Finish the messages already received (at shutdown)."""
        while self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)

    # ------------------------------------------------------------------ batches

    def _start_batches(self) -> None:
        while self._pending and len(self._writing) < self.concurrency:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            # A caller that hung up before its batch started: its message is dropped
            # (nothing stored, its id not burnt), so a retry of it is accepted.
            batch = [m for m in batch if not m.future.done()]
            if batch:
                task = asyncio.create_task(self._write(batch), name="push-batch")
                self._writing.add(task)
                task.add_done_callback(self._batch_done)

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        self._writing.discard(task)
        # What gathered while the batch was written goes next.
        self._start_batches()

    async def _write(self, batch: list[_Message], use_memo: bool = True) -> None:
        self.stats.batches += 1
        self.stats.messages += len(batch)
        self.stats.largest = max(self.stats.largest, len(batch))
        memos: dict[int, loader.LoadMemo] = {}
        try:
            outcomes = await self._commit(batch, memos, use_memo)
        except Exception as exc:
            # An id the memo served may be gone (a row removed by hand fails its foreign
            # key): these clients' batches look everything up again, this one first.
            clients = {m.client_id for m in batch}
            served = use_memo and any(self._memos.get(c) for c in clients)
            for client_id in clients:
                self._memos.pop(client_id, None)
            if is_connection_error(exc):
                log.warning(
                    "push batch of %d: database unavailable (%s)", len(batch), type(exc).__name__
                )
                for m in batch:
                    _settle(m, database_unavailable())
                return
            if served:
                await self._write(batch, use_memo=False)
                return
            if len(batch) == 1:
                _settle(batch[0], exc)
                return
            # Something in the batch the store refused: each message again, alone, so the
            # failure is charged to its own message.
            # The type only: a driver's message carries the statement's parameters.
            log.warning(
                "push batch of %d failed (%s); writing each alone", len(batch), type(exc).__name__
            )
            self.stats.retried += 1
            for m in batch:
                await self._write([m])
            return
        # Committed: the ids the batch resolved are rows now, for the next batches. (The
        # batch's memo holds the kept one's ids too: it started as a copy.)
        for client_id, memo in memos.items():
            kept = self._memos.get(client_id)
            if kept is None:
                if len(self._memos) >= MEMO_CLIENTS:
                    self._memos.clear()
                kept = self._memos[client_id] = memo
            else:
                kept.accounts.update(memo.accounts)
                kept.sources.update(memo.sources)
            if len(kept.accounts) + len(kept.sources) > MEMO_LIMIT:
                del self._memos[client_id]  # too many to keep: looked up again
        for m, outcome in outcomes:
            _settle(m, outcome)

    def _memo(self, client_id: int) -> loader.LoadMemo:
        """A batch's own copy of the client's memo: what the batch resolves joins the
        kept memo only once the batch is committed (an account created by a batch that
        is rolled back does not exist)."""
        kept = self._memos.get(client_id)
        if kept is None:
            return loader.LoadMemo()
        return loader.LoadMemo(dict(kept.accounts), dict(kept.sources))

    async def _commit(
        self, batch: list[_Message], memos: dict[int, loader.LoadMemo], use_memo: bool
    ) -> list[tuple[_Message, Outcome]]:
        warm = use_memo and all(m.client_id in self._memos for m in batch)
        driver = self.hot.driver() if warm and self.hot is not None else None
        if driver is not None:
            try:
                async with driver as raw, raw.transaction():
                    outcomes = await self._in_transaction(_Driver(raw), batch, memos, use_memo)
                self.stats.warm += 1
                return outcomes
            except loader.NotInMemo:
                # A new account or source: rolled back, nothing kept; the batch again,
                # through the loader's lookups.
                memos.clear()
        async with self.transaction() as session:
            return await self._in_transaction(_Core(session), batch, memos, use_memo)

    async def _in_transaction(
        self,
        db: _Core | _Driver,
        batch: list[_Message],
        memos: dict[int, loader.LoadMemo],
        use_memo: bool,
    ) -> list[tuple[_Message, Outcome]]:
        outcomes: list[tuple[_Message, Outcome]] = []
        secrets = self._client_secrets(await db.secrets(sorted({m.client_id for m in batch})))
        checked: list[_Message] = []
        seen: set[tuple[int, str]] = set()
        for m in batch:
            try:
                self._check(m, secrets.get(m.client_id))
            except (Unauthorized, Invalid) as exc:
                outcomes.append((m, exc))
                continue
            if m.key in seen:
                outcomes.append((m, _replayed(m)))
                continue
            seen.add(m.key)
            checked.append(m)
        fresh = await db.record_ids([m.key for m in checked]) if checked else set()
        by_client: dict[int, list[_Message]] = {}
        for m in checked:
            if m.key in fresh:
                by_client.setdefault(m.client_id, []).append(m)
            else:
                outcomes.append((m, _replayed(m)))
        for client_id, messages in by_client.items():
            memo = self._memo(client_id) if use_memo else loader.LoadMemo()
            memos[client_id] = memo
            outcomes.extend(await _load(db, client_id, messages, memo))
        return outcomes

    def _client_secrets(self, rows: Iterable[tuple[int, str]]) -> dict[int, str]:
        out: dict[int, str] = {}
        for client_id, encrypted in rows:
            secret = self._secrets.get(encrypted)
            if secret is None:
                if len(self._secrets) >= 1024:
                    self._secrets.clear()
                secret = self._secrets[encrypted] = self._box.decrypt(encrypted)
            out[int(client_id)] = secret
        return out

    def _check(self, m: _Message, secret: str | None) -> None:
        """The signature on the exact bytes, then the body; sets ``msg_id`` and ``push``."""
        if secret is None:
            # The same answer as a wrong signature: which clients accept pushes is not leaked.
            raise Unauthorized(f"{_NOT_VERIFIED}.")
        try:
            m.msg_id = webhooks.verify(secret, m.headers, m.body, tolerance=self._tolerance)
        except webhooks.WebhookVerificationError as exc:
            raise Unauthorized(f"{_NOT_VERIFIED}: {exc}.") from exc
        m.push = parse(m.body)


def parse(body: bytes) -> MetricsPush:
    """A verified body as canonical metrics, or the 422 that says what is wrong."""
    try:
        push = MetricsPush.model_validate_json(body)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors()[:50]
        ]
        raise Invalid("The pushed metrics are malformed.", errors=errors) from exc
    unknown = sorted({m.metric for m in push.metrics} - set(CATALOGUE))
    if unknown:
        raise Invalid(
            f"Unknown metric(s): {', '.join(unknown[:20])}; use the canonical names.",
            errors=[{"field": "metrics.metric", "message": m} for m in unknown[:50]],
        )
    bad = [i for i, m in enumerate(push.metrics) if not math.isfinite(m.value)]
    if bad:
        raise Invalid(f"Metric values must be finite numbers (items {bad[:10]}).")
    return push


_T = PushMessage.__table__  # type: ignore[attr-defined]
_RECORD_IDS_PG = (
    "INSERT INTO ingest_push_message (client_id, msg_id, received_at) "
    "SELECT c, m, {now} "
    "FROM unnest(CAST({clients} AS INTEGER[]), CAST({ids} AS TEXT[])) AS u(c, m) "
    "ON CONFLICT (client_id, msg_id) DO NOTHING RETURNING client_id, msg_id"
)
#: Every message of a batch in one fixed statement (compiled once, whatever the batch's
#: size): the ids are passed as arrays (PostgreSQL) or one JSON list (SQLite).
_RECORD_IDS = {
    "postgresql": text(
        _RECORD_IDS_PG.format(now=":now", clients=":clients", ids=":ids")
    ).bindparams(bindparam("now", type_=_T.c.received_at.type)),
    "sqlite": text(
        "INSERT INTO ingest_push_message (client_id, msg_id, received_at) "
        "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), :now "
        "FROM json_each(:pairs) WHERE true "
        "ON CONFLICT (client_id, msg_id) DO NOTHING RETURNING client_id, msg_id"
    ).bindparams(bindparam("now", type_=_T.c.received_at.type)),
}
_RECORD_IDS_DRIVER = _RECORD_IDS_PG.format(now="$3", clients="$1", ids="$2")
_SECRETS_DRIVER = (
    "SELECT client_id, secret_encrypted FROM ingest_push_secret "
    "WHERE client_id = ANY($1::INTEGER[])"
)
Key = tuple[int, str]


class _Core:
    """A batch's statements through SQLAlchemy: SQLite, a test's session, and every
    batch that may meet an account or source for the first time (the loader looks it
    up or creates it)."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def secrets(self, client_ids: list[int]) -> list[tuple[int, str]]:
        conn = await self.db.connection()
        return [(int(c), str(e)) for c, e in await conn.execute(_SECRETS, {"ids": client_ids})]

    async def record_ids(self, keys: list[Key]) -> set[Key]:
        """Store the messages' ids; return those that were new (the rest were replays)."""
        conn = await self.db.connection()
        params: dict[str, Any] = {"now": utcnow()}
        if conn.dialect.name == "postgresql":
            params["clients"] = [c for c, _ in keys]
            params["ids"] = [i for _, i in keys]
        else:
            params["pairs"] = json.dumps(keys)
        rows = await conn.execute(_RECORD_IDS[conn.dialect.name], params)
        return {(int(c), str(i)) for c, i in rows}

    async def load(
        self,
        client_id: int,
        records: list[loader.DailyMetricRows],
        source: Source,
        memo: loader.LoadMemo,
    ) -> loader.LoadCounts:
        # The batch's transaction is rolled back whole if a load fails: no savepoint.
        return await loader.load(self.db, client_id, records, source, savepoint=False, memo=memo)


class _Driver:
    """The same statements on a bare asyncpg connection (PostgreSQL, a warm memo): what
    SQLAlchemy does per statement was a fifth of the push's CPU."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    async def secrets(self, client_ids: list[int]) -> list[tuple[int, str]]:
        return [(int(c), str(e)) for c, e in await self.raw.fetch(_SECRETS_DRIVER, client_ids)]

    async def record_ids(self, keys: list[Key]) -> set[Key]:
        rows = await self.raw.fetch(
            _RECORD_IDS_DRIVER, [c for c, _ in keys], [i for _, i in keys], utcnow()
        )
        return {(int(c), str(i)) for c, i in rows}

    async def load(
        self,
        client_id: int,
        records: list[loader.DailyMetricRows],
        source: Source,
        memo: loader.LoadMemo,
    ) -> loader.LoadCounts:
        return await loader.load_on_driver(self.raw, client_id, records, source, memo)


Row = loader.Row  # (metric, day, value, row)
#: an account as a push names it: network, platform id, name, handle
Ident = tuple[str, str, str | None, str | None]


async def _load(
    db: _Core | _Driver, client_id: int, messages: list[_Message], memo: loader.LoadMemo
) -> list[tuple[_Message, Outcome]]:
    """One client's messages through the loader: a load per source (the pushing tool and
    its version; usually one), each account's values as plain rows in key order (stable:
    of two values for one key, the later message's is the one kept)."""
    by_source: dict[tuple[str, str | None], dict[Ident, list[Row]]] = {}
    for m in messages:
        push = m.push
        assert push is not None
        acc = push.account
        ident = (str(acc.network), acc.external_id, acc.name, acc.handle)
        rows = by_source.setdefault((push.provider, push.version), {}).setdefault(ident, [])
        rows.extend((v.metric, v.day, v.value, None) for v in push.metrics)
    accounts: dict[tuple[str, str], int] = {}
    for (provider, version), by_account in by_source.items():
        records = [
            loader.DailyMetricRows(
                AccountRef(network=net, external_id=ext, name=name, handle=handle),
                sorted(rows, key=_row_key),
            )
            for (net, ext, name, handle), rows in sorted(by_account.items(), key=_ident_key)
        ]
        source = Source(kind="api", provider=f"push:{provider}", version=version)
        try:
            counts = await db.load(client_id, records, source, memo)
        except loader.LoadError as exc:
            raise Invalid(f"The store refused the metrics: {exc.reason}") from exc
        accounts.update(counts.account_keys)
    out: list[tuple[_Message, Outcome]] = []
    for m in messages:
        push = m.push
        assert push is not None
        key = (str(push.account.network), push.account.external_id)
        accepted = PushAccepted(
            msg_id=m.msg_id, account_id=accounts.get(key), daily_rows=len(push.metrics)
        )
        out.append((m, accepted))
    return out


def _row_key(row: Row) -> tuple[str, dt.date]:
    return (row[0], row[1])


def _ident_key(item: tuple[Ident, list[Row]]) -> tuple[str, str]:
    return (item[0][0], item[0][1])


def _replayed(m: _Message) -> Conflict:
    return Conflict(f"The message {m.msg_id} was already received.")


def _settle(m: _Message, outcome: Outcome) -> None:
    if m.future.done():  # the caller hung up while its batch was written
        return
    if isinstance(outcome, Exception):
        m.future.set_exception(outcome)
    else:
        m.future.set_result(outcome)
