"""« Annuaire (plateforme agréée) » in Chromium: a firm admin reaches it from the settings
menu, tests the sandbox platform's access, saves it, never sees the secret again, and the
page passes axe-core with a result and with an error shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory
from tests.registries import point_at_sandbox
from tests.test_accessibility_browser import BLOCKING, audit, describe
from tests.test_registries_pa import CLIENT_ID, SECRET
from vigie.registries.models import DirectoryConnection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def registers(sandbox, settings):
    return point_at_sandbox(sandbox, settings)


def _no_blocking_violation(page) -> None:
    blocking = [v for v in audit(page) if v["impact"] in BLOCKING]
    assert not blocking, describe(blocking)


def test_an_admin_connects_the_firm_to_its_platform(page, live_server, registers, alice, firm_a):
    client = ClientFactory(firm=firm_a)
    registers.seed(client)
    sandbox = registers.sandbox
    sign_in(page, live_server, alice.email, PASSWORD)
    page.goto(f"{live_server.url}/parametres/collaborateurs/")
    page.get_by_test_id("settings-nav").get_by_role(
        "link", name="Annuaire (plateforme agréée)"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Annuaire (plateforme agréée)")
    page.get_by_label("URL du service d'annuaire").fill(sandbox.url + "/afnor-directory")
    page.get_by_label("URL du jeton (OAuth2)").fill(sandbox.url + "/afnor-directory/oauth/token")
    page.get_by_label("Identifiant client").fill(CLIENT_ID)
    page.get_by_label("Secret client").fill(SECRET)
    page.get_by_role("button", name="Tester la connexion").click()
    result = page.get_by_test_id("connection-test")
    expect(result).to_contain_text("Connexion réussie")
    expect(result).to_contain_text(f"1 ligne pour le SIREN {client.siren}")
    expect(page.get_by_label("Secret client")).to_have_value("")  # never rendered back
    _no_blocking_violation(page)
    assert not DirectoryConnection.objects.exists()

    page.get_by_label("Secret client").fill(SECRET)
    page.get_by_role("button", name="Enregistrer").click()
    expect(
        page.get_by_role("status").filter(has_text="Connexion à l'annuaire enregistrée.")
    ).to_be_visible()
    expect(page.get_by_test_id("connection-saved")).to_be_visible()
    expect(page.locator("main")).to_contain_text("•••• enregistré")
    assert SECRET not in page.content()
    assert DirectoryConnection.objects.get().get_secret() == SECRET

    page.get_by_role("button", name="Tester la connexion").click()  # the saved secret
    expect(page.get_by_test_id("connection-test")).to_contain_text("Connexion réussie")
    page.get_by_label("Secret client").fill("pas-le-bon")
    page.get_by_role("button", name="Tester la connexion").click()
    expect(page.get_by_test_id("connection-test")).to_contain_text("Identifiants refusés")
    _no_blocking_violation(page)
    page.get_by_label("URL du service d'annuaire").fill("ftp://pa.example.fr/annuaire")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text("http:// ou https://")
    _no_blocking_violation(page)
    assert DirectoryConnection.objects.get().base_url == sandbox.url + "/afnor-directory"
