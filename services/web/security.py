"""Passwords, browser sessions, CSRF and login throttling.

The session cookie carries a random id signed with ``BALISE_SECRET_KEY`` (itsdangerous);
the database keeps only its SHA-256, so a leaked table cannot be replayed. A new id is
issued at every login (no fixation) and logout deletes the row (the old cookie is dead).
Each session has its own CSRF token, required on every state-changing form or HTMX call.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Any, TypeVar, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Table, and_, bindparam, delete, exists, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.web.models import Client, LoginAttempt, Session, User, UserClient
from shared.auth import Role
from shared.clock import utcnow
from shared.db import ReadQuery

_M = TypeVar("_M")

SESSION_COOKIE = "balise_session"
LOCALE_COOKIE = "balise_locale"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

_hasher = PasswordHasher()
# A hash of a random password, checked when the e-mail is unknown, so that a failed login
# takes the same time whether or not the account exists.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def burn_time(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class SessionSigner:
    def __init__(self, secret: str) -> None:
        self._s = URLSafeSerializer(secret, salt="balise.session")

    def dumps(self, sid: str) -> str:
        return str(self._s.dumps(sid))

    def loads(self, cookie: str) -> str | None:
        try:
            value = self._s.loads(cookie)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


async def open_session(
    db: AsyncSession, user: User, *, hours: int, user_agent: str = ""
) -> tuple[str, Session]:
    """Create a fresh session for ``user``; return the raw id (for the cookie) and the row."""
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    row = Session(
        id_hash=_sid_hash(sid),
        user_id=user.id or 0,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + dt.timedelta(hours=hours),
        user_agent=user_agent[:300],
    )
    db.add(row)
    await db.flush()
    return sid, row


# Built once: it runs before every page, and building the statement (and its cache key)
# cost about as much as running it. Core, not the ORM: the rows become fresh, detached
# objects without the identity map's bookkeeping (about a third of the page's lookup).
_SESSION_T: Table = Session.__table__  # type: ignore[attr-defined]
_USER_T: Table = User.__table__  # type: ignore[attr-defined]
_CLIENT_T: Table = Client.__table__  # type: ignore[attr-defined]
_USER_CLIENT_T: Table = UserClient.__table__  # type: ignore[attr-defined]
_LOAD_SESSION = ReadQuery(
    sa_select(_SESSION_T, _USER_T, _CLIENT_T)
    .join_from(_SESSION_T, _USER_T, _USER_T.c.id == _SESSION_T.c.user_id)
    .outerjoin(
        _CLIENT_T,
        and_(
            _CLIENT_T.c.archived == False,  # noqa: E712
            or_(
                _USER_T.c.role == Role.admin.value,
                exists().where(
                    _USER_CLIENT_T.c.user_id == _USER_T.c.id,
                    _USER_CLIENT_T.c.client_id == _CLIENT_T.c.id,
                ),
            ),
        ),
    )
    .where(_SESSION_T.c.id_hash == bindparam("id_hash"))
    .order_by(_CLIENT_T.c.name)
)
_SESSION_COLS = [c.name for c in _SESSION_T.c]
_USER_COLS = [c.name for c in _USER_T.c]
_CLIENT_COLS = [c.name for c in _CLIENT_T.c]
_U0 = len(_SESSION_COLS)
_C0 = _U0 + len(_USER_COLS)


def _loaded(model: type[_M], names: list[str], values: Sequence[Any]) -> _M:
    """A model instance holding one row's columns, bound to no session, made as the ORM's
    own loading makes one: a new instance, its attributes set in its ``__dict__``.

    ``Model(**values)`` costs ~26 µs (SQLModel's construction, then SQLAlchemy's
    attribute events), this ~2 µs; a page's lookup makes five to ten of them.
    """
    obj = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    obj.__dict__.update(zip(names, values, strict=True))
    return cast(_M, obj)


async def load_session(
    reader: Any, maker: Any, sid: str, *, idle_minutes: int
) -> tuple[Session, User, list[Client]] | None:
    """The live session ``sid``, its active user and the clients that user may see (by
    name; every client for an admin, the assigned ones otherwise, never an archived one).

    One round trip through ``reader`` (the app's :class:`~shared.db.HotReader`: this runs
    before every page); an expired session is deleted through ``maker``'s own short
    transaction."""
    rows = await reader.all(_LOAD_SESSION, {"id_hash": _sid_hash(sid)})
    if not rows:
        return None
    first = rows[0]
    row = _loaded(Session, _SESSION_COLS, first[:_U0])
    user = _loaded(User, _USER_COLS, first[_U0:_C0])
    clients = [_loaded(Client, _CLIENT_COLS, r[_C0:]) for r in rows if r[_C0] is not None]
    now = utcnow()
    if row.expires_at <= now or row.last_seen_at < now - dt.timedelta(minutes=idle_minutes):
        await forget(maker, row.id_hash)
        return None
    if not user.active:
        return None
    return row, user, clients


def touch_due(row: Session) -> bool:
    """A session's last-seen time is refreshed at most once a minute."""
    return utcnow() - row.last_seen_at > dt.timedelta(minutes=1)


async def touch(maker: Any, id_hash: str) -> None:
    """Refresh last-seen in its own short transaction.

    Done apart from the request's transaction on purpose: on SQLite a write held open
    across the request would keep the database's write lock while the page waits on the
    backends, which write to the same file.
    """
    async with maker() as s:
        await s.exec(
            update(Session).where(col(Session.id_hash) == id_hash).values(last_seen_at=utcnow())
        )
        await s.commit()


async def forget(maker: Any, id_hash: str) -> None:
    """Delete an expired session in its own short transaction (it was read outside one)."""
    async with maker() as s:
        await s.exec(delete(Session).where(col(Session.id_hash) == id_hash))
        await s.commit()


async def close_session(db: AsyncSession, sid: str) -> None:
    await db.exec(delete(Session).where(col(Session.id_hash) == _sid_hash(sid)))


async def close_user_sessions(db: AsyncSession, user_id: int) -> None:
    await db.exec(delete(Session).where(col(Session.user_id) == user_id))


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


# ---------------------------------------------------------------- throttling


async def locked_for(db: AsyncSession, keys: list[str]) -> int:
    """Seconds until every key is unlocked (0 when login may proceed)."""
    now = utcnow()
    rows = (await db.exec(select(LoginAttempt).where(col(LoginAttempt.key).in_(keys)))).all()
    wait = 0
    for r in rows:
        if r.locked_until and r.locked_until > now:
            wait = max(wait, int((r.locked_until - now).total_seconds()) + 1)
    return wait


async def record_failure(
    db: AsyncSession, keys: list[str], *, max_failures: int, lock_seconds: int
) -> None:
    now = utcnow()
    window = dt.timedelta(seconds=lock_seconds)
    for key in keys:
        row = (await db.exec(select(LoginAttempt).where(LoginAttempt.key == key))).first()
        if row is None:
            row = LoginAttempt(key=key, failures=0, window_started_at=now)
        if now - row.window_started_at > window:
            row.failures = 0
            row.window_started_at = now
        row.failures += 1
        if row.failures >= max_failures:
            row.locked_until = now + window
            row.failures = 0
            row.window_started_at = now
        db.add(row)
    await db.flush()


async def clear_failures(db: AsyncSession, keys: list[str]) -> None:
    await db.exec(delete(LoginAttempt).where(col(LoginAttempt.key).in_(keys)))
