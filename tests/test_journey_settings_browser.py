"""A firm admin, new to the console, looks for the Shine test account of the guide's FAQ
and for the invitation templates: both are under *Paramètres*, in Chromium at 1440×900."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_finds_the_test_account_and_the_templates(live_server, page, alice, bob):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Paramètres").click()
    settings = page.get_by_role("navigation", name="Paramètres")
    expect(settings).to_be_visible()

    settings.get_by_role("link", name="Compte de test Shine").click()
    expect(page.get_by_role("heading", name="Ouvrir un Shine pour tester")).to_be_visible()
    expect(settings.get_by_role("link", name="Compte de test Shine")).to_have_attribute(
        "aria-current", "page"
    )

    settings.get_by_role("link", name="Modèles d'invitation").click()
    expect(page.get_by_role("heading", name="Modèles d'invitation Shine")).to_be_visible()

    settings.get_by_role("link", name="Collaborateurs").click()
    expect(page.get_by_role("heading", name="Paramètres · Collaborateurs")).to_be_visible()


def test_a_collaborator_has_no_settings_menu(live_server, page, bob):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, "bob@alpha.fr", PASSWORD)
    expect(page.get_by_role("heading", name="Portefeuille clients")).to_be_visible()
    expect(page.get_by_role("link", name="Paramètres")).to_have_count(0)
    page.goto(live_server.url + "/invitations/compte-test/")
    expect(page.get_by_role("link", name="Compte de test Shine")).to_have_count(0)
