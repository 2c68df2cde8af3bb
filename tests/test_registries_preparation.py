"""A run of many clients is created « en préparation » (one row, in the request) and the
worker writes its items in chunks (vigie.registries.preparation): exactly the items the
former in-request code wrote (same clients, same skip rule), none twice when a worker
dies half-way or two prepare at once, a stalled preparation requeued by the sweep, the
nightly start reduced to the run's row, and the pages saying « en préparation »."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import ClientFactory
from vigie.clients.models import Client
from vigie.registries import preparation
from vigie.registries.models import (
    CheckItem,
    CheckRun,
    CheckStatus,
    ExportState,
    Register,
    RegisterCheck,
    RunState,
)
from vigie.registries.nightly import nightly_checks_start
from vigie.registries.services import check_clients_queue, check_run_create, registers_sweep

SIRENE, ANNUAIRE = Register.SIRENE, Register.ANNUAIRE
BOTH = (SIRENE, ANNUAIRE)


# --- The reference: what check_run_create wrote in the request before -------------------


def _old_fingerprint(client: Client, register: str) -> str:
    fields = [client.siret, client.name, client.legal_form, client.ape_code]
    if register == ANNUAIRE:
        fields = [client.siret, client.pa_status, client.pa_name]
    return hashlib.sha256("\x1f".join([register, *fields]).encode()).hexdigest()


def _reference(firm, client_ids=None, registers=BOTH, skip_unchanged_days=None):
    """The former code's items (client id, register, siren) and skipped count."""
    clients = Client.objects.for_firm(firm).active()
    if client_ids is not None:
        clients = clients.filter(pk__in=client_ids)
    recent = {}
    if skip_unchanged_days is not None:
        since = timezone.now() - timedelta(days=skip_unchanged_days)
        recent = {
            (c.client_id, c.register): c.fingerprint
            for c in RegisterCheck.objects.for_firm(firm)
            .filter(checked_at__gte=since, register__in=registers)
            .exclude(status=CheckStatus.UNVERIFIED)
        }
    items, skipped = set(), 0
    for client in clients:
        for register in registers:
            if recent.get((client.pk, register)) == _old_fingerprint(client, register):
                skipped += 1
                continue
            items.add((client.pk, register, client.siret[:9]))
    return items, skipped


def _items(run) -> list[tuple]:
    return list(CheckItem.objects.filter(run=run).values_list("client_id", "register", "siren"))


def _check(client, register, *, days_ago=1, status=CheckStatus.UP_TO_DATE, same=True):
    at = timezone.now() - timedelta(days=days_ago)
    RegisterCheck.objects.create(
        firm_id=client.firm_id,
        client=client,
        register=register,
        status=status,
        checked_at=at,
        attempted_at=at,
        fingerprint=_old_fingerprint(client, register) if same else "autre",
    )


@pytest.fixture
def portfolio(firm_a, firm_b):
    """Firm A's 13 active clients, with every case of the skip rule; an archived client,
    and firm B's clients, never in firm A's run."""
    clients = ClientFactory.create_batch(13, firm=firm_a)
    _check(clients[0], SIRENE)  # recent, unchanged: skipped
    _check(clients[0], ANNUAIRE)
    _check(clients[1], SIRENE, same=False)  # changed since
    _check(clients[2], SIRENE, days_ago=30)  # too old
    _check(clients[3], ANNUAIRE, status=CheckStatus.UNVERIFIED)  # not verified: asked again
    _check(clients[4], ANNUAIRE)  # recent, unchanged: skipped
    ClientFactory(firm=firm_a, archived_at=timezone.now())
    ClientFactory.create_batch(2, firm=firm_b)
    return clients


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(preparation, "CHUNK", 4)


# --- Created in the request: one row ----------------------------------------------------


@pytest.mark.django_db
def test_a_whole_portfolio_run_is_one_row_in_preparation(
    firm_a, portfolio, django_capture_on_commit_callbacks
):
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=False) as queued:
            run = check_clients_queue(firm=firm_a)
    assert len(queued) == 1  # the worker prepares, then checks
    assert (run.state, run.total, run.clients, run.prepared) == (RunState.PREPARING, 0, 13, 0)
    assert run.client_ids is None and run.registers == list(BOTH)
    assert not CheckItem.objects.exists()
    # The firm's count row, never its clients.
    assert not any('"clients_client"' in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db
def test_a_small_selection_is_prepared_at_once(firm_a, portfolio):
    run = check_run_create(firm=firm_a, client_ids=[c.pk for c in portfolio[:3]])
    assert run.state == RunState.RUNNING and run.total == 6
    assert run.prepare_claimed_at is None
    assert len(_items(run)) == 6


@pytest.mark.django_db
def test_a_large_selection_is_prepared_by_the_worker(firm_a, firm_b, portfolio, monkeypatch):
    monkeypatch.setattr(preparation, "INLINE_UP_TO", 3)
    archived = Client.objects.for_firm(firm_a).exclude(archived_at=None).get()
    foreign = Client.objects.for_firm(firm_b).first()
    ids = [c.pk for c in portfolio[5:10]] + [archived.pk, foreign.pk]
    run = check_run_create(firm=firm_a, client_ids=ids)
    assert (run.state, run.clients, run.total) == (RunState.PREPARING, 7, 0)
    preparation.run_prepare(run)
    assert run.state == RunState.RUNNING
    expected, skipped = _reference(firm_a, client_ids=ids)
    assert set(_items(run)) == expected and run.total == len(expected) == 10
    assert run.skipped == skipped == 0


# --- The worker's preparation -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("days", [None, 7])
@pytest.mark.parametrize("registers", [BOTH, (ANNUAIRE,)])
def test_it_writes_the_items_the_request_wrote(firm_a, portfolio, small_chunks, days, registers):
    expected, skipped = _reference(firm_a, registers=registers, skip_unchanged_days=days)
    run = check_run_create(firm=firm_a, registers=registers, skip_unchanged_days=days)
    preparation.run_prepare(run)
    items = _items(run)
    assert len(items) == len(set(items)) and set(items) == expected
    assert (run.total, run.skipped) == (len(expected), skipped)
    assert run.prepared == 13 and run.state == RunState.RUNNING
    if days is not None:
        assert skipped == (3 if registers == BOTH else 2)


@pytest.mark.django_db
def test_it_decides_the_directory_export_as_before(firm_a, portfolio, settings):
    settings.ANNUAIRE_EXPORT_FROM = 13
    run = check_run_create(firm=firm_a)
    preparation.run_prepare(run)
    assert run.directory_export == ExportState.WANTED
    settings.ANNUAIRE_EXPORT_FROM = 12
    run = check_run_create(firm=firm_a, skip_unchanged_days=7)  # 11 directory items
    preparation.run_prepare(run)
    assert run.directory_export == ExportState.NONE


@pytest.mark.django_db
def test_a_preparation_killed_half_way_ends_with_each_item_once(firm_a, portfolio, small_chunks):
    expected, skipped = _reference(firm_a, skip_unchanged_days=7)
    run = check_run_create(firm=firm_a, skip_unchanged_days=7)
    # A first worker wrote one chunk (its transaction committed), then died.
    assert preparation.run_prepare_chunk(run) is True
    run.refresh_from_db()
    assert run.state == RunState.PREPARING and run.prepared == 4
    first = portfolio[3].pk
    assert run.prepared_through == first
    assert {pk for pk, _, _ in _items(run)} == {c.pk for c in portfolio[1:4]}
    # The next worker goes on from there.
    preparation.run_prepare(run)
    items = _items(run)
    assert len(items) == len(set(items)) and set(items) == expected
    assert (run.total, run.skipped, run.prepared) == (len(expected), skipped, 13)
    # A task run again on a prepared run writes nothing.
    preparation.run_prepare(run)
    assert CheckItem.objects.filter(run=run).count() == run.total == len(expected)


@pytest.mark.django_db(transaction=True)
def test_two_workers_preparing_at_once_take_turns(firm_a, portfolio, small_chunks):
    run = check_run_create(firm=firm_a)
    barrier, errors = threading.Barrier(2), []

    def worker():
        try:
            barrier.wait(timeout=10)
            preparation.run_prepare(CheckRun.objects.get(pk=run.pk))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    run.refresh_from_db()
    assert run.state == RunState.RUNNING and run.prepared == 13
    assert CheckItem.objects.filter(run=run).count() == run.total == 26


# --- The sweep and the nightly start ------------------------------------------------------


def _queued(run) -> int:
    return DBTaskResult.objects.filter(args_kwargs__args=[run.pk]).count()


@pytest.mark.django_db
def test_the_sweep_requeues_a_stalled_preparation(firm_a, portfolio, settings, small_chunks):
    run = check_run_create(firm=firm_a)
    preparation.run_prepare_chunk(run)
    assert registers_sweep() == 0  # its worker's heartbeat is fresh
    stalled = timezone.now() - timedelta(seconds=settings.REGISTRY_LEASE_SECONDS + 1)
    CheckRun.objects.filter(pk=run.pk).update(prepare_claimed_at=stalled)
    assert registers_sweep() == 1 and _queued(run) == 1
    assert registers_sweep() == 0  # moved forward: a second sweep queues nothing
    CheckRun.objects.filter(pk=run.pk).update(prepare_claimed_at=stalled)
    call_command("sweep")
    assert _queued(run) == 2
    preparation.run_prepare(run)
    assert run.total == 26 and CheckItem.objects.filter(run=run).count() == 26


@pytest.mark.django_db
def test_the_nightly_start_only_creates_the_runs(firm_a, firm_b, portfolio, settings):
    settings.REGISTRY_NIGHTLY_HOUR = 0
    with CaptureQueriesContext(connection) as queries:
        assert nightly_checks_start() == 2
    assert not any('"clients_client"' in q["sql"] for q in queries.captured_queries)
    assert not any('"registries_checkitem"' in q["sql"] for q in queries.captured_queries)
    runs = CheckRun.objects.order_by("firm_id")
    assert [(r.state, r.clients) for r in runs] == [
        (RunState.PREPARING, 13),
        (RunState.PREPARING, 2),
    ]
    assert all(r.skip_unchanged_days == settings.REGISTRY_NIGHTLY_UNCHANGED_DAYS for r in runs)
    # Last night's run still in preparation: no other tonight.
    assert nightly_checks_start(timezone.now() + timedelta(days=1)) == 0


# --- The pages ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_dashboard_shows_the_preparation(alice_client, firm_a, portfolio, small_chunks):
    run = check_clients_queue(firm=firm_a)
    url = reverse("reform_dashboard") + "?part=registres"
    html = alice_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Vérification en préparation depuis le" in html
    assert "<strong>0</strong> / 13 clients préparés" in html
    assert "0 / 0" not in html and "every 3s" in html and "disabled" in html
    preparation.run_prepare_chunk(run)
    html = alice_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<strong>4</strong> / 13 clients préparés" in html
    preparation.run_prepare(run)
    html = alice_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<strong>0</strong> / 26 contrôles faits" in html


@pytest.mark.django_db
def test_the_client_card_shows_the_preparation(alice_client, firm_a, portfolio, monkeypatch):
    monkeypatch.setattr(preparation, "INLINE_UP_TO", 1)
    checked, never, other = portfolio[0], portfolio[12], portfolio[11]

    def card(client) -> str:
        url = reverse("client_registers", args=[client.code])
        return alice_client.get(url, HTTP_HX_REQUEST="true").content.decode()

    assert "registers-running" not in card(checked) and "registers-running" not in card(never)
    check_run_create(firm=firm_a, client_ids=[checked.pk, never.pk])  # a large selection
    for client in (checked, never):
        html = card(client)
        assert "Vérification en préparation" in html and "every 3s" in html
    assert "registers-running" not in card(other)  # not in the selection
    CheckRun.objects.update(client_ids=None)  # the whole portfolio: every active client
    assert "Vérification en préparation" in card(other)
    Client.objects.filter(pk=other.pk).update(archived_at=timezone.now())
    assert "registers-running" not in card(other)  # an archived client is left out
    # « Vérifier maintenant » waits for it.
    url = reverse("client_registers_check", args=[never.code])
    response = alice_client.post(url, HTTP_HX_REQUEST="true")
    message = json.loads(response["HX-Trigger"])["showMessage"]["text"]
    assert message == "Une vérification est déjà en cours."
    assert CheckRun.objects.count() == 1


@pytest.mark.django_db
def test_charlie_sees_nothing_of_firm_a_s_preparation(charlie_client, firm_a, firm_b, portfolio):
    check_clients_queue(firm=firm_a)
    url = reverse("reform_dashboard") + "?part=registres"
    html = charlie_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "en préparation" not in html and "every 3s" not in html
    client = Client.objects.for_firm(firm_b).first()
    url = reverse("client_registers", args=[client.code])
    html = charlie_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "registers-running" not in html
    # Charlie's own whole-portfolio check is not refused by firm A's run.
    response = charlie_client.post(reverse("reform_registers_check_all"), HTTP_HX_REQUEST="true")
    assert json.loads(response["HX-Trigger"])["showMessage"]["text"] == (
        "Vérification de tout le portefeuille lancée : 2 clients."
    )
