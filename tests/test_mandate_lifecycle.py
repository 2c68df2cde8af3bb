"""A mandate after sending: reminders, expiry, revocation with a reason, re-generation."""

from __future__ import annotations

from datetime import timedelta
from threading import Barrier, Thread

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.factories import ClientFactory, ContactFactory
from vigie.clients.models import ClientEvent, Contact, MandateStatus
from vigie.mail.models import OutboundEmail
from vigie.reform import lifecycle, services, signing, tokens
from vigie.reform.models import Mandate, MandateReminder, MandateState
from vigie.reform.panel import ReformPanel

SIRET = "84523656100013"
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MANDATE_REMINDER_DAYS = "3,7,14"
    settings.MANDATE_LINK_DAYS = 30


@pytest.fixture
def sent(ready, alice):
    return services.mandate_send(client=ready, actor=alice)


def _reminders(mandate):
    return list(
        OutboundEmail.objects.filter(kind="reform.mandate_reminder", client=mandate.client)
        .order_by("id")
        .values_list("subject", flat=True)
    )


def _kinds(client):
    return list(
        ClientEvent.objects.filter(client=client).order_by("id").values_list("kind", flat=True)
    )


class TestReminders:
    def test_due_at_each_configured_delay_once(self, sent):
        start = sent.sent_at
        assert lifecycle.mandates_lifecycle(now=start + 3 * DAY - MINUTE) == 0
        assert _reminders(sent) == []

        assert lifecycle.mandates_lifecycle(now=start + 3 * DAY + MINUTE) == 1
        assert lifecycle.mandates_lifecycle(now=start + 4 * DAY) == 0  # a second sweep
        assert _reminders(sent) == [
            "Rappel : Mandat de facturation électronique à signer – Boulangerie Élan"
        ]
        lifecycle.mandates_lifecycle(now=start + 7 * DAY + MINUTE)
        lifecycle.mandates_lifecycle(now=start + 14 * DAY + MINUTE)
        lifecycle.mandates_lifecycle(now=start + 20 * DAY)
        assert len(_reminders(sent)) == 3
        assert list(sent.reminders.values_list("number", flat=True)) == [1, 2, 3]
        sent.refresh_from_db()
        assert sent.reminders_sent == 3 and lifecycle.next_reminder_at(sent) is None
        assert _kinds(sent.client).count("reform.mandate_reminded") == 3
        event = ClientEvent.objects.filter(kind="reform.mandate_reminded").order_by("id").first()
        assert event.summary == (
            "Relance automatique n° 1 du mandat envoyée à Jeanne Martin (jeanne@elan.fr)"
        )

    def test_the_reminder_carries_the_same_link_and_the_pdf(self, sent, alice):
        lifecycle.mandates_lifecycle(now=sent.sent_at + 3 * DAY + MINUTE)
        first = OutboundEmail.objects.get(kind="reform.mandate")
        reminder = OutboundEmail.objects.get(kind="reform.mandate_reminder")
        link = tokens.link_url(sent, now=sent.sent_at.timestamp())
        assert link in first.text and link in reminder.text and link in reminder.html
        assert "pas encore signé" in reminder.text
        assert reminder.to == "jeanne@elan.fr" and reminder.reply_to == alice.email
        assert reminder.decoded_attachments()[0][1] == sent.document.open("rb").read()
        assert MandateReminder.objects.get().email_id == str(reminder.pk)

    def test_a_late_sweep_sends_only_the_latest_due(self, sent):
        lifecycle.mandates_lifecycle(now=sent.sent_at + 8 * DAY)
        assert len(_reminders(sent)) == 1
        assert list(sent.reminders.values_list("number", flat=True)) == [2]
        sent.refresh_from_db()
        assert lifecycle.next_reminder_at(sent) == sent.sent_at + 14 * DAY

    def test_the_delays_come_from_the_setting(self, sent, settings):
        settings.MANDATE_REMINDER_DAYS = "1"
        lifecycle.mandates_lifecycle(now=sent.sent_at + DAY + MINUTE)
        lifecycle.mandates_lifecycle(now=sent.sent_at + 10 * DAY)
        assert len(_reminders(sent)) == 1

    @pytest.mark.parametrize("value", ["3,x", "0,7", "-1"])
    def test_a_bad_setting_is_refused(self, settings, value):
        settings.MANDATE_REMINDER_DAYS = value
        with pytest.raises(ImproperlyConfigured):
            lifecycle.reminder_days()

    def test_a_reminder_after_the_link_expiry_is_never_planned(self, sent, settings):
        settings.MANDATE_LINK_DAYS = 10
        sent.reminders_sent = 2
        assert lifecycle.next_reminder_at(sent) is None  # 14 days: past the link

    def test_stopped_by_the_signature(self, sent, alice):
        lifecycle.mandates_lifecycle(now=sent.sent_at + 3 * DAY + MINUTE)
        upload = SimpleUploadedFile("s.pdf", sent.document.open("rb").read())
        services.mandate_upload_signed(client=sent.client, actor=alice, upload=upload)
        lifecycle.mandates_lifecycle(now=sent.sent_at + 7 * DAY + MINUTE)
        lifecycle.mandates_lifecycle(now=sent.sent_at + 40 * DAY)
        assert len(_reminders(sent)) == 1
        sent.refresh_from_db()
        assert sent.state == MandateState.SIGNED  # and never expired

    def test_stopped_by_revocation_and_by_a_locked_link(self, sent, alice, ready):
        services.mandate_revoke(client=ready, actor=alice, reason="Fin de mission")
        assert lifecycle.mandates_lifecycle(now=sent.sent_at + 3 * DAY + MINUTE) == 0
        other = services.mandate_send(client=ready, actor=alice)
        Mandate.objects.filter(pk=other.pk).update(state=MandateState.LOCKED)
        assert lifecycle.mandates_lifecycle(now=other.sent_at + 3 * DAY + MINUTE) == 0
        assert _reminders(sent) == []

    def test_an_opened_link_is_still_reminded(self, sent):
        signing.mandate_link_open(mandate=sent)
        assert lifecycle.mandates_lifecycle(now=sent.sent_at + 3 * DAY + MINUTE) == 1

    @pytest.mark.django_db(transaction=True)
    def test_two_sweeps_at_once_remind_once(self, firm_a, alice):
        client = ClientFactory(firm=firm_a, code="R002", name="Élan", siret=SIRET)
        ContactFactory(client=client, email="j@elan.fr", is_principal=True)
        mandate = services.mandate_send(client=client, actor=alice)
        barrier, errors = Barrier(2), []

        def sweep():
            try:
                barrier.wait()
                lifecycle.mandates_lifecycle(now=mandate.sent_at + 3 * DAY + MINUTE)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert OutboundEmail.objects.filter(kind="reform.mandate_reminder").count() == 1
        assert MandateReminder.objects.count() == 1

    def test_the_sweep_command_runs_it(self, sent):
        Mandate.objects.filter(pk=sent.pk).update(sent_at=sent.sent_at - 3 * DAY - MINUTE)
        call_command("sweep")
        assert MandateReminder.objects.filter(mandate=sent, number=1).exists()

    def test_the_panel_shows_them_and_the_next_one(self, sent, alice_client):
        lifecycle.mandates_lifecycle(now=sent.sent_at + 3 * DAY + MINUTE)
        panel = ReformPanel(sent.client)
        assert [r.number for r in panel.reminders] == [1]
        assert panel.next_reminder == sent.sent_at + 7 * DAY
        page = alice_client.get(reverse("reform_client", args=[sent.client.code])).content.decode()
        assert "Relances envoyées : n° 1 le" in page
        when = timezone.localtime(sent.sent_at + 7 * DAY).strftime("%d/%m/%Y")
        assert f"Prochaine relance automatique le {when}" in page


class TestExpiry:
    def test_an_unsigned_mandate_expires_with_its_link(self, sent, ready, alice_client):
        assert lifecycle.mandates_lifecycle(now=sent.sent_at + 30 * DAY - MINUTE) >= 0
        sent.refresh_from_db()
        assert sent.state != MandateState.EXPIRED
        lifecycle.mandates_lifecycle(now=sent.sent_at + 30 * DAY + MINUTE)
        lifecycle.mandates_lifecycle(now=sent.sent_at + 31 * DAY)
        sent.refresh_from_db()
        ready.refresh_from_db()
        assert sent.state == MandateState.EXPIRED and sent.expired_at is not None
        assert ready.mandate_status == MandateStatus.EXPIRED
        assert ready.get_mandate_status_display() == "Mandat expiré"
        event = ClientEvent.objects.get(client=ready, kind="reform.mandate_expired")
        assert event.changes == {"mandat": ["Mandat envoyé", "Mandat expiré"]}
        assert lifecycle.next_reminder_at(sent) is None

        token = tokens.make_token(sent, now=sent.sent_at.timestamp())
        assert signing.link_resolve(token, now=sent.sent_at + DAY).state == "expired"
        page = alice_client.get(reverse("reform_client", args=[ready.code])).content.decode()
        assert 'data-testid="mandate-expired"' in page
        assert "Générer et envoyer le mandat" in page
        with pytest.raises(ValidationError):
            services.mandate_revoke(client=ready, actor=None, reason="x")
        # A new mandate can be sent.
        services.mandate_send(client=ready, actor=None)
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.SENT

    def test_a_locked_link_expires_too(self, sent, ready):
        Mandate.objects.filter(pk=sent.pk).update(state=MandateState.LOCKED)
        lifecycle.mandates_lifecycle(now=sent.sent_at + 31 * DAY)
        sent.refresh_from_db()
        assert sent.state == MandateState.EXPIRED

    def test_an_old_mandate_expiring_leaves_the_client_s_newer_one(self, sent, ready, alice):
        newer = services.mandate_send(client=ready, actor=alice)
        # The older one is revoked (replaced): nothing to expire.
        Mandate.objects.filter(pk=sent.pk).update(state=MandateState.SENT)
        Mandate.objects.filter(pk=newer.pk).update(sent_at=newer.sent_at + 5 * DAY)
        lifecycle.mandates_lifecycle(now=sent.sent_at + 31 * DAY)
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.SENT


class TestRevocation:
    def test_the_reason_is_required(self, sent, ready, alice_client):
        url = reverse("reform_mandate_revoke", args=[ready.code])
        response = alice_client.post(url, {"reason": "   "})
        assert response.status_code == 400
        assert services.REVOKE_REASON_REQUIRED in response.content.decode()
        sent.refresh_from_db()
        ready.refresh_from_db()
        assert sent.state == MandateState.SENT and ready.mandate_status == MandateStatus.SENT
        assert not OutboundEmail.objects.filter(kind="reform.mandate_revoked").exists()

    def test_the_client_is_told_why(self, sent, ready, alice, alice_client):
        url = reverse("reform_mandate_revoke", args=[ready.code])
        response = alice_client.post(url, {"reason": "Fin de notre mission"})
        assert response.status_code == 302
        sent.refresh_from_db()
        ready.refresh_from_db()
        assert sent.state == MandateState.REVOKED and sent.revoke_reason == "Fin de notre mission"
        assert ready.mandate_status == MandateStatus.REVOKED
        email = OutboundEmail.objects.get(kind="reform.mandate_revoked")
        assert email.to == "jeanne@elan.fr" and email.reply_to == alice.email
        assert "Motif : Fin de notre mission" in email.text
        assert "Motif : Fin de notre mission" in email.html
        event = ClientEvent.objects.get(client=ready, kind="reform.mandate_withdrawn")
        assert "motif : Fin de notre mission" in event.summary
        page = alice_client.get(reverse("reform_client", args=[ready.code])).content.decode()
        assert "motif : Fin de notre mission" in page
        # Revoked: no reminder, no expiry.
        assert lifecycle.mandates_lifecycle(now=sent.sent_at + 31 * DAY) == 0


class TestRegenerate:
    def test_nothing_changed_nothing_to_regenerate(self, sent, ready, alice_client):
        assert ReformPanel(ready).changes == []
        response = alice_client.post(reverse("reform_mandate_regenerate", args=[ready.code]))
        assert response.status_code == 400
        assert Mandate.objects.filter(client=ready).count() == 1
        assert (
            "Régénérer et renvoyer"
            not in alice_client.get(reverse("reform_client", args=[ready.code])).content.decode()
        )

    def test_changed_details_revoke_and_send_a_new_one(self, sent, ready, alice, alice_client):
        ready.name = "Boulangerie Élan SARL"
        ready.save()
        Contact.objects.filter(client=ready).update(last_name="Martin-Durand")
        page = alice_client.get(reverse("reform_client", args=[ready.code])).content.decode()
        assert "Les informations du client ont changé depuis l'envoi du mandat" in page
        assert "Régénérer et renvoyer" in page

        response = alice_client.post(reverse("reform_mandate_regenerate", args=[ready.code]))
        assert response.status_code == 302
        sent.refresh_from_db()
        ready.refresh_from_db()
        assert sent.state == MandateState.REVOKED and sent.revoke_reason == "remplacé"
        new = services.current_mandate(ready)
        assert new.pk != sent.pk and new.state == MandateState.SENT
        assert new.client_name == "Boulangerie Élan SARL"
        assert new.representative == "Jeanne Martin-Durand"
        assert ready.mandate_status == MandateStatus.SENT
        assert OutboundEmail.objects.filter(kind="reform.mandate_revoked").count() == 1
        assert OutboundEmail.objects.filter(kind="reform.mandate").count() == 2
        assert _kinds(ready)[-2:] == ["reform.mandate_withdrawn", "reform.mandate_sent"]
        assert ReformPanel(ready).changes == []

    def test_a_signed_mandate_can_be_regenerated(self, sent, ready, alice):
        upload = SimpleUploadedFile("s.pdf", sent.document.open("rb").read())
        services.mandate_upload_signed(client=ready, actor=alice, upload=upload)
        ready.refresh_from_db()
        ready.name = "Nouveau nom"
        ready.save()
        new = services.mandate_regenerate(client=ready, actor=alice)
        assert new.client_name == "Nouveau nom"
        assert _kinds(ready)[-2:] == ["reform.mandate_revoked", "reform.mandate_sent"]


class TestTenancy:
    @pytest.mark.parametrize("name", ["reform_mandate_revoke", "reform_mandate_regenerate"])
    def test_charlie_gets_404(self, sent, ready, charlie_client, name):
        ready.name = "Changé"
        ready.save()
        response = charlie_client.post(reverse(name, args=[ready.code]), {"reason": "x"})
        assert response.status_code == 404
        sent.refresh_from_db()
        assert sent.state == MandateState.SENT
        assert Mandate.objects.filter(client=ready).count() == 1
        assert not OutboundEmail.objects.filter(kind="reform.mandate_revoked").exists()
