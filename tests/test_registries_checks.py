"""check_clients against the seeded sandbox registers: each finding, « non vérifié »
instead of a false « à jour », skipping unchanged clients, and tenancy."""

from __future__ import annotations

import pytest

from tests.factories import ClientFactory
from tests.registries import point_at_sandbox
from vigie.clients.models import LegalForm, PaStatus
from vigie.lib.validators import make_siret
from vigie.registries.models import CheckStatus, Register, RegisterCheck
from vigie.registries.services import check_clients

pytestmark = pytest.mark.django_db


@pytest.fixture
def registers(sandbox, settings):
    return point_at_sandbox(sandbox, settings)


def _client(firm, code, **fields):
    defaults = {
        "legal_form": LegalForm.SARL,
        "ape_code": "47.24Z",
        "pa_status": PaStatus.REGISTERED,
        "pa_name": "Docaposte",
    }
    return ClientFactory(firm=firm, code=code, **{**defaults, **fields})


def _check(client, register):
    return RegisterCheck.objects.for_firm(client.firm).get(client=client, register=register)


def _codes(client, register):
    return [f["code"] for f in _check(client, register).findings]


SIRENE = [
    ("ok", CheckStatus.UP_TO_DATE, []),
    ("ceased", CheckStatus.CEASED, ["ceased"]),
    ("establishment_closed", CheckStatus.CEASED, ["establishment_closed"]),
    ("not_head_office", CheckStatus.DRIFT, ["not_head_office"]),
    ("name", CheckStatus.DRIFT, ["name"]),
    ("legal_form", CheckStatus.DRIFT, ["legal_form"]),
    ("ape", CheckStatus.DRIFT, ["ape"]),
]


def test_each_company_register_finding(registers, firm_a):
    clients = {s: _client(firm_a, s[:10]) for s, _, _ in SIRENE}
    registers.seed(*clients.values(), **{c.code: {"sirene": s} for s, c in clients.items()})
    check_clients(firm=firm_a, registers=(Register.SIRENE,))
    for scenario, status, codes in SIRENE:
        check = _check(clients[scenario], Register.SIRENE)
        assert (check.status, _codes(clients[scenario], Register.SIRENE)) == (status, codes), (
            scenario
        )
        assert check.checked_at and check.source.startswith("API Recherche d'entreprises")
    ape = _check(clients["ape"], Register.SIRENE).findings[0]
    assert ape["firm"] == "47.24Z" and ape["register"] != "47.24Z" and ape["field"] == "ape_code"


def test_an_unknown_or_invalid_siret_is_not_verified(registers, firm_a):
    unknown = _client(firm_a, "U1")
    invalid = _client(firm_a, "U2", siret=make_siret("41234567", "0001")[:13] + "0")
    if invalid.has_valid_siret:  # the check digit happened to be 0
        invalid.siret = invalid.siret[:13] + "1"
        invalid.save()
    registers.seed(unknown, sirene="unknown")
    check_clients(firm=firm_a, registers=(Register.SIRENE,))
    assert _check(unknown, Register.SIRENE).status == CheckStatus.UNVERIFIED
    assert "introuvable" in _check(unknown, Register.SIRENE).reason
    assert _check(invalid, Register.SIRENE).reason == "SIRET invalide (clé de contrôle)"
    assert registers.state("sirene")["calls_by_query"] == {unknown.siret: 1}


def test_each_directory_finding(registers, firm_a):
    ok = _client(firm_a, "D1")
    no_line = _client(firm_a, "D2")
    other_pa = _client(firm_a, "D3")
    future = _client(firm_a, "D4")
    unknown_to_firm = _client(firm_a, "D5", pa_status=PaStatus.ABSENT, pa_name="")
    head = _client(firm_a, "D6", siret=make_siret("61234567", "0001"))
    branch = _client(firm_a, "D7", siret=make_siret("61234567", "0002"))
    registers.seed(
        ok, no_line, other_pa, future, unknown_to_firm, head, branch,
        D2={"annuaire": "no_line"},
        D3={"annuaire": "other_pa"},
        D4={"annuaire": "future_date"},
        D6={"annuaire": "siren_level"},
        D7={"annuaire": "siren_level"},
    )  # fmt: skip
    check_clients(firm=firm_a, registers=(Register.ANNUAIRE,))
    assert _check(ok, Register.ANNUAIRE).status == CheckStatus.UP_TO_DATE
    assert _check(ok, Register.ANNUAIRE).values["line"]["platform_registration_number"] == "0045"
    assert _codes(no_line, Register.ANNUAIRE) == ["no_line"]
    assert _codes(other_pa, Register.ANNUAIRE) == ["platform"]
    assert _codes(future, Register.ANNUAIRE) == ["future_date"]
    # Registered behind the firm's back: one finding, naming the platform.
    assert _codes(unknown_to_firm, Register.ANNUAIRE) == ["pa_status"]
    (finding,) = _check(unknown_to_firm, Register.ANNUAIRE).findings
    line = _check(unknown_to_firm, Register.ANNUAIRE).values["line"]
    assert line["platform_name"] and line["platform_name"] in finding["register"]
    assert _codes(head, Register.ANNUAIRE) == ["siren_level"]
    assert _codes(branch, Register.ANNUAIRE) == ["siren_level"]
    # One directory call per company: the two establishments shared theirs.
    assert registers.state("annuaire")["calls_by_query"][head.siren] == 1


def test_a_changed_line_is_a_finding_once(registers, firm_a):
    client = _client(firm_a, "C1")
    registers.seed(client)
    check_clients(firm=firm_a, registers=(Register.ANNUAIRE,))
    registers.seed(client, annuaire="other_pa")
    check_clients(firm=firm_a, registers=(Register.ANNUAIRE,))
    changed = _check(client, Register.ANNUAIRE)
    assert _codes(client, Register.ANNUAIRE) == ["platform", "line_changed"]
    assert "platform_name" in changed.findings[1]["register"] and changed.changed_at
    check_clients(firm=firm_a, registers=(Register.ANNUAIRE,))
    assert _codes(client, Register.ANNUAIRE) == ["platform"]


def test_a_register_down_is_not_verified_never_up_to_date(registers, firm_a):
    client = _client(firm_a, "F1")
    registers.seed(client)
    check_clients(firm=firm_a, registers=(Register.SIRENE,))
    first = _check(client, Register.SIRENE)
    assert first.status == CheckStatus.UP_TO_DATE
    registers.fault("sirene", "500", count=10)
    check_clients(firm=firm_a, registers=(Register.SIRENE,))
    check = _check(client, Register.SIRENE)
    assert check.status == CheckStatus.UNVERIFIED and "HTTP 500" in check.reason
    assert check.checked_at == first.checked_at and check.values == first.values  # dated


def test_unchanged_clients_are_skipped_when_asked(registers, firm_a):
    same, edited = _client(firm_a, "S1"), _client(firm_a, "S2")
    registers.seed(same, edited)
    check_clients(firm=firm_a, registers=(Register.SIRENE,))
    edited.name = "Nouveau nom"
    edited.save()
    run = check_clients(firm=firm_a, registers=(Register.SIRENE,), skip_unchanged_days=7)
    assert (run.total, run.skipped) == (1, 1)


def test_another_firm_never_sees_a_check(registers, firm_a, firm_b):
    mine = _client(firm_a, "T1")
    theirs = _client(firm_b, "T1")
    registers.seed(mine, theirs)
    run = check_clients(firm=firm_a, client_ids=[mine.pk, theirs.pk])
    assert run.total == 2  # both registers for firm A's client only
    assert not RegisterCheck.objects.for_firm(firm_b).exists()
    assert set(RegisterCheck.objects.for_firm(firm_a).values_list("client", flat=True)) == {mine.pk}
