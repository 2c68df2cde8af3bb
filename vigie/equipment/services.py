"""Declaring the solutions that equip a client (a non-partner one is simply recorded)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from vigie.clients import history
from vigie.clients.models import Client
from vigie.equipment.models import Equipment, Slot, Solution

SCOPES = {
    "achat_ventes": [Slot.ACHAT, Slot.VENTE],
    "achats": [Slot.ACHAT],
}
SCOPE_LABELS = {"achat_ventes": "Achat & Ventes", "achats": "Achats"}
PARTNER_NEEDS_INVITATION = "Shine s'active par une invitation : choisissez un mode et un plan."
SCOPE_NOT_OFFERED = "Ce choix n'est pas proposé pour cette solution."


def check_declarable(solution: Solution, scope: str) -> list[str]:
    if solution.is_partner:
        raise ValidationError(PARTNER_NEEDS_INVITATION)
    offered = (scope == "achat_ventes" and solution.offers_achat_ventes) or (
        scope == "achats" and solution.offers_achats
    )
    if scope not in SCOPES or not offered:
        raise ValidationError(SCOPE_NOT_OFFERED)
    return SCOPES[scope]


@transaction.atomic
def equipment_declare(*, client: Client, actor, solution: Solution, scope: str) -> list[Equipment]:
    """Record `solution` in the slots of `scope` (Achat & Ventes, or Achats)."""
    slots = check_declarable(solution, scope)
    rows = []
    added = []
    for slot in slots:
        row, created = Equipment.objects.get_or_create(
            client=client,
            slot=slot,
            solution=solution,
            defaults={"firm_id": client.firm_id, "created_by": actor},
        )
        rows.append(row)
        if created:
            added.append(Slot(slot).label)
    if added:
        history.record(
            client,
            actor=actor,
            kind="equipment.declared",
            summary=f"Équipement déclaré : {solution.name} ({SCOPE_LABELS[scope]})",
            changes={slot: ["", solution.name] for slot in added},
        )
    return rows


def equipment_declare_many(*, clients: list[Client], actor, solution: Solution, scope: str) -> int:
    check_declarable(solution, scope)
    count = 0
    for client in clients:
        equipment_declare(client=client, actor=actor, solution=solution, scope=scope)
        count += 1
    return count
