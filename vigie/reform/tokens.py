"""The mandate e-mail's signing link: `<mandate public id>-<timestamp>-<hmac>`.

Signed (an HMAC with SECRET_KEY over the mandate's ids and representative's address and
the time it was made) and expiring (MANDATE_LINK_DAYS, 30 by default), like the
invitations' links (vigie.invitations.tokens). The mandate's own state then decides what
the link still allows: once it is signed, revoked or its link locked, the same link
only says so.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import base36_to_int, int_to_base36

from vigie.lib.site import site_url

KEY_SALT = "vigie.reform.tokens"
DEFAULT_DAYS = 30


def link_days() -> int:
    return int(getattr(settings, "MANDATE_LINK_DAYS", DEFAULT_DAYS))


def _hash(mandate, ts: int) -> str:
    value = f"{mandate.pk}:{mandate.public_id}:{mandate.representative_email.lower()}:{ts}"
    return salted_hmac(KEY_SALT, value, algorithm="sha256").hexdigest()[:32]


def make_token(mandate, *, now: float | None = None) -> str:
    ts = int(now if now is not None else time.time())
    return f"{mandate.public_id.hex}-{int_to_base36(ts)}-{_hash(mandate, ts)}"


def parse_token(token: str) -> tuple[uuid.UUID, int, str] | None:
    try:
        public_hex, ts_b36, mac = token.split("-")
        if len(ts_b36) > 13:  # base36_to_int's own limit, said before it raises
            return None
        return uuid.UUID(hex=public_hex), base36_to_int(ts_b36), mac
    except (ValueError, TypeError):
        return None


def is_authentic(mandate, token: str) -> bool:
    """The token is one we made for this mandate, whatever its age."""
    parsed = parse_token(token)
    if parsed is None or parsed[0] != mandate.public_id:
        return False
    return constant_time_compare(_hash(mandate, parsed[1]), parsed[2])


def is_expired(token: str, *, now: float | None = None) -> bool:
    parsed = parse_token(token)
    if parsed is None:
        return True
    return (now if now is not None else time.time()) - parsed[1] > link_days() * 86400


def expires_at(sent_at: datetime) -> datetime:
    return sent_at + timedelta(days=link_days())


def link_url(mandate, *, now: float | None = None) -> str:
    """The absolute URL the mandate e-mail carries."""
    path = reverse("mandate_sign", args=[make_token(mandate, now=now)])
    return site_url(path)
