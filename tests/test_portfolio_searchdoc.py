"""The portfolio search over each client's search document (vigie.clients.searchdoc).

On PostgreSQL the search reads one document per client (its text and its contacts'),
kept by triggers. Each test changes what a client or a contact is called, through the
ORM or raw SQL, and searches right after: without the triggers the document would keep
the old text and the search would answer from it. The rule for several words (all in
the client, or all in one of its contacts) holds on both databases.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from psycopg.sql import SQL

from tests.factories import ClientFactory, ContactFactory
from vigie.clients import searchdoc, services
from vigie.clients.models import Client, Contact
from vigie.clients.portfolio.query import Params, PortfolioQuery
from vigie.lib import triggers

HOME = "/"


def found(http, q: str) -> list[str]:
    html = http.get(HOME, {"q": q, "per_page": 100}).content.decode()
    return sorted(re.findall(r'<tr data-code="([^"]+)">', html))


def sql(statement: str, args: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, args)


def document(client) -> tuple | None:
    """(firm id, document, xmin) of the client's document row."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT firm_id, doc, xmin::text FROM {searchdoc.TABLE} WHERE client_id = %s",
            [client.pk],
        )
        return cursor.fetchone()


@pytest.fixture
def bakery(firm_a):
    client = ClientFactory(firm=firm_a, code="B00001", name="Boulangerie Vasseur")
    ContactFactory(client=client, first_name="Odile", last_name="Quentel", email="oq@pain.fr")
    ContactFactory(client=client, first_name="Marc", last_name="Ferrand", email="mf@pain.fr")
    return client


class TestSeveralWords:
    def test_all_words_in_the_client_or_all_in_one_contact(self, alice_client, bakery):
        assert found(alice_client, "boulangerie vasseur") == ["B00001"]
        assert found(alice_client, "odile quentel") == ["B00001"]
        assert found(alice_client, "quentel oq@pain") == ["B00001"]

    def test_words_spread_over_the_client_and_its_contacts_do_not_match(self, alice_client, bakery):
        # Each word is in the client's document, but no one part holds them all.
        assert found(alice_client, "vasseur quentel") == []
        assert found(alice_client, "odile ferrand") == []
        assert found(alice_client, "boulangerie mf") == []
        # One word, wherever it is, matches.
        assert found(alice_client, "ferrand") == ["B00001"]


class TestTheDocumentFollowsEveryChange:
    def test_a_contact_added_renamed_and_deleted_by_the_orm(self, alice_client, bakery):
        contact = ContactFactory(client=bakery, first_name="Yves", last_name="Kerbrat")
        assert found(alice_client, "kerbrat") == ["B00001"]
        contact.last_name = "Le Goff"
        contact.save()
        assert found(alice_client, "kerbrat") == []
        assert found(alice_client, "yves le goff") == ["B00001"]
        contact.delete()
        assert found(alice_client, "goff") == []

    def test_a_contact_renamed_moved_and_deleted_by_sql(self, alice_client, firm_a, bakery):
        other = ClientFactory(firm=firm_a, code="B00002", name="Garage Moreau")
        quentel = Contact.objects.get(client=bakery, last_name="Quentel")
        sql(
            "UPDATE clients_contact SET search_text = %s WHERE id = %s",
            ["odile quentin oq@pain.fr", quentel.pk],
        )
        assert found(alice_client, "quentin") == ["B00001"]
        assert found(alice_client, "quentel") == []
        sql("UPDATE clients_contact SET client_id = %s WHERE id = %s", [other.pk, quentel.pk])
        assert found(alice_client, "quentin") == ["B00002"]
        assert "quentin" not in document(bakery)[1]
        sql("DELETE FROM clients_contact WHERE id = %s", [quentel.pk])
        assert found(alice_client, "quentin") == []
        assert document(other)[1] == Client.objects.get(pk=other.pk).search_text

    def test_a_client_renamed_by_the_orm_or_by_sql(self, alice_client, bakery):
        bakery.name = "Pâtisserie Vasseur"
        bakery.save()
        assert found(alice_client, "patisserie") == ["B00001"]
        assert found(alice_client, "boulangerie") == []
        sql(
            "UPDATE clients_client SET search_text = %s WHERE id = %s",
            ["chocolaterie vasseur b00001", bakery.pk],
        )
        assert found(alice_client, "chocolaterie") == ["B00001"]
        # Its contacts stay in the document.
        assert found(alice_client, "ferrand") == ["B00001"]

    def test_a_client_moved_to_another_firm_or_deleted(
        self, alice_client, charlie_client, firm_b, bakery
    ):
        sql("UPDATE clients_client SET firm_id = %s WHERE id = %s", [firm_b.pk, bakery.pk])
        sql("UPDATE clients_contact SET firm_id = %s WHERE client_id = %s", [firm_b.pk, bakery.pk])
        assert found(alice_client, "vasseur") == []
        assert found(charlie_client, "quentel") == ["B00001"]
        assert document(bakery)[0] == firm_b.pk
        Client.objects.filter(pk=bakery.pk).delete()
        assert document(bakery) is None
        assert found(charlie_client, "vasseur") == []

    def test_a_change_the_search_does_not_see_leaves_the_document_alone(self, bakery):
        before = document(bakery)
        sql("UPDATE clients_contact SET phone = %s WHERE client_id = %s", ["0612345678", bakery.pk])
        sql("UPDATE clients_client SET notes = %s WHERE id = %s", ["Relancer", bakery.pk])
        assert document(bakery) == before

    def test_another_firms_documents_never_answer(self, alice_client, charlie_client, bakery):
        assert found(charlie_client, "vasseur") == []
        assert found(charlie_client, "quentel") == []
        assert found(alice_client, "vasseur") == ["B00001"]

    def test_a_backfill_rebuilds_missing_and_stale_documents(self, alice_client, bakery):
        sql(f"DELETE FROM {searchdoc.TABLE} WHERE client_id = %s", [bakery.pk])
        assert found(alice_client, "vasseur") == []
        searchdoc.backfill()
        assert found(alice_client, "vasseur") == ["B00001"]
        assert found(alice_client, "odile quentel") == ["B00001"]

    def test_the_triggers_are_in_place(self, db):
        installed = triggers.declared("searchdoc")
        assert len(installed) == 6 and set(installed.values()) == {"INSTALLED"}


class TestTheFirmsTrigramKeys:
    """The index files each document under `<firm_id>:<trigram>` (clients.0016); a search
    asks for its words' keys, and checks every word on the document itself."""

    def test_a_documents_keys_hold_its_firm_and_each_trigram_of_its_words(self, bakery):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {searchdoc.KEYS_SQL} FROM {searchdoc.TABLE} WHERE client_id = %s",
                [bakery.pk],
            )
            keys = set(cursor.fetchone()[0])
        firm = bakery.firm_id
        wanted = searchdoc.query_keys(firm, ["vasseur", "quentel", "b00001", "pain"])
        assert wanted and set(wanted) <= keys
        assert all(key.startswith(f"{firm}:") and len(key) == len(f"{firm}:") + 3 for key in keys)

    def test_the_keys_of_the_words_typed(self):
        assert searchdoc.query_keys(7, ["martin"]) == ["7:art", "7:mar", "7:rti", "7:tin"]
        # Runs of letters and digits, as pg_trgm splits words; shorter runs have none.
        assert searchdoc.query_keys(7, ["o'brien", "a.b"]) == ["7:bri", "7:ien", "7:rie"]
        assert searchdoc.query_keys(7, ["王小明", "ab"]) == []

    def test_punctuation_digits_and_a_part_of_a_word(self, alice_client, bakery):
        assert found(alice_client, "oq@pain.fr") == ["B00001"]
        assert found(alice_client, "00001") == ["B00001"]
        assert found(alice_client, "ulanger") == ["B00001"]
        assert found(alice_client, "vasseurs") == []

    def test_a_word_without_keys_reads_the_firms_documents(
        self, alice_client, charlie_client, firm_a, firm_b
    ):
        ClientFactory(firm=firm_a, code="C00001", name="Restaurant 王小明")
        ClientFactory(firm=firm_b, code="C00002", name="Restaurant 王小明")
        assert found(alice_client, "王小明") == ["C00001"]
        assert found(alice_client, "restaurant 王小明") == ["C00001"]
        assert found(charlie_client, "王小明") == ["C00002"]

    def test_the_search_reads_the_index(self, firm_a, bakery):
        query = PortfolioQuery(firm_id=firm_a.pk, params=Params(q="quentel"))
        statement, args = query.matches_sql()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(SQL("EXPLAIN {}").format(statement), args)
            plan = " ".join(row[0] for row in cursor.fetchall())
        assert "clients_searchdoc_keys" in plan


def _written(table: str) -> tuple[int, int]:
    """(rows inserted, rows updated) in `table` by this test's transaction so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [table],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, 0)


def _row(code: str, name: str, last_name: str, email: str) -> dict:
    return {
        "code": code,
        "name": name,
        "contact": {"first_name": "Anne", "last_name": last_name, "email": email},
    }


class TestABulkWriteWritesEachDocumentOnce:
    """`clients_upsert_many` (imports, the bulk API) writes clients, then their contacts:
    each document is written once, after both, not once per statement."""

    def test_new_clients_with_their_contacts(self, alice_client, firm_a):
        rows = [
            _row(f"N{i:04d}", f"Fromagerie Nº{i}", f"Kervella{i}", f"k{i}@x.fr") for i in range(30)
        ]
        before = _written(searchdoc.TABLE)
        services.clients_upsert_many(firm=firm_a, rows=rows, source="Import (x)")
        inserted, updated = (a - b for a, b in zip(_written(searchdoc.TABLE), before, strict=True))
        assert (inserted, updated) == (30, 0)
        assert found(alice_client, "kervella7") == ["N0007"]
        assert found(alice_client, "anne kervella12") == ["N0012"]
        client = Client.objects.get(firm=firm_a, code="N0003")
        assert document(client)[1] == "\n".join(
            [client.search_text, Contact.objects.get(client=client).search_text]
        )
        # The setting that held the triggers back is gone with the bulk write.
        ContactFactory(client=client, first_name="Loïc", last_name="Tanguy")
        assert found(alice_client, "tanguy") == ["N0003"]

    def test_clients_renamed_and_contacts_added_or_changed(self, alice_client, firm_a, bakery):
        services.clients_upsert_many(
            firm=firm_a,
            rows=[
                # renamed, and a contact added (another e-mail)
                {**_row("B00001", "Boulangerie Le Floch", "Riou", "riou@pain.fr")},
            ],
            source="API (K)",
        )
        assert found(alice_client, "floch") == ["B00001"]
        assert found(alice_client, "vasseur") == []
        assert found(alice_client, "riou") == ["B00001"]
        assert found(alice_client, "quentel") == ["B00001"]  # kept
        services.clients_upsert_many(
            firm=firm_a,
            rows=[{**_row("B00001", "Boulangerie Le Floch", "Riou-Le Bihan", "riou@pain.fr")}],
            source="API (K)",
        )
        assert found(alice_client, "bihan") == ["B00001"]
        before = document(bakery)
        # The same rows again change nothing: no document written.
        services.clients_upsert_many(
            firm=firm_a,
            rows=[{**_row("B00001", "Boulangerie Le Floch", "Riou-Le Bihan", "riou@pain.fr")}],
            source="API (K)",
        )
        assert document(bakery) == before

    def test_a_failed_bulk_write_leaves_the_triggers_on(self, alice_client, firm_a, bakery):
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            with searchdoc.written_once(connection):
                sql(
                    "INSERT INTO clients_searchdoc (client_id, firm_id, doc) VALUES (%s, %s, %s)",
                    [0, None, ""],
                )
        ContactFactory(client=bakery, first_name="Gaëlle", last_name="Pennec")
        assert found(alice_client, "pennec") == ["B00001"]
