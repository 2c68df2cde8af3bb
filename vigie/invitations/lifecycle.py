"""After sending: reminders, expiry, and voiding an invitation whose address changed.

Run periodically by `vigie sweep` (`invitations_lifecycle`). Every step claims its
invitation with a conditional UPDATE before queueing anything, so two sweeps running at
once (or a sweep re-run after a crash) remind at most once per step.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from vigie.clients import history
from vigie.firms.models import Firm
from vigie.invitations import emails
from vigie.invitations.models import Invitation, Plan, Status
from vigie.invitations.services import (
    SHINE_STATUS,
    _sync_client,
    carried_link,
    invitation_cancel,
)
from vigie.mail import services as mail
from vigie.partners.services import partner_invitation_cancel_queue

OPEN_AFTER_SENDING = [Status.PENDING, Status.SENT, Status.FAILED]
REMIND_SUBJECT = "Rappel : {subject}"
REMIND_INTRO = (
    "Bonjour,\n\nNous revenons vers vous au sujet de votre compte Shine, qui n'est pas encore "
    "activé. Il vous suffit de suivre ce lien pour le valider en toute autonomie :\n{link}\n\n"
    "Pour rappel, voici notre message :\n\n"
)
NOT_REMINDABLE = "Seule une invitation envoyée et pas encore activée peut être relancée."
EMAIL_CHANGED = (
    "L'invitation Shine en attente pour l'ancienne adresse ({email}) a été annulée : "
    "invitez de nouveau le client avec sa nouvelle adresse."
)


def _queue_reminder(
    invitation: Invitation, actor, link: str = "", idempotency_key: str = ""
) -> None:
    link = link or carried_link(invitation)
    text = REMIND_INTRO.format(link=link) + invitation.body
    mail.email_queue(
        firm=invitation.firm,
        client=invitation.client,
        kind="invitation_reminder",
        to=invitation.email,
        subject=REMIND_SUBJECT.format(subject=invitation.subject)[:200],
        text=text,
        html=emails.render_html(
            body=text, link=link, firm_name=invitation.firm.name, plan=invitation.plan
        ),
        reply_to=getattr(actor or invitation.sent_by, "email", "") or "",
        from_name=invitation.firm.name,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def invitation_remind(
    *, invitation: Invitation, actor, link: str = "", idempotency_key: str = ""
) -> Invitation:
    """« Relancer »: a reminder now, by a collaborator (`link`: one leading to the
    invitation's own, as `invitation_send` takes it; a campaign's round names its e-mail
    with `idempotency_key`, see vigie.mail.services)."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("firm", "client", "sent_by")
        .get(pk=invitation.pk)
    )
    if invitation.status != Status.SENT:
        raise ValidationError(NOT_REMINDABLE)
    invitation.last_reminder_at = timezone.now()
    invitation.save(update_fields=["last_reminder_at", "updated_at"])
    _queue_reminder(invitation, actor, link, idempotency_key)
    if invitation.client is not None:
        history.record(
            invitation.client,
            actor=actor,
            kind="invitation.reminded",
            summary=f"Relance de l'invitation Shine envoyée à {invitation.email}",
        )
    return invitation


def _remind_due(firm: Firm, now) -> int:
    count = 0
    steps = [(1, firm.first_reminder_days), (2, firm.second_reminder_days)]
    for step, days in reversed(steps):  # the latest due step first: one email, both steps done
        due = Invitation.objects.filter(
            firm=firm,
            status=Status.SENT,
            reminders_sent__lt=step,
            sent_at__lte=now - timedelta(days=days),
        ).values_list("pk", flat=True)
        for pk in list(due):
            with transaction.atomic():
                claimed = Invitation.objects.filter(
                    pk=pk, status=Status.SENT, reminders_sent__lt=step
                ).update(reminders_sent=step, last_reminder_at=now)
                if not claimed:
                    continue
                invitation = Invitation.objects.select_related("firm", "client", "sent_by").get(
                    pk=pk
                )
                _queue_reminder(
                    invitation, None, idempotency_key=f"invitation:{pk}:reminder:{step}"
                )
                if invitation.client is not None:
                    history.record(
                        invitation.client,
                        actor=None,
                        kind="invitation.reminded",
                        summary=f"Relance automatique n° {step} de l'invitation Shine ({invitation.email})",
                    )
                count += 1
    return count


def invitation_expire(*, invitation: Invitation) -> bool:
    """Expire an open invitation. Returns False when it was no longer open."""
    with transaction.atomic():
        claimed = Invitation.objects.filter(pk=invitation.pk, status__in=OPEN_AFTER_SENDING).update(
            status=Status.EXPIRED, next_attempt_at=None, updated_at=timezone.now()
        )
        if not claimed:
            return False
        invitation.status = Status.EXPIRED
        _sync_client(invitation.client, Status.EXPIRED)
        partner_invitation_cancel_queue(invitation)
        if invitation.client is not None:
            history.record(
                invitation.client,
                actor=None,
                kind="invitation.expired",
                summary=f"Invitation Shine {Plan(invitation.plan).label} expirée ({invitation.email})",
                changes={
                    "Shine": [SHINE_STATUS[Status.SENT].label, SHINE_STATUS[Status.EXPIRED].label]
                },
            )
    return True


def _expire_due(firm: Firm, now) -> int:
    cutoff = now - timedelta(days=firm.invitation_expiry_days)
    due = Invitation.objects.filter(firm=firm, status__in=OPEN_AFTER_SENDING).filter(
        Q(sent_at__lte=cutoff) | Q(sent_at__isnull=True, created_at__lte=cutoff)
    )
    return sum(invitation_expire(invitation=i) for i in due.select_related("client"))


def _firms_with_work_due(now) -> list[int]:
    """The firms with an invitation to expire or remind at `now`, found with the shortest
    delays any firm has; each firm's own delays are applied by `_expire_due` and
    `_remind_due`. Each branch is a range of one index, (status, sent_at) or (status,
    reminders_sent, sent_at) (clients.0017), holding only what is due: a round costs what
    is due, not a statement per firm with open invitations (thousands of firms: seconds
    every round, docs/SCALE.md)."""
    delays = Firm.objects.aggregate(
        expiry=Min("invitation_expiry_days"),
        first=Min("first_reminder_days"),
        second=Min("second_reminder_days"),
    )
    if delays["expiry"] is None:
        return []
    expiry, day = now - timedelta(days=delays["expiry"]), timedelta(days=1)
    due = (
        Q(status__in=OPEN_AFTER_SENDING, sent_at__lte=expiry)
        | Q(status__in=OPEN_AFTER_SENDING, sent_at__isnull=True, created_at__lte=expiry)
        | Q(status=Status.SENT, reminders_sent=0, sent_at__lte=now - delays["first"] * day)
        | Q(status=Status.SENT, reminders_sent=1, sent_at__lte=now - delays["second"] * day)
    )
    return list(Invitation.objects.filter(due).values_list("firm_id", flat=True).distinct())


def invitations_lifecycle(*, now=None) -> int:
    """Expire and remind what is due, firm by firm (each firm has its own delays)."""
    now = now or timezone.now()
    firms = Firm.objects.filter(pk__in=_firms_with_work_due(now))
    return sum(_expire_due(firm, now) + _remind_due(firm, now) for firm in firms)


def invitations_void_for_contact(*, contact, old_email: str, actor) -> list[Invitation]:
    """The contact's address changed: its open invitations to the old one are cancelled."""
    voided = []
    open_ones = Invitation.objects.filter(
        contact=contact, email__iexact=old_email, status__in=[Status.DRAFT, *OPEN_AFTER_SENDING]
    )
    for invitation in open_ones:
        voided.append(invitation_cancel(invitation=invitation, actor=actor))
    return voided
