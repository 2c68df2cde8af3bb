"""Campaigns: launch one over a selection, the worker's run (send, then remind), pause,
resume, remind the non-responders, try the blocked clients again, and the sweeper's
restart of a run whose worker died.

What is sent is the features' own work: the reform's information e-mail
(`reform.mailer.send_information`, then `reform.services.client_sensitise`), its mandate
(`reform.services.mandate_send`), the Shine invitation (`invitations.services`). Each
target is sent inside one transaction with the outbox row of its e-mail and the target's
new status: a worker killed at any point leaves both or neither, and the next run only
takes targets still *en attente* (locked with SKIP LOCKED, so two runs never take the
same one). A run works in slices of SLICE_SECONDS, then queues its continuation behind
the tasks queued meanwhile (the e-mails it produced), so one worker alternates both.

A run holds the campaign row FOR KEY SHARE while it sends a chunk; pausing takes it FOR
UPDATE, so once `campaign_pause` has returned, nothing more is sent.

Each e-mail also carries an outbox key, « campaign-target:<id>:send » or
« …:remind:<round> », so the outbox itself never queues a target's e-mail twice; and a
chunk's e-mails go out in batches over one SMTP connection (`mail.email_batch`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from vigie.campaigns import funnel, preflight, tasks, tracking
from vigie.campaigns.models import Campaign, Kind, State, Target, TargetStatus
from vigie.clients import history
from vigie.clients.models import Client
from vigie.clients.readiness import principal_of
from vigie.invitations import emails as invitation_emails
from vigie.invitations import lifecycle as invitation_lifecycle
from vigie.invitations import services as invitations
from vigie.invitations.models import BillingMode, Invitation, Plan, SendMethod
from vigie.mail import services as mail
from vigie.reform import mailer
from vigie.reform import services as reform
from vigie.reform import tokens as reform_tokens
from vigie.reform.models import REMINDABLE, Mandate, ReformEmailTemplate

log = logging.getLogger(__name__)

MAX_TARGETS = 20_000
CHUNK = 25
SLICE_SECONDS = 5.0
MAX_ATTEMPTS = 3
RETRY_DELAYS = [60, 5 * 60]  # after the 1st and 2nd unexpected failure
# A run writes its heartbeat before each chunk: a campaign still sending whose heartbeat
# is older than this lost its worker, and the sweeper queues it again.
RUN_LEASE = timedelta(minutes=5)

KIND_REQUIRED = "Choisissez le type de campagne."
PLAN_REQUIRED = "Choisissez un plan."
BILLING_REQUIRED = "Choisissez un mode de facturation."
NAME_TOO_LONG = "Le nom ne doit pas dépasser 120 caractères."
NOTHING_SELECTED = "Sélectionnez au moins un client."
TOO_MANY = "Une campagne compte au plus {limit} clients : affinez la sélection."
NOT_SENDING = "La campagne n'est pas en cours d'envoi."
NOT_PAUSED = "La campagne n'est pas en pause."
PAUSED = "La campagne est en pause : reprenez-la d'abord."
NO_ONE_TO_REMIND = (
    "Aucun client à relancer : tous ceux qui ont reçu la campagne ont répondu, "
    "ou ont déjà été relancés il y a moins de 24 heures."
)
NOTHING_TO_RETRY = "Aucun client bloqué ou en échec à réessayer."
CLIENT_ARCHIVED = "Le client a été archivé."
INVITATION_GONE = "L'invitation Shine de la campagne n'existe plus."
REMIND_SUBJECT = "Rappel : {subject}"


def default_name(kind: str, when: datetime | None = None) -> str:
    day = timezone.localdate(when) if when else timezone.localdate()
    return f"{Kind(kind).label} du {day:%d/%m/%Y}"


def _user(actor):
    return actor if actor is not None and actor.is_authenticated else None


# --- Launch ----------------------------------------------------------------------------


@transaction.atomic
def campaign_launch(
    *,
    firm,
    actor,
    kind: str,
    client_ids: list[int],
    name: str = "",
    plan: str = "",
    billing_mode: str = "",
    source_query: str = "",
) -> Campaign:
    """Store the campaign and one target per client of the firm's selection (active
    clients only, in the selection's order), then let the worker send (returns at once).
    The wording is the firm's template for that kind now, frozen for every client."""
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = [KIND_REQUIRED]
    elif kind == Kind.SHINE:
        if plan not in Plan.values:
            errors["plan"] = [PLAN_REQUIRED]
        if billing_mode not in BillingMode.values:
            errors["billing_mode"] = [BILLING_REQUIRED]
    name = " ".join((name or "").split())
    if len(name) > Campaign._meta.get_field("name").max_length:
        errors["name"] = [NAME_TOO_LONG]
    ids = list(dict.fromkeys(client_ids))
    if len(ids) > MAX_TARGETS:
        errors["__all__"] = [TOO_MANY.format(limit=f"{MAX_TARGETS:,}".replace(",", " "))]
    if errors:
        raise ValidationError(errors)
    mine = set(
        Client.objects.for_firm(firm).active().filter(id__in=ids).values_list("id", flat=True)
    )
    ids = [pk for pk in ids if pk in mine]
    if not ids:
        raise ValidationError({"__all__": [NOTHING_SELECTED]})
    if kind != Kind.SHINE:
        plan = billing_mode = ""
    subject, body = preflight.template_for(firm, kind, plan)
    now = timezone.now()
    campaign = Campaign.objects.create(
        firm=firm,
        kind=kind,
        name=name or default_name(kind, now),
        subject=subject[:200],
        body=body,
        plan=plan,
        billing_mode=billing_mode,
        source_query=(source_query or "")[:2000],
        total=len(ids),
        created_by=_user(actor),
        heartbeat_at=now,
    )
    Target.objects.bulk_create(
        [Target(firm_id=firm.id, campaign=campaign, client_id=pk) for pk in ids],
        batch_size=2000,
    )
    _analyze_if_grown(len(ids))
    transaction.on_commit(lambda: tasks.run_campaign.enqueue(campaign.pk))
    return campaign


# A campaign adding at least this many targets, and more than a tenth of the table, has
# the table's statistics read again at once.
ANALYZE_FROM = 200


def _analyze_if_grown(added: int) -> None:
    """ANALYZE the targets when this campaign makes a large part of them, as autovacuum
    would a minute later: its funnel and its portfolio lists are read at once, and on a
    table the planner still believed empty a 5,000-client funnel took 3 s, not 20 ms
    (nested loops over what it took for a handful of rows). ANALYZE counts this
    transaction's own new rows."""
    if added < ANALYZE_FROM:
        return
    table = Target._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        (tuples,) = cursor.fetchone()
        if tuples < 0 or added > tuples / 10:
            cursor.execute(f"ANALYZE {table}")


# --- Sending ---------------------------------------------------------------------------


@dataclass
class Sent:
    """What one send did: the outbox row, to whom, in words for the history."""

    email_id: int | None
    to: str
    what: str
    mandate: Mandate | None = None
    invitation: Invitation | None = None


def _principal_email(client: Client):
    contact = principal_of(client.contacts.all())
    if contact is None or not contact.email:
        raise ValidationError(reform.NO_PRINCIPAL_EMAIL)
    return contact


def _send_key(target: Target) -> str:
    return f"campaign-target:{target.pk}:send"


def _remind_key(target: Target) -> str:
    return f"campaign-target:{target.pk}:remind:{target.remind_round}"


def _information(campaign: Campaign, client: Client, actor, *, subject: str, key: str) -> Sent:
    contact = _principal_email(client)
    template = ReformEmailTemplate(firm=campaign.firm, subject=subject, body=campaign.body)
    email = mailer.send_information(
        client=client,
        contact=contact,
        actor=actor,
        template=template,
        link=tracking.link_url(campaign, client),
        idempotency_key=key,
    )
    return Sent(email.pk, contact.email, "e-mail d'information sur la réforme envoyé")


def _send_sensitisation(campaign: Campaign, client: Client, actor, key: str) -> Sent:
    sent = _information(campaign, client, actor, subject=campaign.subject, key=key)
    reform.client_sensitise(client=client, actor=actor, sensitised=True)
    return sent


def _send_mandate(campaign: Campaign, client: Client, actor, key: str) -> Sent:
    mandate = reform.mandate_send(client=client, actor=actor, idempotency_key=key)
    return Sent(
        int(mandate.email_id),
        mandate.representative_email,
        "mandat envoyé pour signature",
        mandate=mandate,
    )


def _send_shine(campaign: Campaign, client: Client, actor, key: str) -> Sent:
    """As the bulk « Activer » does for one client: a draft, filled with the campaign's
    wording and the campaign's personal link (which leads to the invitation's), then sent
    by Vigie."""
    invitation = invitations.invitation_create(
        client=client, actor=actor, plan=campaign.plan, billing_mode=campaign.billing_mode
    )
    link = tracking.link_url(campaign, client)
    values = invitation_emails.values_for(
        firm=campaign.firm,
        client=client,
        contact=invitation.contact,
        actor=actor,
        plan=campaign.plan,
        billing_mode=campaign.billing_mode,
        link=link,
    )
    invitation = invitations.invitation_send(
        invitation=invitation,
        actor=actor,
        method=SendMethod.VIGIE,
        subject=invitation_emails.fill(campaign.subject, values)[:200].replace("\n", " "),
        body=invitation_emails.fill(campaign.body, values),
        link=link,
        idempotency_key=key,
    )
    return Sent(
        invitation.outbound_id,
        invitation.email,
        f"invitation Shine {Plan(campaign.plan).label} envoyée",
        invitation=invitation,
    )


SENDERS: dict[str, Callable[[Campaign, Client, object, str], Sent]] = {
    Kind.SENSITISATION: _send_sensitisation,
    Kind.MANDATE: _send_mandate,
    Kind.SHINE: _send_shine,
}


def _remind_sensitisation(campaign: Campaign, target: Target, client: Client, actor) -> Sent:
    subject = REMIND_SUBJECT.format(subject=campaign.subject)[:200]
    return _information(campaign, client, actor, subject=subject, key=_remind_key(target))


def _remind_mandate(campaign: Campaign, target: Target, client: Client, actor) -> Sent:
    """The same mandate e-mailed again as a « Rappel », with the same signing link, while
    it can still be signed online (as the reform's automatic reminders do); otherwise (its
    link expired or locked, the mandate revoked or expired) a new mandate replaces it."""
    mandate = Mandate.objects.filter(pk=target.mandate_id, firm_id=campaign.firm_id).first()
    if (
        mandate is not None
        and mandate.state in REMINDABLE
        and timezone.now() < reform_tokens.expires_at(mandate.sent_at)
    ):
        with mandate.document.open("rb") as handle:
            content = handle.read()
        email = mailer.send_mandate(
            mandate=mandate,
            content=content,
            actor=actor,
            reminder=target.reminders + 1,
            idempotency_key=_remind_key(target),
        )
        return Sent(email.pk, mandate.representative_email, "rappel du mandat à signer", mandate)
    mandate = reform.mandate_send(client=client, actor=actor, idempotency_key=_remind_key(target))
    return Sent(
        int(mandate.email_id),
        mandate.representative_email,
        "nouveau mandat envoyé pour signature",
        mandate=mandate,
    )


def _remind_shine(campaign: Campaign, target: Target, client: Client, actor) -> Sent:
    invitation = Invitation.objects.filter(
        pk=target.invitation_id, firm_id=campaign.firm_id
    ).first()
    if invitation is None:
        raise ValidationError(INVITATION_GONE)
    invitation_lifecycle.invitation_remind(
        invitation=invitation,
        actor=actor,
        link=tracking.link_url(campaign, client),
        idempotency_key=_remind_key(target),
    )
    return Sent(None, invitation.email, "invitation Shine relancée", invitation=invitation)


REMINDERS: dict[str, Callable[[Campaign, Target, Client, object], Sent]] = {
    Kind.SENSITISATION: _remind_sensitisation,
    Kind.MANDATE: _remind_mandate,
    Kind.SHINE: _remind_shine,
}


def _actor(campaign: Campaign):
    """Who sends: the collaborator who launched the campaign (history, Reply-To)."""
    return campaign.created_by or AnonymousUser()


def _reason(exc: ValidationError) -> str:
    return " ; ".join(exc.messages)[:500]


def _share(campaign_id: int) -> bool:
    """Inside the chunk's transaction: hold the campaign row FOR KEY SHARE (other runs
    too; a pause waits for us); True while the campaign is sending."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT state FROM {Campaign._meta.db_table} WHERE id = %s FOR KEY SHARE",  # noqa: S608
            [campaign_id],
        )
        row = cursor.fetchone()
    return row is not None and row[0] == State.SENDING


def _clients(campaign: Campaign, targets: list[Target]) -> dict[int, Client]:
    clients = (
        Client.objects.filter(firm_id=campaign.firm_id, pk__in=[t.client_id for t in targets])
        .select_related("firm")
        .prefetch_related(preflight.principals())
    )
    return {c.pk: c for c in clients}


def _send_one(campaign: Campaign, target: Target, client: Client | None, actor, now) -> None:
    target.attempts += 1
    if client is None or client.archived_at is not None:
        target.status, target.reason = TargetStatus.BLOCKED, CLIENT_ARCHIVED
    else:
        try:
            with transaction.atomic():
                sent = SENDERS[campaign.kind](campaign, client, actor, _send_key(target))
                history.record(
                    client,
                    actor=actor,
                    kind="campaign.sent",
                    summary=f"Campagne « {campaign.name} » : {sent.what} à {sent.to}",
                )
        except ValidationError as exc:
            target.status, target.reason = TargetStatus.BLOCKED, _reason(exc)
        except Exception as exc:  # unexpected (a file, the database): tried again later
            log.exception("campaign %s: sending to client %s failed", campaign.pk, target.client_id)
            target.reason = f"{type(exc).__name__}: {exc}"[:500]
            if target.attempts >= MAX_ATTEMPTS:
                target.status = TargetStatus.FAILED
            else:
                delay = RETRY_DELAYS[min(target.attempts, len(RETRY_DELAYS)) - 1]
                target.retry_at = now + timedelta(seconds=delay)
        else:
            target.status, target.reason, target.retry_at = TargetStatus.SENT, "", None
            target.sent_at = now
            target.email_id = sent.email_id
            target.mandate, target.invitation = sent.mandate, sent.invitation
    target.save(
        update_fields=[
            "status",
            "reason",
            "attempts",
            "retry_at",
            "sent_at",
            "email",
            "mandate",
            "invitation",
        ]
    )


def _send_chunk(campaign: Campaign) -> bool | None:
    """Send the next CHUNK pending targets in one transaction; False when none is left
    to take, None when the campaign is no longer sending."""
    now = timezone.now()
    with transaction.atomic(), mail.email_batch():
        if not _share(campaign.pk):
            return None
        targets = list(
            Target.objects.filter(campaign_id=campaign.pk, status=TargetStatus.PENDING)
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
            .order_by("id")
            .select_for_update(skip_locked=True)[:CHUNK]
        )
        if not targets:
            return False
        clients = _clients(campaign, targets)
        actor = _actor(campaign)
        for target in targets:
            _send_one(campaign, target, clients.get(target.client_id), actor, now)
    return True


def _remind_one(campaign: Campaign, target: Target, client: Client, actor, now) -> None:
    try:
        with transaction.atomic():
            sent = REMINDERS[campaign.kind](campaign, target, client, actor)
            history.record(
                client,
                actor=actor,
                kind="campaign.reminded",
                summary=f"Relance de la campagne « {campaign.name} » : {sent.what} à {sent.to}",
            )
    except ValidationError as exc:
        target.reason = f"Relance impossible : {_reason(exc)}"[:500]
    except Exception as exc:  # unexpected: reported on the target, not tried again
        log.exception("campaign %s: reminding client %s failed", campaign.pk, target.client_id)
        target.reason = f"Relance impossible : {type(exc).__name__}: {exc}"[:500]
    else:
        target.reminders += 1
        target.reminded_at = now
        if sent.mandate is not None:
            target.mandate = sent.mandate


def _remind_chunk(campaign: Campaign) -> bool | None:
    """Remind the next CHUNK targets of a reminder round still due; those that reached
    the campaign's goal meanwhile are passed over."""
    now = timezone.now()
    with transaction.atomic(), mail.email_batch():
        if not _share(campaign.pk):
            return None
        targets = list(
            Target.objects.filter(campaign_id=campaign.pk, remind_round__gt=F("reminded_round"))
            .order_by("id")
            .select_for_update(skip_locked=True)[:CHUNK]
        )
        if not targets:
            return False
        waiting = funnel.matching_ids(
            campaign, funnel.NO_ANSWER, ids=[t.client_id for t in targets]
        )
        clients = _clients(campaign, targets)
        actor = _actor(campaign)
        for target in targets:
            client = clients.get(target.client_id)
            if client is not None and target.client_id in waiting:
                _remind_one(campaign, target, client, actor, now)
            target.reminded_round = target.remind_round
            target.save(
                update_fields=["reminded_round", "reminders", "reminded_at", "reason", "mandate"]
            )
    return True


def campaign_run(campaign_id: int, *, slice_seconds: float | None = None) -> Campaign | None:
    """The worker's task: send the pending targets, then the reminders due, chunk by
    chunk, until none is left, the campaign is paused, or the slice is over (then the
    rest is queued). Safe to run twice, or two at once."""
    budget = SLICE_SECONDS if slice_seconds is None else slice_seconds
    campaign = Campaign.objects.select_related("firm", "created_by").filter(pk=campaign_id).first()
    if campaign is None:
        return None
    started = time.monotonic()
    while True:
        Campaign.objects.filter(pk=campaign_id).update(heartbeat_at=timezone.now())
        worked = _send_chunk(campaign)
        if worked is False:
            worked = _remind_chunk(campaign)
        if worked is None:  # paused meanwhile
            return Campaign.objects.get(pk=campaign_id)
        if not worked:
            return _finish(campaign_id)
        if time.monotonic() - started > budget:
            tasks.run_campaign.enqueue(campaign_id)
            return Campaign.objects.get(pk=campaign_id)


@transaction.atomic
def _finish(campaign_id: int) -> Campaign:
    """Nothing left to take: the campaign is done, unless another run holds targets or
    some wait for a retry (then a run is queued for then)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if campaign.state != State.SENDING:
        return campaign
    targets = Target.objects.filter(campaign=campaign)
    pending = targets.filter(status=TargetStatus.PENDING)
    if targets.filter(remind_round__gt=F("reminded_round")).exists():
        return campaign
    if pending.filter(Q(retry_at__isnull=True) | Q(retry_at__lte=timezone.now())).exists():
        return campaign
    retry_at = pending.aggregate(at=Min("retry_at"))["at"]
    if retry_at is not None:
        transaction.on_commit(
            lambda: tasks.run_campaign.using(run_after=retry_at).enqueue(campaign_id)
        )
        return campaign
    campaign.state, campaign.finished_at = State.DONE, timezone.now()
    campaign.save(update_fields=["state", "finished_at"])
    return campaign


# --- Collaborators' actions ------------------------------------------------------------


def _locked(campaign: Campaign) -> Campaign:
    # FOR UPDATE: waits for the chunk a run is sending (it holds FOR KEY SHARE).
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def _restart(campaign: Campaign, fields: list[str]) -> None:
    campaign.state, campaign.finished_at = State.SENDING, None
    campaign.heartbeat_at = timezone.now()
    campaign.save(update_fields=[*fields, "state", "finished_at", "heartbeat_at"])
    transaction.on_commit(lambda: tasks.run_campaign.enqueue(campaign.pk))


@transaction.atomic
def campaign_pause(*, campaign: Campaign, actor) -> Campaign:
    """Stop sending; once this returns, the worker sends nothing more until resumed."""
    campaign = _locked(campaign)
    if campaign.state != State.SENDING:
        raise ValidationError(NOT_SENDING)
    campaign.state, campaign.paused_at = State.PAUSED, timezone.now()
    campaign.save(update_fields=["state", "paused_at"])
    return campaign


@transaction.atomic
def campaign_resume(*, campaign: Campaign, actor) -> Campaign:
    campaign = _locked(campaign)
    if campaign.state != State.PAUSED:
        raise ValidationError(NOT_PAUSED)
    campaign.paused_at = None
    _restart(campaign, ["paused_at"])
    return campaign


@transaction.atomic
def campaign_remind(*, campaign: Campaign, actor, now: datetime | None = None) -> int:
    """« Relancer les non-répondants »: a reminder round for exactly the clients the
    funnel counts « à relancer » now; the worker sends it. Returns how many."""
    campaign = _locked(campaign)
    if campaign.state == State.PAUSED:
        raise ValidationError(PAUSED)
    ids = funnel.matching_ids(campaign, funnel.A_RELANCER.key, now=now)
    round_ = campaign.reminder_round + 1
    count = (
        Target.objects.filter(campaign=campaign, client_id__in=ids)
        .filter(remind_round__lte=F("reminded_round"))
        .update(remind_round=round_)
        if ids
        else 0
    )
    if not count:
        raise ValidationError(NO_ONE_TO_REMIND)
    campaign.reminder_round = round_
    _restart(campaign, ["reminder_round"])
    return count


@transaction.atomic
def campaign_retry_blocked(*, campaign: Campaign, actor) -> int:
    """Send again to the blocked and failed clients (once their record is fixed)."""
    campaign = _locked(campaign)
    if campaign.state == State.PAUSED:
        raise ValidationError(PAUSED)
    count = Target.objects.filter(
        campaign=campaign, status__in=[TargetStatus.BLOCKED, TargetStatus.FAILED]
    ).update(status=TargetStatus.PENDING, reason="", attempts=0, retry_at=None)
    if not count:
        raise ValidationError(NOTHING_TO_RETRY)
    _restart(campaign, [])
    return count


# --- The sweeper -----------------------------------------------------------------------


def campaigns_sweep(*, now: datetime | None = None) -> int:
    """Queue again the campaigns still sending whose run went quiet for RUN_LEASE (its
    worker died: the task backend never retries it). A duplicate run is harmless.
    Returns how many."""
    now = now or timezone.now()
    quiet = Campaign.objects.filter(state=State.SENDING).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - RUN_LEASE)
    )
    count = 0
    for pk in list(quiet.values_list("pk", flat=True)[:1000]):
        # Claimed by moving its heartbeat: two sweepers queue it once.
        if quiet.filter(pk=pk).update(heartbeat_at=now):
            tasks.run_campaign.enqueue(pk)
            count += 1
    return count
