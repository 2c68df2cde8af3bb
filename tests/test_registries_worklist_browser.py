"""The registers' worklist in Chromium: the portfolio's « Registres » column and filter,
« Vérifier les registres » for ticked clients (a toast at once, the run queued), and the
dashboard's card: each count opens exactly its clients, « Vérifier tout le portefeuille »
shows the run in preparation, then its progress."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory
from vigie.registries import preparation
from vigie.registries.models import CheckItem, CheckRun, CheckStatus, Register, RegisterCheck

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOTAL = re.compile(r"sur (\d+)$")


def _check(client, register, status, *codes):
    RegisterCheck.objects.create(
        firm=client.firm,
        client=client,
        register=register,
        status=status,
        checked_at=timezone.now(),
        attempted_at=timezone.now(),
        findings=[{"code": c, "field": "", "label": c, "register": "", "firm": ""} for c in codes],
    )


@pytest.fixture
def worklist(firm_a, firm_b, alice):
    clients = [ClientFactory(firm=firm_a, code=f"W{i:03d}") for i in range(6)]
    _check(clients[0], Register.SIRENE, CheckStatus.CEASED, "ceased")
    _check(clients[1], Register.SIRENE, CheckStatus.DRIFT, "name")
    _check(clients[2], Register.ANNUAIRE, CheckStatus.DRIFT, "platform")
    _check(clients[3], Register.SIRENE, CheckStatus.UP_TO_DATE)
    other = ClientFactory(firm=firm_b)
    _check(other, Register.ANNUAIRE, CheckStatus.DRIFT, "platform")
    return clients


def test_the_column_filter_and_selection_check(live_server, page, worklist, firm_a):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(live_server.url + "/")
    header = page.locator("thead th", has_text="REGISTRES")
    expect(header).to_have_count(1)
    row = page.locator('tr[data-code="W000"]')
    expect(row.get_by_test_id("registers-status")).to_have_text("Cessée")
    page.select_option("select[name=registres]", "ecart")
    expect(page.get_by_test_id("page-range")).to_have_text("1-2 sur 2")
    page.locator('tr[data-code="W001"] input[name=codes]').check()
    page.locator('tr[data-code="W002"] input[name=codes]').check()
    page.get_by_test_id("bulk-registers").click()
    expect(page.locator("#toasts .toast")).to_contain_text(
        "Vérification des registres lancée pour 2 clients."
    )
    expect(page).to_have_url(re.compile(r"registres=ecart"))  # the page stayed
    run = CheckRun.objects.get(firm=firm_a)
    codes = set(CheckItem.objects.filter(run=run).values_list("client__code", flat=True))
    assert codes == {"W001", "W002"}


def test_the_card_counts_open_their_clients_and_the_run_shows(live_server, page, worklist):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(live_server.url + "/reforme/")
    card = page.get_by_test_id("registers-card")
    link = card.get_by_test_id("registers-plateforme").get_by_role("link")
    expect(link).to_contain_text("1 Inscrit auprès d'une autre plateforme")
    link.click()
    expect(page.get_by_test_id("page-range")).to_have_text("1-1 sur 1")
    expect(page.locator('tr[data-code="W002"]')).to_have_count(1)
    page.go_back()
    card = page.get_by_test_id("registers-card")
    card.get_by_test_id("registers-check-all").click()
    expect(page.locator("#toasts .toast")).to_contain_text(
        "Vérification de tout le portefeuille lancée : 6 clients."
    )
    # The card refreshes itself: the run in preparation, the button disabled…
    progress = page.get_by_test_id("registers-progress")
    expect(progress).to_contain_text("Vérification en préparation")
    expect(progress).to_contain_text("0 / 6 clients préparés")
    expect(page.get_by_test_id("registers-check-all")).to_be_disabled()
    # …then, once the worker has written its checks, their progress (it polls).
    preparation.run_prepare(CheckRun.objects.get(firm__name="Cabinet Alpha"))
    expect(progress).to_contain_text("0 / 12 contrôles faits", timeout=10_000)
    expect(page.get_by_test_id("registers-check-all")).to_be_disabled()
