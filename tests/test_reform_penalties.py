"""Clients exposed to the reform's penalties: who, from when, why and for about how much,
at dates on each side of each deadline; the counts equal the lists; the client's invoices
per month (form, import); tenancy."""

from __future__ import annotations

from datetime import date

import pytest
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from tests.factories import ClientFactory
from vigie.clients.models import ClientEvent, PaStatus, ShineStatus
from vigie.clients.services import client_clean
from vigie.equipment.models import Equipment, Slot
from vigie.imports.mapping import guess, row_to_data
from vigie.reform import penalties
from vigie.reform.penalties import IN_2027, NOW

BEFORE_RECEPTION = date(2026, 8, 31)
RECEPTION_DAY = date(2026, 9, 1)
BEFORE_ISSUANCE = date(2027, 8, 31)
ISSUANCE_DAY = date(2027, 9, 1)


@pytest.fixture
def clients(firm_a, firm_b, catalogue):
    """Firm A's clients, one per case (and noise that must never count)."""

    def client(code, *, registered, equipped, invoices=None):
        made = ClientFactory(
            firm=firm_a,
            code=code,
            name=f"Client {code}",
            pa_status=PaStatus.REGISTERED if registered else PaStatus.ABSENT,
            shine_status=ShineStatus.ACTIVATED if equipped == "shine" else "",
            invoices_per_month=invoices,
        )
        if equipped == "declared":
            Equipment.objects.create(
                firm=firm_a, client=made, solution=catalogue["abby"], slot=Slot.VENTE
            )
        return made

    made = {
        "ready": client("P0", registered=True, equipped="shine", invoices=40),
        "reception": client("P1", registered=False, equipped="declared"),
        "issuance": client("P2", registered=True, equipped=None, invoices=30),
        "both": client("P3", registered=False, equipped=None, invoices=10),
        "both_unknown": client("P4", registered=False, equipped=None),
        "issuance_unknown": client("P5", registered=True, equipped=None),
    }
    ClientFactory(firm=firm_a, code="ARCH", archived_at=timezone.now())
    ClientFactory(firm=firm_b, code="B1", pa_status=PaStatus.ABSENT)
    return made


def _codes(firm, day):
    return [c.code for c in penalties.exposed(firm, day)]


def test_nobody_is_exposed_before_reception_becomes_mandatory(firm_a, clients):
    assert _codes(firm_a, BEFORE_RECEPTION) == []
    assert penalties.exposure(firm_a, NOW, BEFORE_RECEPTION).clients == 0


@pytest.mark.parametrize("day", [RECEPTION_DAY, BEFORE_ISSUANCE])
def test_from_september_2026_the_clients_without_a_platform(firm_a, clients, day):
    assert sorted(_codes(firm_a, day)) == ["P1", "P3", "P4"]
    client = penalties.exposed(firm_a, day).get(code="P3")
    # Issuance is not in force yet: its estimate does not count.
    assert (client.no_reception, client.no_issuance, client.estimate) == (True, False, 3_500)


def test_from_september_2027_issuance_too_largest_exposure_first(firm_a, clients):
    found = [(c.code, c.no_reception, c.no_issuance, c.estimate) for c in
             penalties.exposed(firm_a, ISSUANCE_DAY)]  # fmt: skip
    assert found == [
        ("P2", False, True, 15_000),  # 50 € × 30 × 12 = 18,000, capped at 15,000
        ("P3", True, True, 9_500),  # 50 € × 10 × 12 + 3,500
        ("P1", True, False, 3_500),
        ("P4", True, True, 3_500),  # the invoices are unknown: reception only
        ("P5", False, True, None),  # nothing known
    ]


@pytest.mark.parametrize(
    ("today", "when", "expected"),
    [
        (BEFORE_RECEPTION, NOW, 0),
        (RECEPTION_DAY, NOW, 3),
        (RECEPTION_DAY, IN_2027, 5),  # read at 1 September 2027
        (BEFORE_ISSUANCE, IN_2027, 5),
        (ISSUANCE_DAY, NOW, 5),
    ],
)
def test_each_count_is_the_length_of_its_list(firm_a, clients, today, when, expected):
    exposure = penalties.exposure(firm_a, when, today)
    assert exposure.clients == expected
    assert exposure.clients == len(_codes(firm_a, penalties.at(when, today)))


def test_the_2027_figures(firm_a, clients):
    exposure = penalties.exposure(firm_a, IN_2027, RECEPTION_DAY)
    assert (exposure.reception, exposure.issuance) == (3, 4)
    assert (exposure.estimate, exposure.estimated) == (15_000 + 9_500 + 3_500 + 3_500, 4)


# --- Pages ---------------------------------------------------------------------------------


def test_the_worklist_says_why_and_links_to_the_remedy(bob_client, clients):
    # Today (after 1 September 2026): the clients without a reception platform.
    html = bob_client.get(reverse("reform_penalties")).content.decode()
    assert 'data-testid="penalties-count"><strong>3</strong> clients exposés' in html
    for code in ("P1", "P3", "P4"):
        assert f'data-code="{code}"' in html
    assert 'data-code="P2"' not in html and 'data-code="ARCH"' not in html
    assert penalties.RECEPTION.reason in html and penalties.RECEPTION.source in html
    assert f'href="/clients/P3/#reforme">{escape(penalties.RECEPTION.action)}' in html
    assert "Faire signer le mandat" in html
    # At 1 September 2027: issuance too, with its remedy.
    html = bob_client.get(reverse("reform_penalties") + "?quand=2027").content.decode()
    assert 'data-code="P2"' in html and 'data-code="P5"' in html
    assert f'href="/clients/P2/#equipment">{escape(penalties.ISSUANCE.action)}' in html
    assert "émission non estimée" in html
    assert "15\u202f000 €" in html or "15 000 €" in html


def test_an_unknown_date_choice_reads_today(bob_client, clients):
    response = bob_client.get(reverse("reform_penalties") + "?quand=demain&page=x")
    assert response.status_code == 200
    assert response.context["when"] == NOW


def test_the_dashboard_card_counts_and_links(bob_client, clients):
    html = bob_client.get(reverse("reform_dashboard")).content.decode()
    assert 'data-testid="penalties-card"' in html
    assert f'href="{reverse("reform_penalties")}?quand=maintenant"><strong>3</strong>' in html
    assert f'href="{reverse("reform_penalties")}?quand=2027"><strong>5</strong>' in html


def test_another_firm_sees_only_its_own(charlie_client, clients):
    html = charlie_client.get(reverse("reform_penalties")).content.decode()
    assert 'data-code="B1"' in html
    assert not any(f'data-code="P{i}"' in html for i in range(6))
    html = charlie_client.get(reverse("reform_dashboard")).content.decode()
    assert f'href="{reverse("reform_penalties")}?quand=maintenant"><strong>1</strong>' in html


def test_signed_out_the_worklist_asks_to_sign_in(client, settings):
    response = client.get(reverse("reform_penalties"))
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


# --- The invoices per month ----------------------------------------------------------------


def test_the_details_form_records_the_invoices_per_month(bob_client, bob, client_a):
    data = {
        "name": client_a.name,
        "code": client_a.code,
        "legal_form": client_a.legal_form,
        "regime": client_a.regime,
        "siret": client_a.siret,
        "ape_code": client_a.ape_code,
        "activity": client_a.activity,
        "invoices_per_month": "25",
    }
    url = reverse("client_details_update", args=[client_a.code])
    assert bob_client.post(url, data).status_code == 302
    client_a.refresh_from_db()
    assert client_a.invoices_per_month == 25
    event = ClientEvent.objects.filter(client=client_a).latest("at")
    assert event.changes["factures émises par mois"] == ["", 25]
    page = bob_client.get(reverse("client_detail", args=[client_a.code])).content.decode()
    assert 'data-testid="invoices-per-month">25<' in page
    # Bad input: a French message, nothing changed.
    response = bob_client.post(url, {**data, "invoices_per_month": "-3"})
    assert response.status_code == 200
    assert "supérieure ou égale à 0" in response.content.decode()
    client_a.refresh_from_db()
    assert client_a.invoices_per_month == 25


def test_an_import_column_carries_the_invoices_per_month():
    mapping = guess(["Raison sociale", "Code client", "Factures par mois"])
    assert mapping["invoices_per_month"] == 2
    cleaned, errors = client_clean(row_to_data(["Oasis", "C1", "1 200"], mapping))
    assert errors == {} and cleaned["invoices_per_month"] == 1200
    cleaned, errors = client_clean(row_to_data(["Oasis", "C1", ""], mapping))
    assert errors == {} and cleaned["invoices_per_month"] is None
    _cleaned, errors = client_clean(row_to_data(["Oasis", "C1", "beaucoup"], mapping))
    assert errors == {"invoices_per_month": ["Saisissez un nombre entier de factures par mois."]}
