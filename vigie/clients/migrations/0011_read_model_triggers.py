"""The read model's triggers on this app's tables, declared with django-pgtrigger
(vigie.clients.rowversion, directory, counts, searchdoc): the ones clients.0005 to
0009 created as frozen SQL go first, in the same transaction, so old and new
databases end with the same one set. Backwards, the old ones come back."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


# The triggers of migrations clients.0005 to 0009 on this app's tables (frozen SQL).
DROP_OLD = [
    'DROP TRIGGER IF EXISTS clients_client_count_insdel ON clients_client',
    'DROP TRIGGER IF EXISTS clients_client_count_upd ON clients_client',
    'DROP TRIGGER IF EXISTS clients_rowversion_ins ON clients_client',
    'DROP TRIGGER IF EXISTS clients_rowversion_upd ON clients_client',
    'DROP TRIGGER IF EXISTS clients_rowversion_del ON clients_client',
    'DROP TRIGGER IF EXISTS clients_rowversion_firm ON clients_client',
    'DROP TRIGGER IF EXISTS clients_contact_touch_ins ON clients_contact',
    'DROP TRIGGER IF EXISTS clients_contact_touch_upd ON clients_contact',
    'DROP TRIGGER IF EXISTS clients_contact_touch_del ON clients_contact',
    'DROP TRIGGER IF EXISTS clients_clientassignment_touch_ins ON clients_clientassignment',
    'DROP TRIGGER IF EXISTS clients_clientassignment_touch_upd ON clients_clientassignment',
    'DROP TRIGGER IF EXISTS clients_clientassignment_touch_del ON clients_clientassignment',
    'DROP TRIGGER IF EXISTS clients_searchdoc_client_ins ON clients_client',
    'DROP TRIGGER IF EXISTS clients_searchdoc_client_upd ON clients_client',
    'DROP TRIGGER IF EXISTS clients_searchdoc_client_del ON clients_client',
    'DROP TRIGGER IF EXISTS clients_searchdoc_contact_ins ON clients_contact',
    'DROP TRIGGER IF EXISTS clients_searchdoc_contact_upd ON clients_contact',
    'DROP TRIGGER IF EXISTS clients_searchdoc_contact_del ON clients_contact',
    'DROP FUNCTION IF EXISTS clients_client_count()',
    'DROP FUNCTION IF EXISTS clients_rowversion_client()',
    'DROP FUNCTION IF EXISTS clients_rowversion_firm()',
    'DROP FUNCTION IF EXISTS clients_rowversion_touch()',
    'DROP FUNCTION IF EXISTS clients_searchdoc_client()',
    'DROP FUNCTION IF EXISTS clients_searchdoc_contact()',
]

CREATE_OLD = [
    """
CREATE OR REPLACE FUNCTION clients_client_count() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.archived_at IS NULL THEN
    UPDATE clients_clientcount SET active = active - 1 WHERE firm_id = OLD.firm_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.archived_at IS NULL THEN
    INSERT INTO clients_clientcount (firm_id, active) VALUES (NEW.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET active = clients_clientcount.active + 1;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    'CREATE TRIGGER clients_client_count_insdel AFTER INSERT OR DELETE ON clients_client FOR EACH ROW EXECUTE FUNCTION clients_client_count()',
    'CREATE TRIGGER clients_client_count_upd AFTER UPDATE OF firm_id, archived_at ON clients_client FOR EACH ROW WHEN (OLD.firm_id IS DISTINCT FROM NEW.firm_id OR (OLD.archived_at IS NULL) IS DISTINCT FROM (NEW.archived_at IS NULL)) EXECUTE FUNCTION clients_client_count()',
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


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0010_read_model'),
        ('equipment', '0003_read_model_triggers'),
        ('invitations', '0004_read_model_triggers'),
    ]

    operations = [
        migrations.RunSQL(DROP_OLD, CREATE_OLD),
        pgtrigger.migrations.AddTrigger(
            model_name='client',
            trigger=pgtrigger.compiler.Trigger(name='count_insdel', sql=pgtrigger.compiler.UpsertTriggerSql(func="\n  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.archived_at IS NULL THEN\n    UPDATE clients_clientcount SET active = active - 1 WHERE firm_id = OLD.firm_id;\n  END IF;\n  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.archived_at IS NULL THEN\n    INSERT INTO clients_clientcount (firm_id, active) VALUES (NEW.firm_id, 1)\n    ON CONFLICT (firm_id) DO UPDATE SET active = clients_clientcount.active + 1;\n  END IF; RETURN NULL;", hash='268ba524744ffed4621ff620aa069f36e59eae79', operation='INSERT OR DELETE', pgid='pgtrigger_count_insdel_ee527', table='clients_client', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='client',
            trigger=pgtrigger.compiler.Trigger(name='count_upd', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.firm_id IS DISTINCT FROM NEW.firm_id OR (OLD.archived_at IS NULL) IS DISTINCT FROM (NEW.archived_at IS NULL))', func="\n  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.archived_at IS NULL THEN\n    UPDATE clients_clientcount SET active = active - 1 WHERE firm_id = OLD.firm_id;\n  END IF;\n  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.archived_at IS NULL THEN\n    INSERT INTO clients_clientcount (firm_id, active) VALUES (NEW.firm_id, 1)\n    ON CONFLICT (firm_id) DO UPDATE SET active = clients_clientcount.active + 1;\n  END IF; RETURN NULL;", hash='8dd099e2761b2720b597bb92352732e3a3a5b51f', operation='UPDATE OF "firm_id", "archived_at"', pgid='pgtrigger_count_upd_18859', table='clients_client', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='client',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_ins', sql=pgtrigger.compiler.UpsertTriggerSql(func="INSERT INTO clients_rowversion (client_id, firm_id, version) SELECT id, firm_id, nextval('clients_row_version_seq') FROM new_rows ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, version = EXCLUDED.version; RETURN NULL;", hash='48822b590340bb4f2382ff844c1292a08126759c', level='STATEMENT', operation='INSERT', pgid='pgtrigger_rowversion_ins_69836', referencing='REFERENCING NEW TABLE AS new_rows ', table='clients_client', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='client',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_upd', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT id FROM new_rows)); RETURN NULL;", hash='9f20a4440fd414ec303430d3534b71273dc49a5d', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_rowversion_upd_d8682', referencing='REFERENCING NEW TABLE AS new_rows ', table='clients_client', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='client',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_del', sql=pgtrigger.compiler.UpsertTriggerSql(func='DELETE FROM clients_rowversion WHERE client_id = ANY(ARRAY(SELECT id FROM old_rows)); RETURN NULL;', hash='71550d6f404af777b75b02311fb52e17146d522d', level='STATEMENT', operation='DELETE', pgid='pgtrigger_rowversion_del_9d6ed', referencing='REFERENCING OLD TABLE AS old_rows ', table='clients_client', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='client',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_firm', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.firm_id IS DISTINCT FROM NEW.firm_id)', func='UPDATE clients_rowversion SET firm_id = NEW.firm_id WHERE client_id = NEW.id; RETURN NULL;', hash='dc980f0880ec9b15abdf83ce1de1d0860812fbff', operation='UPDATE OF "firm_id"', pgid='pgtrigger_rowversion_firm_2fce3', table='clients_client', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='client',
            trigger=pgtrigger.compiler.Trigger(name='searchdoc_ins', sql=pgtrigger.compiler.UpsertTriggerSql(declare='DECLARE ids bigint[];', func="\n  IF current_setting('vigie.searchdoc_deferred', true) = 'on' THEN RETURN NULL; END IF;\n  ids := ARRAY(SELECT id FROM new_rows);\n  IF cardinality(ids) > 0 THEN \n  INSERT INTO clients_searchdoc AS d (client_id, firm_id, doc)\n  SELECT c.id, c.firm_id, c.search_text || COALESCE((\n      SELECT string_agg(E'\\n' || k.search_text, '' ORDER BY k.id)\n      FROM clients_contact k WHERE k.client_id = c.id), '')\n  FROM clients_client c WHERE c.id = ANY(ids)\n  ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, doc = EXCLUDED.doc\n  WHERE (d.firm_id, d.doc) IS DISTINCT FROM (EXCLUDED.firm_id, EXCLUDED.doc); END IF; RETURN NULL;", hash='028c906a7f07fcb6cd0b4accd202cb4169f0d460', level='STATEMENT', operation='INSERT', pgid='pgtrigger_searchdoc_ins_c13fa', referencing='REFERENCING NEW TABLE AS new_rows ', table='clients_client', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='client',
            trigger=pgtrigger.compiler.Trigger(name='searchdoc_upd', sql=pgtrigger.compiler.UpsertTriggerSql(declare='DECLARE ids bigint[];', func="\n  IF current_setting('vigie.searchdoc_deferred', true) = 'on' THEN RETURN NULL; END IF;\n  ids := ARRAY(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.search_text IS DISTINCT FROM o.search_text OR n.firm_id IS DISTINCT FROM o.firm_id);\n  IF cardinality(ids) > 0 THEN \n  INSERT INTO clients_searchdoc AS d (client_id, firm_id, doc)\n  SELECT c.id, c.firm_id, c.search_text || COALESCE((\n      SELECT string_agg(E'\\n' || k.search_text, '' ORDER BY k.id)\n      FROM clients_contact k WHERE k.client_id = c.id), '')\n  FROM clients_client c WHERE c.id = ANY(ids)\n  ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, doc = EXCLUDED.doc\n  WHERE (d.firm_id, d.doc) IS DISTINCT FROM (EXCLUDED.firm_id, EXCLUDED.doc); END IF; RETURN NULL;", hash='fc3d9b44dd42230e06d52a9226df5b459f087a29', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_searchdoc_upd_4965c', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='clients_client', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='client',
            trigger=pgtrigger.compiler.Trigger(name='searchdoc_del', sql=pgtrigger.compiler.UpsertTriggerSql(func='DELETE FROM clients_searchdoc WHERE client_id = ANY(ARRAY(SELECT id FROM old_rows)); RETURN NULL;', hash='95f8e3fdc86bf6427ca37c9bcb6ee6ebee3864a9', level='STATEMENT', operation='DELETE', pgid='pgtrigger_searchdoc_del_010ca', referencing='REFERENCING OLD TABLE AS old_rows ', table='clients_client', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='clientassignment',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_touch_ins', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT DISTINCT client_id FROM new_rows)); RETURN NULL;", hash='fb8db27aef34ed764e4a984478203155840c15d1', level='STATEMENT', operation='INSERT', pgid='pgtrigger_rowversion_touch_ins_52916', referencing='REFERENCING NEW TABLE AS new_rows ', table='clients_clientassignment', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='clientassignment',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_touch_upd', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT client_id FROM new_rows UNION SELECT client_id FROM old_rows)); RETURN NULL;", hash='8db8875b34e8baaf9eeabe9a481786b3c1119a8a', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_rowversion_touch_upd_e6e25', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='clients_clientassignment', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='clientassignment',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_touch_del', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT DISTINCT client_id FROM old_rows)); RETURN NULL;", hash='f037f004a067ef7b1acf17296696ed2e696e94e5', level='STATEMENT', operation='DELETE', pgid='pgtrigger_rowversion_touch_del_b3c99', referencing='REFERENCING OLD TABLE AS old_rows ', table='clients_clientassignment', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='contact',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_touch_ins', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT DISTINCT client_id FROM new_rows)); RETURN NULL;", hash='7dbf115b3c46952e892c69823113e188818daf55', level='STATEMENT', operation='INSERT', pgid='pgtrigger_rowversion_touch_ins_74a49', referencing='REFERENCING NEW TABLE AS new_rows ', table='clients_contact', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='contact',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_touch_upd', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT client_id FROM new_rows UNION SELECT client_id FROM old_rows)); RETURN NULL;", hash='72c0145dd980155fc2f6b47fddfd9b9cfe2b9785', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_rowversion_touch_upd_18af3', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='clients_contact', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='contact',
            trigger=pgtrigger.compiler.Trigger(name='rowversion_touch_del', sql=pgtrigger.compiler.UpsertTriggerSql(func="UPDATE clients_rowversion SET version = nextval('clients_row_version_seq') WHERE client_id = ANY(ARRAY(SELECT DISTINCT client_id FROM old_rows)); RETURN NULL;", hash='422224d039028212fbfedffc0331fb9a98f4d3f4', level='STATEMENT', operation='DELETE', pgid='pgtrigger_rowversion_touch_del_695e5', referencing='REFERENCING OLD TABLE AS old_rows ', table='clients_contact', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='contact',
            trigger=pgtrigger.compiler.Trigger(name='searchdoc_ins', sql=pgtrigger.compiler.UpsertTriggerSql(declare='DECLARE ids bigint[];', func="\n  IF current_setting('vigie.searchdoc_deferred', true) = 'on' THEN RETURN NULL; END IF;\n  ids := ARRAY(SELECT DISTINCT client_id FROM new_rows);\n  IF cardinality(ids) > 0 THEN \n  INSERT INTO clients_searchdoc AS d (client_id, firm_id, doc)\n  SELECT c.id, c.firm_id, c.search_text || COALESCE((\n      SELECT string_agg(E'\\n' || k.search_text, '' ORDER BY k.id)\n      FROM clients_contact k WHERE k.client_id = c.id), '')\n  FROM clients_client c WHERE c.id = ANY(ids)\n  ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, doc = EXCLUDED.doc\n  WHERE (d.firm_id, d.doc) IS DISTINCT FROM (EXCLUDED.firm_id, EXCLUDED.doc); END IF; RETURN NULL;", hash='fbaddcdce411035bb35df6462371a5f2d950c95f', level='STATEMENT', operation='INSERT', pgid='pgtrigger_searchdoc_ins_52ca9', referencing='REFERENCING NEW TABLE AS new_rows ', table='clients_contact', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='contact',
            trigger=pgtrigger.compiler.Trigger(name='searchdoc_upd', sql=pgtrigger.compiler.UpsertTriggerSql(declare='DECLARE ids bigint[];', func="\n  IF current_setting('vigie.searchdoc_deferred', true) = 'on' THEN RETURN NULL; END IF;\n  ids := ARRAY(SELECT n.client_id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.search_text IS DISTINCT FROM o.search_text OR n.client_id IS DISTINCT FROM o.client_id UNION SELECT o.client_id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.client_id IS DISTINCT FROM o.client_id);\n  IF cardinality(ids) > 0 THEN \n  INSERT INTO clients_searchdoc AS d (client_id, firm_id, doc)\n  SELECT c.id, c.firm_id, c.search_text || COALESCE((\n      SELECT string_agg(E'\\n' || k.search_text, '' ORDER BY k.id)\n      FROM clients_contact k WHERE k.client_id = c.id), '')\n  FROM clients_client c WHERE c.id = ANY(ids)\n  ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, doc = EXCLUDED.doc\n  WHERE (d.firm_id, d.doc) IS DISTINCT FROM (EXCLUDED.firm_id, EXCLUDED.doc); END IF; RETURN NULL;", hash='4380bb9a4214a5864e22fd450f38fb3c993cd175', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_searchdoc_upd_8d3ae', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='clients_contact', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='contact',
            trigger=pgtrigger.compiler.Trigger(name='searchdoc_del', sql=pgtrigger.compiler.UpsertTriggerSql(declare='DECLARE ids bigint[];', func="\n  IF current_setting('vigie.searchdoc_deferred', true) = 'on' THEN RETURN NULL; END IF;\n  ids := ARRAY(SELECT DISTINCT client_id FROM old_rows);\n  IF cardinality(ids) > 0 THEN \n  INSERT INTO clients_searchdoc AS d (client_id, firm_id, doc)\n  SELECT c.id, c.firm_id, c.search_text || COALESCE((\n      SELECT string_agg(E'\\n' || k.search_text, '' ORDER BY k.id)\n      FROM clients_contact k WHERE k.client_id = c.id), '')\n  FROM clients_client c WHERE c.id = ANY(ids)\n  ON CONFLICT (client_id) DO UPDATE SET firm_id = EXCLUDED.firm_id, doc = EXCLUDED.doc\n  WHERE (d.firm_id, d.doc) IS DISTINCT FROM (EXCLUDED.firm_id, EXCLUDED.doc); END IF; RETURN NULL;", hash='90482a880e304dde587c41dede624fbde41846b3', level='STATEMENT', operation='DELETE', pgid='pgtrigger_searchdoc_del_ed903', referencing='REFERENCING OLD TABLE AS old_rows ', table='clients_contact', when='AFTER')),
        ),
    ]
