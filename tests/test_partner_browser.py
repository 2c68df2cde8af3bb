"""The guide's whole journey across both apps, in Chromium: the collaborator sends the
invitation by Vigie, the client follows the email's link, validates its account on the
partner's page, the console shows « Activé », and « Accéder à Shine » opens the account."""

from __future__ import annotations

import pytest

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory
from vigie.clients.models import Client, ClientEvent, ShineStatus
from vigie.invitations import services
from vigie.invitations.models import Invitation, Status
from vigie.mail import services as mail
from vigie.mail.models import EmailStatus, OutboundEmail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_invite_validate_and_access_shine(page, live_server, shine, bob, firm_a, catalogue, sink):
    client = ClientFactory(firm=firm_a, name="Cabinet Dentaire de l'Oasis", code="000246")
    ContactFactory(
        client=client,
        first_name="Jeanne",
        last_name="Oasis",
        email="jeanne@oasis.fr",
        is_principal=True,
    )

    # 1-3. The collaborator equips the client and sends the invitation by Vigie.
    sign_in(page, live_server, bob.email, PASSWORD)
    page.goto(f"{live_server.url}/clients/000246/")
    page.get_by_test_id("open-equipment").click()
    dialog = page.locator("#modal")
    dialog.get_by_label("Cabinet").check()
    dialog.locator("[data-testid=plan-start] input").check()
    dialog.get_by_role("button", name="Activer").click()
    dialog.locator("#compose-body").wait_for()
    dialog.get_by_role("button", name="Envoyer par Vigie").click()
    dialog.locator("[data-testid=queued]").wait_for()
    for pk in OutboundEmail.objects.filter(status=EmailStatus.QUEUED).values_list("pk", flat=True):
        mail.email_deliver(pk)  # what the worker does
    [message] = sink.wait_for(1)
    invitation = Invitation.objects.get(client=client)
    link = services.link_in(invitation, message.get_body(("plain",)).get_content())

    # 4. The client follows the link and validates its account on the partner's page.
    client_page = page.context.new_page()
    client_page.goto(live_server.url + "/invitations/" + link.rsplit("/invitations/", 1)[1])
    assert client_page.url.startswith(shine.url + "/onboarding/")
    assert client_page.get_by_test_id("plan").inner_text() == "Shine Start"
    client_page.get_by_label("Choisissez un mot de passe").fill("mon-mot-de-passe")
    client_page.get_by_label("J'accepte les conditions générales").check()
    client_page.get_by_role("button", name="Valider mon compte").click()
    client_page.get_by_text("Compte activé").wait_for()
    client_page.close()

    # The partner's webhook reaches the console: « Activé ».
    shine.deliver_webhooks()  # retries anything the first attempt missed
    invitation.refresh_from_db()
    assert invitation.status == Status.ACTIVATED
    assert Client.objects.get(pk=client.pk).shine_status == ShineStatus.ACTIVATED
    page.goto(f"{live_server.url}/clients/000246/")
    card = page.get_by_test_id("shine-card")
    card.wait_for()
    assert "Activé" in card.inner_text() and "Cabinet" in card.inner_text()

    # « Accéder à Shine »: the client's account, as the firm.
    with page.context.expect_page() as opened:
        card.get_by_role("button", name="Accéder à Shine").click()
    shine_tab = opened.value
    shine_tab.wait_for_load_state()
    assert "Accès cabinet" in shine_tab.get_by_test_id("firm-access").inner_text()
    assert "Cabinet Dentaire de l'Oasis" in shine_tab.locator("h1").inner_text()
    assert ClientEvent.objects.filter(client=client, kind="shine.access", actor=bob).count() == 1
    assert shine.state()["accounts"] == 1
