"""Indexes that keep each round of `vigie sweep` to the work due (docs/SCALE.md).

- invitations (status, reminders_sent, sent_at): the invitations due for a reminder are one
  range each (vigie.invitations.lifecycle); without it a round read every firm's open
  invitations, then asked each firm again.
- the task records still RUNNING, by start (vigie.lib.task_records): the sweeper's reap
  read the whole table, one row per task ever run, every round.

Built concurrently (no lock on writes while a large table is indexed), hence not atomic.
Frozen SQL: a migration never imports application code.
"""

from django.db import migrations

FORWARDS = [
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS invitation_status_reminded_sent "
    "ON invitations_invitation (status, reminders_sent, sent_at)",
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS vigie_task_running_started "
    "ON django_tasks_database_dbtaskresult (started_at) WHERE status = 'RUNNING'",
]

BACKWARDS = [
    "DROP INDEX CONCURRENTLY IF EXISTS invitation_status_reminded_sent",
    "DROP INDEX CONCURRENTLY IF EXISTS vigie_task_running_started",
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("clients", "0017_client_mandate_expired"),
        ("invitations", "0005_status_and_send_method_labels"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunSQL(FORWARDS, BACKWARDS)]
