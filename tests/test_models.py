from __future__ import annotations

import pytest
from django.db import DataError, IntegrityError, transaction

from tests.factories import ClientFactory, ContactFactory
from vigie.clients.models import Client


def test_it_keeps_one_principal_per_client(client_a):
    ContactFactory(client=client_a, is_principal=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(client=client_a, is_principal=True)


def test_it_allows_one_principal_in_each_client(firm_a):
    ContactFactory(client=ClientFactory(firm=firm_a), is_principal=True)
    ContactFactory(client=ClientFactory(firm=firm_a), is_principal=True)


def test_it_keeps_codes_unique_within_a_firm(firm_a, firm_b):
    ClientFactory(firm=firm_a, code="000001")
    ClientFactory(firm=firm_b, code="000001")  # another firm may reuse it
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientFactory(firm=firm_a, code="000001")


@pytest.mark.parametrize("siret", ["123", "8452365610001A", "845236561000130"])
def test_the_database_refuses_malformed_sirets(firm_a, siret):
    # PostgreSQL refuses the over-long one by its length (DataError), SQLite by the check.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        ClientFactory(firm=firm_a, siret=siret)


def test_the_database_refuses_unknown_legal_forms(firm_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientFactory(firm=firm_a, legal_form="GMBH")


def test_it_keeps_contact_emails_unique_per_client_ignoring_case(client_a):
    ContactFactory(client=client_a, email="jeanne@entreprise.fr")
    ContactFactory(client=ClientFactory(firm=client_a.firm), email="jeanne@entreprise.fr")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(client=client_a, email="JEANNE@entreprise.fr")


def test_it_folds_search_keys(firm_a):
    client = ClientFactory(firm=firm_a, name="ECKHOUT Pascal Et Frères", code="000003")
    client.refresh_from_db()
    assert client.sort_name == "eckhout pascal et freres"
    assert "000003" in client.search_text
    contact = ContactFactory(
        client=client, first_name="Élodie", last_name="Noël", email="E.Noel@X.fr"
    )
    assert contact.email == "e.noel@x.fr"
    assert contact.search_text == "elodie noel e.noel@x.fr"


def test_for_firm_only_returns_that_firms_clients(firm_a, firm_b):
    mine = ClientFactory(firm=firm_a)
    ClientFactory(firm=firm_b)
    assert list(Client.objects.for_firm(firm_a)) == [mine]
