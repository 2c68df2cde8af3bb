"""`email_batch()`: what is queued inside it goes out in `send_outbound_batch` tasks of
BATCH_SIZE (one SMTP connection each) once the transaction commits; an e-mail whose
savepoint rolled back is left out; a retry keeps its own scheduled task. A campaign's
chunk queues its e-mails that way. (A worker killed in the middle of a batch:
tests/test_mail_worker.py.)"""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from tests.factories import ClientFactory, ContactFactory
from vigie.campaigns import services as campaigns
from vigie.campaigns.models import Kind
from vigie.mail import services
from vigie.mail.models import EmailStatus, OutboundEmail

BATCH = "vigie.mail.tasks.send_outbound_batch"
SINGLE = "vigie.mail.tasks.send_outbound_email"


def _queue(firm, n):
    return services.email_queue(
        firm=firm, to=f"tpe{n}@example.fr", subject=f"Message {n}", text="Bonjour"
    )


def _args(task_path) -> list:
    """The first argument of each task queued, in the order of the e-mails' ids."""
    return sorted(
        r.args_kwargs["args"][0] for r in DBTaskResult.objects.filter(task_path=task_path)
    )


def test_it_enqueues_batches_on_commit(firm_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic(), services.email_batch():
            emails = [_queue(firm_a, n) for n in range(services.BATCH_SIZE + 10)]
            assert not DBTaskResult.objects.exists()  # nothing before the commit
    ids = [e.pk for e in emails]
    assert _args(BATCH) == [ids[: services.BATCH_SIZE], ids[services.BATCH_SIZE :]]
    assert _args(SINGLE) == []


def test_a_rolled_back_email_is_left_out(firm_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic(), services.email_batch():
            kept = _queue(firm_a, 1)
            with pytest.raises(RuntimeError), transaction.atomic():
                _queue(firm_a, 2)
                raise RuntimeError("the target's savepoint rolls back")
            last = _queue(firm_a, 3)
    assert _args(BATCH) == [[kept.pk, last.pk]]
    assert OutboundEmail.objects.count() == 2


def test_nothing_is_enqueued_when_the_transaction_rolls_back(
    firm_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic(), services.email_batch():
            _queue(firm_a, 1)
            raise RuntimeError
    assert not DBTaskResult.objects.exists()


def test_outside_a_block_each_email_has_its_task(firm_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with services.email_batch():
            pass
        email = _queue(firm_a, 1)
    assert _args(SINGLE) == [email.pk] and _args(BATCH) == []


def test_a_retry_keeps_its_scheduled_task(firm_a, sink, django_capture_on_commit_callbacks):
    sink.refuse_next("451 4.3.0 Try again later")
    email = _queue(firm_a, 1)
    with django_capture_on_commit_callbacks(execute=True), services.email_batch():
        services.email_deliver(email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.QUEUED
    [retry] = DBTaskResult.objects.filter(task_path=SINGLE, args_kwargs__args=[email.pk])
    assert retry.run_after == email.next_attempt_at
    assert _args(BATCH) == []


def test_a_batch_is_delivered_with_each_message_id(firm_a, sink):
    with transaction.atomic(), services.email_batch():
        emails = [_queue(firm_a, n) for n in range(3)]
    services.email_deliver_many([e.pk for e in emails])
    received = sink.wait_for(3)
    assert sorted(m["Message-ID"] for m in received) == sorted(e.message_id for e in emails)
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


def test_a_campaign_chunk_is_one_batch(
    firm_a, alice, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    clients = [ClientFactory(firm=firm_a, code=f"A{n}") for n in range(campaigns.CHUNK + 5)]
    for client in clients:
        ContactFactory(client=client, email=f"{client.code.lower()}@tpe.fr", is_principal=True)
    campaign = campaigns.campaign_launch(
        firm=firm_a, actor=alice, kind=Kind.SENSITISATION, client_ids=[c.pk for c in clients]
    )
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.campaign_run(campaign.pk, slice_seconds=3600)
    emails = list(OutboundEmail.objects.order_by("id").values_list("pk", flat=True))
    assert len(emails) == len(clients)
    # One task per chunk, in the chunk's order; none of its own per e-mail.
    assert _args(BATCH) == [emails[: campaigns.CHUNK], emails[campaigns.CHUNK :]]
    assert _args(SINGLE) == []
