"""The task backend's own records of tasks whose worker died.

django-tasks-db marks a task RUNNING when a worker claims it and never looks at it
again: a worker killed mid-task leaves that record RUNNING for ever. The work itself is
not lost (our rows — emails, partner links, bulk runs, imports — hold its state, and the
sweeper takes it over); this closes the backend's record once no task could still be
running, so that monitoring sees a failure instead of a task running since last week.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

WORKER_LOST = "vigie.lib.task_records.WorkerLost"


def task_records_reap(*, now: datetime | None = None) -> int:
    """Mark FAILED the records RUNNING for longer than TASK_MAX_RUNTIME. Returns how many."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.TASK_MAX_RUNTIME)
    return (
        DBTaskResult.objects.running()
        .filter(started_at__lt=limit)
        .update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            exception_class_path=WORKER_LOST,
            traceback=(
                f"Still RUNNING {settings.TASK_MAX_RUNTIME} s after it started: its worker "
                "stopped without finishing it. The sweeper has taken its work over."
            ),
        )
    )
