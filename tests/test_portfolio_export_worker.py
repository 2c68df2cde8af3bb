"""Portfolio exports above EXPORT_INLINE_MAX_ROWS, prepared by the task worker
(vigie.exports): the request answers with the export's page at once, the worker's
service writes the same file the inline download would have sent, a dead worker's export
is taken over by the sweep, files are deleted after EXPORT_KEEP_HOURS, and nobody but the
collaborator who asked reaches the page or the file."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from tests.factories import ClientFactory, ContactFactory
from vigie.clients.models import ClientAssignment
from vigie.clients.portfolio import export
from vigie.clients.portfolio.query import query_for
from vigie.exports import services
from vigie.exports.models import PortfolioExport, State

TASK = "vigie.exports.tasks.prepare_export"


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_INLINE_MAX_ROWS = 3


@pytest.fixture
def clients(firm_a, alice):
    made = []
    for i, name in enumerate(["Zinguerie", '=HYPERLINK("x")', "Boulangerie", "Atelier", "Cave"]):
        client = ClientFactory(firm=firm_a, code=f"00{i:04d}", name=name, siret="84523656100013")
        ContactFactory(client=client, first_name="Jeanne", last_name=f"Martin{i}")
        made.append(client)
    ClientAssignment.objects.create(firm=firm_a, client=made[0], user=alice)
    return made


def _url(fmt: str, query: str = "") -> str:
    return reverse("portfolio_export", args=[fmt]) + query


def _ask(client, fmt: str, query: str = "", capture=None) -> PortfolioExport:
    """Ask for a large export as the toolbar's button does: the page, not a file."""
    with capture(execute=True):
        response = client.post(_url(fmt, query))
    assert response.status_code == 302
    job = PortfolioExport.objects.get(public_id=response["Location"].split("/")[-2])
    assert response["Location"] == reverse("export_detail", args=[job.public_id])
    return job


def _inline(client, fmt: str, query: str, settings) -> bytes:
    """What the request itself would have sent (the threshold raised for one request)."""
    settings.EXPORT_INLINE_MAX_ROWS = 1_000_000
    response = client.get(_url(fmt, query))
    settings.EXPORT_INLINE_MAX_ROWS = 3
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _file(job: PortfolioExport) -> bytes:
    job.refresh_from_db()
    with default_storage.open(job.file.name, "rb") as handle:
        return handle.read()


def _csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


class TestTheThreshold:
    def test_it_downloads_at_once_up_to_the_threshold(self, alice_client, clients):
        # Five clients, three matching the search: the matches count, not the firm.
        for name in ("Zinguerie", "Boulangerie", "Cave"):
            ClientFactory(firm=clients[0].firm, code=f"X{name}", name=f"{name} bis")
        assert alice_client.post(_url("csv")).status_code == 302  # 8 clients
        response = alice_client.get(_url("csv", "?q=bis"))
        assert response.status_code == 200 and response.streaming
        assert len(_csv(b"".join(response.streaming_content))) == 4  # header + 3
        response = alice_client.get(_url("xlsx", "?q=bis"))
        assert response.status_code == 200
        assert PortfolioExport.objects.filter(state=State.QUEUED).count() == 1

    def test_the_toolbars_links_follow_the_state_shown_by_htmx(self, alice_client, clients):
        html = alice_client.get(
            "/?view=collecte&q=cave&page=1", headers={"HX-Request": "true"}
        ).content.decode()
        assert '<span id="portfolio-export" class="actions" hx-swap-oob="true">' in html
        assert f'action="{_url("xlsx", "?view=collecte&amp;q=cave")}"' in html
        full = alice_client.get("/?view=collecte").content.decode()
        assert full.count('id="portfolio-export"') == 1 and "hx-swap-oob" not in full

    def test_above_it_the_request_queues_the_export_and_shows_its_page(
        self, alice_client, clients, django_capture_on_commit_callbacks
    ):
        job = _ask(
            alice_client,
            "csv",
            "?view=collecte&sort=-name&page=2&per_page=25",
            django_capture_on_commit_callbacks,
        )
        assert (job.state, job.rows, job.fmt) == (State.QUEUED, 5, "csv")
        assert job.query == "view=collecte&sort=-name"  # the page shown is not the export's
        assert DBTaskResult.objects.filter(task_path=TASK, args_kwargs__args=[job.pk]).exists()
        page = alice_client.get(reverse("export_detail", args=[job.public_id]))
        html = page.content.decode()
        assert "Export en préparation" in html and "5 clients" in html
        assert 'hx-trigger="every 2s"' in html and 'http-equiv="refresh"' in html
        assert "Télécharger" not in html

    def test_a_link_followed_only_offers_to_prepare_it(
        self, alice_client, clients, django_capture_on_commit_callbacks
    ):
        """A GET (a bookmark, a page of another site) queues nothing: it shows the count
        and a button that posts; once asked, the same GET leads to the export's page."""
        response = alice_client.get(_url("csv", "?vente=non&page=2"))
        html = response.content.decode()
        assert response.status_code == 200 and "Préparer l'export" in html
        assert "Cet export compte 5 clients : au-delà de 3, il est préparé" in html
        assert "› Export CSV</p>" in html
        assert f'<form method="post" action="{_url("csv", "?vente=non")}">' in html
        assert not PortfolioExport.objects.exists()
        assert not DBTaskResult.objects.filter(task_path=TASK).exists()
        job = _ask(alice_client, "csv", "?vente=non", django_capture_on_commit_callbacks)
        response = alice_client.get(_url("csv", "?vente=non"))
        assert response.status_code == 302
        assert response["Location"] == reverse("export_detail", args=[job.public_id])
        assert PortfolioExport.objects.count() == 1

    def test_the_toolbar_posts_with_its_token(self, alice, clients, password):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(alice)
        html = browser.get("/?vente=non").content.decode()
        token = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        assert f'<form method="post" class="inline" action="{_url("csv", "?vente=non")}">' in html
        assert browser.post(_url("csv", "?vente=non")).status_code == 403  # no token
        assert not PortfolioExport.objects.exists()
        response = browser.post(_url("csv", "?vente=non"), {"csrfmiddlewaretoken": token})
        assert response.status_code == 302 and PortfolioExport.objects.count() == 1

    def test_an_unknown_format_is_a_french_404_and_queues_nothing(self, alice_client, clients):
        response = alice_client.get(reverse("portfolio_export", args=["pdf"]))
        assert response.status_code == 404
        assert "Page introuvable" in response.content.decode()
        assert not PortfolioExport.objects.exists()
        assert not DBTaskResult.objects.filter(task_path=TASK).exists()

    def test_an_unknown_export_is_a_404(self, alice_client, clients):
        for name in ("export_detail", "export_download"):
            url = reverse(name, args=["8f5a2f0e-0000-4000-8000-000000000000"])
            assert alice_client.get(url).status_code == 404

    def test_the_same_request_twice_is_one_export(
        self, alice_client, bob_client, clients, django_capture_on_commit_callbacks
    ):
        capture = django_capture_on_commit_callbacks
        first = _ask(alice_client, "csv", "?q=&sort=name", capture)
        assert _ask(alice_client, "csv", "?page=3", capture) == first
        assert DBTaskResult.objects.filter(task_path=TASK).count() == 1
        # Another format, another view, another collaborator: other exports.
        assert _ask(alice_client, "xlsx", "", capture) != first
        assert _ask(alice_client, "csv", "?view=collecte", capture) != first
        assert _ask(bob_client, "csv", "", capture).user.email == "bob@alpha.fr"
        # Once it is ready, asking again prepares a fresh one.
        services.export_run(export_id=first.pk)
        assert _ask(alice_client, "csv", "", capture) != first


class TestTheWorker:
    @pytest.mark.parametrize("view", ["equipement", "collecte"])
    def test_it_writes_the_bytes_the_request_would_have_sent(
        self, alice_client, clients, settings, django_capture_on_commit_callbacks, view
    ):
        query = f"?view={view}&sort=-code"
        job = _ask(alice_client, "csv", query, django_capture_on_commit_callbacks)
        services.export_run(export_id=job.pk)
        job.refresh_from_db()
        assert (job.state, job.rows, job.attempts) == (State.READY, 5, 1)
        content = _file(job)
        assert content == _inline(alice_client, "csv", query, settings)
        rows = _csv(content)
        assert rows[0] == export.headers(view)
        assert [r[2] for r in rows[1:]] == ["000004", "000003", "000002", "000001", "000000"]
        assert rows[-1][0] == "Zinguerie" and rows[-2][0] == '\'=HYPERLINK("x")'

    def test_its_workbook_has_the_inline_rows_and_text_columns(
        self, alice_client, clients, settings, django_capture_on_commit_callbacks
    ):
        job = _ask(alice_client, "xlsx", "", django_capture_on_commit_callbacks)
        services.export_run(export_id=job.pk)
        prepared = load_workbook(io.BytesIO(_file(job))).active
        inline = load_workbook(io.BytesIO(_inline(alice_client, "xlsx", "", settings))).active
        values = list(prepared.iter_rows(values_only=True))
        assert values == list(inline.iter_rows(values_only=True)) and len(values) == 6
        code = next(prepared.iter_rows(min_row=2, max_row=2))[2]
        assert (code.value, code.data_type, code.number_format) == ("000001", "s", "@")

    def test_it_computes_the_rows_with_the_askers_rights(
        self, alice_client, bob_client, bob, clients, settings, django_capture_on_commit_callbacks
    ):
        """« Mes dossiers »: the asker's own clients, whoever's worker writes them."""
        settings.EXPORT_INLINE_MAX_ROWS = 0
        for client in clients[3:]:
            ClientAssignment.objects.create(firm=client.firm, client=client, user=bob)
        capture = django_capture_on_commit_callbacks
        mine = _ask(alice_client, "csv", "?mine=1", capture)
        bobs = _ask(bob_client, "csv", "?mine=1", capture)
        assert (mine.rows, bobs.rows) == (1, 2)
        services.export_run(export_id=mine.pk)
        services.export_run(export_id=bobs.pk)
        assert [r[0] for r in _csv(_file(mine))[1:]] == ["Zinguerie"]
        assert [r[0] for r in _csv(_file(bobs))[1:]] == ["Atelier", "Cave"]

    def test_a_failure_is_said_in_french_with_a_way_to_retry(
        self, alice_client, clients, settings, tmp_path, django_capture_on_commit_callbacks
    ):
        job = _ask(alice_client, "csv", "?view=collecte", django_capture_on_commit_callbacks)
        (tmp_path / "not-a-directory").write_text("x")
        settings.MEDIA_ROOT = tmp_path / "not-a-directory"  # the storage refuses the file
        services.export_run(export_id=job.pk)
        job.refresh_from_db()
        assert job.state == State.FAILED and job.finished_at and not job.file
        html = alice_client.get(reverse("export_detail", args=[job.public_id])).content.decode()
        assert "Échec de l'export" in html and "n&#x27;a pas pu être préparé" in html
        assert 'hx-trigger="every 2s"' not in html and "Télécharger" not in html
        retry = _url("csv", "?view=collecte")
        assert f'<form method="post" action="{retry}">' in html
        # The download of a failed export leads back to its page.
        download = alice_client.get(reverse("export_download", args=[job.public_id]))
        assert download.status_code == 302
        # Retrying asks again: a new export (the failed one is no longer pending).
        settings.MEDIA_ROOT = tmp_path / "media"
        assert (
            _ask(alice_client, "csv", "?view=collecte", django_capture_on_commit_callbacks) != job
        )


class TestThePage:
    def test_it_shows_each_state_and_polls_only_while_pending(
        self, alice_client, clients, django_capture_on_commit_callbacks
    ):
        job = _ask(alice_client, "csv", "", django_capture_on_commit_callbacks)
        url = reverse("export_detail", args=[job.public_id])
        part = alice_client.get(url, headers={"HX-Request": "true"}).content.decode()
        assert "<html" not in part and 'data-state="a_faire"' in part
        assert 'hx-trigger="every 2s"' in part
        services.export_run(export_id=job.pk)
        part = alice_client.get(url, headers={"HX-Request": "true"}).content.decode()
        assert 'data-state="pret"' in part and "hx-trigger" not in part
        name = f"portefeuille-equipement-{timezone.localdate():%Y-%m-%d}.csv"
        assert "Télécharger" in part and name in part
        response = alice_client.get(reverse("export_download", args=[job.public_id]))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert f'filename="{name}"' in response["Content-Disposition"]
        assert len(_csv(b"".join(response.streaming_content))) == 6

    def test_a_pending_download_leads_to_the_page(
        self, alice_client, clients, django_capture_on_commit_callbacks
    ):
        job = _ask(alice_client, "xlsx", "", django_capture_on_commit_callbacks)
        response = alice_client.get(reverse("export_download", args=[job.public_id]))
        assert response.status_code == 302
        assert response["Location"] == reverse("export_detail", args=[job.public_id])


class TestADeadWorker:
    def _killed(self, job: PortfolioExport, seconds: int = 60) -> None:
        """As a worker killed while writing leaves it: en cours, its lease run out, the
        beginning of its file saved under its attempt's name."""
        PortfolioExport.objects.filter(pk=job.pk).update(
            state=State.RUNNING,
            attempts=1,
            claimed_at=timezone.now() - timedelta(seconds=seconds),
        )
        default_storage.save(f"exports/{job.public_id}-1.csv", ContentFile(b"\xef\xbb\xbfENTR"))

    def test_the_sweep_requeues_it_and_one_whole_file_is_offered(
        self, alice_client, clients, settings, django_capture_on_commit_callbacks
    ):
        job = _ask(alice_client, "csv", "", django_capture_on_commit_callbacks)
        self._killed(job)
        # While its lease runs, nobody takes it (its worker may be alive).
        assert settings.EXPORT_LEASE_SECONDS > 60
        assert services.exports_sweep() == 0
        services.export_run(export_id=job.pk)
        job.refresh_from_db()
        assert job.state == State.RUNNING and job.attempts == 1
        assert alice_client.get(reverse("export_download", args=[job.public_id])).status_code == 302

        after = timezone.now() + timedelta(seconds=settings.EXPORT_LEASE_SECONDS)
        assert services.exports_sweep(now=after) == 1
        assert services.exports_sweep(now=after) == 0  # queued once
        job.refresh_from_db()
        assert job.state == State.QUEUED
        assert DBTaskResult.objects.filter(task_path=TASK, args_kwargs__args=[job.pk]).count() == 2
        services.export_run(export_id=job.pk)
        services.export_run(export_id=job.pk)  # the second task finds it done
        job.refresh_from_db()
        assert (job.state, job.attempts, job.file.name) == (
            State.READY,
            2,
            f"exports/{job.public_id}-2.csv",
        )
        assert _file(job) == _inline(alice_client, "csv", "", settings)

        # Past EXPORT_KEEP_HOURS both attempts' files go; the row stays « expiré »: its
        # page says so and offers to ask again, the download leads back to it.
        later = timezone.now() + timedelta(hours=settings.EXPORT_KEEP_HOURS, minutes=1)
        assert services.exports_purge(now=later) == 1
        assert services.exports_purge(now=later) == 0
        assert default_storage.listdir("exports") == ([], [])
        job.refresh_from_db()
        assert (job.state, job.file.name) == (State.EXPIRED, "")
        page = alice_client.get(reverse("export_detail", args=[job.public_id]))
        assert "Export expiré" in page.content.decode()
        assert 'data-testid="export-retry"' in page.content.decode()
        download = alice_client.get(reverse("export_download", args=[job.public_id]))
        assert download.status_code == 302
        assert download["Location"] == reverse("export_detail", args=[job.public_id])
        # A month later the row goes too.
        services.exports_purge(now=later + services.FORGET_AFTER + timedelta(minutes=1))
        assert not PortfolioExport.objects.exists()

    def test_after_its_attempts_it_fails(
        self, alice_client, clients, django_capture_on_commit_callbacks
    ):
        job = _ask(alice_client, "csv", "", django_capture_on_commit_callbacks)
        self._killed(job, seconds=3600)
        PortfolioExport.objects.filter(pk=job.pk).update(attempts=services.ATTEMPTS)
        assert services.exports_sweep() == 0
        job.refresh_from_db()
        assert job.state == State.FAILED and job.error

    def test_a_running_export_under_its_lease_is_left_to_its_worker(
        self, alice_client, clients, django_capture_on_commit_callbacks
    ):
        job = _ask(alice_client, "csv", "", django_capture_on_commit_callbacks)
        PortfolioExport.objects.filter(pk=job.pk).update(
            state=State.RUNNING, attempts=1, claimed_at=timezone.now()
        )
        services.export_run(export_id=job.pk)  # a duplicate task: the export is another's
        assert services.exports_sweep() == 0
        job.refresh_from_db()
        assert (job.state, job.attempts, job.file.name) == (State.RUNNING, 1, "")


class TestTheSweepCommand:
    def test_it_requeues_and_purges(
        self, alice_client, clients, django_capture_on_commit_callbacks
    ):
        job = _ask(alice_client, "csv", "", django_capture_on_commit_callbacks)
        services.export_run(export_id=job.pk)
        PortfolioExport.objects.filter(pk=job.pk).update(
            finished_at=timezone.now() - timedelta(hours=25)
        )
        stale = _ask(alice_client, "xlsx", "", django_capture_on_commit_callbacks)
        PortfolioExport.objects.filter(pk=stale.pk).update(
            claimed_at=timezone.now() - timedelta(hours=1)
        )
        out = io.StringIO()
        call_command("sweep", stdout=out)
        assert "exports du portefeuille repris : 1" in out.getvalue()
        assert "exports du portefeuille expirés (fichiers effacés) : 1" in out.getvalue()
        assert sorted(PortfolioExport.objects.values_list("pk", "state")) == [
            (job.pk, State.EXPIRED),
            (stale.pk, State.QUEUED),
        ]


class TestTenancy:
    @pytest.fixture
    def ready(self, alice_client, clients, django_capture_on_commit_callbacks):
        job = _ask(alice_client, "csv", "", django_capture_on_commit_callbacks)
        services.export_run(export_id=job.pk)
        return job

    def test_only_the_asker_reaches_the_page_and_the_file(
        self, ready, alice_client, bob_client, charlie_client
    ):
        for name in ("export_detail", "export_download"):
            url = reverse(name, args=[ready.public_id])
            assert alice_client.get(url).status_code == 200
            for other in (bob_client, charlie_client):  # same firm or not: 404
                assert other.get(url).status_code == 404
                assert other.get(url, headers={"HX-Request": "true"}).status_code == 404

    def test_it_needs_a_signed_in_collaborator_and_a_get(self, ready, alice_client):
        for name in ("export_detail", "export_download"):
            url = reverse(name, args=[ready.public_id])
            response = Client().get(url)
            assert response.status_code == 302 and "/compte/login/" in response["Location"]
            assert alice_client.post(url).status_code == 405

    def test_charlies_export_holds_only_firm_b(
        self, charlie_client, firm_b, clients, django_capture_on_commit_callbacks
    ):
        for i in range(4):
            ClientFactory(firm=firm_b, code=f"B{i}", name=f"Bravo {i}")
        job = _ask(charlie_client, "csv", "", django_capture_on_commit_callbacks)
        assert job.firm == firm_b and job.rows == 4
        services.export_run(export_id=job.pk)
        rows = _csv(_file(job))
        assert [r[2] for r in rows[1:]] == ["B0", "B1", "B2", "B3"]


class TestTheList:
    """« Mes exports »: the asker's exports of this firm, newest first, each with what it
    holds in the page's words and what can be done with it now."""

    def test_it_lists_the_askers_exports_with_their_contents_and_actions(
        self, alice_client, clients, django_capture_on_commit_callbacks
    ):
        capture = django_capture_on_commit_callbacks
        whole = _ask(alice_client, "csv", "", capture)
        services.export_run(export_id=whole.pk)
        PortfolioExport.objects.filter(pk=whole.pk).update(
            created_at=timezone.now() - timedelta(hours=1)
        )
        narrow = _ask(
            alice_client, "xlsx", "?view=collecte&q=Martin&vente=non&shine=aucun", capture
        )
        html = alice_client.get(reverse("export_list")).content.decode()
        assert html.index(str(narrow.public_id)) < html.index(str(whole.public_id))
        assert (
            "Vue Collecte · Recherche « Martin » · Vente non équipée · Statut Shine : Sans Shine"
            in html
        )
        assert "Vue Équipement</td>" in html  # the whole portfolio: no filter to list
        assert html.count("En préparation") == 1
        assert html.count(reverse("export_download", args=[whole.public_id])) == 1
        assert reverse("export_download", args=[narrow.public_id]) not in html
        detail = alice_client.get(reverse("export_detail", args=[narrow.public_id]))
        assert "Contenu : Vue Collecte · Recherche « Martin »" in detail.content.decode()

    def test_a_failed_or_expired_export_offers_to_ask_again(
        self, alice_client, clients, django_capture_on_commit_callbacks
    ):
        job = _ask(alice_client, "csv", "?vente=non", django_capture_on_commit_callbacks)
        services.export_run(export_id=job.pk)
        services.exports_purge(now=timezone.now() + timedelta(days=2))
        html = alice_client.get(reverse("export_list")).content.decode()
        assert "Expiré" in html and reverse("export_download", args=[job.public_id]) not in html
        assert f'action="{_url("csv", "?vente=non")}"' in html

    def test_nobody_else_sees_them(
        self, alice_client, bob_client, charlie_client, clients, django_capture_on_commit_callbacks
    ):
        job = _ask(alice_client, "csv", "", django_capture_on_commit_callbacks)
        url = reverse("export_list")
        assert str(job.public_id) in alice_client.get(url).content.decode()
        for other in (bob_client, charlie_client):  # a colleague, another firm
            html = other.get(url).content.decode()
            assert str(job.public_id) not in html
            assert "Vous n'avez demandé aucun export" in html
        response = Client().get(url)
        assert response.status_code == 302 and "/compte/login/" in response["Location"]
        assert alice_client.post(url).status_code == 405

    def test_the_header_leads_to_it(self, alice_client, clients):
        assert f'href="{reverse("export_list")}"' in alice_client.get("/").content.decode()


def test_the_export_keeps_the_state_but_not_the_page(firm_a, alice):
    """What the worker reads back (the export's query string) is the page's state, the
    page and its length aside."""
    data = {"view": "collecte", "q": "Dupont & fils", "page": "4", "per_page": "25"}
    query, _ = query_for(firm_a, alice, data)
    key = services.request_key(query.params)
    again, _ = query_for(firm_a, alice, QueryDict(key))
    assert again.params == replace(query.params, page=1, per_page=10)
