"""The reform workflows: informing clients, the mandate's life, the PA registration.

Each checks everything first, then writes, then records the client's history with
the kinds the dashboard's chart reads (see `dashboard.CHART_SERIES`):

- reform.sensitised / reform.unsensitised
- reform.information_sent (the information email was queued)
- reform.mandate_drafted, reform.mandate_draft_deleted (the firm's draft, not sent)
- reform.mandate_sent, reform.mandate_signed, reform.mandate_revoked (a signed
  mandate ended), reform.mandate_withdrawn (a mandate revoked before signature); the
  client's own steps signing online are vigie.reform.signing's, the reminders and
  expiry (reform.mandate_reminded, reform.mandate_expired) vigie.reform.lifecycle's
- reform.pa_absent, reform.pa_invited, reform.pa_registered, reform.pa_updated,
  reform.pa_unregistered (a registered client left its PA)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import formats, timezone

from vigie.clients import history
from vigie.clients.models import Client, ClientEvent, Contact, MandateStatus, PaStatus
from vigie.reform import mailer
from vigie.reform.models import AWAITING, Mandate, MandateState, ReformEmailTemplate
from vigie.reform.pdf import MandateData, is_pdf, mandate_pdf

MAX_SIGNED_SIZE = getattr(settings, "REFORM_MAX_SIGNED_SIZE", 5 * 1024 * 1024)

NO_PRINCIPAL_EMAIL = (
    "Le client n'a pas de contact principal avec une adresse e-mail : "
    "l'e-mail d'information ne peut pas être envoyé."
)
MANDATE_NEEDS_SIRET = "Le SIRET du client est manquant ou invalide : le mandat indique son SIREN."
MANDATE_NEEDS_PRINCIPAL = (
    "Le client n'a pas de contact principal : le mandat est adressé à son représentant."
)
MANDATE_NEEDS_EMAIL = "Le contact principal n'a pas d'adresse e-mail pour recevoir le mandat."
MANDATE_ALREADY_SIGNED = "Le mandat est déjà signé : révoquez-le avant d'en envoyer un nouveau."
MANDATE_NOT_SENT = "Générez et envoyez d'abord le mandat au client."
MANDATE_NO_DRAFT = "Aucun brouillon de mandat : préparez-en un."
MANDATE_DRAFT_STALE = (
    "Les informations du client ont changé depuis la préparation du brouillon ({changes}) : "
    "préparez un nouveau brouillon."
)
MANDATE_NOTHING_TO_REVOKE = "Aucun mandat en cours à révoquer."
REVOKE_REASON_REQUIRED = "Indiquez le motif de la révocation : il est communiqué au client."
MANDATE_UNCHANGED = (
    "Les informations du client n'ont pas changé depuis l'envoi du mandat : rien à régénérer."
)
REPLACED = "remplacé"
FILE_REQUIRED = "Choisissez le fichier PDF du mandat signé."
FILE_EMPTY = "Le fichier est vide."
FILE_TOO_LARGE = "Le fichier dépasse la taille maximale de {limit} Mo."
FILE_NOT_PDF = "Le fichier n'est pas un PDF valide."
PA_NAME_REQUIRED = "Indiquez la plateforme agréée auprès de laquelle le client est inscrit."
PA_DATE_REQUIRED = "Indiquez la date d'inscription."
PA_DATE_FUTURE = "La date d'inscription ne peut pas être dans le futur."
PA_STATUS_UNKNOWN = "Choisissez un statut d'inscription."
TEMPLATE_SUBJECT_REQUIRED = "L'objet est obligatoire."
TEMPLATE_BODY_REQUIRED = "Le message est obligatoire."


def principal_contact(client: Client) -> Contact | None:
    return Contact.objects.filter(client=client, is_principal=True).first()


def _yes(value: bool) -> str:
    return "Oui" if value else "Non"


# --- Sensibilisation -------------------------------------------------------------------


@transaction.atomic
def client_sensitise(
    *, client: Client, actor, sensitised: bool = True, send_email: bool = False
) -> Client:
    """Mark the client as informed of the reform (or not), optionally by emailing its
    principal contact the firm's information email."""
    contact = principal_contact(client) if send_email else None
    if send_email and (contact is None or not contact.email):
        raise ValidationError({"send_email": NO_PRINCIPAL_EMAIL})
    client = Client.objects.locked(client)
    if send_email:
        mailer.send_information(
            client=client, contact=contact, actor=actor, template=mailer.template_for(client.firm)
        )
        history.record(
            client,
            actor=actor,
            kind="reform.information_sent",
            summary=f"E-mail d'information sur la réforme envoyé à {contact.email}",
        )
    if client.sensitised == sensitised:
        return client
    client.sensitised = sensitised
    client.sensitised_at = timezone.now() if sensitised else None
    client.sensitised_by = actor if sensitised and actor.is_authenticated else None
    client.save(update_fields=["sensitised", "sensitised_at", "sensitised_by"])
    history.record(
        client,
        actor=actor,
        kind="reform.sensitised" if sensitised else "reform.unsensitised",
        summary="Sensibilisé à la réforme"
        if sensitised
        else "Sensibilisation à la réforme retirée",
        changes={"Sensi. réforme": [_yes(not sensitised), _yes(sensitised)]},
    )
    return client


@dataclass
class BulkResult:
    marked: int = 0
    already: int = 0
    emailed: int = 0
    without_email: list[str] = field(default_factory=list)


def clients_sensitise_many(
    *, firm, client_ids: Iterable[list[int]], actor, send_email: bool = False
) -> BulkResult:
    """Mark many clients as informed, chunk by chunk (each chunk one transaction).

    `client_ids` yields lists of ids (the portfolio's `iter_id_chunks()`, or one list of
    ticked rows); ids of another firm are ignored. With `send_email`, only the clients
    whose principal contact has an email are emailed and marked; the others are listed.
    """
    result = BulkResult()
    template = mailer.template_for(firm) if send_email else None
    for chunk in client_ids:
        _sensitise_chunk(firm, list(chunk), actor, template, result)
    return result


@transaction.atomic
def _sensitise_chunk(firm, ids: list[int], actor, template, result: BulkResult) -> None:
    clients = list(
        Client.objects.for_firm(firm).filter(id__in=ids).select_for_update().order_by("id")
    )
    now = timezone.now()
    events: list[ClientEvent] = []
    to_mark: list[Client] = []
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    principals = {}
    if template is not None:
        principals = {
            c.client_id: c
            for c in Contact.objects.for_firm(firm).filter(client_id__in=ids, is_principal=True)
        }
    for client in clients:
        if template is not None:
            contact = principals.get(client.id)
            if contact is None or not contact.email:
                result.without_email.append(client.code)
                continue
            client.firm = firm
            mailer.send_information(client=client, contact=contact, actor=actor, template=template)
            result.emailed += 1
            events.append(
                ClientEvent(
                    firm_id=firm.id,
                    client=client,
                    actor_id=actor_id,
                    kind="reform.information_sent",
                    summary=f"E-mail d'information sur la réforme envoyé à {contact.email}"[:300],
                )
            )
        if client.sensitised:
            result.already += 1
        else:
            to_mark.append(client)
    if to_mark:
        Client.objects.filter(id__in=[c.id for c in to_mark]).update(
            sensitised=True, sensitised_at=now, sensitised_by_id=actor_id, updated_at=now
        )
        events.extend(
            ClientEvent(
                firm_id=firm.id,
                client=client,
                actor_id=actor_id,
                kind="reform.sensitised",
                summary="Sensibilisé à la réforme",
                changes={"Sensi. réforme": ["Non", "Oui"]},
            )
            for client in to_mark
        )
        result.marked += len(to_mark)
    ClientEvent.objects.bulk_create(events, batch_size=500)


# --- Mandate ---------------------------------------------------------------------------


def current_mandate(client: Client) -> Mandate | None:
    """The client's latest mandate sent (a draft is not one: see `mandate_draft`)."""
    return client.mandates.filter(firm_id=client.firm_id).issued().first()


def mandate_draft(client: Client) -> Mandate | None:
    """The mandate the firm prepared for `client` and has not sent yet."""
    return client.mandates.filter(firm_id=client.firm_id, state=MandateState.DRAFT).first()


def mandate_and_draft(client: Client) -> tuple[Mandate | None, Mandate | None]:
    """`current_mandate` and `mandate_draft` in one query: a draft is always the client's
    newest mandate (sending one, in one step or from the draft, leaves no draft behind),
    so the two newest rows hold both."""
    newest = list(client.mandates.filter(firm_id=client.firm_id)[:2])
    draft = newest.pop(0) if newest and newest[0].state == MandateState.DRAFT else None
    current = newest[0] if newest and newest[0].state != MandateState.DRAFT else None
    return current, draft


# `principal` not given: looked up. Given (a contact or None): the caller knows it.
UNKNOWN = object()


def mandate_blockers(client: Client, principal: Contact | None | object = UNKNOWN) -> list[str]:
    """Why a mandate cannot be generated for `client` yet (French), empty when it can."""
    blockers = []
    if not client.has_valid_siret:
        blockers.append(MANDATE_NEEDS_SIRET)
    if principal is UNKNOWN:
        principal = principal_contact(client)
    if principal is None:
        blockers.append(MANDATE_NEEDS_PRINCIPAL)
    elif not principal.email:
        blockers.append(MANDATE_NEEDS_EMAIL)
    return blockers


def _check_sendable(client: Client, principal: Contact | None | object = UNKNOWN) -> None:
    """Refuse (French, keyed `mandate`) a mandate the client cannot be sent now."""
    blockers = mandate_blockers(client, principal)
    if blockers:
        raise ValidationError({"mandate": blockers})
    if client.mandate_status == MandateStatus.SIGNED:
        raise ValidationError({"mandate": MANDATE_ALREADY_SIGNED})


def _draft(client: Client, actor, starts_on: date | None) -> Mandate:
    """The mandate *brouillon* generated from the client's and the firm's current data,
    replacing the client's previous draft. `client` is locked by the caller."""
    principal = principal_contact(client)
    _check_sendable(client, principal)
    _draft_discard(client)
    starts_on = starts_on or timezone.localdate()
    mandate = Mandate(
        firm_id=client.firm_id,
        client=client,
        state=MandateState.DRAFT,
        firm_name=client.firm.name,
        client_name=client.name,
        siren=client.siren,
        representative=principal.full_name or principal.email,
        representative_email=principal.email,
        starts_on=starts_on,
        created_by=_user(actor),
    )
    content = mandate_pdf(
        MandateData(
            firm_name=mandate.firm_name,
            client_name=mandate.client_name,
            siren=mandate.siren,
            siret=client.siret,
            representative=mandate.representative,
            representative_email=mandate.representative_email,
            starts_on=starts_on,
            reference=str(mandate.public_id),
        )
    )
    mandate.document.save("mandat.pdf", ContentFile(content), save=False)
    mandate.document_sha256 = hashlib.sha256(content).hexdigest()
    mandate.save()
    return mandate


def _draft_discard(client: Client) -> bool:
    draft = mandate_draft(client)
    if draft is None:
        return False
    document = draft.document
    draft.delete()
    transaction.on_commit(lambda: document.delete(save=False))
    return True


def _dispatch(mandate: Mandate, client: Client, actor, idempotency_key: str = "") -> Mandate:
    """Send the draft `mandate` to its signer: *brouillon → envoyé*. The mandate awaiting
    signature until now, if any, is replaced."""
    previous = current_mandate(client)
    if previous is not None and previous.is_awaiting:
        # A new document replaces the one waiting for signature.
        previous.revoke(by=_user(actor), reason=REPLACED)
    now = timezone.now()
    with mandate.document.storage.open(mandate.document.name, "rb") as handle:
        content = handle.read()  # the file as the collaborator read it
    mandate.state, mandate.sent_at = MandateState.SENT, now
    mandate.save(update_fields=["state", "sent_at"])
    email = mailer.send_mandate(
        mandate=mandate, content=content, actor=actor, idempotency_key=idempotency_key
    )
    mandate.email_id = str(email.pk)
    mandate.save(update_fields=["email_id"])

    before = history.snapshot(client, ["mandate_status"])
    client.mandate_status = MandateStatus.SENT
    client.mandate_sent_at = now
    client.mandate_signed_at = None
    client.save(update_fields=["mandate_status", "mandate_sent_at", "mandate_signed_at"])
    history.record(
        client,
        actor=actor,
        kind="reform.mandate_sent",
        summary=f"Mandat envoyé pour signature à {mandate.representative} "
        f"({mandate.representative_email}), effet au "
        f"{formats.date_format(mandate.starts_on, 'd/m/Y')}",
        changes=history.diff(before, client),
    )
    return mandate


@transaction.atomic
def mandate_prepare(*, client: Client, actor, starts_on: date | None = None) -> Mandate:
    """Generate the mandate PDF as a *brouillon* the collaborator reads before sending it
    (`mandate_draft_send`); it replaces the client's previous draft."""
    client = Client.objects.locked(client)
    mandate = _draft(client, actor, starts_on)
    history.record(
        client,
        actor=actor,
        kind="reform.mandate_drafted",
        summary=f"Brouillon de mandat préparé pour {mandate.representative} "
        f"({mandate.representative_email}), effet au "
        f"{formats.date_format(mandate.starts_on, 'd/m/Y')}",
    )
    return mandate


@transaction.atomic
def mandate_draft_send(*, client: Client, actor) -> Mandate:
    """Send the client's draft as it was read, unless the client's details changed since
    it was prepared (then a new draft is needed). Client: *Mandat envoyé*."""
    client = Client.objects.locked(client)
    draft = mandate_draft(client)
    if draft is None:
        raise ValidationError({"mandate": MANDATE_NO_DRAFT})
    _check_sendable(client)
    changes = mandate_changes(draft, client)
    if changes:
        raise ValidationError({"mandate": MANDATE_DRAFT_STALE.format(changes=", ".join(changes))})
    return _dispatch(draft, client, actor)


@transaction.atomic
def mandate_draft_delete(*, client: Client, actor) -> None:
    client = Client.objects.locked(client)
    if not _draft_discard(client):
        raise ValidationError({"mandate": MANDATE_NO_DRAFT})
    history.record(
        client,
        actor=actor,
        kind="reform.mandate_draft_deleted",
        summary="Brouillon de mandat supprimé",
    )


@transaction.atomic
def mandate_send(
    *, client: Client, actor, starts_on: date | None = None, idempotency_key: str = ""
) -> Mandate:
    """Generate the mandate PDF from the client's and the firm's data and email it to
    the principal contact for signature, in one step (a draft sent at once; the client's
    earlier draft is replaced). Client: *Mandat envoyé*. A campaign names the e-mail
    with `idempotency_key` (vigie.mail.services)."""
    client = Client.objects.locked(client)
    return _dispatch(_draft(client, actor, starts_on), client, actor, idempotency_key)


def _user(actor):
    return actor if actor is not None and actor.is_authenticated else None


def check_signed_file(upload) -> bytes:
    """The uploaded file's bytes if it is a non-empty PDF within the size limit."""
    if upload is None:
        raise ValidationError({"file": FILE_REQUIRED})
    data = upload.read(MAX_SIGNED_SIZE + 1)  # never more, whatever size it claims
    if not data:
        raise ValidationError({"file": FILE_EMPTY})
    if len(data) > MAX_SIGNED_SIZE:
        limit_mb = MAX_SIGNED_SIZE // (1024 * 1024)
        raise ValidationError({"file": FILE_TOO_LARGE.format(limit=limit_mb)})
    if not is_pdf(data):
        raise ValidationError({"file": FILE_NOT_PDF})
    return data


@transaction.atomic
def mandate_upload_signed(*, client: Client, actor, upload) -> Mandate:
    """Store the signed copy the client returned. Client: *Mandat signé* (Télécharger)."""
    data = check_signed_file(upload)
    client = Client.objects.locked(client)
    mandate = current_mandate(client)
    # An expired link does not stop the client from returning a signed paper copy.
    if mandate is None or not (mandate.is_awaiting or mandate.state == MandateState.EXPIRED):
        raise ValidationError({"file": MANDATE_NOT_SENT})
    now = timezone.now()
    mandate.signed_document.save("signe.pdf", ContentFile(data), save=False)
    mandate.signed_size = len(data)
    mandate.state = MandateState.SIGNED
    mandate.signed_at, mandate.signed_by = now, _user(actor)
    mandate.save()
    before = history.snapshot(client, ["mandate_status"])
    client.mandate_status = MandateStatus.SIGNED
    client.mandate_signed_at = now
    client.save(update_fields=["mandate_status", "mandate_signed_at"])
    history.record(
        client,
        actor=actor,
        kind="reform.mandate_signed",
        summary="Mandat signé reçu et déposé",
        changes=history.diff(before, client),
    )
    return mandate


@transaction.atomic
def mandate_revoke(*, client: Client, actor, reason: str) -> Mandate:
    """End the current mandate (sent or signed) for `reason` (required), and tell its
    signer by e-mail. Client: *Mandat révoqué*."""
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise ValidationError({"reason": REVOKE_REASON_REQUIRED})
    client = Client.objects.locked(client)
    mandate = current_mandate(client)
    if mandate is None or mandate.state in (MandateState.REVOKED, MandateState.EXPIRED):
        raise ValidationError({"mandate": MANDATE_NOTHING_TO_REVOKE})
    was_signed = mandate.state == MandateState.SIGNED
    mandate.revoke(by=_user(actor), reason=reason)
    mailer.send_revoked(mandate=mandate, actor=actor)
    before = history.snapshot(client, ["mandate_status"])
    client.mandate_status = MandateStatus.REVOKED
    client.save(update_fields=["mandate_status"])
    history.record(
        client,
        actor=actor,
        kind="reform.mandate_revoked" if was_signed else "reform.mandate_withdrawn",
        summary=f"Mandat révoqué (motif : {reason}) ; le client en est informé par e-mail "
        f"({mandate.representative_email})",
        changes=history.diff(before, client),
    )
    return mandate


def mandate_changes(
    mandate: Mandate | None, client: Client, principal: Contact | None | object = UNKNOWN
) -> list[str]:
    """What the mandate (drafted, sent or signed) says that the client's details no longer
    do: the labels of the changed items, empty when nothing changed."""
    if mandate is None or mandate.state not in (*AWAITING, MandateState.SIGNED, MandateState.DRAFT):
        return []
    if principal is UNKNOWN:
        principal = principal_contact(client)
    changed = []
    if mandate.client_name != client.name:
        changed.append("raison sociale")
    if client.has_valid_siret and mandate.siren != client.siren:
        changed.append("SIREN")
    if principal is not None and principal.email:
        if mandate.representative != (principal.full_name or principal.email):
            changed.append("représentant")
        elif mandate.representative_email.lower() != principal.email.lower():
            changed.append("adresse e-mail du représentant")
    return changed


@transaction.atomic
def mandate_regenerate(*, client: Client, actor) -> Mandate:
    """The client's details changed since its mandate was generated: revoke it (« remplacé »,
    its signer told) and send a new one from the current details, in one go."""
    client = Client.objects.locked(client)
    if not mandate_changes(current_mandate(client), client):
        raise ValidationError({"mandate": MANDATE_UNCHANGED})
    blockers = mandate_blockers(client)
    if blockers:
        raise ValidationError({"mandate": blockers})
    mandate_revoke(client=client, actor=actor, reason=REPLACED)
    client.refresh_from_db()
    return mandate_send(client=client, actor=actor)


# --- PA registration -------------------------------------------------------------------


@transaction.atomic
def client_pa_update(
    *,
    client: Client,
    actor,
    status: str,
    pa_name: str = "",
    registered_at: date | None = None,
    summary_prefix: str = "",
) -> Client:
    """Record the client's registration with a *plateforme agréée*, by hand:
    *Pas dans l'annuaire* → *Invitation envoyée* → registered (which PA, since when)."""
    pa_name = " ".join((pa_name or "").split())[:100]
    errors: dict[str, str] = {}
    if status not in PaStatus.values:
        errors["pa_status"] = PA_STATUS_UNKNOWN
    if status == PaStatus.REGISTERED:
        if not pa_name:
            errors["pa_name"] = PA_NAME_REQUIRED
        if registered_at is None:
            errors["pa_registered_at"] = PA_DATE_REQUIRED
        elif registered_at > timezone.localdate():
            errors["pa_registered_at"] = PA_DATE_FUTURE
    if errors:
        raise ValidationError(errors)
    client = Client.objects.locked(client)
    fields = ["pa_status", "pa_name", "pa_registered_at"]
    before = history.snapshot(client, fields)
    was_registered = client.pa_status == PaStatus.REGISTERED
    client.pa_status = status
    if status == PaStatus.REGISTERED:
        client.pa_name, client.pa_registered_at = pa_name, registered_at
    else:
        client.pa_name, client.pa_registered_at = "", None
    changes = history.diff(before, client)
    if not changes:
        return client
    client.save(update_fields=fields)
    if status == PaStatus.REGISTERED:
        kind = "reform.pa_updated" if was_registered else "reform.pa_registered"
        when = formats.date_format(registered_at, "d/m/Y")
        summary = f"Inscrit auprès de la plateforme agréée {pa_name} depuis le {when}"
    elif was_registered:
        kind, summary = (
            "reform.pa_unregistered",
            f"Inscription PA : {client.get_pa_status_display()}",
        )
    elif status == PaStatus.INVITED:
        kind, summary = "reform.pa_invited", "Inscription PA : invitation envoyée"
    else:
        kind, summary = "reform.pa_absent", "Inscription PA : pas dans l'annuaire"
    history.record(
        client, actor=actor, kind=kind, summary=summary_prefix + summary, changes=changes
    )
    return client


# --- The firm's information email ------------------------------------------------------


@transaction.atomic
def reform_template_save(*, firm, actor, subject: str, body: str) -> ReformEmailTemplate:
    errors = {}
    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    if not subject:
        errors["subject"] = TEMPLATE_SUBJECT_REQUIRED
    if not body:
        errors["body"] = TEMPLATE_BODY_REQUIRED
    if errors:
        raise ValidationError(errors)
    template, _ = ReformEmailTemplate.objects.update_or_create(
        firm=firm,
        defaults={"subject": subject[:200], "body": body, "updated_by": _user(actor)},
    )
    return template
