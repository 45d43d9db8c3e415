"""Rules of the web service: clients, users, assignments, API tokens."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.web import security
from services.web.models import ApiToken, Client, User, UserClient
from shared.auth import SERVICES, Role, Scope, hash_api_token, new_api_token
from shared.clock import utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound

STAFF_ROLES = (Role.admin, Role.strategist, Role.community_manager, Role.client_viewer)
BACKENDS = tuple(s for s in SERVICES if s != "web")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def slugify(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:80] or "client"


# ---------------------------------------------------------------- clients


async def create_client(
    db: AsyncSession, name: str, slug: str | None = None, locale: str = "fr_CA"
) -> Client:
    name = name.strip()
    if not name:
        raise Invalid("A client needs a name.")
    slug = (slug or slugify(name)).strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,79}", slug):
        raise Invalid("A slug is lowercase letters, digits and hyphens.", field="slug")
    if locale not in ("fr_CA", "en"):
        raise Invalid("The client's language is fr_CA or en.", field="locale")
    exists = (await db.exec(select(Client).where(Client.slug == slug))).first()
    if exists:
        raise Conflict(f"A client with the slug {slug!r} already exists.", field="slug")
    client = Client(name=name, slug=slug, locale=locale)
    db.add(client)
    await db.flush()
    return client


async def all_clients(db: AsyncSession, *, include_archived: bool = False) -> Sequence[Client]:
    q = select(Client).order_by(Client.name)
    if not include_archived:
        q = q.where(Client.archived == False)  # noqa: E712
    return (await db.exec(q)).all()


async def client_ids_for(db: AsyncSession, user: User) -> list[int]:
    """Clients a user may see: all of them for an admin, the assigned ones otherwise."""
    if user.role == Role.admin:
        rows = await db.exec(select(Client.id).where(Client.archived == False))  # noqa: E712
        return [int(r) for r in rows if r is not None]
    rows2 = await db.exec(
        select(UserClient.client_id)
        .join(Client, col(Client.id) == col(UserClient.client_id))
        .where(UserClient.user_id == user.id, Client.archived == False)  # noqa: E712
    )
    return [int(r) for r in rows2]


async def clients_for(db: AsyncSession, user: User) -> Sequence[Client]:
    """The clients :func:`client_ids_for` allows, by name, in one query (every page asks)."""
    q = select(Client).where(Client.archived == False)  # noqa: E712
    if user.role != Role.admin:
        q = q.join(UserClient, col(UserClient.client_id) == col(Client.id)).where(
            UserClient.user_id == user.id
        )
    return (await db.exec(q.order_by(Client.name))).all()


async def client_by_slug(db: AsyncSession, user: User, slug: str) -> Client:
    client = (await db.exec(select(Client).where(Client.slug == slug))).first()
    if client is None or client.id not in await client_ids_for(db, user):
        raise NotFound(f"No client {slug!r}")
    return client


# ---------------------------------------------------------------- users


def _check_role(role: str) -> Role:
    try:
        r = Role(role)
    except ValueError as exc:
        raise Invalid(f"Unknown role {role!r}.", field="role") from exc
    if r not in STAFF_ROLES:
        raise Invalid(f"Unknown role {role!r}.", field="role")
    return r


def _check_password(password: str) -> None:
    if len(password) < 10:
        raise Invalid("A password has at least 10 characters.", field="password")


async def create_user(
    db: AsyncSession,
    *,
    email: str,
    name: str,
    password: str,
    role: str,
    client_ids: Iterable[int] = (),
    locale: str | None = None,
) -> User:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise Invalid("That is not an e-mail address.", field="email")
    _check_password(password)
    r = _check_role(role)
    if (await db.exec(select(User).where(User.email == email))).first():
        raise Conflict(f"A user with the e-mail {email} already exists.", field="email")
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=security.hash_password(password),
        role=r.value,
        locale=locale,
    )
    db.add(user)
    await db.flush()
    await set_assignments(db, user, client_ids)
    return user


async def set_assignments(db: AsyncSession, user: User, client_ids: Iterable[int]) -> None:
    wanted = {int(c) for c in client_ids}
    if wanted:
        found = set((await db.exec(select(Client.id).where(col(Client.id).in_(wanted)))).all())
        missing = wanted - {int(f) for f in found if f is not None}
        if missing:
            raise Invalid(f"Unknown client ids: {sorted(missing)}", field="client_ids")
    current = {
        uc.client_id
        for uc in (await db.exec(select(UserClient).where(UserClient.user_id == user.id))).all()
    }
    for cid in current - wanted:
        row = await db.get(UserClient, (user.id, cid))
        if row:
            await db.delete(row)
    for cid in wanted - current:
        db.add(UserClient(user_id=user.id or 0, client_id=cid))
    await db.flush()


async def update_user(
    db: AsyncSession,
    actor: User,
    user_id: int,
    *,
    name: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    client_ids: Iterable[int] | None = None,
    password: str | None = None,
) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}")
    if user.id == actor.id and (active is False or (role and role != Role.admin)):
        raise Forbidden("You cannot demote or deactivate yourself.")
    if name is not None and name.strip():
        user.name = name.strip()
    if role is not None:
        user.role = _check_role(role).value
    if password:
        _check_password(password)
        user.password_hash = security.hash_password(password)
        await security.close_user_sessions(db, user.id or 0)
    if active is not None:
        user.active = active
        if not active:
            await security.close_user_sessions(db, user.id or 0)
    db.add(user)
    await db.flush()
    if client_ids is not None:
        await set_assignments(db, user, client_ids)
    return user


async def list_users(db: AsyncSession) -> list[tuple[User, list[int]]]:
    users = (await db.exec(select(User).order_by(User.name))).all()
    links = (await db.exec(select(UserClient))).all()
    by_user: dict[int, list[int]] = {}
    for uc in links:
        by_user.setdefault(uc.user_id, []).append(uc.client_id)
    return [(u, sorted(by_user.get(u.id or 0, []))) for u in users]


async def count_users(db: AsyncSession) -> int:
    return int((await db.exec(select(func.count()).select_from(User))).one())


async def authenticate(
    db: AsyncSession,
    email: str,
    password: str,
    *,
    remote: str,
    max_failures: int,
    lock_seconds: int,
) -> User:
    """Check a login; raise :class:`TooManyLogins` or :class:`BadLogin`."""
    email = email.strip().lower()
    keys = [f"email:{email}", f"addr:{remote}"]
    wait = await security.locked_for(db, keys)
    if wait:
        raise TooManyLogins(wait)
    user = (await db.exec(select(User).where(User.email == email))).first()
    if user is None or not user.active:
        security.burn_time(password)
        await security.record_failure(
            db, keys, max_failures=max_failures, lock_seconds=lock_seconds
        )
        raise BadLogin()
    if not security.verify_password(user.password_hash, password):
        await security.record_failure(
            db, keys, max_failures=max_failures, lock_seconds=lock_seconds
        )
        raise BadLogin()
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
        db.add(user)
    await security.clear_failures(db, [f"email:{email}"])
    return user


class BadLogin(Exception):
    pass


class TooManyLogins(Exception):
    def __init__(self, wait: int) -> None:
        super().__init__(wait)
        self.wait = wait


# ---------------------------------------------------------------- API tokens


async def create_api_token(
    db: AsyncSession,
    user: User,
    *,
    name: str,
    services: Iterable[str],
    client_ids: Iterable[int],
    scope: str,
    expires_in_days: int | None,
) -> tuple[str, ApiToken]:
    """Create a token; the full secret is returned once and never stored."""
    name = name.strip()
    if not name:
        raise Invalid("Name the token after the tool that will use it.", field="name")
    svc = sorted(set(services))
    if not svc or any(s not in BACKENDS for s in svc):
        raise Invalid(f"Choose services among {', '.join(BACKENDS)}.", field="services")
    try:
        sc = Scope(scope)
    except ValueError as exc:
        raise Invalid("The scope is read or write.", field="scope") from exc
    if sc == Scope.write and user.role == Role.client_viewer:
        raise Forbidden("A client viewer can only create read tokens.")
    wanted = sorted({int(c) for c in client_ids})
    visible = set(await client_ids_for(db, user))
    if not wanted:
        raise Invalid("Choose at least one client.", field="client_ids")
    if not set(wanted) <= visible:
        raise Forbidden("A token can only reach clients you can see.")
    if expires_in_days is not None and not (1 <= expires_in_days <= 730):
        raise Invalid("A token expires within 1 to 730 days.", field="expires_in_days")
    token_id, token = new_api_token()
    row = ApiToken(
        token_id=token_id,
        token_hash=hash_api_token(token),
        name=name[:200],
        user_id=user.id or 0,
        role=user.role,
        scope=sc.value,
        services=svc,
        client_ids=wanted,
        expires_at=(utcnow() + dt.timedelta(days=expires_in_days)) if expires_in_days else None,
    )
    db.add(row)
    await db.flush()
    return token, row


async def tokens_of(db: AsyncSession, user: User) -> Sequence[ApiToken]:
    q = select(ApiToken).order_by(col(ApiToken.created_at).desc())
    if user.role != Role.admin:
        q = q.where(ApiToken.user_id == user.id)
    return (await db.exec(q)).all()


async def revoke_api_token(db: AsyncSession, user: User, token_pk: int) -> ApiToken:
    row = await db.get(ApiToken, token_pk)
    if row is None or (user.role != Role.admin and row.user_id != user.id):
        raise NotFound(f"No token {token_pk}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.add(row)
        await db.flush()
    return row


async def introspect(db: AsyncSession, token: str) -> dict[str, Any]:
    """RFC 7662-style answer for a backend. Inactive answers say nothing more."""
    row = (
        await db.exec(select(ApiToken).where(ApiToken.token_hash == hash_api_token(token)))
    ).first()
    if row is None or not row.is_active():
        return {"active": False}
    owner = await db.get(User, row.user_id)
    if owner is None or not owner.active:
        return {"active": False}
    # A token never reaches further than its owner does today.
    visible = set(await client_ids_for(db, owner))
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=5):
        row.last_used_at = now
        db.add(row)
    return {
        "active": True,
        "token_id": row.token_id,
        "role": row.role if row.role in {r.value for r in STAFF_ROLES} else owner.role,
        "scope": row.scope,
        "services": row.services,
        "client_ids": [c for c in row.client_ids if c in visible],
        "exp": int(row.expires_at.timestamp()) if row.expires_at else None,
    }
