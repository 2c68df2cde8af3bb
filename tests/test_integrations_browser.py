"""A production tool's launch link, end to end in Chromium."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vigie.integrations.services import integration_secret_create

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "launch_link_example.py"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def launch_url(live_server, secret, firm, email, code=""):
    args = [sys.executable, str(SCRIPT), "--secret", secret, "--firm", str(firm.public_id)]
    args += ["--email", email, "--base-url", live_server.url]
    if code:
        args += ["--code", code]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def test_it_opens_the_client_then_refuses_the_replay(live_server, browser, alice, client_a):
    _secret, raw = integration_secret_create(firm=alice.membership.firm, actor=alice, name="Loop")
    url = launch_url(live_server, raw, alice.membership.firm, alice.email, code="A001")

    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(url)
    assert page.url == f"{live_server.url}/clients/A001/"
    assert "Boulangerie Dupont" in page.content()
    assert page.get_by_test_id("firm-name").inner_text() == "Cabinet Alpha"
    context.close()

    # The same link in a fresh browser: refused, and no session cookie is created.
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    response = page.goto(url)
    assert response.status == 403
    assert page.get_by_test_id("launch-refused").is_visible()
    assert "Ce lien de connexion a déjà servi." in page.content()
    assert not [c for c in context.cookies() if c["name"] == "sessionid"]
    context.close()


def test_it_refuses_a_non_member(live_server, browser, alice, charlie):
    _secret, raw = integration_secret_create(firm=alice.membership.firm, actor=alice, name="Loop")
    url = launch_url(live_server, raw, alice.membership.firm, charlie.email)
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    response = page.goto(url)
    assert response.status == 403
    assert "n'est pas celle d'un collaborateur actif" in page.content()
    assert not [c for c in context.cookies() if c["name"] == "sessionid"]
    context.close()
