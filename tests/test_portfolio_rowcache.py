"""Portfolio rows kept rendered between requests (vigie.clients.portfolio.rowcache, the
`rows` cache of settings.CACHES).

Each test renders the page first, so that the row is in the cache, then changes what the
row shows, through the ORM or through raw SQL: the next page must show the change. Without
the triggers of vigie.clients.rowversion the row's version would not move and the page
would show the row as it was.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings as settings_module
from django.core.cache import caches
from django.db import connection, transaction
from django.utils import timezone

from tests.factories import ClientFactory, ContactFactory, UserFactory
from vigie.clients.models import Client, ClientAssignment, Contact, ShineStatus
from vigie.clients.portfolio import rowcache
from vigie.clients.portfolio.query import Lookups
from vigie.clients.rowversion import TABLE
from vigie.equipment.models import Equipment, Slot
from vigie.invitations.models import Invitation
from vigie.invitations.models import Status as InvitationStatus
from vigie.lib import triggers

HOME = "/"


def row(http, code: str, view: str = "equipement") -> str:
    """The row of client `code`, after checking that the page kept it at its version: a
    later change can only show if the triggers gave a new one."""
    html = http.get(f"{HOME}?view={view}&per_page=100").content.decode()
    match = re.search(rf'<tr data-code="{re.escape(code)}">(.*?)</tr>', html, re.S)
    assert match, f"no row {code}"
    client = Client.objects.get(code=code)
    assert kept(client, view)
    return match.group(1)


def kept(client, view: str) -> bool:
    """Whether the rows cache holds the client's row at its current version."""
    lookups = Lookups.for_firm(client.firm)
    key = rowcache.keys(client.firm, lookups, view, {client.pk: version_of(client)})[client.pk]
    return key in caches[rowcache.ALIAS]


def rows_cache(**options) -> dict:
    return {**settings_module.CACHES, rowcache.ALIAS: options}


@pytest.fixture
def shown(alice_client, client_a):
    """Client A001, its row rendered and kept in both views."""
    assert "Boulangerie Dupont" in row(alice_client, "A001")
    row(alice_client, "A001", "collecte")
    return client_a


def version_of(client) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT version FROM {TABLE} WHERE client_id = %s", [client.pk])
        found = cursor.fetchone()
    return found[0] if found else None


def versions_of_firm(firm, client) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT client_id, version FROM {TABLE} WHERE firm_id = %s AND client_id = %s",
            [firm.pk, client.pk],
        )
        return dict(cursor.fetchall())


def _execute(sql: str, args: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, args)


class TestTheRowFollowsEveryChange:
    def test_the_client_saved(self, alice_client, shown):
        shown.name = "Boulangerie Martin"
        shown.save()
        assert "Boulangerie Martin" in row(alice_client, "A001")

    def test_the_client_updated_by_raw_sql(self, alice_client, shown):
        _execute("UPDATE clients_client SET notes = %s WHERE id = %s", ["Relancer", shown.id])
        assert "Relancer" in row(alice_client, "A001")
        _execute("UPDATE clients_client SET flux_banque = %s WHERE id = %s", ["Bridge", shown.id])
        assert "Bridge" in row(alice_client, "A001", "collecte")

    def test_its_contacts(self, alice_client, shown):
        contact = ContactFactory(client=shown, first_name="Jeanne", last_name="Roux")
        assert "Jeanne Roux" in row(alice_client, "A001")
        contact.last_name = "Blanc"
        contact.save()
        assert "Jeanne Blanc" in row(alice_client, "A001")
        _execute("UPDATE clients_contact SET first_name = %s WHERE id = %s", ["Ana", contact.id])
        assert "Ana Blanc" in row(alice_client, "A001")
        ContactFactory(client=shown)
        assert "2 contacts" in row(alice_client, "A001")
        Contact.objects.filter(pk=contact.pk).delete()
        shown_row = row(alice_client, "A001")
        assert "2 contacts" not in shown_row and "Ana Blanc" not in shown_row

    def test_a_contact_moved_to_another_client_changes_both_rows(self, alice_client, shown, firm_a):
        other = ClientFactory(firm=firm_a, code="A002")
        contact = ContactFactory(client=shown, first_name="Jeanne", last_name="Roux")
        assert "Jeanne Roux" in row(alice_client, "A001")
        assert "Jeanne Roux" not in row(alice_client, "A002")
        Contact.objects.filter(pk=contact.pk).update(client=other)
        assert "Jeanne Roux" not in row(alice_client, "A001")
        assert "Jeanne Roux" in row(alice_client, "A002")

    def test_its_collaborators(self, alice_client, shown, bob):
        assert bob.full_name not in row(alice_client, "A001")
        assignment = ClientAssignment.objects.create(firm=shown.firm, client=shown, user=bob)
        assert bob.full_name in row(alice_client, "A001")
        assignment.delete()
        assert bob.full_name not in row(alice_client, "A001")

    def test_a_collaborator_renamed(self, alice_client, shown, bob):
        ClientAssignment.objects.create(firm=shown.firm, client=shown, user=bob)
        assert bob.full_name in row(alice_client, "A001")
        bob.first_name, bob.last_name = "Robert", "Nouveau"
        bob.save()
        assert "Robert Nouveau" in row(alice_client, "A001")

    def test_its_equipment(self, alice_client, shown, catalogue):
        assert "+ Ajouter" in row(alice_client, "A001")
        equipment = Equipment.objects.create(
            firm=shown.firm, client=shown, solution=catalogue["bim"], slot=Slot.VENTE
        )
        assert catalogue["bim"].name in row(alice_client, "A001")
        equipment.plan = "Pro"
        equipment.save()
        assert f"{catalogue['bim'].name} Pro" in row(alice_client, "A001")
        _execute("UPDATE equipment_equipment SET plan = %s WHERE id = %s", ["Max", equipment.id])
        assert f"{catalogue['bim'].name} Max" in row(alice_client, "A001")
        equipment.delete()
        assert catalogue["bim"].name not in row(alice_client, "A001")

    def test_a_solution_renamed(self, alice_client, shown, catalogue):
        Equipment.objects.create(
            firm=shown.firm, client=shown, solution=catalogue["bim"], slot=Slot.VENTE
        )
        assert catalogue["bim"].name in row(alice_client, "A001")
        catalogue["bim"].name = "Bim Nouvelle"
        catalogue["bim"].save()
        assert "Bim Nouvelle" in row(alice_client, "A001")

    def test_its_shine_invitation(self, alice_client, shown, catalogue):
        Equipment.objects.create(
            firm=shown.firm, client=shown, solution=catalogue["shine"], slot=Slot.VENTE
        )
        Client.objects.filter(pk=shown.pk).update(shine_status=ShineStatus.ACTIVATED)
        invitation = Invitation.objects.create(
            firm=shown.firm,
            client=shown,
            email="a001@tpe.fr",
            plan="start",
            billing_mode="shine",
            status=InvitationStatus.ACTIVATED,
            activated_at=timezone.now(),
        )
        assert 'data-testid="shine-card"' in row(alice_client, "A001")
        assert ">Cabinet<" not in row(alice_client, "A001")
        Invitation.objects.filter(pk=invitation.pk).update(billing_mode="cabinet")
        assert ">Cabinet<" in row(alice_client, "A001")

    def test_a_change_rolled_back_is_never_shown(self, alice_client, shown):
        with pytest.raises(RuntimeError), transaction.atomic():
            shown.name = "Boulangerie Fantôme"
            shown.save()
            # Rendered, and kept, at the version of the change...
            assert "Boulangerie Fantôme" in row(alice_client, "A001")
            raise RuntimeError
        # ...which is gone with it; no later version takes its number.
        assert "Boulangerie Dupont" in row(alice_client, "A001")
        Client.objects.filter(pk=shown.pk).update(notes="Vu")
        shown_row = row(alice_client, "A001")
        assert "Boulangerie Dupont" in shown_row and "Fantôme" not in shown_row


class TestVersions:
    def test_every_change_gives_a_new_version_never_an_old_one(self, client_a, catalogue):
        seen = [version_of(client_a)]

        def changed():
            version = version_of(client_a)
            assert version is not None and version not in seen
            seen.append(version)

        client_a.notes = "x"
        client_a.save()
        changed()
        contact = ContactFactory(client=client_a)
        changed()
        contact.delete()
        changed()
        Equipment.objects.create(
            firm=client_a.firm, client=client_a, solution=catalogue["bim"], slot=Slot.ACHAT
        )
        changed()
        ClientAssignment.objects.create(firm=client_a.firm, client=client_a, user=UserFactory())
        changed()

    def test_a_client_deleted_loses_its_version_a_client_moved_takes_it_along(
        self, client_a, firm_b
    ):
        assert version_of(client_a) is not None
        Client.objects.filter(pk=client_a.pk).update(firm=firm_b)
        firm_a = client_a.firm
        assert versions_of_firm(firm_b, client_a).keys() == {client_a.id}
        assert versions_of_firm(firm_a, client_a) == {}
        Client.objects.filter(pk=client_a.pk).delete()
        assert version_of(client_a) is None

    def test_the_triggers_are_in_place(self, db):
        """The triggers the models declare (vigie.clients.rowversion) are installed as
        declared: four on the client and three per table a row shows (contacts,
        assignments, equipment, invitations, register checks)."""
        installed = triggers.declared("rowversion")
        assert len(installed) == 4 + 3 * 5 and set(installed.values()) == {"INSTALLED"}


class TestTheCache:
    def test_a_firm_never_gets_the_rows_of_another(self, alice_client, shown, firm_b):
        lookups = Lookups.for_firm(firm_b)
        assert versions_of_firm(firm_b, shown) == {}
        # Whether or not a version comes with the id, another firm's client is not rendered.
        for found in ({}, {shown.id: version_of(shown)}):
            assert rowcache.page_rows(firm_b, [shown.id], lookups, "equipement", found) == []

    def test_it_keeps_at_most_its_size_and_still_renders_every_row(
        self, alice_client, firm_a, settings
    ):
        settings.CACHES = rows_cache(
            BACKEND="django.core.cache.backends.locmem.LocMemCache",
            LOCATION="rows-test-size",
            OPTIONS={"MAX_ENTRIES": 5},
        )
        for n in range(12):
            ClientFactory(firm=firm_a, code=f"K{n:02d}")
        for _ in range(2):
            html = alice_client.get(f"{HOME}?per_page=25").content.decode()
            assert len(re.findall(r'<tr data-code="K', html)) == 12
        assert 0 < len(caches[rowcache.ALIAS]._cache) <= 5

    def test_it_can_be_turned_off(self, alice_client, shown, settings):
        settings.CACHES = rows_cache(BACKEND="django.core.cache.backends.dummy.DummyCache")
        shown.name = "Boulangerie Martin"
        shown.save()
        assert "Boulangerie Martin" in alice_client.get(HOME).content.decode()
        assert not kept(shown, "equipement")

    def test_the_rows_are_the_same_from_the_cache(self, alice_client, shown, catalogue):
        Equipment.objects.create(
            firm=shown.firm, client=shown, solution=catalogue["shine"], slot=Slot.VENTE
        )
        Client.objects.filter(pk=shown.pk).update(shine_status=ShineStatus.ACTIVATED)
        for view in ("equipement", "collecte"):
            rowcache.clear()
            rendered = tbody(alice_client.get(f"{HOME}?view={view}"))
            assert kept(shown, view)
            assert tbody(alice_client.get(f"{HOME}?view={view}")) == rendered


def tbody(response) -> str:
    return re.search(r"<tbody>.*</tbody>", response.content.decode(), re.S).group(0)


@pytest.mark.django_db(transaction=True)
def test_changes_committed_one_by_one(alice_client, firm_a):
    """As in production, each change commits on its own (a test's own transaction holds
    every other test of this module)."""
    with transaction.atomic():
        client = ClientFactory(firm=firm_a, code="T001", name="Transaction Unique")
        assert "Transaction Unique" in row(alice_client, "T001")
        ContactFactory(client=client, first_name="Jeanne", last_name="Roux")
        assert "Jeanne Roux" in row(alice_client, "T001")
    assert "Jeanne Roux" in row(alice_client, "T001")
    Contact.objects.filter(client=client).update(last_name="Blanc")
    assert "Jeanne Blanc" in row(alice_client, "T001")
    Client.objects.filter(pk=client.pk).update(name="Transaction Suivante")
    assert "Transaction Suivante" in row(alice_client, "T001")
