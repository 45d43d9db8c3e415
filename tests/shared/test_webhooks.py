"""Standard Webhooks and Meta signatures, against the specs' own test vectors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from shared import webhooks

# The Standard Webhooks reference vector (spec repository, every language's test suite).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_sign_matches_the_reference_vector():
    assert webhooks.sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIG


def test_verify_accepts_the_vector_at_its_time():
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": VECTOR_SIG,
    }
    assert webhooks.verify(VECTOR_SECRET, headers, VECTOR_BODY.encode(), now=VECTOR_TS) == VECTOR_ID


def test_verify_rejects_a_changed_signature_and_a_changed_body():
    bad = VECTOR_SIG[:-2] + "A="
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": bad,
    }
    with pytest.raises(webhooks.WebhookVerificationError, match="no matching"):
        webhooks.verify(VECTOR_SECRET, headers, VECTOR_BODY.encode(), now=VECTOR_TS)
    headers["webhook-signature"] = VECTOR_SIG
    # Re-serialised JSON (other spacing) is not the signed bytes.
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(VECTOR_SECRET, headers, b'{"test":2432232314}', now=VECTOR_TS)


@pytest.mark.parametrize("drift", [-301, 301])
def test_verify_rejects_timestamps_outside_tolerance(drift):
    secret = webhooks.new_secret()
    ts = int(time.time())
    body = b'{"a":1}'
    headers = webhooks.headers_for(secret, "msg_1", body, timestamp=ts)
    with pytest.raises(webhooks.WebhookVerificationError, match=r"too (old|new)"):
        webhooks.verify(secret, headers, body, now=ts - drift)


def test_verify_rejects_missing_headers_and_accepts_any_matching_entry():
    secret = webhooks.new_secret()
    body = b"{}"
    headers = webhooks.headers_for(secret, "msg_2", body)
    for missing in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        partial = {k: v for k, v in headers.items() if k != missing}
        with pytest.raises(webhooks.WebhookVerificationError, match="missing"):
            webhooks.verify(secret, partial, body)
    # Rotating secrets: several signatures, one valid, unknown versions ignored.
    headers["webhook-signature"] = "v1a,AAAA v1,bm9wZQ== " + headers["webhook-signature"]
    assert webhooks.verify(secret, {k.upper(): v for k, v in headers.items()}, body) == "msg_2"


def test_meta_signature_is_checked_on_raw_bytes():
    secret = "app-secret"
    raw = b'{"object":"page","entry":[{"id":"1","changes":[{"value":"\\u00e4"}]}]}'
    header = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    webhooks.verify_meta(secret, header, raw)
    reserialised = '{"object": "page", "entry": [{"id": "1", "changes": [{"value": "ä"}]}]}'
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify_meta(secret, header, reserialised.encode())
    with pytest.raises(webhooks.WebhookVerificationError, match="missing"):
        webhooks.verify_meta(secret, None, raw)
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify_meta(secret, "sha1=abc", raw)


def test_new_secret_has_the_whsec_form():
    s = webhooks.new_secret()
    assert s.startswith("whsec_")
    assert len(base64.b64decode(s.removeprefix("whsec_"))) == 32
