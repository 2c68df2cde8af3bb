"""The firms' directory versions (vigie.clients.directory): a table and its triggers.

Frozen SQL: a migration never imports application code. The table became the model
`DirectoryVersion` in clients.0010 (state only).
"""

from django.db import migrations

FORWARDS = [
    'CREATE SEQUENCE IF NOT EXISTS clients_directory_version_seq',
    'CREATE TABLE clients_directoryversion (firm_id bigint PRIMARY KEY, version bigint NOT NULL)',
    """
CREATE OR REPLACE FUNCTION clients_directory_firm() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO clients_directoryversion (firm_id, version) SELECT id, nextval('clients_directory_version_seq') FROM new_rows
    ON CONFLICT (firm_id) DO UPDATE SET version = EXCLUDED.version;
  ELSE
    DELETE FROM clients_directoryversion WHERE firm_id = ANY(ARRAY(SELECT id FROM old_rows));
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE TRIGGER clients_directory_firm_ins AFTER INSERT ON firms_firm REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_directory_firm()',
    'CREATE TRIGGER clients_directory_firm_del AFTER DELETE ON firms_firm REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_directory_firm()',
    """
CREATE OR REPLACE FUNCTION clients_directory_membership() RETURNS trigger AS $$
DECLARE
  touched bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    touched := ARRAY(SELECT DISTINCT firm_id FROM new_rows);
  ELSIF TG_OP = 'DELETE' THEN
    touched := ARRAY(SELECT DISTINCT firm_id FROM old_rows);
  ELSE
    touched := ARRAY(SELECT firm_id FROM new_rows UNION SELECT firm_id FROM old_rows);
  END IF;
  UPDATE clients_directoryversion SET version = nextval('clients_directory_version_seq') WHERE firm_id = ANY(touched);
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE TRIGGER clients_directory_membership_ins AFTER INSERT ON firms_membership REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_directory_membership()',
    'CREATE TRIGGER clients_directory_membership_upd AFTER UPDATE ON firms_membership REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_directory_membership()',
    'CREATE TRIGGER clients_directory_membership_del AFTER DELETE ON firms_membership REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_directory_membership()',
    """
CREATE OR REPLACE FUNCTION clients_directory_user() RETURNS trigger AS $$
BEGIN
  UPDATE clients_directoryversion SET version = nextval('clients_directory_version_seq')
  WHERE firm_id IN (SELECT firm_id FROM firms_membership WHERE user_id = NEW.id);
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE TRIGGER clients_directory_user AFTER UPDATE ON accounts_user FOR EACH ROW WHEN (OLD.email IS DISTINCT FROM NEW.email OR OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name) EXECUTE FUNCTION clients_directory_user()',
    """
CREATE OR REPLACE FUNCTION clients_directory_catalogue() RETURNS trigger AS $$
BEGIN
  UPDATE clients_directoryversion SET version = nextval('clients_directory_version_seq');
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE TRIGGER clients_directory_catalogue AFTER INSERT OR UPDATE OR DELETE ON equipment_solution FOR EACH STATEMENT EXECUTE FUNCTION clients_directory_catalogue()',
]

FILL = [
    "INSERT INTO clients_directoryversion (firm_id, version) SELECT id, nextval('clients_directory_version_seq') FROM firms_firm f WHERE NOT EXISTS (SELECT 1 FROM clients_directoryversion d WHERE d.firm_id = f.id)",
]

BACKWARDS = [
    'DROP TRIGGER IF EXISTS clients_directory_firm_ins ON firms_firm',
    'DROP TRIGGER IF EXISTS clients_directory_firm_del ON firms_firm',
    'DROP TRIGGER IF EXISTS clients_directory_membership_ins ON firms_membership',
    'DROP TRIGGER IF EXISTS clients_directory_membership_upd ON firms_membership',
    'DROP TRIGGER IF EXISTS clients_directory_membership_del ON firms_membership',
    'DROP TRIGGER IF EXISTS clients_directory_user ON accounts_user',
    'DROP TRIGGER IF EXISTS clients_directory_catalogue ON equipment_solution',
    'DROP FUNCTION IF EXISTS clients_directory_firm()',
    'DROP FUNCTION IF EXISTS clients_directory_membership()',
    'DROP FUNCTION IF EXISTS clients_directory_user()',
    'DROP FUNCTION IF EXISTS clients_directory_catalogue()',
    'DROP TABLE IF EXISTS clients_directoryversion',
    'DROP SEQUENCE IF EXISTS clients_directory_version_seq',
]


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0007_row_version"),
        ("accounts", "0001_initial"),
        ("firms", "0002_invitation_lifecycle"),
        ("equipment", "0002_catalogue"),
    ]

    operations = [migrations.RunSQL(FORWARDS + FILL, BACKWARDS)]
