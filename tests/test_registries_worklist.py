"""The registers' worklist: the portfolio's « Registres » filter, column and export, the
reform dashboard's « Registres » card (each count the list its link opens), checks of a
selection or of the whole portfolio, and tenancy. Checks are seeded through the ORM;
one test runs a real check against the sandbox registers."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ClientFactory
from tests.registries import point_at_sandbox
from vigie.clients.models import Client, LegalForm, PaStatus
from vigie.clients.portfolio.query import Lookups, Params, PortfolioQuery, load_rows
from vigie.reform import dashboard
from vigie.registries import preparation, rules
from vigie.registries.models import (
    CheckItem,
    CheckRun,
    CheckStatus,
    ItemState,
    Register,
    RegisterCheck,
    RunState,
)
from vigie.registries.services import check_clients

pytestmark = pytest.mark.django_db

SIRENE, ANNUAIRE = Register.SIRENE, Register.ANNUAIRE
A_JOUR, ECART, CESSEE, NON_VERIFIE = (
    CheckStatus.UP_TO_DATE,
    CheckStatus.DRIFT,
    CheckStatus.CEASED,
    CheckStatus.UNVERIFIED,
)


def _finding(code: str) -> dict:
    return {"code": code, "field": "", "label": code, "register": "r", "firm": "f"}


def seed_check(client, register, status, *codes, at=None):
    at = at or timezone.now()
    return RegisterCheck.objects.create(
        firm=client.firm,
        client=client,
        register=register,
        status=status,
        checked_at=None if status == NON_VERIFIE else at,
        attempted_at=at,
        findings=[_finding(code) for code in codes],
    )


@pytest.fixture
def seeded(firm_a, firm_b):
    """Firm A's clients by expected status (and finding), plus noise that never counts."""
    c = {code: ClientFactory(firm=firm_a, code=code) for code in "ABCDEFGHIJ"}
    seed_check(c["A"], SIRENE, A_JOUR)
    seed_check(c["A"], ANNUAIRE, A_JOUR)
    seed_check(c["B"], SIRENE, ECART, "name", "ape")
    seed_check(c["B"], ANNUAIRE, A_JOUR)
    seed_check(c["C"], SIRENE, CESSEE, "ceased", "not_head_office")
    seed_check(c["C"], ANNUAIRE, ECART, "platform")
    # D: never checked.
    seed_check(c["E"], SIRENE, NON_VERIFIE)
    seed_check(c["E"], ANNUAIRE, NON_VERIFIE)
    seed_check(c["F"], SIRENE, A_JOUR)
    seed_check(c["F"], ANNUAIRE, NON_VERIFIE)
    seed_check(c["G"], ANNUAIRE, ECART, "no_line")
    seed_check(c["H"], SIRENE, CESSEE, "establishment_closed")
    seed_check(c["H"], ANNUAIRE, ECART, "future_date", "line_changed")
    seed_check(c["I"], ANNUAIRE, ECART, "pa_status", "platform", "siren_level")
    seed_check(c["J"], SIRENE, NON_VERIFIE)
    seed_check(c["J"], ANNUAIRE, ECART, "legal_form")
    # Noise: an archived client of firm A and firm B's clients, all in « écart ».
    archived = ClientFactory(firm=firm_a, archived_at=timezone.now())
    seed_check(archived, SIRENE, CESSEE, "ceased")
    for code in ("X", "Y"):
        other = ClientFactory(firm=firm_b, code=code)
        seed_check(other, SIRENE, CESSEE, "ceased", "name")
        seed_check(other, ANNUAIRE, ECART, "no_line", "platform")
    return c


EXPECTED = {
    "a_jour": {"A", "F"},
    "ecart": {"B", "G", "I", "J"},
    "cessee": {"C", "H"},
    "non_verifie": {"D", "E"},
}
EXPECTED_KINDS = {
    "cessee": {"C", "H"},
    "siege": {"C"},
    "identite": {"B", "J"},
    "sans_ligne": {"G"},
    "inscription": {"I"},
    "plateforme": {"C", "I"},
    "date_future": {"H"},
    "niveau_siren": {"I"},
    "ligne_modifiee": {"H"},
}


def _codes(firm, **filters) -> set[str]:
    query = PortfolioQuery(firm_id=firm.id, params=Params(**filters))
    ids = query.ids(offset=0, limit=100)
    assert query.count() == len(ids)
    return set(Client.objects.filter(pk__in=ids).values_list("code", flat=True))


# --- The rule ----------------------------------------------------------------------------


def test_it_takes_the_first_status_of_the_priority():
    assert rules.client_status([]) == "non_verifie"
    assert rules.client_status(["non_verifie", "non_verifie"]) == "non_verifie"
    assert rules.client_status(["a_jour", "non_verifie"]) == "a_jour"
    assert rules.client_status(["a_jour", "ecart"]) == "ecart"
    assert rules.client_status(["ecart", "cessee"]) == "cessee"
    assert rules.client_status(["non_verifie", "cessee"]) == "cessee"


def test_every_finding_code_belongs_to_one_kind():
    codes = [code for kind in rules.KINDS for code in kind.codes]
    assert len(codes) == len(set(codes))
    assert set(codes) == {
        "ceased", "establishment_closed", "not_head_office", "name", "legal_form", "ape",
        "no_line", "pa_status", "platform", "future_date", "siren_level", "line_changed",
    }  # fmt: skip


# --- The portfolio's filter, column and export --------------------------------------------


def test_the_filter_lists_each_status(firm_a, seeded):
    for status, codes in EXPECTED.items():
        assert _codes(firm_a, registres=status) == codes, status


def test_the_filter_and_the_rows_apply_the_same_rule(firm_a, seeded):
    """Each active client is in exactly one status, the one its row shows."""
    rows = load_rows(firm_a, [c.pk for c in seeded.values()], Lookups.read(firm_a))
    shown = {row.client.code: row.register_status for row in rows}
    listed = {code: status for status in EXPECTED for code in _codes(firm_a, registres=status)}
    assert shown == listed and len(listed) == len(seeded)


def test_the_finding_filter_lists_each_kind(firm_a, seeded):
    for key, codes in EXPECTED_KINDS.items():
        assert _codes(firm_a, constat=key) == codes, key
    assert _codes(firm_a, registres="ecart", constat="plateforme") == {"I"}


def test_an_unknown_value_is_no_filter(alice_client, firm_a, seeded):
    params = Params.from_query({"registres": "nimporte", "constat": "' OR 1=1 --"})
    assert (params.registres, params.constat) == ("", "")
    page = alice_client.get("/?registres=nimporte&constat=x").content.decode()
    assert "1-10 sur 10" in page


def test_the_page_offers_the_menus_and_lists_the_filtered_clients(alice_client, seeded):
    page = alice_client.get("/?registres=cessee").content.decode()
    assert '<select name="registres" aria-label="Registres">' in page
    assert '<option value="cessee" selected>Cessée</option>' in page
    assert '<select name="constat" aria-label="Constat des registres">' in page
    assert "1-2 sur 2" in page and "Effacer les filtres" in page


def test_the_column_shows_the_status_and_the_last_check(alice_client, firm_a, seeded):
    at = timezone.make_aware(datetime(2026, 11, 30, 9, 15))
    RegisterCheck.objects.filter(client=seeded["B"]).update(attempted_at=at)
    page = alice_client.get("/?q=B&per_page=100").content.decode()
    assert "<th>REGISTRES</th>" in page
    row = page.split('data-code="B"')[1].split("</tr>")[0]
    assert 'data-status="ecart"' in row and ">Écart</span>" in row and "badge warn" in row
    assert (
        'title="Dernier contrôle le 30/11/2026 à 09:15 — Annuaire de facturation électronique'
        ' : À jour ; Registre des entreprises : Écart"' in row
    )
    page = alice_client.get("/?registres=non_verifie").content.decode()
    row = page.split('data-code="D"')[1].split("</tr>")[0]
    assert ">Non vérifié</span>" in row and 'title="Jamais vérifié auprès des registres"' in row
    # The collection view has no such column.
    assert "REGISTRES" not in alice_client.get("/?view=collecte").content.decode()


def test_a_new_check_renews_the_kept_row(alice_client, firm_a, seeded):
    """The row is kept rendered by version: a check written after it shows at once."""
    url = "/?registres=non_verifie"
    assert 'data-code="D"' in alice_client.get(url).content.decode()
    first = alice_client.get("/?q=D").content.decode()
    assert 'data-status="non_verifie"' in first.split('data-code="D"')[1]
    check = seed_check(seeded["D"], SIRENE, CESSEE, "ceased")
    row = alice_client.get("/?q=D").content.decode().split('data-code="D"')[1]
    assert 'data-status="cessee"' in row.split("</tr>")[0]
    check.delete()
    row = alice_client.get("/?q=D").content.decode().split('data-code="D"')[1]
    assert 'data-status="non_verifie"' in row.split("</tr>")[0]


def test_the_export_has_the_status(alice_client, seeded):
    response = alice_client.get(reverse("portfolio_export", args=["csv"]) + "?registres=ecart")
    lines = list(
        csv.reader(io.StringIO(b"".join(response.streaming_content).decode()), delimiter=";")
    )
    header = lines[0]
    status, date = header.index("REGISTRES"), header.index("DERNIER CONTRÔLE")
    assert {line[status] for line in lines[1:]} == {"Écart"} and len(lines) == 5
    assert all(len(line[date]) == 10 for line in lines[1:])


# --- The dashboard's card ----------------------------------------------------------------


def test_each_count_equals_the_list_its_link_opens(alice_client, firm_a, seeded):
    figures = dashboard.register_figures(firm_a)
    counts = {line.key: line.count for line in figures.counts}
    assert counts == {
        **{key: len(codes) for key, codes in EXPECTED_KINDS.items()},
        "non_verifie": len(EXPECTED["non_verifie"]),
    }
    response = alice_client.get(reverse("reform_dashboard"))
    assert response.status_code == 200
    for line in response.context["registers"].counts:
        page = alice_client.get(line.url).content.decode()
        assert (
            f'data-testid="page-range">{"1" if line.count else "0"}-{line.count} sur {line.count}<'
            in page
        ), line.key
        assert (
            PortfolioQuery(firm_id=firm_a.id, params=Params.from_query(line.query)).count()
            == line.count
        )


def test_the_card_shows_the_counts_links_and_last_check(alice_client, seeded):
    html = alice_client.get(reverse("reform_dashboard")).content.decode()
    card = html.split('data-testid="registers-card"')[1].split("</section>")[0]
    assert 'href="/?constat=plateforme"' in card and 'href="/?registres=non_verifie"' in card
    assert "<strong>2</strong> Inscrit auprès d&#x27;une autre plateforme" in card
    assert "Dernier contrôle le" in card
    assert 'data-testid="registers-check-all"' in card  # alice is an admin


def test_a_collaborator_sees_the_counts_without_the_whole_portfolio_button(bob_client, seeded):
    html = bob_client.get(reverse("reform_dashboard")).content.decode()
    assert 'data-testid="registers-card"' in html
    assert 'data-testid="registers-check-all"' not in html


def test_charlie_never_sees_firm_a_counts_or_clients(charlie_client, firm_b, seeded):
    response = charlie_client.get(reverse("reform_dashboard"))
    counts = {line.key: line.count for line in response.context["registers"].counts}
    # Firm B's own two clients, never firm A's.
    assert counts["cessee"] == 2 and counts["sans_ligne"] == 2 and counts["non_verifie"] == 0
    assert counts["siege"] == 0 and counts["ligne_modifiee"] == 0
    page = charlie_client.get("/?registres=ecart").content.decode()
    assert "0-0 sur 0" in page
    page = charlie_client.get("/?constat=cessee").content.decode()
    assert "1-2 sur 2" in page and 'data-code="C"' not in page
    part = charlie_client.get(
        reverse("reform_dashboard") + "?part=registres", HTTP_HX_REQUEST="true"
    )
    assert "<strong>2</strong>" in part.content.decode() and "<h1>" not in part.content.decode()


def test_the_card_shows_a_run_s_progress(alice_client, firm_a, seeded):
    run = CheckRun.objects.create(firm=firm_a, total=4)
    for i, client in enumerate(list(seeded.values())[:2]):
        for register in (SIRENE, ANNUAIRE):
            CheckItem.objects.create(
                firm=firm_a,
                run=run,
                client=client,
                register=register,
                state=ItemState.DONE if i == 0 else ItemState.PENDING,
                next_attempt_at=timezone.now(),
            )
    part = alice_client.get(reverse("reform_dashboard") + "?part=registres", HTTP_HX_REQUEST="true")
    html = part.content.decode()
    assert 'data-testid="registers-progress"' in html and "<strong>2</strong> / 4" in html
    assert "every 3s" in html and "disabled" in html
    CheckItem.objects.filter(run=run).update(state=ItemState.DONE)
    CheckRun.objects.filter(pk=run.pk).update(state=RunState.DONE, finished_at=timezone.now())
    html = alice_client.get(reverse("reform_dashboard")).content.decode()
    assert 'data-testid="registers-progress"' not in html and "every 3s" not in html
    assert "dernière vérification terminée le" in html


def test_the_dashboard_still_costs_a_constant_number_of_queries(
    alice_client, firm_a, seeded, django_assert_max_num_queries
):
    alice_client.get(reverse("reform_dashboard"))
    with django_assert_max_num_queries(12):
        alice_client.get(reverse("reform_dashboard"))


# --- Checks on demand --------------------------------------------------------------------


def _items(run) -> set[tuple[str, str]]:
    return {(i.client.code, i.register) for i in CheckItem.objects.filter(run=run)}


def test_it_queues_a_check_of_the_ticked_clients(
    alice_client, firm_a, seeded, django_capture_on_commit_callbacks
):
    url = reverse("reform_registers_check_selection")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice_client.post(url, {"codes": ["A", "B"]}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and len(callbacks) == 1
    trigger = json.loads(response["HX-Trigger"])
    assert trigger["showMessage"] == {
        "text": "Vérification des registres lancée pour 2 clients."
        " Suivez-la dans le tableau de bord réforme.",
        "kind": "success",
    }
    run = CheckRun.objects.get(firm=firm_a)
    assert run.state == RunState.RUNNING and run.total == 4
    assert _items(run) == {("A", SIRENE), ("A", ANNUAIRE), ("B", SIRENE), ("B", ANNUAIRE)}


def test_it_queues_every_client_matching_the_portfolio(alice_client, firm_a, seeded):
    response = alice_client.post(
        reverse("reform_registers_check_selection"), {"all": "1", "query": "registres=cessee"}
    )
    assert response.status_code == 302 and response["Location"] == "/?registres=cessee"
    run = CheckRun.objects.get(firm=firm_a)
    assert {code for code, _ in _items(run)} == {"C", "H"}


def test_an_empty_selection_is_refused(alice_client, firm_a):
    response = alice_client.post(
        reverse("reform_registers_check_selection"), {}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"])["showMessage"]["kind"] == "error"
    assert not CheckRun.objects.exists()


def test_charlie_cannot_check_firm_a_clients(charlie_client, firm_a, seeded):
    charlie_client.post(reverse("reform_registers_check_selection"), {"codes": ["A", "B"]})
    charlie_client.post(
        reverse("reform_registers_check_selection"), {"all": "1", "query": "registres=ecart"}
    )
    assert not CheckItem.objects.filter(firm=firm_a).exists()
    assert not CheckItem.objects.filter(client__firm=firm_a).exists()
    assert not CheckRun.objects.filter(firm=firm_a).exists()


def test_the_actions_accept_post_only(alice_client):
    for name in ("reform_registers_check_selection", "reform_registers_check_all"):
        assert alice_client.get(reverse(name)).status_code == 405


def test_an_admin_checks_the_whole_portfolio_once_at_a_time(alice_client, firm_a, seeded):
    url = reverse("reform_registers_check_all")
    response = alice_client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    trigger = json.loads(response["HX-Trigger"])
    assert "registersChecked" in trigger
    # The firm's active clients, counted from its ClientCount row.
    assert (
        trigger["showMessage"]["text"]
        == "Vérification de tout le portefeuille lancée : 10 clients."
    )
    # One row in the request, « en préparation »: the worker writes its checks.
    run = CheckRun.objects.get(firm=firm_a)
    assert (run.state, run.total, run.clients) == (RunState.PREPARING, 0, 10)
    assert not CheckItem.objects.filter(run=run).exists()
    response = alice_client.post(url, HTTP_HX_REQUEST="true")
    assert json.loads(response["HX-Trigger"])["showMessage"]["kind"] == "error"
    preparation.run_prepare(run)
    assert run.state == RunState.RUNNING
    assert run.total == 2 * 10  # the active clients, each against both registers
    response = alice_client.post(url, HTTP_HX_REQUEST="true")
    assert json.loads(response["HX-Trigger"])["showMessage"] == {
        "text": "Une vérification des registres est déjà en cours.",
        "kind": "error",
    }
    assert CheckRun.objects.filter(firm=firm_a).count() == 1


def test_only_an_admin_checks_the_whole_portfolio(bob_client, charlie_client, firm_a, seeded):
    assert bob_client.post(reverse("reform_registers_check_all")).status_code == 404
    assert not CheckRun.objects.exists()
    # Charlie (firm B's admin) starts firm B's run, never firm A's.
    charlie_client.post(reverse("reform_registers_check_all"))
    assert not CheckRun.objects.filter(firm=firm_a).exists()
    run = CheckRun.objects.get()
    preparation.run_prepare(run)
    assert {code for code, _ in _items(run)} == {"X", "Y"}


# --- Against the sandbox -----------------------------------------------------------------


def test_a_real_check_shows_in_the_filter_and_the_counts(sandbox, settings, alice_client, firm_a):
    registers = point_at_sandbox(sandbox, settings)
    fields = {
        "legal_form": LegalForm.SARL,
        "ape_code": "47.24Z",
        "pa_status": PaStatus.REGISTERED,
        "pa_name": "Docaposte",
    }
    ok = ClientFactory(firm=firm_a, code="OK1", **fields)
    ceased = ClientFactory(firm=firm_a, code="CE1", **fields)
    other = ClientFactory(firm=firm_a, code="PA1", **fields)
    registers.seed(ok, ceased, other, CE1={"sirene": "ceased"}, PA1={"annuaire": "other_pa"})
    check_clients(firm=firm_a, client_ids=[ok.pk, ceased.pk, other.pk])
    assert _codes(firm_a, registres="a_jour") == {"OK1"}
    assert _codes(firm_a, registres="cessee") == {"CE1"}
    assert _codes(firm_a, registres="ecart") == {"PA1"}
    counts = {line.key: line.count for line in dashboard.register_figures(firm_a).counts}
    assert counts["cessee"] == 1 and counts["plateforme"] == 1 and counts["non_verifie"] == 0
    page = alice_client.get("/?constat=plateforme").content.decode()
    assert "1-1 sur 1" in page and 'data-code="PA1"' in page
