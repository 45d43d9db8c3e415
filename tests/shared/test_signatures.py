"""Signature schemes against their published vectors, and the target-URL guard."""

from __future__ import annotations

import json

import pytest

from shared import netguard, webhooks

# Standard Webhooks' own test vector (the reference libraries' "sign function works").
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TS = 1614265330
SW_BODY = b'{"test": 2432232314}'
SW_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

# Meta signs the raw bytes as sent, with non-ASCII escaped (\u00e9).
META_SECRET = "test-app-secret"
META_BODY = (
    b'{"object":"page","entry":[{"id":"123","time":1700000000,"changes":[{"field":"feed",'
    b'"value":{"message":"caf\\u00e9"}}]}]}'
)
META_SIG = "sha256=bbb64250ca84f1af2bf707689ab7af97daacfa19658c0f32a1980b1ec0a19b28"


def test_standard_webhooks_vector():
    assert webhooks.sign(SW_SECRET, SW_ID, SW_TS, SW_BODY) == SW_SIG
    headers = {"webhook-id": SW_ID, "webhook-timestamp": str(SW_TS), "webhook-signature": SW_SIG}
    assert webhooks.verify(SW_SECRET, headers, SW_BODY, now=SW_TS + 10) == SW_ID
    bad = {**headers, "webhook-signature": SW_SIG[:-2] + "A="}
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify(SW_SECRET, bad, SW_BODY, now=SW_TS)
    with pytest.raises(webhooks.WebhookVerificationError, match="too old"):
        webhooks.verify(SW_SECRET, headers, SW_BODY)


def test_meta_vector_and_reserialised_body():
    webhooks.verify_meta(META_SECRET, META_SIG, META_BODY)
    reserialised = json.dumps(json.loads(META_BODY), ensure_ascii=False, separators=(",", ":"))
    assert reserialised.encode() != META_BODY
    with pytest.raises(webhooks.WebhookVerificationError):
        webhooks.verify_meta(META_SECRET, META_SIG, reserialised.encode())


@pytest.mark.parametrize(
    ("url", "host_header", "ip_url"),
    [
        ("https://93.184.215.14/hook?a=1", "93.184.215.14", "https://93.184.215.14:443/hook?a=1"),
        ("http://8.8.8.8:8080/x", "8.8.8.8:8080", "http://8.8.8.8:8080/x"),
        (
            "https://[2606:4700:4700::1111]/x",
            "[2606:4700:4700::1111]",
            "https://[2606:4700:4700::1111]:443/x",
        ),
    ],
)
async def test_public_literals_are_pinned(url, host_header, ip_url):
    target = await netguard.resolve(url, allow_private=False)
    assert target.host_header == host_header and target.ip_url == ip_url


async def test_loopback_name_is_resolved_then_refused():
    with pytest.raises(netguard.UnsafeTarget, match="private"):
        await netguard.resolve("http://localhost:8080/x", allow_private=False)
    allowed = await netguard.resolve("http://localhost:8080/x", allow_private=True)
    assert allowed.ip in ("127.0.0.1", "::1") and allowed.host_header == "localhost:8080"


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "https://", "https://a:b@93.184.215.14/", "http://x/#frag"]
)
async def test_malformed_urls(url):
    with pytest.raises(netguard.UnsafeTarget):
        await netguard.resolve(url, allow_private=True)
