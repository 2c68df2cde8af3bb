"""Register checks with real processes: the shared token bucket keeps two processes
together under the register's rate, and a worker killed in the middle of a run is taken
over without asking again for the clients it finished."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ClientFactory
from tests.registries import ANNUAIRE_KEY, point_at_sandbox
from tests.test_mail_worker import _database_url, _wait
from vigie.registries.models import CheckItem, CheckStatus, ItemState, Register, RegisterCheck
from vigie.registries.services import check_run_create, registers_sweep
from vigie.registries.tasks import check_run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registers(sandbox, settings):
    return point_at_sandbox(sandbox, settings)


def _env(sandbox, **extra) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vigie.settings",
        "DATABASE_URL": _database_url(),
        "SIRENE_API_URL": sandbox.url + "/recherche-entreprises",
        "ANNUAIRE_API_URL": sandbox.url + "/afnor-directory",
        "ANNUAIRE_API_KEY": ANNUAIRE_KEY,
        "REGISTRY_RETRY_DELAYS": "0",
        **extra,
    }
    env.pop("VIGIE_TEST_SQLITE_NAME", None)
    return env


PACED_CALLS = """
import django, sys
django.setup()
from vigie.registries.sirene import SireneClient
client = SireneClient(retries=0)
for siret in sys.argv[1:]:
    client.company(siret)
"""


def test_two_processes_together_never_exceed_the_rate(registers, firm_a, sandbox):
    clients = [ClientFactory(firm=firm_a) for _ in range(30)]
    registers.seed(*clients)
    registers.rate("sirene", 10)  # the register refuses an 11th call within a second
    env = _env(sandbox, SIRENE_RATE="10")
    sirets = [c.siret for c in clients]
    procs = [
        subprocess.Popen([sys.executable, "-c", PACED_CALLS, *half], env=env)
        for half in (sirets[:15], sirets[15:])
    ]
    assert [p.wait(60) for p in procs] == [0, 0]
    state = registers.state("sirene")
    assert state["calls"] == 30 and state["rejected"] == 0
    assert state["max_per_second"] <= 10


def _worker(sandbox) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vigie",
            "db_worker",
            "--queue-name",
            "registers",
            "--interval",
            "0.1",
            "--no-startup-delay",
        ],
        env=_env(sandbox, SIRENE_RATE="5", REGISTRY_LEASE_SECONDS="600"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_killed_worker_is_taken_over_without_repeating_finished_clients(
    registers, firm_a, sandbox
):
    clients = [ClientFactory(firm=firm_a) for _ in range(20)]
    registers.seed(*clients)
    registers.rate("sirene", 5)
    run = check_run_create(firm=firm_a, registers=(Register.SIRENE,))
    check_run.enqueue(run.pk)
    done = CheckItem.objects.filter(run=run, state=ItemState.DONE)
    worker = _worker(sandbox)
    try:
        assert _wait(lambda: done.count() >= 6, 60)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    finished = set(done.values_list("client_id", flat=True))
    assert 6 <= len(finished) < 20
    # The lease of the dead worker's batch is over: the sweeper queues the run again.
    CheckItem.objects.filter(run=run, state=ItemState.PENDING).update(
        next_attempt_at=timezone.now() - timedelta(minutes=1)
    )
    assert registers_sweep() == 1
    CheckItem.objects.filter(run=run, state=ItemState.PENDING).update(
        next_attempt_at=timezone.now()
    )
    worker = _worker(sandbox)
    try:
        assert _wait(lambda: done.count() == 20, 90)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)
    calls = registers.state("sirene")["calls_by_query"]
    by_pk = {c.pk: c.siret for c in clients}
    assert all(calls[by_pk[pk]] == 1 for pk in finished)  # never asked twice
    assert sum(calls.values()) <= 20 + 1  # at most the call in flight when it died
    checks = RegisterCheck.objects.for_firm(firm_a)
    assert checks.count() == 20 and not checks.filter(status=CheckStatus.UNVERIFIED).exists()


def test_a_worker_records_non_verified_after_its_attempts(registers, firm_a, sandbox):
    client = ClientFactory(firm=firm_a)
    registers.seed(client)
    registers.fault("annuaire", "malformed", count=20)
    run = check_run_create(firm=firm_a, registers=(Register.ANNUAIRE,))
    check_run.enqueue(run.pk)
    worker = _worker(sandbox)
    try:
        checks = RegisterCheck.objects.for_firm(firm_a)
        assert _wait(lambda: checks.exists(), 60)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)
    check = checks.get()
    assert check.status == CheckStatus.UNVERIFIED and "illisible" in check.reason
