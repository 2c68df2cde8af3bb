from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from vigie.demo.data import build_demo

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
    expect(page.locator("[data-selection-bar]")).to_contain_text("1 client sélectionné")
    page.locator("[data-select-all]").click()
    expect(page.locator("[data-selection-bar]")).to_contain_text(f"{total} clients sélectionnés")

    first = rows.nth(0)
    code = first.get_attribute("data-code")
    first.hover()
    first.get_by_role("link", name="Ouvrir").click()
    page.wait_for_url(re.compile(rf"/clients/{re.escape(code)}/$"))


def test_hovering_an_activated_shine_shows_the_access_card(
    live_server, page, firm_a, bob, catalogue
):
    from django.urls import reverse
    from django.utils import timezone

    from tests.factories import PASSWORD, ClientFactory
    from vigie.clients.models import ShineStatus
    from vigie.equipment.models import Equipment, Slot
    from vigie.invitations.models import Invitation, Status

    firm = firm_a
    client = ClientFactory(
        firm=firm, code="000246", name="Oasis", shine_status=ShineStatus.ACTIVATED
    )
    for slot in (Slot.ACHAT, Slot.VENTE):
        Equipment.objects.create(
            firm=firm, client=client, solution=catalogue["shine"], slot=slot, plan="Start"
        )
    Invitation.objects.create(
        firm=firm,
        client=client,
        email="oasis@tpe.fr",
        plan="start",
        billing_mode="cabinet",
        status=Status.ACTIVATED,
        activated_at=timezone.now(),
    )
    sign_in(page, live_server, bob.email, PASSWORD)
    row = page.locator('tr[data-code="000246"]')
    achat = row.locator("td").nth(3)  # checkbox, ENTREPRISE, CONTACT, ACHAT
    card = achat.get_by_test_id("shine-card")
    expect(card).to_be_hidden()
    achat.locator(".shine-cell").hover()
    expect(card).to_be_visible()
    expect(card).to_contain_text("Shine")
    expect(card).to_contain_text("Cabinet")
    expect(card).to_contain_text("Activé")
    button = card.get_by_role("button", name="Accéder à Shine")
    expect(button).to_be_visible()
    # The button submits its own form (the rows sit inside the selection form).
    method, action, target, token = button.evaluate(
        "b => [b.form.method, new URL(b.form.action).pathname, b.form.target,"
        " b.form.elements.csrfmiddlewaretoken.value]"
    )
    assert (method, target) == ("post", "_blank") and token
    assert action == reverse("shine_access", args=["000246"])
    # A click posts it in a new tab; the CSRF check passes, and without a partner
    # account the view answers 404 (the whole access: tests/test_partner_browser.py).
    with page.context.expect_event("response", lambda r: r.url.endswith(action)) as answer:
        with page.context.expect_page() as opened:
            button.click()
    assert answer.value.request.method == "POST" and answer.value.status == 404
    opened.value.close()
    # Moving away (pointer and focus) hides it again.
    page.get_by_role("heading", name="Portefeuille clients").click()
    expect(card).to_be_hidden()
