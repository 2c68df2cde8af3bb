"""Shine invitations: create (a draft), send (by Vigie or by the collaborator's own
mail app), follow the outbox, resend, cancel, accept; a firm's test account; bulk.

One Shine account per email address across all firms: an address held by an
invitation that is pending, sent or activated (of any firm) cannot be invited again.
The check comes first; the database constraint `invitation_one_live_per_email`
settles a race, and both give the same message, which names no firm.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from vigie.accounts.models import User
from vigie.clients import history
from vigie.clients.models import Client, ClientEvent, Contact, ShineStatus
from vigie.clients.readiness import principal_of, shine_blockers
from vigie.equipment.models import Equipment, Slot, Solution
from vigie.invitations import emails, tasks
from vigie.invitations.models import (
    EMAIL_HOLDING_STATUSES,
    BillingMode,
    BulkInvitation,
    BulkStatus,
    Invitation,
    Plan,
    SendMethod,
    Status,
)
from vigie.invitations.tokens import make_token
from vigie.lib.site import site_url
from vigie.lib.validators import normalize_email
from vigie.mail import services as mail
from vigie.mail.models import EmailStatus, OutboundEmail
from vigie.mail.signals import email_status_changed
from vigie.partners.services import (
    partner_invitation_cancel_queue,
    partner_invitation_queue,
    partner_invitations_queue_many,
)

EMAIL_TAKEN = (
    "Cette adresse e-mail est déjà utilisée pour un compte Shine. "
    "Utilisez une autre adresse ou un alias (client+alias1@entreprise.com)."
)
ALREADY_INVITED = "Ce client a déjà une invitation Shine en cours."
COLLABORATOR_ADDRESS = (
    "Merci de ne pas utiliser une adresse e-mail déjà employée pour vous connecter à "
    "votre outil de production ou à la console. Choisissez une autre adresse ou créez-en "
    "une spécifiquement pour ce test."
)
NOT_SENDABLE = "Cette invitation a déjà été envoyée."
BODY_REQUIRED = "Le texte du message est obligatoire."
MAILTO_LIMIT = 1800

SHINE_STATUS = {
    Status.DRAFT: ShineStatus.DRAFT,
    Status.PENDING: ShineStatus.PENDING,
    Status.SENT: ShineStatus.SENT,
    Status.ACTIVATED: ShineStatus.ACTIVATED,
    Status.FAILED: ShineStatus.FAILED,
    Status.CANCELLED: ShineStatus.CANCELLED,
    Status.EXPIRED: ShineStatus.EXPIRED,
}


# --- Reads ---------------------------------------------------------------------------


def email_is_taken(email: str, *, exclude: Invitation | None = None) -> bool:
    taken = Invitation.objects.annotate(email_lower=Lower("email")).filter(
        email_lower=email.strip().lower(), status__in=EMAIL_HOLDING_STATUSES
    )
    if exclude is not None and exclude.pk:
        taken = taken.exclude(pk=exclude.pk)
    return taken.exists()


def taken_emails(emails_: list[str]) -> set[str]:
    """Which of these addresses (lower-cased) are held by a live invitation."""
    lowered = {e.lower() for e in emails_ if e}
    found = set()
    chunk = 500
    items = sorted(lowered)
    for i in range(0, len(items), chunk):
        found.update(
            Invitation.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=items[i : i + chunk], status__in=EMAIL_HOLDING_STATUSES)
            .values_list("email_lower", flat=True)
        )
    return found


_ALIAS_RE = re.compile(r"^(?P<base>[^+@]+)(?:\+[^@]*)?@(?P<domain>.+)$")


def next_free_alias(email: str, *, client: Client | None = None) -> str:
    """`client@entreprise.com` → the first `client+aliasN@entreprise.com` not in use."""
    match = _ALIAS_RE.match(email.strip().lower())
    if match is None:
        return ""
    base, domain = match["base"], match["domain"]
    candidates = [f"{base}+alias{n}@{domain}" for n in range(1, 101)]
    taken = taken_emails(candidates)
    if client is not None:
        taken |= {
            e.lower()
            for e in Contact.objects.filter(client=client, email__in=candidates).values_list(
                "email", flat=True
            )
        }
    return next((c for c in candidates if c not in taken), "")


def live_invitation(client: Client) -> Invitation | None:
    return (
        Invitation.objects.filter(client=client, status__in=EMAIL_HOLDING_STATUSES)
        .order_by("-created_at")
        .first()
    )


def latest_invitation(client: Client) -> Invitation | None:
    """The client's latest invitation, with what its status line shows: who sent it and
    the partner link."""
    return (
        client.invitations.filter(firm_id=client.firm_id)
        .select_related("sent_by", "partner")
        .first()
    )


def invitation_link(invitation: Invitation) -> str:
    path = reverse("invitation_landing", args=[make_token(invitation)])
    return site_url(path)


def is_prepared_mailto(invitation: Invitation | None) -> bool:
    """« J'envoie » was clicked: the text is in the collaborator's mail app, and the
    invitation waits (a draft) for « J'ai envoyé l'e-mail »."""
    return (
        invitation is not None
        and invitation.status == Status.DRAFT
        and invitation.send_method == SendMethod.MAILTO
    )


def mailto_context(invitation: Invitation) -> dict:
    """What the « J'envoie » step shows: the link that opens the mail app, and the text
    to copy when it is too long for one."""
    url = mailto_url(invitation)
    return {
        "mailto": url,
        "too_long": len(url) > MAILTO_LIMIT,
        "mailto_limit": MAILTO_LIMIT,
        "copy_text": f"{invitation.subject}\n\n{invitation.body}",
    }


def mailto_url(invitation: Invitation) -> str:
    """`mailto:` with every part percent-encoded (RFC 6068: spaces as %20, CRLF lines)."""
    body = invitation.body.replace("\r\n", "\n").replace("\n", "\r\n")
    return (
        f"mailto:{quote(invitation.email, safe='@+')}"
        f"?subject={quote(invitation.subject, safe='')}&body={quote(body, safe='')}"
    )


# --- Workflows -----------------------------------------------------------------------


def _sync_client(client: Client | None, status: str) -> None:
    if client is None:
        return
    Client.objects.filter(pk=client.pk).update(
        shine_status=SHINE_STATUS[status], updated_at=timezone.now()
    )
    client.shine_status = SHINE_STATUS[status]


def _check_ready(client: Client) -> Contact:
    contacts = list(client.contacts.all())
    blockers = shine_blockers(client, contacts)
    if blockers:
        raise ValidationError([str(b) for b in blockers])
    return principal_of(contacts)


@transaction.atomic
def invitation_create(*, client: Client, actor, plan: str, billing_mode: str) -> Invitation:
    """« Activer »: a draft invitation with the firm's email for that plan, pre-filled."""
    if plan not in Plan.values or billing_mode not in BillingMode.values:
        raise ValidationError("Choisissez un mode de facturation et un plan.")
    principal = _check_ready(client)
    if live_invitation(client) is not None:
        raise ValidationError(ALREADY_INVITED)
    if email_is_taken(principal.email):
        raise ValidationError({"email": EMAIL_TAKEN})
    # One draft per client at a time: a new « Activer » replaces an unsent one.
    Invitation.objects.filter(client=client, status=Status.DRAFT).update(
        status=Status.CANCELLED, updated_at=timezone.now()
    )
    invitation = Invitation.objects.create(
        firm_id=client.firm_id,
        client=client,
        contact=principal,
        email=principal.email,
        plan=plan,
        billing_mode=billing_mode,
        created_by=actor,
    )
    _prefill(invitation, actor)
    return invitation


def _prefill(invitation: Invitation, actor) -> None:
    subject_tpl, body_tpl = emails.firm_template(invitation.firm, invitation.plan)
    values = emails.values_for(
        firm=invitation.firm,
        client=invitation.client,
        contact=invitation.contact,
        actor=actor,
        plan=invitation.plan,
        billing_mode=invitation.billing_mode,
        link=invitation_link(invitation),
    )
    invitation.subject = emails.fill(subject_tpl, values)[:200].replace("\n", " ")
    invitation.body = emails.fill(body_tpl, values)
    invitation.save(update_fields=["subject", "body", "updated_at"])


def _hold_email(invitation: Invitation, fields: list[str]) -> None:
    """Save a change that makes the invitation hold its address; a race is a refusal."""
    if email_is_taken(invitation.email, exclude=invitation):
        raise ValidationError({"email": EMAIL_TAKEN})
    try:
        with transaction.atomic():
            invitation.save(update_fields=[*fields, "updated_at"])
    except IntegrityError:
        raise ValidationError({"email": EMAIL_TAKEN}) from None


def _equip_shine(invitation: Invitation, actor) -> None:
    client = invitation.client
    if client is None:
        return
    shine = Solution.objects.get(slug="shine")
    label = Plan(invitation.plan).label
    _drop_not_concerned([client.pk])
    for slot in (Slot.ACHAT, Slot.VENTE):
        Equipment.objects.update_or_create(
            client=client,
            slot=slot,
            solution=shine,
            defaults={"firm_id": client.firm_id, "plan": label, "created_by": actor},
        )


def _drop_not_concerned(client_ids: list[int]) -> None:
    """Shine fills Achat and Vente: « Non concerné » no longer holds there."""
    Equipment.objects.filter(
        client_id__in=client_ids, slot__in=[Slot.ACHAT, Slot.VENTE], solution__slug="non-concerne"
    ).delete()


def link_in(invitation: Invitation, text: str) -> str | None:
    """The invitation's own link already in `text` (the collaborator kept it), if any."""
    match = re.search(rf"\S*/invitations/{invitation.public_id.hex}-[\w-]+/", text)
    return match.group(0) if match else None


def carried_link(invitation: Invitation) -> str:
    """The link the invitation's e-mails carry (see Invitation.link)."""
    return invitation.link or invitation_link(invitation)


def _queue_email(invitation: Invitation, actor, idempotency_key: str = "") -> OutboundEmail:
    body = invitation.body
    kept = invitation.link and invitation.link in body
    link = invitation.link if kept else link_in(invitation, body)
    if not link:
        link = carried_link(invitation)
        body = f"{body.rstrip()}\n\n{link}\n"
    return mail.email_queue(
        firm=invitation.firm,
        client=invitation.client,
        kind="invitation",
        to=invitation.email,
        subject=invitation.subject,
        text=body,
        html=emails.render_html(
            body=body, link=link, firm_name=invitation.firm.name, plan=invitation.plan
        ),
        reply_to=getattr(actor, "email", "") or "",
        from_name=invitation.firm.name,
        idempotency_key=idempotency_key,
    )


def _check_text(subject: str, body: str) -> str:
    errors = {}
    try:
        subject = mail.clean_subject(subject)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not body.strip():
        errors["body"] = [BODY_REQUIRED]
    if errors:
        raise ValidationError(errors)
    return subject


@transaction.atomic
def invitation_prepare_mailto(
    *, invitation: Invitation, actor, subject: str, body: str
) -> Invitation:
    """« J'envoie »: keep the edited text for the collaborator's own mail app. Nothing
    is sent yet: the invitation stays a draft until « J'ai envoyé l'e-mail »."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != Status.DRAFT:
        raise ValidationError(NOT_SENDABLE)
    subject = _check_text(subject, body)
    if invitation.client is not None:
        _check_ready(invitation.client)
    if email_is_taken(invitation.email, exclude=invitation):
        raise ValidationError({"email": EMAIL_TAKEN})
    invitation.subject, invitation.body = subject, body.replace("\r\n", "\n")
    invitation.send_method = SendMethod.MAILTO
    invitation.save(update_fields=["subject", "body", "send_method", "updated_at"])
    return invitation


@transaction.atomic
def invitation_send(
    *,
    invitation: Invitation,
    actor,
    method: str,
    subject: str,
    body: str,
    link: str = "",
    idempotency_key: str = "",
) -> Invitation:
    """« Envoyer par Vigie » (the outbox), or the collaborator's « J'ai envoyé
    l'e-mail » after « J'envoie » (recorded as sent by the firm, now). `link`: what the
    e-mail carries instead of the invitation's own link, one that leads to it (a
    campaign's personal link); a campaign names its e-mail with `idempotency_key`
    (vigie.mail.services)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status not in (Status.DRAFT, Status.FAILED):
        raise ValidationError(NOT_SENDABLE)
    if method not in SendMethod.values:
        raise ValidationError("Choisissez comment envoyer l'invitation.")
    subject = _check_text(subject, body)
    if invitation.client is not None:
        _check_ready(invitation.client)
    invitation.subject, invitation.body = subject, body.replace("\r\n", "\n")
    invitation.link = link or invitation.link
    invitation.send_method = method
    invitation.sent_by = actor
    invitation.attempts, invitation.last_error, invitation.next_attempt_at = 0, "", None
    if method == SendMethod.MAILTO:
        invitation.status, invitation.sent_at = Status.SENT, timezone.now()
    else:
        invitation.status = Status.PENDING
    fields = ["subject", "body", "link", "send_method", "sent_by", "status", "sent_at"]
    _hold_email(invitation, [*fields, "attempts", "last_error", "next_attempt_at"])
    if method == SendMethod.VIGIE:
        invitation.outbound = _queue_email(invitation, actor, idempotency_key)
        invitation.message_id = invitation.outbound.message_id
        invitation.next_attempt_at = invitation.outbound.next_attempt_at
        invitation.save(update_fields=["outbound", "message_id", "next_attempt_at"])
    _equip_shine(invitation, actor)
    _sync_client(invitation.client, invitation.status)
    partner_invitation_queue(invitation)
    if invitation.client is not None:
        label = SendMethod(method).label
        how = label[0].lower() + label[1:]
        history.record(
            invitation.client,
            actor=actor,
            kind="invitation.sent",
            summary=f"Invitation Shine {Plan(invitation.plan).label} à {invitation.email} ({how})",
            changes={
                "Shine": ["", Plan(invitation.plan).label],
                "Mode de facturation": ["", BillingMode(invitation.billing_mode).label],
                "Objet": ["", invitation.subject],
                "Message": ["", invitation.body],
            },
        )
    return invitation


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor) -> Invitation:
    """Send a failed invitation again with the same text (a fresh series of attempts)."""
    return invitation_send(
        invitation=invitation,
        actor=actor,
        method=SendMethod.VIGIE,
        subject=invitation.subject,
        body=invitation.body,
    )


@transaction.atomic
def invitation_cancel(*, invitation: Invitation, actor) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status not in (Status.DRAFT, Status.PENDING, Status.SENT, Status.FAILED):
        raise ValidationError("Cette invitation ne peut plus être annulée.")
    invitation.status = Status.CANCELLED
    invitation.next_attempt_at = None
    invitation.save(update_fields=["status", "next_attempt_at", "updated_at"])
    partner_invitation_cancel_queue(invitation)
    if invitation.outbound_id:
        # Not sent yet: it never will be.
        OutboundEmail.objects.filter(
            pk=invitation.outbound_id, status__in=[EmailStatus.QUEUED, EmailStatus.FAILED]
        ).update(status=EmailStatus.FAILED, last_error="Invitation annulée", next_attempt_at=None)
    if invitation.client is not None:
        Equipment.objects.filter(client=invitation.client, solution__slug="shine").delete()
        _sync_client(invitation.client, Status.CANCELLED)
        history.record(
            invitation.client,
            actor=actor,
            kind="invitation.cancelled",
            summary=f"Invitation Shine annulée ({invitation.email})",
            changes={"Shine": [Plan(invitation.plan).label, ""]},
        )
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation) -> Invitation:
    """The partner validated the account: the invitation is used up (its links die)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise ValidationError("Ce lien d'invitation n'est plus valide.")
    invitation.status = Status.ACTIVATED
    invitation.activated_at = timezone.now()
    _hold_email(invitation, ["status", "activated_at"])
    _sync_client(invitation.client, Status.ACTIVATED)
    if invitation.client is not None:
        history.record(
            invitation.client,
            actor=None,
            kind="invitation.activated",
            summary=f"Compte Shine activé ({invitation.email})",
            changes={"Shine": ["", "Activé"]},
        )
    return invitation


@receiver(email_status_changed, dispatch_uid="invitations.follow_outbox")
def _follow_outbox(sender, email: OutboundEmail, **kwargs) -> None:
    """Keep the invitation (and the client's Shine status) in step with its email."""
    if email.kind != "invitation":
        return
    invitation = Invitation.objects.filter(outbound=email).select_related("client").first()
    if invitation is None or invitation.status not in (Status.PENDING, Status.FAILED):
        return
    invitation.attempts = email.attempts
    invitation.last_error = email.last_error[:300]
    invitation.next_attempt_at = email.next_attempt_at
    if email.status == EmailStatus.SENT:
        invitation.status, invitation.sent_at = Status.SENT, email.sent_at
    elif email.status == EmailStatus.FAILED:
        invitation.status = Status.FAILED
    else:
        invitation.status = Status.PENDING
    invitation.save(
        update_fields=[
            "status",
            "sent_at",
            "attempts",
            "last_error",
            "next_attempt_at",
            "updated_at",
        ]
    )
    _sync_client(invitation.client, invitation.status)
    if invitation.client is not None and email.status in (EmailStatus.SENT, EmailStatus.FAILED):
        history.record(
            invitation.client,
            actor=None,
            kind=f"invitation.{'delivered' if email.status == EmailStatus.SENT else 'failed'}",
            summary=(
                f"Invitation Shine envoyée à {invitation.email}"
                if email.status == EmailStatus.SENT
                else f"Échec d'envoi de l'invitation Shine à {invitation.email} : {email.last_error}"
            ),
        )


# --- A firm's own test account ---------------------------------------------------------


@transaction.atomic
def firm_test_account_invite(*, firm, actor, email: str) -> Invitation:
    """A free Shine Easy for the firm itself, sent by Vigie to an address that is not
    any collaborator's sign-in address (the guide's « Attention »)."""
    try:
        email = normalize_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from None
    if not email:
        raise ValidationError({"email": "L'adresse e-mail est obligatoire."})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": COLLABORATOR_ADDRESS})
    if email_is_taken(email):
        raise ValidationError({"email": EMAIL_TAKEN})
    invitation = Invitation.objects.create(
        firm=firm,
        client=None,
        email=email,
        plan=Plan.EASY,
        billing_mode=BillingMode.SHINE,
        created_by=actor,
    )
    _prefill(invitation, actor)
    return invitation_send(
        invitation=invitation,
        actor=actor,
        method=SendMethod.VIGIE,
        subject=invitation.subject,
        body=invitation.body,
    )


# --- Bulk ----------------------------------------------------------------------------


def preflight(clients: list[Client]) -> tuple[list[Client], list[tuple[Client, str]]]:
    """Split a selection into (ready, [(blocked, French reason)]). Clients must come
    with their contacts prefetched; two queries for any number of clients."""
    principals = {}
    blocked: list[tuple[Client, str]] = []
    candidates = []
    for client in clients:
        contacts = list(client.contacts.all())
        blockers = shine_blockers(client, contacts)
        if blockers:
            blocked.append((client, " ; ".join(blockers)))
        else:
            principals[client.pk] = principal_of(contacts).email
            candidates.append(client)
    live = set(
        Invitation.objects.filter(
            client__in=[c.pk for c in candidates], status__in=EMAIL_HOLDING_STATUSES
        ).values_list("client_id", flat=True)
    )
    taken = taken_emails(list(principals.values()))
    ready, seen = [], set()
    for client in candidates:
        email = principals[client.pk].lower()
        if client.pk in live:
            blocked.append((client, ALREADY_INVITED))
        elif email in taken or email in seen:
            blocked.append((client, "Adresse e-mail déjà utilisée pour un compte Shine"))
        else:
            seen.add(email)
            ready.append(client)
    return ready, blocked


@transaction.atomic
def bulk_invitation_start(
    *, firm, actor, clients: list[Client], plan: str, billing_mode: str, subject: str, body: str
) -> BulkInvitation:
    """Check everything, store the run, and let the worker invite (returns at once)."""
    errors = {}
    if plan not in Plan.values:
        errors["plan"] = ["Choisissez un plan."]
    if billing_mode not in BillingMode.values:
        errors["billing_mode"] = ["Choisissez un mode de facturation."]
    try:
        subject = mail.clean_subject(subject)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    subject_max = BulkInvitation._meta.get_field("subject").max_length
    if len(subject) > subject_max:
        errors["subject"] = [f"L'objet ne doit pas dépasser {subject_max} caractères."]
    if not body.strip():
        errors["body"] = [BODY_REQUIRED]
    if not clients:
        errors["__all__"] = ["Aucun client prêt à inviter dans cette sélection."]
    if errors:
        raise ValidationError(errors)
    bulk = BulkInvitation.objects.create(
        firm=firm,
        created_by=actor,
        plan=plan,
        billing_mode=billing_mode,
        subject=subject,
        body=body.replace("\r\n", "\n"),
        client_ids=[c.pk for c in clients],
        total=len(clients),
    )

    transaction.on_commit(lambda: tasks.run_bulk_invitation.enqueue(bulk.pk))
    return bulk


BULK_CHUNK = 100


def bulk_invitation_run(bulk_id: int) -> BulkInvitation:
    """Invite each client of the run, chunk by chunk (each chunk one transaction).
    Safe to run again: clients already invited by this run are skipped."""
    bulk = BulkInvitation.objects.select_related("firm", "created_by").get(pk=bulk_id)
    if bulk.status == BulkStatus.DONE:
        return bulk
    done_ids = set(Invitation.objects.filter(bulk=bulk).values_list("client_id", flat=True)) | {
        int(k) for k in bulk.skipped_reasons.get("_ids", [])
    }
    todo = [pk for pk in bulk.client_ids if pk not in done_ids]
    actor = bulk.created_by
    for start in range(0, len(todo), BULK_CHUNK):
        ids = todo[start : start + BULK_CHUNK]
        with transaction.atomic():
            # A requeued run may overlap one taken for dead: the lock makes them take
            # turns, and each chunk skips the clients the other has done meanwhile.
            locked = BulkInvitation.objects.select_for_update().get(pk=bulk.pk)
            bulk.done, bulk.skipped = locked.done, locked.skipped
            bulk.skipped_reasons = locked.skipped_reasons
            taken = set(
                Invitation.objects.filter(bulk=bulk, client_id__in=ids).values_list(
                    "client_id", flat=True
                )
            ) | {int(k) for k in locked.skipped_reasons.get("_ids", [])}
            ids = [pk for pk in ids if pk not in taken]
            if not ids:
                continue
            clients = list(
                Client.objects.for_firm(bulk.firm)
                .filter(pk__in=ids)
                .select_related("firm")
                .prefetch_related("contacts")
            )
            ready, blocked = preflight(clients)
            done = 0
            try:
                with transaction.atomic():
                    _bulk_invite_chunk(bulk, ready, actor)
                done = len(ready)
            except (IntegrityError, ValidationError):
                # An address was taken meanwhile: one by one, so the others still go.
                for client in ready:
                    try:
                        with transaction.atomic():
                            _bulk_invite_one(bulk, client, actor)
                        done += 1
                    except ValidationError as exc:
                        blocked.append((client, " ; ".join(exc.messages)))
            missing = set(ids) - {c.pk for c in clients}
            reasons = dict(bulk.skipped_reasons)
            skipped_ids = list(reasons.pop("_ids", []))
            for client, reason in blocked:
                reasons[client.code] = reason
                skipped_ids.append(client.pk)
            skipped_ids.extend(missing)
            reasons["_ids"] = skipped_ids
            bulk.skipped_reasons = reasons
            bulk.done += done
            bulk.skipped += len(blocked) + len(missing)
            bulk.save(update_fields=["done", "skipped", "skipped_reasons"])
    bulk.status = BulkStatus.DONE
    bulk.finished_at = timezone.now()
    bulk.save(update_fields=["status", "finished_at"])
    return bulk


BULK_LEASE = 10 * 60


def bulk_invitations_sweep(*, now=None) -> int:
    """Requeue the bulk runs whose worker died: the task backend never retries a task
    left RUNNING, so a run with no waiting task and no task started within the lease
    (settings.BULK_INVITATION_LEASE seconds) is put back in the queue. Returns how many."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    lease = timedelta(seconds=getattr(settings, "BULK_INVITATION_LEASE", BULK_LEASE))
    running = set(
        BulkInvitation.objects.filter(
            status=BulkStatus.RUNNING, created_at__lte=now - lease
        ).values_list("pk", flat=True)
    )
    if not running:
        return 0
    alive = set()
    waiting = DBTaskResult.objects.filter(
        task_path=tasks.run_bulk_invitation.module_path, status__in=["READY", "RUNNING"]
    ).values_list("status", "started_at", "args_kwargs")
    for status, started_at, args_kwargs in waiting:
        if status == "READY" or (started_at is not None and started_at > now - lease):
            alive.update((args_kwargs or {}).get("args", [])[:1])
    dead = sorted(running - alive)
    for pk in dead:
        tasks.run_bulk_invitation.enqueue(pk)
    return len(dead)


def _bulk_invite_chunk(bulk: BulkInvitation, clients: list[Client], actor) -> None:
    """The same as `_bulk_invite_one` for each client, in a few statements."""
    if not clients:
        return
    shine = Solution.objects.get(slug="shine")
    now = timezone.now()
    principals = [principal_of(c.contacts.all()) for c in clients]
    invitations = [
        Invitation(
            firm_id=client.firm_id,
            client=client,
            contact=principal,
            email=principal.email,
            plan=bulk.plan,
            billing_mode=bulk.billing_mode,
            status=Status.PENDING,
            send_method=SendMethod.VIGIE,
            created_by=actor,
            sent_by=actor,
            bulk=bulk,
        )
        for client, principal in zip(clients, principals, strict=True)
    ]
    Invitation.objects.bulk_create(invitations)
    items = []
    for invitation, client, principal in zip(invitations, clients, principals, strict=True):
        link = invitation_link(invitation)
        values = emails.values_for(
            firm=bulk.firm,
            client=client,
            contact=principal,
            actor=actor,
            plan=bulk.plan,
            billing_mode=bulk.billing_mode,
            link=link,
        )
        invitation.subject = emails.fill(bulk.subject, values)[:200].replace("\n", " ")
        invitation.body = emails.fill(bulk.body, values)
        text = invitation.body
        if link not in text:
            text = f"{text.rstrip()}\n\n{link}\n"
        items.append(
            {
                "firm": bulk.firm,
                "client": client,
                "kind": "invitation",
                "to": invitation.email,
                "subject": invitation.subject,
                "text": text,
                "html": emails.render_html(
                    body=text, link=link, firm_name=bulk.firm.name, plan=bulk.plan
                ),
                "reply_to": getattr(actor, "email", "") or "",
                "from_name": bulk.firm.name,
            }
        )
    outbound = mail.email_queue_many(items)
    for invitation, email in zip(invitations, outbound, strict=True):
        invitation.outbound = email
        invitation.message_id = email.message_id
        invitation.next_attempt_at = email.next_attempt_at
    Invitation.objects.bulk_update(
        invitations, ["subject", "body", "outbound", "message_id", "next_attempt_at"]
    )
    partner_invitations_queue_many(invitations)
    label = Plan(bulk.plan).label
    _drop_not_concerned([c.pk for c in clients])
    Equipment.objects.bulk_create(
        [
            Equipment(
                firm_id=c.firm_id, client=c, solution=shine, slot=slot, plan=label, created_by=actor
            )
            for c in clients
            for slot in (Slot.ACHAT, Slot.VENTE)
        ],
        ignore_conflicts=True,
    )
    Client.objects.filter(pk__in=[c.pk for c in clients]).update(
        shine_status=ShineStatus.PENDING, updated_at=now
    )
    ClientEvent.objects.bulk_create(
        [
            ClientEvent(
                firm_id=c.firm_id,
                client=c,
                actor=actor,
                kind="invitation.sent",
                summary=f"Invitation Shine {label} à {i.email} (envoyée par Vigie, envoi groupé)"[
                    :300
                ],
                changes={
                    "Shine": ["", label],
                    "Mode de facturation": ["", BillingMode(bulk.billing_mode).label],
                    "Objet": ["", i.subject],
                    "Message": ["", i.body],
                },
            )
            for c, i in zip(clients, invitations, strict=True)
        ]
    )


def _bulk_invite_one(bulk: BulkInvitation, client: Client, actor) -> Invitation:
    principal = principal_of(client.contacts.all())
    invitation = Invitation.objects.create(
        firm_id=client.firm_id,
        client=client,
        contact=principal,
        email=principal.email,
        plan=bulk.plan,
        billing_mode=bulk.billing_mode,
        created_by=actor,
        bulk=bulk,
    )
    values = emails.values_for(
        firm=bulk.firm,
        client=client,
        contact=principal,
        actor=actor,
        plan=bulk.plan,
        billing_mode=bulk.billing_mode,
        link=invitation_link(invitation),
    )
    subject = emails.fill(bulk.subject, values)[:200].replace("\n", " ")
    body = emails.fill(bulk.body, values)
    invitation.subject, invitation.body = subject, body
    invitation.save(update_fields=["subject", "body"])
    return invitation_send(
        invitation=invitation, actor=actor, method=SendMethod.VIGIE, subject=subject, body=body
    )
