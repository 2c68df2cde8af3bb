"""What the firm decides about a register's finding on the client page: take the register's
value, or dismiss the finding.

Taking goes through the client core's service for the details (validated by the
details form, recorded in the history like any edit). Dismissing stores the register's
value it was dismissed for (`DismissedFinding`): later checks leave that finding out while
the register says the same (`without_dismissed`, called by the checks when they save).
"""

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError
from django.db import transaction

from vigie.clients import history
from vigie.clients import services as client_services
from vigie.clients.forms import DETAIL_FIELDS, ClientDetailsForm
from vigie.clients.models import Client
from vigie.registries.models import CheckStatus, DismissedFinding, Register, RegisterCheck

CLOSED = ("ceased", "establishment_closed")

# The company register's findings whose value is a client detail: code -> (field, how
# to read the register's value from the check's `values`).
TAKEABLE = {
    "name": ("name", lambda values: values.get("name")),
    "legal_form": ("legal_form", lambda values: values.get("legal_form")),
    "ape": ("ape_code", lambda values: values.get("ape_code")),
    "not_head_office": ("siret", lambda values: (values.get("head_office") or {}).get("siret")),
}

# What to do about the others (shown with « Ignorer » only).
ADVICE = {
    "ceased": "L'entreprise est cessée au registre : archivez le client, ou corrigez son "
    "SIRET s'il a repris une autre entreprise.",
    "establishment_closed": "Cet établissement est fermé : renseignez le SIRET de "
    "l'établissement actif dans « Modifier les détails ».",
    "no_line": "Le client n'a pas de ligne dans l'annuaire : il doit choisir une plateforme "
    "agréée et s'y inscrire pour recevoir ses factures.",
    "pa_status": "Le client a une ligne dans l'annuaire : mettez à jour son inscription PA "
    "dans le panneau Réforme.",
    "platform": "Le client est inscrit auprès d'une autre plateforme : vérifiez avec lui "
    "(banque, logiciel…) puis mettez à jour l'inscription PA dans le panneau Réforme.",
    "future_date": "La ligne ne prend effet qu'à cette date : le client ne reçoit pas ses "
    "factures électroniques d'ici là. Relancez la plateforme si la date est erronée.",
    "siren_level": "La ligne couvre toute l'entreprise (SIREN) : si chaque établissement "
    "reçoit ses factures, demandez à la plateforme une ligne par SIRET.",
    "line_changed": "La ligne du client a changé dans l'annuaire : vérifiez avec lui que ce "
    "changement est voulu.",
}

FINDING_GONE = "Ce constat n'est plus d'actualité : la page a été actualisée."
NOT_TAKEABLE = "La valeur du registre ne peut pas être reprise pour ce constat."


def takeable(register: str, code: str) -> bool:
    return register == Register.SIRENE and code in TAKEABLE


def status_of(findings: list[dict]) -> str:
    """A check's status from its findings (the rule of the checks, services.py)."""
    if any(f.get("code") in CLOSED for f in findings):
        return CheckStatus.CEASED
    return CheckStatus.DRIFT if findings else CheckStatus.UP_TO_DATE


def without_dismissed(client: Client, register: str, fields: dict) -> dict:
    """A check's result without the findings the firm dismissed for the same register
    value, and its status accordingly."""
    findings = fields.get("findings")
    if not findings:
        return fields
    dismissed = set(
        DismissedFinding.objects.filter(
            firm_id=client.firm_id, client_id=client.pk, register=register
        ).values_list("code", "value")
    )
    kept = [f for f in findings if (f["code"], str(f["register"])[:300]) not in dismissed]
    if len(kept) == len(findings):
        return fields
    return {**fields, "findings": kept, "status": status_of(kept)}


def _locked_finding(client: Client, register: str, code: str) -> tuple[RegisterCheck, dict]:
    check = (
        RegisterCheck.objects.for_firm(client.firm)
        .select_for_update()
        .filter(client=client, register=register)
        .first()
    )
    finding = next((f for f in check.findings if f.get("code") == code), None) if check else None
    if finding is None:
        raise ValidationError(FINDING_GONE, code="gone")
    return check, finding


def _drop(check: RegisterCheck, code: str) -> None:
    check.findings = [f for f in check.findings if f.get("code") != code]
    if check.status != CheckStatus.UNVERIFIED:  # the last try failed: it still says so
        check.status = status_of(check.findings)
    check.save(update_fields=["findings", "status"])


@transaction.atomic
def finding_take(*, client: Client, actor, register: str, code: str) -> Client:
    """Write the register's value of this finding into the client (validated as the
    details form would, recorded in the history) and drop the finding."""
    check, _ = _locked_finding(client, register, code)
    if not takeable(register, code):
        raise ValidationError(NOT_TAKEABLE, code="not_takeable")
    field, read = TAKEABLE[code]
    value = read(check.values or {})
    if not value:
        raise ValidationError(NOT_TAKEABLE, code="not_takeable")
    data = {name: getattr(client, name) for name in DETAIL_FIELDS} | {field: value}
    form = ClientDetailsForm(data, instance=copy.copy(client), firm=client.firm)
    if not form.is_valid():
        errors = [e for errs in form.errors.values() for e in errs]
        raise ValidationError(f"La valeur du registre n'est pas acceptée : {errors[0]}")
    client = client_services.client_update(client=client, actor=actor, data=form.cleaned_data)
    _drop(check, code)
    return client


@transaction.atomic
def finding_dismiss(*, client: Client, actor, register: str, code: str) -> DismissedFinding:
    """Dismiss this finding for the register's current value: the next checks do not
    raise it again while the register says the same. Recorded in the history."""
    check, finding = _locked_finding(client, register, code)
    value = str(finding.get("register", ""))[:300]
    dismissal, _ = DismissedFinding.objects.update_or_create(
        client=client,
        register=register,
        code=code,
        value=value,
        defaults={"firm_id": client.firm_id, "dismissed_by": actor},
    )
    _drop(check, code)
    history.record(
        client,
        actor=actor,
        kind="registries.dismissed",
        summary=f"Constat ignoré ({Register(register).label}) : {finding.get('label', code)}"
        f" — registre : {value}, cabinet : {finding.get('firm', '—')}",
    )
    return dismissal
