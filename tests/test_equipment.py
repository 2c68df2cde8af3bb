"""The equipment dialog: catalogue, declaring a solution, fixing Shine's prerequisites."""

from __future__ import annotations

import html
import json
import re

import pytest

from tests.factories import ClientFactory, ContactFactory
from vigie.clients.models import ClientEvent
from vigie.equipment.models import Equipment

HX = {"HTTP_HX_REQUEST": "true"}


def html_text(response) -> str:
    """What the page says: tags out, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", response.content.decode()))


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
    assert {"closeModal", "equipmentChanged"} <= set(events)
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


@pytest.mark.parametrize("action", ["declarer", "retirer", "siret", "contact", "alias", "shine"])
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
    assert alice_client.get("/equipement/clients/A001/retirer/", **HX).status_code == 405
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


@pytest.mark.parametrize(
    "slot,offered,absent",
    [
        ("achat", ["Abby", "Daxt", "Compleo Invoice Platform", "Non concerné"], ["SumUp", "bim"]),
        (
            "vente",
            ["bim", "Freebe", "Henrri", "Cegid Devis Factures", "Abby", "Non concerné"],
            ["Daxt", "SumUp", "Compleo Invoice Platform"],
        ),
        (
            "caisse",
            [
                "Cegid Point de vente",
                "SumUp",
                "Zettle",
                "Lightspeed",
                "Apisoft",
                "Elo",
                "Non concerné",
            ],
            ["Abby", "Daxt", "bim", "Mode de facturation"],
        ),
    ],
)
def test_each_slot_offers_its_own_solutions(alice_client, ready_client, slot, offered, absent):
    html = alice_client.get(f"/equipement/clients/A001/?slot={slot}", **HX).content.decode()
    for name in offered:
        assert name in html, name
    for name in absent:
        assert name not in html, name


def test_it_declares_into_the_slot_it_was_opened_from(alice_client, ready_client):
    for solution, scope in (("sumup", "caisse"), ("bim", "ventes"), ("daxt", "achats")):
        response = alice_client.post(
            "/equipement/clients/A001/declarer/", {"solution": solution, "scope": scope}, **HX
        )
        assert "closeModal" in json.loads(response["HX-Trigger"])
    rows = Equipment.objects.filter(client=ready_client).values_list("solution__slug", "slot")
    assert set(rows) == {("sumup", "caisse"), ("bim", "vente"), ("daxt", "achat")}
    # A purchase tool is not a till, a till is not a sales tool.
    for solution, scope in (("abby", "caisse"), ("sumup", "ventes"), ("bim", "achats")):
        response = alice_client.post(
            "/equipement/clients/A001/declarer/", {"solution": solution, "scope": scope}, **HX
        )
        assert "pas proposé" in response.content.decode()
    assert Equipment.objects.filter(client=ready_client).count() == 3


def test_it_removes_a_declared_solution_with_its_history(alice_client, alice, ready_client):
    alice_client.post(
        "/equipement/clients/A001/declarer/", {"solution": "zettle", "scope": "caisse"}, **HX
    )
    html = alice_client.get("/equipement/clients/A001/?slot=caisse", **HX).content.decode()
    assert 'aria-label="Retirer Zettle"' in html
    response = alice_client.post(
        "/equipement/clients/A001/retirer/", {"solution": "zettle", "slot": "caisse"}, **HX
    )
    events = json.loads(response["HX-Trigger"])
    assert {"closeModal", "equipmentChanged"} <= set(events)
    assert not Equipment.objects.exists()
    [event] = ClientEvent.objects.filter(client=ready_client, kind="equipment.removed")
    assert event.summary == "Équipement retiré : Zettle (Caisse)" and event.actor == alice
    again = alice_client.post(
        "/equipement/clients/A001/retirer/", {"solution": "zettle", "slot": "caisse"}, **HX
    )
    assert "n'équipe pas ce client" in html_text(again)
    assert ClientEvent.objects.filter(kind="equipment.removed").count() == 1


def test_non_concerne_excludes_the_other_solutions_of_its_slot(alice_client, ready_client):
    def declare(solution, scope):
        return alice_client.post(
            "/equipement/clients/A001/declarer/", {"solution": solution, "scope": scope}, **HX
        )

    declare("sumup", "caisse")
    declare("zettle", "caisse")
    declare("abby", "achats")
    declare("non-concerne", "caisse")
    rows = set(Equipment.objects.values_list("solution__slug", "slot"))
    assert rows == {("non-concerne", "caisse"), ("abby", "achat")}
    event = ClientEvent.objects.filter(kind="equipment.declared").latest("id")
    assert event.changes == {"Caisse": ["SumUp, Zettle", "Non concerné"]}
    declare("lightspeed", "caisse")
    assert set(Equipment.objects.values_list("solution__slug", "slot")) == {
        ("lightspeed", "caisse"),
        ("abby", "achat"),
    }


def test_non_concerne_is_refused_where_shine_is_invited(alice_client, alice, ready_client):
    from vigie.invitations import services as invitations

    invitation = invitations.invitation_create(
        client=ready_client, actor=alice, plan="start", billing_mode="shine"
    )
    invitations.invitation_send(
        invitation=invitation, actor=alice, method="mailto", subject="s", body="b"
    )
    response = alice_client.post(
        "/equipement/clients/A001/declarer/",
        {"solution": "non-concerne", "scope": "achats"},
        **HX,
    )
    assert "annulez d'abord l'invitation Shine" in html_text(response)
    assert set(Equipment.objects.values_list("solution__slug", flat=True)) == {"shine"}
    refused = alice_client.post(
        "/equipement/clients/A001/retirer/", {"solution": "shine", "slot": "achat"}, **HX
    )
    assert "annulant son invitation" in refused.content.decode()
    assert Equipment.objects.count() == 2


def test_shine_replaces_non_concerne(alice_client, alice, ready_client):
    from vigie.invitations import services as invitations

    alice_client.post(
        "/equipement/clients/A001/declarer/",
        {"solution": "non-concerne", "scope": "achat_ventes"},
        **HX,
    )
    invitation = invitations.invitation_create(
        client=ready_client, actor=alice, plan="start", billing_mode="shine"
    )
    invitations.invitation_send(
        invitation=invitation, actor=alice, method="mailto", subject="s", body="b"
    )
    assert set(Equipment.objects.values_list("solution__slug", "slot")) == {
        ("shine", "achat"),
        ("shine", "vente"),
    }


def test_the_selection_follows_the_slot(alice_client, firm_a, catalogue):
    ClientFactory(firm=firm_a, code="S1")
    html = alice_client.get(
        "/equipement/selection/", {"codes": ["S1"], "slot": "caisse"}, **HX
    ).content.decode()
    assert "SumUp" in html and "Abby" not in html and "Activer pour" not in html
    alice_client.post(
        "/equipement/selection/declarer/",
        {"codes": ["S1"], "solution": "sumup", "scope": "caisse", "slot": "caisse"},
        **HX,
    )
    assert list(Equipment.objects.values_list("slot", flat=True)) == ["caisse"]
