"""The webhook signature: `Closeloop-Signature: t=<unix time>,v1=<hex HMAC-SHA256>` over
"<t>.<body>" with the subscription's secret. Receivers check it as docs/api.md shows; the
verifier here is the same procedure, used by the tests."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Closeloop-Signature"
TOLERANCE_SECONDS = 300  # receivers refuse signatures older than this (replays)


def signature_header(*, secret: str, body: bytes, timestamp: int) -> str:
    """The header value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def signature_verify(*, secret: str, body: bytes, header: str, now: float | None = None) -> bool:
    """True when `header` signs `body` with `secret` and is at most five minutes old."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = signature_header(secret=secret, body=body, timestamp=timestamp).split("v1=")[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
