"""The client's history: every service that changes a client writes here."""

from __future__ import annotations

from typing import Any

from django.db import models

from vigie.clients.models import Client, ClientEvent


def _display(instance: models.Model, field: str) -> Any:
    value = getattr(instance, field)
    model_field = instance._meta.get_field(field)
    if getattr(model_field, "choices", None):
        return getattr(instance, f"get_{field}_display")()
    if isinstance(value, models.Model):
        return str(value)
    if value is None:
        return ""
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {field: _display(instance, field) for field in fields}


def diff(before: dict[str, Any], instance: models.Model) -> dict[str, list[Any]]:
    """{field verbose name: [before, after]} for the fields that changed."""
    changes = {}
    for field, old in before.items():
        new = _display(instance, field)
        if old != new:
            label = str(instance._meta.get_field(field).verbose_name)
            changes[label] = [old, new]
    return changes


def record(
    client: Client, *, actor, kind: str, summary: str, changes: dict | None = None
) -> ClientEvent:
    return ClientEvent.objects.create(
        firm_id=client.firm_id,
        client=client,
        actor=actor if actor is not None and actor.is_authenticated else None,
        kind=kind,
        summary=summary[:300],
        changes=changes or {},
    )
