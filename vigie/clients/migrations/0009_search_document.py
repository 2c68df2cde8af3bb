"""Each client's search document (vigie.clients.searchdoc): a table, its trigram index
and its triggers; the clients' and contacts' firm-keyed trigram indexes of clients.0003
go.

Frozen SQL: a migration never imports application code. The table became the model
`SearchDocument` in clients.0010 (state only).
"""

from django.db import migrations

FORWARDS = [
    'CREATE TABLE clients_searchdoc (client_id bigint PRIMARY KEY, firm_id bigint NOT NULL, doc text NOT NULL)',
    "CREATE INDEX clients_searchdoc_trgm ON clients_searchdoc USING gin ((firm_id::text || ':' || doc) gin_trgm_ops)",
    """
CREATE OR REPLACE FUNCTION clients_searchdoc_client() RETURNS trigger AS $$
DECLARE
  ids bigint[];
BEGIN
  IF current_setting('vigie.searchdoc_deferred', true) = 'on' THEN RETURN NULL; END IF;
  IF TG_OP = 'DELETE' THEN
    DELETE FROM clients_searchdoc WHERE client_id = ANY(ARRAY(SELECT id FROM old_rows));
    RETURN NULL;
  ELSIF TG_OP = 'INSERT' THEN
    ids := ARRAY(SELECT id FROM new_rows);
  ELSE
    ids := ARRAY(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                 WHERE n.search_text IS DISTINCT FROM o.search_text
                    OR n.firm_id IS DISTINCT FROM o.firm_id);
  END IF;
  IF cardinality(ids) > 0 THEN
  INSERT INTO clients_searchdoc AS d (client_id, firm_id, doc)
  SELECT c.id, c.firm_id, c.search_text || COALESCE((
      SELECT string_agg(E'\\n' || k.search_text, '' ORDER BY k.id)
      FROM clients_contact k WHERE k.client_id = c.id), '')
  FROM clients_client c WHERE c.id = ANY(ids)
  ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, doc = EXCLUDED.doc
  WHERE (d.firm_id, d.doc) IS DISTINCT FROM (EXCLUDED.firm_id, EXCLUDED.doc);
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    """
CREATE OR REPLACE FUNCTION clients_searchdoc_contact() RETURNS trigger AS $$
DECLARE
  ids bigint[];
BEGIN
  IF current_setting('vigie.searchdoc_deferred', true) = 'on' THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    ids := ARRAY(SELECT DISTINCT client_id FROM new_rows);
  ELSIF TG_OP = 'DELETE' THEN
    ids := ARRAY(SELECT DISTINCT client_id FROM old_rows);
  ELSE
    ids := ARRAY(SELECT n.client_id FROM new_rows n JOIN old_rows o ON o.id = n.id
                 WHERE n.search_text IS DISTINCT FROM o.search_text
                    OR n.client_id IS DISTINCT FROM o.client_id
                 UNION SELECT o.client_id FROM new_rows n JOIN old_rows o ON o.id = n.id
                 WHERE n.client_id IS DISTINCT FROM o.client_id);
  END IF;
  IF cardinality(ids) > 0 THEN
  INSERT INTO clients_searchdoc AS d (client_id, firm_id, doc)
  SELECT c.id, c.firm_id, c.search_text || COALESCE((
      SELECT string_agg(E'\\n' || k.search_text, '' ORDER BY k.id)
      FROM clients_contact k WHERE k.client_id = c.id), '')
  FROM clients_client c WHERE c.id = ANY(ids)
  ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, doc = EXCLUDED.doc
  WHERE (d.firm_id, d.doc) IS DISTINCT FROM (EXCLUDED.firm_id, EXCLUDED.doc);
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE TRIGGER clients_searchdoc_client_ins AFTER INSERT ON clients_client REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_searchdoc_client()',
    'CREATE TRIGGER clients_searchdoc_client_upd AFTER UPDATE ON clients_client REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_searchdoc_client()',
    'CREATE TRIGGER clients_searchdoc_client_del AFTER DELETE ON clients_client REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_searchdoc_client()',
    'CREATE TRIGGER clients_searchdoc_contact_ins AFTER INSERT ON clients_contact REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_searchdoc_contact()',
    'CREATE TRIGGER clients_searchdoc_contact_upd AFTER UPDATE ON clients_contact REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_searchdoc_contact()',
    'CREATE TRIGGER clients_searchdoc_contact_del AFTER DELETE ON clients_contact REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_searchdoc_contact()',
]

FILL = [
    """
INSERT INTO clients_searchdoc AS d (client_id, firm_id, doc)
SELECT c.id, c.firm_id, c.search_text || COALESCE(k.doc, '')
FROM clients_client c LEFT JOIN (
  SELECT client_id, string_agg(E'\\n' || search_text, '' ORDER BY id) AS doc
  FROM clients_contact GROUP BY client_id) k ON k.client_id = c.id
ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, doc = EXCLUDED.doc
WHERE (d.firm_id, d.doc) IS DISTINCT FROM (EXCLUDED.firm_id, EXCLUDED.doc)""",
]

BACKWARDS = [
    'DROP TRIGGER IF EXISTS clients_searchdoc_client_ins ON clients_client',
    'DROP TRIGGER IF EXISTS clients_searchdoc_client_upd ON clients_client',
    'DROP TRIGGER IF EXISTS clients_searchdoc_client_del ON clients_client',
    'DROP TRIGGER IF EXISTS clients_searchdoc_contact_ins ON clients_contact',
    'DROP TRIGGER IF EXISTS clients_searchdoc_contact_upd ON clients_contact',
    'DROP TRIGGER IF EXISTS clients_searchdoc_contact_del ON clients_contact',
    'DROP FUNCTION IF EXISTS clients_searchdoc_client()',
    'DROP FUNCTION IF EXISTS clients_searchdoc_contact()',
    'DROP TABLE IF EXISTS clients_searchdoc',
]

# The indexes of migration clients.0003, which the search documents replace.
FIRM_INDEXES = (("pf_client_firm_trgm", "clients_client"), ("pf_contact_firm_trgm", "clients_contact"))


class Migration(migrations.Migration):
    dependencies = [("clients", "0008_directory_version")]

    operations = [
        migrations.RunSQL(
            [
                *FORWARDS,
                *FILL,
                "ANALYZE clients_searchdoc",
                *(f"DROP INDEX IF EXISTS {name}" for name, _table in FIRM_INDEXES),
            ],
            [
                *(
                    f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                    "USING gin ((firm_id::text || ':' || search_text) gin_trgm_ops)"
                    for name, table in FIRM_INDEXES
                ),
                *BACKWARDS,
            ],
        )
    ]
