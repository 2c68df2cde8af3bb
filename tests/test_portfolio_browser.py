from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from vigie.clients.demo import build_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_browses_the_demo_portfolio(live_server, page, catalogue):
    build_demo()
    sign_in(page, live_server, "demo@cabinet-demo.fr", "demo-vigie")
    assert page.url.rstrip("/") == live_server.url  # the portfolio is the landing page
    expect(page.get_by_role("heading", name="Portefeuille clients")).to_be_visible()
    expect(page.get_by_test_id("page-range")).to_have_text("1-10 sur 4537")

    page.get_by_role("tab", name="Collecte").click()
    page.wait_for_url(re.compile(r"view=collecte"))
    expect(page.locator("th", has_text="EMAIL DE COLLECTE")).to_be_visible()

    page.get_by_placeholder("Rechercher").fill("boulangerie")
    page.wait_for_url(re.compile(r"q=boulangerie"))
    expect(page.get_by_test_id("page-range")).to_have_text(re.compile(r"^1-10 sur \d+$"))
    total = int(page.get_by_test_id("page-range").inner_text().split(" sur ")[1])
    assert 50 < total < 4537

    page.get_by_test_id("per-page").select_option("25")
    page.wait_for_url(re.compile(r"per_page=25"))
    expect(page.get_by_test_id("page-range")).to_have_text(f"1-25 sur {total}")

    page.locator("a[rel=next]").click()
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.get_by_test_id("page-range")).to_have_text(f"26-50 sur {total}")
    assert "view=collecte" in page.url and "q=boulangerie" in page.url

    # Back restores the previous state from the URL; reload shows the same page.
    page.go_back()
    expect(page.get_by_test_id("page-range")).to_have_text(f"1-25 sur {total}")
    page.go_forward()
    expect(page.get_by_test_id("page-range")).to_have_text(f"26-50 sur {total}")
    page.reload()
    expect(page.get_by_test_id("page-range")).to_have_text(f"26-50 sur {total}")
    expect(page.get_by_placeholder("Rechercher")).to_have_value("boulangerie")

    # Selecting rows shows the bar and offers every matching row.
    rows = page.locator("tbody tr")
    rows.nth(0).locator("input[name=codes]").check()
    expect(page.locator("[data-selection-bar]")).to_contain_text("1 sélectionnés")
    page.locator("[data-select-all]").click()
    expect(page.locator("[data-selection-bar]")).to_contain_text(f"{total} sélectionnés")

    first = rows.nth(0)
    code = first.get_attribute("data-code")
    first.hover()
    first.get_by_role("link", name="Ouvrir").click()
    page.wait_for_url(re.compile(rf"/clients/{re.escape(code)}/$"))
