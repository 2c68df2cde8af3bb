"""Small things a firm notices: the one-time API key copied with one click, a favicon
(no 404 on every page)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_new_api_key_is_copied_with_one_click(live_server, browser, alice):
    context = browser.new_context(locale="fr-FR")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    try:
        sign_in(page, live_server, alice.email, PASSWORD)
        page.goto(live_server.url + "/integrations/")
        page.get_by_label("Nom").first.fill("Outil de production")
        page.get_by_role("button", name="Créer une clé d'API").click()
        shown = page.get_by_test_id("new-api-key").locator("input.secret-value").input_value()
        page.get_by_test_id("copy-api-key").click()
        expect(page.locator("#toasts")).to_contain_text("Copié")
        assert page.evaluate("navigator.clipboard.readText()") == shown
    finally:
        context.close()


def test_pages_ask_for_no_missing_favicon(live_server, page, alice):
    missing = []
    page.on("response", lambda r: r.status == 404 and missing.append(r.url))
    sign_in(page, live_server, alice.email, PASSWORD)
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Portefeuille clients")).to_be_visible()
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(live_server.url + icon).status == 200
    assert not missing


def test_no_symbol_depends_on_a_font(live_server, page, alice, client_a, catalogue):
    """✅ ❌ ☑ ☐ ✕ show as empty boxes where no emoji or symbol font is installed: the
    marks and the dialogs' « Fermer » are drawn in SVG."""
    import re

    sign_in(page, live_server, alice.email, PASSWORD)
    pages = ["/", "/?view=collecte", f"/clients/{client_a.code}/"]
    for path in pages:
        page.goto(live_server.url + path)
        text = page.locator("body").inner_text()
        assert not re.search("[\u2600-\u27bf\U0001f000-\U0001ffff]", text), path
    page.get_by_test_id("open-equipment").click()
    dialog = page.locator("#modal")
    expect(dialog.get_by_role("button", name="Fermer").first.locator("svg")).to_have_count(1)
    assert not re.search("[\u2600-\u27bf]", dialog.inner_text())
