"""A task record left RUNNING by a killed worker is closed by the sweeper once no task
could still be running; other records are left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from vigie.lib.task_records import WORKER_LOST, task_records_reap
from vigie.mail.tasks import send_outbound_email

pytestmark = pytest.mark.django_db


def _record(*, status, started_minutes_ago=None) -> DBTaskResult:
    result = send_outbound_email.enqueue(0)
    record = DBTaskResult.objects.get(pk=result.id)
    record.status = status
    if started_minutes_ago is not None:
        record.started_at = timezone.now() - timedelta(minutes=started_minutes_ago)
    record.save()
    return record


def test_the_sweeper_closes_records_of_dead_workers_only(settings):
    settings.TASK_MAX_RUNTIME = 3600
    lost = _record(status=TaskResultStatus.RUNNING, started_minutes_ago=61)
    running = _record(status=TaskResultStatus.RUNNING, started_minutes_ago=59)
    ready = _record(status=TaskResultStatus.READY)
    done = _record(status=TaskResultStatus.SUCCESSFUL, started_minutes_ago=600)
    call_command("sweep")
    for record in (lost, running, ready, done):
        record.refresh_from_db()
    assert lost.status == TaskResultStatus.FAILED
    assert lost.exception_class_path == WORKER_LOST
    assert lost.finished_at is not None
    assert running.status == TaskResultStatus.RUNNING
    assert ready.status == TaskResultStatus.READY
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert task_records_reap() == 0  # nothing left to close
