"""The outbox: queue an email (a row), send it from the task worker, retry, sweep.

Life of a row: queued → sending → sent, or back to queued with a next try after a
temporary failure (SMTP 4xx, connection refused, timeout), or failed after the last
attempt or a permanent refusal (SMTP 5xx). "sending" is a lease: a worker killed in
the middle leaves the row in "sending" with `next_attempt_at` at the end of the lease,
and `mail_sweep()` puts it back in the queue once the lease is over.

A message goes out twice only if a worker dies between the SMTP server's acceptance
and our write of "sent"; the resend then carries the same Message-ID.

A caller that must never queue the same e-mail twice (a campaign's target, a reminder
round) names it with an `idempotency_key`, unique within the firm: queueing the key
again returns the first row, even from two transactions at once. Inside `email_batch()`
(a campaign's chunk), what is queued is sent by tasks of BATCH_SIZE e-mails over one
SMTP connection each, instead of a task and a connection per e-mail.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import logging
import smtplib
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone

from vigie.lib.validators import normalize_email
from vigie.mail import tasks
from vigie.mail.models import IDEMPOTENCY_CONSTRAINT, EmailStatus, OutboundEmail
from vigie.mail.signals import email_status_changed

log = logging.getLogger(__name__)

# Wait after the 1st, 2nd, … failed attempt; one more attempt than delays.
RETRY_DELAYS = [60, 5 * 60, 30 * 60, 2 * 3600]
# How long a worker may hold a row in "sending" before the sweeper takes it back.
SENDING_LEASE = 5 * 60
# The sweeper leaves a due row this long to its scheduled task before requeueing it.
SWEEP_GRACE = 30

SUBJECT_REQUIRED = "L'objet est obligatoire."
SUBJECT_NEWLINE = "L'objet ne doit pas contenir de retour à la ligne."
TEXT_REQUIRED = "Le texte du message est obligatoire."
HEADER_NEWLINE = "Ce champ ne doit pas contenir de retour à la ligne."


def _lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "MAIL_SENDING_LEASE", SENDING_LEASE))


def retry_delays() -> list[int]:
    return list(getattr(settings, "MAIL_RETRY_DELAYS", RETRY_DELAYS))


def max_attempts() -> int:
    return len(retry_delays()) + 1


def no_reply_address() -> str:
    return (
        getattr(settings, "MAIL_NO_REPLY_ADDRESS", "") or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    )


def clean_subject(subject: str) -> str:
    """Refuse header injection (CR/LF) rather than silently folding it away."""
    if "\r" in subject or "\n" in subject:
        raise ValidationError({"subject": SUBJECT_NEWLINE})
    subject = subject.strip()
    if not subject:
        raise ValidationError({"subject": SUBJECT_REQUIRED})
    return subject


def _header_value(value: str, field: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValidationError({field: HEADER_NEWLINE})
    return value.strip()


def _address(value: str, field: str) -> str:
    try:
        return normalize_email(_header_value(value, field))
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def _validated(
    *, to, subject, text, reply_to="", from_name="", attachments=(), **fields
) -> OutboundEmail:
    """The row `email_queue` stores (`fields`: firm, html, client, kind), checked."""
    to = _address(to, "to")
    if not to:
        raise ValidationError({"to": "L'adresse du destinataire est obligatoire."})
    reply_to = _address(reply_to, "reply_to") if reply_to else ""
    subject = clean_subject(subject)
    if not text.strip():
        raise ValidationError({"text": TEXT_REQUIRED})
    from_name = _header_value(from_name, "from_name")
    domain = no_reply_address().rpartition("@")[2] or "vigie.localhost"
    return OutboundEmail(
        to=to,
        from_name=from_name,
        reply_to=reply_to,
        subject=subject,
        text=text,
        attachments=[
            {
                "filename": name,
                "content_type": content_type,
                "base64": base64.b64encode(content).decode("ascii"),
            }
            for name, content, content_type in attachments
        ],
        message_id=make_msgid(domain=domain),
        next_attempt_at=timezone.now(),
        **fields,
    )


def email_queue(
    *,
    firm,
    to: str,
    subject: str,
    text: str,
    html: str = "",
    reply_to: str = "",
    from_name: str = "",
    client=None,
    kind: str = "",
    attachments: list[tuple[str, bytes, str]] = (),
    idempotency_key: str = "",
) -> OutboundEmail:
    """Store the email and send it from the task worker once the transaction commits.

    With an `idempotency_key` already queued for the firm, return that row instead:
    nothing is stored or sent again (checked before the new e-mail is validated).

    Raises ValidationError (French messages keyed by field) on a bad address, an
    empty or multi-line subject, an empty text.
    """
    if idempotency_key:
        existing = OutboundEmail.objects.filter(firm=firm, idempotency_key=idempotency_key)
        if (email := existing.first()) is not None:
            return email
    email = _validated(
        firm=firm,
        to=to,
        subject=subject,
        text=text,
        html=html,
        reply_to=reply_to,
        from_name=from_name,
        client=client,
        kind=kind,
        attachments=attachments,
        idempotency_key=idempotency_key,
    )
    if not idempotency_key:
        email.save()
    elif not _insert_keyed([email]):
        # Another transaction queued the same key meanwhile; its row, once it committed.
        return existing.get()
    enqueue_on_commit(email.pk)
    return email


def _insert_keyed(emails: list[OutboundEmail]) -> bool:
    """INSERT rows carrying idempotency keys in a savepoint; False, and nothing stored,
    when a key was taken meanwhile (the INSERT waited for the other transaction's
    commit, then hit the unique constraint)."""
    try:
        with transaction.atomic():
            OutboundEmail.objects.bulk_create(emails, batch_size=500)
    except IntegrityError as exc:
        diag = getattr(exc.__cause__, "diag", None)
        if getattr(diag, "constraint_name", None) != IDEMPOTENCY_CONSTRAINT:
            raise
        for email in emails:
            email.pk = None
        return False
    return True


BATCH_SIZE = 50


def email_queue_many(items: list[dict]) -> list[OutboundEmail]:
    """`email_queue` for many emails at once (each dict holds its keyword arguments):
    one INSERT, and one task per BATCH_SIZE emails that reuses one SMTP connection.
    An item whose `idempotency_key` is already queued gets that row in its place."""
    keys = [item.get("idempotency_key", "") for item in items]
    found = {}
    if any(keys):
        rows = OutboundEmail.objects.filter(
            firm__in={item["firm"] for item in items}, idempotency_key__in=set(keys) - {""}
        )
        found = {(row.firm_id, row.idempotency_key): row for row in rows}
    emails, new = [], []
    for item, key in zip(items, keys, strict=True):
        if (item["firm"].pk, key) in found:
            emails.append(found[item["firm"].pk, key])
            continue
        email = _validated(**item)
        emails.append(email)
        new.append(email)
        if key:
            found[item["firm"].pk, key] = email  # the same key twice in the list: one e-mail
    if not any(keys):
        OutboundEmail.objects.bulk_create(new, batch_size=500)
    elif not _insert_keyed(new):
        # Another transaction queued one of the keys meanwhile: one by one, each item
        # getting the row that holds its key.
        return [email_queue(**item) for item in items]

    ids = [e.pk for e in new]
    transaction.on_commit(lambda: _enqueue_batches(ids))
    return emails


# The ids an `email_batch()` block queued, while it is active (None otherwise).
_batch: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "email_batch", default=None
)


@contextlib.contextmanager
def email_batch() -> Iterator[None]:
    """Within the block, the e-mails queued for now are sent by `send_outbound_batch`
    tasks of BATCH_SIZE (one SMTP connection each) once the transaction commits,
    instead of a task each. The guarantees stay the row's: each e-mail is claimed on
    its own, and `mail_sweep` requeues what a killed worker's batch left behind.

    Each id joins the batch through its own on-commit callback, so an e-mail whose
    savepoint rolled back is left out, as its own task would have been. Nested blocks
    join the outer one."""
    if _batch.get() is not None:
        yield
        return
    ids: list[int] = []
    token = _batch.set(ids)
    try:
        yield
    finally:
        _batch.reset(token)
        transaction.on_commit(lambda: _enqueue_batches(ids))


def _enqueue_batches(ids: list[int]) -> None:
    for start in range(0, len(ids), BATCH_SIZE):
        tasks.send_outbound_batch.enqueue(ids[start : start + BATCH_SIZE])


def enqueue_on_commit(email_id: int, *, run_after: datetime | None = None) -> None:
    batch = _batch.get()
    if batch is not None and run_after is None:
        transaction.on_commit(lambda: batch.append(email_id))
        return

    def enqueue():
        task = tasks.send_outbound_email
        if run_after is not None:
            task = task.using(run_after=run_after)
        task.enqueue(email_id)

    transaction.on_commit(enqueue)


def build_message(email: OutboundEmail, connection=None) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=formataddr((email.from_name, no_reply_address()))
        if email.from_name
        else no_reply_address(),
        to=[email.to],
        reply_to=[email.reply_to] if email.reply_to else None,
        headers={"Message-ID": email.message_id},
        connection=connection,
    )
    message.encoding = "utf-8"
    if email.html:
        message.attach_alternative(email.html, "text/html")
    for name, content, content_type in email.decoded_attachments():
        message.attach(name, content, content_type)
    return message


def _claim(email_id: int, now: datetime) -> OutboundEmail | None:
    """Take the row for sending (a lease), or None when it is not ours to send."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None:
            return None
        lease_over = email.next_attempt_at is None or email.next_attempt_at <= now
        if email.status == EmailStatus.QUEUED or (
            email.status == EmailStatus.SENDING and lease_over
        ):
            email.status = EmailStatus.SENDING
            email.attempts += 1
            email.next_attempt_at = now + _lease()
            email.save(update_fields=["status", "attempts", "next_attempt_at"])
            return email
    return None


def _smtp_code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return max(codes) if codes else None
    return getattr(exc, "smtp_code", None)


def is_permanent(exc: Exception) -> bool:
    """5xx refusals will not change on a retry; 4xx, timeouts and network errors may."""
    code = _smtp_code(exc)
    return code is not None and 500 <= code < 600


def _describe(exc: Exception) -> str:
    code = _smtp_code(exc)
    if isinstance(exc, (socket.timeout, TimeoutError)) or "timed out" in str(exc):
        text = "Délai dépassé en attendant le serveur SMTP"
    elif isinstance(exc, ConnectionRefusedError):
        text = "Serveur SMTP injoignable (connexion refusée)"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(
            f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        )
    elif code is not None:
        msg = getattr(exc, "smtp_error", b"")
        text = f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:500]


def email_deliver(
    email_id: int, *, now: datetime | None = None, connection=None
) -> OutboundEmail | None:
    """Send one queued email (the task's body). Safe to run twice or concurrently.
    Pass an open `connection` to reuse it (a batch); it is closed after an error."""
    email = _claim(email_id, now or timezone.now())
    if email is None:
        return None
    try:
        build_message(email, connection or get_connection(fail_silently=False)).send()
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("mail %s attempt %s failed: %s", email.pk, email.attempts, exc)
        if connection is not None:
            with contextlib.suppress(Exception):  # the next send opens a fresh one
                connection.close()
        return _record_failure(email.pk, exc)
    return _record_sent(email.pk)


def email_deliver_many(email_ids: list[int]) -> None:
    """Send a batch over one SMTP connection (reopened after an error)."""
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except (smtplib.SMTPException, OSError):
        pass  # each send below retries the connection and records its own failure
    try:
        for email_id in email_ids:
            email_deliver(email_id, connection=connection)
    finally:
        with contextlib.suppress(Exception):
            connection.close()


@transaction.atomic
def _record_sent(email_id: int) -> OutboundEmail:
    email = OutboundEmail.objects.select_for_update().get(pk=email_id)
    email.status = EmailStatus.SENT
    email.sent_at = timezone.now()
    email.next_attempt_at = None
    email.last_error = ""
    email.save(update_fields=["status", "sent_at", "next_attempt_at", "last_error"])
    email_status_changed.send(sender=OutboundEmail, email=email)
    return email


@transaction.atomic
def _record_failure(email_id: int, exc: Exception) -> OutboundEmail:
    email = OutboundEmail.objects.select_for_update().get(pk=email_id)
    email.last_error = _describe(exc)
    if is_permanent(exc) or email.attempts >= max_attempts():
        email.status = EmailStatus.FAILED
        email.next_attempt_at = None
    else:
        delays = retry_delays()
        delay = delays[min(email.attempts, len(delays)) - 1]
        email.status = EmailStatus.QUEUED
        email.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        enqueue_on_commit(email.pk, run_after=email.next_attempt_at)
    email.save(update_fields=["status", "last_error", "next_attempt_at"])
    email_status_changed.send(sender=OutboundEmail, email=email)
    return email


@transaction.atomic
def email_retry(*, email: OutboundEmail) -> OutboundEmail:
    """Send a failed email again (a person asked): a fresh series of attempts."""
    email = OutboundEmail.objects.select_for_update().get(pk=email.pk)
    if email.status != EmailStatus.FAILED:
        return email
    email.status = EmailStatus.QUEUED
    email.attempts = 0
    email.next_attempt_at = timezone.now()
    email.save(update_fields=["status", "attempts", "next_attempt_at"])
    enqueue_on_commit(email.pk)
    email_status_changed.send(sender=OutboundEmail, email=email)
    return email


def mail_sweep(*, now: datetime | None = None) -> int:
    """Requeue rows left behind: a task lost with its worker, a lease that ran out.

    The task backend does not retry a task left RUNNING by a killed worker, so this
    runs periodically (`vigie mail_sweep --every 30`, started by `make run`).
    Returns how many rows were requeued.
    """
    now = now or timezone.now()
    stale = OutboundEmail.objects.filter(
        status__in=[EmailStatus.QUEUED, EmailStatus.SENDING],
        next_attempt_at__lte=now - timedelta(seconds=SWEEP_GRACE),
    )
    # Rows still stale under the lock only (a worker may have moved on meanwhile), sent
    # again in batches, as a campaign's are.
    with transaction.atomic():
        ids = list(stale.select_for_update(skip_locked=True).values_list("pk", flat=True)[:1000])
        if not ids:
            return 0
        with email_batch():
            OutboundEmail.objects.filter(pk__in=ids).update(
                status=EmailStatus.QUEUED, next_attempt_at=now + _lease()
            )
            for pk in ids:
                enqueue_on_commit(pk)
    return len(ids)
