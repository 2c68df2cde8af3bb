"""Contract tests of the register connectors against the sandbox registers, over HTTP:
the fields mapped, the SIRET never sent when its check digit fails, and the faults
(429 with Retry-After, 5xx, timeouts, garbage)."""

from __future__ import annotations

import time

import pytest

from tests.factories import ClientFactory
from tests.registries import point_at_sandbox
from vigie.clients.models import LegalForm
from vigie.lib.validators import make_siret
from vigie.registries.annuaire import AnnuaireClient
from vigie.registries.http import RegisterUnavailable
from vigie.registries.sirene import SireneClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def registers(sandbox, settings):
    return point_at_sandbox(sandbox, settings)


@pytest.fixture
def oasis(firm_a):
    return ClientFactory(
        firm=firm_a,
        code="000246",
        name="Cabinet dentaire de l'Oasis",
        siret="84523656100013",
        legal_form=LegalForm.SELARL,
        ape_code="86.23Z",
        pa_name="Docaposte",
    )


def test_it_maps_a_company_and_its_establishment(registers, oasis):
    registers.seed(oasis)
    company = SireneClient().company(oasis.siret)
    assert company.siren == "845236561"
    assert company.name == "CABINET DENTAIRE DE L'OASIS"
    assert company.legal_form == LegalForm.SELARL and company.nature_juridique == "5485"
    assert (company.ape_code, company.ape_label) == ("86.23Z", "Pratique dentaire")
    assert company.active and company.head_office.siret == oasis.siret
    assert company.head_office.address.endswith(("PARIS", "LYON", "MARSEILLE", "BORDEAUX"))
    assert company.directors and company.directors[0]["role"] == "Gérant"
    assert oasis.siret in company.establishments


def test_a_siren_query_lists_the_establishments(registers, firm_a):
    head = ClientFactory(firm=firm_a, siret=make_siret("51234567", "0001"))
    branch = ClientFactory(firm=firm_a, siret=make_siret("51234567", "0002"))
    registers.seed(head, branch)
    company = SireneClient().company(head.siret[:9])
    assert set(company.establishments) == {head.siret, branch.siret}
    assert company.head_office.siret == head.siret


def test_an_unknown_siret_is_none(registers, oasis):
    registers.seed(oasis, sirene="unknown")
    assert SireneClient().company(oasis.siret) is None


def test_a_siret_failing_its_check_digit_is_never_sent(registers):
    with pytest.raises(ValueError):
        SireneClient().company("84523656100014")
    with pytest.raises(ValueError):
        AnnuaireClient().lines("845236562")
    assert registers.state("sirene")["calls"] == 0
    assert registers.state("annuaire")["calls"] == 0


def test_it_maps_directory_lines(registers, oasis):
    registers.seed(oasis, annuaire="future_date")
    [line] = AnnuaireClient().lines(oasis.siren)
    assert line.addressing_identifier == f"{oasis.siren}_{oasis.siret}"
    assert (line.level, line.siret, line.platform_name) == ("siret", oasis.siret, "Docaposte")
    assert line.platform_registration_number == "0045" and line.status == "Upcoming"
    assert line.effective is not None


def test_no_line_is_an_empty_list(registers, oasis):
    registers.seed(oasis, annuaire="no_line")
    assert AnnuaireClient().lines(oasis.siren) == []


def test_the_csv_export_gives_the_same_lines(registers, oasis, firm_a):
    other = ClientFactory(firm=firm_a)
    registers.seed(oasis, other, annuaire="siren_level")
    exported = AnnuaireClient().export()
    assert {line.addressing_identifier for line in exported} == {oasis.siren, other.siren}
    assert exported[0] == AnnuaireClient().lines(exported[0].siren)[0]


def test_a_wrong_token_is_refused(registers, oasis):
    from vigie.registries.http import RegisterRefused

    with pytest.raises(RegisterRefused) as refused:
        AnnuaireClient(token="wrong").lines(oasis.siren)
    assert refused.value.status == 401


def test_a_429_waits_for_its_retry_after(registers, oasis):
    registers.seed(oasis)
    registers.fault("sirene", "429", count=1, retry_after=2)
    started = time.monotonic()
    assert SireneClient(retries=0).company(oasis.siret) is not None
    assert time.monotonic() - started >= 1.9


def test_a_5xx_is_retried(registers, oasis):
    registers.seed(oasis)
    registers.fault("annuaire", "500", count=1)
    assert len(AnnuaireClient(retries=1, backoff=0).lines(oasis.siren)) == 1


@pytest.mark.parametrize("mode", ["500", "malformed"])
def test_it_gives_up_after_its_retries(registers, oasis, mode):
    registers.seed(oasis)
    registers.fault("sirene", mode, count=3)
    with pytest.raises(RegisterUnavailable):
        SireneClient(retries=2, backoff=0).company(oasis.siret)
    assert registers.state("sirene")["faults_pending"] == 0


def test_a_timeout_is_unavailable(registers, oasis):
    registers.seed(oasis)
    registers.fault("annuaire", "timeout", count=1)
    started = time.monotonic()
    with pytest.raises(RegisterUnavailable, match="à temps"):
        AnnuaireClient(timeout=1, retries=0).lines(oasis.siren)
    assert time.monotonic() - started < 5
