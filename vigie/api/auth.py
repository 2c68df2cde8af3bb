"""Bearer keys: each key belongs to one firm and sets `request.firm` for the tenancy gateway."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from ninja.security import HttpBearer

from vigie.api.errors import ApiError
from vigie.api.models import ApiKey, hash_key

LAST_USED_PRECISION = timedelta(minutes=1)


def rate_limit() -> int:
    """Requests per minute and per key."""
    return getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 600)


def key_from_header(request) -> ApiKey | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return ApiKey.objects.select_related("firm").filter(key_hash=hash_key(token.strip())).first()


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request, token: str) -> ApiKey:
        key = ApiKey.objects.select_related("firm").filter(key_hash=hash_key(token)).first()
        if key is None:
            raise ApiError(401, "invalid_api_key", "Cette clé d'API n'existe pas.")
        if key.is_revoked:
            raise ApiError(401, "revoked_api_key", "Cette clé d'API a été révoquée.")
        throttle(request, key)
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        request.api_key = key
        request.firm = key.firm
        return key


def throttle(request, key: ApiKey) -> None:
    """A fixed one-minute window per key, counted in Django's cache, once per request:
    a request answered before its operation runs (an idempotent replay) counts too."""
    if getattr(request, "_api_throttled", False):
        return
    request._api_throttled = True
    now = time.time()
    window = int(now // 60)
    cache_key = f"api-rate:{key.pk}:{window}"
    cache.add(cache_key, 0, timeout=120)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=120)
        count = 1
    if count > rate_limit():
        retry_after = max(1, int(60 - now % 60))
        raise ApiError(
            429,
            "rate_limited",
            f"Trop de requêtes : au plus {rate_limit()} par minute et par clé. "
            f"Réessayez dans {retry_after} s.",
            {"retry_after": retry_after},
        )
