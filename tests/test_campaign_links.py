"""A sensibilisation or Shine campaign e-mail's personal link: carried by the e-mail and
its reminders, its public page, the open recorded once on the page's own signal (never
on a mail filter's GET or HEAD), Shine forwarded to the invitation's link, tampered
tokens, and another firm's campaign untouched."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from tests.test_campaigns import _client, _launch, _run
from vigie.campaigns import preflight, services, tracking
from vigie.campaigns.models import Kind, Target
from vigie.clients.models import ClientEvent
from vigie.invitations import lifecycle
from vigie.invitations import services as invitations
from vigie.invitations.models import Invitation
from vigie.invitations.models import Status as InvitationStatus
from vigie.mail import services as mail
from vigie.mail.models import OutboundEmail
from vigie.reform import mailer, penalties

SITE = "http://vigie.test"
SCANNER = "Mozilla/5.0 (compatible; Microsoft Safe Links; +https://aka.ms/safelinks)"


@pytest.fixture(autouse=True)
def site(settings, tmp_path):
    settings.SITE_URL = SITE
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def sensitisation(firm_a, alice):
    """A sensibilisation campaign sent to A1 and A2."""
    clients = [_client(firm_a, "A1"), _client(firm_a, "A2")]
    campaign = _launch(firm_a, alice, Kind.SENSITISATION, clients, name="Réforme de mars")
    _run(campaign)
    return campaign


@pytest.fixture
def shine_campaign(firm_a, alice, catalogue):
    clients = [_client(firm_a, "S1"), _client(firm_a, "S2")]
    campaign = _launch(
        firm_a, alice, Kind.SHINE, clients, plan="start", billing_mode="shine", name="Shine"
    )
    _run(campaign)
    return campaign


def _target(campaign, code) -> Target:
    return campaign.targets.select_related("client", "invitation").get(client__code=code)


def _path(text: str) -> str:
    """The personal link's path in an e-mail's text."""
    match = re.search(re.escape(SITE) + r"(/campagnes/lien/[^/\s]+/)", text)
    assert match, text
    return match.group(1)


def _open_url(path: str) -> str:
    return path + "ouvert/"


def _events(client, kind="campaign.opened") -> list[str]:
    return list(
        ClientEvent.objects.filter(client=client, kind=kind).values_list("summary", flat=True)
    )


class TestSensitisationLink:
    def test_the_email_carries_the_personal_link(self, sensitisation):
        target = _target(sensitisation, "A1")
        email = OutboundEmail.objects.get(pk=target.email_id)
        path = _path(email.text)
        assert SITE + path == tracking.link_url(sensitisation, target.client)
        assert f'href="{SITE}{path}"' in email.html
        # Signed, naming the campaign and the client by their public ids only.
        payload = signing.Signer(salt=tracking.SALT).unsign_object(path.split("/")[3])
        assert payload == [sensitisation.public_id.hex, target.client.public_id.hex]
        other = OutboundEmail.objects.get(pk=_target(sensitisation, "A2").email_id)
        assert _path(other.text) != path
        # The launch dialog's preview shows that line, the link as a placeholder.
        shown = preflight.preview(
            kind=Kind.SENSITISATION,
            client=target.client,
            actor=None,
            subject=sensitisation.subject,
            body=sensitisation.body,
        )
        line = mailer.LINK_TEXT.format(link=preflight.LINK_PLACEHOLDER)
        assert shown.text.endswith(line + "\n") and email.text.rstrip().endswith(
            mailer.LINK_TEXT.format(link=SITE + path)
        )

    def test_the_page_explains_the_reform_and_records_nothing(self, client, sensitisation):
        target = _target(sensitisation, "A1")
        path = _path(OutboundEmail.objects.get(pk=target.email_id).text)
        response = client.get(path, HTTP_USER_AGENT=SCANNER)
        assert response.status_code == 200
        html = response.content.decode()
        assert "La facturation électronique : ce qui change pour votre entreprise" in html
        assert "Cabinet Alpha" in html and "Entreprise A1" in html
        # The dates and rules are the reform's own (vigie/reform/penalties.py).
        for rule in (penalties.RECEPTION, penalties.ISSUANCE, penalties.E_REPORTING):
            assert rule.source in html and rule.label in html
        assert "1 septembre 2026" in html and "1 septembre 2027" in html
        assert 'href="mailto:alice@alpha.fr"' in html  # how to answer the firm
        assert 'hx-post="' + _open_url(path) + '" hx-trigger="load"' in html
        assert "<script>" not in html  # the CSP: no inline script
        assert response["Cache-Control"].startswith("max-age=0")
        assert client.head(path).status_code == 200
        target.refresh_from_db()
        assert target.opened_at is None and _events(target.client) == []

    def test_the_pages_signal_records_the_open_once(self, client, sensitisation):
        target = _target(sensitisation, "A1")
        path = _path(OutboundEmail.objects.get(pk=target.email_id).text)
        client.get(path)
        for _ in range(2):
            response = client.post(_open_url(path), HTTP_HX_REQUEST="true")
            assert response.status_code == 204
        target.refresh_from_db()
        assert target.opened_at is not None
        assert _events(target.client) == ["Campagne « Réforme de mars » : e-mail ouvert"]
        assert _target(sensitisation, "A2").opened_at is None
        # Without htmx (a plain form post): back to the page.
        response = client.post(_open_url(path))
        assert response.status_code == 302 and response["Location"] == path

    def test_a_reminder_carries_the_same_link(self, sensitisation, alice):
        target = _target(sensitisation, "A1")
        path = _path(OutboundEmail.objects.get(pk=target.email_id).text)
        time.sleep(1.1)  # a link signed with the time would differ now
        services.campaign_remind(campaign=sensitisation, actor=alice)
        _run(sensitisation)
        reminder = OutboundEmail.objects.get(client=target.client, subject__startswith="Rappel")
        assert _path(reminder.text) == path

    def test_wrong_methods(self, client, sensitisation):
        path = tracking.link_url(sensitisation, _target(sensitisation, "A1").client)[len(SITE) :]
        assert client.post(path).status_code == 405
        assert client.get(_open_url(path)).status_code == 405
        assert client.head(_open_url(path)).status_code == 405


class TestShineLink:
    def test_the_email_and_its_page_lead_to_the_invitation(self, client, shine_campaign):
        target = _target(shine_campaign, "S1")
        email = OutboundEmail.objects.get(pk=target.email_id)
        path = _path(email.text)
        assert f'href="{SITE}{path}"' in email.html  # the button too
        page = client.get(path, HTTP_USER_AGENT=SCANNER)
        assert page.status_code == 200
        html = page.content.decode()
        assert "Continuer vers Shine" in html
        assert f'action="{_open_url(path)}"' in html and 'hx-trigger="load"' in html
        assert client.head(path).status_code == 200
        target.refresh_from_db()
        assert target.opened_at is None and _events(target.client) == []

    def test_continuer_records_once_and_forwards_to_shine(self, client, shine_campaign):
        target = _target(shine_campaign, "S1")
        path = _path(OutboundEmail.objects.get(pk=target.email_id).text)
        # Without JavaScript: the button posts, the answer redirects.
        response = client.post(_open_url(path))
        assert response.status_code == 302
        onward = f"{SITE}/invitations/{target.invitation.public_id.hex}-"
        assert response["Location"].startswith(onward)
        # With htmx (the page once loaded): the browser is sent on.
        response = client.post(_open_url(path), HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and response["HX-Redirect"].startswith(onward)
        target.refresh_from_db()
        assert target.opened_at is not None
        assert _events(target.client) == ["Campagne « Shine » : e-mail ouvert"]

    def test_a_reminder_carries_the_same_link(self, shine_campaign, alice, sink):
        target = _target(shine_campaign, "S1")
        path = _path(OutboundEmail.objects.get(pk=target.email_id).text)
        mail.email_deliver(target.email_id)
        assert Invitation.objects.get(pk=target.invitation_id).status == InvitationStatus.SENT
        services.campaign_remind(campaign=shine_campaign, actor=alice)
        _run(shine_campaign)
        reminder = OutboundEmail.objects.get(kind="invitation_reminder")
        assert _path(reminder.text) == path and f'href="{SITE}{path}"' in reminder.html
        assert "/invitations/" not in reminder.text + reminder.html

    def _only_the_personal_link(self, email, path):
        assert _path(email.text) == path and f'href="{SITE}{path}"' in email.html
        assert "/invitations/" not in email.text + email.html

    def test_the_invitations_own_reminders_carry_it_too(self, shine_campaign, bob):
        """A collaborator's « Relancer » and the automatic reminders, outside the campaign."""
        target = _target(shine_campaign, "S1")
        path = _path(OutboundEmail.objects.get(pk=target.email_id).text)
        invitation = Invitation.objects.get(pk=target.invitation_id)
        Invitation.objects.filter(pk=invitation.pk).update(
            status=InvitationStatus.SENT, sent_at=timezone.now()
        )
        lifecycle.invitation_remind(invitation=invitation, actor=bob)
        lifecycle.invitations_lifecycle(now=timezone.now() + timedelta(days=7, minutes=1))
        reminders = OutboundEmail.objects.filter(kind="invitation_reminder", to=invitation.email)
        assert reminders.count() == 2
        for reminder in reminders:
            self._only_the_personal_link(reminder, path)

    def test_a_failed_invitation_sent_again_carries_it(self, shine_campaign, bob):
        target = _target(shine_campaign, "S1")
        path = _path(OutboundEmail.objects.get(pk=target.email_id).text)
        Invitation.objects.filter(pk=target.invitation_id).update(status=InvitationStatus.FAILED)
        invitation = invitations.invitation_resend(
            invitation=Invitation.objects.get(pk=target.invitation_id), actor=bob
        )
        self._only_the_personal_link(invitation.outbound, path)


class TestBadLinks:
    def _tokens(self, campaign, client) -> list[str]:
        good = tracking.make_token(campaign, client)
        payload, signature = good.rsplit(":", 1)
        forged = signing.dumps([campaign.public_id.hex, client.public_id.hex], salt="other")
        return [
            good[:-2] + ("aa" if not good.endswith("aa") else "bb"),  # signature tampered
            payload + "x:" + signature,  # payload tampered
            forged,  # signed for another use
            "n'importe-quoi",
        ]

    def test_a_tampered_token_is_a_french_404_and_records_nothing(self, client, sensitisation):
        target = _target(sensitisation, "A1")
        for token in self._tokens(sensitisation, target.client):
            url = reverse("campaign_link", args=[token])
            response = client.get(url)
            assert response.status_code == 404, token
            assert "Ce lien n'est pas valide" in response.content.decode()
            assert client.post(reverse("campaign_link_open", args=[token])).status_code == 404
        assert not Target.objects.filter(opened_at__isnull=False).exists()
        assert not ClientEvent.objects.filter(kind="campaign.opened").exists()

    def test_a_mandate_campaign_has_no_such_link(self, client, firm_a, alice):
        a1 = _client(firm_a, "M1")
        campaign = _launch(firm_a, alice, Kind.MANDATE, [a1])
        _run(campaign)
        token = tracking.make_token(campaign, a1)
        assert client.get(reverse("campaign_link", args=[token])).status_code == 404
        assert client.post(reverse("campaign_link_open", args=[token])).status_code == 404


class TestTenancy:
    def test_a_link_opens_its_own_target_only(
        self, client, charlie_client, sensitisation, firm_b, charlie
    ):
        """The token names one target of one firm: following it, even signed in as
        another firm's collaborator, opens that one, and firm B's campaign (whose client
        has the same code) is untouched."""
        b1 = _client(firm_b, "A1")
        theirs = _launch(firm_b, charlie, Kind.SENSITISATION, [b1], name="Réforme de mars")
        _run(theirs)
        target = _target(sensitisation, "A1")
        path = _path(OutboundEmail.objects.get(pk=target.email_id).text)
        assert charlie_client.post(_open_url(path), HTTP_HX_REQUEST="true").status_code == 204
        target.refresh_from_db()
        assert target.opened_at is not None
        assert _target(theirs, "A1").opened_at is None
        assert not ClientEvent.objects.filter(firm=firm_b, kind="campaign.opened").exists()
        # A token cannot be pointed at firm B's client: its payload is signed.
        payload = signing.dumps([sensitisation.public_id.hex, b1.public_id.hex], salt="x")
        assert client.post(reverse("campaign_link_open", args=[payload])).status_code == 404
        # Firm B's own link opens its own target only.
        theirs_path = _path(OutboundEmail.objects.get(pk=_target(theirs, "A1").email_id).text)
        client.post(_open_url(theirs_path), HTTP_HX_REQUEST="true")
        assert _target(theirs, "A1").opened_at is not None
        assert _events(target.client) == ["Campagne « Réforme de mars » : e-mail ouvert"]
