"""Integrations page (API keys, secrets) and launch links from production tools."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from vigie.api.models import ApiKey, hash_key
from vigie.integrations.launch import sign
from vigie.integrations.models import IntegrationSecret, LaunchNonce
from vigie.integrations.services import integration_secret_create

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "launch_link_example.py"


class TestPage:
    def test_it_shows_the_page_to_admins(self, alice_client):
        response = alice_client.get("/integrations/")
        assert response.status_code == 200
        assert "Clés d'API" in response.content.decode()

    def test_it_hides_the_page_from_collaborators(self, bob_client):
        assert bob_client.get("/integrations/").status_code == 404

    def test_it_links_from_the_nav(self, alice_client):
        assert 'href="/integrations/">Intégrations' in alice_client.get("/").content.decode()

    def test_it_creates_a_key_shown_once(self, alice_client, alice):
        response = alice_client.post("/integrations/cles/", {"key-name": "Cegid Loop"})
        assert response.status_code == 200
        raw = response.context["new_key"]["value"]
        key = ApiKey.objects.get()
        assert (key.name, key.firm, key.key_hash) == (
            "Cegid Loop",
            alice.membership.firm,
            hash_key(raw),
        )
        assert raw in response.content.decode()
        assert raw not in alice_client.get("/integrations/").content.decode()

    def test_it_refuses_a_blank_name(self, alice_client):
        response = alice_client.post("/integrations/cles/", {"key-name": "  "})
        assert response.status_code == 422
        assert not ApiKey.objects.exists()

    def test_it_revokes_a_key(self, alice_client):
        alice_client.post("/integrations/cles/", {"key-name": "Outil"})
        key = ApiKey.objects.get()
        response = alice_client.post(f"/integrations/cles/{key.public_id}/revoquer/")
        assert response.status_code == 302
        key.refresh_from_db()
        assert key.revoked_at is not None

    def test_it_404s_charlie_on_firm_a_keys_and_secrets(self, alice_client, charlie_client):
        alice_client.post("/integrations/cles/", {"key-name": "Outil"})
        alice_client.post("/integrations/secrets/", {"secret-name": "Loop"})
        key, secret = ApiKey.objects.get(), IntegrationSecret.objects.get()
        assert (
            charlie_client.post(f"/integrations/cles/{key.public_id}/revoquer/").status_code == 404
        )
        path = f"/integrations/secrets/{secret.public_id}/revoquer/"
        assert charlie_client.post(path).status_code == 404
        assert "Outil" not in charlie_client.get("/integrations/").content.decode()
        key.refresh_from_db()
        secret.refresh_from_db()
        assert key.revoked_at is None and secret.revoked_at is None

    def test_it_refuses_get_on_writes(self, alice_client):
        assert alice_client.get("/integrations/cles/").status_code == 405
        assert alice_client.get("/integrations/secrets/").status_code == 405

    def test_it_creates_an_encrypted_secret(self, alice_client):
        response = alice_client.post("/integrations/secrets/", {"secret-name": "Loop"})
        raw = response.context["new_secret"]["value"]
        secret = IntegrationSecret.objects.get()
        assert raw not in secret.encrypted
        assert secret.get_secret() == raw
        alice_client.post(f"/integrations/secrets/{secret.public_id}/revoquer/")
        secret.refresh_from_db()
        assert secret.revoked_at is not None


# --- Launch links ----------------------------------------------------------------------


@pytest.fixture
def secret(alice):
    _secret, raw = integration_secret_create(firm=alice.membership.firm, actor=alice, name="Loop")
    return raw


def link(secret, firm, email, *, code="", exp=None, nonce="n-1", **override):
    params = {
        "email": email,
        "exp": str(int(time.time()) + 30 if exp is None else exp),
        "firm": str(firm.public_id),
        "nonce": nonce,
    }
    if code:
        params["code"] = code
    params["sig"] = sign(params, secret)
    params.update(override)
    return params


def assert_refused(response, reason):
    assert response.status_code == 403
    assert response.context["reason"] == reason
    assert "Connexion refusée" in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session
    assert not Session.objects.exists()


class TestLaunch:
    def test_it_signs_in_and_opens_the_portfolio(self, client, alice, secret, firm_a):
        response = client.get("/integrations/launch/", link(secret, firm_a, "Alice@Alpha.fr"))
        assert response.status_code == 302
        assert response.url == "/"
        assert int(client.session["_auth_user_id"]) == alice.pk
        assert client.get("/").status_code == 200

    def test_it_opens_a_client(self, client, alice, secret, firm_a, client_a):
        response = client.get(
            "/integrations/launch/", link(secret, firm_a, alice.email, code="A001")
        )
        assert response.url == "/clients/A001/"

    def test_it_falls_back_to_the_portfolio_for_an_unknown_client(
        self, client, alice, secret, firm_a
    ):
        response = client.get("/integrations/launch/", link(secret, firm_a, alice.email, code="ZZ"))
        assert response.url == "/"

    def test_it_refuses_an_expired_link(self, client, alice, secret, firm_a):
        params = link(secret, firm_a, alice.email, exp=int(time.time()) - 1)
        assert_refused(client.get("/integrations/launch/", params), "expired")

    def test_it_refuses_a_link_valid_too_long(self, client, alice, secret, firm_a):
        params = link(secret, firm_a, alice.email, exp=int(time.time()) + 3600)
        assert_refused(client.get("/integrations/launch/", params), "too_long")

    def test_it_refuses_a_replay(self, client, django_client_factory, alice, secret, firm_a):
        params = link(secret, firm_a, alice.email)
        assert client.get("/integrations/launch/", params).status_code == 302
        other = django_client_factory()
        response = other.get("/integrations/launch/", params)
        assert response.status_code == 403
        assert response.context["reason"] == "replayed"
        assert "_auth_user_id" not in other.session
        assert LaunchNonce.objects.count() == 1

    def test_the_sweeper_forgets_used_nonces_once_their_link_has_expired(
        self, client, alice, bob, secret, firm_a
    ):
        assert (
            client.get("/integrations/launch/", link(secret, firm_a, alice.email)).status_code
            == 302
        )
        fresh = link(secret, firm_a, bob.email, nonce="n-2")
        assert Client().get("/integrations/launch/", fresh).status_code == 302
        LaunchNonce.objects.filter(nonce="n-1").update(
            expires_at=timezone.now() - timedelta(minutes=6)
        )
        call_command("sweep")
        assert list(LaunchNonce.objects.values_list("nonce", flat=True)) == ["n-2"]

    def test_it_refuses_a_bad_signature(self, client, alice, secret, firm_a):
        params = link(secret, firm_a, alice.email, sig="0" * 64)
        assert_refused(client.get("/integrations/launch/", params), "bad_signature")
        assert not LaunchNonce.objects.exists()

    def test_it_refuses_a_tampered_email(self, client, alice, bob, secret, firm_a):
        params = link(secret, firm_a, bob.email)
        params["email"] = alice.email
        assert_refused(client.get("/integrations/launch/", params), "bad_signature")

    def test_it_refuses_a_revoked_secret(self, client, alice, secret, firm_a):
        IntegrationSecret.objects.update(revoked_at="2020-01-01T00:00Z")
        assert_refused(
            client.get("/integrations/launch/", link(secret, firm_a, alice.email)), "bad_signature"
        )

    def test_it_refuses_a_non_member(self, client, charlie, secret, firm_a):
        # charlie exists, but in firm B: firm A's secret cannot sign him into anything.
        params = link(secret, firm_a, charlie.email)
        assert_refused(client.get("/integrations/launch/", params), "not_member")

    def test_it_refuses_a_deactivated_member(self, client, bob, secret, firm_a):
        bob.is_active = False
        bob.save()
        assert_refused(
            client.get("/integrations/launch/", link(secret, firm_a, bob.email)), "not_member"
        )

    def test_it_refuses_firm_a_secret_for_firm_b(self, client, charlie, secret, firm_b):
        params = link(secret, firm_b, charlie.email)
        assert_refused(client.get("/integrations/launch/", params), "bad_signature")

    def test_it_refuses_an_unknown_firm(self, client, alice, secret, firm_a):
        params = link(secret, firm_a, alice.email)
        params["firm"] = "00000000-0000-0000-0000-000000000000"
        assert_refused(client.get("/integrations/launch/", params), "unknown_firm")

    def test_it_refuses_a_malformed_link(self, client, alice, secret, firm_a):
        params = link(secret, firm_a, alice.email)
        del params["nonce"]
        assert_refused(client.get("/integrations/launch/", params), "malformed")
        assert_refused(
            client.get(
                "/integrations/launch/?"
                + "&".join(
                    f"{k}={v}" for k, v in link(secret, firm_a, alice.email, nonce="n-2").items()
                )
                + "&extra=1"
            ),
            "malformed",
        )

    def test_it_refuses_a_signed_nul_byte(self, client, alice, secret, firm_a):
        # Refused by the view (403) or, before it, by the NUL filter of every request (400).
        response = client.get("/integrations/launch/", link(secret, firm_a, "alice@alpha.fr\x00"))
        assert response.status_code in (400, 403)
        assert "_auth_user_id" not in client.session and not LaunchNonce.objects.exists()

    def test_it_refuses_post(self, client):
        assert client.post("/integrations/launch/").status_code == 405

    def test_it_accepts_the_example_scripts_link(self, client, alice, secret, firm_a, client_a):
        output = subprocess.run(
            [
                sys.executable,
                str(SCRIPT),
                "--secret",
                secret,
                "--firm",
                str(firm_a.public_id),
                "--email",
                alice.email,
                "--code",
                "A001",
                "--base-url",
                "http://testserver",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        parts = urlsplit(output)
        response = client.get(f"{parts.path}?{parts.query}")
        assert response.status_code == 302
        assert response.url == "/clients/A001/"


# --- Launch links: the second factor, and a browser signed in as someone else ----------

LAUNCH, CONFIRM, MFA = "/integrations/launch/", "/integrations/launch/confirmer/", "/compte/2fa/"


def totp_now(secret: str) -> str:
    """RFC 6238 from the secret, as the collaborator's phone computes it."""
    counter = struct.pack(">Q", int(time.time()) // 30)
    digest = hmac.new(base64.b32decode(secret), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(int.from_bytes(digest[offset : offset + 4]) & 0x7FFFFFFF) % 10**6:06d}"


@pytest.fixture
def alice_totp(alice):
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    return secret


def signed_in_as(client) -> int | None:
    user_id = client.session.get("_auth_user_id")
    return int(user_id) if user_id else None


class TestLaunchSecondFactor:
    def test_it_asks_an_account_with_totp_for_its_code(
        self, client, alice, alice_totp, secret, firm_a, client_a
    ):
        params = link(secret, firm_a, alice.email, code="A001")
        response = client.get(LAUNCH, params)
        assert response.status_code == 302
        assert response.url.startswith(MFA + "authenticate/")
        assert signed_in_as(client) is None
        assert client.get("/").status_code == 302  # no session for alice yet

        page = client.get(response.url)
        assert page.status_code == 200
        client.post(MFA + "authenticate/", {"code": "000000"})
        assert signed_in_as(client) is None

        response = client.post(MFA + "authenticate/", {"code": totp_now(alice_totp)})
        assert response.status_code == 302 and response.url == "/clients/A001/"
        assert signed_in_as(client) == alice.pk

        # Still single-use: the same link in another browser is refused.
        other = Client()
        assert other.get(LAUNCH, params).context["reason"] == "replayed"
        assert signed_in_as(other) is None

    def test_it_signs_in_an_account_without_totp_at_once(self, client, bob, secret, firm_a):
        response = client.get(LAUNCH, link(secret, firm_a, bob.email))
        assert response.status_code == 302 and response.url == "/"
        assert signed_in_as(client) == bob.pk


class TestLaunchInASignedInBrowser:
    def test_it_asks_before_switching_to_another_user(self, bob_client, bob, alice, secret, firm_a):
        response = bob_client.get(LAUNCH, link(secret, firm_a, alice.email))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Vous êtes connecté en tant que <strong>Bob Bernard</strong>" in html
        assert "Continuer en tant que <strong>Alice Adam</strong>" in html
        assert f'action="{CONFIRM}"' in html and "csrfmiddlewaretoken" in html
        assert signed_in_as(bob_client) == bob.pk  # nothing switched yet

        response = bob_client.post(CONFIRM, {"confirm": ""})
        assert response.status_code == 302 and response.url == "/"
        assert signed_in_as(bob_client) == alice.pk

    def test_it_stays_signed_in_when_the_switch_is_declined(
        self, bob_client, bob, alice, secret, firm_a
    ):
        bob_client.get(LAUNCH, link(secret, firm_a, alice.email))
        response = bob_client.post(CONFIRM, {"cancel": ""})
        assert response.status_code == 302
        assert signed_in_as(bob_client) == bob.pk
        # The declined link cannot be confirmed afterwards.
        assert bob_client.post(CONFIRM, {"confirm": ""}).status_code == 403
        assert signed_in_as(bob_client) == bob.pk

    def test_it_refuses_the_switch_without_the_csrf_token(self, bob, alice, secret, firm_a):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(bob)
        browser.get(LAUNCH, link(secret, firm_a, alice.email))
        assert browser.post(CONFIRM, {"confirm": ""}).status_code == 403
        assert signed_in_as(browser) == bob.pk
        token = browser.cookies["csrftoken"].value
        response = browser.post(CONFIRM, {"confirm": "", "csrfmiddlewaretoken": token})
        assert response.status_code == 302
        assert signed_in_as(browser) == alice.pk

    def test_it_asks_for_the_code_after_a_confirmed_switch(
        self, charlie_client, charlie, alice, alice_totp, secret, firm_a
    ):
        response = charlie_client.get(LAUNCH, link(secret, firm_a, alice.email))
        assert "Cabinet Bravo" in response.content.decode()  # charlie's firm, then alice's
        assert "Cabinet Alpha" in response.content.decode()
        response = charlie_client.post(CONFIRM, {"confirm": ""})
        assert response.url.startswith(MFA + "authenticate/")
        assert signed_in_as(charlie_client) is None  # charlie left, alice not in yet
        charlie_client.post(MFA + "authenticate/", {"code": totp_now(alice_totp)})
        assert signed_in_as(charlie_client) == alice.pk

    def test_it_goes_on_for_the_same_user(self, alice_client, alice, secret, firm_a, client_a):
        session_key = alice_client.session.session_key
        response = alice_client.get(LAUNCH, link(secret, firm_a, alice.email, code="A001"))
        assert response.status_code == 302 and response.url == "/clients/A001/"
        assert alice_client.session.session_key == session_key

    def test_it_refuses_a_late_confirmation(self, bob_client, bob, alice, secret, firm_a):
        bob_client.get(LAUNCH, link(secret, firm_a, alice.email))
        session = bob_client.session
        session["integrations.pending_launch"]["expires"] = time.time() - 1
        session.save()
        response = bob_client.post(CONFIRM, {"confirm": ""})
        assert response.status_code == 403 and response.context["reason"] == "expired"
        assert signed_in_as(bob_client) == bob.pk

    def test_it_refuses_a_user_deactivated_before_the_confirmation(
        self, bob_client, bob, alice, secret, firm_a
    ):
        bob_client.get(LAUNCH, link(secret, firm_a, alice.email))
        alice.is_active = False
        alice.save()
        response = bob_client.post(CONFIRM, {"confirm": ""})
        assert response.status_code == 403 and response.context["reason"] == "not_member"
        assert signed_in_as(bob_client) == bob.pk

    def test_it_refuses_a_confirmation_without_a_link(self, client, db):
        response = client.post(CONFIRM, {"confirm": ""})
        assert response.status_code == 403
        assert client.get(CONFIRM).status_code == 405
