"""The nightly check started by `vigie sweep`: from REGISTRY_NIGHTLY_HOUR (Paris), once a
night per firm with active clients, with unchanged clients skipped; never twice, even
with two sweepers at once; never on top of last night's run still under way."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import ClientFactory, FirmFactory
from tests.registries import point_at_sandbox
from vigie.clients.models import LegalForm, PaStatus
from vigie.registries import nightly
from vigie.registries.models import CheckItem, CheckRun, NightlyCheck, RunState
from vigie.registries.nightly import nightly_checks_start
from vigie.registries.preparation import run_prepare
from vigie.registries.services import check_clients

PARIS = ZoneInfo("Europe/Paris")


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def firms(firm_a, firm_b):
    ClientFactory.create_batch(3, firm=firm_a)
    ClientFactory(firm=firm_b)
    # A firm whose only client is archived has nothing to check.
    ClientFactory(firm=FirmFactory(name="Cabinet Vide"), archived_at=timezone.now())
    return firm_a, firm_b


def _runs(firm) -> list[CheckRun]:
    return list(CheckRun.objects.for_firm(firm).order_by("created_at"))


@pytest.mark.django_db
def test_it_waits_for_the_hour(firms, settings):
    settings.REGISTRY_NIGHTLY_HOUR = 2
    assert nightly_checks_start(paris(3, 1, 59)) == 0
    assert not CheckRun.objects.exists() and not NightlyCheck.objects.exists()


@pytest.mark.django_db
def test_it_starts_one_run_per_firm_once_a_night(
    firms, settings, django_capture_on_commit_callbacks
):
    firm_a, firm_b = firms
    settings.REGISTRY_NIGHTLY_HOUR = 2
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert nightly_checks_start(paris(3, 2, 0)) == 2
    assert len(queued) == 2  # each run goes to the task worker
    (run_a,), (run_b,) = _runs(firm_a), _runs(firm_b)
    # Created « en préparation », one row each: the worker writes their checks.
    assert (run_a.state, run_b.state) == (RunState.PREPARING, RunState.PREPARING)
    assert (run_a.clients, run_b.clients) == (3, 1)
    assert not CheckItem.objects.exists()
    run_prepare(run_a)
    run_prepare(run_b)
    assert (run_a.total, run_b.total) == (6, 2)  # each client against both registers
    night = NightlyCheck.objects.get(firm=firm_a)
    assert night.night == paris(3, 2).date() and night.run == run_a
    # Later the same night and day: nothing more.
    assert nightly_checks_start(paris(3, 2, 5)) == 0
    assert nightly_checks_start(paris(3, 23, 59)) == 0
    # The next night, firm B's run done and firm A's still under way: firm B's only.
    CheckRun.objects.filter(pk=run_b.pk).update(state=RunState.DONE)
    assert nightly_checks_start(paris(4, 2, 1)) == 1
    assert len(_runs(firm_a)) == 1 and len(_runs(firm_b)) == 2
    CheckRun.objects.filter(pk=run_a.pk).update(state=RunState.DONE)
    assert nightly_checks_start(paris(4, 2, 30)) == 1
    assert len(_runs(firm_a)) == 2
    assert nightly_checks_start(paris(4, 3)) == 0


@pytest.mark.django_db
def test_the_hour_is_a_setting(firms, settings):
    settings.REGISTRY_NIGHTLY_HOUR = 5
    assert nightly_checks_start(paris(3, 4, 59)) == 0
    assert nightly_checks_start(paris(3, 5)) == 2


@pytest.mark.django_db
def test_the_sweep_starts_it(firms, settings):
    settings.REGISTRY_NIGHTLY_HOUR = 0  # whatever the time the test runs
    call_command("sweep")
    assert CheckRun.objects.count() == 2
    call_command("sweep")
    assert CheckRun.objects.count() == 2


@pytest.mark.django_db
def test_it_skips_the_clients_unchanged_since_a_recent_check(sandbox, settings, firm_a):
    registers = point_at_sandbox(sandbox, settings)
    fields = {
        "legal_form": LegalForm.SARL,
        "ape_code": "47.24Z",
        "pa_status": PaStatus.REGISTERED,
        "pa_name": "Docaposte",
    }
    same = ClientFactory(firm=firm_a, code="S1", **fields)
    renamed = ClientFactory(firm=firm_a, code="S2", **fields)
    registers.seed(same, renamed)
    check_clients(firm=firm_a)
    renamed.name = "Nouveau nom"
    renamed.save()
    settings.REGISTRY_NIGHTLY_HOUR = 0
    settings.REGISTRY_NIGHTLY_UNCHANGED_DAYS = 7
    assert nightly_checks_start() == 1
    run = _runs(firm_a)[-1]
    run_prepare(run)
    assert (run.total, run.skipped) == (1, 3)  # the renamed client's company register only
    item = CheckItem.objects.get(run=run)
    assert (item.client_id, item.register) == (renamed.pk, "sirene")


@pytest.mark.django_db
def test_a_sweeper_late_to_the_night_starts_nothing(firms):
    """Two sweepers both saw firm A's night unclaimed: the second one's claim, made once
    the first has committed (its UPDATE waits for the first's), finds the night taken."""
    firm_a, _ = firms
    NightlyCheck.objects.create(firm=firm_a)
    night, now = paris(3, 2).date(), paris(3, 2)
    assert nightly._start(firm_a, night, now=now) == 1
    CheckRun.objects.update(state=RunState.DONE)  # not held back by a run under way
    assert nightly._start(firm_a, night, now=now) == 0
    assert len(_runs(firm_a)) == 1


@pytest.mark.django_db
def test_a_round_after_the_nights_start_reads_no_client(firms, settings):
    # Every round until midnight asks again: it reads the firms' counts and tonight's
    # rows, never the clients (a scan of every client of every firm).
    settings.REGISTRY_NIGHTLY_HOUR = 2
    assert nightly_checks_start(paris(3, 2, 0)) == 2
    with CaptureQueriesContext(connection) as queries:
        assert nightly_checks_start(paris(3, 2, 15)) == 0
    assert len(queries) == 2
    assert not any('"clients_client"' in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_start_one_run_per_firm(firms, settings):
    settings.REGISTRY_NIGHTLY_HOUR = 2
    barrier = threading.Barrier(2)
    started, errors = [], []

    def sweeper():
        try:
            barrier.wait(timeout=10)
            started.append(nightly_checks_start(paris(3, 2, 30)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sum(started) == 2
    firm_a, firm_b = firms
    assert len(_runs(firm_a)) == 1 and len(_runs(firm_b)) == 1
