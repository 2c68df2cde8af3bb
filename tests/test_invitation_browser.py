"""The guide's three steps in Chromium: Equipement, + Ajouter, Shine (Cabinet, Start),
Activer, edit the email, « Envoyer par Vigie »; the message reaches an SMTP server.
And a bulk selection with one blocked client."""

from __future__ import annotations

import pytest

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory
from vigie.mail import services as mail
from vigie.mail.models import EmailStatus, OutboundEmail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _deliver_all():
    for pk in OutboundEmail.objects.filter(status=EmailStatus.QUEUED).values_list("pk", flat=True):
        mail.email_deliver(pk)


def test_one_client_in_three_steps(page, live_server, bob, firm_a, catalogue, sink):
    client = ClientFactory(firm=firm_a, name="Mon client", code="000006")
    ContactFactory(
        client=client,
        first_name="Jeanne",
        last_name="Client",
        email="client@entreprise.com",
        is_principal=True,
    )
    sign_in(page, live_server, bob.email, PASSWORD)
    page.goto(live_server.url + "/?view=equipement")
    row = page.locator("tr[data-code='000006']")
    row.hover()
    row.locator("a.add-on-hover").first.click(force=True)
    dialog = page.locator("#modal")
    dialog.get_by_text("SOLUTIONS CEGID").wait_for()
    dialog.get_by_label("Cabinet").check()
    dialog.locator("[data-testid=plan-start] input").check()
    dialog.get_by_role("button", name="Activer").click()
    body = dialog.locator("#compose-body")
    body.wait_for()
    text = body.input_value().replace("Bonjour", "Bonjour et bienvenue", 1)
    body.fill(text)
    dialog.get_by_role("button", name="Envoyer par Vigie").click()
    dialog.locator("[data-testid=queued]").wait_for()
    _deliver_all()
    [msg] = sink.wait_for(1)
    assert "Bonjour et bienvenue" in msg.get_body(("plain",)).get_content()
    assert msg["Reply-To"].addresses[0].addr_spec == bob.email


def test_a_bulk_selection_with_one_blocked_client(page, live_server, bob, firm_a, catalogue, sink):
    for n in range(2):
        c = ClientFactory(firm=firm_a, name=f"Prêt {n}", code=f"R{n}")
        ContactFactory(client=c, email=f"tpe{n}@entreprise.com", is_principal=True)
    ClientFactory(firm=firm_a, name="Sans Siret", code="NOSIRET", siret="")
    sign_in(page, live_server, bob.email, PASSWORD)
    page.goto(live_server.url + "/?view=equipement")
    page.locator("[data-check-page]").check()
    page.locator("[data-testid=equip-selection]").click()
    dialog = page.locator("#modal")
    dialog.locator("[data-testid=ready-count]").wait_for()
    assert dialog.locator("[data-testid=ready-count]").inner_text() == "2"
    assert dialog.locator("[data-testid=blocked-count]").inner_text() == "1"
    assert (
        "Le SIRET est obligatoire pour inviter la TPE"
        in dialog.locator("[data-testid=blocked-list]").inner_text()
    )
    dialog.get_by_label("Shine", exact=True).check()
    dialog.locator("[data-testid=plan-plus] input").check()
    dialog.get_by_role("button", name="Activer pour 2 clients").click()
    dialog.locator("[data-testid=bulk-progress]").wait_for()
    from vigie.invitations.models import BulkInvitation
    from vigie.invitations.services import bulk_invitation_run

    bulk_invitation_run(BulkInvitation.objects.get().pk)  # what the worker does
    dialog.locator("[data-testid=bulk-done]").wait_for()
    assert "2 / 2" in dialog.locator("[data-testid=bulk-count]").inner_text()
    _deliver_all()
    assert len(sink.wait_for(2)) == 2
