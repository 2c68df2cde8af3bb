"""What the fault suite (faults/run.py) relies on, checked fast: a bulk run whose worker
died is requeued by the sweeper and finishes once; the PgBouncer settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests import test_invitations
from vigie.invitations import services
from vigie.invitations.models import Invitation

ready_client = test_invitations.ready_client


def test_it_requeues_a_bulk_run_whose_worker_died(
    alice, ready_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        bulk = services.bulk_invitation_start(
            firm=ready_client.firm,
            actor=alice,
            clients=[ready_client],
            plan="start",
            billing_mode="cabinet",
            subject="Shine pour {client}",
            body="Bonjour {contact}, {lien}",
        )
    task = DBTaskResult.objects.get(args_kwargs__args=[bulk.pk])
    # The worker took it, then was SIGKILLed: the task stays RUNNING for ever.
    task.status, task.started_at = "RUNNING", timezone.now()
    task.save()
    assert services.bulk_invitations_sweep() == 0  # within the lease: maybe still alive
    later = timezone.now() + timedelta(hours=1)
    assert services.bulk_invitations_sweep(now=later) == 1
    assert services.bulk_invitations_sweep(now=later) == 0  # a task is waiting now
    # The dead run's worker and the requeued task may both get to run it: once only.
    services.bulk_invitation_run(bulk.pk)
    services.bulk_invitation_run(bulk.pk)
    bulk.refresh_from_db()
    assert (bulk.status, bulk.done, bulk.skipped) == ("terminee", 1, 0)
    assert Invitation.objects.filter(bulk=bulk).count() == 1
    assert services.bulk_invitations_sweep(now=later) == 0  # done: nothing to requeue


def _databases(**env) -> dict:
    code = "from django.conf import settings; import json; print(json.dumps(settings.DATABASES['default'], default=str))"
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "vigie.settings",
            "DEBUG": "1",
            "DATABASE_URL": "postgres://root@127.0.0.1:6432/vigie",
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_it_turns_off_cursors_and_prepared_statements_behind_pgbouncer():
    pooled = _databases(DB_POOLER="pgbouncer")
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert pooled["OPTIONS"]["prepare_threshold"] is None
    assert "options" not in pooled["OPTIONS"]  # PgBouncer refuses startup options
    direct = _databases(DB_POOLER="")
    assert not direct.get("DISABLE_SERVER_SIDE_CURSORS")
    assert direct["OPTIONS"]["options"] == "-c jit=off"
