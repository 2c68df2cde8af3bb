"""The read model's triggers on this app's tables, declared with django-pgtrigger
(vigie.clients.rowversion, directory, counts, searchdoc): the ones clients.0005 to
0009 created as frozen SQL go first, in the same transaction, so old and new
databases end with the same one set. Backwards, the old ones come back."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


# The triggers of migrations clients.0005 to 0009 on this app's tables (frozen SQL).
DROP_OLD = [
    'DROP TRIGGER IF EXISTS clients_directory_firm_ins ON firms_firm',
    'DROP TRIGGER IF EXISTS clients_directory_firm_del ON firms_firm',
    'DROP TRIGGER IF EXISTS clients_directory_membership_ins ON firms_membership',
    'DROP TRIGGER IF EXISTS clients_directory_membership_upd ON firms_membership',
    'DROP TRIGGER IF EXISTS clients_directory_membership_del ON firms_membership',
    'DROP FUNCTION IF EXISTS clients_directory_firm()',
    'DROP FUNCTION IF EXISTS clients_directory_membership()',
]

CREATE_OLD = [
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
]


class Migration(migrations.Migration):

    dependencies = [
        ('firms', '0002_invitation_lifecycle'),
        ('clients', '0010_read_model'),
    ]

    operations = [
        migrations.RunSQL(DROP_OLD, CREATE_OLD),
        pgtrigger.migrations.AddTrigger(
            model_name='firm',
            trigger=pgtrigger.compiler.Trigger(name='directory_ins', sql=pgtrigger.compiler.UpsertTriggerSql(func="INSERT INTO clients_directoryversion (firm_id, version) SELECT id, nextval('clients_directory_version_seq') FROM new_rows ON CONFLICT (firm_id) DO UPDATE SET version = EXCLUDED.version; RETURN NULL;", hash='7b16fba054834b9cffb80eb7c0dc7b387ceb6b7b', level='STATEMENT', operation='INSERT', pgid='pgtrigger_directory_ins_c470d', referencing='REFERENCING NEW TABLE AS new_rows ', table='firms_firm', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='firm',
            trigger=pgtrigger.compiler.Trigger(name='directory_del', sql=pgtrigger.compiler.UpsertTriggerSql(func='DELETE FROM clients_directoryversion WHERE firm_id = ANY(ARRAY(SELECT id FROM old_rows)); RETURN NULL;', hash='c4bb625502d7f35295aa7de0e430744a1dcba75d', level='STATEMENT', operation='DELETE', pgid='pgtrigger_directory_del_fd290', referencing='REFERENCING OLD TABLE AS old_rows ', table='firms_firm', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='membership',
            trigger=pgtrigger.compiler.Trigger(name='directory_ins', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_directoryversion SET version = nextval('clients_directory_version_seq') WHERE firm_id = ANY(ARRAY(SELECT DISTINCT firm_id FROM new_rows)); RETURN NULL;", hash='68d7db229d6441698794cdf7b1903b5eba05cac9', level='STATEMENT', operation='INSERT', pgid='pgtrigger_directory_ins_75b2d', referencing='REFERENCING NEW TABLE AS new_rows ', table='firms_membership', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='membership',
            trigger=pgtrigger.compiler.Trigger(name='directory_upd', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_directoryversion SET version = nextval('clients_directory_version_seq') WHERE firm_id = ANY(ARRAY(SELECT firm_id FROM new_rows UNION SELECT firm_id FROM old_rows)); RETURN NULL;", hash='33a21e2fad6457e869bcaf24ce5da7b66b271123', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_directory_upd_ce915', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='firms_membership', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='membership',
            trigger=pgtrigger.compiler.Trigger(name='directory_del', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_directoryversion SET version = nextval('clients_directory_version_seq') WHERE firm_id = ANY(ARRAY(SELECT DISTINCT firm_id FROM old_rows)); RETURN NULL;", hash='06b1c5841a0c7b4cc800937865a8ecc6441f8b47', level='STATEMENT', operation='DELETE', pgid='pgtrigger_directory_del_79876', referencing='REFERENCING OLD TABLE AS old_rows ', table='firms_membership', when='AFTER')),
        ),
    ]
