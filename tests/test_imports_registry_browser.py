"""« Compléter depuis le registre » in Chromium, with a real task worker and the sandbox
company register at a low rate: the preview's rows looked up while the page shows the
progress, the register's values beside the file's (axe-audited), a row accepted, the
import run by the worker with those values; and the head office's address put into
« Nouveau client » by « Remplir depuis le registre »."""

from __future__ import annotations

import csv
import re
import signal
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD
from tests.registries import point_at_sandbox
from tests.test_accessibility_browser import BLOCKING, audit, describe
from tests.test_registries_worker import _env
from vigie.clients.models import Client, LegalForm
from vigie.imports.models import RegistryRow
from vigie.lib.validators import format_siret, make_siret
from vigie.registries.sirene import SireneClient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FLEURS = make_siret("52345678", "0001")
GARAGE = make_siret("52345679", "0001")
BAKERY = make_siret("52345677", "0001")


@pytest.fixture
def registers(sandbox, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    registers = point_at_sandbox(sandbox, settings)
    registers.seed(
        Client(code="F1", name="Fleurs du Marché", siret=FLEURS, legal_form="SAS", ape_code="47.76Z"),
        Client(code="G1", name="Garage du Port", siret=GARAGE, legal_form="SARL", ape_code="45.20A"),
        Client(code="B1", name="Boulangerie Neuve", siret=BAKERY, legal_form="EURL", ape_code="10.71C"),
    )  # fmt: skip
    return registers


def _worker(sandbox, tmp_path) -> subprocess.Popen:
    """A worker of the import's queues, calling the register once a second (the page
    shows its progress for a few seconds)."""
    return subprocess.Popen(
        [sys.executable, "-m", "vigie", "db_worker", "--queue-name", "default,registers",
         "--interval", "0.1", "--no-startup-delay"],
        env=_env(sandbox, SIRENE_RATE="1", VIGIE_VAR_DIR=str(tmp_path / "var")),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _file(tmp_path):
    path = tmp_path / "clients.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Code client", "Raison sociale", "SIRET", "Ville"])
        writer.writerow(["F1", "", format_siret(FLEURS), ""])
        writer.writerow(["G1", "Garage du Port", GARAGE, "Arcachon"])
        writer.writerow(["B1", "", BAKERY, ""])
        writer.writerow(["X1", "Chez Xavier", "845 236 561 00014", ""])
    return path


def test_complete_the_preview_from_the_register(
    page, live_server, registers, sandbox, alice, tmp_path
):
    sign_in(page, live_server, alice.email, PASSWORD)
    page.goto(live_server.url + "/imports/")
    page.locator("input[type=file]").set_input_files(str(_file(tmp_path)))
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/imports/[0-9a-f-]{36}/$"))
    section = page.locator("#registre")
    expect(section).to_contain_text("Les 200 premières lignes du fichier")

    section.get_by_role("button", name="Compléter depuis le registre").click()
    expect(section).to_contain_text("Lecture des 200 premières lignes…")  # nobody works yet
    worker = _worker(sandbox, tmp_path)
    try:
        expect(section.locator("progress")).to_be_visible(timeout=20_000)
        expect(section.get_by_test_id("registry-proposals")).to_be_visible(timeout=30_000)
        expect(section.get_by_test_id("registry-summary")).to_contain_text(
            "3 lignes à compléter parmi les 4 premières ; 1 SIRET invalide"
        )
        # Each valid SIRET asked once, the invalid one never.
        assert registers.state("sirene")["calls_by_query"] == {FLEURS: 1, GARAGE: 1, BAKERY: 1}
        fleurs = section.locator("tr[data-line='2']")
        expect(fleurs.get_by_test_id("register-values")).to_contain_text("FLEURS DU MARCHÉ")
        head = SireneClient().company(FLEURS).head_office
        expect(fleurs.get_by_test_id("register-values")).to_contain_text(head.street)
        expect(fleurs).to_contain_text("vide")
        # G1: the file gives its town, so only the street and the postal code are proposed.
        garage = section.locator("tr[data-line='3']")
        expect(garage.get_by_test_id("register-values")).not_to_contain_text("Ville")

        violations = [v for v in audit(page) if v["impact"] in BLOCKING]
        assert not violations, describe(violations)

        section.get_by_role("button", name="Tout accepter").click()
        expect(section.get_by_test_id("registry-accepted")).to_contain_text("3 lignes acceptées")
        section.get_by_label("Reprendre les valeurs du registre pour la ligne 4 (B1)").uncheck()
        expect(section.get_by_test_id("registry-accepted")).to_contain_text("2 lignes acceptées")
        assert set(RegistryRow.objects.filter(accepted=True).values_list("code", flat=True)) == {
            "F1",
            "G1",
        }

        page.get_by_role("button", name="Lancer l'import").click()
        expect(page.get_by_test_id("created")).to_have_text("2", timeout=30_000)
        # B1 (its name left empty, the register's refused) and X1 (its SIRET) are rejected.
        expect(page.get_by_test_id("rejected")).to_have_text("2")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)

    page.goto(live_server.url + "/clients/F1/")
    details = page.locator("#details")
    expect(page.get_by_role("heading", level=1)).to_have_text("FLEURS DU MARCHÉ")
    expect(details.get_by_test_id("address")).to_contain_text(head.street)
    expect(details.get_by_test_id("address")).to_contain_text(f"{head.postal_code} {head.city}")
    garage = Client.objects.get(code="G1")
    assert garage.city == "Arcachon"  # the file's own value stays
    assert garage.address == SireneClient().company(GARAGE).head_office.street
    assert not Client.objects.filter(code="B1").exists()


def test_fill_a_new_client_with_its_address(page, live_server, registers, bob):
    sign_in(page, live_server, bob.email, PASSWORD)
    page.goto(f"{live_server.url}/clients/nouveau/")
    page.get_by_label("Siret").fill(format_siret(FLEURS))
    page.get_by_role("link", name="Remplir depuis le registre").click()
    page.get_by_role("button", name="Utiliser ces valeurs").click()
    expect(page.get_by_test_id("registry-filled")).to_be_visible()
    head = SireneClient().company(FLEURS).head_office
    expect(page.get_by_label("Adresse")).to_have_value(head.street)
    expect(page.get_by_label("Code postal")).to_have_value(head.postal_code)
    expect(page.get_by_label("Ville")).to_have_value(head.city)
    page.get_by_label("Code client").fill("F1")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#details").get_by_test_id("address")).to_contain_text(head.street)
    created = Client.objects.get(code="F1")
    assert (created.legal_form, created.postal_code) == (LegalForm.SAS, head.postal_code)
