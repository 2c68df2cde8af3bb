"""The « Registres » card of the client page and « Remplir depuis le registre », against
the sandbox registers: taking a register's value, dismissing a finding (and the next
check not raising it again), « Vérifier maintenant », the SIRET lookup and tenancy."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from tests.factories import ClientFactory
from tests.registries import point_at_sandbox
from vigie.clients.models import Client, ClientEvent, LegalForm, PaStatus
from vigie.lib.validators import make_siret
from vigie.registries.decisions import FINDING_GONE, NOT_TAKEABLE
from vigie.registries.models import (
    CheckItem,
    CheckRun,
    CheckStatus,
    DismissedFinding,
    ItemState,
    Register,
    RegisterCheck,
)
from vigie.registries.services import check_clients, check_run_execute

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def registers(sandbox, settings):
    return point_at_sandbox(sandbox, settings)


def _client(firm, code, **fields):
    defaults = {
        "name": "Boulangerie Dupont",
        "legal_form": LegalForm.SARL,
        "ape_code": "47.24Z",
        "pa_status": PaStatus.REGISTERED,
        "pa_name": "Docaposte",
    }
    return ClientFactory(firm=firm, code=code, **{**defaults, **fields})


def _checked(registers, client, register=Register.SIRENE, **scenario) -> RegisterCheck:
    registers.seed(client, **{client.code: scenario})
    check_clients(firm=client.firm, client_ids=[client.pk], registers=(register,))
    return RegisterCheck.objects.get(client=client, register=register)


def _codes(client, register=Register.SIRENE) -> list[str]:
    check = RegisterCheck.objects.get(client=client, register=register)
    return [f["code"] for f in check.findings]


def _finding(client, code, register=Register.SIRENE) -> dict:
    return {"register": register, "code": code}


def _url(name, client) -> str:
    return reverse(name, args=[client.code])


def _toast(response) -> tuple[str, str]:
    message = json.loads(response["HX-Trigger"])["showMessage"]
    return message["kind"], message["text"]


# --- The card on the client page ------------------------------------------------------------


def test_it_shows_each_register_with_its_findings_and_directors(registers, bob_client, firm_a):
    client = _client(firm_a, "A1")
    _checked(registers, client, sirene="ape")
    html = bob_client.get(_url("client_detail", client)).content.decode()
    assert 'id="registers"' in html
    assert "Registre des entreprises" in html and "Annuaire de facturation électronique" in html
    assert "Écart" in html and "Jamais vérifié." in html
    assert "API Recherche d&#x27;entreprises" in html
    assert 'data-finding="ape"' in html and "Prendre la valeur du registre" in html
    assert 'data-testid="directors"' in html


def test_a_finding_that_cannot_be_taken_offers_only_ignorer(registers, bob_client, firm_a):
    client = _client(firm_a, "A1")
    _checked(registers, client, sirene="ceased")
    html = bob_client.get(_url("client_registers", client), **HTMX).content.decode()
    assert "Cessée" in html and 'data-finding="ceased"' in html
    assert "Prendre la valeur du registre" not in html
    assert "Ignorer" in html and "archivez le client" in html


def test_the_card_says_why_a_register_is_not_verified(registers, bob_client, firm_a):
    client = _client(firm_a, "A1")
    registers.fault("sirene", "500", count=10)
    _checked(registers, client)
    html = bob_client.get(_url("client_registers", client), **HTMX).content.decode()
    assert "Non vérifié" in html and "HTTP 500" in html


# --- « Prendre la valeur du registre » ---------------------------------------------------------


def test_take_writes_the_register_value_with_a_history_line(registers, bob_client, bob, firm_a):
    client = _client(firm_a, "A1")
    register_ape = _checked(registers, client, sirene="ape").values["ape_code"]
    response = bob_client.post(
        _url("registry_finding_take", client), _finding(client, "ape"), **HTMX
    )
    assert response.status_code == 200
    assert "registersChanged" in response["HX-Trigger"]
    assert _toast(response) == ("success", "Valeur du registre reprise.")
    client.refresh_from_db()
    assert client.ape_code == register_ape
    event = ClientEvent.objects.filter(client=client).latest("at")
    assert event.actor == bob and event.changes == {"code APE": ["47.24Z", register_ape]}
    assert _codes(client) == []
    check = RegisterCheck.objects.get(client=client, register=Register.SIRENE)
    assert check.status == CheckStatus.UP_TO_DATE
    assert 'data-finding="ape"' not in response.content.decode()
    # The details part, refreshed on registersChanged, shows the new value.
    part = bob_client.get(reverse("client_part", args=[client.code, "details"]), **HTMX)
    assert register_ape in part.content.decode()


def test_take_the_register_name_and_legal_form(registers, bob_client, firm_a):
    named = _client(firm_a, "A1")
    _checked(registers, named, sirene="name")
    bob_client.post(_url("registry_finding_take", named), _finding(named, "name"))
    named.refresh_from_db()
    assert named.name == "BOULANGERIE DUPONT ET ASSOCIES"
    # The heading, refreshed on registersChanged, names the company as the register does.
    head = bob_client.get(reverse("client_part", args=[named.code, "head"]), **HTMX)
    assert "<h1>BOULANGERIE DUPONT ET ASSOCIES</h1>" in head.content.decode()
    formed = _client(firm_a, "A2", siret=make_siret("71234567", "0001"))
    _checked(registers, formed, sirene="legal_form")
    response = bob_client.post(
        _url("registry_finding_take", formed), _finding(formed, "legal_form")
    )
    assert response.status_code == 302 and response["Location"].endswith("#registers")
    formed.refresh_from_db()
    assert formed.legal_form == LegalForm.SAS


def test_take_the_head_office_siret(registers, bob_client, firm_a):
    client = _client(firm_a, "A1", siret=make_siret("91234567", "0002"))
    head = _checked(registers, client, sirene="not_head_office").values["head_office"]["siret"]
    assert head != client.siret
    bob_client.post(_url("registry_finding_take", client), _finding(client, "not_head_office"))
    client.refresh_from_db()
    assert client.siret == head
    event = ClientEvent.objects.filter(client=client).latest("at")
    assert list(event.changes) == ["SIRET"]


def test_a_finding_that_cannot_be_taken_is_refused(registers, bob_client, firm_a):
    client = _client(firm_a, "A1")
    _checked(registers, client, sirene="ceased")
    before = Client.objects.get(pk=client.pk)
    response = bob_client.post(
        _url("registry_finding_take", client), _finding(client, "ceased"), **HTMX
    )
    assert _toast(response) == ("error", NOT_TAKEABLE)
    assert Client.objects.get(pk=client.pk).updated_at == before.updated_at
    assert _codes(client) == ["ceased"]


def test_a_finding_gone_meanwhile_says_so(registers, bob_client, firm_a):
    client = _client(firm_a, "A1")
    _checked(registers, client)
    response = bob_client.post(
        _url("registry_finding_take", client), _finding(client, "ape"), **HTMX
    )
    assert response.status_code == 200 and _toast(response) == ("error", FINDING_GONE)
    response = bob_client.post(
        _url("registry_finding_take", client), {"register": "x", "code": "ape"}, **HTMX
    )
    assert _toast(response) == ("error", FINDING_GONE)


# --- « Ignorer » ---------------------------------------------------------------------------------


def test_dismiss_is_recorded_and_the_next_check_does_not_raise_it(
    registers, bob_client, bob, firm_a
):
    client = _client(firm_a, "A1")
    _checked(registers, client, sirene="name")
    response = bob_client.post(
        _url("registry_finding_dismiss", client), _finding(client, "name"), **HTMX
    )
    assert _toast(response) == ("success", "Constat ignoré.")
    dismissal = DismissedFinding.objects.get(client=client)
    assert (dismissal.code, dismissal.value, dismissal.dismissed_by) == (
        "name",
        "BOULANGERIE DUPONT ET ASSOCIES",
        bob,
    )
    event = ClientEvent.objects.filter(client=client).latest("at")
    assert event.kind == "registries.dismissed" and "Raison sociale" in event.summary
    assert _codes(client) == []
    client.refresh_from_db()
    assert client.name == "Boulangerie Dupont"

    # The next check: the register says the same, the finding stays dismissed.
    check = _checked(registers, client, sirene="name")
    assert (check.status, check.findings) == (CheckStatus.UP_TO_DATE, [])

    # The register says something else: that is a new finding.
    renamed = Client(**{**_fields(client), "name": "Boulangerie Martin"})
    registers.seed(renamed, **{client.code: {"sirene": "name"}})
    check_clients(firm=firm_a, client_ids=[client.pk], registers=(Register.SIRENE,))
    assert _codes(client) == ["name"]


def _fields(client) -> dict:
    return {f: getattr(client, f) for f in ("code", "name", "siret", "legal_form", "ape_code")} | {
        "pa_name": client.pa_name
    }


def test_dismiss_a_directory_finding(registers, bob_client, firm_a):
    client = _client(firm_a, "A1")
    _checked(registers, client, Register.ANNUAIRE, annuaire="other_pa")
    html = bob_client.get(_url("client_registers", client), **HTMX).content.decode()
    assert 'data-finding="platform"' in html and "panneau Réforme" in html
    bob_client.post(
        _url("registry_finding_dismiss", client),
        _finding(client, "platform", Register.ANNUAIRE),
        **HTMX,
    )
    check = _checked(registers, client, Register.ANNUAIRE, annuaire="other_pa")
    assert (check.status, check.findings) == (CheckStatus.UP_TO_DATE, [])


# --- « Vérifier maintenant » ------------------------------------------------------------------


def test_verifier_maintenant_queues_a_check_and_the_card_polls(registers, bob_client, firm_a):
    client = _client(firm_a, "A1")
    response = bob_client.post(_url("client_registers_check", client), **HTMX)
    run = CheckRun.objects.for_firm(firm_a).get()
    assert DBTaskResult.objects.filter(args_kwargs__args=[run.pk]).count() == 1
    html = response.content.decode()
    assert 'data-testid="registers-running"' in html and 'hx-trigger="every 3s"' in html
    items = CheckItem.objects.filter(client=client, state=ItemState.PENDING)
    assert sorted(items.values_list("register", flat=True)) == ["annuaire", "sirene"]
    # Asked again while it runs: nothing more is queued.
    bob_client.post(_url("client_registers_check", client), **HTMX)
    assert CheckItem.objects.filter(client=client).count() == 2
    # Once the worker has run it, the card stops polling and shows the results.
    registers.seed(client, **{"A1": {"sirene": "ape"}})
    check_run_execute(run_id=run.pk)
    html = bob_client.get(_url("client_registers", client), **HTMX).content.decode()
    assert "every 3s" not in html and 'data-finding="ape"' in html


# --- « Remplir depuis le registre » -------------------------------------------------------------


def test_fill_from_siret_shows_the_register_values(registers, bob_client, firm_a):
    client = _client(firm_a, "A1", legal_form=LegalForm.SAS, ape_code="56.10A")
    registers.seed(client)
    url = reverse("registry_siret_lookup")
    response = bob_client.get(url, {"siret": client.siret_display}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="registry-found"' in html
    assert "BOULANGERIE DUPONT" in html and "SAS" in html
    assert "56.10A — Restauration traditionnelle" in html and "Utiliser ces valeurs" in html
    filled = bob_client.get(url, {"siret": client.siret, "utiliser": "1"}, **HTMX)
    html = filled.content.decode()
    assert 'id="id_name"' in html and 'value="BOULANGERIE DUPONT"' in html
    assert 'hx-swap-oob="true"' in html and '<option value="SAS" selected>' in html
    assert 'value="Restauration traditionnelle"' in html
    # Without JavaScript: a page of its own.
    page = bob_client.get(url, {"siret": client.siret}).content.decode()
    assert "<h1>Recherche au registre des entreprises</h1>" in page and "BOULANGERIE" in page


def test_an_invalid_siret_is_never_sent(registers, bob_client):
    url = reverse("registry_siret_lookup")
    response = bob_client.get(url, {"siret": "845 236 561 00014"}, **HTMX)
    assert "la clé de contrôle ne correspond pas" in response.content.decode()
    response = bob_client.get(url, {"siret": "12"}, **HTMX)
    assert "14 chiffres" in response.content.decode()
    assert registers.state("sirene")["calls_by_query"] == {}


def test_an_unknown_siret_says_so(registers, bob_client):
    response = bob_client.get(
        reverse("registry_siret_lookup"), {"siret": make_siret("81234567", "0001")}, **HTMX
    )
    assert "inconnu du registre" in response.content.decode()


def test_a_register_down_changes_nothing_and_says_so(registers, bob_client, firm_a):
    client = _client(firm_a, "A1")
    registers.seed(client)
    registers.fault("sirene", "500", count=5)
    url = reverse("registry_siret_lookup")
    response = bob_client.get(url, {"siret": client.siret, "utiliser": "1"}, **HTMX)
    html = response.content.decode()
    assert "ne répond pas pour le moment" in html and "Rien n&#x27;a été modifié" in html
    assert "hx-swap-oob" not in html


def test_the_forms_offer_the_button(bob_client, client_a):
    html = bob_client.get(reverse("client_create")).content.decode()
    assert "Remplir depuis le registre" in html and 'hx-include="#id_siret"' in html
    details = bob_client.get(_url("client_details_update", client_a), **HTMX).content.decode()
    assert "Remplir depuis le registre" in details


# --- Tenancy and methods ----------------------------------------------------------------------


CLIENT_ROUTES = [
    ("get", "client_registers"),
    ("post", "client_registers_check"),
    ("post", "registry_finding_take"),
    ("post", "registry_finding_dismiss"),
]


@pytest.mark.parametrize(("method", "name"), CLIENT_ROUTES)
def test_charlie_gets_404_on_every_route(method, name, charlie_client, client_a):
    for headers in ({}, HTMX):
        response = getattr(charlie_client, method)(
            _url(name, client_a), _finding(client_a, "name"), **headers
        )
        assert response.status_code == 404
    assert not CheckItem.objects.filter(client=client_a).exists()
    assert not ClientEvent.objects.filter(client=client_a).exists()


def test_charlie_cannot_dismiss_firm_a_findings(registers, charlie_client, firm_a):
    client = _client(firm_a, "A1")
    _checked(registers, client, sirene="name")
    response = charlie_client.post(
        _url("registry_finding_dismiss", client), _finding(client, "name"), **HTMX
    )
    assert response.status_code == 404
    assert _codes(client) == ["name"] and not DismissedFinding.objects.exists()


@pytest.mark.parametrize(("method", "name"), CLIENT_ROUTES)
def test_the_wrong_method_is_405(method, name, bob_client, client_a):
    wrong = "post" if method == "get" else "get"
    assert getattr(bob_client, wrong)(_url(name, client_a)).status_code == 405
    assert bob_client.post(reverse("registry_siret_lookup")).status_code == 405


def test_signed_out_goes_to_sign_in(client, client_a):
    response = client.get(reverse("registry_siret_lookup"), {"siret": "84523656100013"})
    assert response.status_code == 302 and "/compte/login/" in response["Location"]
