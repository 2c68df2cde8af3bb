"""Partner calls run by a real task worker: a worker SIGKILLed in the middle of a call
loses nothing, and resuming never creates a second invitation at the partner.

Needs a database another process can open (PostgreSQL, or VIGIE_TEST_SQLITE_NAME)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.test_mail_worker import _database_url, _wait
from tests.test_partners import make_invitation
from vigie.partners.models import PartnerLink, PartnerState
from vigie.partners.services import invitation_payload, partners_sweep
from vigie.partners.shine import ShineClient
from vigie.partners.tasks import create_partner_invitation

pytestmark = pytest.mark.django_db(transaction=True)


def _worker(shine) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vigie.settings",
        "DATABASE_URL": _database_url(),
        "SHINE_API_URL": shine.url,
        "SHINE_TIMEOUT": "60",
        "SHINE_RETRIES": "0",
    }
    env.pop("VIGIE_TEST_SQLITE_NAME", None)
    return subprocess.Popen(
        [sys.executable, "-m", "vigie", "db_worker", "--interval", "0.1", "--no-startup-delay"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _link(invitation) -> PartnerLink:
    return PartnerLink.objects.get(invitation=invitation)


def test_a_worker_killed_mid_call_resumes_without_a_second_invitation(shine, firm_a):
    _database_url()
    hung = make_invitation(firm_a)  # its call will hang at the partner, then the worker dies
    lucky = make_invitation(firm_a)  # created at the partner, but the worker died before recording
    ShineClient().create_invitation(invitation_payload(lucky), idempotency_key=str(lucky.public_id))
    shine.fault("timeout", count=1)
    create_partner_invitation.enqueue(hung.pk)

    worker = _worker(shine)
    try:
        assert _wait(lambda: DBTaskResult.objects.filter(status="RUNNING").exists(), 90)
        # Kill it only once the partner holds its call: killed earlier, the hang would be
        # left for the next worker, which would then time out instead of resuming.
        assert _wait(lambda: shine.state()["faults_pending"] == 0, 30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert _link(hung).state == PartnerState.PENDING  # nothing recorded, nothing lost

    # The sweeper finds both due rows (a task left RUNNING is never retried by the backend).
    PartnerLink.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    assert partners_sweep() == 2
    worker = _worker(shine)
    try:
        assert _wait(
            lambda: not PartnerLink.objects.filter(state=PartnerState.PENDING).exists(), 90
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)
    assert _link(hung).state == PartnerState.CREATED
    assert _link(lucky).state == PartnerState.CREATED
    assert shine.state()["invitations"] == 2  # one each: never a second
