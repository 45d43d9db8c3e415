"""OAuth 2 authorization-code flows (with PKCE where the provider takes it), via Authlib.

Three moves: build the authorization URL, exchange the returned code for tokens, refresh
tokens. Meta adds two of its own after the code exchange: the 60-day long-lived token
(``grant_type=fb_exchange_token``) and the granted permissions (``/me/permissions``), since
its token answer does not list scopes.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError

with warnings.catch_warnings():
    # Authlib 1.7+ nags about "httpx2"; the plain httpx it falls back to is what we use.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from services.ingest.connections.providers import OAuthApp
from shared.clock import utcnow

TIMEOUT = 15.0
#: Errors of the token endpoint meaning the grant is dead: a person must authorize again.
DEAD_GRANT = frozenset({"invalid_grant", "invalid_token", "unauthorized_client", "access_denied"})


class OAuthFailed(Exception):
    """The provider refused or failed; ``public_message`` is safe to store and show."""

    def __init__(self, message: str, *, dead_grant: bool = False, retryable: bool = False):
        super().__init__(message)
        self.dead_grant = dead_grant
        self.retryable = retryable

    @property
    def public_message(self) -> str:
        return str(self)


@dataclass
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    token_type: str | None = None
    expires_at: dt.datetime | None = None
    refresh_expires_at: dt.datetime | None = None
    scopes: list[str] | None = None  # None: the provider did not say (RFC 6749: as asked)


def new_code_verifier() -> str:
    """RFC 7636 code verifier: 64 characters from the unreserved set."""
    return generate_token(64)


def _client(app: OAuthApp, *, scope: str | None = None, redirect_uri: str | None = None) -> Any:
    return AsyncOAuth2Client(
        client_id=app.client_id,
        client_secret=app.client_secret,
        token_endpoint_auth_method=app.provider.auth_method,
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256" if app.provider.pkce else None,
        timeout=TIMEOUT,
        trust_env=False,
    )


def authorization_url(
    app: OAuthApp,
    *,
    scopes: list[str],
    redirect_uri: str,
    state: str,
    code_verifier: str | None,
) -> str:
    scope = app.provider.scope_separator.join(scopes)
    client = _client(app, scope=scope, redirect_uri=redirect_uri)
    url, _ = client.create_authorization_url(
        app.authorize_url,
        state=state,
        code_verifier=code_verifier if app.provider.pkce else None,
        **app.provider.extra_authorize_params,
    )
    return str(url)


def _tokens(raw: dict[str, Any], *, keep_refresh: str | None = None) -> TokenSet:
    now = utcnow()
    access = raw.get("access_token")
    if not isinstance(access, str) or not access:
        raise OAuthFailed("The token endpoint answered without an access token.")
    expires_at = None
    if raw.get("expires_in") not in (None, "", 0, "0"):
        try:
            expires_at = now + dt.timedelta(seconds=int(float(raw["expires_in"])))
        except (TypeError, ValueError):
            expires_at = None
    refresh_expires_at = None
    if raw.get("refresh_token_expires_in"):
        try:
            seconds = int(float(raw["refresh_token_expires_in"]))
            refresh_expires_at = now + dt.timedelta(seconds=seconds)
        except (TypeError, ValueError):
            refresh_expires_at = None
    scope = raw.get("scope")
    scopes: list[str] | None = None
    if isinstance(scope, str):
        scopes = [s for s in scope.replace(",", " ").split() if s]
    elif isinstance(scope, list):
        scopes = [str(s) for s in scope]
    return TokenSet(
        access_token=access,
        refresh_token=raw.get("refresh_token") or keep_refresh,
        token_type=str(raw.get("token_type") or "bearer").lower()[:20],
        expires_at=expires_at,
        refresh_expires_at=refresh_expires_at,
        scopes=scopes,
    )


#: Refusals of a refresh that say the *agency's app* is wrong, not the user's grant.
APP_ERRORS = frozenset({"invalid_client", "unauthorized_client", "unsupported_grant_type"})


def _failure(exc: Exception, what: str, *, refreshing: bool = False) -> OAuthFailed:
    if isinstance(exc, OAuthError):
        error = exc.error
        if isinstance(error, dict):  # Meta: {"error": {"message", "type", "code"}}
            message = str(error.get("message") or error.get("type") or "refused")
            code = error.get("code")
            return OAuthFailed(f"{what} refused: {message}", dead_grant=code in (100, 190))
        description = getattr(exc, "description", None) or ""
        text = f"{what} refused: {error}" + (f" ({description})" if description else "")
        # A refused refresh token is dead whatever the code (X answers "invalid_request"
        # for a used or revoked one); only app misconfigurations are not the user's.
        dead = str(error) in DEAD_GRANT or (refreshing and str(error) not in APP_ERRORS)
        return OAuthFailed(text[:500], dead_grant=dead)
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return OAuthFailed(f"{what} failed: HTTP {status}", retryable=status >= 500)
    if isinstance(exc, httpx.TimeoutException):
        return OAuthFailed(f"{what} failed: timed out", retryable=True)
    if isinstance(exc, (httpx.HTTPError, OSError)):
        return OAuthFailed(f"{what} failed: {type(exc).__name__}", retryable=True)
    return OAuthFailed(f"{what} failed: {exc}"[:500])


async def exchange_code(
    app: OAuthApp, *, code: str, redirect_uri: str, code_verifier: str | None
) -> TokenSet:
    """Trade the authorization code for tokens (then Meta's long-lived token)."""
    async with _client(app, redirect_uri=redirect_uri) as client:
        kwargs: dict[str, Any] = {"code": code, "grant_type": "authorization_code"}
        if app.provider.pkce and code_verifier:
            kwargs["code_verifier"] = code_verifier
        try:
            raw = await client.fetch_token(app.token_url, **kwargs)
        except (OAuthError, httpx.HTTPError, OSError, ValueError) as exc:
            raise _failure(exc, "The code exchange") from exc
        tokens = _tokens(dict(raw))
        if app.provider.long_lived_exchange:
            tokens = await _meta_long_lived(client, app, tokens)
            tokens.scopes = await _meta_permissions(client, app, tokens.access_token)
        return tokens


async def refresh(app: OAuthApp, refresh_token: str) -> TokenSet:
    """A new access token from the refresh token (a new refresh token when it rotates)."""
    async with _client(app) as client:
        try:
            raw = await client.refresh_token(app.token_url, refresh_token=refresh_token)
        except (OAuthError, httpx.HTTPError, OSError, ValueError) as exc:
            raise _failure(exc, "The token refresh", refreshing=True) from exc
        return _tokens(dict(raw), keep_refresh=refresh_token)


async def _meta_long_lived(client: Any, app: OAuthApp, short: TokenSet) -> TokenSet:
    try:
        # POSTed, not in a query string: URLs end up in access logs, bodies do not.
        resp = await client.request(
            "POST",
            app.token_url,
            data={
                "grant_type": "fb_exchange_token",
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "fb_exchange_token": short.access_token,
            },
            withhold_token=True,
        )
    except (httpx.HTTPError, OSError) as exc:
        raise _failure(exc, "The long-lived token exchange") from exc
    data = _json(resp)
    if resp.status_code >= 400 or "error" in data:
        err = data.get("error") if isinstance(data.get("error"), dict) else {}
        message = (err or {}).get("message") or f"HTTP {resp.status_code}"
        raise OAuthFailed(f"The long-lived token exchange refused: {message}"[:500])
    return _tokens(data)


async def _meta_permissions(client: Any, app: OAuthApp, token: str) -> list[str] | None:
    graph = app.token_url.split("/oauth/", 1)[0]
    try:
        resp = await client.request(
            "GET",
            f"{graph}/me/permissions",
            headers={"Authorization": f"Bearer {token}"},
            withhold_token=True,
        )
    except (httpx.HTTPError, OSError):
        return None  # unknown: the health board will say so rather than guess
    data = _json(resp)
    rows = data.get("data")
    if resp.status_code >= 400 or not isinstance(rows, list):
        return None
    return sorted(
        str(r.get("permission"))
        for r in rows
        if isinstance(r, dict) and r.get("status") == "granted" and r.get("permission")
    )


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
