"""The outbox with a real task worker (`vigie db_worker` subprocesses) and a real SMTP
server: a worker SIGKILLed in the middle of a send, one e-mail's task or a batch's,
loses nothing, leaves nothing stuck, and nothing is sent twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from vigie.mail import services
from vigie.mail.models import EmailStatus, OutboundEmail
from vigie.mail.testing import SMTPSink

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    s = connection.settings_dict
    host = s.get("HOST") or "127.0.0.1"
    user = s.get("USER") or "root"
    auth = f"{user}:{s['PASSWORD']}" if s.get("PASSWORD") else user
    return f"postgres://{auth}@{host}:{s.get('PORT') or 5432}/{s['NAME']}"


def _worker(sink: SMTPSink) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vigie.settings",
        "DATABASE_URL": _database_url(),
        "EMAIL_URL": sink.url,
        "EMAIL_TIMEOUT": "30",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "x" * 50),
    }
    env.pop("VIGIE_TEST_SQLITE_NAME", None)
    return subprocess.Popen(
        [sys.executable, "-m", "vigie", "db_worker", "--interval", "0.1", "--no-startup-delay"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("batch", [False, True], ids=["a-task-each", "one-batch"])
def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(firm_a, batch):
    _database_url()  # skip early when no other process can reach the database
    with SMTPSink() as sink:
        sink.stall_next_rcpt(20)  # the first send hangs in the middle of the SMTP dialogue
        with services.email_batch() if batch else contextlib.nullcontext():
            emails = [
                services.email_queue(
                    firm=firm_a, to=f"tpe{n}@example.fr", subject=f"Message {n}", text="Bonjour"
                )
                for n in range(3)
            ]
        tasks = DBTaskResult.objects.filter(task_path__startswith="vigie.mail.tasks.")
        assert tasks.count() == (1 if batch else 3)
        worker = _worker(sink)
        try:
            assert sink.stalled.wait(30), "the worker never reached the SMTP server"
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
        stuck = OutboundEmail.objects.filter(status=EmailStatus.SENDING)
        assert stuck.count() == 1
        assert services.mail_sweep() == 0  # nothing is due yet
        # An hour later the lease is over: the sweeper requeues the stuck row (and the two
        # rows whose tasks are still waiting: a duplicate task is harmless).
        queued = tasks.count()
        assert services.mail_sweep(now=timezone.now() + timedelta(hours=1)) == 3
        assert tasks.count() == queued + 1  # the three in one batch
        worker = _worker(sink)
        try:
            assert _wait(
                lambda: not OutboundEmail.objects.exclude(status=EmailStatus.SENT).exists()
            )
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
        received = sink.wait_for(3, timeout=5)
        assert len(received) == 3
        assert sorted(m["Message-ID"] for m in received) == sorted(e.message_id for e in emails)
        assert sorted(m["Subject"] for m in received) == ["Message 0", "Message 1", "Message 2"]
