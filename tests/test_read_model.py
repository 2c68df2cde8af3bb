"""The read model's guard: every table a portfolio row reads has the triggers that renew
the row's version (clients_rowversion), so a row kept rendered at its version can never
be served stale after a change in that table. The tables are found, not listed: the
statements that load a page's rows are recorded and their tables mapped to the models
(a new column read from a new table brings that table here). The same for the firm's
lookups (collaborators, catalogue) and its directory version. The triggers are declared on
the models (django-pgtrigger); the database holds those, as declared, and no others."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ClientFactory, ContactFactory
from vigie.clients.models import ClientCount, DirectoryVersion, RowVersion
from vigie.clients.portfolio.query import Lookups, load_rows
from vigie.lib import triggers

pytestmark = pytest.mark.django_db

# pg_trigger.tgtype bits: which statements fire a trigger.
EVENTS = {"INSERT": 4, "DELETE": 8, "UPDATE": 16}


def tables_read(run) -> set[str]:
    """The models' tables that the statements of `run()` read."""
    known = {model._meta.db_table for model in apps.get_models()}
    with CaptureQueriesContext(connection) as queries:
        run()
    found = set()
    for query in queries:
        found |= set(re.findall(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', query["sql"], re.I))
    return found & known


def events_renewing(table: str, version_table: str) -> set[str]:
    """The events of `table` whose triggers write `version_table`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgtype FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal AND t.tgrelid = %s::regclass AND p.prosrc LIKE %s",
            [table, f"%{version_table}%"],
        )
        types = [tgtype for (tgtype,) in cursor.fetchall()]
    return {event for event, bit in EVENTS.items() if any(t & bit for t in types)}


def test_every_table_a_portfolio_row_reads_renews_its_version(firm_a, catalogue):
    client = ClientFactory(firm=firm_a)
    ContactFactory(client=client)
    lookups = Lookups.read(firm_a)
    read = tables_read(lambda: load_rows(firm_a, [client.pk], lookups))
    # The recording works; the register checks are read for the « Registres » column.
    assert {"clients_client", "clients_contact", "registries_registercheck"} <= read
    stale = {
        table: events
        for table in read
        if (events := set(EVENTS) - events_renewing(table, RowVersion._meta.db_table))
    }
    assert stale == {}, "tables read by a portfolio row without a row-version trigger"


def test_every_table_of_the_lookups_renews_the_directory_version(firm_a, catalogue):
    read = tables_read(lambda: Lookups.read(firm_a)) - {ClientCount._meta.db_table}
    assert read, "the recording works"
    unversioned = {
        table
        for table in read
        if "UPDATE" not in events_renewing(table, DirectoryVersion._meta.db_table)
    }
    assert unversioned == set()


def test_it_finds_a_table_without_the_trigger(firm_a):
    """The guard itself: a table the triggers do not cover is reported."""
    assert events_renewing("clients_clientevent", RowVersion._meta.db_table) == set()


def test_the_database_holds_the_declared_triggers_and_no_others(db):
    """One set of triggers whether the database was created now or migrated from the
    frozen SQL of clients.0005 to 0009 (the migrations that declare them drop those)."""
    declared = triggers.declared()
    assert {status for status in declared.values()} == {"INSTALLED"}
    assert triggers.present(connection) == set(declared)
