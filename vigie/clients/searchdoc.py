"""Each client's search document (PostgreSQL): its own search text and its contacts'.

The portfolio's search finds the clients whose text, or one of whose contacts' text,
holds every word typed. It used to ask two trigram indexes, one over clients and one
over contacts, and merge their answers. Each index is keyed by `<firm_id>:<text>` so that
a pattern `'<firm_id>:%word%'` reads only the firm's rows; but every row of the firm
carries the firm's own trigrams, whose posting lists (every client, every contact) the
index reads in full for each search. A common surname in a firm of 100,000 clients read
~350,000 entries of those lists, then rechecked ~1,000 contact rows.

`clients_searchdoc` (client, firm, doc) holds, for each client, its search text and its
contacts' joined by line breaks: one row to recheck per client. A word never spans two
parts (words hold no whitespace), so one word matches the document exactly when it
matches the client or one of its contacts; for several words the query keeps the exact
rule (all in the client, or all in one contact) as a check on the few documents that
hold them all (vigie.clients.portfolio.query).

Its index (clients.0016) files each document under `<firm_id>:<trigram>` keys, one per
trigram of its words (pg_trgm's `show_trgm`, the trigrams of ASCII letters and digits:
what `fold` leaves of French text), GIN over a text array. A search asks for the keys of
its words' trigrams (`query_keys`): each key's posting list holds only the firm's
documents with that trigram, so a search reads what its firm holds whatever the other
firms hold. The index it replaces, pg_trgm over `<firm_id>:<doc>`, read each trigram's
postings over every firm, and the firm id's own trigrams (shared with every SIRET, code
and e-mail holding those digits): a firm of 500 clients searching « martin » read 119
index pages in a database of 300,000 clients, 289 in one of 1,000,000 and 1,098 in one of
3,000,000; through its own keys, 13, 13 and 17 (docs/SCALE.md).
A word without three ASCII letters or digits in a row has no key: the firm's documents
are then read through its clients.

Triggers keep the documents in the same transaction as the change, whatever writes it
(the ORM, an import, raw SQL), once per statement: a client inserted gets its document,
a client whose search text or firm changes and a contact inserted, deleted, or whose
search text or client changes renew it (only when it differs); a client deleted loses
it. A load with triggers off (bench/generate.py) calls `backfill()` afterwards. They are
declared below with django-pgtrigger, in the `Meta.triggers` of `Client` and `Contact`;
their migrations hold the SQL installed. The table is the model `SearchDocument`.

A bulk write of clients then of their contacts (`clients_upsert_many`: imports, the bulk
API) would write each new client's document twice, at the client's insert and again
with its contact: two trigram index insertions and a dead row per client (the PostgreSQL
import of 100,000 rows, 32.7 → 39.8 s). Inside `written_once()`, the triggers of its
transaction leave the documents alone (a transaction-local setting, undone by a rollback);
the writer names the clients it touched and their documents are written once, at the end,
in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pgtrigger
from django.db import connection as default_connection
from django.db import connections

from vigie.lib.triggers import after_statement

CLIENT_TABLE = "clients_client"
CONTACT_TABLE = "clients_contact"
TABLE = "clients_searchdoc"
# The indexed expression (clients.0016): the document's `<firm_id>:<trigram>` keys.
KEYS_SQL = "clients_searchdoc_keys(firm_id, doc)"
# What pg_trgm reads as a word, of what the keys hold (ASCII letters and digits).
_KEYED_RUN = re.compile("[a-z0-9]{3,}")
SEPARATOR = "E'\\n'"
# Set (transaction-local) by `written_once()`: the triggers then leave the documents to it.
DEFERRED_SETTING = "vigie.searchdoc_deferred"
# The document of each client of an array ({}), written only when it changed.
_REFRESH = f"""
  INSERT INTO {TABLE} AS d (client_id, firm_id, doc)
  SELECT c.id, c.firm_id, c.search_text || COALESCE((
      SELECT string_agg({SEPARATOR} || k.search_text, '' ORDER BY k.id)
      FROM {CONTACT_TABLE} k WHERE k.client_id = c.id), '')
  FROM {CLIENT_TABLE} c WHERE c.id = ANY({{}})
  ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, doc = EXCLUDED.doc
  WHERE (d.firm_id, d.doc) IS DISTINCT FROM (EXCLUDED.firm_id, EXCLUDED.doc)"""
_REFRESH_IDS = _REFRESH.format("%s::bigint[]")

# Every client's document, written where missing or different (one pass over the
# contacts, grouped, rather than one lookup per client).
BACKFILL_SQL = f"""
INSERT INTO {TABLE} AS d (client_id, firm_id, doc)
SELECT c.id, c.firm_id, c.search_text || COALESCE(k.doc, '')
FROM {CLIENT_TABLE} c LEFT JOIN (
  SELECT client_id, string_agg({SEPARATOR} || search_text, '' ORDER BY id) AS doc
  FROM {CONTACT_TABLE} GROUP BY client_id) k ON k.client_id = c.id
ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, doc = EXCLUDED.doc
WHERE (d.firm_id, d.doc) IS DISTINCT FROM (EXCLUDED.firm_id, EXCLUDED.doc)"""


def _refreshing(name: str, operation, ids: str, *, old=False, new=False) -> pgtrigger.Trigger:
    """A trigger that renews the documents of the clients `ids` selects (unless
    `written_once()` holds them back)."""
    return after_statement(
        name,
        operation,
        f"""
  IF current_setting('{DEFERRED_SETTING}', true) = 'on' THEN RETURN NULL; END IF;
  ids := ARRAY({ids});
  IF cardinality(ids) > 0 THEN {_REFRESH.format("ids")}; END IF""",
        old=old,
        new=new,
        declare=[("ids", "bigint[]")],
    )


def client_triggers() -> list[pgtrigger.Trigger]:
    """On clients_client: a client's document follows its search text and firm."""
    return [
        _refreshing("searchdoc_ins", pgtrigger.Insert, "SELECT id FROM new_rows", new=True),
        _refreshing(
            "searchdoc_upd",
            pgtrigger.Update,
            "SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id"
            " WHERE n.search_text IS DISTINCT FROM o.search_text"
            " OR n.firm_id IS DISTINCT FROM o.firm_id",
            old=True,
            new=True,
        ),
        after_statement(
            "searchdoc_del",
            pgtrigger.Delete,
            f"DELETE FROM {TABLE} WHERE client_id = ANY(ARRAY(SELECT id FROM old_rows))",
            old=True,
        ),
    ]


def contact_triggers() -> list[pgtrigger.Trigger]:
    """On clients_contact: its client's document (old and new client on a move)."""
    return [
        _refreshing(
            "searchdoc_ins", pgtrigger.Insert, "SELECT DISTINCT client_id FROM new_rows", new=True
        ),
        _refreshing(
            "searchdoc_upd",
            pgtrigger.Update,
            "SELECT n.client_id FROM new_rows n JOIN old_rows o ON o.id = n.id"
            " WHERE n.search_text IS DISTINCT FROM o.search_text"
            " OR n.client_id IS DISTINCT FROM o.client_id"
            " UNION SELECT o.client_id FROM new_rows n JOIN old_rows o ON o.id = n.id"
            " WHERE n.client_id IS DISTINCT FROM o.client_id",
            old=True,
            new=True,
        ),
        _refreshing(
            "searchdoc_del", pgtrigger.Delete, "SELECT DISTINCT client_id FROM old_rows", old=True
        ),
    ]


def query_keys(firm_id: int, words: Iterable[str]) -> list[str]:
    """The keys of every document of the firm holding all `words` (folded) as substrings:
    the trigrams of their runs of 3+ ASCII letters or digits, each inside one of pg_trgm's
    words wherever the run sits, so among the document's keys. Empty when no word has such
    a run (the caller then reads the firm's documents another way)."""
    trigrams = {
        run[i : i + 3]
        for word in words
        for run in _KEYED_RUN.findall(word)
        for i in range(len(run) - 2)
    }
    return [f"{firm_id}:{t}" for t in sorted(trigrams)]


def backfill(using=None) -> None:
    """Every client's document (after a load without triggers)."""
    with (connections[using] if using else default_connection).cursor() as cursor:
        cursor.execute(BACKFILL_SQL)


def _set_deferred(cursor, value: str) -> None:
    cursor.execute("SELECT set_config(%s, %s, true)", [DEFERRED_SETTING, value])


@contextmanager
def written_once(connection) -> Iterator[set[int]]:
    """Within a transaction: the triggers leave the documents alone; add the ids of the
    clients written (their own text or their contacts') to the set yielded, and their
    documents are written once on leaving. An exception leaves it as it came: the
    transaction (or savepoint) that rolls back undoes the setting too."""
    touched: set[int] = set()
    with connection.cursor() as cursor:
        _set_deferred(cursor, "on")
    yield touched
    with connection.cursor() as cursor:
        if touched:
            cursor.execute(_REFRESH_IDS, [sorted(touched)])
        _set_deferred(cursor, "off")
