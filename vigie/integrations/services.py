"""API keys and integration secrets: created by a firm admin, shown once, revocable
(`Credential.revoke`)."""

from __future__ import annotations

from django.db import transaction

from vigie.api.models import ApiKey, hash_key
from vigie.integrations.models import IntegrationSecret


@transaction.atomic
def api_key_create(*, firm, actor, name: str) -> tuple[ApiKey, str]:
    raw = ApiKey.new_raw_key()
    key = ApiKey.objects.create(
        firm=firm, name=name, prefix=raw[:8], key_hash=hash_key(raw), created_by=actor
    )
    return key, raw


@transaction.atomic
def integration_secret_create(*, firm, actor, name: str) -> tuple[IntegrationSecret, str]:
    raw = IntegrationSecret.new_raw_secret()
    secret = IntegrationSecret(firm=firm, name=name, created_by=actor)
    secret.set_secret(raw)
    secret.save()
    return secret, raw
