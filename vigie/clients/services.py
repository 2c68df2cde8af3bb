"""Workflows that change clients. Each checks first, then writes, then records history."""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from vigie.clients import history
from vigie.clients.forms import DETAIL_FIELDS, DUPLICATE_CONTACT_EMAIL
from vigie.clients.models import (
    CODE_VALIDATOR,
    Client,
    ClientAssignment,
    ClientEvent,
    Contact,
    LegalForm,
    Regime,
)
from vigie.firms.models import Membership
from vigie.lib.text import fold
from vigie.lib.validators import normalize_ape, normalize_email, normalize_phone, normalize_siret

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


# --- Client page: notes, contacts, principal contact, assignments -------------------

CONTACT_FIELDS = ["last_name", "first_name", "email", "phone", "access", "is_principal"]
PRINCIPAL_LABEL = "Contact principal"
NOT_A_COLLEAGUE = "Ce collaborateur n'appartient pas au cabinet."
ALREADY_ASSIGNED = "Ce collaborateur est déjà affecté à ce client."


def _lock(client: Client) -> Client:
    """Lock the client row: contact and principal changes of one client run one at a time."""
    return Client.objects.select_for_update().get(pk=client.pk)


def _clear_principal(client: Client, *, keep: Contact | None = None) -> Contact | None:
    """Unset the current principal (other than `keep`); return it. Call under `_lock`."""
    previous = client.contacts.filter(is_principal=True)
    if keep is not None and keep.pk:
        previous = previous.exclude(pk=keep.pk)
    previous = previous.first()
    if previous is not None:
        Contact.objects.filter(pk=previous.pk).update(is_principal=False, updated_at=timezone.now())
    return previous


def _name(contact: Contact | None) -> str:
    return contact.full_name if contact is not None else ""


def _check_email_free(client: Client, email: str, *, contact: Contact | None = None) -> None:
    if not email:
        return
    taken = Contact.objects.filter(client=client, email__iexact=email)
    if contact is not None and contact.pk:
        taken = taken.exclude(pk=contact.pk)
    if taken.exists():
        raise ValidationError({"email": DUPLICATE_CONTACT_EMAIL})


def _save_contact(contact: Contact) -> None:
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError:
        # A concurrent request took the address between our check and the write.
        raise ValidationError({"email": DUPLICATE_CONTACT_EMAIL}) from None


@transaction.atomic
def client_notes_update(*, client: Client, actor, notes: str) -> Client:
    before = history.snapshot(client, ["notes"])
    client.notes = notes.strip()
    changes = history.diff(before, client)
    if changes:
        client.save(update_fields=["notes"])
        history.record(
            client, actor=actor, kind="client.notes", summary="Notes modifiées", changes=changes
        )
    return client


@transaction.atomic
def contact_create(*, client: Client, actor, data: dict) -> Contact:
    """Add a contact; if it is the principal, the previous principal stops being one."""
    client = _lock(client)
    contact = Contact(firm_id=client.firm_id, client=client, **data)
    contact.email = (contact.email or "").strip().lower()
    _check_email_free(client, contact.email)
    previous = _clear_principal(client) if contact.is_principal else None
    _save_contact(contact)
    changes = {
        str(Contact._meta.get_field(f).verbose_name): ["", v]
        for f, v in history.snapshot(contact, CONTACT_FIELDS).items()
        if v not in ("", False)
    }
    history.record(
        client,
        actor=actor,
        kind="contact.created",
        summary=f"Contact ajouté : {contact.full_name}",
        changes=changes,
    )
    if contact.is_principal:
        _record_principal(client, actor, previous, contact)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor, data: dict) -> Contact:
    client = _lock(contact.client)
    contact = Contact.objects.get(pk=contact.pk)  # fresh, under the lock
    before = history.snapshot(contact, CONTACT_FIELDS)
    was_principal = contact.is_principal
    old_email = contact.email
    for field, value in data.items():
        setattr(contact, field, value)
    contact.email = (contact.email or "").strip().lower()
    _check_email_free(client, contact.email, contact=contact)
    previous = None
    if contact.is_principal and not was_principal:
        previous = _clear_principal(client, keep=contact)
    _save_contact(contact)
    changes = history.diff(before, contact)
    if changes:
        history.record(
            client,
            actor=actor,
            kind="contact.updated",
            summary=f"Contact modifié : {contact.full_name}",
            changes=changes,
        )
    if contact.is_principal != was_principal:
        if contact.is_principal:
            _record_principal(client, actor, previous, contact)
        else:
            _record_principal(client, actor, contact, None)
    contact.voided_invitations = []
    if old_email and contact.email != old_email:
        from vigie.invitations.lifecycle import invitations_void_for_contact

        contact.voided_invitations = invitations_void_for_contact(
            contact=contact, old_email=old_email, actor=actor
        )
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, actor) -> bool:
    """Delete a contact. Returns True when it was the principal (the client has none now)."""
    client = _lock(contact.client)
    contact = Contact.objects.get(pk=contact.pk)
    was_principal = contact.is_principal
    changes = {
        str(Contact._meta.get_field(f).verbose_name): [v, ""]
        for f, v in history.snapshot(contact, CONTACT_FIELDS).items()
        if v not in ("", False)
    }
    contact.delete()
    history.record(
        client,
        actor=actor,
        kind="contact.deleted",
        summary=f"Contact supprimé : {contact.full_name}",
        changes=changes,
    )
    if was_principal:
        _record_principal(client, actor, contact, None)
    return was_principal


@transaction.atomic
def contact_set_principal(*, contact: Contact, actor, principal: bool = True) -> Contact:
    """Make `contact` the client's principal (or stop it being one), in one transaction.

    The client row is locked first, so two collaborators ticking two contacts at the
    same moment run one after the other: the last one wins, and exactly one contact
    ends up principal.
    """
    client = _lock(contact.client)
    try:
        contact = Contact.objects.get(pk=contact.pk, client=client)
    except Contact.DoesNotExist:
        raise ValidationError("Ce contact n'existe plus.") from None
    if contact.is_principal == principal:
        return contact
    now = timezone.now()
    if principal:
        previous = _clear_principal(client, keep=contact)
        Contact.objects.filter(pk=contact.pk).update(is_principal=True, updated_at=now)
        _record_principal(client, actor, previous, contact)
    else:
        Contact.objects.filter(pk=contact.pk).update(is_principal=False, updated_at=now)
        _record_principal(client, actor, contact, None)
    contact.is_principal = principal
    return contact


def _record_principal(client: Client, actor, before: Contact | None, after: Contact | None):
    summary = (
        f"Contact principal : {after.full_name}"
        if after is not None
        else "Le client n'a plus de contact principal"
    )
    history.record(
        client,
        actor=actor,
        kind="contact.principal",
        summary=summary,
        changes={PRINCIPAL_LABEL: [_name(before), _name(after)]},
    )


@transaction.atomic
def assignment_add(*, client: Client, user, actor) -> ClientAssignment:
    """Assign a collaborator of the client's own firm to the client."""
    if not Membership.objects.filter(user=user, firm_id=client.firm_id).exists():
        raise ValidationError({"user": NOT_A_COLLEAGUE})
    if ClientAssignment.objects.filter(client=client, user=user).exists():
        raise ValidationError({"user": ALREADY_ASSIGNED})
    try:
        with transaction.atomic():
            assignment = ClientAssignment.objects.create(
                firm_id=client.firm_id, client=client, user=user
            )
    except IntegrityError:
        raise ValidationError({"user": ALREADY_ASSIGNED}) from None
    history.record(
        client,
        actor=actor,
        kind="assignment.added",
        summary=f"Collaborateur affecté : {user}",
        changes={"Collaborateurs": ["", str(user)]},
    )
    return assignment


@transaction.atomic
def assignment_remove(*, client: Client, user, actor) -> None:
    deleted, _ = ClientAssignment.objects.filter(client=client, user=user).delete()
    if deleted:
        history.record(
            client,
            actor=actor,
            kind="assignment.removed",
            summary=f"Collaborateur retiré : {user}",
            changes={"Collaborateurs": [str(user), ""]},
        )


# --- Upserts by code client: the HTTP API and file imports ---------------------------
# One code path for a single PUT, a bulk API call and a batch of an imported file:
# each row is validated with the same validators as the client and contact forms,
# rejected rows change nothing, and every change is written to the client's history
# with no actor and the source ("API (<key name>)", "Import (<file>)") in the summary.

UPSERT_CLIENT_FIELDS = [
    "name",
    "legal_form",
    "siret",
    "ape_code",
    "regime",
    "activity",
    "docs_to_file",
]
UPSERT_CONTACT_FIELDS = ["last_name", "first_name", "email", "phone"]


@dataclasses.dataclass
class UpsertResult:
    result: str  # "created", "updated", "unchanged" or "rejected"
    client: Client | None = None
    errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)


_CHOICE_LOOKUP: dict[tuple, dict[str, str]] = {}


def _choice_value(raw, choices) -> str | None:
    """A choice by value or label, accents and case ignored (`sarl`, `Micro-entreprise`)."""
    key = tuple(value for value, _ in choices)
    lookup = _CHOICE_LOOKUP.get(key)
    if lookup is None:
        lookup = {}
        for value, label in choices:
            lookup.setdefault(fold(str(label)), value)
            lookup[fold(value)] = value
        _CHOICE_LOOKUP[key] = lookup
    return lookup.get(fold(str(raw)))


def _too_long(limit: int, value: str) -> str:
    return (
        f"Assurez-vous que cette valeur comporte au plus {limit} caractères "
        f"(actuellement {len(value)})."
    )


def _french_int(raw) -> int:
    """`1 234`, `1\u202f234`, `1234,0` or 1234.0 → 1234."""
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ValueError(raw)
        return int(raw)
    text = "".join(str(raw).split()).replace("\u202f", "").replace(",", ".")
    number = float(text) if text else 0.0
    if not number.is_integer():
        raise ValueError(raw)
    return int(number)


def client_clean(data: dict) -> tuple[dict, dict[str, list[str]]]:
    """Validate and normalise the client fields present in `data` (plus the code).

    The same rules as the client form; keys absent from `data` stay absent (they are
    left unchanged by an upsert). Returns (cleaned, {field: [French messages]}).
    """
    cleaned: dict = {}
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    code = str(data.get("code") or "").strip()
    if not code:
        fail("code", "Le code client est obligatoire.")
    elif len(code) > 20:
        fail("code", _too_long(20, code))
    elif not CODE_VALIDATOR.regex.match(code):
        fail("code", str(CODE_VALIDATOR.message))
    else:
        cleaned["code"] = code
    if "name" in data:
        name = " ".join(str(data["name"] or "").split())
        if not name:
            fail("name", "La raison sociale est obligatoire.")
        elif len(name) > 200:
            fail("name", _too_long(200, name))
        else:
            cleaned["name"] = name
    for field, choices, empty in (
        ("legal_form", LegalForm.choices, LegalForm.AUCUNE),
        ("regime", Regime.choices, ""),
    ):
        if field in data:
            raw = str(data[field] or "").strip()
            value = _choice_value(raw, choices) if raw else empty
            if value is None:
                fail(field, f"Sélectionnez un choix valide. {raw} n’en fait pas partie.")
            else:
                cleaned[field] = value
    for field, normalize in (("siret", normalize_siret), ("ape_code", normalize_ape)):
        if field in data:
            try:
                cleaned[field] = normalize(str(data[field] or ""))
            except ValidationError as exc:
                fail(field, exc.messages[0])
    if "activity" in data:
        activity = " ".join(str(data["activity"] or "").split())
        if len(activity) > 200:
            fail("activity", _too_long(200, activity))
        else:
            cleaned["activity"] = activity
    if "docs_to_file" in data:
        try:
            count = _french_int(data["docs_to_file"] or 0)
        except (TypeError, ValueError):
            count = -1
        if count < 0:
            fail("docs_to_file", "Saisissez un nombre entier positif.")
        else:
            cleaned["docs_to_file"] = count
    return cleaned, errors


def contact_clean(data: dict) -> tuple[dict, dict[str, list[str]]]:
    """A contact arriving with a client (import, bulk API): Nom and E-mail required,
    Prénom and Téléphone optional; each value checked like the contact form."""
    cleaned: dict = {}
    errors: dict[str, list[str]] = {}
    for field, label, limit in (("last_name", "Nom", 100), ("first_name", "Prénom", 100)):
        value = " ".join(str(data.get(field) or "").split())
        if not value and field == "last_name":
            errors[field] = [f"Le champ « {label} » du contact est obligatoire."]
        elif len(value) > limit:
            errors[field] = [_too_long(limit, value)]
        else:
            cleaned[field] = value
    try:
        cleaned["email"] = normalize_email(str(data.get("email") or ""))
        if not cleaned["email"]:
            errors["email"] = ["L'e-mail du contact est obligatoire."]
    except ValidationError as exc:
        errors["email"] = exc.messages
    try:
        cleaned["phone"] = normalize_phone(str(data.get("phone") or ""))
    except ValidationError as exc:
        errors["phone"] = exc.messages
    return cleaned, errors


def _event(client: Client, kind: str, summary: str, changes: dict | None = None) -> ClientEvent:
    return ClientEvent(
        firm_id=client.firm_id,
        client=client,
        actor=None,
        kind=kind,
        summary=summary[:300],
        changes=changes or {},
    )


@transaction.atomic
def clients_upsert_many(*, firm, rows: list[dict], source: str) -> list[UpsertResult]:
    """Create or update clients of `firm` by code client, each with at most one contact.

    `rows` are raw dicts: "code", any of UPSERT_CLIENT_FIELDS, and optionally "contact"
    (a dict of UPSERT_CONTACT_FIELDS). Codes must be distinct within one call. An
    archived client is restored. A contact is matched by e-mail within its client; the
    first contact of a client without a principal becomes the principal. Sending the
    same rows again changes nothing and reports "unchanged".
    """
    results: list[UpsertResult | None] = [None] * len(rows)
    prepared = []
    for index, row in enumerate(rows):
        cleaned, errors = client_clean(row)
        contact = None
        if row.get("contact"):
            contact, contact_errors = contact_clean(row["contact"])
            errors.update({f"contact.{k}": v for k, v in contact_errors.items()})
        if errors:
            results[index] = UpsertResult("rejected", errors=errors)
        else:
            prepared.append((index, cleaned, contact))

    codes = [cleaned["code"] for _, cleaned, _ in prepared]
    existing = {c.code: c for c in Client.objects.for_firm(firm).filter(code__in=codes)}
    contacts_of: dict[int, list[Contact]] = defaultdict(list)
    if existing and any(contact for _, _, contact in prepared):
        for contact in Contact.objects.for_firm(firm).filter(client__in=list(existing.values())):
            contacts_of[contact.client_id].append(contact)

    now = timezone.now()
    new_clients: list[Client] = []
    changed_clients: list[Client] = []
    new_contacts: list[tuple[Client, Contact]] = []
    changed_contacts: list[Contact] = []
    events: list[tuple[Client, str, str, dict]] = []
    for index, cleaned, contact_data in prepared:
        client = existing.get(cleaned["code"])
        outcome = "unchanged"
        if client is None:
            if "name" not in cleaned:
                results[index] = UpsertResult(
                    "rejected", errors={"name": ["La raison sociale est obligatoire."]}
                )
                continue
            client = Client(firm=firm, collect_email=new_collect_email(), **cleaned)
            client.refresh_keys()
            new_clients.append(client)
            events.append((client, "client.created", f"{source} : client créé", {}))
            outcome = "created"
        else:
            fields = [f for f, v in cleaned.items() if f != "code" and getattr(client, f) != v]
            if fields or client.archived_at is not None:
                before = history.snapshot(client, fields)
                for field in fields:
                    setattr(client, field, cleaned[field])
                changes = history.diff(before, client)
                if client.archived_at is not None:
                    client.archived_at = None
                    changes["archivé"] = ["oui", "non"]
                client.refresh_keys()
                client.updated_at = now
                changed_clients.append(client)
                summary = f"{source} : détails modifiés : " + ", ".join(changes)
                events.append((client, "client.updated", summary, changes))
                outcome = "updated"
        if contact_data:
            contacts = contacts_of[client.pk] if client.pk else []
            match = next((c for c in contacts if c.email == contact_data["email"]), None)
            if match is None:
                contact = Contact(
                    firm=firm,
                    is_principal=not any(c.is_principal for c in contacts),
                    **contact_data,
                )
                contact.refresh_keys()
                contacts.append(contact)
                new_contacts.append((client, contact))
                events.append(
                    (client, "contact.created", f"{source} : contact ajouté : {contact}", {})
                )
                outcome = "updated" if outcome == "unchanged" else outcome
            else:
                fields = [f for f, v in contact_data.items() if getattr(match, f) != v]
                if fields:
                    before = history.snapshot(match, fields)
                    for field in fields:
                        setattr(match, field, contact_data[field])
                    changes = history.diff(before, match)
                    match.refresh_keys()
                    match.updated_at = now
                    changed_contacts.append(match)
                    summary = f"{source} : contact modifié : {match}"
                    events.append((client, "contact.updated", summary, changes))
                    outcome = "updated" if outcome == "unchanged" else outcome
        results[index] = UpsertResult(outcome, client=client)

    Client.objects.bulk_create(new_clients)
    if changed_clients:
        Client.objects.bulk_update(
            changed_clients,
            [*UPSERT_CLIENT_FIELDS, "archived_at", "sort_name", "search_text", "updated_at"],
        )
    for client, contact in new_contacts:
        contact.client = client
    Contact.objects.bulk_create([contact for _, contact in new_contacts])
    if changed_contacts:
        Contact.objects.bulk_update(
            changed_contacts, [*UPSERT_CONTACT_FIELDS, "search_text", "updated_at"]
        )
    ClientEvent.objects.bulk_create(
        [_event(client, kind, summary, changes) for client, kind, summary, changes in events]
    )
    return results  # type: ignore[return-value]


def client_upsert(*, firm, code: str, data: dict, source: str) -> UpsertResult:
    """One client by code client (PUT /api/v1/clients/{code})."""
    return clients_upsert_many(firm=firm, rows=[{**data, "code": code}], source=source)[0]


@transaction.atomic
def client_archive(*, client: Client, source: str) -> Client:
    """Archive a client (DELETE through the API): hidden from the portfolio, kept in history."""
    if client.archived_at is None:
        client.archived_at = timezone.now()
        client.save(update_fields=["archived_at"])
        history.record(
            client,
            actor=None,
            kind="client.archived",
            summary=f"{source} : client archivé",
            changes={"archivé": ["non", "oui"]},
        )
    return client
