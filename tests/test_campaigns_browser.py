"""A sensibilisation campaign in Chromium, with a real task worker and SMTP server: a
filtered portfolio, « select all N matching », the launch dialog (preflight, preview for
one client, axe-audited), the campaign page's funnel moving while the worker sends (axe),
a count opening exactly its clients in the portfolio, the reminder, and the list."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory
from tests.test_accessibility_browser import BLOCKING, audit, describe
from tests.test_campaigns_worker import _stop
from tests.test_mail_worker import _worker
from vigie.campaigns.models import Campaign
from vigie.mail.testing import SMTPSink

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portfolio(firm_a, firm_b, alice):
    """Nine clients not yet informed (one without a principal contact's e-mail), three
    informed, and one of firm B."""
    for n in range(8):
        client = ClientFactory(firm=firm_a, code=f"S{n:02d}", name=f"Boulangerie {n}")
        ContactFactory(client=client, first_name="Jeanne", email=f"s{n}@tpe.fr", is_principal=True)
    bare = ClientFactory(firm=firm_a, code="S99", name="Boulangerie sans e-mail")
    ContactFactory(client=bare, email="", is_principal=True)
    for n in range(3):
        ClientFactory(firm=firm_a, code=f"I{n:02d}", sensitised=True)
    ClientFactory(firm=firm_b, code="B00")


def _clean(page, where: str) -> None:
    violations = [v for v in audit(page) if v["impact"] in BLOCKING]
    assert not violations, f"{where}:\n{describe(violations)}"


def test_a_sensibilisation_campaign_from_a_filtered_selection(live_server, page, portfolio):
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(live_server.url + "/?sensi=non")
    expect(page.get_by_test_id("page-range")).to_have_text("1-9 sur 9")
    page.locator("tbody input[name=codes]").first.check()
    page.get_by_role("button", name="Sélectionner les 9 clients").click()
    page.get_by_test_id("bulk-campaign").click()

    dialog = page.get_by_test_id("campaign-dialog")
    expect(dialog.locator("h2")).to_have_text("Lancer une campagne — 9 clients sélectionnés")
    expect(dialog.get_by_test_id("ready-count")).to_have_text("8")
    expect(dialog.get_by_test_id("blocked-count")).to_have_text("1")
    expect(dialog.get_by_test_id("blocked-list")).to_contain_text("Boulangerie sans e-mail")
    fix = dialog.get_by_test_id("blocked-list").get_by_role("link", name="corriger")
    expect(fix).to_have_attribute("href", "/clients/S99/#contacts")
    expect(dialog.get_by_test_id("preview-subject")).to_contain_text("Boulangerie 0")
    page.get_by_label("Aperçu pour le client").select_option("S03")
    expect(dialog.get_by_test_id("preview-to")).to_have_text("s3@tpe.fr")
    expect(dialog.get_by_test_id("preview-subject")).to_contain_text("Boulangerie 3")
    _clean(page, "launch dialog")

    page.get_by_label("Nom de la campagne").fill("Sensibilisation de printemps")
    page.get_by_test_id("campaign-launch").click()
    expect(page).to_have_url(re.compile(r"/campagnes/[0-9a-f-]{36}/$"))
    expect(page.locator("h1")).to_have_text("Sensibilisation de printemps")
    expect(page.locator("#toasts")).to_contain_text("Campagne lancée pour 9 clients.")
    # Nobody works yet: nothing sent, everyone waiting.
    expect(page.get_by_test_id("count-cibles")).to_have_text("9")
    expect(page.get_by_test_id("count-envoyes")).to_have_text("0")
    expect(page.get_by_test_id("count-en_attente")).to_contain_text("9")
    expect(page.get_by_test_id("campaign-state")).to_have_text("Envoi en cours")

    with SMTPSink() as sink:
        worker = _worker(sink)
        try:
            # The page polls: the funnel moves as the worker sends.
            expect(page.get_by_test_id("count-envoyes")).to_have_text("8", timeout=30_000)
            expect(page.get_by_test_id("campaign-state")).to_have_text(
                "Envois terminés", timeout=30_000
            )
            expect(page.get_by_test_id("percent-envoyes")).to_have_text("89 %")
            expect(page.get_by_test_id("count-bloques")).to_contain_text("1")
            expect(page.get_by_test_id("campaign-blocked")).to_contain_text(
                "Boulangerie sans e-mail"
            )
            _clean(page, "campaign page")
            assert len(sink.wait_for(8, timeout=30)) == 8

            # « Relancer les non-répondants »: none is registered with a PA yet.
            page.once("dialog", lambda d: d.accept())
            page.get_by_test_id("campaign-remind").click()
            expect(page.locator("#toasts")).to_contain_text("Relance en cours pour 8 clients.")
            expect(page.get_by_test_id("campaign-state")).to_have_text(
                "Envois terminés", timeout=30_000
            )
            reminders = [m for m in sink.wait_for(16, timeout=30) if "Rappel" in m["Subject"]]
            assert len(reminders) == 8
            expect(page.get_by_test_id("campaign-remind")).to_be_disabled()
        finally:
            _stop(worker)

    # A count opens exactly its clients.
    page.get_by_test_id("count-envoyes").click()
    expect(page.get_by_test_id("page-range")).to_have_text("1-8 sur 8")
    expect(page.locator('tr[data-code="S99"]')).to_have_count(0)
    expect(page.locator("select[name=etape]")).to_have_value("envoyes")

    page.goto(live_server.url + "/reforme/")
    page.get_by_test_id("campaigns-link").click()
    campaign = Campaign.objects.get()
    row = page.get_by_test_id(f"campaign-{campaign.public_id}")
    expect(row).to_contain_text("Sensibilisation de printemps")
    expect(row).to_contain_text("Alice Adam")
    _clean(page, "campaigns list")
