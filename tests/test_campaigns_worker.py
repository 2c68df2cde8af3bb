"""A campaign with a real task worker (`vigie db_worker` subprocesses) and a real SMTP
server: the worker SIGKILLed in the middle of the run, the sweeper restarts the campaign,
and every client still gets exactly one e-mail."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ClientFactory, ContactFactory
from tests.test_mail_worker import _database_url, _wait
from tests.test_mail_worker import _worker as _mail_worker
from vigie.campaigns import services
from vigie.campaigns.models import Campaign, State, Target, TargetStatus
from vigie.mail import services as mail
from vigie.mail.models import EmailStatus, OutboundEmail
from vigie.mail.testing import SMTPSink

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 400


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()


def test_a_killed_run_is_resumed_without_sending_twice(firm_a, alice):
    _database_url()
    clients = ClientFactory.create_batch(CLIENTS, firm=firm_a)
    for n, client in enumerate(clients):
        ContactFactory(client=client, email=f"tpe{n}@example.fr", is_principal=True)
    campaign = services.campaign_launch(
        firm=firm_a, actor=alice, kind="sensibilisation", client_ids=[c.pk for c in clients]
    )
    sent = Target.objects.filter(campaign=campaign, status=TargetStatus.SENT)
    with SMTPSink() as sink:
        worker = _mail_worker(sink)
        try:
            # Killed while the run is half-way (between or inside a chunk's transaction).
            assert _wait(lambda: sent.count() >= 50, 60), "the worker never started the run"
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
        halfway = sent.count()
        assert 0 < halfway < CLIENTS, "the run ended before the kill: raise CLIENTS"
        # Each target sent so far has exactly its e-mail; the rest have none.
        assert OutboundEmail.objects.filter(kind="reform.information").count() == halfway
        campaign.refresh_from_db()
        assert campaign.state == State.SENDING
        assert services.campaigns_sweep() == 0  # its heartbeat is fresh
        later = timezone.now() + services.RUN_LEASE + timedelta(seconds=1)
        assert services.campaigns_sweep(now=later) == 1
        # E-mails a dead worker held (« sending ») go back to the queue after their lease.
        mail.mail_sweep(now=timezone.now() + timedelta(hours=1))
        worker = _mail_worker(sink)
        try:
            assert _wait(lambda: Campaign.objects.get(pk=campaign.pk).state == State.DONE, 120), (
                "the campaign never finished"
            )
            assert _wait(
                lambda: not OutboundEmail.objects.exclude(status=EmailStatus.SENT).exists(), 120
            )
        finally:
            _stop(worker)
        time.sleep(0.2)
        received = sink.messages
    emails = OutboundEmail.objects.filter(kind="reform.information")
    assert emails.count() == CLIENTS
    assert sent.count() == CLIENTS
    assert len({e.client_id for e in emails}) == CLIENTS
    # A message the dead worker had handed to the server may go out again, with the same
    # Message-ID (vigie.mail.services); never two different messages for one client.
    assert {m["Message-ID"] for m in received} == set(emails.values_list("message_id", flat=True))
    assert len({m["To"] for m in received}) == CLIENTS
