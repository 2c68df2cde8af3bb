"""A mandate campaign says, before it leaves, which clients' signatory is none of the
directors the company register lists (as the Réforme panel does for one client)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ClientFactory, ContactFactory
from vigie.campaigns import preflight
from vigie.clients.models import Client
from vigie.reform.panel import SIGNATORY_UNLISTED
from vigie.registries.models import CheckStatus, Register, RegisterCheck

NEW = reverse("campaign_new")


def _client(firm, code, principal="Jeanne Martin", directors=None):
    client = ClientFactory(firm=firm, code=code, name=f"Entreprise {code}")
    first, last = principal.split(" ", 1)
    ContactFactory(
        client=client, first_name=first, last_name=last, email=f"{code}@tpe.fr", is_principal=True
    )
    if directors is not None:
        RegisterCheck.objects.create(
            firm=firm,
            client=client,
            register=Register.SIRENE,
            status=CheckStatus.UP_TO_DATE,
            checked_at=timezone.now(),
            attempted_at=timezone.now(),
            values={"directors": [{"name": n, "role": "Gérant"} for n in directors]},
        )
    return client


@pytest.fixture
def clients(firm_a):
    return [
        _client(firm_a, "S1", directors=["Paul DURAND"]),  # not a director
        _client(firm_a, "S2", directors=["Jeanne Marie MARTIN"]),  # a director
        _client(firm_a, "S3"),  # the register's directors unknown
        _client(firm_a, "S4", directors=[]),  # known to list none
    ]


def _loaded(firm, codes):
    return list(
        Client.objects.filter(firm=firm, code__in=codes)
        .select_related("firm")
        .prefetch_related(preflight.principals())
        .order_by("code")
    )


def test_only_a_signatory_missing_from_known_directors_is_flagged(
    firm_a, clients, django_assert_num_queries
):
    loaded = _loaded(firm_a, ["S1", "S2", "S3", "S4"])
    with django_assert_num_queries(1):
        notices = preflight.signatory_warnings(loaded)
    assert [(n.client.code, n.reason) for n in notices] == [
        ("S1", f"{SIGNATORY_UNLISTED} (Jeanne Martin)")
    ]


def test_the_dialog_shows_them_for_a_mandate_campaign_only(alice_client, clients):
    def dialog(kind):
        response = alice_client.get(
            NEW, {"kind": kind, "codes": ["S1", "S2", "S3"]}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        return response.content.decode()

    page = dialog("mandat")
    assert 'data-testid="signatory-warnings"' in page
    assert f"{SIGNATORY_UNLISTED} (Jeanne Martin)" in page
    assert f"{reverse('client_detail', args=['S1'])}#reforme" in page
    assert 'data-code="S2"' not in page.split('data-testid="signatory-warnings"')[1]
    # Ready all the same: the warning does not block.
    assert 'data-testid="ready-count">3<' in page
    assert 'data-testid="signatory-warnings"' not in dialog("sensibilisation")


def test_another_firms_register_says_nothing_here(firm_a, firm_b, clients):
    other = _client(firm_b, "S1", directors=["Someone ELSE"])
    loaded = _loaded(firm_a, ["S2"])
    # firm B's check of its own S1 is not read for firm A's clients.
    assert preflight.signatory_warnings(loaded) == []
    assert preflight.signatory_warnings(_loaded(firm_b, ["S1"]))[0].client == other
