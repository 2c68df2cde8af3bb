"""Reform campaigns: launch from the portfolio's selection (ticked rows or every match),
the preflight and the preview, the worker's run (idempotent, paused and resumed), the
funnel's counts against the portfolio lists they open, reminders, the export, the list,
the sweeper, and tenancy."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import escape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from tests.factories import ClientFactory, ContactFactory
from vigie.campaigns import funnel, services, tracking
from vigie.campaigns.models import Campaign, Kind, State, Target, TargetStatus
from vigie.clients import services as client_services
from vigie.clients.models import ClientEvent, MandateStatus, PaStatus
from vigie.equipment.models import Equipment, Slot
from vigie.invitations import services as invitations
from vigie.invitations.models import Invitation
from vigie.invitations.models import Status as InvitationStatus
from vigie.mail import services as mail
from vigie.mail.models import OutboundEmail
from vigie.reform import services as reform
from vigie.reform import signing
from vigie.reform.models import Mandate, MandateState, ReformEmailTemplate

LAUNCH = reverse("campaign_launch")
NEW = reverse("campaign_new")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _client(firm, code, *, email=True, siret=True, **kwargs):
    client = ClientFactory(firm=firm, code=code, name=kwargs.pop("name", f"Entreprise {code}"))
    if not siret:
        client.siret = ""
        client.save(update_fields=["siret"])
    if email is not None:
        ContactFactory(
            client=client,
            first_name="Jeanne",
            last_name=f"Martin {code}",
            email=f"{code.lower()}@tpe.fr" if email else "",
            is_principal=True,
        )
    for field, value in kwargs.items():
        setattr(client, field, value)
    if kwargs:
        client.save(update_fields=list(kwargs))
    return client


@pytest.fixture
def clients(firm_a):
    """Five of firm A's clients: A1-A3 ready, A4 without a principal's e-mail, A5 without
    a principal contact nor a SIRET."""
    return [
        _client(firm_a, "A1"),
        _client(firm_a, "A2"),
        _client(firm_a, "A3"),
        _client(firm_a, "A4", email=False),
        _client(firm_a, "A5", email=None, siret=False),
    ]


def _launch(firm, actor, kind=Kind.SENSITISATION, clients=(), **extra):
    return services.campaign_launch(
        firm=firm, actor=actor, kind=kind, client_ids=[c.pk for c in clients], **extra
    )


def _run(campaign):
    return services.campaign_run(campaign.pk, slice_seconds=3600)


def _portfolio_total(http, campaign, stage="", **filters) -> int:
    query = {"campagne": str(campaign.public_id), **filters}
    if stage:
        query["etape"] = stage
    response = http.get(reverse("home"), query)
    assert response.status_code == 200
    return response.context["page"].total


# --- Launch ----------------------------------------------------------------------------


class TestLaunch:
    def test_it_launches_from_ticked_rows(
        self, alice_client, alice, clients, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = alice_client.post(
                LAUNCH, {"kind": "sensibilisation", "codes": ["A2", "A1"], "name": "Vague 1"}
            )
        campaign = Campaign.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("campaign_detail", args=[campaign.public_id])
        assert (campaign.name, campaign.kind, campaign.state, campaign.total) == (
            "Vague 1",
            Kind.SENSITISATION,
            State.SENDING,
            2,
        )
        assert campaign.created_by == alice
        # The firm's template, frozen.
        assert "{client}" in campaign.subject
        assert list(campaign.targets.order_by("id").values_list("client__code", flat=True)) == [
            "A2",
            "A1",
        ]
        assert set(campaign.targets.values_list("status", flat=True)) == {TargetStatus.PENDING}
        # Launching sends nothing itself: the worker's task is queued.
        assert OutboundEmail.objects.count() == 0
        assert DBTaskResult.objects.filter(
            task_path="vigie.campaigns.tasks.run_campaign", args_kwargs__args=[campaign.pk]
        ).exists()

    def test_it_answers_htmx_with_a_redirect(self, alice_client, clients):
        response = alice_client.post(
            LAUNCH, {"kind": "mandat", "codes": ["A1"]}, HTTP_HX_REQUEST="true"
        )
        campaign = Campaign.objects.get()
        assert response["HX-Redirect"] == reverse("campaign_detail", args=[campaign.public_id])
        assert campaign.name == services.default_name(Kind.MANDATE)

    def test_it_launches_on_every_client_matching_the_search(self, alice_client, firm_a, clients):
        for client in clients[:2]:
            client.sensitised = True
            client.save(update_fields=["sensitised"])
        ClientFactory(firm=firm_a, code="Z9", name="Archivée", archived_at=timezone.now())
        query = "sensi=non&sort=-code"
        response = alice_client.post(
            LAUNCH, {"kind": "sensibilisation", "all": "1", "query": query, "codes": ["A1"]}
        )
        assert response.status_code == 302
        campaign = Campaign.objects.get()
        # Exactly the portfolio's list for that query, in its order (the ticked A1 ignored).
        listed = alice_client.get(reverse("home") + "?" + query + "&per_page=100")
        ids = listed.context["page"].ids
        assert list(campaign.targets.order_by("id").values_list("client_id", flat=True)) == ids
        assert [c.code for c in clients if c.pk in ids] == ["A3", "A4", "A5"]
        assert campaign.source_query == query

    def test_another_firms_clients_are_never_targeted(self, charlie_client, clients, firm_b):
        _client(firm_b, "B1")
        response = charlie_client.post(LAUNCH, {"kind": "sensibilisation", "codes": ["A1", "A2"]})
        assert response.status_code == 400
        assert "Sélectionnez au moins un client." in response.content.decode()
        assert not Campaign.objects.exists()
        # « All matching » is the caller's own portfolio.
        charlie_client.post(LAUNCH, {"kind": "sensibilisation", "all": "1", "query": ""})
        campaign = Campaign.objects.get()
        assert list(campaign.targets.values_list("client__code", flat=True)) == ["B1"]

    def test_bad_input_is_refused_and_changes_nothing(self, alice_client, clients):
        for data, message in [
            ({"kind": "spam", "codes": ["A1"]}, "Choisissez le type de campagne."),
            ({"kind": "shine", "codes": ["A1"], "plan": "x"}, "Choisissez un plan."),
            ({"kind": "sensibilisation"}, "Sélectionnez au moins un client."),
            ({"kind": "mandat", "codes": ["A1"], "name": "x" * 121}, "120 caractères"),
        ]:
            response = alice_client.post(LAUNCH, data)
            assert response.status_code == 400, data
            assert message in response.content.decode()
        assert not Campaign.objects.exists()
        assert not Target.objects.exists()

    def test_wrong_methods_are_refused(self, alice_client):
        assert alice_client.get(LAUNCH).status_code == 405
        assert alice_client.post(NEW).status_code == 405

    def test_it_bulk_creates_the_targets(self, firm_a, alice, django_assert_max_num_queries):
        many = ClientFactory.create_batch(300, firm=firm_a)
        with django_assert_max_num_queries(8):
            campaign = _launch(firm_a, alice, Kind.MANDATE, many)
        assert campaign.targets.count() == 300


# --- Preflight and preview -------------------------------------------------------------


class TestDialog:
    def _dialog(self, http, kind, codes, **extra):
        response = http.get(NEW, {"kind": kind, "codes": codes, **extra}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        return response.content.decode()

    def test_sensitisation_blocks_clients_without_a_principals_email(self, alice_client, clients):
        page = self._dialog(alice_client, "sensibilisation", ["A1", "A2", "A4", "A5"])
        assert re.search(r'data-testid="ready-count">2<', page)
        assert re.search(r'data-testid="blocked-count">2<', page)
        for code in ("A4", "A5"):
            client = next(c for c in clients if c.code == code)
            assert f'href="{reverse("client_detail", args=[code])}#contacts"' in page
            assert client.name in page
        assert "pas de contact principal avec une adresse e-mail" in page

    def test_mandate_reasons_name_the_siret_the_principal_and_a_signed_mandate(
        self, alice_client, alice, clients, firm_a
    ):
        signed = _client(firm_a, "A6")
        signed.mandate_status = MandateStatus.SIGNED
        signed.save(update_fields=["mandate_status"])
        page = self._dialog(alice_client, "mandat", ["A1", "A4", "A5", "A6"])
        assert re.search(r'data-testid="ready-count">1<', page)
        assert reform.MANDATE_NEEDS_SIRET in page
        assert f"{reverse('client_detail', args=['A5'])}#details" in page
        assert escape(reform.MANDATE_NEEDS_EMAIL) in page
        assert f"{reverse('client_detail', args=['A6'])}#reforme" in page
        assert "déjà signé" in page

    def test_shine_reasons_are_the_bulk_dialogs(self, alice_client, alice, clients, catalogue):
        invitations.invitation_send(
            invitation=invitations.invitation_create(
                client=clients[1], actor=alice, plan="start", billing_mode="shine"
            ),
            actor=alice,
            method="vigie",
            subject="Sujet",
            body="Corps",
        )
        page = self._dialog(alice_client, "shine", ["A1", "A2", "A5"], plan="plus")
        assert re.search(r'data-testid="ready-count">1<', page)
        assert invitations.ALREADY_INVITED in page
        assert "Le SIRET est obligatoire pour inviter la TPE" in page

    def test_the_preview_is_one_clients_email(self, alice_client, alice, clients, firm_a):
        ReformEmailTemplate.objects.create(
            firm=firm_a, subject="La réforme pour {client}", body="Bonjour {contact},\n{cabinet}"
        )
        page = self._dialog(alice_client, "sensibilisation", ["A1", "A2"], apercu="A2")
        assert 'data-testid="preview-subject">La réforme pour Entreprise A2<' in page
        assert "Bonjour Jeanne Martin A2" in page
        assert "a2@tpe.fr" in page
        # The mandate's fixed e-mail, with its attachment and the link's placeholder.
        page = self._dialog(alice_client, "mandat", ["A1"])
        assert "Mandat de facturation électronique à signer – Entreprise A1" in page
        assert "mandat-A1.pdf" in page
        assert "(lien personnel du client)" in page
        # Shine: the plan's offer.
        page = self._dialog(alice_client, "shine", ["A1"], plan="plus", billing_mode="cabinet")
        assert "Shine Plus" in page
        assert "(lien personnel du client)" in page

    def test_a_client_of_another_firm_is_never_previewed(self, charlie_client, clients):
        response = charlie_client.get(
            NEW, {"codes": ["A1"], "apercu": "A1"}, HTTP_HX_REQUEST="true"
        )
        assert "Aucun client sélectionné" in response.content.decode()
        assert "a1@tpe.fr" not in response.content.decode()

    def test_every_matching_client_is_checked(self, alice_client, clients):
        page = self._dialog(alice_client, "sensibilisation", [], all="1", query="q=Entreprise")
        assert "5 clients sélectionnés" in page
        assert re.search(r'data-testid="blocked-count">2<', page)

    def test_without_htmx_it_is_a_page(self, alice_client, clients):
        response = alice_client.get(NEW, {"codes": ["A1"]})
        assert response.status_code == 200
        assert "<html" in response.content.decode()
        response = alice_client.get(NEW)
        assert "Aucun client sélectionné" in response.content.decode()


# --- The worker's run ------------------------------------------------------------------


class TestRun:
    def test_it_sends_each_ready_client_once_and_blocks_the_others(self, firm_a, alice, clients):
        campaign = _launch(firm_a, alice, Kind.SENSITISATION, clients)
        _run(campaign)
        _run(campaign)  # the task run again (a requeued task, a second worker): nothing new
        emails = OutboundEmail.objects.filter(firm=firm_a, kind="reform.information")
        assert sorted(emails.values_list("to", flat=True)) == [
            "a1@tpe.fr",
            "a2@tpe.fr",
            "a3@tpe.fr",
        ]
        targets = {t.client.code: t for t in campaign.targets.select_related("client")}
        assert {code for code, t in targets.items() if t.status == TargetStatus.SENT} == {
            "A1",
            "A2",
            "A3",
        }
        assert targets["A4"].status == TargetStatus.BLOCKED
        assert targets["A4"].reason == reform.NO_PRINCIPAL_EMAIL
        assert targets["A1"].email.to == "a1@tpe.fr"
        assert targets["A1"].attempts == 1
        campaign.refresh_from_db()
        assert campaign.state == State.DONE and campaign.finished_at is not None
        # Each send in the client's history, and the client marked informed.
        a1 = targets["A1"].client
        a1.refresh_from_db()
        assert a1.sensitised
        events = ClientEvent.objects.filter(client=a1, kind="campaign.sent")
        assert [e.summary for e in events] == [
            f"Campagne « {campaign.name} » : e-mail d'information sur la réforme envoyé à a1@tpe.fr"
        ]
        assert events[0].actor == alice
        assert not ClientEvent.objects.filter(client=targets["A4"].client, kind="campaign.sent")

    def test_the_frozen_wording_is_sent(self, firm_a, alice, clients):
        ReformEmailTemplate.objects.create(firm=firm_a, subject="Avant {client}", body="Corps")
        campaign = _launch(firm_a, alice, Kind.SENSITISATION, clients[:1])
        ReformEmailTemplate.objects.filter(firm=firm_a).update(subject="Après {client}")
        _run(campaign)
        assert OutboundEmail.objects.get().subject == "Avant Entreprise A1"

    def test_a_mandate_campaign_sends_the_reforms_mandate(self, firm_a, alice, clients):
        campaign = _launch(firm_a, alice, Kind.MANDATE, clients)
        _run(campaign)
        target = campaign.targets.get(client=clients[0])
        assert target.status == TargetStatus.SENT
        assert target.mandate.state == MandateState.SENT
        assert target.email_id == int(target.mandate.email_id)
        assert OutboundEmail.objects.get(pk=target.email_id).kind == "reform.mandate"
        clients[0].refresh_from_db()
        assert clients[0].mandate_status == MandateStatus.SENT
        assert Mandate.objects.filter(firm=firm_a).count() == 3
        blocked = campaign.targets.get(client=clients[4])
        assert reform.MANDATE_NEEDS_SIRET in blocked.reason

    def test_a_shine_campaign_invites_as_the_bulk_dialog_does(
        self, firm_a, alice, clients, catalogue
    ):
        campaign = _launch(
            firm_a, alice, Kind.SHINE, clients[:2], plan="plus", billing_mode="cabinet"
        )
        _run(campaign)
        _run(campaign)
        invitation = campaign.targets.get(client=clients[0]).invitation
        assert (invitation.plan, invitation.billing_mode, invitation.status) == (
            "plus",
            "cabinet",
            InvitationStatus.PENDING,
        )
        assert invitation.outbound.to == "a1@tpe.fr"
        # The e-mail carries the campaign's personal link (its button too), which leads to
        # the invitation's own: every way to Shine goes through it.
        link = tracking.link_url(campaign, clients[0])
        assert "Entreprise A1" in invitation.body and link in invitation.body
        assert link in invitation.outbound.text and f'href="{link}"' in invitation.outbound.html
        assert "/invitations/" not in invitation.outbound.text + invitation.outbound.html
        assert Invitation.objects.filter(firm=firm_a).count() == 2
        assert OutboundEmail.objects.filter(kind="invitation").count() == 2

    def test_pause_stops_sending_and_resume_finishes(
        self, firm_a, alice, django_capture_on_commit_callbacks
    ):
        many = [_client(firm_a, f"P{n:02d}") for n in range(60)]
        campaign = _launch(firm_a, alice, Kind.SENSITISATION, many)
        services.campaign_run(campaign.pk, slice_seconds=0)  # one chunk, the rest queued
        assert OutboundEmail.objects.count() == services.CHUNK
        services.campaign_pause(campaign=campaign, actor=alice)
        services.campaign_run(campaign.pk, slice_seconds=3600)  # the queued continuation
        assert OutboundEmail.objects.count() == services.CHUNK
        campaign.refresh_from_db()
        assert campaign.state == State.PAUSED
        with django_capture_on_commit_callbacks(execute=True):
            services.campaign_resume(campaign=campaign, actor=alice)
        assert DBTaskResult.objects.filter(args_kwargs__args=[campaign.pk]).count() >= 2
        _run(campaign)
        assert OutboundEmail.objects.count() == 60
        campaign.refresh_from_db()
        assert campaign.state == State.DONE

    def test_pause_and_resume_refuse_the_wrong_state(self, firm_a, alice, clients):
        campaign = _launch(firm_a, alice, Kind.SENSITISATION, clients)
        with pytest.raises(Exception, match="pas en pause"):
            services.campaign_resume(campaign=campaign, actor=alice)
        _run(campaign)
        with pytest.raises(Exception, match="pas en cours d'envoi"):
            services.campaign_pause(campaign=campaign, actor=alice)

    def test_an_archived_client_is_not_sent(self, firm_a, alice, clients):
        campaign = _launch(firm_a, alice, Kind.SENSITISATION, clients[:2])
        clients[1].archived_at = timezone.now()
        clients[1].save(update_fields=["archived_at"])
        _run(campaign)
        assert campaign.targets.get(client=clients[1]).status == TargetStatus.BLOCKED
        assert OutboundEmail.objects.count() == 1

    def test_retrying_the_blocked_sends_once_fixed(self, firm_a, alice, clients, alice_client):
        campaign = _launch(firm_a, alice, Kind.SENSITISATION, clients)
        _run(campaign)
        contact = clients[3].contacts.get()
        contact.email = "a4@tpe.fr"
        contact.save(update_fields=["email"])
        response = alice_client.post(reverse("campaign_retry", args=[campaign.public_id]))
        assert response.status_code == 302
        _run(campaign)
        assert campaign.targets.get(client=clients[3]).status == TargetStatus.SENT
        assert campaign.targets.get(client=clients[4]).status == TargetStatus.BLOCKED
        assert OutboundEmail.objects.count() == 4

    def test_the_sweeper_requeues_a_quiet_campaign_once(self, firm_a, alice, clients):
        campaign = _launch(firm_a, alice, Kind.SENSITISATION, clients)
        assert services.campaigns_sweep() == 0  # its run is not late
        later = timezone.now() + services.RUN_LEASE + timedelta(seconds=1)
        assert services.campaigns_sweep(now=later) == 1
        assert services.campaigns_sweep(now=later) == 0
        queued = DBTaskResult.objects.filter(args_kwargs__args=[campaign.pk])
        assert queued.count() == 1
        _run(campaign)
        assert services.campaigns_sweep(now=later + services.RUN_LEASE * 2) == 0  # done


# --- Funnel, portfolio, reminders ------------------------------------------------------


@pytest.fixture
def mandate_campaign(firm_a, alice, bob, clients, catalogue):
    """A mandate campaign over A1-A5 after its run: A1 opened, A2 signed and registered
    with a PA, A3 equipped (VENTE), A4 and A5 blocked; bob follows A1, A2 and A4."""
    campaign = _launch(firm_a, alice, Kind.MANDATE, clients)
    _run(campaign)
    targets = {t.client.code: t for t in campaign.targets.select_related("mandate", "client")}
    signing.mandate_link_open(mandate=targets["A1"].mandate)
    pdf = targets["A2"].mandate.document.read()
    reform.mandate_upload_signed(
        client=clients[1], actor=alice, upload=SimpleUploadedFile("s.pdf", pdf)
    )
    reform.client_pa_update(
        client=clients[1],
        actor=alice,
        status=PaStatus.REGISTERED,
        pa_name="Plateforme X",
        registered_at=timezone.localdate(),
    )
    Equipment.objects.create(
        firm=firm_a, client=clients[2], slot=Slot.VENTE, solution=catalogue["abby"]
    )
    for client in (clients[0], clients[1], clients[3]):
        client_services.assignment_add(client=client, user=bob, actor=alice)
    return campaign


class TestFunnel:
    def test_counts_are_the_lists_they_open(self, mandate_campaign, alice_client, bob):
        counts = funnel.counts(mandate_campaign)
        assert counts == {
            "cibles": 5,
            "envoyes": 3,
            "ouverts": 2,  # A1 opened, A2 signed
            "signes": 1,
            "inscrits": 1,
            "prets": 1,
            "a_relancer": 2,
            "en_attente": 0,
            "bloques": 2,
            "echecs": 0,
        }
        for key, count in counts.items():
            assert _portfolio_total(alice_client, mandate_campaign, key) == count, key
        assert _portfolio_total(alice_client, mandate_campaign) == 5
        ((user, mine),) = funnel.counts_by_collaborator(mandate_campaign)
        assert user == bob
        assert mine["cibles"] == 3 and mine["envoyes"] == 2 and mine["signes"] == 1
        for key, count in mine.items():
            assert _portfolio_total(alice_client, mandate_campaign, key, collab=bob.id) == count

    def test_the_page_links_each_count_to_its_list(self, mandate_campaign, alice_client, bob):
        page = alice_client.get(reverse("campaign_detail", args=[mandate_campaign.public_id]))
        html = page.content.decode()
        assert page.status_code == 200
        uuid = mandate_campaign.public_id
        for key, count in (("envoyes", 3), ("signes", 1), ("a_relancer", 2), ("bloques", 2)):
            link = re.search(
                rf'<a href="([^"]+)" data-testid="count-{key}"[^>]*>(?:<strong>)?(\d+)<', html
            )
            assert link and link.group(2) == str(count), key
            url = link.group(1).replace("&amp;", "&")
            assert f"campagne={uuid}" in url and f"etape={key}" in url
            listed = alice_client.get(url)
            assert listed.context["page"].total == count
        assert f'data-testid="person-{bob.id}-signes"' in html
        assert "60 %" in html  # envoyés: 3 of 5
        assert "Relancer les non-répondants (2)" in html
        # The portfolio keeps the campaign and its stage in its menus.
        listed = alice_client.get(reverse("home"), {"campagne": str(uuid), "etape": "signes"})
        assert f"Campagne « {mandate_campaign.name} »" in listed.content.decode()

    def test_a_live_campaign_polls_its_funnel(self, firm_a, alice, clients, alice_client):
        campaign = _launch(firm_a, alice, Kind.SENSITISATION, clients)
        url = reverse("campaign_detail", args=[campaign.public_id])
        page = alice_client.get(url).content.decode()
        assert 'hx-trigger="every 2s"' in page
        assert 'data-testid="count-en_attente"' in page
        part = alice_client.get(url, {"part": "funnel"}, HTTP_HX_REQUEST="true").content.decode()
        assert part.startswith('\n<div id="campaign-live"') or 'id="campaign-live"' in part[:80]
        _run(campaign)
        part = alice_client.get(url, {"part": "funnel"}, HTTP_HX_REQUEST="true").content.decode()
        assert "every 2s" not in part  # the answer without polling stops it
        assert "Envois terminés" in part

    def test_another_kinds_stage_opens_nobody(self, firm_a, alice, clients, alice_client):
        campaign = _launch(firm_a, alice, Kind.SENSITISATION, clients)
        _run(campaign)
        assert "signes" not in funnel.counts(campaign)
        assert _portfolio_total(alice_client, campaign, "signes") == 0
        assert _portfolio_total(alice_client, campaign, "actives") == 0

    @pytest.mark.parametrize("kind", [Kind.SENSITISATION, Kind.SHINE])
    def test_opens_of_the_personal_link_are_counted_as_listed(
        self, kind, firm_a, alice, bob, clients, catalogue, alice_client
    ):
        """A1 opened its e-mail's link, A2 reached the goal (Shine: activated without
        being seen opening; sensibilisation: opened and registered with a PA), A3
        nothing; bob follows A1 and A3."""
        extra = {"plan": "start", "billing_mode": "shine"} if kind == Kind.SHINE else {}
        campaign = _launch(firm_a, alice, kind, clients, **extra)
        _run(campaign)
        targets = {t.client.code: t for t in campaign.targets.select_related("client")}
        tracking.target_open(target=targets["A1"])
        if kind == Kind.SHINE:
            invitations.invitation_accept(invitation=targets["A2"].invitation)
        else:
            tracking.target_open(target=targets["A2"])
            reform.client_pa_update(
                client=clients[1],
                actor=alice,
                status=PaStatus.REGISTERED,
                pa_name="Plateforme X",
                registered_at=timezone.localdate(),
            )
        for client in (clients[0], clients[2]):
            client_services.assignment_add(client=client, user=bob, actor=alice)
        counts = funnel.counts(campaign)
        assert counts["envoyes"] == 3 and counts["ouverts"] == 2
        assert funnel.matching_ids(campaign, "ouverts") == {clients[0].pk, clients[1].pk}
        for key, count in counts.items():
            assert _portfolio_total(alice_client, campaign, key) == count, key
        ((user, mine),) = funnel.counts_by_collaborator(campaign)
        assert user == bob and mine["ouverts"] == 1
        for key, count in mine.items():
            assert _portfolio_total(alice_client, campaign, key, collab=bob.id) == count, key
        page = alice_client.get(reverse("campaign_detail", args=[campaign.public_id]))
        assert re.search(r'data-testid="count-ouverts"[^>]*>(?:<strong>)?2<', page.content.decode())


class TestRemind:
    def test_only_non_responders_are_reminded_once(
        self, mandate_campaign, alice, alice_client, django_capture_on_commit_callbacks
    ):
        before = OutboundEmail.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            response = alice_client.post(
                reverse("campaign_remind", args=[mandate_campaign.public_id])
            )
        assert response.status_code == 302
        mandate_campaign.refresh_from_db()
        assert mandate_campaign.state == State.SENDING and mandate_campaign.reminder_round == 1
        _run(mandate_campaign)
        _run(mandate_campaign)
        reminded = mandate_campaign.targets.filter(reminders=1)
        # A1 (opened) and A3 were sent and have not signed; A2 signed, A4-A5 were blocked.
        assert sorted(reminded.values_list("client__code", flat=True)) == ["A1", "A3"]
        assert OutboundEmail.objects.count() == before + 2
        a1 = reminded.get(client__code="A1")
        # A1's link still works: the same mandate, e-mailed again as a reminder.
        assert a1.mandate.state == MandateState.OPENED
        assert Mandate.objects.filter(client=a1.client).count() == 1
        reminder = OutboundEmail.objects.get(client=a1.client, kind="reform.mandate_reminder")
        assert (
            reminder.subject
            == "Rappel : Mandat de facturation électronique à signer – Entreprise A1"
        )
        events = ClientEvent.objects.filter(kind="campaign.reminded")
        assert sorted(e.client.code for e in events) == ["A1", "A3"]
        assert "Relance de la campagne" in events[0].summary
        # Within 24 hours nobody is « à relancer » again.
        assert funnel.counts(mandate_campaign)["a_relancer"] == 0
        with pytest.raises(Exception, match="Aucun client à relancer"):
            services.campaign_remind(campaign=mandate_campaign, actor=alice)
        later = timezone.now() + timedelta(hours=25)
        assert services.campaign_remind(campaign=mandate_campaign, actor=alice, now=later) == 2

    def test_a_client_who_answered_meanwhile_is_passed_over(self, mandate_campaign, alice, clients):
        services.campaign_remind(campaign=mandate_campaign, actor=alice)
        a3 = mandate_campaign.targets.get(client=clients[2])
        reform.mandate_upload_signed(
            client=clients[2],
            actor=alice,
            upload=SimpleUploadedFile("s.pdf", a3.mandate.document.read()),
        )
        _run(mandate_campaign)
        assert list(
            mandate_campaign.targets.filter(reminders=1).values_list("client__code", flat=True)
        ) == ["A1"]

    def test_a_mandate_past_its_link_is_replaced_by_a_new_one(
        self, mandate_campaign, alice, clients
    ):
        a3 = mandate_campaign.targets.get(client=clients[2])
        old = a3.mandate_id
        Mandate.objects.filter(pk=old).update(sent_at=timezone.now() - timedelta(days=40))
        services.campaign_remind(campaign=mandate_campaign, actor=alice)
        _run(mandate_campaign)
        a3.refresh_from_db()
        assert a3.mandate_id != old and a3.mandate.state == MandateState.SENT
        assert Mandate.objects.get(pk=old).state == MandateState.REVOKED
        assert a3.reminders == 1
        event = ClientEvent.objects.get(client=clients[2], kind="campaign.reminded")
        assert "nouveau mandat envoyé pour signature" in event.summary

    def test_a_sensitisation_reminds_those_not_registered_with_a_pa(self, firm_a, alice, clients):
        campaign = _launch(firm_a, alice, Kind.SENSITISATION, clients[:3])
        _run(campaign)
        reform.client_pa_update(
            client=clients[0],
            actor=alice,
            status=PaStatus.REGISTERED,
            pa_name="PA",
            registered_at=timezone.localdate(),
        )
        assert services.campaign_remind(campaign=campaign, actor=alice) == 2
        _run(campaign)
        subjects = OutboundEmail.objects.filter(subject__startswith="Rappel : ")
        assert sorted(subjects.values_list("to", flat=True)) == ["a2@tpe.fr", "a3@tpe.fr"]

    def test_a_shine_campaign_reminds_through_the_invitations(
        self, firm_a, alice, clients, catalogue, sink
    ):
        campaign = _launch(
            firm_a, alice, Kind.SHINE, clients[:2], plan="start", billing_mode="shine"
        )
        _run(campaign)
        # The first invitation's e-mail delivered (the outbox marks the invitation sent).
        first = campaign.targets.get(client=clients[0])
        mail.email_deliver(first.email_id)
        assert Invitation.objects.get(pk=first.invitation_id).status == InvitationStatus.SENT
        assert services.campaign_remind(campaign=campaign, actor=alice) == 2
        _run(campaign)
        reminder = OutboundEmail.objects.get(kind="invitation_reminder")
        assert reminder.to == "a1@tpe.fr"
        assert ClientEvent.objects.filter(client=clients[0], kind="invitation.reminded").exists()
        # The second one's e-mail still waits in the outbox: it cannot be reminded yet.
        second = campaign.targets.get(client=clients[1])
        assert second.reminders == 0 and second.reason.startswith("Relance impossible")

    def test_a_paused_campaign_is_not_reminded(self, mandate_campaign, alice, alice_client):
        mandate_campaign.state = State.SENDING
        mandate_campaign.save(update_fields=["state"])
        services.campaign_pause(campaign=mandate_campaign, actor=alice)
        response = alice_client.post(
            reverse("campaign_remind", args=[mandate_campaign.public_id]), follow=True
        )
        assert "reprenez-la" in response.content.decode()
        assert not Target.objects.filter(remind_round__gt=0).exists()


# --- Export, list ----------------------------------------------------------------------


class TestExport:
    def test_csv_lists_every_target_with_its_stage(self, mandate_campaign, alice_client, bob):
        url = reverse("campaign_export", args=[mandate_campaign.public_id, "csv"])
        response = alice_client.get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        text = response.content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        assert rows[0] == [
            "CODE CLIENT",
            "ENTREPRISE",
            "DESTINATAIRE",
            "COLLABORATEURS",
            "ENVOI",
            "ENVOYÉ LE",
            "MOTIF",
            "OUVERTS",
            "SIGNÉS",
            "INSCRITS À UNE PA",
            "PRÊTS",
            "ÉTAPE",
            "RELANCES",
            "DERNIÈRE RELANCE",
        ]
        by_code = {row[0]: row for row in rows[1:]}
        assert set(by_code) == {"A1", "A2", "A3", "A4", "A5"}
        assert by_code["A2"][2] == "a2@tpe.fr"
        assert by_code["A2"][3] == bob.full_name
        assert by_code["A2"][7:12] == ["Oui", "Oui", "Oui", "Non", "Inscrits à une PA"]
        assert by_code["A1"][11] == "Ouverts"
        assert by_code["A3"][11] == "Prêts"
        assert by_code["A4"][4] == "Bloqué" and by_code["A4"][11] == "Bloqué"
        assert by_code["A5"][6].startswith(reform.MANDATE_NEEDS_SIRET)

    def test_xlsx_carries_the_same_rows(self, mandate_campaign, alice_client):
        url = reverse("campaign_export", args=[mandate_campaign.public_id, "xlsx"])
        response = alice_client.get(url)
        book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        rows = list(book.active.iter_rows(values_only=True))
        assert rows[0][0] == "CODE CLIENT" and len(rows) == 6
        assert {r[0] for r in rows[1:]} == {"A1", "A2", "A3", "A4", "A5"}

    def test_an_unknown_format_is_a_404(self, mandate_campaign, alice_client):
        url = reverse("campaign_export", args=[mandate_campaign.public_id, "pdf"])
        assert alice_client.get(url).status_code == 404

    def test_a_formula_is_neutralised(self, firm_a, alice, alice_client):
        client = _client(firm_a, "F1", name="=HYPERLINK(1)")
        campaign = _launch(firm_a, alice, Kind.SENSITISATION, [client])
        text = alice_client.get(reverse("campaign_export", args=[campaign.public_id, "csv"]))
        assert "'=HYPERLINK(1)" in text.content.decode("utf-8-sig")


class TestList:
    def test_it_lists_the_firms_campaigns_with_their_counts(
        self, mandate_campaign, alice_client, charlie_client, firm_b, charlie
    ):
        _launch(firm_b, charlie, Kind.SENSITISATION, [_client(firm_b, "B1")], name="Bravo")
        page = alice_client.get(reverse("campaign_list")).content.decode()
        row = re.search(
            rf'data-testid="campaign-{mandate_campaign.public_id}">(.*?)</tr>', page, re.S
        ).group(1)
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        assert cells[1:] == [
            "Mandat",
            "Alice Adam",
            timezone.localtime(mandate_campaign.created_at).strftime("%d/%m/%Y %H:%M"),
            "Envois terminés",
            "5",
            "3",
            "2",
            "0",
        ]
        assert "Bravo" not in page
        assert (
            mandate_campaign.name
            not in charlie_client.get(reverse("campaign_list")).content.decode()
        )

    def test_the_reform_dashboard_links_to_the_list(self, alice_client):
        page = alice_client.get(reverse("reform_dashboard")).content.decode()
        assert f'href="{reverse("campaign_list")}"' in page


# --- Tenancy ---------------------------------------------------------------------------


CAMPAIGN_ROUTES = [
    ("campaign_detail", "get", {}),
    ("campaign_pause", "post", {}),
    ("campaign_resume", "post", {}),
    ("campaign_remind", "post", {}),
    ("campaign_retry", "post", {}),
    ("campaign_export", "get", {"fmt": "csv"}),
    ("campaign_export", "get", {"fmt": "xlsx"}),
]


class TestTenancy:
    @pytest.mark.parametrize(("name", "method", "kwargs"), CAMPAIGN_ROUTES)
    def test_charlie_gets_404_and_changes_nothing(
        self, name, method, kwargs, mandate_campaign, charlie_client, alice_client
    ):
        url = reverse(name, kwargs={"public_id": mandate_campaign.public_id, **kwargs})
        before = list(
            Target.objects.order_by("id").values_list("status", "remind_round", "reminders")
        )
        state = Campaign.objects.get().state
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = getattr(charlie_client, method)(url, **headers)
            assert response.status_code == 404, (name, headers)
        assert (
            list(Target.objects.order_by("id").values_list("status", "remind_round", "reminders"))
            == before
        )
        assert Campaign.objects.get().state == state
        # The wrong method, and alice's control.
        other = "post" if method == "get" else "get"
        assert getattr(alice_client, other)(url).status_code == 405
        assert getattr(alice_client, method)(url).status_code in (200, 302)

    def test_the_portfolio_filter_never_opens_another_firms_campaign(
        self, mandate_campaign, charlie_client, firm_b
    ):
        _client(firm_b, "B1")
        for stage in ("", "envoyes", "bloques"):
            assert _portfolio_total(charlie_client, mandate_campaign, stage) == 0
        page = charlie_client.get(reverse("home"), {"campagne": str(mandate_campaign.public_id)})
        assert mandate_campaign.name not in page.content.decode()
        assert "Entreprise A1" not in page.content.decode()

    def test_a_missing_campaign_is_the_same_404(self, alice_client, clients):
        import uuid

        assert alice_client.get(reverse("campaign_detail", args=[uuid.uuid4()])).status_code == 404
        assert alice_client.get("/campagnes/pas-un-uuid/").status_code == 404

    def test_a_bad_campaign_parameter_is_ignored(self, alice_client, clients):
        response = alice_client.get(reverse("home"), {"campagne": "x'; --", "etape": "nope"})
        assert response.status_code == 200
        assert response.context["page"].total == 5
