"""The read model's triggers on this app's tables, declared with django-pgtrigger
(vigie.clients.rowversion, directory, counts, searchdoc): the ones clients.0005 to
0009 created as frozen SQL go first, in the same transaction, so old and new
databases end with the same one set. Backwards, the old ones come back."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


# The triggers of migrations clients.0005 to 0009 on this app's tables (frozen SQL).
DROP_OLD = [
    'DROP TRIGGER IF EXISTS equipment_equipment_touch_ins ON equipment_equipment',
    'DROP TRIGGER IF EXISTS equipment_equipment_touch_upd ON equipment_equipment',
    'DROP TRIGGER IF EXISTS equipment_equipment_touch_del ON equipment_equipment',
    'DROP TRIGGER IF EXISTS clients_directory_catalogue ON equipment_solution',
    'DROP FUNCTION IF EXISTS clients_directory_catalogue()',
]

CREATE_OLD = [
    'CREATE TRIGGER equipment_equipment_touch_ins AFTER INSERT ON equipment_equipment REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER equipment_equipment_touch_upd AFTER UPDATE ON equipment_equipment REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    'CREATE TRIGGER equipment_equipment_touch_del AFTER DELETE ON equipment_equipment REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION clients_rowversion_touch()',
    """
CREATE OR REPLACE FUNCTION clients_directory_catalogue() RETURNS trigger AS $$
BEGIN
  UPDATE clients_directoryversion SET version = nextval('clients_directory_version_seq');
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE TRIGGER clients_directory_catalogue AFTER INSERT OR UPDATE OR DELETE ON equipment_solution FOR EACH STATEMENT EXECUTE FUNCTION clients_directory_catalogue()',
]


class Migration(migrations.Migration):

    dependencies = [
        ('equipment', '0002_catalogue'),
        ('clients', '0010_read_model'),
    ]

    operations = [
        migrations.RunSQL(DROP_OLD, CREATE_OLD),
        pgtrigger.migrations.AddTrigger(
            model_name='equipment',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_touch_ins', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT DISTINCT client_id FROM new_rows)); RETURN NULL;", hash='1a564a9db3b4f66a2a8cd110122168467058afe4', level='STATEMENT', operation='INSERT', pgid='pgtrigger_rowversion_touch_ins_8ffb5', referencing='REFERENCING NEW TABLE AS new_rows ', table='equipment_equipment', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='equipment',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_touch_upd', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT client_id FROM new_rows UNION SELECT client_id FROM old_rows)); RETURN NULL;", hash='ef082f50004121332a2462795e11bc77dfb25bd4', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_rowversion_touch_upd_92e6f', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='equipment_equipment', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='equipment',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_touch_del', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT DISTINCT client_id FROM old_rows)); RETURN NULL;", hash='f59aff641eae07b6996c5b3bc7f3bc2e245246ba', level='STATEMENT', operation='DELETE', pgid='pgtrigger_rowversion_touch_del_21f96', referencing='REFERENCING OLD TABLE AS old_rows ', table='equipment_equipment', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='solution',
            trigger=pgtrigger.compiler.Trigger(name='directory_catalogue', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_directoryversion SET version = nextval('clients_directory_version_seq'); RETURN NULL;", hash='83286c9d29ed0c414f4a48e84e3dfa8bb1459a59', level='STATEMENT', operation='INSERT OR UPDATE OR DELETE', pgid='pgtrigger_directory_catalogue_aa589', table='equipment_solution', when='AFTER')),
        ),
    ]
