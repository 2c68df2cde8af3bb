"""Sign-in under attack, through the real allauth forms. tests/test_signin.py covers the
basics (5 failures lock an account, TOTP asked once enabled); here: the lock per address
and IP whatever the address's case (a stranger never locks an account out from every IP),
the lock per IP across accounts, brute force of the TOTP code, and nothing of the console
reachable between the password and the code."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.test_signin import LOGIN, _totp_code

MFA = "/compte/2fa/authenticate/"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    cache.clear()
    yield
    cache.clear()


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_lock_holds_whatever_the_case_of_the_address(client, alice, password):
    for login in (
        "alice@alpha.fr",
        "ALICE@alpha.fr",
        "Alice@Alpha.FR",
        "alice@ALPHA.fr",
        "aLiCe@alpha.fr",
    ):
        client.post(LOGIN, {"login": login, "password": "wrong-password"})
    response = client.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    assert not _signed_in(client)
    assert "trop" in response.content.decode().lower()


def test_it_does_not_let_a_stranger_lock_a_collaborator_out_from_every_ip(
    client, django_client_factory, alice, password
):
    stranger = django_client_factory(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        stranger.post(LOGIN, {"login": "alice@alpha.fr", "password": "wrong-password"})
    # The lock holds where the failures came from…
    stranger.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    assert not _signed_in(stranger)
    # …not for alice at her own desk.
    alice_desk = django_client_factory(REMOTE_ADDR="198.51.100.7")
    alice_desk.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    assert _signed_in(alice_desk)


def test_it_counts_an_ipv6_network_as_one_ip(django_client_factory, alice, password):
    for host in range(1, 6):
        django_client_factory(REMOTE_ADDR=f"2001:db8:0:1::{host}").post(
            LOGIN, {"login": "alice@alpha.fr", "password": "wrong-password"}
        )
    same_network = django_client_factory(REMOTE_ADDR="2001:db8:0:1::99")
    same_network.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    assert not _signed_in(same_network)


def test_it_tells_clients_apart_behind_the_load_balancer(
    settings, django_client_factory, alice, password
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1  # BEHIND_PROXY=1 (test_security_settings.py)
    balancer = "10.0.0.2"
    # The stranger claims alice's IP; the balancer appends the one it saw.
    stranger = django_client_factory(
        REMOTE_ADDR=balancer, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9"
    )
    for _ in range(5):
        stranger.post(LOGIN, {"login": "alice@alpha.fr", "password": "wrong-password"})
    stranger.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    assert not _signed_in(stranger)
    alice_desk = django_client_factory(REMOTE_ADDR=balancer, HTTP_X_FORWARDED_FOR="198.51.100.7")
    alice_desk.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    assert _signed_in(alice_desk)


def test_one_ip_spraying_many_accounts_is_stopped(client, alice, bob, charlie, password):
    for i in range(10):
        client.post(LOGIN, {"login": f"nobody{i}@alpha.fr", "password": "wrong-password"})
    response = client.post(LOGIN, {"login": "bob@alpha.fr", "password": password})
    assert not _signed_in(client)
    assert response.status_code in (200, 429)


def test_failures_of_one_account_do_not_lock_another(
    client, django_client_factory, alice, bob, password
):
    for _ in range(5):
        client.post(LOGIN, {"login": "alice@alpha.fr", "password": "wrong-password"})
    other = django_client_factory(REMOTE_ADDR="198.51.100.7")
    other.post(LOGIN, {"login": "bob@alpha.fr", "password": password})
    assert _signed_in(other)


@pytest.fixture
def alice_with_totp(client, alice, password):
    client.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    client.post("/compte/reauthenticate/", {"password": password})
    client.get("/compte/2fa/totp/activate/")
    secret = client.session["mfa.totp.secret"]
    assert (
        client.post("/compte/2fa/totp/activate/", {"code": _totp_code(secret)}).status_code == 302
    )
    client.post("/compte/logout/")
    cache.clear()
    return secret


def test_between_password_and_code_nothing_is_reachable(client, alice_with_totp, password, alice):
    from tests.factories import ClientFactory

    ClientFactory(firm=alice.membership.firm, code="A001")
    client.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    for url in (
        reverse("home"),
        reverse("client_detail", args=["A001"]),
        reverse("integrations"),
        "/api/v1/clients",
        "/compte/2fa/totp/deactivate/",
    ):
        response = client.get(url)
        assert response.status_code in (302, 401, 404), url
        if response.status_code == 302:
            assert response["Location"].startswith(LOGIN), url


def test_the_totp_code_cannot_be_brute_forced(client, alice_with_totp, password):
    client.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    for guess in range(6):
        client.post(MFA, {"code": f"{guess:06d}"})
    client.post(MFA, {"code": _totp_code(alice_with_totp)})
    assert not _signed_in(client), "the right code after many wrong ones must be refused"


def test_mfa_can_only_be_turned_off_after_reauthentication(client, alice_with_totp, password):
    client.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    client.post(MFA, {"code": _totp_code(alice_with_totp)})
    assert _signed_in(client)
    response = client.post("/compte/2fa/totp/deactivate/", {})
    from allauth.mfa.models import Authenticator

    assert Authenticator.objects.filter(type="totp").exists()
    assert response.status_code in (200, 302)
