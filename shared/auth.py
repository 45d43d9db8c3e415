"""Authentication and tenancy for the backends.

Two kinds of bearer credential reach a backend:

* **Service tokens**: short-lived JWTs (HS256, ``BALISE_SECRET_KEY``) minted by web for
  one user's request, or by a backend for its own jobs. They carry the user, the role,
  the client ids the caller may see, the scope (read/write) and the audience (services).
* **API tokens** for third-party tools: opaque ``bal_<id>_<secret>`` strings created in
  web, stored there hashed. A backend asks web to introspect them (RFC 7662 style) and
  caches the answer briefly (``auth_cache_seconds``).

Every backend route but health depends on :data:`PrincipalDep`; every query is scoped
with :meth:`Principal.require_client` or :meth:`Principal.client_ids`.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from shared.errors import Forbidden, NotFound, ServiceUnavailable, Unauthorized

ISSUER = "balise"
SERVICES = ("ingest", "benchmark", "planner", "web")
SERVICE_TOKEN_TTL = 300  # seconds
API_TOKEN_PREFIX = "bal_"  # noqa: S105 - a prefix, not a secret


class Role(StrEnum):
    admin = "admin"
    strategist = "strategist"
    community_manager = "community_manager"
    client_viewer = "client_viewer"
    service = "service"  # a backend acting for itself (scheduled jobs)


ROLE_LABELS = {
    Role.admin: "Administrator",
    Role.strategist: "Strategist",
    Role.community_manager: "Community manager",
    Role.client_viewer: "Client viewer",
}

#: Roles that may change data at all; a client viewer only ever reads.
WRITER_ROLES = frozenset({Role.admin, Role.strategist, Role.community_manager, Role.service})


class Scope(StrEnum):
    read = "read"
    write = "write"


@dataclass(frozen=True)
class Principal:
    """Who is calling, and which clients they may see."""

    kind: str  # "user", "api" or "service"
    subject: str  # user id, API token id or service name
    role: Role
    client_ids: frozenset[int]
    scope: Scope
    services: frozenset[str] = field(default_factory=frozenset)
    token: str = field(default="", repr=False, compare=False)

    @property
    def can_write(self) -> bool:
        return self.scope == Scope.write and self.role in WRITER_ROLES

    @property
    def user_id(self) -> int | None:
        return int(self.subject) if self.kind == "user" and self.subject.isdigit() else None

    def sees(self, client_id: int) -> bool:
        return client_id in self.client_ids

    def require_client(self, client_id: int) -> int:
        """404 (never 403) for a client the caller may not see: existence is not leaked."""
        if client_id not in self.client_ids:
            raise NotFound(f"No client {client_id}")
        return client_id

    def require_write(self) -> None:
        if not self.can_write:
            raise Forbidden("This credential is read-only for this resource.")

    def require_role(self, *roles: Role) -> None:
        if self.role not in roles and self.role != Role.admin:
            raise Forbidden(f"This action needs the role {' or '.join(r.value for r in roles)}.")


def mint_service_token(
    secret: str,
    *,
    subject: str,
    kind: str,
    role: Role | str,
    client_ids: Iterable[int],
    scope: Scope | str = Scope.write,
    audience: Iterable[str] = ("ingest", "benchmark", "planner"),
    ttl: int = SERVICE_TOKEN_TTL,
) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": subject,
        "knd": kind,
        "role": str(role),
        "cli": sorted(set(int(c) for c in client_ids)),
        "scp": str(scope),
        "aud": list(audience),
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


_VERIFIED: dict[tuple[str, str], tuple[float, Principal]] = {}
_VERIFIED_MAX = 20_000


def verify_service_token(secret: str, token: str, audience: str) -> Principal:
    """Verify a service token; a token already verified is served from a small cache.

    Caching is safe because the token is signed and immutable: the entry lives no longer
    than the token itself. It spares the HMAC and claim checks (~80 µs) on every request
    of a page's fan-out, which reuses one token per user for a minute.
    """
    key = (audience, token)
    hit = _VERIFIED.get(key)
    now = time.time()
    if hit is not None and hit[0] > now and hit[1].token == token:
        return hit[1]
    principal, exp = _verify(secret, token, audience)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (exp, principal)
    return principal


def _verify(secret: str, token: str, audience: str) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=audience,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired.", headers=_www("invalid_token")) from exc
    except jwt.InvalidAudienceError as exc:
        raise Unauthorized(
            f"The token is not valid for the {audience} service.", headers=_www("invalid_token")
        ) from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The token is invalid.", headers=_www("invalid_token")) from exc
    try:
        principal = Principal(
            kind=str(claims.get("knd", "user")),
            subject=str(claims["sub"]),
            role=Role(claims["role"]),
            client_ids=frozenset(int(c) for c in claims.get("cli", [])),
            scope=Scope(claims.get("scp", "read")),
            services=frozenset(claims["aud"] if isinstance(claims["aud"], list) else []),
            token=token,
        )
        return principal, float(claims["exp"])
    except (KeyError, ValueError, TypeError) as exc:
        raise Unauthorized("The token's claims are malformed.") from exc


def _www(error: str | None = None) -> dict[str, str]:
    value = 'Bearer realm="balise"'
    if error:
        value += f', error="{error}"'
    return {"WWW-Authenticate": value}


def hash_api_token(token: str) -> str:
    """API tokens carry 256 bits of randomness, so a plain SHA-256 is a safe verifier."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token() -> tuple[str, str]:
    """Return ``(token_id, full_token)``; the full token is shown once, then only hashed."""
    import secrets

    token_id = secrets.token_hex(4)
    return token_id, f"{API_TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


#: An introspection callable: full API token -> claims dict (``active`` etc.) or None.
Introspector = Callable[[str], Awaitable[dict[str, Any] | None]]


class ApiTokenCache:
    """Caches introspection answers (active or not) for a few seconds per token hash."""

    def __init__(self, introspect: Introspector, ttl: float) -> None:
        self.introspect = introspect
        self.ttl = ttl
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}

    async def lookup(self, token: str) -> dict[str, Any] | None:
        key = hash_api_token(token)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit and hit[0] > now:
            return hit[1]
        answer = await self.introspect(token)
        if self.ttl > 0:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (now + self.ttl, answer)
        return answer

    def clear(self) -> None:
        self._cache.clear()


def principal_from_introspection(claims: dict[str, Any], token: str, service: str) -> Principal:
    if not claims.get("active"):
        raise Unauthorized(
            "The API token is unknown, expired or revoked.", headers=_www("invalid_token")
        )
    services = frozenset(claims.get("services", []))
    if service not in services:
        raise Forbidden(f"This API token is not scoped to the {service} service.")
    return Principal(
        kind="api",
        subject=str(claims.get("token_id", "")),
        role=Role(claims.get("role", Role.client_viewer)),
        client_ids=frozenset(int(c) for c in claims.get("client_ids", [])),
        scope=Scope(claims.get("scope", "read")),
        services=services,
        token=token,
    )


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("A bearer token is required.", headers=_www())
    return value.strip()


async def get_principal(request: Request) -> Principal:
    """Authenticate the caller of a backend route (service JWT or API token)."""
    token = bearer(request)
    state = request.app.state
    service: str = state.service_name
    if token.startswith(API_TOKEN_PREFIX):
        cache: ApiTokenCache | None = getattr(state, "api_tokens", None)
        if cache is None:
            raise ServiceUnavailable("API tokens cannot be checked: no web service configured.")
        try:
            claims = await cache.lookup(token)
        except Unauthorized:
            raise
        except Exception as exc:
            raise ServiceUnavailable(
                "The token service is unreachable; try again shortly.",
                headers={"Retry-After": "5"},
            ) from exc
        if claims is None:
            raise Unauthorized("The API token is unknown.", headers=_www("invalid_token"))
        return principal_from_introspection(claims, token, service)
    return verify_service_token(state.secret, token, service)


async def get_writer(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    principal.require_write()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
WriterDep = Annotated[Principal, Depends(get_writer)]
