from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import ClientFactory
from vigie.clients.models import Client, ClientEvent

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
