"""The outbox: queue, send through a real SMTP server, retry, fail, sweep; the local mailbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from vigie.mail import services
from vigie.mail.models import EmailStatus, OutboundEmail
from vigie.mail.testing import free_port


def _queue(firm, **kwargs):
    data = {
        "firm": firm,
        "to": "Jeanne@Example.fr",
        "subject": "Votre compte Shine – activez-le",
        "text": "Bonjour Jeanne,\nVoici le lien : https://vigie.test/invitations/abc/\n",
        "html": "<p>Bonjour Jeanne,</p>",
        "reply_to": "bob@alpha.fr",
        "from_name": "Cabinet Alpha",
        "kind": "test",
    }
    data.update(kwargs)
    return services.email_queue(**data)


def test_it_queues_a_row_and_enqueues_on_commit(firm_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        email = _queue(firm_a)
    assert len(callbacks) == 1
    assert email.status == EmailStatus.QUEUED
    assert email.to == "jeanne@example.fr"
    assert email.message_id.startswith("<") and email.message_id.endswith("@vigie.localhost>")


def test_it_sends_a_multipart_utf8_message(firm_a, sink):
    email = _queue(firm_a, attachments=[("note.txt", b"bonjour", "text/plain")])
    services.email_deliver(email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.attempts == 1 and email.sent_at
    [msg] = sink.wait_for(1)
    assert msg["Subject"] == "Votre compte Shine – activez-le"
    assert "=?utf-8?" in sink.raw[0].decode().lower()  # the subject is encoded on the wire
    assert msg["From"].addresses[0].display_name == "Cabinet Alpha"
    assert msg["From"].addresses[0].addr_spec == "no-reply@vigie.localhost"
    assert msg["Reply-To"].addresses[0].addr_spec == "bob@alpha.fr"
    assert msg["Message-ID"] == email.message_id
    assert msg.get_body(("plain",)).get_content().startswith("Bonjour Jeanne")
    assert "<p>Bonjour Jeanne,</p>" in msg.get_body(("html",)).get_content()
    assert [p.get_filename() for p in msg.iter_attachments()] == ["note.txt"]


def test_it_does_not_send_twice(firm_a, sink):
    email = _queue(firm_a)
    services.email_deliver(email.pk)
    assert services.email_deliver(email.pk) is None
    assert len(sink.wait_for(1)) == 1


def test_it_retries_a_temporary_refusal_then_sends(
    firm_a, sink, django_capture_on_commit_callbacks
):
    sink.refuse_next("451 4.3.0 Try again later")
    email = _queue(firm_a)
    with django_capture_on_commit_callbacks() as callbacks:
        services.email_deliver(email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.QUEUED
    assert email.attempts == 1
    assert "451" in email.last_error
    assert email.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert len(callbacks) == 1  # the retry is scheduled
    services.email_deliver(email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.attempts == 2
    assert len(sink.wait_for(1)) == 1


def test_it_fails_at_once_on_a_permanent_refusal(firm_a, sink):
    sink.refuse_next("550 5.1.1 No such user")
    email = _queue(firm_a)
    services.email_deliver(email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED
    assert "550" in email.last_error and email.next_attempt_at is None
    assert sink.messages == []


@override_settings(MAIL_RETRY_DELAYS=[1, 1])
def test_it_fails_after_the_last_attempt(firm_a, sink):
    sink.refuse_next("421 4.7.0 Busy", count=3)
    email = _queue(firm_a)
    for expected in (EmailStatus.QUEUED, EmailStatus.QUEUED, EmailStatus.FAILED):
        services.email_deliver(email.pk)
        email.refresh_from_db()
        assert email.status == expected
    assert email.attempts == 3
    # A person may send it again: a fresh series of attempts.
    services.email_retry(email=email)
    services.email_deliver(email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert len(sink.wait_for(1)) == 1


def test_it_retries_when_the_server_is_down(firm_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    email = _queue(firm_a)
    services.email_deliver(email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.QUEUED and email.attempts == 1
    assert "injoignable" in email.last_error or "Error" in email.last_error


def test_it_retries_when_the_server_hangs(firm_a, sink, settings):
    settings.EMAIL_TIMEOUT = 1
    sink.stall_next_rcpt(3)
    email = _queue(firm_a)
    services.email_deliver(email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.QUEUED and email.attempts == 1
    assert "Délai dépassé" in email.last_error


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject", "Bonjour\r\nBcc: victim@example.org", services.SUBJECT_NEWLINE),
        ("subject", "   ", services.SUBJECT_REQUIRED),
        ("text", " \n ", services.TEXT_REQUIRED),
        ("to", "pas-une-adresse", "Saisissez une adresse e-mail valide."),
        ("to", "a@b.fr\r\nBcc: victim@example.org", "Ce champ ne doit pas contenir"),
        ("reply_to", "x@y.fr\nBcc: v@example.org", "Ce champ ne doit pas contenir"),
    ],
)
def test_it_refuses_bad_input(firm_a, field, value, message):
    with pytest.raises(ValidationError) as exc:
        _queue(firm_a, **{field: value})
    assert message in str(exc.value)
    assert not OutboundEmail.objects.exists()


def test_it_sweeps_rows_left_behind(firm_a, django_capture_on_commit_callbacks):
    email = _queue(firm_a)
    # A worker took it and died: "sending" with a lease.
    assert services._claim(email.pk, timezone.now()) is not None
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.mail_sweep() == 0  # the lease is not over yet
    assert callbacks == []
    later = timezone.now() + timedelta(hours=1)
    tasks = DBTaskResult.objects.filter(task_path="vigie.mail.tasks.send_outbound_batch")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.mail_sweep(now=later) == 1
    assert [task.args_kwargs["args"] for task in tasks] == [[[email.pk]]]
    email.refresh_from_db()
    assert email.status == EmailStatus.QUEUED


def test_the_mailbox_backend_and_pages(firm_a, settings, tmp_path, alice_client):
    client = alice_client  # a collaborator of the firm (tests/security/test_security_mailbox.py)
    settings.EMAIL_BACKEND = "vigie.mail.backends.MailboxBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    settings.DEBUG = True
    email = _queue(firm_a, html="<p>Cliquez <a href='https://vigie.test/x'>ici</a></p>")
    services.email_deliver(email.pk)
    [path] = list(tmp_path.glob("*.eml"))
    page = client.get("/dev/mail/")
    assert page.status_code == 200
    assert "Votre compte Shine – activez-le" in page.content.decode()
    detail = client.get(f"/dev/mail/{path.name}/")
    body = detail.content.decode()
    assert '<a href="https://vigie.test/invitations/abc/"' in body  # links are clickable
    assert client.get("/dev/mail/../../etc/passwd/").status_code == 404
    assert client.post("/dev/mail/").status_code == 405
    settings.DEBUG = False
    assert client.get("/dev/mail/").status_code == 404
