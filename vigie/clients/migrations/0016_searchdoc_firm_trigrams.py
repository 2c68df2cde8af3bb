"""The search documents' index keyed by firm and trigram (vigie.clients.searchdoc).

clients.0009 indexed `<firm_id>:<doc>` with pg_trgm: a pattern `'<firm_id>:%word%'` then
reads the posting lists of the word's trigrams over every firm's documents, and of the
firm id's own trigrams (shared with every SIRET, code and e-mail holding those digits), so
a search grew with the whole database (bench/scale.py, docs/SCALE.md). Here each document is
indexed under `<firm_id>:<trigram>` keys, one per trigram of its words (GIN over a text
array): a key's posting list holds only the firm's documents with that trigram.

Built concurrently (no lock on writes while a large table is indexed), hence not atomic.
Frozen SQL: a migration never imports application code. pg_trgm's `show_trgm` is called
by its schema, found here, so that a restore (search_path empty) rebuilds the index.
"""

from django.db import migrations

FUNCTION = r"""
DO $$
DECLARE
  trgm text := (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm');
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION clients_searchdoc_keys(firm bigint, doc text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $b$
      SELECT ARRAY(SELECT firm::text || ':' || t FROM unnest(%I.show_trgm(doc)) t
                   WHERE length(t) = 3 AND strpos(t, ' ') = 0)
    $b$
  $f$, trgm);
END
$$"""

FORWARDS = [
    FUNCTION,
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS clients_searchdoc_keys ON clients_searchdoc "
    "USING gin (clients_searchdoc_keys(firm_id, doc))",
    "DROP INDEX CONCURRENTLY IF EXISTS clients_searchdoc_trgm",
]

BACKWARDS = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS clients_searchdoc_trgm ON clients_searchdoc "
    "USING gin ((firm_id::text || ':' || doc) gin_trgm_ops)",
    "DROP INDEX CONCURRENTLY IF EXISTS clients_searchdoc_keys",
    "DROP FUNCTION IF EXISTS clients_searchdoc_keys(bigint, text)",
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("clients", "0015_invoices_per_month")]

    operations = [migrations.RunSQL(FORWARDS, BACKWARDS)]
