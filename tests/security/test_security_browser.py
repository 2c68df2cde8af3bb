"""In Chromium, under the real CSP: pages full of hostile text fire no dialog, and the
browser reports no Content-Security-Policy violation (our own scripts all still run)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import ContactFactory
from tests.security.test_security_xss import P

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hostile_data_fires_no_dialog_and_breaks_no_policy(live_server, page, world, password):
    client = world.client
    client.name = P
    client.activity = P
    client.notes = P
    client.save()
    ContactFactory(client=client, first_name=P[:100], last_name=P[:100], email="x@dupont.fr")

    dialogs, violations = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    sign_in(page, live_server, "alice@alpha.fr", password)
    for path in [
        "/",
        "/?view=collecte",
        f"/clients/{client.code}/",
        f"/reforme/clients/{client.code}/",
    ]:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        assert "alert(1)" in page.content()  # the text is there, as text
    page.goto(live_server.url + "/")
    # Our scripts still run: ticking a row shows the selection bar (static/js/portfolio.js).
    page.locator("input[name=codes]").first.check()
    expect(page.locator("[data-selection-bar]")).to_be_visible()
    # The equipment dialog opens from « + Ajouter » and shows the name escaped.
    page.locator("a.add-on-hover").first.dispatch_event("click")
    expect(page.locator("#modal")).to_be_visible()
    page.wait_for_timeout(300)
    assert dialogs == []
    assert violations == []
