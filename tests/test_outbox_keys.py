"""The outbox's own idempotency key: a key queued again is the same e-mail (one row, one
task), within its firm, also from two transactions at once on two PostgreSQL
connections; and the callers that send once by their own rows (a campaign's target and
its reminder rounds, the automatic reminders) name their e-mails with it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import ClientFactory, ContactFactory
from vigie.campaigns import services as campaigns
from vigie.campaigns.models import Kind, State, Target, TargetStatus
from vigie.invitations import services as invitations
from vigie.invitations.lifecycle import invitations_lifecycle
from vigie.invitations.models import Invitation, SendMethod, Status
from vigie.mail import services
from vigie.mail.models import OutboundEmail
from vigie.reform import lifecycle
from vigie.reform import services as reform

MAIL_TASKS = ["vigie.mail.tasks.send_outbound_email", "vigie.mail.tasks.send_outbound_batch"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _item(firm, key="relance-1", **kwargs):
    return {
        "firm": firm,
        "to": "jeanne@example.fr",
        "subject": "Rappel",
        "text": "Bonjour Jeanne",
        "idempotency_key": key,
        **kwargs,
    }


def _queue(firm, key="relance-1", **kwargs):
    return services.email_queue(**_item(firm, key, **kwargs))


def _queued_ids() -> list[int]:
    """The e-mail ids the queued tasks will send, one entry per id per task."""
    ids = []
    for result in DBTaskResult.objects.filter(task_path__in=MAIL_TASKS):
        (arg,) = result.args_kwargs["args"]
        ids += arg if isinstance(arg, list) else [arg]
    return sorted(ids)


class TestKey:
    def test_it_returns_the_row_already_queued(self, firm_a, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            first = _queue(firm_a)
            again = _queue(firm_a, subject="Un autre objet")
        assert again.pk == first.pk and again.subject == "Rappel"
        assert OutboundEmail.objects.count() == 1
        assert _queued_ids() == [first.pk]  # one task

    def test_it_returns_it_before_checking_the_new_one(self, firm_a):
        first = _queue(firm_a)
        assert _queue(firm_a, to="pas-une-adresse").pk == first.pk

    def test_without_a_key_each_email_is_queued(self, firm_a):
        assert _queue(firm_a, key="").pk != _queue(firm_a, key="").pk
        assert OutboundEmail.objects.count() == 2

    def test_a_key_belongs_to_its_firm(self, firm_a, firm_b):
        alpha = _queue(firm_a)
        bravo = _queue(firm_b)  # charlie's firm, the same key: its own e-mail
        assert bravo.pk != alpha.pk and bravo.firm == firm_b
        assert _queue(firm_a).pk == alpha.pk and _queue(firm_b).pk == bravo.pk

    def test_queue_many_sends_only_what_is_new(
        self, firm_a, firm_b, django_capture_on_commit_callbacks
    ):
        first = _queue(firm_a, key="k1")
        items = [
            _item(firm_a, "k1"),
            _item(firm_a, "k2"),
            _item(firm_a, "k2", subject="Doublon dans la liste"),
            _item(firm_a, ""),
            _item(firm_b, "k1"),
        ]
        with django_capture_on_commit_callbacks(execute=True):
            emails = services.email_queue_many(items)
        assert emails[0].pk == first.pk
        assert emails[1].pk == emails[2].pk and emails[2].subject == "Rappel"
        assert emails[4].firm == firm_b and emails[4].pk != first.pk
        assert OutboundEmail.objects.count() == 4
        new = sorted({e.pk for e in emails} - {first.pk})
        assert _queued_ids() == new  # first's own task was captured before, never run


def _wait(predicate, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _someone_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("many", [False, True], ids=["email_queue", "email_queue_many"])
def test_two_transactions_queueing_one_key_make_one_email(firm_a, many):
    inserted, release = threading.Event(), threading.Event()
    rows, errors = {}, []

    def first():
        try:
            with transaction.atomic():
                rows["first"] = _queue(firm_a, key="course")
                inserted.set()
                release.wait(20)  # commit once the second transaction waits on the key
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            inserted.set()
            connections.close_all()

    def second():
        try:
            inserted.wait(20)
            with transaction.atomic():
                if many:
                    [rows["second"]] = services.email_queue_many([_item(firm_a, "course")])
                else:
                    rows["second"] = _queue(firm_a, key="course", subject="Doublon")
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    try:
        assert inserted.wait(20)
        assert _wait(_someone_waits_on_a_lock), "the second INSERT never waited on the first"
    finally:
        release.set()
        for t in threads:
            t.join(30)
    assert errors == []
    assert rows["second"].pk == rows["first"].pk
    assert rows["second"].subject == "Rappel"
    assert OutboundEmail.objects.count() == 1
    assert _queued_ids() == [rows["first"].pk]  # no second task


# --- The callers' keys -------------------------------------------------------------------


def _ready_client(firm, code):
    client = ClientFactory(firm=firm, code=code, name=f"Entreprise {code}")
    ContactFactory(client=client, email=f"{code.lower()}@tpe.fr", is_principal=True)
    return client


def _run(campaign):
    return campaigns.campaign_run(campaign.pk, slice_seconds=3600)


class TestCampaignKeys:
    def test_a_target_taken_again_still_has_one_email(self, firm_a, alice):
        clients = [_ready_client(firm_a, "A1"), _ready_client(firm_a, "A2")]
        campaign = campaigns.campaign_launch(
            firm=firm_a, actor=alice, kind=Kind.SENSITISATION, client_ids=[c.pk for c in clients]
        )
        _run(campaign)
        target = campaign.targets.get(client=clients[0])
        email = OutboundEmail.objects.get(client=clients[0])
        assert email.idempotency_key == f"campaign-target:{target.pk}:send"
        # Were the target's own guarantee lost (its row pending again), the outbox keeps it.
        Target.objects.filter(pk=target.pk).update(status=TargetStatus.PENDING)
        campaign.refresh_from_db()
        campaign.state = State.SENDING
        campaign.save(update_fields=["state"])
        _run(campaign)
        target.refresh_from_db()
        assert target.status == TargetStatus.SENT and target.email_id == email.pk
        assert OutboundEmail.objects.filter(client=clients[0]).count() == 1

    def test_each_reminder_round_has_its_key(self, firm_a, alice):
        client = _ready_client(firm_a, "A1")
        campaign = campaigns.campaign_launch(
            firm=firm_a, actor=alice, kind=Kind.SENSITISATION, client_ids=[client.pk]
        )
        _run(campaign)
        target = campaign.targets.get()
        for round_, now in ((1, None), (2, timezone.now() + timedelta(hours=25))):
            assert campaigns.campaign_remind(campaign=campaign, actor=alice, now=now) == 1
            _run(campaign)
            reminder = OutboundEmail.objects.filter(client=client).order_by("id").last()
            assert reminder.idempotency_key == f"campaign-target:{target.pk}:remind:{round_}"
        assert OutboundEmail.objects.filter(client=client).count() == 3

    def test_a_shine_campaign_names_its_invitation_email(self, firm_a, alice, catalogue):
        client = _ready_client(firm_a, "A1")
        campaign = campaigns.campaign_launch(
            firm=firm_a,
            actor=alice,
            kind=Kind.SHINE,
            client_ids=[client.pk],
            plan="start",
            billing_mode="shine",
        )
        _run(campaign)
        target = campaign.targets.get()
        assert target.status == TargetStatus.SENT
        assert target.email.idempotency_key == f"campaign-target:{target.pk}:send"


class TestAutomaticReminderKeys:
    def test_a_mandate_reminder_is_keyed_by_its_number(self, firm_a, alice, settings):
        settings.MANDATE_REMINDER_DAYS = "3,7"
        client = _ready_client(firm_a, "R1")
        client.siret = "84523656100013"
        client.save(update_fields=["siret"])
        mandate = reform.mandate_send(client=client, actor=alice)
        lifecycle.mandates_lifecycle(now=mandate.sent_at + timedelta(days=3, minutes=1))
        reminder = OutboundEmail.objects.get(kind="reform.mandate_reminder")
        assert reminder.idempotency_key == f"mandate:{mandate.pk}:reminder:1"

    def test_an_invitation_reminder_is_keyed_by_its_step(self, firm_a, bob, catalogue):
        client = _ready_client(firm_a, "G1")
        invitation = invitations.invitation_create(
            client=client, actor=bob, plan="start", billing_mode="shine"
        )
        invitations.invitation_send(
            invitation=invitation,
            actor=bob,
            method=SendMethod.VIGIE,
            subject="Shine",
            body="Bonjour",
        )
        Invitation.objects.filter(pk=invitation.pk).update(
            status=Status.SENT, sent_at=timezone.now()
        )
        invitations_lifecycle(now=timezone.now() + timedelta(days=7, minutes=1))
        reminder = OutboundEmail.objects.get(kind="invitation_reminder")
        assert reminder.idempotency_key == f"invitation:{invitation.pk}:reminder:1"
