"""Registers in Chromium: a collaborator fills « Nouveau client » from the company register
(the SIRET seeded in the sandbox register), then takes a register's value on the client
page and sees it in the details and the history."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory
from tests.registries import point_at_sandbox
from vigie.clients.models import Client, LegalForm
from vigie.lib.validators import format_siret, make_siret
from vigie.registries.models import Register
from vigie.registries.services import check_clients

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def registers(sandbox, settings):
    return point_at_sandbox(sandbox, settings)


def test_fill_a_new_client_from_the_register(page, live_server, registers, bob):
    siret = make_siret("52345678", "0001")
    company = Client(
        code="R1", name="Fleurs du Marché", siret=siret, legal_form=LegalForm.SAS,
        ape_code="47.76Z", pa_name="",
    )  # fmt: skip
    registers.seed(company)
    sign_in(page, live_server, bob.email, PASSWORD)
    page.goto(f"{live_server.url}/clients/nouveau/")
    page.get_by_label("Siret").fill(format_siret(siret))
    page.get_by_role("link", name="Remplir depuis le registre").click()
    found = page.get_by_test_id("registry-found")
    expect(found).to_contain_text("FLEURS DU MARCHÉ")
    expect(found).to_contain_text("47.76Z — Commerce de détail de fleurs")
    page.get_by_role("button", name="Utiliser ces valeurs").click()
    expect(page.get_by_test_id("registry-filled")).to_be_visible()
    expect(page.get_by_label("Raison sociale")).to_have_value("FLEURS DU MARCHÉ")
    expect(page.get_by_label("Forme juridique")).to_have_value("SAS")
    expect(page.get_by_label("Code APE")).to_have_value("47.76Z")
    page.get_by_label("Code client").fill("R1")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("FLEURS DU MARCHÉ")
    created = Client.objects.get(code="R1")
    assert (created.siret, created.legal_form, created.ape_code) == (siret, "SAS", "47.76Z")


def test_take_a_register_value_on_the_client_page(page, live_server, registers, bob, firm_a):
    client = ClientFactory(
        firm=firm_a, code="A1", name="Boulangerie Dupont", legal_form=LegalForm.SARL,
        ape_code="47.24Z", pa_name="Docaposte",
    )  # fmt: skip
    registers.seed(client, A1={"sirene": "ape"})
    check_clients(firm=firm_a, client_ids=[client.pk], registers=(Register.SIRENE,))
    sign_in(page, live_server, bob.email, PASSWORD)
    page.goto(f"{live_server.url}/clients/A1/")
    card = page.locator("#registers")
    finding = card.locator("[data-finding=ape]")
    register_ape = finding.get_by_test_id("register-value").inner_text()
    expect(finding.get_by_test_id("firm-value")).to_have_text("47.24Z")
    finding.get_by_role("button", name="Prendre la valeur du registre").click()
    expect(page.locator("#toasts")).to_contain_text("Valeur du registre reprise.")
    expect(card.locator("[data-finding=ape]")).to_have_count(0)
    expect(card.get_by_test_id("register-status").first).to_have_text("À jour")
    expect(page.locator("#details")).to_contain_text(register_ape)
    expect(page.locator("#history")).to_contain_text("Détails modifiés : code APE")
    expect(page.locator("#history")).to_contain_text(f"47.24Z → {register_ape}")
