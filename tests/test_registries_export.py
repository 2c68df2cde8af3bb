"""The directory's CSV export route of a run (ANNUAIRE_EXPORT_FROM): one call for the
run, each client checked from the lines held for it exactly as from its search, the
lines gone when the run ends, a failed export left to the searches, and a download
abandoned by a dead worker taken over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ClientFactory
from tests.registries import point_at_sandbox
from tests.test_registries_pa import CLIENT_ID, _connect
from vigie.clients.models import PaStatus
from vigie.lib.validators import make_siret
from vigie.registries.models import (
    CheckRun,
    CheckStatus,
    ExportedLines,
    ExportState,
    Register,
    RegisterCheck,
)
from vigie.registries.preparation import run_prepare
from vigie.registries.services import check_clients, check_run_create, check_run_execute

pytestmark = pytest.mark.django_db

SCENARIOS = {
    "E01": "same_pa",
    "E02": "no_line",
    "E03": "other_pa",
    "E04": "future_date",
    "E05": "siren_level",
    "E06": "same_pa",
    "E07": "same_pa",
    "E08": "other_pa",
}


def _prepared(run: CheckRun) -> CheckRun:
    """The run as the worker's first step leaves it: its items written, the export
    decided (the whole portfolio is prepared by the worker)."""
    run_prepare(run)
    return run


@pytest.fixture
def registers(sandbox, settings):
    return point_at_sandbox(sandbox, settings)


@pytest.fixture
def portfolio(firm_a, registers):
    """Every kind of directory answer: each scenario, a client the firm's record says is
    not registered, two establishments of one company (a SIREN-level line for them), an
    invalid SIRET, and a client another firm's run never sees."""
    clients = [
        ClientFactory(firm=firm_a, code=code, pa_status=PaStatus.REGISTERED, pa_name="Docaposte")
        for code in SCENARIOS
    ]
    clients.append(ClientFactory(firm=firm_a, code="E09", pa_status=PaStatus.ABSENT))
    head = ClientFactory(firm=firm_a, code="E10", siret=make_siret("77712345", "0001"))
    branch = ClientFactory(firm=firm_a, code="E11", siret=make_siret("77712345", "0002"))
    clients += [head, branch]
    ClientFactory(firm=firm_a, code="E12", siret=make_siret("41234567", "0001")[:13] + "0")
    registers.seed(
        *clients,
        **{code: {"annuaire": scenario} for code, scenario in SCENARIOS.items()},
        E10={"annuaire": "siren_level"},
        E11={"annuaire": "siren_level"},
    )
    return clients


def _results(firm) -> dict:
    return {
        check.client.code: (check.status, check.findings, check.values, check.reason, check.source)
        for check in RegisterCheck.objects.for_firm(firm)
        .filter(register=Register.ANNUAIRE)
        .select_related("client")
    }


def _run(firm, settings, export_from: int) -> CheckRun:
    settings.ANNUAIRE_EXPORT_FROM = export_from
    return check_clients(firm=firm, registers=(Register.ANNUAIRE,))


def test_the_export_route_gives_the_per_siren_results(registers, portfolio, firm_a, settings):
    searched = _run(firm_a, settings, export_from=0)
    assert searched.directory_export == ExportState.NONE
    by_search = _results(firm_a)
    calls = registers.state("annuaire")["calls_by_query"]
    assert "export" not in calls and len(calls) == 10  # one search per valid SIREN
    statuses = {code: result[0] for code, result in by_search.items()}
    assert set(statuses.values()) >= {CheckStatus.UP_TO_DATE, CheckStatus.DRIFT}
    assert statuses["E12"] == CheckStatus.UNVERIFIED

    RegisterCheck.objects.for_firm(firm_a).delete()
    registers.sandbox.call("POST", "/_sandbox/registers/reset", {})
    exported = _run(firm_a, settings, export_from=len(by_search))
    assert exported.directory_export == ExportState.LOADED
    assert _results(firm_a) == by_search
    assert registers.state("annuaire")["calls_by_query"] == {"export": 1}
    assert not ExportedLines.objects.exists()  # gone with the run

    # A check by the export after one by searches sees no change in any line.
    _run(firm_a, settings, export_from=0)
    _run(firm_a, settings, export_from=1)
    assert not any(f["code"] == "line_changed" for r in _results(firm_a).values() for f in r[1])


def test_a_small_run_keeps_searching(registers, portfolio, firm_a, settings):
    run = _run(firm_a, settings, export_from=len(portfolio) + 2)
    assert run.directory_export == ExportState.NONE
    assert "export" not in registers.state("annuaire")["calls_by_query"]


@pytest.mark.parametrize("mode", ["500", "malformed", "timeout"])
def test_a_failed_export_falls_back_to_the_searches(registers, portfolio, firm_a, settings, mode):
    _run(firm_a, settings, export_from=0)
    by_search = _results(firm_a)
    RegisterCheck.objects.for_firm(firm_a).delete()
    registers.sandbox.call("POST", "/_sandbox/registers/reset", {})
    settings.ANNUAIRE_TIMEOUT = 1
    registers.fault("annuaire", mode, count=2)  # the export and its one retry
    run = _run(firm_a, settings, export_from=1)
    assert run.directory_export == ExportState.FAILED and run.state == "terminee"
    assert _results(firm_a) == by_search
    calls = registers.state("annuaire")["calls_by_query"]
    assert calls.pop("export") == 2 and len(calls) == 10
    assert not ExportedLines.objects.exists()


def test_a_download_abandoned_by_a_dead_worker_is_taken_over(
    registers, portfolio, firm_a, settings
):
    settings.ANNUAIRE_EXPORT_FROM = 1
    run = _prepared(check_run_create(firm=firm_a, registers=(Register.ANNUAIRE,)))
    assert run.directory_export == ExportState.WANTED
    long_ago = timezone.now() - timedelta(seconds=settings.REGISTRY_LEASE_SECONDS + 1)
    CheckRun.objects.filter(pk=run.pk).update(
        directory_export=ExportState.LOADING, export_claimed_at=long_ago
    )
    run = check_run_execute(run_id=run.pk)
    assert run.directory_export == ExportState.LOADED
    assert registers.state("annuaire")["calls_by_query"] == {"export": 1}
    assert RegisterCheck.objects.for_firm(firm_a).filter(register=Register.ANNUAIRE).count() == 12


def test_held_lines_are_read_without_downloading_again(registers, portfolio, firm_a, settings):
    """A worker taking over a run whose export is held reads it: no second download."""
    settings.ANNUAIRE_EXPORT_FROM = 0
    run = _prepared(check_run_create(firm=firm_a, registers=(Register.ANNUAIRE,)))
    # As a first worker left it: the export's lines held (here, what the searches say).
    head = next(c for c in portfolio if c.code == "E10")
    CheckRun.objects.filter(pk=run.pk).update(directory_export=ExportState.LOADED)
    ExportedLines.objects.bulk_create(
        ExportedLines(firm=firm_a, run=run, siren=c.siren, lines=[])
        for c in portfolio
        if c.siren != head.siren
    )
    run = check_run_execute(run_id=run.pk)
    calls = registers.state("annuaire")["calls_by_query"]
    assert calls == {head.siren: 1}  # the SIREN nobody held is searched, once
    statuses = dict(
        RegisterCheck.objects.for_firm(firm_a)
        .filter(register=Register.ANNUAIRE)
        .values_list("client__code", "values__lines")
    )
    assert statuses["E01"] == 0 and statuses["E10"] == 1  # the held lines were used


def test_a_firms_connection_downloads_the_export_with_its_token(
    registers, portfolio, firm_a, settings
):
    _connect(firm_a, registers.sandbox)
    settings.ANNUAIRE_API_KEY = "plus-valable"
    _run(firm_a, settings, export_from=1)
    state = registers.state("annuaire")
    assert state["calls_by_query"] == {"export": 1}
    assert state["calls_by_client"] == {CLIENT_ID: 1}
    assert (
        not RegisterCheck.objects.for_firm(firm_a)
        .filter(register=Register.ANNUAIRE, status=CheckStatus.UNVERIFIED)
        .exclude(client__code="E12")
        .exists()
    )
