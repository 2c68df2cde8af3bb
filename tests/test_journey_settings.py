"""*Paramètres*: every settings page of a firm admin is reached from one sub-navigation
(the Shine test account and the invitation templates had no link at all), for admins
only, like the *Paramètres* link itself."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

# (label, URL name) in the order the sub-navigation shows them.
PAGES = [
    ("Collaborateurs", "collaborators"),
    ("Relances des invitations", "invitation_settings"),
    ("Modèles d'invitation", "invitation_templates"),
    ("Compte de test Shine", "invitation_test_account"),
    ("E-mail d'information réforme", "reform_template"),
    ("Intégrations", "integrations"),
    ("Annuaire (plateforme agréée)", "registries_connection"),
    ("Import de clients", "imports"),
]


def _nav(html: str) -> list[tuple[str, str]]:
    """(href, label) of the settings sub-navigation's links."""
    match = re.search(r'<nav class="subnav[^"]*"[^>]*>(.*?)</nav>', html, re.S)
    assert match, "no settings sub-navigation"
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', match.group(1))


@pytest.mark.parametrize(("label", "name"), PAGES)
def test_each_settings_page_shows_the_whole_sub_navigation(alice_client, label, name):
    response = alice_client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert _nav(html) == [(reverse(n), lbl.replace("'", "&#x27;")) for lbl, n in PAGES]
    # The page shown is marked as current, and only it.
    current = re.findall(r'<a href="([^"]+)" aria-current="page"', html)
    assert current == [reverse(name)]


def test_the_portfolio_has_no_sub_navigation_but_links_to_the_settings(alice_client):
    html = alice_client.get(reverse("home")).content.decode()
    assert 'class="subnav' not in html
    assert f'href="{reverse("collaborators")}">Paramètres</a>' in html


@pytest.mark.parametrize(("label", "name"), PAGES)
def test_a_collaborator_sees_neither_the_menu_nor_the_pages(bob_client, label, name):
    assert bob_client.get(reverse(name)).status_code == 404
    html = bob_client.get(reverse("home")).content.decode()
    assert "Paramètres" not in html and 'class="subnav' not in html
    assert f'href="{reverse(name)}"' not in html
