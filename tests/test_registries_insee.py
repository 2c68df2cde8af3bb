"""The company register read from INSEE's API Sirene (`SIRENE_SOURCE=insee`) against the
sandbox's: the fields mapped as from the API Recherche d'entreprises, many SIRETs a call,
its key, its faults, and a run whose findings are the same with either source."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.factories import ClientFactory
from tests.registries import point_at_sandbox
from vigie.clients.models import LegalForm, PaStatus
from vigie.lib.validators import make_siret
from vigie.registries import lookup
from vigie.registries.connectors import company_register
from vigie.registries.http import RegisterRefused, RegisterUnavailable
from vigie.registries.insee import BATCH, InseeClient
from vigie.registries.models import CheckStatus, Register, RegisterCheck
from vigie.registries.services import check_clients
from vigie.registries.sirene import SireneClient

pytestmark = pytest.mark.django_db

INSEE_KEY = "sandbox-insee-key"


@pytest.fixture
def registers(sandbox, settings):
    registers = point_at_sandbox(sandbox, settings)
    settings.SIRENE_SOURCE = "insee"
    settings.INSEE_API_URL = sandbox.url + "/api-sirene/3.11"
    settings.INSEE_API_KEY = INSEE_KEY
    settings.INSEE_RATE_PER_MINUTE = 6000
    sandbox.call("POST", "/_sandbox/insee/config", {"per_minute": 0, "fault": "none"})
    return registers


def _insee(sandbox) -> dict:
    return sandbox.call("GET", "/_sandbox/insee/state")


def _client(firm, code, **fields):
    defaults = {"legal_form": LegalForm.SARL, "ape_code": "47.24Z", "pa_name": "Docaposte"}
    return ClientFactory(firm=firm, code=code, **{**defaults, **fields})


def test_the_source_is_chosen_by_setting(registers, settings):
    assert isinstance(company_register(), InseeClient)
    settings.SIRENE_SOURCE = "recherche"
    assert isinstance(company_register(), SireneClient)
    settings.SIRENE_SOURCE = "insee"
    settings.INSEE_API_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        company_register()


def test_it_maps_as_the_other_source_does(registers, sandbox, firm_a):
    oasis = _client(
        firm_a, "000246", name="Cabinet dentaire de l'Oasis", siret="84523656100013",
        legal_form=LegalForm.SELARL, ape_code="86.23Z",
    )  # fmt: skip
    registers.seed(oasis)
    insee = InseeClient().company(oasis.siret)
    other = SireneClient().company(oasis.siret)
    for field in (
        "siren",
        "name",
        "nature_juridique",
        "legal_form",
        "ape_code",
        "ape_label",
        "active",
    ):
        assert getattr(insee, field) == getattr(other, field), field
    assert insee.head_office.siret == other.head_office.siret == oasis.siret
    head, theirs = insee.head_office, other.head_office
    assert (head.street, head.postal_code, head.city) == (
        theirs.street,
        theirs.postal_code,
        theirs.city,
    )
    assert insee.directors == [] and insee.open_establishments is None


def test_many_sirets_a_call_the_head_office_named_by_its_unit(registers, sandbox, firm_a):
    clients = [
        _client(firm_a, f"M{i}", siret=make_siret(f"7{i:07d}", "0001")) for i in range(BATCH + 5)
    ]
    branch = _client(firm_a, "BR", siret=make_siret("70000000", "0002"))
    registers.seed(*clients, branch, BR={"sirene": "not_head_office"})
    found = InseeClient().companies([c.siret for c in [*clients, branch]])
    # 56 SIRETs: two calls of at most 50; the branch's unit names its head office.
    assert _insee(sandbox)["calls"] == 2
    assert all(found[c.siret] is not None for c in clients)
    head = found[branch.siret].head_office
    assert head.siret != branch.siret and head.siret[:9] == branch.siret[:9]
    assert head.is_head_office and head.address == ""  # where it is, this answer does not say


def test_filling_a_form_reads_the_head_offices_address_in_one_more_call(registers, sandbox, firm_a):
    head = _client(firm_a, "H1", siret=make_siret("71000000", "0001"))
    branch = _client(firm_a, "H2", siret=make_siret("71000000", "0002"))
    registers.seed(head, branch)
    company = InseeClient().company(branch.siret)
    assert _insee(sandbox)["calls"] == 2
    assert company.head_office.siret == head.siret and company.head_office.postal_code


def test_an_unknown_siret_is_none_and_an_invalid_one_never_sent(registers, sandbox, firm_a):
    unknown = _client(firm_a, "U1")
    registers.seed(unknown, sirene="unknown")
    assert InseeClient().companies([unknown.siret]) == {unknown.siret: None}
    with pytest.raises(ValueError):
        InseeClient().companies([unknown.siret[:13] + str((int(unknown.siret[13]) + 1) % 10)])
    assert _insee(sandbox)["calls"] == 1


def test_a_wrong_key_is_refused(registers, sandbox, firm_a):
    client = _client(firm_a, "K1")
    registers.seed(client)
    with pytest.raises(RegisterRefused) as refused:
        InseeClient(key="wrong").company(client.siret)
    assert refused.value.status == 401
    assert _insee(sandbox)["unauthorized"] == 1


def test_faults_are_retried_then_said(registers, sandbox, firm_a):
    client = _client(firm_a, "F1")
    registers.seed(client)
    sandbox.call("POST", "/_sandbox/insee/config", {"fault": "429", "retry_after": 1})
    assert InseeClient(retries=0).company(client.siret) is not None  # waited, then answered
    sandbox.call("POST", "/_sandbox/insee/config", {"fault": "500", "count": 1})
    assert InseeClient(retries=1, backoff=0).company(client.siret) is not None
    sandbox.call("POST", "/_sandbox/insee/config", {"fault": "malformed", "count": 3})
    with pytest.raises(RegisterUnavailable):
        InseeClient(retries=2, backoff=0).company(client.siret)


def test_the_limit_per_minute_is_obeyed(registers, sandbox, firm_a, settings):
    clients = [_client(firm_a, f"R{i}", siret=make_siret(f"6{i:07d}", "0001")) for i in range(4)]
    registers.seed(*clients)
    # Two calls per 2 s window (a minute, shortened), asked faster: a 429, obeyed.
    sandbox.call("POST", "/_sandbox/insee/config", {"per_minute": 2, "window": 2})
    settings.INSEE_RATE_PER_MINUTE = 600
    connector = InseeClient(retries=0)
    for client in clients[:3]:
        connector.company(client.siret)
    state = _insee(sandbox)
    assert state["calls"] == 3 and state["rejected"] >= 1


SCENARIOS = ["ok", "ceased", "establishment_closed", "not_head_office", "name", "legal_form", "ape"]


def test_a_run_finds_what_the_other_source_finds_in_fewer_calls(
    registers, sandbox, firm_a, settings
):
    clients = {s: _client(firm_a, s[:10], pa_status=PaStatus.REGISTERED) for s in SCENARIOS}
    registers.seed(*clients.values(), **{c.code: {"sirene": s} for s, c in clients.items()})
    check_clients(firm=firm_a, registers=(Register.SIRENE,))
    by_insee = {
        s: (c.status, [f["code"] for f in c.findings])
        for s in SCENARIOS
        for c in [RegisterCheck.objects.get(client=clients[s], register=Register.SIRENE)]
    }
    assert RegisterCheck.objects.filter(source__startswith="API Sirene (Insee)").count() == 7
    insee_calls = _insee(sandbox)["calls"]
    settings.SIRENE_SOURCE = "recherche"
    check_clients(firm=firm_a, registers=(Register.SIRENE,))
    by_recherche = {
        s: (c.status, [f["code"] for f in c.findings])
        for s in SCENARIOS
        for c in [RegisterCheck.objects.get(client=clients[s], register=Register.SIRENE)]
    }
    assert by_insee == by_recherche
    assert by_insee["ceased"][0] == CheckStatus.CEASED
    assert by_insee["not_head_office"] == (CheckStatus.DRIFT, ["not_head_office"])
    # Seven clients, one call (the units name their head offices).
    assert insee_calls == 1 < registers.state("sirene")["calls"]


def test_a_run_whose_batch_call_fails_retries_then_says_why(registers, sandbox, firm_a):
    client = _client(firm_a, "X1")
    registers.seed(client)
    sandbox.call("POST", "/_sandbox/insee/config", {"fault": "500", "count": 20})
    check_clients(firm=firm_a, registers=(Register.SIRENE,))
    check = RegisterCheck.objects.get(client=client, register=Register.SIRENE)
    assert check.status == CheckStatus.UNVERIFIED and "HTTP 500" in check.reason


def test_fill_from_the_siret_reads_insee_too(registers, firm_a):
    client = _client(firm_a, "L1", name="Fleurs du marché", legal_form=LegalForm.SAS)
    registers.seed(client)
    found = lookup.find(client.siret)
    assert found.values()["legal_form"] == LegalForm.SAS
    assert found.values()["name"].upper() == "FLEURS DU MARCHÉ"


def test_an_individual_entrepreneur_is_named_as_firms_write_it(registers, firm_a):
    same = _client(firm_a, "EI1", name="VALENTIN Henriette", legal_form=LegalForm.EI)
    renamed = _client(firm_a, "EI2", name="LEBON Élise", legal_form=LegalForm.EI)
    registers.seed(same, renamed, EI2={"sirene": "name"})
    found = InseeClient().companies([same.siret, renamed.siret])
    assert found[same.siret].name == "VALENTIN HENRIETTE"  # nomUniteLegale, prenom1UniteLegale
    check_clients(firm=firm_a, registers=(Register.SIRENE,))
    checks = {c.client.code: c for c in RegisterCheck.objects.filter(register=Register.SIRENE)}
    assert checks["EI1"].status == CheckStatus.UP_TO_DATE
    assert [f["code"] for f in checks["EI2"].findings] == ["name"]
