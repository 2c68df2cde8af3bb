"""Importing clients from CSV/XLSX: upload, mapping, batches in the task worker, report."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook

from tests.factories import ClientFactory, MembershipFactory
from vigie.clients.models import Client, ClientAssignment, ClientEvent, Contact
from vigie.imports.models import ImportJob, Status
from vigie.imports.services import import_create, import_run

ROOT = Path(__file__).resolve().parent.parent
HEADER = [
    "Code client",
    "Raison sociale",
    "Forme juridique",
    "SIRET",
    "Code APE",
    "Nom",
    "Prénom",
    "E-mail",
    "Téléphone",
]
ROWS = [
    [
        "C1",
        "Boulangerie Frères Éclair",
        "SARL",
        "732 829 320 00074",
        "1071C",
        "Lefèvre",
        "Amélie",
        "amelie@eclair.fr",
        "07 07 07 07 07",
    ],
    ["C2", "Garage du Marché", "SAS", "", "4520A", "", "", "", ""],
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def csv_bytes(rows, *, delimiter=";", encoding="cp1252", header=HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, name="clients.csv"):
    return client.post("/imports/", {"file": SimpleUploadedFile(name, content)})


@pytest.fixture
def run_through_ui(django_capture_on_commit_callbacks):
    """Upload, accept the guessed mapping, start: the tasks run in-process (immediate)."""

    def run(client, content, name="clients.csv"):
        with django_capture_on_commit_callbacks(execute=True):  # an XLSX is read by a task
            response = upload(client, content, name)
        assert response.status_code == 302, response.content.decode()[:2000]
        job = ImportJob.objects.latest("id")
        form = client.get(response.url).context["form"]
        mapping = {name: form[name].value() or "" for name in form.fields}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/imports/{job.public_id}/lancer/", mapping)
        assert response.status_code == 302
        job.refresh_from_db()
        return job

    return run


class TestUpload:
    def test_it_previews_and_guesses_french_headers(self, alice_client):
        response = upload(alice_client, csv_bytes(ROWS))
        page = alice_client.get(response.url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "Boulangerie Frères Éclair" in html
        job = ImportJob.objects.get()
        assert (job.kind, job.encoding, job.delimiter, job.total) == ("csv", "cp1252", ";", 2)
        assert job.mapping == {
            "code": 0,
            "name": 1,
            "legal_form": 2,
            "siret": 3,
            "ape_code": 4,
            "contact_last_name": 5,
            "contact_first_name": 6,
            "contact_email": 7,
            "contact_phone": 8,
        }

    def test_it_refuses_a_file_that_is_not_a_spreadsheet(self, alice_client):
        png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)
        response = upload(alice_client, png, "clients.csv")
        assert response.status_code == 422
        assert "ni un CSV ni un classeur Excel" in response.content.decode()
        assert not ImportJob.objects.exists()

    def test_it_refuses_a_truncated_xlsx(self, alice_client):
        content = xlsx_bytes(ROWS)
        response = upload(alice_client, content[: len(content) // 2], "clients.xlsx")
        assert response.status_code == 422
        assert "illisible ou incomplet" in response.content.decode()
        assert not ImportJob.objects.exists()

    def test_it_refuses_a_50_mb_file(self, alice_client):
        big = b"Code client;Raison sociale\n" + b"C;X\n" * (50 * 1024 * 1024 // 4)
        response = upload(alice_client, big)
        assert response.status_code == 413
        assert "Ce fichier dépasse 20 Mo" in response.content.decode()
        assert not ImportJob.objects.exists()

    def test_it_refuses_an_empty_file(self, alice_client):
        response = upload(alice_client, b";".join(h.encode("cp1252") for h in HEADER) + b"\n")
        assert response.status_code == 422
        assert "aucune ligne de données" in response.content.decode()

    def test_it_requires_the_code_and_name_columns(self, alice_client):
        upload(alice_client, csv_bytes(ROWS))
        job = ImportJob.objects.get()
        response = alice_client.post(f"/imports/{job.public_id}/lancer/", {"name": "1"})
        assert response.status_code == 422
        assert "Choisissez la colonne « Code client »." in response.content.decode()
        job.refresh_from_db()
        assert job.status == Status.DRAFT

    def test_it_refuses_one_column_for_two_fields(self, alice_client):
        upload(alice_client, csv_bytes(ROWS))
        job = ImportJob.objects.get()
        response = alice_client.post(
            f"/imports/{job.public_id}/lancer/", {"code": "0", "name": "0"}
        )
        assert response.status_code == 422

    def test_it_hides_imports_from_charlie_and_bob(self, alice_client, charlie_client, bob_client):
        upload(alice_client, csv_bytes(ROWS))
        job = ImportJob.objects.get()
        for path in ("", "progression/", "rapport.csv"):
            assert charlie_client.get(f"/imports/{job.public_id}/{path}").status_code == 404
        assert (
            charlie_client.post(
                f"/imports/{job.public_id}/lancer/", {"code": "0", "name": "1"}
            ).status_code
            == 404
        )
        assert charlie_client.post(f"/imports/{job.public_id}/reprendre/").status_code == 404
        assert bob_client.get("/imports/").status_code == 404
        assert not Client.objects.exists()

    def test_it_refuses_wrong_methods(self, alice_client):
        upload(alice_client, csv_bytes(ROWS))
        job = ImportJob.objects.get()
        assert alice_client.get(f"/imports/{job.public_id}/lancer/").status_code == 405
        assert alice_client.post(f"/imports/{job.public_id}/rapport.csv").status_code == 405
        assert alice_client.delete("/imports/").status_code == 405


class TestRun:
    def test_it_imports_a_windows_1252_semicolon_csv(self, alice_client, firm_a, run_through_ui):
        job = run_through_ui(alice_client, csv_bytes(ROWS))
        assert job.status == Status.DONE
        assert (job.created_count, job.rejected_count, job.processed, job.total) == (2, 0, 2, 2)
        client = Client.objects.get(code="C1")
        assert (client.name, client.siret, client.ape_code, client.legal_form) == (
            "Boulangerie Frères Éclair",
            "73282932000074",
            "10.71C",
            "SARL",
        )
        contact = Contact.objects.get(client=client)
        assert (contact.first_name, contact.email, contact.phone, contact.is_principal) == (
            "Amélie",
            "amelie@eclair.fr",
            "+33707070707",
            True,
        )
        assert not Contact.objects.filter(client__code="C2").exists()
        event = ClientEvent.objects.filter(client=client, kind="client.created").get()
        assert (event.summary, event.actor) == ("Import (clients.csv) : client créé", None)
        page = alice_client.get(f"/imports/{job.public_id}/progression/")
        assert 'data-status="termine"' in page.content.decode()
        assert "hx-trigger" not in page.content.decode()

    def test_it_imports_an_xlsx(self, alice_client, run_through_ui):
        rows = [
            [
                "X1",
                "Café Noir",
                "EI",
                73282932000074,
                "5630Z",
                "Noir",
                "Léa",
                "lea@noir.fr",
                707070707,
            ]
        ]
        job = run_through_ui(alice_client, xlsx_bytes(rows), "clients.xlsx")
        assert job.kind == "xlsx"
        assert (job.created_count, job.rejected_count) == (1, 0)
        client = Client.objects.get(code="X1")
        assert client.siret == "73282932000074"
        assert Contact.objects.get(client=client).phone == "+33707070707"

    def test_it_changes_nothing_on_a_second_run(self, alice_client, run_through_ui):
        run_through_ui(alice_client, csv_bytes(ROWS))
        events = ClientEvent.objects.count()
        job = run_through_ui(alice_client, csv_bytes(ROWS))
        assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 2)
        assert ClientEvent.objects.count() == events
        assert Client.objects.count() == 2 and Contact.objects.count() == 1

    def test_it_updates_changed_rows(self, alice_client, run_through_ui):
        run_through_ui(alice_client, csv_bytes(ROWS))
        changed = [ROWS[0], ["C2", "Garage du Marché", "SARL", "", "4520A", "", "", "", ""]]
        job = run_through_ui(alice_client, csv_bytes(changed))
        assert (job.updated_count, job.unchanged_count) == (1, 1)
        assert Client.objects.get(code="C2").legal_form == "SARL"

    def test_it_reads_utf8_with_bom_commas_and_newlines_in_quotes(
        self, alice_client, run_through_ui
    ):
        text = 'Code client,Raison sociale,Activité,Doc. à classer\r\nQ1,"Société ""Les Quais""\nBâtiment B",Négoce,"1 234"\r\n'
        job = run_through_ui(alice_client, "\ufeff".encode() + text.encode())
        assert (job.encoding, job.delimiter, job.created_count) == ("utf-8-sig", ",", 1)
        client = Client.objects.get(code="Q1")
        assert client.name == 'Société "Les Quais" Bâtiment B'
        assert (client.activity, client.docs_to_file) == ("Négoce", 1234)

    def test_it_rejects_bad_rows_with_line_numbers(self, alice_client, run_through_ui):
        rows = [
            ["D1", "Un", "", "73282932000075", "", "", "", "", ""],
            ["D2", "Deux", "", "", "", "Martin", "", "pas-un-email", ""],
            ["D1", "Doublon", "", "", "", "", "", "", ""],
            ["D3", '=HYPERLINK("http://x")', "", "", "", "", "", "", ""],
            ["D4", "Quatre", "XYZ", "", "", "", "", "", ""],
            ["", "Sans code", "", "", "", "", "", "", ""],
            ["D5", "Bon", "", "", "", "", "", "", ""],
        ]
        job = run_through_ui(alice_client, csv_bytes(rows))
        assert (job.created_count, job.rejected_count) == (1, 6)
        errors = {e.line: e.message for e in job.row_errors.all()}
        assert sorted(errors) == [2, 3, 4, 5, 6, 7]
        assert "la clé de contrôle ne correspond pas" in errors[2]
        assert "E-mail (contact) : Saisissez une adresse e-mail valide." in errors[3]
        assert errors[4] == "Code client « D1 » en double dans le fichier (déjà présent ligne 2)."
        assert "Formule non importée dans la colonne « Raison sociale »" in errors[5]
        assert "XYZ" in errors[6]
        assert "Le code client est obligatoire." in errors[7]
        assert list(Client.objects.values_list("code", flat=True)) == ["D5"]
        report = alice_client.get(f"/imports/{job.public_id}/rapport.csv")
        assert report["Content-Type"].startswith("text/csv")
        lines = report.content.decode("utf-8-sig").splitlines()
        assert lines[0] == "Ligne;Code client;Motif du rejet"
        assert lines[1].startswith("2;D1;")
        assert lines[-4:] == ["Créés;1", "Mis à jour;0", "Inchangés;0", "Rejetés;6"]
        page = alice_client.get(f"/imports/{job.public_id}/")
        assert "en double dans le fichier" in page.content.decode()

    def test_it_keeps_xlsx_formulas_as_text_and_rejects_them(self, alice_client, run_through_ui):
        rows = [
            ["F1", "=1+1", "", "", "", "", "", "", ""],
            ["F2", "Bon", "", "", "", "", "", "", ""],
        ]
        job = run_through_ui(alice_client, xlsx_bytes(rows), "f.xlsx")
        assert (job.created_count, job.rejected_count) == (1, 1)
        assert "Formule non importée" in job.row_errors.get().message
        assert not Client.objects.filter(name="2").exists()

    def test_it_resumes_after_a_killed_worker(self, alice, firm_a, tmp_path):
        rows = [[f"K{i}", f"Client {i}", "", "", "", "", "", "", ""] for i in range(25)]
        rows[22][0] = "K3"  # a duplicate after the interruption still sees the first one
        path = tmp_path / "k.csv"
        path.write_bytes(csv_bytes(rows))
        job = import_create(firm=firm_a, actor=None, path=str(path))
        job.status = Status.QUEUED
        job.save()
        job = import_run(job_id=job.pk, batch_size=10, max_batches=2)  # killed after 2 batches
        assert (job.status, job.next_row, job.processed) == (Status.RUNNING, 20, 20)
        job = import_run(job_id=job.pk, batch_size=10)
        assert job.status == Status.DONE
        assert (job.processed, job.created_count, job.rejected_count) == (25, 24, 1)
        assert job.row_errors.get().line == 24
        assert Client.objects.count() == 24


class TestCollaborator:
    """A column « Collaborateur » (sign-in e-mail or full name of a colleague) assigns
    each client, so that the colleague's « Mes dossiers » finds it."""

    HEADER = ["Code client", "Raison sociale", "Collaborateur"]

    @staticmethod
    def mine(http) -> list[str]:
        html = http.get("/", {"mine": "1", "per_page": 100}).content.decode()
        return sorted(re.findall(r'<tr data-code="([^"]+)">', html))

    def test_it_guesses_the_column(self, alice_client):
        response = upload(
            alice_client, csv_bytes([["K1", "Un", "bob@alpha.fr"]], header=self.HEADER)
        )
        assert response.status_code == 302
        assert ImportJob.objects.get().mapping == {"code": 0, "name": 1, "collaborator": 2}
        assert "Collaborateur" in alice_client.get(response.url).content.decode()

    def test_it_assigns_each_client_to_its_collaborator(
        self, alice_client, bob_client, alice, bob, charlie, run_through_ui
    ):
        ClientFactory(firm=alice.membership.firm, code="K5", name="Déjà là")
        rows = [
            ["K1", "Un", "Bob@Alpha.fr"],
            ["K2", "Deux", "alice adam"],
            ["K3", "Trois", ""],
            ["K4", "Quatre", "inconnu@alpha.fr"],
            ["K5", "Déjà là", "bob@alpha.fr"],
            ["K6", "Six", "charlie@bravo.fr"],
        ]
        job = run_through_ui(alice_client, csv_bytes(rows, header=self.HEADER))
        assert (job.created_count, job.updated_count, job.rejected_count) == (3, 1, 2)
        assert self.mine(bob_client) == ["K1", "K5"]
        assert self.mine(alice_client) == ["K2"]
        assert not ClientAssignment.objects.filter(client__code="K3").exists()
        errors = {e.code: e.message for e in job.row_errors.all()}
        message = "Collaborateur : aucun collaborateur actif du cabinet ne correspond à « {} »"
        assert errors["K4"].startswith(message.format("inconnu@alpha.fr"))
        assert errors["K6"].startswith(message.format("charlie@bravo.fr"))
        assert not Client.objects.filter(code__in=["K4", "K6"]).exists()
        created = ClientEvent.objects.get(client__code="K1", kind="client.created")
        assert created.changes == {"Collaborateurs": ["", "Bob Bernard"]}
        added = ClientEvent.objects.get(client__code="K5", kind="assignment.added")
        assert added.summary == "Import (clients.csv) : collaborateur affecté : Bob Bernard"

        # The same file again: nothing changes, nothing is recorded twice.
        events, assignments = ClientEvent.objects.count(), ClientAssignment.objects.count()
        job = run_through_ui(alice_client, csv_bytes(rows, header=self.HEADER))
        assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 0, 4)
        assert (ClientEvent.objects.count(), ClientAssignment.objects.count()) == (
            events,
            assignments,
        )

    def test_a_name_two_colleagues_share_is_refused(self, alice_client, alice, run_through_ui):
        for email in ("paul1@alpha.fr", "paul2@alpha.fr"):
            MembershipFactory(
                firm=alice.membership.firm,
                user__email=email,
                user__first_name="Paul",
                user__last_name="Martin",
            )
        rows = [["K1", "Un", "Paul Martin"], ["K2", "Deux", "paul2@alpha.fr"]]
        job = run_through_ui(alice_client, csv_bytes(rows, header=self.HEADER))
        assert (job.created_count, job.rejected_count) == (1, 1)
        assert "plusieurs collaborateurs du cabinet s'appellent « Paul Martin »" in (
            job.row_errors.get().message
        )
        assert ClientAssignment.objects.get().user.email == "paul2@alpha.fr"


class TestXlsxBounds:
    """The upload request checks an XLSX's ZIP only; the worker reads the workbook, under a
    time budget, before the mapping page shows its first rows."""

    def test_it_reads_an_xlsx_in_the_worker_not_in_the_upload(
        self, alice_client, django_capture_on_commit_callbacks
    ):
        rows = [[f"W{i}", f"Client {i}", "", "", "", "", "", "", ""] for i in range(30)]
        with django_capture_on_commit_callbacks() as queued:
            response = upload(alice_client, xlsx_bytes(rows), "w.xlsx")
        assert response.status_code == 302
        job = ImportJob.objects.get()
        assert (job.status, job.preview, job.total, job.mapping) == (Status.DRAFT, [], 0, {})
        page = alice_client.get(response.url).content.decode()
        assert "Lecture du fichier" in page and "Client 9" not in page
        assert alice_client.post(f"/imports/{job.public_id}/lancer/", {}).status_code == 302
        job.refresh_from_db()
        assert job.status == Status.DRAFT  # nothing to start before the file is read
        for callback in queued:  # the worker's task (immediate backend)
            callback()
        job.refresh_from_db()
        assert (job.total, len(job.preview), job.mapping["name"]) == (30, 11, 1)
        progress = alice_client.get(
            f"/imports/{job.public_id}/progression/", HTTP_HX_REQUEST="true"
        )
        assert progress["HX-Redirect"] == f"/imports/{job.public_id}/"
        page = alice_client.get(response.url).content.decode()
        assert "30 lignes à importer" in page and "Client 9" in page and "Client 10" not in page

    def test_it_shows_the_mapping_page_without_opening_the_file_again(
        self, alice_client, django_capture_on_commit_callbacks
    ):
        rows = [[f"P{i}", f"Client {i}", "", "", "", "", "", "", ""] for i in range(30)]
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(alice_client, xlsx_bytes(rows), "p.xlsx")
        job = ImportJob.objects.get()
        os.remove(job.file.path)  # only the rows kept in the job are left
        page = alice_client.get(response.url)
        assert page.status_code == 200
        assert "Client 9" in page.content.decode() and "Client 10" not in page.content.decode()
        response = alice_client.post(f"/imports/{job.public_id}/lancer/", {"name": "1"})
        assert response.status_code == 422  # the form still knows the columns

    def test_it_finds_data_after_blank_rows(self, alice_client, run_through_ui):
        rows = [[""] * 9] * 20 + [["Z1", "Après les blancs", "", "", "", "", "", "", ""]]
        job = run_through_ui(alice_client, xlsx_bytes(rows), "z.xlsx")
        assert (job.total, job.created_count) == (1, 1)
        assert job.row_errors.count() == 0

    def test_it_fails_an_xlsx_with_a_header_only(
        self, alice_client, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(alice_client, xlsx_bytes([]), "vide.xlsx")
        job = ImportJob.objects.get()
        assert (job.status, job.preview) == (Status.FAILED, [])
        assert "aucune ligne de données" in alice_client.get(response.url).content.decode()

    def test_it_fails_a_read_past_its_time_budget(
        self, alice_client, settings, django_capture_on_commit_callbacks
    ):
        settings.IMPORT_READ_SECONDS = 0
        rows = [[f"T{i}", f"Client {i}", "", "", "", "", "", "", ""] for i in range(1200)]
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(alice_client, xlsx_bytes(rows), "lent.xlsx")
        job = ImportJob.objects.get()
        assert job.status == Status.FAILED
        assert job.error_message.startswith("La lecture du fichier a pris plus de 0 s")
        assert (
            "La lecture du fichier a pris plus de"
            in alice_client.get(response.url).content.decode()
        )

    def test_it_reads_again_a_file_whose_worker_died(
        self, alice_client, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks():  # the task is lost with its worker
            response = upload(alice_client, xlsx_bytes(ROWS), "perdu.xlsx")
        job = ImportJob.objects.get()
        assert "ne progresse plus" not in alice_client.get(response.url).content.decode()
        ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(hours=1))
        page = alice_client.get(response.url).content.decode()
        assert "La lecture du fichier ne progresse plus" in page
        response = alice_client.post(f"/imports/{job.public_id}/reprendre/")
        assert response.status_code == 302
        page = alice_client.get(response.url).content.decode()
        assert "2 lignes à importer" in page and "Boulangerie" in page


def test_it_imports_an_xlsx_from_the_shell(firm_a, tmp_path, capsys):
    path = tmp_path / "c.xlsx"
    path.write_bytes(xlsx_bytes(ROWS))
    call_command("import", str(path), "--firm", "Cabinet Alpha", "--no-progress")
    out = capsys.readouterr().out
    assert out.startswith("2 lignes ; colonnes : Code client, Raison sociale")
    assert "Créés : 2" in out


def test_it_imports_from_the_shell(firm_a, tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_bytes(csv_bytes(ROWS))
    call_command(
        "import", str(path), "--firm", "Cabinet Alpha", "--report", str(tmp_path / "r.csv")
    )
    out = capsys.readouterr()
    assert "Créés : 2" in out.out
    assert "100 %" in out.err
    report = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()
    assert report[0] == "Ligne;Code client;Motif du rejet" and report[-4] == "Créés;2"
    assert Client.objects.filter(firm=firm_a).count() == 2
    call_command("import", str(path), "--firm", str(firm_a.public_id), "--no-progress")
    assert "Inchangés : 2" in capsys.readouterr().out


def test_it_refuses_an_unknown_firm_in_the_shell(db, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "c.csv"
    path.write_bytes(csv_bytes(ROWS))
    with pytest.raises(CommandError, match="Cabinet introuvable"):
        call_command("import", str(path), "--firm", "Nope")


@pytest.fixture
def worker_database_url():
    """A database of its own on the tests' PostgreSQL server, for processes started here."""
    import psycopg

    base, name = os.environ["DATABASE_URL"].rsplit("/", 1)
    name = f"{name}_worker_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_it_runs_in_the_real_task_worker(tmp_path, worker_database_url):
    """`manage.py db_worker --batch` in a subprocess, on a database of its own."""
    env = {k: v for k, v in os.environ.items() if k != "TASKS_BACKEND"}
    env |= {
        "VIGIE_VAR_DIR": str(tmp_path),
        "DEBUG": "1",
        "DATABASE_URL": worker_database_url,
    }

    def manage(*args):
        return subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        ).stdout

    (tmp_path / "w.csv").write_bytes(csv_bytes(ROWS))
    manage("migrate", "--no-input", "-v", "0")
    manage("createcachetable")
    manage(
        "shell",
        "-c",
        textwrap.dedent(f"""
        from vigie.firms.models import Firm
        from vigie.imports.services import import_create, import_start
        firm = Firm.objects.create(name="Cabinet Worker")
        job = import_create(firm=firm, actor=None, path={str(tmp_path / "w.csv")!r})
        import_start(job=job, mapping=job.mapping)
    """),
    )
    manage("db_worker", "--batch", "--no-startup-delay", "--no-reload")
    out = manage(
        "shell",
        "-c",
        textwrap.dedent("""
        from vigie.imports.models import ImportJob
        from vigie.clients.models import Client
        job = ImportJob.objects.get()
        print(job.status, job.created_count, job.rejected_count, Client.objects.count())
    """),
    )
    assert out.strip().splitlines()[-1].split() == ["termine", "2", "0", "2"]
