"""Error pages in French and in the console's layout, with DEBUG off (as in production
and as pytest-django runs): never Django's English « Not Found » or « Server Error »."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import include, path
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD


def _forbidden(request):
    raise PermissionDenied


def _broken(request):
    raise RuntimeError("boom")


# This module is the URLconf of the tests marked `urls(__name__)`: the console's routes
# and two that fail on purpose.
urlpatterns = [
    path("test-403/", _forbidden),
    path("test-500/", _broken),
    path("", include("vigie.urls")),
]

ENGLISH = ("Not Found", "Server Error", "Forbidden", "Bad Request", "requested resource")


def _french_page(response, status: int, heading: str) -> str:
    assert response.status_code == status
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert 'class="topbar"' in html and "Vigie" in html  # the console's layout
    assert heading in html
    assert not any(text in html for text in ENGLISH), html
    return html


def test_debug_is_off(settings):
    assert settings.DEBUG is False


def test_a_missing_page_is_a_french_404(alice_client):
    html = _french_page(alice_client.get("/nulle-part/"), 404, "Page introuvable")
    # Signed in: the console's menu, to go on from there.
    assert ">Portefeuille clients</a>" in html


def test_another_firms_client_is_the_same_french_404(charlie_client, client_a):
    html = _french_page(charlie_client.get(f"/clients/{client_a.code}/"), 404, "Page introuvable")
    assert client_a.name not in html


def test_a_collaborator_on_an_admin_page_gets_the_same_404(bob_client):
    html = _french_page(bob_client.get("/parametres/collaborateurs/"), 404, "Page introuvable")
    assert "administrateur" not in html  # nothing says the page exists


def test_a_404_without_signing_in(client, db):
    html = _french_page(client.get("/nulle-part/"), 404, "Page introuvable")
    assert "Portefeuille clients</a>" not in html


@pytest.mark.urls(__name__)
def test_a_refusal_is_a_french_403(alice_client):
    _french_page(alice_client.get("/test-403/"), 403, "Accès refusé")


def test_an_expired_form_is_a_french_403(alice, db):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    response = browser.post("/parametres/collaborateurs/", {"email": "x@alpha.fr"})
    html = _french_page(response, 403, "Accès refusé")
    assert "Rechargez la page" in html


def test_a_bad_request_is_a_french_400(client, db):
    _french_page(client.get("/", HTTP_HOST="ailleurs.example"), 400, "Requête invalide")


@pytest.mark.urls(__name__)
def test_a_crash_is_a_french_500(alice):
    browser = Client(raise_request_exception=False)
    browser.force_login(alice)
    html = _french_page(browser.get("/test-500/"), 500, "Erreur du serveur")
    assert "boom" not in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_stale_link_shows_the_french_page_in_the_browser(live_server, page, alice):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    response = page.goto(live_server.url + "/clients/000999/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page introuvable")).to_be_visible()
    page.get_by_role("link", name="Retour au portefeuille").click()
    expect(page.get_by_role("heading", name="Portefeuille clients")).to_be_visible()
