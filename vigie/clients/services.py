"""Workflows that change clients. Each checks first, then writes, then records history."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from vigie.clients import history
from vigie.clients.forms import DETAIL_FIELDS
from vigie.clients.models import Client

DUPLICATE_CODE = "Ce code client est déjà utilisé par un autre client du cabinet."


def new_collect_email() -> str:
    return f"invoice-{uuid.uuid4()}@{settings.COLLECT_EMAIL_DOMAIN}"


@transaction.atomic
def client_create(*, firm, actor, data: dict) -> Client:
    """Create a client from cleaned form data. Raises ValidationError on a taken code."""
    client = Client(firm=firm, collect_email=new_collect_email(), **data)
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError:
        raise ValidationError({"code": DUPLICATE_CODE}) from None
    history.record(client, actor=actor, kind="client.created", summary="Client créé")
    return client


@transaction.atomic
def client_update(*, client: Client, actor, data: dict) -> Client:
    before = history.snapshot(client, [*DETAIL_FIELDS, "notes"])
    for field, value in data.items():
        setattr(client, field, value)
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError:
        raise ValidationError({"code": DUPLICATE_CODE}) from None
    changes = history.diff(before, client)
    if changes:
        history.record(
            client,
            actor=actor,
            kind="client.updated",
            summary="Détails modifiés : " + ", ".join(changes),
            changes=changes,
        )
    return client
