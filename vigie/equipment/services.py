"""Declaring the solutions that equip a client's slots (achat, vente, caisse), and
removing them. A non-partner solution is simply recorded; Shine comes with its
invitation. « Non concerné » excludes every other solution of its slot."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from vigie.clients import history
from vigie.clients.models import Client
from vigie.equipment.models import Equipment, Slot, Solution

NOT_CONCERNED = "non-concerne"

# A choice of the dialog (its column) → the slots it fills.
SCOPES = {
    "achat_ventes": [Slot.ACHAT, Slot.VENTE],
    "achats": [Slot.ACHAT],
    "ventes": [Slot.VENTE],
    "caisse": [Slot.CAISSE],
}
SCOPE_LABELS = {
    "achat_ventes": "Achat & Ventes",
    "achats": "Achats",
    "ventes": "Ventes",
    "caisse": "Caisse",
}
# The columns of the dialog opened from each slot: every choice fills that slot.
SLOT_SCOPES = {
    Slot.ACHAT: ["achat_ventes", "achats"],
    Slot.VENTE: ["achat_ventes", "ventes"],
    Slot.CAISSE: ["caisse"],
}
PARTNER_NEEDS_INVITATION = "Shine s'active par une invitation : choisissez un mode et un plan."
SCOPE_NOT_OFFERED = "Ce choix n'est pas proposé pour cette solution."
PARTNER_NOT_REMOVABLE = "Shine se retire en annulant son invitation."
NOT_DECLARED = "Cette solution n'équipe pas ce client."
SHINE_IN_SLOT = "Ce client est équipé de Shine en {slot} : annulez d'abord l'invitation Shine."


def parse_slot(value: str | None) -> str:
    """The slot a dialog was opened from (ACHAT when missing or unknown)."""
    return value if value in Slot.values else Slot.ACHAT


def offers(solution: Solution, scope: str) -> bool:
    slots = SCOPES.get(scope)
    return bool(slots) and all(getattr(solution, f"for_{slot}") for slot in slots)


def check_declarable(solution: Solution, scope: str) -> list[str]:
    if solution.is_partner:
        raise ValidationError(PARTNER_NEEDS_INVITATION)
    if not offers(solution, scope):
        raise ValidationError(SCOPE_NOT_OFFERED)
    return SCOPES[scope]


def _excluded(client: Client, slot: str, solution: Solution) -> list[Equipment]:
    """What declaring `solution` in `slot` replaces: everything else for « Non concerné »,
    « Non concerné » for anything else."""
    rows = Equipment.objects.filter(client=client, slot=slot).select_related("solution")
    if solution.slug == NOT_CONCERNED:
        rows = rows.exclude(solution=solution)
        held = list(rows)
        if any(row.solution.is_partner for row in held):
            raise ValidationError(SHINE_IN_SLOT.format(slot=Slot(slot).label.lower()))
        return held
    return list(rows.filter(solution__slug=NOT_CONCERNED))


@transaction.atomic
def equipment_declare(*, client: Client, actor, solution: Solution, scope: str) -> list[Equipment]:
    """Record `solution` in the slots of `scope` (e.g. Achat & Ventes, or Caisse)."""
    slots = check_declarable(solution, scope)
    replaced = {slot: _excluded(client, slot, solution) for slot in slots}
    rows = []
    changes: dict[str, list[str]] = {}
    for slot in slots:
        gone = replaced[slot]
        if gone:
            Equipment.objects.filter(pk__in=[row.pk for row in gone]).delete()
        row, created = Equipment.objects.get_or_create(
            client=client,
            slot=slot,
            solution=solution,
            defaults={"firm_id": client.firm_id, "created_by": actor},
        )
        rows.append(row)
        if created or gone:
            before = ", ".join(row.label for row in gone)
            changes[Slot(slot).label] = [before, solution.name]
    if changes:
        history.record(
            client,
            actor=actor,
            kind="equipment.declared",
            summary=f"Équipement déclaré : {solution.name} ({SCOPE_LABELS[scope]})",
            changes=changes,
        )
    return rows


@transaction.atomic
def equipment_remove(*, client: Client, actor, solution: Solution, slot: str) -> None:
    """Take a declared solution out of one slot of the client."""
    if solution.is_partner:
        raise ValidationError(PARTNER_NOT_REMOVABLE)
    deleted, _ = Equipment.objects.filter(client=client, slot=slot, solution=solution).delete()
    if not deleted:
        raise ValidationError(NOT_DECLARED)
    label = Slot(slot).label
    history.record(
        client,
        actor=actor,
        kind="equipment.removed",
        summary=f"Équipement retiré : {solution.name} ({label})",
        changes={label: [solution.name, ""]},
    )


@transaction.atomic
def equipment_declare_many(*, clients: list[Client], actor, solution: Solution, scope: str) -> int:
    check_declarable(solution, scope)
    count = 0
    for client in clients:
        equipment_declare(client=client, actor=actor, solution=solution, scope=scope)
        count += 1
    return count
