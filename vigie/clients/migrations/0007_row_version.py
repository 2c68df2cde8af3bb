"""The clients' row versions (vigie.clients.rowversion): a table and its triggers.

Frozen SQL: a migration never imports application code. The table became the model
`RowVersion` in clients.0010 (state only).
"""

from django.db import migrations

FORWARDS = [
    'CREATE SEQUENCE IF NOT EXISTS clients_row_version_seq',
    'CREATE TABLE clients_rowversion (client_id bigint PRIMARY KEY, firm_id bigint NOT NULL, version bigint NOT NULL) WITH (fillfactor = 50)',
    """
CREATE OR REPLACE FUNCTION clients_rowversion_client() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO clients_rowversion (client_id, firm_id, version)
    SELECT id, firm_id, nextval('clients_row_version_seq') FROM new_rows
    ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, version = EXCLUDED.version;
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE clients_rowversion SET version = nextval('clients_row_version_seq')
    WHERE client_id = ANY(ARRAY(SELECT id FROM new_rows));
  ELSE
    DELETE FROM clients_rowversion WHERE client_id = ANY(ARRAY(SELECT id FROM old_rows));
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE TRIGGER clients_rowversion_ins AFTER INSERT ON clients_client REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_client()',
    'CREATE TRIGGER clients_rowversion_upd AFTER UPDATE ON clients_client REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_client()',
    'CREATE TRIGGER clients_rowversion_del AFTER DELETE ON clients_client REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_client()',
    """
CREATE OR REPLACE FUNCTION clients_rowversion_firm() RETURNS trigger AS $$
BEGIN
  UPDATE clients_rowversion SET firm_id = NEW.firm_id WHERE client_id = NEW.id;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE TRIGGER clients_rowversion_firm AFTER UPDATE OF firm_id ON clients_client FOR EACH ROW WHEN (OLD.firm_id IS DISTINCT FROM NEW.firm_id) EXECUTE FUNCTION clients_rowversion_firm()',
    """
CREATE OR REPLACE FUNCTION clients_rowversion_touch() RETURNS trigger AS $$
DECLARE
  touched bigint[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    touched := ARRAY(SELECT DISTINCT client_id FROM new_rows);
  ELSIF TG_OP = 'DELETE' THEN
    touched := ARRAY(SELECT DISTINCT client_id FROM old_rows);
  ELSE
    touched := ARRAY(SELECT client_id FROM new_rows UNION SELECT client_id FROM old_rows);
  END IF;
  UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(touched);
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE TRIGGER clients_contact_touch_ins AFTER INSERT ON clients_contact REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER clients_contact_touch_upd AFTER UPDATE ON clients_contact REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER clients_contact_touch_del AFTER DELETE ON clients_contact REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER clients_clientassignment_touch_ins AFTER INSERT ON clients_clientassignment REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER clients_clientassignment_touch_upd AFTER UPDATE ON clients_clientassignment REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER clients_clientassignment_touch_del AFTER DELETE ON clients_clientassignment REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER equipment_equipment_touch_ins AFTER INSERT ON equipment_equipment REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER equipment_equipment_touch_upd AFTER UPDATE ON equipment_equipment REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER equipment_equipment_touch_del AFTER DELETE ON equipment_equipment REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER invitations_invitation_touch_ins AFTER INSERT ON invitations_invitation REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER invitations_invitation_touch_upd AFTER UPDATE ON invitations_invitation REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER invitations_invitation_touch_del AFTER DELETE ON invitations_invitation REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
]

FILL = [
    "INSERT INTO clients_rowversion (client_id, firm_id, version) SELECT id, firm_id, nextval('clients_row_version_seq') FROM clients_client c WHERE NOT EXISTS (SELECT 1 FROM clients_rowversion v WHERE v.client_id = c.id)",
]

BACKWARDS = [
    'DROP TRIGGER IF EXISTS clients_contact_touch_ins ON clients_contact',
    'DROP TRIGGER IF EXISTS clients_contact_touch_upd ON clients_contact',
    'DROP TRIGGER IF EXISTS clients_contact_touch_del ON clients_contact',
    'DROP TRIGGER IF EXISTS clients_clientassignment_touch_ins ON clients_clientassignment',
    'DROP TRIGGER IF EXISTS clients_clientassignment_touch_upd ON clients_clientassignment',
    'DROP TRIGGER IF EXISTS clients_clientassignment_touch_del ON clients_clientassignment',
    'DROP TRIGGER IF EXISTS equipment_equipment_touch_ins ON equipment_equipment',
    'DROP TRIGGER IF EXISTS equipment_equipment_touch_upd ON equipment_equipment',
    'DROP TRIGGER IF EXISTS equipment_equipment_touch_del ON equipment_equipment',
    'DROP TRIGGER IF EXISTS invitations_invitation_touch_ins ON invitations_invitation',
    'DROP TRIGGER IF EXISTS invitations_invitation_touch_upd ON invitations_invitation',
    'DROP TRIGGER IF EXISTS invitations_invitation_touch_del ON invitations_invitation',
    'DROP TRIGGER IF EXISTS clients_rowversion_ins ON clients_client',
    'DROP TRIGGER IF EXISTS clients_rowversion_upd ON clients_client',
    'DROP TRIGGER IF EXISTS clients_rowversion_del ON clients_client',
    'DROP TRIGGER IF EXISTS clients_rowversion_firm ON clients_client',
    'DROP FUNCTION IF EXISTS clients_rowversion_firm()',
    'DROP FUNCTION IF EXISTS clients_rowversion_touch()',
    'DROP FUNCTION IF EXISTS clients_rowversion_client()',
    'DROP TABLE IF EXISTS clients_rowversion',
    'DROP SEQUENCE IF EXISTS clients_row_version_seq',
]


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0006_event_firm_kind_at"),
        ("equipment", "0002_catalogue"),
        ("invitations", "0003_reminders"),
    ]

    operations = [migrations.RunSQL(FORWARDS + FILL, BACKWARDS)]
