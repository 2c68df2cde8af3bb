from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory
from vigie.clients.models import Client, ClientAssignment, ClientEvent

URL = reverse("client_create")
VALID = {
    "name": "Cabinet Dentaire de l'Oasis",
    "code": "000246",
    "legal_form": "SELARL",
    "regime": "reel_normal",
    "siret": "845 236 561 00013",
    "ape_code": "8623z",
    "activity": "Dentiste",
    "notes": "",
}


def test_it_creates_a_client_with_normalised_details(alice_client, alice, firm_a):
    response = alice_client.post(URL, VALID)
    client = Client.objects.get(firm=firm_a, code="000246")
    assert response.status_code == 302
    assert response["Location"] == reverse("client_detail", args=["000246"])
    assert client.siret == "84523656100013"
    assert client.ape_code == "86.23Z"
    assert client.collect_email.startswith("invoice-")
    event = ClientEvent.objects.get(client=client)
    assert event.actor == alice and event.kind == "client.created"


def test_the_form_shows_every_detail_field(alice_client):
    body = alice_client.get(URL).content.decode()
    for label in (
        "Raison sociale",
        "Code client",
        "Forme juridique",
        "Régime",
        "Siret",
        "Code APE",
        "Activité",
    ):
        assert label in body


@pytest.mark.parametrize(
    ("change", "field_message"),
    [
        ({"siret": "84523656100014"}, "la clé de contrôle ne correspond pas"),
        ({"siret": "8452365610001A"}, "ne doit contenir que des chiffres"),
        ({"siret": "845236561"}, "14 chiffres"),
        ({"legal_form": "GMBH"}, "Sélectionnez un choix valide"),
        ({"name": "x" * 201}, "au plus 200 caractères"),
        ({"name": ""}, "Ce champ est obligatoire"),
        ({"code": "00/01"}, "Le code client ne peut contenir"),
        ({"ape_code": "62-01"}, "code NAF"),
    ],
)
def test_it_refuses_bad_input_in_french(alice_client, firm_a, change, field_message):
    response = alice_client.post(URL, {**VALID, **change})
    assert response.status_code == 200
    assert field_message in response.content.decode()
    assert not Client.objects.filter(firm=firm_a).exists()


def test_it_refuses_a_duplicate_code(alice_client, firm_a):
    ClientFactory(firm=firm_a, code="000246")
    response = alice_client.post(URL, VALID)
    assert (
        "Ce code client est déjà utilisé par un autre client du cabinet."
        in response.content.decode()
    )
    assert Client.objects.filter(firm=firm_a).count() == 1


def test_another_firm_may_use_the_same_code(charlie_client, firm_a, firm_b):
    ClientFactory(firm=firm_a, code="000246")
    charlie_client.post(URL, VALID)
    assert Client.objects.filter(firm=firm_b, code="000246").exists()


def test_it_accepts_only_get_and_post(alice_client):
    assert alice_client.put(URL).status_code == 405


def test_charlie_cannot_open_firm_a_clients(charlie_client, client_a):
    response = charlie_client.get(reverse("client_detail", args=[client_a.code]))
    assert response.status_code == 404


def test_a_missing_client_is_the_same_404(alice_client):
    assert alice_client.get(reverse("client_detail", args=["NOPE"])).status_code == 404


# --- The creator follows the client: « Mes dossiers » finds it ------------------------


def _mine(http) -> list[str]:
    html = http.get(reverse("home"), {"mine": "1", "per_page": 100}).content.decode()
    return re.findall(r'<tr data-code="([^"]+)">', html)


def test_the_form_proposes_the_creator_as_collaborator(bob_client, bob, alice, charlie):
    html = bob_client.get(URL).content.decode()
    assert f'<option value="{bob.public_id}" selected>Bob Bernard</option>' in html
    assert "Collaborateur" in html
    assert str(alice.public_id) in html and str(charlie.public_id) not in html


def test_a_created_client_is_in_the_creators_files(bob_client, bob, firm_a):
    response = bob_client.post(URL, {**VALID, "collaborator": str(bob.public_id)})
    assert response.status_code == 302
    client = Client.objects.get(firm=firm_a, code="000246")
    assert list(ClientAssignment.objects.filter(client=client).values_list("user", flat=True)) == [
        bob.pk
    ]
    assert _mine(bob_client) == ["000246"]
    event = ClientEvent.objects.get(client=client)  # one entry: created, with its collaborator
    assert event.kind == "client.created" and event.changes == {"Collaborateurs": ["", str(bob)]}


def test_an_admin_may_give_it_to_a_colleague(alice_client, bob_client, bob, firm_a):
    alice_client.post(URL, {**VALID, "collaborator": str(bob.public_id)})
    assert _mine(bob_client) == ["000246"] and _mine(alice_client) == []


def test_no_collaborator_is_a_choice(alice_client, firm_a):
    alice_client.post(URL, {**VALID, "collaborator": ""})
    assert Client.objects.filter(firm=firm_a, code="000246").exists()
    assert not ClientAssignment.objects.exists()


def test_a_collaborator_of_another_firm_is_refused(alice_client, charlie, firm_a):
    response = alice_client.post(URL, {**VALID, "collaborator": str(charlie.public_id)})
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not Client.objects.filter(firm=firm_a).exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_collaborator_creates_a_client_and_finds_it_in_mes_dossiers(live_server, page, bob):
    ClientFactory(firm=bob.membership.firm, code="000100", name="Autre dossier")
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, "bob@alpha.fr", PASSWORD)
    page.get_by_role("link", name="+ Nouveau client").click()
    page.get_by_label("Raison sociale").fill("Cabinet Dentaire de l'Oasis")
    page.get_by_label("Code client").fill("000246")
    page.get_by_label("Siret").fill("845 236 561 00013")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#toasts")).to_contain_text("Client « Cabinet Dentaire de l'Oasis » créé.")

    page.get_by_role("link", name="Portefeuille clients").first.click()
    expect(page.get_by_test_id("page-range")).to_have_text("1-2 sur 2")
    page.get_by_label("Mes dossiers").check()
    page.wait_for_url(re.compile(r"mine=1"))
    expect(page.get_by_test_id("page-range")).to_have_text("1-1 sur 1")
    expect(page.locator('tr[data-code="000246"]')).to_be_visible()
