"""Writes made through the API that the client app's services do not cover yet:
equipment declared by a production tool and the reform state. Each checks first,
then writes, then records history (no actor; the summary names the API key)."""

from __future__ import annotations

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from vigie.clients import history
from vigie.clients.models import Client, ClientEvent, MandateStatus, PaStatus
from vigie.equipment.models import Equipment, Solution

REFORM_FIELDS = ["sensitised", "mandate_status", "pa_status", "pa_name", "pa_registered_at"]


def source_of(api_key) -> str:
    return f"API ({api_key.name})"


@contextmanager
def attributed(client: Client, source: str):
    """Prefix with `source` the history written inside the block by the shared client
    services (which know the actor, not the channel)."""
    last = ClientEvent.objects.filter(client=client).order_by("-pk").values_list("pk", flat=True)
    last_pk = last.first() or 0
    yield
    ClientEvent.objects.filter(client=client, pk__gt=last_pk).update(
        summary=Substr(Concat(Value(f"{source} : "), F("summary")), 1, 300)
    )


@transaction.atomic
def equipment_declare(*, client: Client, slot: str, slug: str, source: str):
    """Record a non-partner solution in a slot. Returns (equipment, created)."""
    solution = Solution.objects.filter(slug=slug).first()
    if solution is None:
        raise ValidationError({"solution": f"Solution inconnue : « {slug} »."})
    if solution.is_partner:
        raise ValidationError(
            {"solution": f"{solution.name} s'active par une invitation depuis la console."}
        )
    if not getattr(solution, f"for_{slot}"):
        raise ValidationError(
            {"slot": f"{solution.name} n'est pas proposée pour « {slot.capitalize()} »."}
        )
    equipment, created = Equipment.objects.get_or_create(
        client=client, slot=slot, solution=solution, defaults={"firm_id": client.firm_id}
    )
    if created:
        label = {"achat": "Achat", "vente": "Vente", "caisse": "Caisse"}[slot]
        history.record(
            client,
            actor=None,
            kind="equipment.added",
            summary=f"{source} : {label} : {solution.name}",
            changes={label: ["", solution.name]},
        )
    return equipment, created


@transaction.atomic
def reform_update(*, client: Client, data: dict, source: str) -> Client:
    """Update the e-invoicing reform state; dates follow the statuses."""
    client = Client.objects.locked(client)
    merged = {field: getattr(client, field) for field in REFORM_FIELDS} | data
    if merged["pa_status"] == PaStatus.REGISTERED and not (merged["pa_name"] or "").strip():
        raise ValidationError(
            {"pa_name": "Indiquez la plateforme agréée auprès de laquelle le client est inscrit."}
        )
    before = history.snapshot(client, REFORM_FIELDS)
    now = timezone.now()
    for field, value in data.items():
        setattr(client, field, value.strip() if isinstance(value, str) else value)
    if "sensitised" in data and data["sensitised"] != before["sensitised"]:
        client.sensitised_at = now if client.sensitised else None
        client.sensitised_by = None
    if client.mandate_status == MandateStatus.SENT and client.mandate_sent_at is None:
        client.mandate_sent_at = now
    if client.mandate_status == MandateStatus.SIGNED and client.mandate_signed_at is None:
        client.mandate_signed_at = now
    if client.pa_status == PaStatus.REGISTERED and client.pa_registered_at is None:
        client.pa_registered_at = now.date()
    changes = history.diff(before, client)
    if changes:
        client.save()
        # The same event kinds as the console's reform services, so the reform
        # dashboard's progress chart counts what arrives through the API too.
        for kind in _reform_kinds(before, client):
            history.record(
                client,
                actor=None,
                kind=kind,
                summary=f"{source} : réforme : " + ", ".join(changes),
                changes=changes,
            )
    return client


def _reform_kinds(before: dict, client: Client) -> list[str]:
    after = history.snapshot(client, REFORM_FIELDS)
    kinds = []
    if before["sensitised"] != after["sensitised"]:
        kinds.append("reform.sensitised" if client.sensitised else "reform.unsensitised")
    if before["mandate_status"] != after["mandate_status"]:
        kinds.append(
            {
                MandateStatus.SENT: "reform.mandate_sent",
                MandateStatus.SIGNED: "reform.mandate_signed",
                MandateStatus.REVOKED: "reform.mandate_revoked",
                MandateStatus.EXPIRED: "reform.mandate_expired",
            }.get(client.mandate_status, "reform.mandate_withdrawn")
        )
    if before["pa_status"] != after["pa_status"]:
        if client.pa_status == PaStatus.REGISTERED:
            kinds.append("reform.pa_registered")
        elif before["pa_status"] == PaStatus(PaStatus.REGISTERED).label:
            kinds.append("reform.pa_unregistered")
        else:
            kinds.append(
                "reform.pa_invited" if client.pa_status == PaStatus.INVITED else "reform.pa_absent"
            )
    return kinds or ["reform.updated"]
