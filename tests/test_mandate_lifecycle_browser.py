"""The mandate's life in Chromium: reminders on the panel, revoking with a reason, and
« Régénérer et renvoyer » after the client's details changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory, FirmFactory, MembershipFactory
from vigie.clients.models import Client
from vigie.firms.models import Role
from vigie.mail.models import OutboundEmail
from vigie.reform import lifecycle, services

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
    return {"user": user, "oasis": oasis}


def test_reminders_revocation_and_regeneration(page, live_server, firm):
    mandate = services.mandate_send(client=firm["oasis"], actor=firm["user"])
    lifecycle.mandates_lifecycle(now=mandate.sent_at + timedelta(days=3, minutes=1))
    sign_in(page, live_server, firm["user"].email, PASSWORD)
    page.goto(f"{live_server.url}/clients/000246/")
    panel = page.get_by_test_id("reform-panel")
    expect(panel.get_by_test_id("mandate-reminders")).to_contain_text("Relances envoyées : n° 1")
    expect(panel.get_by_test_id("mandate-reminders")).to_contain_text("Prochaine relance")

    # Revoking needs a reason; the client is told.
    page.on("dialog", lambda dialog: dialog.accept())
    panel.get_by_label("Motif de la révocation (communiqué au client)").fill("Fin de mission")
    panel.get_by_role("button", name="Révoquer le mandat").click()
    expect(page.locator("#toasts")).to_contain_text("Mandat révoqué ; le client en est informé")
    expect(page.get_by_test_id("mandate-revoked")).to_contain_text("motif : Fin de mission")
    assert "Fin de mission" in OutboundEmail.objects.get(kind="reform.mandate_revoked").text

    # A new mandate, then the client's name changes: regenerate and resend in one click.
    page.get_by_test_id("reform-panel").get_by_role(
        "button", name="Générer et envoyer le mandat"
    ).click()
    expect(page.locator("#toasts")).to_contain_text("Mandat envoyé à jeanne@oasis.fr")
    Client.objects.filter(pk=firm["oasis"].pk).update(name="CABINET DENTAIRE OASIS")
    page.reload()
    changed = page.get_by_test_id("mandate-changed")
    expect(changed).to_contain_text(
        "Les informations du client ont changé depuis l'envoi du mandat (raison sociale)"
    )
    changed.get_by_role("button", name="Régénérer et renvoyer").click()
    expect(page.locator("#toasts")).to_contain_text("Mandat régénéré et renvoyé à jeanne@oasis.fr")
    expect(page.get_by_test_id("mandate-changed")).to_have_count(0)
    assert services.current_mandate(firm["oasis"]).client_name == "CABINET DENTAIRE OASIS"
