"""Launch links: a production tool signs a short-lived, single-use URL that opens Vigie.

    /integrations/launch/?email=…&exp=<unix ts>&nonce=…&firm=<firm public_id>[&code=…]&sig=…

`sig` is the hex HMAC-SHA256, keyed with the firm's integration secret, of the canonical
query: every parameter except `sig`, sorted by name, each as `name=value` with the value
percent-encoded (RFC 3986, `urllib.parse.quote(value, safe="")`), joined with `&`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from django.db import IntegrityError, transaction
from django.utils import timezone

from vigie.accounts.models import User
from vigie.firms.models import Firm
from vigie.integrations.models import IntegrationSecret, LaunchNonce
from vigie.lib.storable import is_storable

# Also said when a switch confirmed in the browser finds the link stale or its user gone.
EXPIRED = "Ce lien de connexion a expiré : relancez la console."
NOT_MEMBER = "Cette adresse n'est pas celle d'un collaborateur actif de ce cabinet."

MAX_LIFETIME = 60  # seconds between now and `exp`
CLOCK_SKEW = 5
REQUIRED = ("email", "exp", "nonce", "firm", "sig")
ALLOWED = {*REQUIRED, "code"}


class LaunchRefused(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(
        f"{name}={quote(params[name], safe='')}" for name in sorted(params) if name != "sig"
    )


def sign(params: dict[str, str], secret: str) -> str:
    return hmac.new(secret.encode(), canonical_query(params).encode(), hashlib.sha256).hexdigest()


def launch_verify(querydict, *, now: float | None = None) -> tuple[User, Firm, str]:
    """Check a launch link and burn its nonce. Returns (user, firm, code or "")."""
    now = time.time() if now is None else now
    params = {}
    for name in querydict:
        values = querydict.getlist(name)
        if name not in ALLOWED or len(values) != 1:
            raise LaunchRefused("malformed", "Ce lien de connexion est mal formé.")
        params[name] = values[0]
    if any(not params.get(name) for name in REQUIRED):
        raise LaunchRefused("malformed", "Ce lien de connexion est incomplet.")
    if not all(is_storable(value) for value in params.values()):
        raise LaunchRefused("malformed", "Ce lien de connexion est mal formé.")
    try:
        firm = Firm.objects.get(public_id=uuid.UUID(params["firm"]))
    except (ValueError, Firm.DoesNotExist):
        raise LaunchRefused("unknown_firm", "Ce lien désigne un cabinet inconnu.") from None
    try:
        exp = int(params["exp"])
    except ValueError:
        raise LaunchRefused("malformed", "Ce lien de connexion est mal formé.") from None
    if exp < now:
        raise LaunchRefused("expired", EXPIRED)
    if exp > now + MAX_LIFETIME + CLOCK_SKEW:
        raise LaunchRefused(
            "too_long", "Ce lien de connexion est valable trop longtemps (60 secondes au plus)."
        )
    secrets = list(IntegrationSecret.objects.for_firm(firm).live())
    signature = params["sig"].lower()
    match = None
    for secret in secrets:
        raw = secret.get_secret()
        if raw and hmac.compare_digest(sign(params, raw), signature):
            match = secret
            break
    if match is None:
        raise LaunchRefused("bad_signature", "La signature de ce lien de connexion est invalide.")
    user = (
        User.objects.filter(
            email__iexact=params["email"].strip(), is_active=True, membership__firm=firm
        )
        .select_related("membership")
        .first()
    )
    if user is None:
        raise LaunchRefused("not_member", NOT_MEMBER)
    try:
        with transaction.atomic():
            LaunchNonce.objects.create(
                firm=firm,
                nonce=params["nonce"][:100],
                expires_at=datetime.fromtimestamp(exp, tz=UTC),
            )
    except IntegrityError:
        raise LaunchRefused("replayed", "Ce lien de connexion a déjà servi.") from None
    IntegrationSecret.objects.filter(pk=match.pk).update(last_used_at=timezone.now())
    return user, firm, params.get("code", "")


def nonces_purge() -> int:
    """Used nonces are only needed until their link expires."""
    cutoff = timezone.now() - timedelta(minutes=5)
    deleted, _ = LaunchNonce.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
