"""The guide's prerequisite for Shine, in Chromium: a principal contact for the client.

Cas 1 — the client already has contacts: tick PRINCIPAL on the Admin contact.
Cas 2 — the client has none: « Ajouter un contact », principal, « Enregistrer ».
The rows are those of the demo portfolio, made with factories to keep the test fast.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory, FirmFactory, MembershipFactory
from vigie.clients.models import Access, Contact
from vigie.firms.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def guide(db):
    firm = FirmFactory(name="Cabinet Démonstration")
    user = MembershipFactory(firm=firm, role=Role.ADMIN, user__email="demo@cabinet-demo.fr").user
    oasis = ClientFactory(
        firm=firm, code="000246", name="CABINET DENTAIRE DE L'OASIS", siret="84523656100013"
    )
    ContactFactory(
        client=oasis,
        first_name="Mon client",
        last_name="contact 1",
        email="contact1@email.com",
        access=Access.ADMIN,
    )
    ContactFactory(
        client=oasis,
        first_name="Mon client",
        last_name="contact 2",
        email="contact2@email.com",
        access=Access.USER,
    )
    mon_client = ClientFactory(firm=firm, code="01TEST1", name="Mon client", siret="80826415400010")
    return {"user": user, "oasis": oasis, "mon_client": mon_client}


def test_cas_1_tick_principal_on_the_admin_contact(page, live_server, guide):
    sign_in(page, live_server, guide["user"].email, PASSWORD)
    page.goto(f"{live_server.url}/clients/000246/")
    expect(page.get_by_role("heading", name="CABINET DENTAIRE DE L'OASIS")).to_be_visible()
    expect(page.get_by_test_id("shine-blockers")).to_contain_text(
        "Le client n'a pas de contact principal"
    )

    row = page.locator("#contacts tr", has_text="Mon client contact 1")
    expect(row).to_contain_text("Admin")
    row.get_by_role("checkbox").check()

    expect(page.locator("#toasts")).to_contain_text("Contact principal mis à jour avec succès")
    row = page.locator("#contacts tr", has_text="Mon client contact 1")
    expect(row.get_by_role("checkbox")).to_be_checked()
    other = page.locator("#contacts tr", has_text="Mon client contact 2")
    expect(other.get_by_role("checkbox")).not_to_be_checked()
    expect(page.get_by_test_id("shine-ready")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("Contact principal : Mon client contact 1")
    principal = Contact.objects.get(client=guide["oasis"], is_principal=True)
    assert principal.email == "contact1@email.com"

    # Moving it to the other contact clears the first one.
    other.get_by_role("checkbox").check()
    expect(
        page.locator("#contacts tr", has_text="Mon client contact 1").get_by_role("checkbox")
    ).not_to_be_checked()
    assert Contact.objects.get(client=guide["oasis"], is_principal=True).last_name == "contact 2"


def test_cas_2_add_a_principal_contact(page, live_server, guide):
    sign_in(page, live_server, guide["user"].email, PASSWORD)
    page.goto(f"{live_server.url}/clients/01TEST1/")
    expect(page.get_by_role("heading", name="Mon client", exact=True)).to_be_visible()

    page.get_by_role("link", name="+ Ajouter un contact").click()
    dialog = page.locator("dialog#modal")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Nom *", exact=True).fill("NomClient")
    dialog.get_by_label("Prénom *").fill("PrénomClient")
    dialog.get_by_label("E-mail *").fill("client@email.com")
    dialog.get_by_label("Téléphone *").fill("12345")
    dialog.get_by_label("Contact principal").check()
    dialog.get_by_role("button", name="Enregistrer").click()

    # A bad phone keeps the dialog open with the message next to the field.
    expect(dialog).to_contain_text("Ce numéro de téléphone n'est pas valide.")
    assert not Contact.objects.filter(client=guide["mon_client"]).exists()
    dialog.get_by_label("Téléphone *").fill("0707070707")
    dialog.get_by_role("button", name="Enregistrer").click()

    expect(dialog).to_be_hidden()
    row = page.locator("#contacts tr", has_text="PrénomClient NomClient")
    expect(row.get_by_role("checkbox")).to_be_checked()
    expect(row).to_contain_text("client@email.com")
    expect(row).to_contain_text("07 07 07 07 07")
    expect(page.locator("#toasts")).to_contain_text("Contact ajouté")
    expect(page.get_by_test_id("shine-ready")).to_be_visible()
    contact = Contact.objects.get(client=guide["mon_client"])
    assert (contact.is_principal, contact.phone) == (True, "+33707070707")

    # Still there after a reload.
    page.reload()
    expect(
        page.locator("#contacts tr", has_text="PrénomClient NomClient").get_by_role("checkbox")
    ).to_be_checked()


def test_the_siret_banner_leads_to_the_details_form(page, live_server, guide):
    mon_client = guide["mon_client"]
    mon_client.siret = ""
    mon_client.save()
    sign_in(page, live_server, guide["user"].email, PASSWORD)
    page.goto(f"{live_server.url}/clients/01TEST1/")

    expect(page.get_by_test_id("shine-blockers")).to_contain_text(
        "Le SIRET est obligatoire pour inviter la TPE"
    )
    page.get_by_role("link", name="Renseigner le SIRET").click()
    page.locator("#details").get_by_label("Siret").fill("808 264 154 00010")
    page.locator("#details").get_by_role("button", name="Enregistrer").click()

    expect(page).to_have_url(re.compile(r"/clients/01TEST1/#details$"))
    expect(page.get_by_test_id("siret")).to_have_text("808 264 154 00010")
    expect(page.get_by_test_id("shine-blockers")).not_to_contain_text("SIRET")
    expect(page.locator("#toasts")).to_contain_text("Détails enregistrés.")


def test_modifier_les_details_loads_the_form_when_opened(page, live_server, guide):
    sign_in(page, live_server, guide["user"].email, PASSWORD)
    page.goto(f"{live_server.url}/clients/01TEST1/")
    details = page.locator("#details")
    expect(details.get_by_label("Activité")).to_have_count(0)  # not built until opened

    details.get_by_text("Modifier les détails").click()
    details.get_by_label("Activité").fill("Boulangerie")
    details.get_by_role("button", name="Enregistrer").click()

    expect(page).to_have_url(re.compile(r"/clients/01TEST1/#details$"))
    expect(page.locator("#toasts")).to_contain_text("Détails enregistrés.")
    expect(details).to_contain_text("Boulangerie")
