"""Firm A's world: one object of every kind a URL can name, for charlie to attack."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import ClientFactory, ContactFactory, MembershipFactory
from vigie.clients import services as client_services
from vigie.firms.models import Role
from vigie.imports.services import import_create
from vigie.integrations.services import api_key_create, integration_secret_create
from vigie.invitations import services as invitations
from vigie.invitations.models import BulkInvitation
from vigie.partners.models import PartnerLink
from vigie.reform import services as reform

SIRET_A = "84523656100013"
CSV = "Code client;Raison sociale;SIRET\r\nI001;Import SARL;84523656100013\r\n"


@dataclass
class World:
    firm_a: object
    alice: object
    bob: object
    client: object  # A001, ready for Shine and the reform, with two contacts
    contact: object  # the principal contact
    other_contact: object
    invitation: object
    bulk: object
    job: object
    api_key: object
    api_raw: str
    secret: object
    mandate: object  # signed
    charlie: object
    charlie_client_row: object  # a client of firm B (code B001)
    charlie_contact: object
    charlie_raw: str  # charlie's API key


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(firm_a, firm_b, alice, bob, charlie, catalogue, settings) -> World:
    # No partner listens here: a call to it fails at once (connection refused).
    settings.SHINE_API_URL = "http://127.0.0.1:9"
    client = ClientFactory(firm=firm_a, code="A001", name="Boulangerie Dupont", siret=SIRET_A)
    contact = ContactFactory(
        client=client, first_name="Jeanne", last_name="Martin", email="jeanne@dupont.fr"
    )
    client_services.contact_set_principal(contact=contact, actor=alice)
    other = ContactFactory(client=client, first_name="Paul", last_name="Durand")
    client_services.assignment_add(client=client, user=bob, actor=alice)

    # Reform: a mandate sent then signed (its documents downloadable).
    reform.mandate_send(client=client, actor=alice)
    pdf = reform.current_mandate(client).document.read()
    mandate = reform.mandate_upload_signed(
        client=client, actor=alice, upload=SimpleUploadedFile("signe.pdf", pdf)
    )

    invitation = invitations.invitation_create(
        client=client, actor=alice, plan="start", billing_mode="shine"
    )
    # As if the client had validated its Shine account (« Accéder à Shine » works).
    PartnerLink.objects.create(
        firm=firm_a, invitation=invitation, account_id="acc_a001", account_active=True
    )
    second = ClientFactory(firm=firm_a, code="A002", name="Garage Martin")
    ContactFactory(client=second, email="garage@martin.fr", is_principal=True)
    bulk = BulkInvitation.objects.create(
        firm=firm_a,
        created_by=alice,
        plan="start",
        billing_mode="shine",
        subject="Sujet",
        body="Corps",
        client_ids=[second.pk],
        total=1,
    )
    job = import_create(
        firm=firm_a,
        actor=alice,
        upload=SimpleUploadedFile("clients.csv", CSV.encode(), content_type="text/csv"),
    )
    key, raw = api_key_create(firm=firm_a, actor=alice, name="Cegid Loop")
    secret, _ = integration_secret_create(firm=firm_a, actor=alice, name="Quadra")

    b_client = ClientFactory(firm=firm_b, code="B001", name="Cave Bravo")
    b_contact = ContactFactory(client=b_client, email="cave@bravo.fr")
    _, charlie_raw = api_key_create(firm=firm_b, actor=charlie, name="Bravo")
    return World(
        firm_a=firm_a,
        alice=alice,
        bob=bob,
        client=client,
        contact=contact,
        other_contact=other,
        invitation=invitation,
        bulk=bulk,
        job=job,
        api_key=key,
        api_raw=raw,
        secret=secret,
        mandate=mandate,
        charlie=charlie,
        charlie_client_row=b_client,
        charlie_contact=b_contact,
        charlie_raw=charlie_raw,
    )


@pytest.fixture
def second_admin_a(firm_a):
    """A second admin, so that demoting or deactivating alice would be allowed."""
    return MembershipFactory(firm=firm_a, role=Role.ADMIN).user
