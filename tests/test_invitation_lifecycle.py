"""After sending: automatic reminders, expiry, « Relancer », the invited address changing,
and the hand-over to the partner's onboarding page."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ClientFactory, ContactFactory, FirmFactory
from vigie.clients.models import Client, ClientEvent, ShineStatus
from vigie.invitations import services
from vigie.invitations.lifecycle import invitations_lifecycle
from vigie.invitations.models import Invitation, SendMethod, Status
from vigie.mail.models import OutboundEmail
from vigie.partners.models import PartnerLink, PartnerState

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def sent(firm_a, bob, catalogue):
    """A client invited by Vigie 0 days ago (the send itself went through)."""
    client = ClientFactory(firm=firm_a, name="Garage Martin", code="G001")
    ContactFactory(client=client, email="paul@garage.fr", is_principal=True)
    invitation = services.invitation_create(
        client=client, actor=bob, plan="start", billing_mode="shine"
    )
    invitation = services.invitation_send(
        invitation=invitation,
        actor=bob,
        method=SendMethod.VIGIE,
        subject="Votre Shine",
        body="Bonjour",
    )
    Invitation.objects.filter(pk=invitation.pk).update(status=Status.SENT, sent_at=timezone.now())
    invitation.refresh_from_db()
    return invitation


def reminders(invitation):
    return OutboundEmail.objects.filter(kind="invitation_reminder", to=invitation.email).count()


def test_it_reminds_after_7_then_14_days_once_each(sent):
    start = sent.sent_at
    invitations_lifecycle(now=start + timedelta(days=6))
    assert reminders(sent) == 0
    invitations_lifecycle(now=start + timedelta(days=7, minutes=1))
    invitations_lifecycle(now=start + timedelta(days=8))  # a second sweep: nothing more
    assert reminders(sent) == 1
    invitations_lifecycle(now=start + timedelta(days=14, minutes=1))
    invitations_lifecycle(now=start + timedelta(days=15))
    assert reminders(sent) == 2
    reminder = OutboundEmail.objects.filter(kind="invitation_reminder").first()
    assert reminder.subject == "Rappel : Votre Shine"
    assert f"/invitations/{sent.public_id.hex}-" in reminder.text
    assert ClientEvent.objects.filter(client=sent.client, kind="invitation.reminded").count() == 2


def test_a_late_sweep_sends_one_reminder_for_both_steps(sent):
    invitations_lifecycle(now=sent.sent_at + timedelta(days=20))
    assert reminders(sent) == 1
    sent.refresh_from_db()
    assert sent.reminders_sent == 2


def test_it_follows_the_firms_own_delays(sent, firm_a):
    firm_a.first_reminder_days, firm_a.second_reminder_days, firm_a.invitation_expiry_days = 2, 4, 6
    firm_a.save()
    invitations_lifecycle(now=sent.sent_at + timedelta(days=2, minutes=1))
    assert reminders(sent) == 1
    invitations_lifecycle(now=sent.sent_at + timedelta(days=6, minutes=1))
    sent.refresh_from_db()
    assert sent.status == Status.EXPIRED


def _open_invitation(firm, email: str, sent_at) -> Invitation:
    client = ClientFactory(firm=firm)
    return Invitation.objects.create(
        firm=firm,
        client=client,
        email=email,
        plan="start",
        billing_mode="shine",
        status=Status.SENT,
        sent_at=sent_at,
    )


def test_a_round_with_nothing_due_reads_no_firm(sent, firm_b, django_assert_num_queries):
    # Open invitations in several firms, none due: the shortest delays, then the due
    # invitations' firms (none), whatever the number of firms with open invitations.
    for n in range(3):
        _open_invitation(FirmFactory(), f"recent{n}@x.fr", sent.sent_at)
    with django_assert_num_queries(2):
        assert invitations_lifecycle(now=sent.sent_at + timedelta(days=6)) == 0


def test_a_firm_with_longer_delays_waits_for_its_own(sent, firm_b):
    firm_b.first_reminder_days, firm_b.second_reminder_days, firm_b.invitation_expiry_days = (
        10,
        20,
        40,
    )
    firm_b.save()
    later = _open_invitation(firm_b, "later@x.fr", sent.sent_at)
    invitations_lifecycle(now=sent.sent_at + timedelta(days=8))
    assert (reminders(sent), reminders(later)) == (1, 0)
    invitations_lifecycle(now=sent.sent_at + timedelta(days=10, minutes=1))
    assert reminders(later) == 1
    invitations_lifecycle(now=sent.sent_at + timedelta(days=35))
    later.refresh_from_db()
    assert later.status == Status.SENT  # its firm expires after 40 days


@pytest.mark.parametrize("status", [Status.ACTIVATED, Status.CANCELLED])
def test_it_never_reminds_after_activation_or_cancellation(sent, status):
    Invitation.objects.filter(pk=sent.pk).update(status=status)
    invitations_lifecycle(now=sent.sent_at + timedelta(days=40))
    assert reminders(sent) == 0
    sent.refresh_from_db()
    assert sent.status == status  # not expired either


def test_it_expires_after_30_days(sent):
    invitations_lifecycle(now=sent.sent_at + timedelta(days=29))
    sent.refresh_from_db()
    assert sent.status == Status.SENT
    invitations_lifecycle(now=sent.sent_at + timedelta(days=30, minutes=1))
    sent.refresh_from_db()
    assert sent.status == Status.EXPIRED
    assert Client.objects.get(pk=sent.client_id).shine_status == ShineStatus.EXPIRED
    assert ClientEvent.objects.filter(client=sent.client, kind="invitation.expired").exists()
    # The address is free again: a new invitation may be sent.
    assert not services.email_is_taken(sent.email)


def test_an_expired_link_no_longer_works(sent, client):
    link = services.link_in(sent, OutboundEmail.objects.get(kind="invitation").text)
    invitations_lifecycle(now=sent.sent_at + timedelta(days=31))
    response = client.get(link.split("localhost:8000", 1)[-1].replace("http://testserver", ""))
    assert response.status_code == 404
    assert "plus valide" in response.content.decode()


# --- « Relancer » ------------------------------------------------------------------------


def test_relancer_sends_a_reminder_now(sent, bob_client, bob):
    response = bob_client.post(reverse("invitation_remind", args=[sent.public_id]), **HX)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"])["showMessage"]["text"] == "Relance envoyée"
    assert reminders(sent) == 1
    event = ClientEvent.objects.get(client=sent.client, kind="invitation.reminded")
    assert event.actor == bob


def test_relancer_without_javascript_comes_back_to_the_client(sent, bob_client):
    response = bob_client.post(reverse("invitation_remind", args=[sent.public_id]))
    assert response.status_code == 302 and response["Location"] == reverse(
        "client_detail", args=["G001"]
    )


def test_relancer_refuses_an_invitation_not_sent(sent, bob_client):
    Invitation.objects.filter(pk=sent.pk).update(status=Status.ACTIVATED)
    response = bob_client.post(reverse("invitation_remind", args=[sent.public_id]), **HX)
    assert "Seule une invitation envoyée" in response.content.decode()
    assert reminders(sent) == 0


def test_charlie_cannot_remind_firm_a_invitations(sent, charlie_client):
    assert (
        charlie_client.post(reverse("invitation_remind", args=[sent.public_id])).status_code == 404
    )
    assert reminders(sent) == 0


def test_relancer_accepts_only_post(sent, bob_client):
    assert bob_client.get(reverse("invitation_remind", args=[sent.public_id])).status_code == 405


# --- The invited address changes ---------------------------------------------------------


def test_changing_the_invited_email_cancels_the_invitation_and_says_so(sent, bob_client):
    contact = sent.contact
    url = reverse("contact_update", args=["G001", contact.public_id])
    response = bob_client.post(
        url,
        {
            "last_name": contact.last_name,
            "first_name": contact.first_name,
            "email": "paul.nouveau@garage.fr",
            "phone": "0612345678",
            "access": contact.access,
            "is_principal": "on",
        },
        **HX,
    )
    assert "a été annulée" in json.loads(response["HX-Trigger"])["showMessage"]["text"]
    sent.refresh_from_db()
    assert sent.status == Status.CANCELLED


def test_other_edits_keep_the_invitation(sent, bob_client):
    contact = sent.contact
    bob_client.post(
        reverse("contact_update", args=["G001", contact.public_id]),
        {
            "last_name": "Nouveau-Nom",
            "first_name": contact.first_name,
            "email": contact.email.upper(),
            "phone": "0612345678",
            "access": contact.access,
            "is_principal": "on",
        },
        **HX,
    )
    sent.refresh_from_db()
    assert sent.status == Status.SENT


# --- Hand-over to the partner -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_link_hands_over_to_the_partners_onboarding(shine, sent, client):
    link = services.link_in(sent, OutboundEmail.objects.get(kind="invitation").text)
    path = "/invitations/" + link.rsplit("/invitations/", 1)[1]
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith(
        shine.url + "/onboarding/"
    )
    assert PartnerLink.objects.get(invitation=sent).state == PartnerState.CREATED
    client.get(path)  # again: the same partner invitation
    assert shine.state()["invitations"] == 1


@pytest.mark.django_db(transaction=True)
def test_cancelling_closes_the_partners_invitation(
    shine, sent, bob, django_capture_on_commit_callbacks
):
    from vigie.partners.services import partner_invitation_cancel, partner_invitation_create

    link = partner_invitation_create(invitation_id=sent.pk)
    services.invitation_cancel(invitation=sent, actor=bob)
    link = partner_invitation_cancel(invitation_id=sent.pk)
    assert link.state == PartnerState.CANCELLED
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(link.onboarding_url)
    assert exc.value.code == 410  # the partner's page says the invitation is over
