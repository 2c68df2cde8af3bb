"""« Compléter depuis le registre » on an import's preview, against the sandbox company
register: the rows with a valid SIRET and empty fields looked up (invalid SIRETs never
sent), the register's values beside the file's, accepted row by row or all at once, the
import taking the accepted values; the worker's durable state; tenancy."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import ClientFactory
from tests.registries import point_at_sandbox
from vigie.clients.models import Client, ClientEvent
from vigie.imports import registry
from vigie.imports.models import (
    FillStatus,
    ImportJob,
    RegistryFill,
    RegistryRow,
    RowState,
    Status,
)
from vigie.imports.services import import_run
from vigie.lib.validators import make_siret
from vigie.registries.naf import naf_label
from vigie.registries.sirene import SireneClient

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
HEADER = ["Code client", "Raison sociale", "Forme juridique", "SIRET", "Code APE"]
FLEURS = make_siret("52345678", "0001")  # in the register, every field empty in the file
GARAGE = make_siret("52345679", "0001")  # in the register, only the address missing
UNKNOWN = make_siret("81234567", "0001")  # valid, unknown to the register
INVALID = "845 236 561 00014"  # wrong check digit
COMPLETE = make_siret("52345670", "0001")
ROWS = [
    ["F1", "", "", FLEURS, ""],
    ["G1", "Garage du Port", "SARL", GARAGE, "45.20A"],
    ["X1", "Chez Xavier", "SAS", INVALID, ""],
    ["U1", "Inconnue", "", UNKNOWN, "62.01Z"],
    ["N1", "Sans SIRET", "", "", ""],
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def registers(sandbox, settings):
    registers = point_at_sandbox(sandbox, settings)
    registers.seed(
        Client(code="F1", name="Fleurs du Marché", siret=FLEURS, legal_form="SAS", ape_code="47.76Z"),
        Client(code="G1", name="Garage du Port", siret=GARAGE, legal_form="SARL", ape_code="45.20A"),
    )  # fmt: skip
    return registers


def _csv(rows, header=HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _uploaded(web, rows=ROWS, header=HEADER) -> ImportJob:
    response = web.post(
        "/imports/", {"file": SimpleUploadedFile("clients.csv", _csv(rows, header))}
    )
    assert response.status_code == 302, response.content
    return ImportJob.objects.get(public_id=response["Location"].split("/")[-2])


def _mapping(job) -> dict[str, str]:
    return {field: str(column) for field, column in job.mapping.items()}


def _url(name, job) -> str:
    return reverse(name, args=[job.public_id])


def _filled(web, job, django_capture_on_commit_callbacks) -> RegistryFill:
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(_url("import_registry_fill", job), _mapping(job))
    assert response.status_code == 302
    assert response["Location"] == _url("import_detail", job) + "#registre"
    fill = RegistryFill.objects.get(job=job)
    registry.fill_run(fill_id=fill.pk)
    fill.refresh_from_db()
    return fill


def _line(job, code) -> int:
    return RegistryRow.objects.get(fill__job=job, code=code).line


# --- The preview and the fill ---------------------------------------------------------------


def test_the_preview_offers_the_fill_and_says_its_cap(alice_client):
    job = _uploaded(alice_client)
    html = alice_client.get(_url("import_detail", job)).content.decode()
    assert "Compléter depuis le registre" in html
    assert f'formaction="{_url("import_registry_fill", job)}"' in html
    assert 'form="import-mapping"' in html and 'id="import-mapping"' in html
    assert "Les 200 premières lignes du fichier" in html
    # « Lancer l'import » stays the form's last button.
    assert html.rindex("Lancer l'import") > html.rindex("Compléter depuis le registre")


def test_fill_looks_up_the_valid_sirets_and_shows_both_values(
    registers, alice_client, django_capture_on_commit_callbacks
):
    job = _uploaded(alice_client)
    fill = _filled(alice_client, job, django_capture_on_commit_callbacks)
    assert fill.status == FillStatus.DONE
    assert (fill.rows_read, fill.invalid_sirets) == (5, 1)
    # Each valid SIRET with something to fill asked once; the invalid one never.
    calls = registers.state("sirene")["calls_by_query"]
    assert calls == {FLEURS: 1, GARAGE: 1, UNKNOWN: 1}

    rows = {row.code: row for row in RegistryRow.objects.filter(fill=fill)}
    assert set(rows) == {"F1", "G1", "U1"}
    head = SireneClient().company(FLEURS).head_office
    assert rows["F1"].state == RowState.FOUND
    assert rows["F1"].values == {
        "name": "FLEURS DU MARCHÉ",
        "legal_form": "SAS",
        "ape_code": "47.76Z",
        "activity": naf_label("47.76Z"),
        "address": head.street,
        "postal_code": head.postal_code,
        "city": head.city,
    }  # fmt: skip
    # The file gives G1's name, form and APE: only its address is proposed.
    assert set(rows["G1"].values) == {"address", "postal_code", "city"}
    assert rows["U1"].state == RowState.UNKNOWN and rows["U1"].values == {}

    html = alice_client.get(_url("import_detail", job)).content.decode()
    assert 'data-testid="registry-proposals"' in html
    assert "FLEURS DU MARCHÉ" in html and head.street in html and "47.76Z" in html
    assert '<span class="muted">vide</span>' in html  # the file's side
    assert "3 lignes à compléter parmi les 5 premières ; 1 SIRET invalide" in html
    assert "Ligne 5 (U1" in html and "inconnu du registre" in html
    assert "Aucune ligne acceptée" in html


def test_the_fill_runs_on_the_registers_queue(
    registers, alice_client, django_capture_on_commit_callbacks
):
    job = _uploaded(alice_client)
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(_url("import_registry_fill", job), _mapping(job))
    task = DBTaskResult.objects.get(task_path="vigie.imports.tasks.registry_fill")
    assert task.queue_name == "registers"
    assert task.args_kwargs["args"] == [RegistryFill.objects.get(job=job).pk]


def test_the_progress_polls_until_done(registers, alice_client, django_capture_on_commit_callbacks):
    job = _uploaded(alice_client)
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(_url("import_registry_fill", job), _mapping(job))
    fill = RegistryFill.objects.get(job=job)
    registry.fill_run(fill_id=fill.pk, max_calls=1)  # the worker has answered one SIRET
    html = alice_client.get(_url("import_registry_progress", job), **HTMX).content.decode()
    assert 'hx-trigger="every 1s"' in html and "Recherche au registre…" in html
    assert "1 / 3 lignes" in html and "<html" not in html
    registry.fill_run(fill_id=fill.pk)
    html = alice_client.get(_url("import_registry_progress", job), **HTMX).content.decode()
    assert "every 1s" not in html and 'data-testid="registry-proposals"' in html
    # Without JavaScript, the same address takes back to the page's section.
    response = alice_client.get(_url("import_registry_progress", job))
    assert response["Location"] == _url("import_detail", job) + "#registre"


def test_the_import_takes_the_accepted_values_only(
    registers, alice_client, firm_a, django_capture_on_commit_callbacks
):
    job = _uploaded(alice_client)
    _filled(alice_client, job, django_capture_on_commit_callbacks)
    response = alice_client.post(
        _url("import_registry_accept", job), {"lignes": [_line(job, "F1")]}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "1 ligne acceptée" in html
    assert f'id="registre-ligne-{_line(job, "F1")}" checked' in html

    alice_client.post(_url("import_start", job), _mapping(job))
    job = import_run(job_id=job.pk)
    assert (job.created_count, job.rejected_count) == (4, 1)  # X1's SIRET is refused
    head = SireneClient().company(FLEURS).head_office
    fleurs = Client.objects.get(firm=firm_a, code="F1")
    assert (fleurs.name, fleurs.legal_form, fleurs.ape_code) == (
        "FLEURS DU MARCHÉ",
        "SAS",
        "47.76Z",
    )
    assert (fleurs.address, fleurs.postal_code, fleurs.city) == (
        head.street,
        head.postal_code,
        head.city,
    )
    garage = Client.objects.get(firm=firm_a, code="G1")  # not accepted: as the file says
    assert (garage.name, garage.address, garage.postal_code) == ("Garage du Port", "", "")
    assert ClientEvent.objects.filter(client=fleurs, kind="client.created").exists()


def test_tout_accepter_and_untick(registers, alice_client, django_capture_on_commit_callbacks):
    job = _uploaded(alice_client)
    _filled(alice_client, job, django_capture_on_commit_callbacks)
    html = alice_client.post(_url("import_registry_accept", job), {"tout": "1"}, **HTMX)
    assert "2 lignes acceptées" in html.content.decode()
    accepted = RegistryRow.objects.filter(fill__job=job, accepted=True)
    assert set(accepted.values_list("code", flat=True)) == {"F1", "G1"}
    # Unticking one (the form posts the ticked ones).
    alice_client.post(_url("import_registry_accept", job), {"lignes": [_line(job, "G1")]}, **HTMX)
    assert set(accepted.values_list("code", flat=True)) == {"G1"}
    # A row without register values cannot be accepted; junk is ignored.
    alice_client.post(
        _url("import_registry_accept", job), {"lignes": [_line(job, "U1"), "x", "²"]}, **HTMX
    )
    assert not accepted.exists()
    # Without JavaScript: back to the page.
    response = alice_client.post(_url("import_registry_accept", job), {"tout": "1"})
    assert response["Location"] == _url("import_detail", job) + "#registre"


def test_a_tick_answers_with_the_count_alone(
    registers, alice_client, django_capture_on_commit_callbacks
):
    job = _uploaded(alice_client)
    _filled(alice_client, job, django_capture_on_commit_callbacks)
    html = alice_client.get(_url("import_detail", job)).content.decode()
    assert 'hx-vals=\'{"partie": "compte"}\' hx-target="#registry-accepted"' in html
    response = alice_client.post(
        _url("import_registry_accept", job),
        {"lignes": [_line(job, "G1")], "partie": "compte"},
        **HTMX,
    )
    html = response.content.decode()
    assert html.startswith('<p role="status" id="registry-accepted"')
    assert "1 ligne acceptée" in html and "registry-proposals" not in html
    alice_client.post(_url("import_start", job), _mapping(job))
    response = alice_client.post(
        _url("import_registry_accept", job), {"lignes": [], "partie": "compte"}, **HTMX
    )
    assert "L&#x27;import est lancé" in response.content.decode()
    assert RegistryRow.objects.get(fill__job=job, code="G1").accepted


def test_no_choice_changes_once_the_import_has_started(
    registers, alice_client, django_capture_on_commit_callbacks
):
    job = _uploaded(alice_client)
    _filled(alice_client, job, django_capture_on_commit_callbacks)
    alice_client.post(_url("import_start", job), _mapping(job))
    response = alice_client.post(_url("import_registry_accept", job), {"tout": "1"}, **HTMX)
    assert registry.NOT_A_DRAFT.replace("'", "&#x27;") in response.content.decode()
    assert not RegistryRow.objects.filter(fill__job=job, accepted=True).exists()
    response = alice_client.post(_url("import_registry_fill", job), _mapping(job))
    assert response["Location"] == _url("import_detail", job)  # no new fill either
    assert RegistryFill.objects.filter(job=job).count() == 1


def test_a_fill_needs_the_siret_column(registers, alice_client):
    job = _uploaded(alice_client)
    mapping = _mapping(job)
    del mapping["siret"]
    response = alice_client.post(_url("import_registry_fill", job), mapping)
    assert response.status_code == 422
    assert "Choisissez d&#x27;abord la colonne « Siret »" in response.content.decode()
    assert not RegistryFill.objects.exists()


def test_a_fill_with_bad_columns_says_so(registers, alice_client):
    job = _uploaded(alice_client)
    response = alice_client.post(_url("import_registry_fill", job), {**_mapping(job), "name": ""})
    assert response.status_code == 422
    assert "Choisissez la colonne « Raison sociale »" in response.content.decode()
    assert not RegistryFill.objects.exists()


def test_a_new_fill_replaces_the_previous_one(
    registers, alice_client, django_capture_on_commit_callbacks
):
    job = _uploaded(alice_client)
    first = _filled(alice_client, job, django_capture_on_commit_callbacks)
    alice_client.post(_url("import_registry_accept", job), {"tout": "1"}, **HTMX)
    second = _filled(alice_client, job, django_capture_on_commit_callbacks)
    assert first.pk != second.pk and not RegistryFill.objects.filter(pk=first.pk).exists()
    assert not RegistryRow.objects.filter(accepted=True).exists()


def test_an_existing_client_keeps_what_the_file_does_not_touch(
    registers, alice_client, firm_a, django_capture_on_commit_callbacks
):
    # G1 exists with an address, and the file has no address column: nothing to propose.
    ClientFactory(
        firm=firm_a, code="G1", address="1 rue Haute", postal_code="33000", city="Bordeaux"
    )
    job = _uploaded(alice_client)
    _filled(alice_client, job, django_capture_on_commit_callbacks)
    assert not RegistryRow.objects.filter(fill__job=job, code="G1").exists()
    assert registers.state("sirene")["calls_by_query"].get(GARAGE) is None


def test_only_the_first_rows_are_looked_up(
    registers, alice_client, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(registry, "FILL_MAX_ROWS", 2)
    job = _uploaded(alice_client)
    fill = _filled(alice_client, job, django_capture_on_commit_callbacks)
    assert fill.rows_read == 2
    assert set(RegistryRow.objects.values_list("code", flat=True)) == {"F1", "G1"}
    html = alice_client.get(_url("import_detail", job)).content.decode()
    assert "parmi les 2 premières" in html


def test_a_register_down_says_so_and_leaves_the_rows(
    registers, alice_client, django_capture_on_commit_callbacks
):
    registers.fault("sirene", "500", count=20)
    job = _uploaded(alice_client)
    fill = _filled(alice_client, job, django_capture_on_commit_callbacks)
    assert fill.status == FillStatus.DONE
    rows = RegistryRow.objects.filter(fill=fill)
    assert {row.state for row in rows} == {RowState.UNAVAILABLE}
    assert all("HTTP 500" in row.note for row in rows)
    html = alice_client.get(_url("import_detail", job)).content.decode()
    assert "Le registre n&#x27;a pas répondu" in html


def test_with_insee_s_api_sirene_one_call_looks_up_the_rows(
    registers, sandbox, settings, alice_client, django_capture_on_commit_callbacks
):
    settings.SIRENE_SOURCE = "insee"
    settings.INSEE_API_URL = sandbox.url + "/api-sirene/3.11"
    settings.INSEE_API_KEY = "sandbox-insee-key"
    settings.INSEE_RATE_PER_MINUTE = 6000
    sandbox.call("POST", "/_sandbox/insee/config", {"per_minute": 0, "fault": "none"})
    job = _uploaded(alice_client)
    fill = _filled(alice_client, job, django_capture_on_commit_callbacks)
    assert fill.status == FillStatus.DONE
    assert sandbox.call("GET", "/_sandbox/insee/state")["calls"] == 1  # F1, G1 and U1 at once
    rows = {row.code: row for row in RegistryRow.objects.filter(fill=fill)}
    assert rows["F1"].values["name"] == "FLEURS DU MARCHÉ"
    assert set(rows["G1"].values) == {"address", "postal_code", "city"}
    assert rows["U1"].state == RowState.UNKNOWN
    # Chosen without its key: the fill says so instead of waiting for ever.
    settings.INSEE_API_KEY = ""
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(_url("import_registry_fill", job), _mapping(job))
    fill = RegistryFill.objects.get(job=job)
    with pytest.raises(ImproperlyConfigured):  # the task's record says why, for the admin
        registry.fill_run(fill_id=fill.pk)
    fill.refresh_from_db()
    assert fill.status == FillStatus.FAILED
    html = alice_client.get(_url("import_detail", job)).content.decode()
    assert "pas configuré" in html


# --- Durable state -------------------------------------------------------------------------------


def test_a_stopped_worker_is_resumed_without_asking_twice(
    registers, alice_client, django_capture_on_commit_callbacks
):
    job = _uploaded(alice_client)
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(_url("import_registry_fill", job), _mapping(job))
    fill = RegistryFill.objects.get(job=job)
    registry.fill_run(fill_id=fill.pk, max_calls=1)
    # A worker died holding the next SIRET: its lease keeps the others off it until over.
    held = RegistryRow.objects.filter(fill=fill, state=RowState.PENDING).order_by("line").first()
    RegistryRow.objects.filter(pk=held.pk).update(lease_until=timezone.now() + timedelta(minutes=5))
    registry.fill_run(fill_id=fill.pk)
    held.refresh_from_db()
    fill.refresh_from_db()
    assert held.state == RowState.PENDING and fill.status == FillStatus.RUNNING
    # Quiet for a while, but the lease still runs: the worker may only be slow.
    RegistryFill.objects.filter(pk=fill.pk).update(
        updated_at=timezone.now() - registry.STALLED_AFTER * 2
    )
    assert (
        "Reprendre la recherche"
        not in alice_client.get(_url("import_detail", job)).content.decode()
    )
    # Its lease over, the page offers « Reprendre », which finishes the fill.
    RegistryRow.objects.filter(pk=held.pk).update(lease_until=timezone.now())
    html = alice_client.get(_url("import_detail", job)).content.decode()
    assert "Reprendre la recherche" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(_url("import_resume", job))
    assert response["Location"] == _url("import_detail", job) + "#registre"
    registry.fill_run(fill_id=fill.pk)
    fill.refresh_from_db()
    assert fill.status == FillStatus.DONE
    assert not RegistryRow.objects.filter(fill=fill, state=RowState.PENDING).exists()
    calls = registers.state("sirene")["calls_by_query"]
    assert calls == {FLEURS: 1, GARAGE: 1, UNKNOWN: 1}


def test_the_fill_stops_asking_once_the_import_has_started(
    registers, alice_client, django_capture_on_commit_callbacks
):
    job = _uploaded(alice_client)
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(_url("import_registry_fill", job), _mapping(job))
    fill = RegistryFill.objects.get(job=job)
    registry.fill_run(fill_id=fill.pk, max_calls=1)
    ImportJob.objects.filter(pk=job.pk).update(status=Status.QUEUED)
    registry.fill_run(fill_id=fill.pk)
    fill.refresh_from_db()
    assert fill.status == FillStatus.DONE
    assert sum(registers.state("sirene")["calls_by_query"].values()) == 1


def test_calls_keep_to_the_register_rate(
    registers, alice_client, settings, django_capture_on_commit_callbacks
):
    settings.SIRENE_RATE = 10
    registers.rate("sirene", 10)  # the register refuses an 11th call within a second
    rows = [[f"R{i}", f"Client {i}", "", make_siret(f"6{i:07d}", "0001"), ""] for i in range(25)]
    job = _uploaded(alice_client, rows)
    fill = _filled(alice_client, job, django_capture_on_commit_callbacks)
    state = registers.state("sirene")
    assert state["calls"] == 25 and state["rejected"] == 0
    assert state["max_per_second"] <= 10
    assert fill.status == FillStatus.DONE


def test_complete_only_fills_empty_fields_of_the_same_siret():
    values = {"name": "FLEURS", "address": "1 RUE X", "legal_form": "SAS"}
    data = {"code": "F1", "name": "", "siret": FLEURS, "legal_form": "Aucune"}
    assert registry.complete(data, FLEURS, values) == {
        "code": "F1",
        "name": "FLEURS",
        "siret": FLEURS,
        "legal_form": "SAS",
        "address": "1 RUE X",
    }
    assert registry.complete({**data, "name": "Mes Fleurs"}, FLEURS, values)["name"] == "Mes Fleurs"
    # The SIRET column changed since the fill: the row is left as it is.
    assert registry.complete({**data, "siret": GARAGE}, FLEURS, values) == {**data, "siret": GARAGE}
    assert registry.complete({**data, "siret": "bad"}, FLEURS, values) == {**data, "siret": "bad"}


# --- Tenancy and methods -----------------------------------------------------------------------


ROUTES = [
    ("post", "import_registry_fill"),
    ("get", "import_registry_progress"),
    ("post", "import_registry_accept"),
    ("get", "import_detail"),
]


@pytest.fixture
def filled_job(registers, alice_client, django_capture_on_commit_callbacks) -> ImportJob:
    job = _uploaded(alice_client)
    _filled(alice_client, job, django_capture_on_commit_callbacks)
    return job


@pytest.mark.parametrize(("method", "name"), ROUTES)
def test_bob_and_charlie_never_see_the_preview_or_its_register_values(
    method, name, filled_job, bob_client, charlie_client
):
    for web in (bob_client, charlie_client):  # a collaborator of firm A, firm B's admin
        for headers in ({}, HTMX):
            data = {"tout": "1", **_mapping(filled_job)} if method == "post" else None
            response = getattr(web, method)(_url(name, filled_job), data, **headers)
            assert response.status_code == 404, (name, headers)
            assert b"FLEURS" not in response.content
    assert not RegistryRow.objects.filter(accepted=True).exists()
    assert RegistryFill.objects.count() == 1


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "import_registry_fill"),
        ("post", "import_registry_progress"),
        ("get", "import_registry_accept"),
    ],
)
def test_the_wrong_method_is_405(method, name, filled_job, alice_client):
    assert getattr(alice_client, method)(_url(name, filled_job)).status_code == 405


def test_an_unknown_job_is_404(alice_client):
    job = ImportJob(public_id="00000000-0000-4000-8000-000000000000")
    for method, name in ROUTES:
        assert getattr(alice_client, method)(_url(name, job)).status_code == 404


def test_signed_out_goes_to_sign_in(django_client_factory, filled_job):
    for method, name in ROUTES:
        response = getattr(django_client_factory(), method)(_url(name, filled_job))
        assert response.status_code == 302 and "/compte/login/" in response["Location"]
