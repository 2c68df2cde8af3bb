"""Integrations page (API keys, secrets) and launch links from production tools."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.sessions.models import Session

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
