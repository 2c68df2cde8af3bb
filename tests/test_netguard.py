"""Addresses a firm gives the server to call never lead into the server's own network
(vigie/lib/netguard.py): refused when saved, when tested and when a run uses them."""

from __future__ import annotations

import html

import pytest

from tests.registries import point_at_sandbox
from tests.test_registries_pa import CLIENT_ID, PAGE, SECRET, TEST, _connect
from vigie.lib.netguard import PrivateAddress, refuse_private
from vigie.registries import annuaire
from vigie.registries.http import RegisterUnavailable
from vigie.registries.models import DirectoryConnection

pytestmark = pytest.mark.django_db

INTERNAL = [
    "http://127.0.0.1:8000/annuaire",
    "http://localhost/annuaire",
    "http://169.254.169.254/latest/meta-data/",  # a cloud's instance metadata
    "http://10.0.0.5/annuaire",
    "http://192.168.1.10/annuaire",
    "http://[::1]/annuaire",
    "http://0.0.0.0/annuaire",
]


@pytest.fixture
def guarded(settings):
    settings.OUTBOUND_PRIVATE_HOSTS = False


@pytest.mark.parametrize("url", INTERNAL)
def test_an_internal_address_is_refused(guarded, url):
    with pytest.raises(PrivateAddress):
        refuse_private(url)


def test_a_public_address_passes(guarded):
    refuse_private("https://8.8.8.8/annuaire")


def test_allowed_where_it_is_the_point(settings):
    settings.OUTBOUND_PRIVATE_HOSTS = True
    refuse_private("http://127.0.0.1/annuaire")


def _form(**fields) -> dict:
    return {
        "base_url": "https://pa.example.fr/annuaire",
        "token_url": "https://pa.example.fr/token",
        "client_id": CLIENT_ID,
        "secret": SECRET,
        **fields,
    }


@pytest.mark.parametrize("field", ["base_url", "token_url"])
@pytest.mark.parametrize("url", ["http://169.254.169.254/latest", "http://127.0.0.1:5432/"])
def test_the_settings_page_refuses_it_and_changes_nothing(
    guarded, alice_client, firm_a, field, url
):
    for page in (PAGE, TEST):
        response = alice_client.post(page, _form(**{field: url}))
        assert response.status_code == 422
        assert "mène au réseau interne du serveur" in html.unescape(response.content.decode())
    assert not DirectoryConnection.objects.for_firm(firm_a).exists()


def test_a_run_refuses_an_address_saved_before_it_led_inside(sandbox, settings, firm_a):
    point_at_sandbox(sandbox, settings)
    _connect(firm_a, sandbox)  # saved while allowed: the sandbox is on 127.0.0.1
    settings.OUTBOUND_PRIVATE_HOSTS = False
    with pytest.raises(RegisterUnavailable, match="réseau interne"):
        annuaire.connector_for(firm_a)
    ok, message = annuaire.connection_test(
        base_url=sandbox.url + "/afnor-directory",
        token_url=sandbox.url + "/afnor-directory/oauth/token",
        client_id=CLIENT_ID,
        secret=SECRET,
    )
    assert not ok and "réseau interne" in message
