"""Rules of the connections domain: connecting, tokens at rest, refresh, health.

Tokens are decrypted only here, only when a sync needs them, and never logged; every
change of a token bumps ``token_version`` so concurrent refreshes can tell that another
one already won.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.connections import oauth
from services.ingest.connections import repository as repo
from services.ingest.connections.models import Connection, OAuthState
from services.ingest.connections.providers import NETWORKS, oauth_app, spec
from services.ingest.webhooks.events import REAUTH_REQUIRED, outbox
from shared import netguard
from shared.auth import Principal
from shared.clock import utcnow
from shared.crypto import box_for
from shared.errors import Conflict, Forbidden, Invalid, NotFound, ServiceUnavailable
from shared.schemas.connections import (
    AuthKind,
    ConnectionPublic,
    ConnectionStatus,
    LinkedAccount,
    OAuthComplete,
    OAuthStart,
    OAuthStarted,
    ServiceAccountPaste,
    SyncRunPublic,
    TokenPaste,
)
from shared.schemas.ingest import Network

log = logging.getLogger("balise.ingest.connections")


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def scopes_for(networks: list[str]) -> list[str]:
    out: list[str] = []
    for n in networks:
        for s in NETWORKS[Network(n)].scopes:
            if s not in out:
                out.append(s)
    return out


def _add_target(conn: Connection, network: str, external_id: str | None) -> bool:
    """Add an account the connection must serve; False when it is already there."""
    for a in conn.accounts:
        if a.get("network") == network and (
            a.get("external_id") == external_id or external_id is None
        ):
            return False
    conn.accounts = [
        *conn.accounts,
        {"network": network, "external_id": external_id, "account_id": None, "name": None},
    ]
    if network not in conn.networks:
        conn.networks = [*conn.networks, network]
    return True


def _clean_external_id(network: Network, external_id: str | None) -> str | None:
    s = spec(network)
    value = (external_id or "").strip() or None
    if network == Network.ga4 and value:
        value = value.removeprefix("properties/")
    if s.external_id_label and not value:
        raise Invalid(f"Enter the {s.external_id_label} of the account to connect.")
    return value


# ---------------------------------------------------------------------- OAuth


async def start_oauth(
    session: AsyncSession, settings: Any, principal: Principal, body: OAuthStart
) -> OAuthStarted:
    """Create a single-use state bound to this user's session and client; the URL to visit."""
    principal.require_client(body.client_id)
    s = spec(body.network)
    if AuthKind.oauth not in s.auth_kinds:
        raise Invalid(f"{body.network} is connected by pasting a token, not through OAuth.")
    app = oauth_app(settings, s.provider)
    if not app.configured:
        raise Conflict(
            f"The {s.provider} OAuth app is not configured: set INGEST_OAUTH_"
            f"{s.provider.upper()}_CLIENT_ID and _CLIENT_SECRET."
        )
    try:
        netguard.parse(body.redirect_uri)
    except netguard.UnsafeTarget as exc:
        raise Invalid(f"redirect_uri: {exc}") from exc
    external_id = _clean_external_id(body.network, body.external_id)
    if body.connection_id is not None:
        conn = await repo.get(session, body.connection_id)
        if conn is None or conn.client_id != body.client_id:
            raise Invalid(f"No connection {body.connection_id} for this client.")
        if conn.provider != s.provider:
            raise Invalid("That connection belongs to another provider.")
    now = utcnow()
    await repo.purge_states(session, now)
    state = secrets.token_urlsafe(32)
    verifier = oauth.new_code_verifier() if app.provider.pkce else None
    row = OAuthState(
        state_hash=_hash(state),
        client_id=body.client_id,
        provider=s.provider,
        network=body.network.value,
        external_id=external_id,
        user_subject=f"{principal.kind}:{principal.subject}"[:64],
        session_binding=body.session_binding,
        code_verifier_enc=box_for(settings).encrypt(verifier) if verifier else None,
        redirect_uri=body.redirect_uri,
        connection_id=body.connection_id,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=int(settings.oauth_state_ttl_seconds)),
    )
    session.add(row)
    await session.flush()
    networks = [body.network.value]
    if body.connection_id is not None and conn is not None:
        networks = sorted({*conn.networks, body.network.value})
    url = oauth.authorization_url(
        app,
        scopes=scopes_for(networks),
        redirect_uri=body.redirect_uri,
        state=state,
        code_verifier=verifier,
    )
    return OAuthStarted(authorize_url=url, state=state, expires_at=row.expires_at)


async def complete_oauth(
    session: AsyncSession, settings: Any, principal: Principal, body: OAuthComplete
) -> Connection:
    """Check the state, exchange the code, store the tokens encrypted; the connection."""
    row = await repo.get_state(session, _hash(body.state))
    now = utcnow()
    if row is None:
        raise NotFound("This authorization is unknown or was already used; start again.")
    if row.expires_at <= now:
        await session.delete(row)
        raise Invalid("This authorization took too long and expired; start again.")
    principal.require_client(row.client_id)
    who = f"{principal.kind}:{principal.subject}"[:64]
    if who != row.user_subject or not hmac.compare_digest(
        row.session_binding.encode(), body.session_binding.encode()
    ):
        raise Forbidden("This authorization was started in another session.")
    await session.delete(row)  # single use
    if body.error:
        detail = f" ({body.error_description})" if body.error_description else ""
        raise Invalid(f"The provider did not authorize Balise: {body.error}{detail}"[:600])
    if not body.code:
        raise Invalid("The provider's answer carries no authorization code.")
    app = oauth_app(settings, row.provider)
    verifier = box_for(settings).decrypt(row.code_verifier_enc) if row.code_verifier_enc else None
    try:
        tokens = await oauth.exchange_code(
            app, code=body.code, redirect_uri=row.redirect_uri, code_verifier=verifier
        )
    except oauth.OAuthFailed as exc:
        if exc.retryable:
            raise ServiceUnavailable(exc.public_message, headers={"Retry-After": "30"}) from exc
        raise Invalid(exc.public_message) from exc
    conn: Connection | None = None
    if row.connection_id is not None:
        conn = await repo.get(session, row.connection_id)
    if conn is None:
        conn = await repo.find_serving(
            session, row.client_id, row.provider, row.network, row.external_id
        )
    if conn is None:
        conn = Connection(
            client_id=row.client_id,
            provider=row.provider,
            auth_kind=AuthKind.oauth.value,
            created_by=who,
        )
    _add_target(conn, row.network, row.external_id)
    conn.auth_kind = AuthKind.oauth.value
    conn.scopes_needed = scopes_for(conn.networks)
    requested = scopes_for(conn.networks)
    conn.scopes_granted = sorted(tokens.scopes if tokens.scopes is not None else requested)
    _store_tokens(conn, settings, tokens)
    _reactivate(conn)
    session.add(conn)
    await session.flush()
    log.info("client %s connected %s (connection %s)", conn.client_id, conn.provider, conn.id)
    return conn


def _store_tokens(conn: Connection, settings: Any, tokens: oauth.TokenSet) -> None:
    box = box_for(settings)
    conn.access_token_enc = box.encrypt(tokens.access_token)
    conn.refresh_token_enc = box.encrypt(tokens.refresh_token) if tokens.refresh_token else None
    conn.token_type = tokens.token_type
    conn.expires_at = tokens.expires_at
    conn.refresh_expires_at = tokens.refresh_expires_at
    conn.token_version = (conn.token_version or 0) + 1
    conn.updated_at = utcnow()


def _reactivate(conn: Connection) -> None:
    conn.status = ConnectionStatus.active.value
    conn.status_reason = None
    conn.last_error = None
    conn.last_error_at = None


# ---------------------------------------------------------------------- pasted secrets


async def paste_token(
    session: AsyncSession, settings: Any, principal: Principal, body: TokenPaste
) -> Connection:
    principal.require_client(body.client_id)
    s = spec(body.network)
    if AuthKind.token not in s.auth_kinds:
        raise Invalid(f"{body.network} cannot be connected with a pasted token.")
    external_id = _clean_external_id(body.network, body.external_id)
    unknown = sorted(set(body.extra) - set(s.extra_fields))
    if unknown:
        raise Invalid(f"Unknown setting(s) for {body.network}: {', '.join(unknown)}.")
    extra = {k: v.strip() for k, v in body.extra.items() if v.strip()}
    if "base_url" in extra:
        try:
            netguard.parse(extra["base_url"])
        except netguard.UnsafeTarget as exc:
            raise Invalid(f"base_url: {exc}") from exc
    if body.network == Network.matomo and "base_url" not in extra:
        raise Invalid("Enter the address of the Matomo server (base_url).")
    if body.expires_at is not None and body.expires_at <= utcnow():
        raise Invalid("This token has already expired.")
    token = body.token.strip()
    if any(ch.isspace() for ch in token):
        raise Invalid("A token has no spaces or line breaks; paste it again.")
    who = f"{principal.kind}:{principal.subject}"[:64]
    conn = await repo.find_serving(session, body.client_id, s.provider, body.network, external_id)
    if conn is None or conn.auth_kind != AuthKind.token.value:
        conn = Connection(
            client_id=body.client_id,
            provider=s.provider,
            auth_kind=AuthKind.token.value,
            created_by=who,
        )
    _add_target(conn, body.network.value, external_id)
    conn.label = body.label.strip() or conn.label
    conn.extra = {**conn.extra, **extra}
    conn.scopes_needed = scopes_for(conn.networks)
    # A pasted token's scopes are unknown (no token answer lists them): none are claimed,
    # and the board shows "missing scopes" only for OAuth connections.
    conn.scopes_granted = []
    _store_tokens(conn, settings, oauth.TokenSet(access_token=token, token_type="bearer"))  # noqa: S106
    conn.expires_at = body.expires_at
    _reactivate(conn)
    session.add(conn)
    await session.flush()
    return conn


def validate_service_account(key: dict[str, Any] | str) -> dict[str, Any]:
    """Check a Google service-account key file; errors never quote the key."""
    if isinstance(key, str):
        try:
            key = json.loads(key)
        except ValueError as exc:
            raise Invalid("The service-account key is not valid JSON.") from exc
    if not isinstance(key, dict):
        raise Invalid("The service-account key must be a JSON object.")
    if key.get("type") != "service_account":
        raise Invalid('This is not a service-account key ("type" is not "service_account").')
    missing = [
        f
        for f in ("project_id", "private_key_id", "private_key", "client_email", "token_uri")
        if not isinstance(key.get(f), str) or not key.get(f)
    ]
    if missing:
        raise Invalid(f"The service-account key lacks: {', '.join(missing)}.")
    if "@" not in key["client_email"]:
        raise Invalid("The service-account key's client_email is not an e-mail address.")
    if not str(key["token_uri"]).startswith("https://"):
        raise Invalid("The service-account key's token_uri must be an https:// URL.")
    try:
        private = serialization.load_pem_private_key(key["private_key"].encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise Invalid("The service-account key's private_key is not a readable PEM key.") from exc
    if not isinstance(private, rsa.RSAPrivateKey):
        raise Invalid("The service-account key's private_key is not an RSA key.")
    return key


async def paste_service_account(
    session: AsyncSession, settings: Any, principal: Principal, body: ServiceAccountPaste
) -> Connection:
    principal.require_client(body.client_id)
    key = validate_service_account(body.key)
    property_id = body.property_id.removeprefix("properties/")
    who = f"{principal.kind}:{principal.subject}"[:64]
    conn = await repo.find_serving(session, body.client_id, "google", "ga4", property_id)
    if conn is None or conn.auth_kind != AuthKind.service_account.value:
        conn = Connection(
            client_id=body.client_id,
            provider="google",
            auth_kind=AuthKind.service_account.value,
            created_by=who,
        )
    _add_target(conn, Network.ga4.value, property_id)
    conn.label = body.label.strip() or str(key["client_email"])[:200]
    conn.scopes_needed = scopes_for(conn.networks)
    # The key's access is granted in the GA4 property; the scope is what Balise requests.
    conn.scopes_granted = list(conn.scopes_needed)
    conn.service_account_enc = box_for(settings).encrypt_json(key)
    conn.access_token_enc = None
    conn.refresh_token_enc = None
    conn.expires_at = None
    conn.token_version = (conn.token_version or 0) + 1
    _reactivate(conn)
    session.add(conn)
    await session.flush()
    return conn


# ---------------------------------------------------------------------- health


def is_refreshable(conn: Connection) -> bool:
    from services.ingest.connections.providers import PROVIDERS

    p = PROVIDERS.get(conn.provider)
    return bool(
        conn.auth_kind == AuthKind.oauth.value
        and p is not None
        and p.refresh
        and conn.refresh_token_enc
    )


def public(conn: Connection, last_run: SyncRunPublic | None = None) -> ConnectionPublic:
    assert conn.id is not None
    now = utcnow()
    needed = list(conn.scopes_needed)
    granted = list(conn.scopes_granted)
    return ConnectionPublic(
        id=conn.id,
        client_id=conn.client_id,
        provider=conn.provider,
        auth_kind=AuthKind(conn.auth_kind),
        label=conn.label,
        networks=[Network(n) for n in conn.networks],
        accounts=[
            LinkedAccount(
                network=Network(a["network"]),
                external_id=a.get("external_id"),
                account_id=a.get("account_id"),
                name=a.get("name"),
            )
            for a in conn.accounts
        ],
        status=ConnectionStatus(conn.status),
        status_reason=conn.status_reason,
        scopes_granted=granted,
        scopes_needed=needed,
        scopes_missing=[s for s in needed if s not in granted]
        if conn.auth_kind == AuthKind.oauth.value
        else [],
        expires_at=conn.expires_at,
        expires_in_seconds=int((conn.expires_at - now).total_seconds())
        if conn.expires_at
        else None,
        refreshable=is_refreshable(conn),
        last_success_at=conn.last_success_at,
        last_error=conn.last_error,
        last_error_at=conn.last_error_at,
        rate_limit=dict(conn.rate_limit or {}),
        next_allowed_at=conn.next_allowed_at,
        last_run=last_run,
        created_at=conn.created_at,
    )


async def mark_reconnect_needed(session: AsyncSession, conn: Connection, reason: str) -> None:
    """The provider refused the token: a person must reconnect; subscribers are told."""
    assert conn.id is not None
    now = utcnow()
    was = conn.status
    conn.status = ConnectionStatus.reconnect_needed.value
    conn.status_reason = reason[:1000]
    conn.last_error = reason[:2000]
    conn.last_error_at = now
    conn.updated_at = now
    session.add(conn)
    if was != ConnectionStatus.reconnect_needed.value:
        await outbox.emit(
            session,
            conn.client_id,
            REAUTH_REQUIRED,
            {
                "connection_id": conn.id,
                "provider": conn.provider,
                "networks": list(conn.networks),
                "account_ids": conn.account_ids,
                "reason": reason[:500],
            },
        )
    await session.flush()
    log.warning("connection %s needs reconnecting: %s", conn.id, reason[:200])


async def revoke(session: AsyncSession, conn: Connection) -> Connection:
    """Forget the secrets; the row stays for the history of its syncs."""
    conn.status = ConnectionStatus.revoked.value
    conn.status_reason = "Disconnected by a user."
    conn.access_token_enc = None
    conn.refresh_token_enc = None
    conn.service_account_enc = None
    conn.expires_at = None
    conn.token_version = (conn.token_version or 0) + 1
    conn.updated_at = utcnow()
    session.add(conn)
    await session.flush()
    return conn
