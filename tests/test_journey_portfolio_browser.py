"""The portfolio as a new collaborator uses it: the browser's Back button, selections
kept across pages and views, and the guide's step 1 acting on the ticked rows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portfolio(firm_a, alice, catalogue):
    """30 clients: three pages of ten."""
    return [ClientFactory(firm=firm_a, name=f"Client {n:02d}", code=f"C{n:03d}") for n in range(30)]


def _signed_in(page, live_server, alice):
    sign_in(page, live_server, alice.email, PASSWORD)
    expect(page.get_by_test_id("page-range")).to_have_text("1-10 sur 30")


@pytest.mark.parametrize("arrive", ["next page", "search", "filter"])
def test_back_from_a_client_shows_the_whole_page(live_server, page, alice, portfolio, arrive):
    _signed_in(page, live_server, alice)
    if arrive == "next page":
        page.locator("a[rel=next]").click()
        page.wait_for_url(re.compile(r"page=2"))
        expected = "11-20 sur 30"
    elif arrive == "search":
        page.get_by_placeholder("Rechercher").fill("Client 1")
        page.wait_for_url(re.compile(r"q=Client"))
        expected = re.compile(r"^1-\d+ sur \d+$")
    else:
        page.get_by_test_id("per-page").select_option("25")
        page.wait_for_url(re.compile(r"per_page=25"))
        expected = "1-25 sur 30"
    expect(page.get_by_test_id("page-range")).to_have_text(expected)
    listed = page.url

    page.locator("tbody tr a.company-name").first.click()
    page.wait_for_url(re.compile(r"/clients/C\d+/$"))
    page.go_back()
    page.wait_for_url(listed)
    # The page around the table: its heading, its stylesheet, the search box.
    expect(page.get_by_role("heading", name="Portefeuille clients")).to_be_visible()
    expect(page.locator("header.topbar")).to_be_visible()
    expect(page.get_by_test_id("page-range")).to_have_text(expected)
    assert page.evaluate("document.styleSheets.length") >= 1

    # A reload and a new tab give the full page too.
    page.reload()
    expect(page.get_by_role("heading", name="Portefeuille clients")).to_be_visible()
    other = page.context.new_page()
    other.goto(listed)
    expect(other.get_by_role("heading", name="Portefeuille clients")).to_be_visible()
    expect(other.get_by_test_id("page-range")).to_have_text(expected)


def _tick(page, row: int) -> str:
    line = page.locator("tbody tr").nth(row)
    line.locator("input[name=codes]").check()
    return line.get_attribute("data-code")


def test_ticked_rows_stay_ticked_across_pages_and_views_until_cleared(
    live_server, page, alice, portfolio
):
    _signed_in(page, live_server, alice)
    first = _tick(page, 0)
    bar = page.locator("[data-selection-bar]")
    expect(bar).to_contain_text("1 client sélectionné")

    page.locator("a[rel=next]").click()
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.get_by_test_id("page-range")).to_have_text("11-20 sur 30")
    expect(bar).to_contain_text("1 client sélectionné")  # the count stays in view
    second, third = _tick(page, 0), _tick(page, 1)
    expect(bar).to_contain_text("3 clients sélectionnés")

    page.get_by_role("tab", name="Collecte").click()
    page.wait_for_url(re.compile(r"view=collecte"))
    expect(bar).to_contain_text("3 clients sélectionnés")
    expect(page.locator(f"tr[data-code='{second}'] input[name=codes]")).to_be_checked()

    page.locator("a[rel=prev]").click()
    expect(page.get_by_test_id("page-range")).to_have_text("1-10 sur 30")
    expect(page.locator(f"tr[data-code='{first}'] input[name=codes]")).to_be_checked()
    expect(page.locator("tbody input[name=codes]:checked")).to_have_count(1)

    # The bar's dialog receives the whole selection, the other pages' rows included.
    page.get_by_role("tab", name="Équipement").click()
    expect(page.locator("th", has_text="ACHAT")).to_be_visible()
    page.get_by_test_id("equip-selection").click()
    dialog = page.get_by_test_id("selection-dialog")
    expect(dialog).to_contain_text("3 clients sélectionnés")
    page.keyboard.press("Escape")

    # A reload keeps it; « Annuler la sélection » clears it everywhere.
    page.reload()
    expect(bar).to_contain_text("3 clients sélectionnés")
    page.get_by_role("button", name="Annuler la sélection").click()
    expect(bar).to_be_hidden()
    page.locator("a[rel=next]").click()
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.locator("tbody input[name=codes]:checked")).to_have_count(0)
    assert third


def test_the_guides_step_1_adds_for_the_ticked_clients(live_server, page, alice, portfolio):
    """Tick clients, then « + Ajouter » in ACHAT: the dialog is for the ticked clients."""
    _signed_in(page, live_server, alice)
    _tick(page, 0)
    _tick(page, 2)
    row = page.locator("tbody tr").nth(5)
    add = row.locator("a.add-on-hover[data-slot=achat]")
    add.locator("xpath=..").hover()
    add.click()
    expect(page.get_by_test_id("selection-dialog")).to_contain_text("2 clients sélectionnés")
    page.keyboard.press("Escape")

    # Nothing ticked: the row's own client.
    page.get_by_role("button", name="Annuler la sélection").click()
    add.locator("xpath=..").hover()
    add.click()
    expect(page.locator("#modal-body")).to_contain_text(row.locator(".company-name").inner_text())
    expect(page.get_by_test_id("selection-dialog")).to_have_count(0)
