"""The equipment dialog: catalogue, declaring a solution, fixing Shine's prerequisites."""

from __future__ import annotations

import json

import pytest

from tests.factories import ClientFactory, ContactFactory
from vigie.clients.models import ClientEvent
from vigie.equipment.models import Equipment

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ready_client(firm_a, catalogue):
    client = ClientFactory(firm=firm_a, name="Boulangerie Dupont", code="A001")
    ContactFactory(
        client=client,
        first_name="Jeanne",
        last_name="Dupont",
        email="jeanne@dupont.fr",
        is_principal=True,
    )
    return client


def test_it_shows_the_catalogue_and_shine_choices(alice_client, ready_client):
    page = alice_client.get("/equipement/clients/A001/", **HX)
    html = page.content.decode()
    assert page.status_code == 200
    for label in (
        "Boulangerie Dupont",
        "SOLUTIONS CEGID",
        "AUTRES",
        "Non concerné",
        "Abby",
        "Axonaut",
        "cegid quadra gestion interne",
        "Compleo Invoice Platform",
        "Daxt",
        "Achat &amp; Ventes",
        "Achats",
        "Mode de facturation",
        "Cabinet",
        "Easy",
        "Start",
        "Plus",
        "Factures illimitées",
        "Facturation récurrente",
        "Activer",
        "le cabinet se charge de refacturer directement le client TPE",
    ):
        assert label in html, label


def test_it_redirects_without_htmx(alice_client, ready_client):
    assert alice_client.get("/equipement/clients/A001/").status_code == 302


def test_it_declares_a_non_partner_solution(alice_client, ready_client, catalogue):
    response = alice_client.post(
        "/equipement/clients/A001/declarer/", {"solution": "abby", "scope": "achat_ventes"}, **HX
    )
    assert response.status_code == 200
    events = json.loads(response["HX-Trigger"])
    assert events["closeModal"] and events["equipmentChanged"]
    slots = set(Equipment.objects.filter(client=ready_client).values_list("slot", flat=True))
    assert slots == {"achat", "vente"}
    assert ClientEvent.objects.filter(client=ready_client, kind="equipment.declared").exists()


def test_it_refuses_a_choice_the_solution_does_not_offer(alice_client, ready_client):
    response = alice_client.post(
        "/equipement/clients/A001/declarer/", {"solution": "daxt", "scope": "achat_ventes"}, **HX
    )
    assert "pas proposé" in response.content.decode()
    assert not Equipment.objects.exists()
    response = alice_client.post(
        "/equipement/clients/A001/declarer/", {"solution": "shine", "scope": "achat_ventes"}, **HX
    )
    assert "invitation" in response.content.decode()
    response = alice_client.post(
        "/equipement/clients/A001/declarer/", {"solution": "nope", "scope": "achats"}, **HX
    )
    assert "Choisissez une solution" in response.content.decode()
    assert not Equipment.objects.exists()


def test_it_shows_shine_unavailable_without_siret_and_fixes_it(alice_client, firm_a, catalogue):
    client = ClientFactory(firm=firm_a, code="NOSIRET", siret="")
    ContactFactory(client=client, email="x@y.fr", is_principal=True)
    html = alice_client.get("/equipement/clients/NOSIRET/", **HX).content.decode()
    assert "Indisponible" in html and "Le SIRET est obligatoire pour inviter la TPE" in html
    bad = alice_client.post("/equipement/clients/NOSIRET/siret/", {"siret": "12345678901234"}, **HX)
    assert "clé de contrôle" in bad.content.decode()
    ok = alice_client.post(
        "/equipement/clients/NOSIRET/siret/", {"siret": "845 236 561 00013"}, **HX
    )
    client.refresh_from_db()
    assert client.siret == "84523656100013"
    assert "Indisponible" not in ok.content.decode() and "Activer" in ok.content.decode()


def test_it_asks_for_a_principal_contact_and_creates_it(alice_client, firm_a, catalogue):
    ClientFactory(firm=firm_a, code="NOCONTACT")
    html = alice_client.get("/equipement/clients/NOCONTACT/", **HX).content.decode()
    assert "Indisponible" in html and "contact principal" in html
    bad = alice_client.post(
        "/equipement/clients/NOCONTACT/contact/",
        {
            "last_name": "Martin",
            "first_name": "Paul",
            "email": "pas-une-adresse",
            "phone": "0707070707",
        },
        **HX,
    )
    assert "Saisissez une adresse e-mail valide." in bad.content.decode()
    ok = alice_client.post(
        "/equipement/clients/NOCONTACT/contact/",
        {
            "last_name": "Martin",
            "first_name": "Paul",
            "email": "paul@martin.fr",
            "phone": "0707070707",
            "access": "admin",
        },
        **HX,
    )
    assert "Activer" in ok.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/equipement/clients/A001/",
        "/equipement/clients/A001/shine-statut/",
    ],
)
def test_charlie_gets_404(charlie_client, ready_client, url):
    assert charlie_client.get(url, **HX).status_code == 404


@pytest.mark.parametrize("action", ["declarer", "siret", "contact", "alias", "shine"])
def test_charlie_cannot_post(charlie_client, ready_client, action):
    response = charlie_client.post(
        f"/equipement/clients/A001/{action}/",
        {"solution": "abby", "scope": "achats", "plan": "start", "billing_mode": "cabinet"},
        **HX,
    )
    assert response.status_code == 404
    assert not Equipment.objects.exists()


def test_wrong_methods(alice_client, ready_client):
    assert alice_client.post("/equipement/clients/A001/", **HX).status_code == 405
    assert alice_client.get("/equipement/clients/A001/declarer/", **HX).status_code == 405
    assert alice_client.get("/equipement/clients/A001/shine/", **HX).status_code == 405
    assert alice_client.get("/equipement/selection/shine/", **HX).status_code == 405


def test_the_selection_declares_for_every_client(alice_client, firm_a, catalogue):
    a, b = ClientFactory(firm=firm_a, code="S1"), ClientFactory(firm=firm_a, code="S2")
    response = alice_client.post(
        "/equipement/selection/declarer/",
        {"codes": ["S1", "S2"], "solution": "non-concerne", "scope": "achats"},
        **HX,
    )
    assert response.status_code == 200
    assert Equipment.objects.filter(client__in=[a, b], slot="achat").count() == 2


def test_the_selection_ignores_other_firms_codes(charlie_client, ready_client):
    response = charlie_client.get("/equipement/selection/?codes=A001", **HX)
    assert "Aucun client sélectionné" in response.content.decode()
