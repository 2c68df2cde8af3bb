"""A collaborator searches the portfolio as they would type it, without ligatures:
« oeuf » finds « Café de l'Œuf » (Chromium at 1440×900)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_typing_without_ligatures_finds_them(live_server, page, firm_a, bob):
    ClientFactory(firm=firm_a, code="000246", name="Café de l'Œuf")
    ClientFactory(firm=firm_a, code="000247", name="Boulangerie Élan")
    ContactFactory(
        client=ClientFactory(firm=firm_a, code="000248", name="Zinguerie"),
        first_name="Lætitia",
        last_name="Groß",
    )
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, "bob@alpha.fr", PASSWORD)
    expect(page.get_by_test_id("page-range")).to_have_text("1-3 sur 3")

    search = page.get_by_placeholder("Rechercher")
    search.fill("oeuf")
    page.wait_for_url(re.compile(r"q=oeuf"))
    expect(page.get_by_test_id("page-range")).to_have_text("1-1 sur 1")
    expect(page.locator('tr[data-code="000246"]')).to_contain_text("Café de l'Œuf")

    search.fill("laetitia gross")
    page.wait_for_url(re.compile(r"q=laetitia"))
    expect(page.get_by_test_id("page-range")).to_have_text("1-1 sur 1")
    expect(page.locator('tr[data-code="000248"]')).to_be_visible()

    # Typed with the ligature, it finds the same.
    search.fill("Œuf")
    page.wait_for_url(re.compile(r"q=%C5%92uf"))
    expect(page.get_by_test_id("page-range")).to_have_text("1-1 sur 1")
