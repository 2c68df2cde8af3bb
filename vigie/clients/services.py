"""Workflows that change clients. Each checks first, then writes, then records history."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from vigie.clients import history
from vigie.clients.forms import DETAIL_FIELDS, DUPLICATE_CONTACT_EMAIL
from vigie.clients.models import Client, ClientAssignment, Contact
from vigie.firms.models import Membership

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
