"""The reform dashboard in Chromium at 1440×900, as a collaborator reads it: every figure
opens the portfolio with exactly the clients it counts, and the weekly chart fills its
card with an axis scaled to the portfolio."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory
from vigie.clients.models import ClientAssignment, MandateStatus, PaStatus, ShineStatus
from vigie.equipment.models import Equipment, Slot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOTAL = re.compile(r"sur (\d+)$")


@pytest.fixture
def dashboard_firm(firm_a, firm_b, alice, bob, catalogue):
    """Bob: 5 clients, 2 informed; Alice: 3 clients, all informed; one unassigned client.
    Each measure differs between the people, and between done and to do."""
    clients = [ClientFactory(firm=firm_a, code=f"R{i:03d}") for i in range(9)]
    for client in clients[:2] + clients[5:8]:
        client.sensitised = True
    clients[0].mandate_status = MandateStatus.SIGNED
    clients[5].mandate_status = clients[6].mandate_status = MandateStatus.SIGNED
    clients[1].pa_status, clients[1].pa_name = PaStatus.REGISTERED, "PA Exemple"
    clients[2].pa_status = PaStatus.REGISTERED
    clients[3].shine_status = ShineStatus.ACTIVATED
    for client in clients:
        client.save()
    Equipment.objects.create(
        firm=firm_a, client=clients[5], solution=catalogue["abby"], slot=Slot.VENTE
    )
    for client in clients[:5]:
        ClientAssignment.objects.create(firm=firm_a, client=client, user=bob)
    for client in clients[5:8]:
        ClientAssignment.objects.create(firm=firm_a, client=client, user=alice)
    # Noise of another firm, all done, assigned to nobody of firm A.
    ClientFactory(firm=firm_b, sensitised=True, mandate_status="signe", pa_status="inscrit")
    return clients


def _number(text: str) -> int:
    return int(re.sub(r"\D", "", text.split("(")[0]))


def _listed(page) -> int:
    range_ = page.get_by_test_id("page-range")
    expect(range_).to_have_text(TOTAL)
    return int(TOTAL.search(range_.inner_text()).group(1))


def test_every_figure_opens_exactly_the_clients_it_counts(live_server, page, dashboard_firm):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.get_by_role("link", name="Réforme", exact=True).click()
    expect(page.get_by_role("heading", name="Tableau de bord réforme")).to_be_visible()

    table = page.get_by_test_id("reform-people")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(2)
    checked = 0
    for r in range(2):
        links = rows.nth(r).locator("a")
        expect(links).to_have_count(5)  # CLIENTS then the four measures
        for c in range(5):
            link = rows.nth(r).locator("a").nth(c)
            figure = _number(link.inner_text())
            link.click()
            page.wait_for_url(re.compile(r"collab="))
            assert _listed(page) == figure, (r, c, page.url)
            page.go_back()
            expect(page.get_by_role("heading", name="Tableau de bord réforme")).to_be_visible()
            checked += 1
    assert checked == 10

    # The firm's cards: the figure opens the clients done, « à traiter » the others.
    for key in ("sensitised", "mandate", "pa", "equipped"):
        done = _number(page.get_by_test_id(f"figure-{key}-done").inner_text())
        page.get_by_test_id(f"figure-{key}-done").click()
        assert _listed(page) == done, (key, page.url)
        page.go_back()
        todo_link = page.get_by_test_id(f"figure-{key}-todo")
        todo = _number(todo_link.inner_text())
        assert done + todo == 9
        todo_link.click()
        assert _listed(page) == todo, (key, page.url)
        page.go_back()


def test_the_chart_fills_its_card_with_an_axis_scaled_to_the_portfolio(
    live_server, page, dashboard_firm
):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(live_server.url + "/reforme/")
    chart = page.get_by_test_id("reform-chart")
    expect(chart).to_be_visible()
    card = page.locator("figure.reform-chart")
    svg_box, card_box = chart.bounding_box(), card.bounding_box()
    # The card's inner width, less its padding and borders (a few dozen pixels).
    assert svg_box["width"] >= card_box["width"] - 60, (svg_box, card_box)
    assert svg_box["height"] <= 400
    # 9 clients: the axis stops at 10, not at 20 (nearly half the height left empty).
    labels = [t.strip() for t in chart.locator("text[text-anchor=end]").all_text_contents()]
    assert labels[-1] == "10", labels
