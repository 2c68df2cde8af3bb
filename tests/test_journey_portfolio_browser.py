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
