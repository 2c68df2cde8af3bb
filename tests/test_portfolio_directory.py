"""The portfolio's lookups (collaborators, catalogue) kept in the `lookups` cache under the firm's
directory version (vigie.clients.directory) stays the same.

Each test shows the portfolio first, so that its lookups are kept, then changes what
they hold, through the ORM or raw SQL: the next page must show it. Without the triggers
the version would not move and the page would keep the old menus.
"""

from __future__ import annotations

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from tests.factories import ClientFactory, MembershipFactory
from vigie.clients.directory import TABLE
from vigie.clients.models import ClientAssignment
from vigie.clients.portfolio import query
from vigie.equipment.models import Solution
from vigie.firms.models import Membership
from vigie.lib import triggers

HOME = "/"


def menu(http, name: str) -> list[str]:
    """The labels of a filter menu of the full page, after checking its lookups are kept."""
    html = http.get(HOME).content.decode()
    match = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert match, f"no menu {name}"
    return re.findall(r"<option[^>]*>([^<]*)</option>", match.group(0))


def version_of(firm) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {TABLE} WHERE firm_id = %s", [firm.pk])
        found = cursor.fetchone()
    return found[0] if found else None


def kept(firm) -> bool:
    """The lookups are in the `lookups` cache under the firm's current version."""
    return caches[query.LOOKUPS_ALIAS].get(f"{firm.pk}:{version_of(firm)}") is not None


@pytest.fixture
def shown(alice_client, firm_a, bob, catalogue):
    assert bob.full_name in menu(alice_client, "collab")
    assert kept(firm_a)
    return firm_a


class TestTheMenusFollowEveryChange:
    def test_a_member_added_and_removed(self, alice_client, shown):
        newcomer = MembershipFactory(firm=shown, user__first_name="Nadia", user__last_name="Neuf")
        assert "Nadia Neuf" in menu(alice_client, "collab") and kept(shown)
        Membership.objects.filter(pk=newcomer.pk).delete()
        assert "Nadia Neuf" not in menu(alice_client, "collab")

    def test_a_collaborator_renamed_by_the_orm_or_by_sql(self, alice_client, shown, bob):
        bob.first_name, bob.last_name = "Robert", "Nouveau"
        bob.save()
        assert "Robert Nouveau" in menu(alice_client, "collab")
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE accounts_user SET last_name = %s WHERE id = %s", ["Ancien", bob.pk]
            )
        assert "Robert Ancien" in menu(alice_client, "collab")

    def test_a_sign_in_changes_nothing_shown_and_keeps_the_version(self, shown, bob):
        before = version_of(shown)
        bob.last_login = timezone.now()
        bob.save(update_fields=["last_login"])
        assert version_of(shown) == before

    def test_a_solution_renamed_or_added(self, alice_client, shown, catalogue):
        bim = catalogue["bim"]
        bim.name = "Bim Nouvelle"
        bim.save()
        assert "Bim Nouvelle" in menu(alice_client, "solution")
        Solution.objects.create(slug="nouvelle", name="Solution Nouvelle", group=bim.group)
        assert "Solution Nouvelle" in menu(alice_client, "solution")

    def test_the_count_is_read_on_every_page(self, alice_client, shown):
        html = alice_client.get(HOME).content.decode()
        assert "sur 0" in html
        ClientFactory(firm=shown)  # no directory change
        assert "1-1 sur 1" in alice_client.get(HOME).content.decode()

    def test_an_avatar_follows_its_collaborator(self, alice_client, shown, bob):
        client = ClientFactory(firm=shown, code="A001")
        ClientAssignment.objects.create(firm=shown, client=client, user=bob)
        assert bob.full_name in alice_client.get(f"{HOME}?view=collecte").content.decode()
        bob.first_name = "Roberto"
        bob.save()
        assert "Roberto" in alice_client.get(f"{HOME}?view=collecte").content.decode()


class TestTenancy:
    def test_a_firm_never_gets_the_menus_of_another(
        self, alice_client, charlie_client, shown, alice, bob, charlie
    ):
        assert charlie.full_name not in menu(alice_client, "collab")
        theirs = menu(charlie_client, "collab")
        assert charlie.full_name in theirs
        assert alice.full_name not in theirs and bob.full_name not in theirs
        assert charlie.full_name not in menu(alice_client, "collab")


def test_every_firm_has_a_version_and_the_triggers_are_in_place(firm_a, firm_b):
    assert version_of(firm_a) is not None and version_of(firm_b) is not None
    installed = triggers.declared("directory")
    # Firm (2), Membership (3), User (1), Solution (1).
    assert len(installed) == 7 and set(installed.values()) == {"INSTALLED"}
