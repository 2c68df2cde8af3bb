"""The directory's export route with real processes: a worker killed in the middle of a
run whose export it downloaded is taken over without downloading it again."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ClientFactory
from tests.registries import point_at_sandbox
from tests.test_mail_worker import _wait
from tests.test_registries_worker import _env
from vigie.registries.models import (
    CheckItem,
    CheckRun,
    CheckStatus,
    ExportedLines,
    ExportState,
    ItemState,
    Register,
    RegisterCheck,
)
from vigie.registries.preparation import run_prepare
from vigie.registries.services import check_run_create, registers_sweep
from vigie.registries.tasks import check_run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registers(sandbox, settings):
    return point_at_sandbox(sandbox, settings)


def _worker(sandbox) -> subprocess.Popen:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "vigie", "db_worker", "--queue-name", "registers"),
            *("--interval", "0.1", "--no-startup-delay"),
        ],
        env=_env(sandbox, SIRENE_RATE="5", REGISTRY_LEASE_SECONDS="600"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_killed_worker_is_taken_over_without_downloading_the_export_again(
    registers, firm_a, sandbox, settings
):
    clients = [ClientFactory(firm=firm_a) for _ in range(20)]
    registers.seed(*clients)
    registers.rate("sirene", 5)
    settings.ANNUAIRE_EXPORT_FROM = 20
    run = check_run_create(firm=firm_a)  # both registers: the company register is slow
    run_prepare(run)  # what the worker does first (tests/test_registries_preparation.py)
    assert run.directory_export == ExportState.WANTED
    check_run.enqueue(run.pk)
    done = CheckItem.objects.filter(run=run, state=ItemState.DONE)
    worker = _worker(sandbox)
    try:
        assert _wait(lambda: done.count() >= 8, 60)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert done.count() < 40
    assert CheckRun.objects.get(pk=run.pk).directory_export == ExportState.LOADED
    assert ExportedLines.objects.filter(run=run).count() == 20
    # The lease of the dead worker's batch is over: the sweeper queues the run again.
    pending = CheckItem.objects.filter(run=run, state=ItemState.PENDING)
    pending.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    assert registers_sweep() == 1
    pending.update(next_attempt_at=timezone.now())
    worker = _worker(sandbox)
    try:
        assert _wait(lambda: done.count() == 40, 90)
        assert _wait(lambda: CheckRun.objects.get(pk=run.pk).state == "terminee", 10)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)
    assert registers.state("annuaire")["calls_by_query"] == {"export": 1}
    checks = RegisterCheck.objects.for_firm(firm_a).filter(register=Register.ANNUAIRE)
    assert checks.count() == 20
    assert not checks.filter(status=CheckStatus.UNVERIFIED).exists()
    assert not ExportedLines.objects.filter(run=run).exists()
