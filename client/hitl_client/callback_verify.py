"""Verify a decision POSTed to your callback_url by hitl-gate."""
from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping


def verify_callback(api_key: str, headers: Mapping[str, str], body: bytes, tolerance: int = 300,
                    now: float | None = None) -> bool:
    """True when the request is signed with your key and no older (or newer) than `tolerance` seconds.

    secret = sha256(api_key) in hex; signature = "v1=" + hex(HMAC-SHA256(secret, "v1:" + ts + ":" + body)).
    Deliveries are at least once: deduplicate on the body's `id`.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    ts, sig = lower.get("x-hitl-request-timestamp", ""), lower.get("x-hitl-signature", "")
    if not ts.isdigit() or abs((time.time() if now is None else now) - int(ts)) > tolerance:
        return False
    secret = hashlib.sha256(api_key.encode()).hexdigest()
    expected = "v1=" + hmac.new(secret.encode(), f"v1:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, sig)
