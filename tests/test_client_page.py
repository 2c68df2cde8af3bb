"""The client page: what it shows, its details, notes, collaborators, history, tenancy."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import ClientFactory, ContactFactory, MembershipFactory
from vigie.clients import history, services
from vigie.clients.client_page import collaborators_of
from vigie.clients.models import Access, ClientAssignment, ClientEvent, Contact, PaStatus
from vigie.clients.readiness import NO_PRINCIPAL, PRINCIPAL_WITHOUT_EMAIL, shine_blockers
from vigie.equipment.models import Equipment, Slot
from vigie.invitations.models import BillingMode, Invitation, Plan, SendMethod, Status
from vigie.lib.validators import SIRET_REQUIRED_FOR_SHINE
from vigie.partners.models import PartnerLink

HTMX = {"HTTP_HX_REQUEST": "true"}
MAX_PAGE_QUERIES = 11
VALID_SIRET = "84523656100013"


def _url(client, name="client_detail", *args):
    return reverse(name, args=[client.code, *args])


def _details(client, **overrides):
    data = {
        "name": client.name,
        "code": client.code,
        "legal_form": client.legal_form,
        "regime": client.regime,
        "siret": client.siret,
        "ape_code": client.ape_code,
        "activity": client.activity,
    }
    data.update(overrides)
    return data


@pytest.fixture
def full_client(firm_a, alice, bob, catalogue):
    """A client with contacts, equipment, collaborators and some history."""
    client = ClientFactory(
        firm=firm_a,
        code="000246",
        name="CABINET DENTAIRE DE L'OASIS",
        siret=VALID_SIRET,
        ape_code="00.00Z",
        reception_flux="Shine Plus",
        flux_banque="Qonto",
        docs_to_file=7,
        pa_status=PaStatus.INVITED,
        sensitised=True,
    )
    ContactFactory(
        client=client,
        first_name="Mon client",
        last_name="contact 1",
        email="contact1@email.com",
        access=Access.ADMIN,
    )
    ContactFactory(
        client=client,
        first_name="Mon client",
        last_name="contact 2",
        email="contact2@email.com",
        phone="+33707070707",
        access=Access.USER,
    )
    Equipment.objects.create(
        firm=firm_a, client=client, slot=Slot.ACHAT, solution=catalogue["shine"], plan="Plus"
    )
    Equipment.objects.create(
        firm=firm_a, client=client, slot=Slot.CAISSE, solution=catalogue["sumup"]
    )
    services.assignment_add(client=client, user=alice, actor=alice)
    return client


# --- The page ----------------------------------------------------------------------------


class TestPage:
    def test_it_shows_contacts_details_equipment_and_collecte(self, bob_client, full_client):
        html = bob_client.get(_url(full_client)).content.decode()

        assert "Portefeuille clients" in html
        for text in (
            "CONTACT",
            "PRINCIPAL",
            "ACCÈS",
            "EMAIL",
            "TÉLÉPHONE",
            "Mon client contact 1",
            "Admin",
            "Utilisateur",
            "contact2@email.com",
            "07 07 07 07 07",
            "+ Ajouter un contact",
        ):
            assert text in html, text
        for label in ("Forme juridique", "Régime", "Code client", "Code APE", "Activité", "Siret"):
            assert f"<dt>{label}</dt>" in html
        assert "845 236 561 00013" in html
        for label in ("Achat", "Vente", "Caisse", "Inscription PA", "Sensi. réforme"):
            assert f"<dt>{label}</dt>" in html
        assert "<dt>Achat</dt><dd>Shine Plus</dd>" in html
        assert "<dt>Vente</dt><dd>—</dd>" in html
        assert "<dt>Caisse</dt><dd>SumUp</dd>" in html
        assert "Invitation envoyée" in html and 'Oui <svg class="mark mark-yes"' in html
        for label in ("Réception flux", "Flux achat", "Flux vente", "Flux banque"):
            assert f"<dt>{label}</dt>" in html
        assert "<dt>Doc. à classer</dt><dd>7</dd>" in html
        assert "Alice Adam" in html  # assigned collaborator

    def test_a_slot_lists_its_solutions_in_the_order_added(
        self, bob_client, firm_a, catalogue, client_a
    ):
        for solution, plan in ((catalogue["sumup"], ""), (catalogue["shine"], "Start")):
            Equipment.objects.create(
                firm=firm_a, client=client_a, slot=Slot.VENTE, solution=solution, plan=plan
            )
        html = bob_client.get(_url(client_a)).content.decode()
        assert "<dt>Vente</dt><dd>SumUp, Shine Start</dd>" in html

    def test_its_query_count_is_small_and_does_not_grow_with_the_client(
        self, bob_client, bob, firm_a, full_client, django_assert_num_queries
    ):
        # session, user with its firm, client, contacts, assigned and candidate collaborators
        # (one statement), history, equipment, and what panels of other areas add (the
        # Réforme panel: its mandate; it reuses the page's principal contact; the Shine line:
        # the latest invitation with its sender and partner link; the Registres card: both
        # registers' checks, and for a client never checked whether a check is under way).
        small = ClientFactory(firm=firm_a)
        bob_client.get(_url(small))
        with CaptureQueriesContext(connection) as baseline:
            assert bob_client.get(_url(small)).status_code == 200
        assert len(baseline) <= MAX_PAGE_QUERIES
        for i in range(8):
            ContactFactory(client=full_client, email=f"extra{i}@email.com")
        for _ in range(4):
            user = MembershipFactory(firm=firm_a).user
            services.assignment_add(client=full_client, user=user, actor=user)
        services.client_notes_update(client=full_client, actor=None, notes="Une note")
        sent = Invitation.objects.create(
            firm=firm_a,
            client=full_client,
            email="contact1@email.com",
            plan=Plan.PLUS,
            billing_mode=BillingMode.CABINET,
            status=Status.SENT,
            send_method=SendMethod.VIGIE,
            sent_by=bob,
            sent_at=timezone.now(),
        )
        PartnerLink.objects.create(firm=firm_a, invitation=sent, attempts=2)
        with django_assert_num_queries(len(baseline)):
            response = bob_client.get(_url(full_client))
        assert response.status_code == 200
        # The Shine line comes with the page (no second request for it).
        html = response.content.decode()
        assert '<strong data-testid="invitation-state">Envoyée</strong>' in html
        assert "En attente partenaire · 2 tentatives" in html
        assert f"par {bob.full_name}" in html

    def test_the_shine_line_shows_the_latest_invitation(self, bob_client, bob, firm_a, client_a):
        def invite(status, **fields):
            return Invitation.objects.create(
                firm=firm_a,
                client=client_a,
                email=f"{status}@example.com",
                plan=Plan.START,
                billing_mode=BillingMode.SHINE,
                status=status,
                **fields,
            )

        html = bob_client.get(_url(client_a)).content.decode()
        assert 'data-testid="client-shine-panel"' in html and "invitation-state" not in html
        # sent by hand (mailto): no partner link yet, no sender shown
        invite(Status.CANCELLED)
        invite(Status.SENT, send_method=SendMethod.MAILTO, sent_at=timezone.now())
        html = bob_client.get(_url(client_a)).content.decode()
        assert '<strong data-testid="invitation-state">Envoyée</strong>' in html
        assert "(envoyee@example.com)" in html and "En attente partenaire" not in html
        # the newest one wins; activated with its account: « Accéder à Shine »
        active = invite(Status.ACTIVATED, sent_by=bob)
        PartnerLink.objects.create(firm=firm_a, invitation=active, account_active=True)
        html = bob_client.get(_url(client_a)).content.decode()
        assert '<strong data-testid="invitation-state">Activé</strong>' in html
        assert 'data-testid="shine-card"' in html
        assert f'action="{reverse("shine_access", args=[client_a.code])}"' in html

    def test_it_404s_for_an_unknown_code(self, bob_client, db):
        assert bob_client.get("/clients/NOPE/").status_code == 404

    def test_it_sends_anonymous_visitors_to_sign_in(self, client, client_a):
        response = client.get(_url(client_a))
        assert response.status_code == 302
        assert "/compte/login/" in response["Location"]

    def test_it_refuses_post(self, bob_client, client_a):
        assert bob_client.post(_url(client_a)).status_code == 405


# --- Shine readiness ------------------------------------------------------------------------


class TestReadiness:
    def test_it_lists_every_reason(self, firm_a):
        client = ClientFactory(firm=firm_a, siret="")
        assert shine_blockers(client, []) == [SIRET_REQUIRED_FOR_SHINE, NO_PRINCIPAL]
        assert [b.code for b in shine_blockers(client, [])] == ["siret", "principal"]

    def test_a_principal_without_email_blocks(self, firm_a):
        client = ClientFactory(firm=firm_a)
        ContactFactory(client=client, email="", is_principal=True)
        assert shine_blockers(client) == [PRINCIPAL_WITHOUT_EMAIL]

    def test_a_wrong_check_digit_blocks(self, firm_a):
        client = ClientFactory(firm=firm_a)
        client.siret = "84523656100014"
        ContactFactory(client=client, is_principal=True)
        assert shine_blockers(client) == [SIRET_REQUIRED_FOR_SHINE]

    def test_a_ready_client_has_none(self, firm_a):
        client = ClientFactory(firm=firm_a)
        ContactFactory(client=client, is_principal=True)
        assert shine_blockers(client) == []

    def test_the_banner_says_why_with_links_to_fix_it(self, bob_client, firm_a):
        client = ClientFactory(firm=firm_a, siret="")
        html = bob_client.get(_url(client)).content.decode()
        assert "Le SIRET est obligatoire pour inviter la TPE" in html
        assert f'href="/clients/{client.code}/?modifier=details#details"' in html
        assert "Le client n&#x27;a pas de contact principal" in html
        assert f'href="/clients/{client.code}/contacts/nouveau/"' in html

    def test_the_banner_links_to_the_principal_without_email(self, bob_client, firm_a):
        client = ClientFactory(firm=firm_a)
        contact = ContactFactory(client=client, email="", is_principal=True)
        html = bob_client.get(_url(client)).content.decode()
        assert "Le contact principal n&#x27;a pas d&#x27;adresse e-mail" in html
        assert f"/contacts/{contact.public_id}/" in html

    def test_a_ready_client_shows_no_blocker(self, bob_client, firm_a):
        client = ClientFactory(firm=firm_a)
        ContactFactory(client=client, is_principal=True)
        html = bob_client.get(_url(client)).content.decode()
        assert 'data-testid="shine-ready"' in html
        assert 'data-testid="shine-blockers"' not in html

    def test_the_modifier_link_opens_the_details_form(self, bob_client, client_a):
        html = bob_client.get(_url(client_a) + "?modifier=details").content.decode()
        assert '<details class="edit-details" open>' in html


# --- Details -------------------------------------------------------------------------------


class TestDetails:
    def test_it_saves_and_records_history(self, bob_client, bob, client_a):
        url = _url(client_a, "client_details_update")
        data = _details(client_a, siret="845 236 561 00013", ape_code="6201z", activity="Soins")

        response = bob_client.post(url, data)

        assert response.status_code == 302
        assert response["Location"] == f"/clients/{client_a.code}/#details"
        client_a.refresh_from_db()
        assert (client_a.siret, client_a.ape_code) == (VALID_SIRET, "62.01Z")
        event = ClientEvent.objects.get(client=client_a, kind="client.updated")
        assert event.actor == bob
        assert event.changes["activité"] == ["", "Soins"]
        assert event.changes["SIRET"][1] == VALID_SIRET

    def test_a_new_code_moves_the_page(self, bob_client, client_a):
        response = bob_client.post(
            _url(client_a, "client_details_update"), _details(client_a, code="A002")
        )
        assert response["Location"] == "/clients/A002/#details"
        assert bob_client.get("/clients/A002/").status_code == 200
        assert bob_client.get("/clients/A001/").status_code == 404

    def test_it_refuses_a_wrong_check_digit(self, bob_client, client_a):
        before = client_a.siret
        response = bob_client.post(
            _url(client_a, "client_details_update"), _details(client_a, siret="84523656100014")
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "la clé de contrôle ne correspond pas" in html
        assert '<details class="edit-details" open>' in html
        client_a.refresh_from_db()
        assert client_a.siret == before
        assert not ClientEvent.objects.filter(client=client_a).exists()

    def test_it_refuses_a_code_of_another_client(self, bob_client, firm_a, client_a):
        ClientFactory(firm=firm_a, code="TAKEN")
        response = bob_client.post(
            _url(client_a, "client_details_update"), _details(client_a, code="TAKEN")
        )
        assert "déjà utilisé par un autre client" in response.content.decode()
        client_a.refresh_from_db()
        assert client_a.code == "A001"

    def test_it_refuses_a_bad_ape_code(self, bob_client, client_a):
        response = bob_client.post(
            _url(client_a, "client_details_update"), _details(client_a, ape_code="62")
        )
        assert "Le code APE doit être un code NAF" in response.content.decode()

    def test_the_page_leaves_the_form_out_until_it_is_opened(self, bob_client, client_a):
        html = bob_client.get(_url(client_a)).content.decode()
        url = _url(client_a, "client_details_update")
        assert f'hx-get="{url}" hx-trigger="toggle from:closest details once"' in html
        assert 'name="siret"' not in html
        # Opened (htmx): the form alone, filled with the client's details.
        fragment = bob_client.get(url, headers={"HX-Request": "true"}).content.decode()
        assert f'action="{url}"' in fragment
        assert f'name="code" value="{client_a.code}"' in fragment
        assert "<html" not in fragment

    def test_without_javascript_opening_it_shows_the_page_with_the_form(self, bob_client, client_a):
        response = bob_client.get(_url(client_a, "client_details_update"))
        assert response.status_code == 302
        assert response["Location"] == f"{_url(client_a)}?modifier=details#details"
        html = bob_client.get(response["Location"]).content.decode()
        assert 'name="siret"' in html

    def test_it_refuses_other_methods(self, bob_client, client_a):
        assert bob_client.put(_url(client_a, "client_details_update")).status_code == 405


# --- Notes -----------------------------------------------------------------------------------


class TestNotes:
    def test_it_saves_notes_with_history_and_a_toast(self, bob_client, bob, client_a):
        response = bob_client.post(
            _url(client_a, "client_notes_update"), {"notes": "Relancer en mars."}, **HTMX
        )

        assert response.status_code == 200
        client_a.refresh_from_db()
        assert client_a.notes == "Relancer en mars."
        assert json.loads(response["HX-Trigger"])["showMessage"]["text"] == "Notes enregistrées"
        assert '<section id="notes"' in response.content.decode()
        event = ClientEvent.objects.get(client=client_a, kind="client.notes")
        assert (event.actor, event.changes) == (bob, {"notes": ["", "Relancer en mars."]})

    def test_unchanged_notes_write_no_history(self, bob_client, client_a):
        bob_client.post(_url(client_a, "client_notes_update"), {"notes": ""})
        assert not ClientEvent.objects.filter(client=client_a).exists()

    def test_it_refuses_get(self, bob_client, client_a):
        assert bob_client.get(_url(client_a, "client_notes_update")).status_code == 405


# --- Collaborators assigned ----------------------------------------------------------------------


class TestAssignments:
    def test_it_assigns_a_collaborator_of_the_firm(self, bob_client, alice, bob, client_a):
        response = bob_client.post(
            _url(client_a, "assignment_add"), {"user": str(alice.public_id)}, **HTMX
        )

        assert response.status_code == 200
        assert ClientAssignment.objects.filter(client=client_a, user=alice).exists()
        assert '<section id="collaborators"' in response.content.decode()
        event = ClientEvent.objects.get(client=client_a, kind="assignment.added")
        assert event.actor == bob
        assert event.changes == {"Collaborateurs": ["", "Alice Adam"]}

    def test_it_lists_the_assigned_then_offers_the_others(
        self, bob_client, firm_a, firm_b, alice, bob, client_a
    ):
        def member(first, last, firm=firm_a, **user):
            return MembershipFactory(
                firm=firm, user__first_name=first, user__last_name=last, **user
            ).user

        zoe, eloise = member("Zoé", "Écuyer"), member("Éloïse", "Durand")
        member("Inès", "Inactive", user__is_active=False)
        member("Other", "Firm", firm=firm_b)
        for user in (zoe, alice):
            services.assignment_add(client=client_a, user=user, actor=bob)
        assignments, candidates = collaborators_of(client_a)
        # By name, then the firm's active collaborators not assigned, by name.
        assert [a.user.email for a in assignments] == [alice.email, zoe.email]
        assert [u.email for u in candidates] == [bob.email, eloise.email]
        html = bob_client.get(_url(client_a)).content.decode()
        assert f'<option value="{eloise.public_id}">Éloïse Durand</option>' in html
        assert "Inactive" not in html and "Other Firm" not in html

    def test_it_refuses_a_collaborator_of_another_firm(self, bob_client, charlie, client_a):
        response = bob_client.post(
            _url(client_a, "assignment_add"), {"user": str(charlie.public_id)}, **HTMX
        )
        assert "n&#x27;appartient pas au cabinet" in response.content.decode()
        assert not ClientAssignment.objects.exists()

    def test_it_refuses_garbage(self, bob_client, client_a):
        response = bob_client.post(_url(client_a, "assignment_add"), {"user": "x"})
        assert response.status_code == 200
        assert "n&#x27;appartient pas au cabinet" in response.content.decode()

    def test_it_refuses_a_second_assignment(self, bob_client, alice, client_a):
        services.assignment_add(client=client_a, user=alice, actor=None)
        response = bob_client.post(
            _url(client_a, "assignment_add"), {"user": str(alice.public_id)}, **HTMX
        )
        assert "déjà affecté" in response.content.decode()
        assert ClientAssignment.objects.count() == 1

    def test_it_removes_a_collaborator(self, bob_client, alice, client_a):
        services.assignment_add(client=client_a, user=alice, actor=None)
        response = bob_client.post(_url(client_a, "assignment_remove", alice.public_id), **HTMX)
        assert response.status_code == 200
        assert not ClientAssignment.objects.exists()
        event = ClientEvent.objects.filter(client=client_a).first()
        assert event.kind == "assignment.removed"
        assert event.changes == {"Collaborateurs": ["Alice Adam", ""]}

    def test_removing_someone_not_assigned_is_a_404(self, bob_client, alice, client_a):
        response = bob_client.post(_url(client_a, "assignment_remove", alice.public_id))
        assert response.status_code == 404

    def test_it_refuses_get(self, bob_client, alice, client_a):
        assert bob_client.get(_url(client_a, "assignment_add")).status_code == 405
        url = _url(client_a, "assignment_remove", alice.public_id)
        assert bob_client.get(url).status_code == 405


# --- History -------------------------------------------------------------------------------------


class TestHistory:
    def test_it_lists_every_change_newest_first_with_who_and_before_after(
        self, bob_client, bob, firm_a
    ):
        client = ClientFactory(firm=firm_a, code="H1", siret="")
        services.client_update(client=client, actor=bob, data={"activity": "Soins dentaires"})
        contact = services.contact_create(
            client=client,
            actor=bob,
            data={
                "last_name": "Dupont",
                "first_name": "Jeanne",
                "email": "jeanne@oasis.fr",
                "phone": "+33707070707",
                "access": Access.ADMIN,
                "is_principal": False,
            },
        )
        services.contact_set_principal(contact=contact, actor=bob)

        html = bob_client.get(_url(client)).content.decode()

        kinds = list(ClientEvent.objects.filter(client=client).values_list("kind", flat=True))
        assert kinds == ["contact.principal", "contact.created", "client.updated"]
        history = html[html.index('<section id="history"') :]
        assert history.index("Contact principal : Jeanne Dupont") < history.index(
            "Contact ajouté : Jeanne Dupont"
        )
        assert history.index("Contact ajouté") < history.index("Détails modifiés")
        assert "Bob Bernard" in history
        assert "<del>—</del> → <ins>Soins dentaires</ins>" in history
        assert "<del>—</del> → <ins>Jeanne Dupont</ins>" in history

    def test_an_event_without_actor_is_the_systems(self, bob_client, client_a):
        history.record(client_a, actor=None, kind="invitation.activated", summary="Compte activé")
        html = bob_client.get(_url(client_a)).content.decode()
        history_html = html[html.index('<section id="history"') :]
        assert '<span class="history-actor">Système</span>' in history_html
        assert "<strong>Compte activé</strong>" in history_html


# --- Tenancy: charlie (firm B) reaches nothing of firm A --------------------------------------------


def _every_url(client, contact, user):
    return [
        ("get", _url(client)),
        ("post", _url(client, "client_details_update")),
        ("post", _url(client, "client_notes_update")),
        ("get", _url(client, "contact_create")),
        ("post", _url(client, "contact_create")),
        ("get", _url(client, "contact_update", contact.public_id)),
        ("post", _url(client, "contact_update", contact.public_id)),
        ("post", _url(client, "contact_set_principal", contact.public_id)),
        ("post", _url(client, "contact_delete", contact.public_id)),
        ("post", _url(client, "assignment_add")),
        ("post", _url(client, "assignment_remove", user.public_id)),
    ]


def test_charlie_gets_a_404_on_every_url_of_the_page(charlie_client, charlie, alice, full_client):
    contact = Contact.objects.filter(client=full_client).first()
    data = {
        "notes": "pirate",
        "last_name": "X",
        "first_name": "Y",
        "email": "x@y.fr",
        "phone": "0707070707",
        "access": Access.ADMIN,
        "is_principal": "1",
        "user": str(charlie.public_id),
        **_details(full_client, name="Volé"),
    }
    events = ClientEvent.objects.count()
    for method, url in _every_url(full_client, contact, alice):
        response = getattr(charlie_client, method)(url, data if method == "post" else None)
        assert response.status_code == 404, (method, url)
        htmx = getattr(charlie_client, method)(url, data if method == "post" else None, **HTMX)
        assert htmx.status_code == 404, (method, url, "htmx")
    full_client.refresh_from_db()
    assert (full_client.name, full_client.notes) == ("CABINET DENTAIRE DE L'OASIS", "")
    assert Contact.objects.filter(client=full_client).count() == 2
    assert ClientEvent.objects.count() == events


def test_charlie_cannot_reach_firm_a_contacts_through_his_own_client(
    charlie_client, firm_b, full_client
):
    own = ClientFactory(firm=firm_b, code="B001")
    contact = Contact.objects.filter(client=full_client).first()
    for name in ("contact_update", "contact_set_principal", "contact_delete"):
        url = _url(own, name, contact.public_id)
        assert charlie_client.post(url, {"is_principal": "1"}).status_code == 404
    assert Contact.objects.filter(client=full_client, is_principal=True).count() == 0


def test_unknown_contact_ids_are_404(bob_client, client_a):
    url = _url(client_a, "contact_update", uuid.uuid4())
    assert bob_client.get(url).status_code == 404


def test_a_part_of_the_page_is_served_alone_and_only_the_known_ones(alice_client, client_a):
    for part in ("banner", "equipment", "history"):
        response = alice_client.get(f"/clients/{client_a.code}/partie/{part}/")
        assert response.status_code == 200
        assert "<html" not in response.content.decode()
    assert alice_client.get(f"/clients/{client_a.code}/partie/contacts/").status_code == 404
    assert alice_client.get(f"/clients/{client_a.code}/partie/x/").status_code == 404
