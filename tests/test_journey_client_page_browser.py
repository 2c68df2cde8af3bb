"""The client page follows every change without a reload: an invitation cancelled in its
Shine panel, an activation arriving from the partner, an address already taken."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory
from vigie.invitations import services as invitations
from vigie.invitations.models import BillingMode, Plan, SendMethod

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ready_client(firm_a, catalogue):
    client = ClientFactory(firm=firm_a, name="Café de la Gare", code="000246")
    ContactFactory(
        client=client,
        first_name="Jeanne",
        last_name="Client",
        email="jeanne@gare.fr",
        is_principal=True,
    )
    return client


def _sent(client, actor):
    invitation = invitations.invitation_create(
        client=client, actor=actor, plan=Plan.EASY, billing_mode=BillingMode.SHINE
    )
    return invitations.invitation_send(
        invitation=invitation,
        actor=actor,
        method=SendMethod.MAILTO,
        subject=invitation.subject,
        body=invitation.body,
    )


def test_cancelling_the_invitation_updates_the_whole_page(live_server, page, alice, ready_client):
    _sent(ready_client, alice)
    sign_in(page, live_server, alice.email, PASSWORD)
    page.goto(f"{live_server.url}/clients/{ready_client.code}/")
    equipment = page.locator("#equipment")
    expect(equipment).to_contain_text("Shine Easy")
    expect(page.get_by_test_id("shine-open")).to_be_visible()

    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm
    equipment.get_by_role("button", name="Annuler l'invitation").click()
    expect(equipment).not_to_contain_text("Shine Easy")
    expect(page.get_by_test_id("shine-ready")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("Invitation Shine annulée")
    expect(page.locator("#modal")).not_to_be_visible()


def test_an_activation_reaches_the_open_page(live_server, page, alice, ready_client, settings):
    invitation = _sent(ready_client, alice)
    sign_in(page, live_server, alice.email, PASSWORD)
    page.goto(f"{live_server.url}/clients/{ready_client.code}/")
    expect(page.get_by_test_id("shine-open")).to_be_visible()
    invitations.invitation_accept(invitation=invitation)  # the partner's webhook
    # The page asks again while an invitation is on its way (every 20 s): no reload.
    expect(page.get_by_test_id("shine-active")).to_be_visible(timeout=25_000)
    expect(page.get_by_test_id("shine-ready")).to_have_count(0)
    expect(page.locator("#history")).to_contain_text("Compte Shine activé")


def test_an_address_holding_a_shine_account_is_not_ready(
    live_server, page, alice, firm_a, ready_client
):
    elsewhere = ClientFactory(firm=firm_a, name="Autre", code="000999")
    ContactFactory(client=elsewhere, email="jeanne@gare.fr", is_principal=True)
    _sent(elsewhere, alice)
    sign_in(page, live_server, alice.email, PASSWORD)
    page.goto(f"{live_server.url}/clients/{ready_client.code}/")
    expect(page.get_by_test_id("shine-taken")).to_contain_text("déjà utilisée")
    expect(page.get_by_test_id("shine-ready")).to_have_count(0)
