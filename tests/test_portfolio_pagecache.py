"""Each page's table and pager kept rendered (vigie.clients.portfolio.rowcache.page_fragment,
the `pages` cache): served again only while every row of the page keeps its version, and
never holding anything of the user who first asked for it (the CSRF tokens stay out)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ClientFactory, ContactFactory
from vigie.clients.portfolio import rowcache

HTMX = {"HX-Request": "true"}


@pytest.fixture
def firm_clients(firm_a, catalogue):
    return [ClientFactory(firm=firm_a, name=f"Client {n:02d}", code=f"C{n:03d}") for n in range(12)]


def table_of(response_or_html) -> str:
    html = getattr(response_or_html, "content", response_or_html)
    html = html.decode() if isinstance(html, bytes) else html
    return re.search(r'<table class="table portfolio".*?</table>', html, re.S).group(0)


def test_a_page_asked_again_is_served_from_the_cache(alice_client, firm_clients):
    first = alice_client.get("/?page=1", headers=HTMX)
    caches[rowcache.ALIAS].clear()  # the rows alone: only the kept page can spare them
    with CaptureQueriesContext(connection) as again:
        second = alice_client.get("/?page=1", headers=HTMX)
    assert table_of(second) == table_of(first)
    assert not any("clients_contact" in q["sql"] for q in again.captured_queries)
    caches[rowcache.PAGES_ALIAS].clear()
    with CaptureQueriesContext(connection) as rendered:
        assert table_of(alice_client.get("/?page=1", headers=HTMX)) == table_of(first)
    assert any("clients_contact" in q["sql"] for q in rendered.captured_queries)


def test_a_change_to_a_row_of_the_page_gives_a_new_table(alice_client, firm_clients):
    alice_client.get("/?page=1", headers=HTMX)
    ContactFactory(client=firm_clients[0], first_name="Zoé", last_name="Nouvelle")
    assert "Zoé Nouvelle" in table_of(alice_client.get("/?page=1", headers=HTMX))
    with connection.cursor() as cursor:  # behind the ORM's back: the triggers still see it
        cursor.execute(
            "UPDATE clients_client SET name = 'Client renommé' WHERE id = %s", [firm_clients[1].pk]
        )
    assert "Client renommé" in table_of(alice_client.get("/?page=1", headers=HTMX))


def test_a_renamed_collaborator_gives_a_new_table(alice_client, bob, firm_clients):
    from vigie.clients.models import ClientAssignment

    ClientAssignment.objects.create(firm=firm_clients[0].firm, client=firm_clients[0], user=bob)
    assert 'title="Bob Bernard"' in table_of(alice_client.get("/?page=1", headers=HTMX))
    bob.first_name = "Robert"
    bob.save()
    assert 'title="Robert Bernard"' in table_of(alice_client.get("/?page=1", headers=HTMX))


def test_each_user_gets_the_kept_table_with_a_csrf_token_of_their_own(
    alice_client, bob_client, firm_clients
):
    alice = alice_client.get("/?page=1", headers=HTMX).content.decode()
    bob = bob_client.get("/?page=1", headers=HTMX).content.decode()
    assert table_of(alice) == table_of(bob)
    token = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    assert "csrfmiddlewaretoken" not in table_of(alice)
    assert token.search(alice) and token.search(bob)
    assert token.search(alice).group(1) != token.search(bob).group(1)
