"""The reform journey in Chromium: inform a selection from the portfolio, prepare a
mandate's draft and send it, upload the signed copy, see **Télécharger** and the dashboard move."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory, FirmFactory, MembershipFactory
from vigie.firms.models import Role
from vigie.mail.models import OutboundEmail
from vigie.reform.pdf import MandateData, mandate_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def firm(db):
    firm = FirmFactory(name="Cabinet Démonstration")
    user = MembershipFactory(firm=firm, role=Role.ADMIN, user__email="demo@cabinet-demo.fr").user
    oasis = ClientFactory(
        firm=firm, code="000246", name="CABINET DENTAIRE DE L'OASIS", siret="84523656100013"
    )
    ContactFactory(
        client=oasis,
        first_name="Jeanne",
        last_name="Martin",
        email="jeanne@oasis.fr",
        is_principal=True,
    )
    ClientFactory(firm=firm, code="000247", name="BOULANGERIE ÉLAN")
    ClientFactory(firm=firm, code="000248", name="ZINGUERIE ZED")
    return {"user": user, "oasis": oasis}


def _figure(page, key):
    return page.get_by_test_id(f"figure-{key}-done")


def test_the_reform_journey(page, live_server, firm, tmp_path):
    sign_in(page, live_server, firm["user"].email, PASSWORD)

    # The dashboard starts at zero.
    page.get_by_role("link", name="Réforme", exact=True).click()
    expect(page.get_by_role("heading", name="Tableau de bord réforme")).to_be_visible()
    expect(_figure(page, "sensitised")).to_have_text("0")
    expect(_figure(page, "mandate")).to_have_text("0")
    expect(page.get_by_test_id("days-left")).not_to_be_empty()

    # Mark a selection of two clients as informed from the portfolio.
    page.get_by_role("link", name="Portefeuille clients").first.click()
    page.locator('tr[data-code="000246"] input[name=codes]').check()
    page.locator('tr[data-code="000247"] input[name=codes]').check()
    bar = page.locator("[data-selection-bar]")
    expect(bar).to_contain_text("2 clients sélectionnés")
    bar.get_by_test_id("bulk-sensitise").click()
    expect(page.locator("#toasts")).to_contain_text("2 client(s) marqué(s) sensibilisé(s)")
    expect(page.locator('tr[data-code="000246"] .mark-yes')).to_have_count(1)
    expect(page.locator('tr[data-code="000247"] .mark-yes')).to_have_count(1)
    expect(page.locator('tr[data-code="000248"] .mark-no')).to_have_count(1)

    # Generate and send the mandate from the client page.
    page.goto(f"{live_server.url}/clients/000246/")
    panel = page.get_by_test_id("reform-panel")
    expect(panel.get_by_test_id("reform-sensitised")).to_contain_text("Oui")
    expect(panel.get_by_test_id("reform-sensitised").locator(".mark-yes")).to_have_count(1)
    # First a draft, read before it goes: nothing is sent yet.
    panel.get_by_role("button", name="Préparer un brouillon").click()
    expect(page.locator("#toasts")).to_contain_text("Brouillon de mandat préparé")
    draft = page.get_by_test_id("mandate-draft")
    expect(draft).to_contain_text("pour Jeanne Martin (jeanne@oasis.fr)")
    expect(draft.get_by_role("link", name="Voir le brouillon (PDF)")).to_be_visible()
    assert not OutboundEmail.objects.filter(kind="reform.mandate").exists()
    draft.get_by_role("button", name="Envoyer pour signature").click()
    expect(page.locator("#toasts")).to_contain_text("Mandat envoyé à jeanne@oasis.fr")
    expect(page.get_by_test_id("mandate-draft")).to_have_count(0)
    expect(page.get_by_test_id("reform-mandate")).to_contain_text("Mandat envoyé")
    email = OutboundEmail.objects.get(kind="reform.mandate")
    assert email.to == "jeanne@oasis.fr" and email.decoded_attachments()[0][1].startswith(b"%PDF-")

    # A file that is not a PDF is refused, next to the field.
    fake = tmp_path / "mandat.pdf"
    fake.write_bytes(b"not really a pdf")
    page.set_input_files("#mandate-file", str(fake))
    page.get_by_role("button", name="Déposer le mandat signé").click()
    expect(page.get_by_role("alert")).to_contain_text("Le fichier n'est pas un PDF valide.")

    # Upload the signed copy.
    signed = tmp_path / "scan-signe.pdf"
    signed.write_bytes(
        mandate_pdf(
            MandateData(
                "C", "OASIS", "845236561", "84523656100013", "J", "j@o.fr", date.today(), "s"
            )
        )
    )
    page.set_input_files("#mandate-file", str(signed))
    page.get_by_role("button", name="Déposer le mandat signé").click()
    expect(page.locator("#toasts")).to_contain_text("Mandat signé déposé.")
    expect(page.get_by_test_id("reform-mandate")).to_contain_text("Mandat signé")

    # Télécharger in the portfolio streams the signed copy.
    page.goto(f"{live_server.url}/")
    link = page.locator('tr[data-code="000246"]').get_by_role("link", name="Télécharger")
    expect(link).to_be_visible()
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "mandat-000246-signe.pdf"
    assert open(download.path(), "rb").read() == signed.read_bytes()

    # The dashboard's figures moved.
    page.goto(f"{live_server.url}/reforme/")
    expect(_figure(page, "sensitised")).to_have_text("2")
    expect(page.get_by_test_id("figure-sensitised-percent")).to_have_text("67 %")
    expect(_figure(page, "mandate")).to_have_text("1")
    # The figure opens the two clients informed; « à traiter » the one still to inform.
    page.get_by_test_id("figure-sensitised-done").click()
    expect(page.locator("[data-testid=page-range]")).to_have_text("1-2 sur 2")
    expect(page.locator('tr[data-code="000248"]')).to_have_count(0)
    page.go_back()
    page.get_by_test_id("figure-sensitised-todo").click()
    expect(page.locator("[data-testid=page-range]")).to_have_text("1-1 sur 1")
    expect(page.locator('tr[data-code="000248"]')).to_be_visible()
