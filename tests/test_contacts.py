"""Contacts of the client page: add, edit, delete, and the principal flag."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils.html import escape

from tests.factories import ClientFactory, ContactFactory
from vigie.clients import services
from vigie.clients.models import Access, Client, ClientEvent, Contact
from vigie.reform.services import MANDATE_NEEDS_PRINCIPAL

HTMX = {"HTTP_HX_REQUEST": "true"}
PRINCIPAL_UPDATED = "Contact principal mis à jour avec succès"


def _principal_url(client, contact):
    return reverse("contact_set_principal", args=[client.code, contact.public_id])


def _create_url(client):
    return reverse("contact_create", args=[client.code])


def _valid(**overrides):
    data = {
        "last_name": "NomClient",
        "first_name": "PrénomClient",
        "email": "client@email.com",
        "phone": "0707070707",
        "access": Access.ADMIN,
        "is_principal": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def two_contacts(client_a):
    first = ContactFactory(
        client=client_a,
        first_name="Mon client",
        last_name="contact 1",
        email="contact1@email.com",
        access=Access.ADMIN,
    )
    second = ContactFactory(
        client=client_a,
        first_name="Mon client",
        last_name="contact 2",
        email="contact2@email.com",
        access=Access.USER,
    )
    return first, second


def _principals(client):
    return list(Contact.objects.filter(client=client, is_principal=True))


# --- Principal flag ----------------------------------------------------------------


class TestPrincipal:
    def test_it_moves_the_principal_and_answers_with_the_table_and_a_toast(
        self, bob_client, client_a, two_contacts
    ):
        first, second = two_contacts
        services.contact_set_principal(contact=second, actor=None)

        response = bob_client.post(_principal_url(client_a, first), {"is_principal": "1"}, **HTMX)

        assert response.status_code == 200
        assert _principals(client_a) == [first]
        trigger = json.loads(response["HX-Trigger"])
        assert trigger["showMessage"] == {"text": PRINCIPAL_UPDATED, "kind": "success"}
        assert response["HX-Retarget"] == "#contacts"
        html = response.content.decode()
        assert html.startswith('\n<section id="contacts"') or '<section id="contacts"' in html
        assert "<html" not in html
        # The refreshed table ticks the new principal only.
        assert html.count("checked") == 1
        assert 'id="shine-readiness" hx-swap-oob="true"' in html
        assert 'id="history" class="card client-section" hx-swap-oob="true"' in html
        assert 'data-testid="reform-panel" hx-swap-oob="true"' in html

    def test_the_reform_panel_follows_the_principal_without_a_reload(
        self, bob_client, client_a, two_contacts
    ):
        first, _ = two_contacts
        page = bob_client.get(reverse("client_detail", args=[client_a.code])).content.decode()
        assert escape(MANDATE_NEEDS_PRINCIPAL) in page
        html = bob_client.post(
            _principal_url(client_a, first), {"is_principal": "1"}, **HTMX
        ).content.decode()
        panel = html[html.index('data-testid="reform-panel"') :]
        assert escape(MANDATE_NEEDS_PRINCIPAL) not in panel
        html = bob_client.post(_principal_url(client_a, first), {}, **HTMX).content.decode()
        panel = html[html.index('data-testid="reform-panel"') :]
        assert escape(MANDATE_NEEDS_PRINCIPAL) in panel

    def test_it_records_the_move_in_history(self, bob_client, bob, client_a, two_contacts):
        first, second = two_contacts
        services.contact_set_principal(contact=second, actor=None)

        bob_client.post(_principal_url(client_a, first), {"is_principal": "1"}, **HTMX)

        event = ClientEvent.objects.filter(client=client_a, kind="contact.principal").first()
        assert event.actor == bob
        assert event.changes == {
            "Contact principal": ["Mon client contact 2", "Mon client contact 1"]
        }

    def test_it_redirects_with_a_message_without_javascript(
        self, bob_client, client_a, two_contacts
    ):
        first, _ = two_contacts
        response = bob_client.post(_principal_url(client_a, first), {"is_principal": "1"})

        assert response.status_code == 302
        assert response["Location"] == f"/clients/{client_a.code}/#contacts"
        page = bob_client.get(response["Location"])
        assert PRINCIPAL_UPDATED in page.content.decode()
        assert _principals(client_a) == [first]

    def test_it_unticks_the_principal(self, bob_client, client_a, two_contacts):
        first, _ = two_contacts
        services.contact_set_principal(contact=first, actor=None)

        response = bob_client.post(_principal_url(client_a, first), {}, **HTMX)

        assert response.status_code == 200
        assert _principals(client_a) == []
        assert "Le client n&#x27;a pas de contact principal" in response.content.decode()

    def test_ticking_the_current_principal_again_changes_nothing(
        self, bob_client, client_a, two_contacts
    ):
        first, _ = two_contacts
        services.contact_set_principal(contact=first, actor=None)
        events = ClientEvent.objects.count()

        bob_client.post(_principal_url(client_a, first), {"is_principal": "1"}, **HTMX)

        assert _principals(client_a) == [first]
        assert ClientEvent.objects.count() == events

    def test_it_refuses_get(self, bob_client, client_a, two_contacts):
        first, _ = two_contacts
        assert bob_client.get(_principal_url(client_a, first)).status_code == 405

    def test_it_404s_for_a_contact_of_another_client(self, bob_client, client_a, firm_a):
        other = ContactFactory(client=ClientFactory(firm=firm_a))
        url = reverse("contact_set_principal", args=[client_a.code, other.public_id])
        assert bob_client.post(url, {"is_principal": "1"}).status_code == 404
        assert not Contact.objects.get(pk=other.pk).is_principal


def _tick(contact_pk: int, barrier: threading.Barrier, errors: list) -> None:
    """One collaborator ticking PRINCIPAL, in its own thread and database connection."""
    try:
        # Connect and load first, so both threads reach the service together.
        contact = Contact.objects.select_related("client").get(pk=contact_pk)
        barrier.wait(timeout=10)
        with transaction.atomic():
            services.contact_set_principal(contact=contact, actor=None)
            # Commit late, as a slow request would: the other thread runs meanwhile.
            time.sleep(0.2)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_it_keeps_exactly_one_principal_under_concurrent_ticks(firm_a):
    """Two collaborators tick two contacts at the same moment: one principal at the end."""
    client = ClientFactory(firm=firm_a)
    contacts = [ContactFactory(client=client) for _ in range(2)]
    for round_ in range(5):
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []
        threads = [threading.Thread(target=_tick, args=(c.pk, barrier, errors)) for c in contacts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert errors == [], f"round {round_}: {errors!r}"
        assert Contact.objects.filter(client=client, is_principal=True).count() == 1


# --- Adding a contact ----------------------------------------------------------------


class TestCreate:
    def test_it_shows_the_form_in_the_dialog(self, bob_client, client_a):
        response = bob_client.get(_create_url(client_a), **HTMX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        for label in ("Nom *", "Prénom *", "E-mail *", "Téléphone *", "Contact principal"):
            assert label in html
        assert "Enregistrer" in html

    def test_it_shows_a_full_page_without_javascript(self, bob_client, client_a):
        response = bob_client.get(_create_url(client_a))
        assert response.status_code == 200
        assert "<html" in response.content.decode()

    def test_it_adds_the_principal_contact(self, bob_client, bob, client_a):
        response = bob_client.post(_create_url(client_a), _valid(), **HTMX)

        assert response.status_code == 200
        contact = Contact.objects.get(client=client_a)
        assert (contact.last_name, contact.first_name) == ("NomClient", "PrénomClient")
        assert contact.email == "client@email.com"
        assert contact.phone == "+33707070707"
        assert contact.is_principal
        assert contact.firm_id == client_a.firm_id
        trigger = json.loads(response["HX-Trigger"])
        assert "closeModal" in trigger
        assert trigger["showMessage"]["kind"] == "success"
        assert "NomClient" in response.content.decode()
        kinds = set(ClientEvent.objects.filter(client=client_a).values_list("kind", flat=True))
        assert {"contact.created", "contact.principal"} <= kinds

    def test_a_new_principal_replaces_the_previous_one(self, bob_client, client_a, two_contacts):
        first, _ = two_contacts
        services.contact_set_principal(contact=first, actor=None)

        bob_client.post(_create_url(client_a), _valid(), **HTMX)

        assert [c.email for c in _principals(client_a)] == ["client@email.com"]

    def test_it_redirects_without_javascript(self, bob_client, client_a):
        response = bob_client.post(_create_url(client_a), _valid())
        assert response.status_code == 302
        assert response["Location"] == f"/clients/{client_a.code}/#contacts"

    @pytest.mark.parametrize(
        "raw", ["0707070707", "07 07 07 07 07", "+33 7 07 07 07 07", "0033707070707"]
    )
    def test_it_stores_french_phones_in_one_form(self, bob_client, client_a, raw):
        bob_client.post(_create_url(client_a), _valid(phone=raw), **HTMX)
        assert Contact.objects.get(client=client_a).phone == "+33707070707"

    @pytest.mark.parametrize("missing", ["last_name", "first_name", "email", "phone"])
    def test_it_requires_each_starred_field(self, bob_client, client_a, missing):
        response = bob_client.post(_create_url(client_a), _valid(**{missing: ""}), **HTMX)

        assert response.status_code == 200
        assert "Ce champ est obligatoire." in response.content.decode()
        assert not Contact.objects.filter(client=client_a).exists()

    def test_it_refuses_blank_names_made_of_spaces(self, bob_client, client_a):
        response = bob_client.post(_create_url(client_a), _valid(last_name="   "), **HTMX)
        assert "Ce champ est obligatoire." in response.content.decode()
        assert not Contact.objects.exists()

    def test_it_refuses_an_invalid_email(self, bob_client, client_a):
        response = bob_client.post(_create_url(client_a), _valid(email="client@"), **HTMX)

        html = response.content.decode()
        assert "Saisissez une adresse e-mail valide." in html
        assert not Contact.objects.exists()

    def test_it_refuses_an_invalid_phone(self, bob_client, client_a):
        response = bob_client.post(_create_url(client_a), _valid(phone="12345"), **HTMX)

        assert "Ce numéro de téléphone n&#x27;est pas valide." in response.content.decode()
        assert not Contact.objects.exists()

    def test_it_refuses_an_email_of_another_contact_of_the_client(
        self, bob_client, client_a, two_contacts
    ):
        response = bob_client.post(
            _create_url(client_a), _valid(email="CONTACT1@Email.com"), **HTMX
        )

        assert "déjà utilisée par un autre contact de ce client" in response.content.decode()
        assert Contact.objects.filter(client=client_a).count() == 2
        assert _principals(client_a) == []

    def test_the_same_email_is_fine_on_another_client(self, bob_client, firm_a, client_a):
        ContactFactory(client=ClientFactory(firm=firm_a), email="client@email.com")
        bob_client.post(_create_url(client_a), _valid(), **HTMX)
        assert Contact.objects.filter(client=client_a, email="client@email.com").exists()

    def test_the_service_refuses_a_duplicate_email_too(self, client_a, two_contacts):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError) as exc:
            services.contact_create(
                client=client_a,
                actor=None,
                data={
                    "last_name": "X",
                    "first_name": "Y",
                    "email": "Contact2@email.com",
                    "phone": "",
                    "access": Access.USER,
                    "is_principal": True,
                },
            )
        assert "email" in exc.value.message_dict
        assert _principals(client_a) == []

    def test_it_shows_errors_on_the_full_page_without_javascript(self, bob_client, client_a):
        response = bob_client.post(_create_url(client_a), _valid(phone="12345"))
        assert response.status_code == 200
        assert "<html" in response.content.decode()
        assert "Ce numéro de téléphone" in response.content.decode()

    def test_it_refuses_put(self, bob_client, client_a):
        assert bob_client.put(_create_url(client_a)).status_code == 405


# --- Editing and deleting --------------------------------------------------------------


class TestUpdate:
    def test_it_edits_and_records_before_and_after(self, bob_client, client_a, two_contacts):
        first, _ = two_contacts
        url = reverse("contact_update", args=[client_a.code, first.public_id])
        data = _valid(
            last_name="contact 1",
            first_name="Mon client",
            email="nouvelle@email.com",
            phone="+33 6 12 34 56 78",
            is_principal=None,
        )

        response = bob_client.post(url, data, **HTMX)

        assert response.status_code == 200
        first.refresh_from_db()
        assert (first.email, first.phone) == ("nouvelle@email.com", "+33612345678")
        event = ClientEvent.objects.get(client=client_a, kind="contact.updated")
        assert event.changes["e-mail"] == ["contact1@email.com", "nouvelle@email.com"]
        assert event.changes["téléphone"] == ["", "+33612345678"]

    def test_it_prefills_the_form(self, bob_client, client_a, two_contacts):
        first, _ = two_contacts
        url = reverse("contact_update", args=[client_a.code, first.public_id])
        html = bob_client.get(url, **HTMX).content.decode()
        assert 'value="contact1@email.com"' in html

    def test_it_keeps_its_own_email(self, bob_client, client_a, two_contacts):
        first, _ = two_contacts
        url = reverse("contact_update", args=[client_a.code, first.public_id])
        data = _valid(last_name="Renommé", email="Contact1@email.com", is_principal=None)
        bob_client.post(url, data, **HTMX)
        first.refresh_from_db()
        assert first.last_name == "Renommé"

    def test_it_refuses_the_email_of_another_contact(self, bob_client, client_a, two_contacts):
        first, _ = two_contacts
        url = reverse("contact_update", args=[client_a.code, first.public_id])
        response = bob_client.post(url, _valid(email="contact2@email.com"), **HTMX)
        assert "déjà utilisée" in response.content.decode()
        first.refresh_from_db()
        assert first.email == "contact1@email.com"
        assert not first.is_principal

    def test_it_refuses_put(self, bob_client, client_a, two_contacts):
        url = reverse("contact_update", args=[client_a.code, two_contacts[0].public_id])
        assert bob_client.put(url).status_code == 405


class TestDelete:
    def test_deleting_the_principal_leaves_none_and_says_so(
        self, bob_client, client_a, two_contacts
    ):
        first, second = two_contacts
        services.contact_set_principal(contact=first, actor=None)
        url = reverse("contact_delete", args=[client_a.code, first.public_id])

        response = bob_client.post(url, **HTMX)

        assert response.status_code == 200
        assert list(Contact.objects.filter(client=client_a)) == [second]
        trigger = json.loads(response["HX-Trigger"])
        assert "n'a plus de contact principal" in trigger["showMessage"]["text"]
        assert "Le client n&#x27;a pas de contact principal" in response.content.decode()
        kinds = list(ClientEvent.objects.filter(client=client_a).values_list("kind", flat=True))
        assert kinds[:2] == ["contact.principal", "contact.deleted"]

    def test_it_refuses_get(self, bob_client, client_a, two_contacts):
        url = reverse("contact_delete", args=[client_a.code, two_contacts[0].public_id])
        assert bob_client.get(url).status_code == 405
        assert Contact.objects.filter(client=client_a).count() == 2


def test_the_model_still_allows_a_single_principal_per_client(client_a, two_contacts):
    """The partial unique constraint backs the service up."""
    from django.db import IntegrityError

    first, second = two_contacts
    Contact.objects.filter(pk=first.pk).update(is_principal=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=second.pk).update(is_principal=True)
    assert Client.objects.get(pk=client_a.pk)
