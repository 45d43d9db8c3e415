"""Webhook signatures: Standard Webhooks (outgoing and the generic push) and Meta's.

Standard Webhooks (https://www.standardwebhooks.com): headers ``webhook-id``,
``webhook-timestamp`` (unix seconds of the attempt) and ``webhook-signature``, a
space-separated list of ``v1,<base64 HMAC-SHA256>`` over ``{id}.{timestamp}.{body}``,
keyed by the base64 bytes of a ``whsec_`` secret. The exact bytes are signed; JSON is
never re-serialised before checking.

Meta signs the raw body with the app secret: ``X-Hub-Signature-256: sha256=<hex>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

DEFAULT_TOLERANCE = 5 * 60  # seconds either side, as in the reference libraries


class WebhookVerificationError(ValueError):
    """The message is not authentic or not fresh; ``reason`` says which check failed."""


def new_secret(nbytes: int = 32) -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(nbytes)).decode()


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        if not secret:
            raise ValueError("empty webhook secret")
        return secret
    raw = secret.removeprefix("whsec_")
    if not raw:
        raise ValueError("empty webhook secret")
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def sign(secret: str | bytes, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """Return the ``v1,<base64>`` signature of one message."""
    if "." in msg_id or "." in str(timestamp):
        raise ValueError("message id and timestamp must not contain '.'")
    payload = body.encode() if isinstance(body, str) else body
    to_sign = f"{msg_id}.{timestamp}.".encode() + payload
    digest = hmac.new(_key(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers_for(
    secret: str | bytes, msg_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
        "content-type": "application/json",
    }


def verify(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> str:
    """Check a Standard Webhooks message; return its ``webhook-id``.

    Raises :class:`WebhookVerificationError` for missing headers, a timestamp outside the
    tolerance, or no matching ``v1`` signature.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("webhook-id", "")
    ts_raw = lower.get("webhook-timestamp", "")
    sig_header = lower.get("webhook-signature", "")
    if not msg_id or not ts_raw or not sig_header:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not ts_raw.isdigit():
        raise WebhookVerificationError("webhook-timestamp is not an integer")
    ts = int(ts_raw)
    current = time.time() if now is None else now
    if ts < current - tolerance:
        raise WebhookVerificationError("message timestamp too old")
    if ts > current + tolerance:
        raise WebhookVerificationError("message timestamp too new")
    try:
        expected = sign(secret, msg_id, ts, body).split(",", 1)[1]
    except ValueError as exc:
        raise WebhookVerificationError(str(exc)) from exc
    for entry in sig_header.split():
        version, sep, value = entry.partition(",")
        if not sep or version != "v1":
            continue
        if hmac.compare_digest(value.encode(), expected.encode()):
            return msg_id
    raise WebhookVerificationError("no matching signature")


def meta_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_meta(app_secret: str, header: str | None, body: bytes) -> None:
    """Check ``X-Hub-Signature-256`` against the raw body bytes."""
    if not header or not header.startswith("sha256="):
        raise WebhookVerificationError("missing or malformed X-Hub-Signature-256")
    if not app_secret:
        raise WebhookVerificationError("no Meta app secret is configured")
    expected = meta_signature(app_secret, body)
    if not hmac.compare_digest(header.strip().lower().encode(), expected.encode()):
        raise WebhookVerificationError("X-Hub-Signature-256 does not match the body")
