"""Webhook signatures: `Shine-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

TOLERANCE = 300  # seconds either way: older (or future) signatures are replays
# Anything else in the header (non-ASCII, Unicode digits, a 5,000-digit `t`) is no
# signature at all, checked before any arithmetic or comparison is made with it.
TIMESTAMP = re.compile(r"[0-9]{1,12}")
DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str | None, header: str, body: bytes, *, now: float | None = None) -> bool:
    if not secret:  # an empty key would be a signature anyone can compute
        return False
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not (TIMESTAMP.fullmatch(timestamp) and DIGEST.fullmatch(given)):
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > TOLERANCE:
        return False
    expected = sign(secret, body, int(timestamp)).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given.lower())
