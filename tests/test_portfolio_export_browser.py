"""A large export in Chromium: « Exporter CSV » on a view above EXPORT_INLINE_MAX_ROWS
opens « Export en préparation », the worker's service writes the file, the page (polling
with htmx) offers « Télécharger » and the file downloads; without JavaScript the page
reloads itself. Below the threshold the toolbar's link still downloads at once."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, FirmFactory, MembershipFactory
from vigie.exports import services
from vigie.exports.models import PortfolioExport, State
from vigie.firms.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_INLINE_MAX_ROWS = 3


@pytest.fixture
def user(db):
    firm = FirmFactory(name="Cabinet Démonstration")
    for i, name in enumerate(["Atelier", "Boulangerie", "Cave", "Droguerie", "Épicerie"]):
        ClientFactory(firm=firm, code=f"00024{i}", name=f"{name} Martin")
    return MembershipFactory(firm=firm, role=Role.ADMIN, user__email="demo@cabinet.fr").user


def _run_the_worker(fmt: str) -> PortfolioExport:
    """What the task worker does with the queued export (its task's service)."""
    job = PortfolioExport.objects.get(fmt=fmt, state=State.QUEUED)
    services.export_run(export_id=job.pk)
    return job


def test_a_large_export_is_prepared_then_downloaded(page, live_server, user):
    sign_in(page, live_server, user.email, PASSWORD)
    page.goto(f"{live_server.url}/?sort=-code")
    # The view changed by htmx: the toolbar's link follows it (swapped out of band).
    page.get_by_role("tab", name="Collecte").click()
    page.wait_for_url(re.compile(r"view=collecte"))
    expect(page.locator("form:has([data-testid=export-csv])")).to_have_attribute(
        "action", "/portefeuille/export.csv?view=collecte&sort=-code"
    )
    page.get_by_test_id("export-csv").click()
    expect(page.get_by_role("heading", name="Export en préparation")).to_be_visible()
    expect(page.get_by_test_id("export-status")).to_contain_text("5 clients")
    page.wait_for_url(re.compile(r"/portefeuille/exports/[0-9a-f-]+/$"))

    _run_the_worker("csv")
    # The page polls every 2 s: the link appears without a reload.
    download_link = page.get_by_role("link", name="Télécharger")
    expect(download_link).to_be_visible()
    expect(page.get_by_role("heading", name="Export prêt")).to_be_visible()
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename == (
        f"portefeuille-collecte-{timezone.localdate():%Y-%m-%d}.csv"
    )
    text = open(download.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert "EMAIL DE COLLECTE" in rows[0]
    assert [r[2] for r in rows[1:]] == ["000244", "000243", "000242", "000241", "000240"]

    # Below the threshold the toolbar's link downloads at once, as before.
    page.goto(f"{live_server.url}/?q=cave")
    with page.expect_download() as info:
        page.get_by_test_id("export-xlsx").click()
    sheet = load_workbook(io.BytesIO(info.value.path().read_bytes())).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["Cave Martin"]


def test_without_javascript_the_page_reloads_itself(browser, live_server, user):
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server, user.email, PASSWORD)
        page.goto(live_server.url + "/")
        page.get_by_test_id("export-xlsx").click()
        expect(page.get_by_role("heading", name="Export en préparation")).to_be_visible()
        _run_the_worker("xlsx")
        link = page.get_by_role("link", name="Télécharger")
        expect(link).to_be_visible()  # the meta refresh, every 3 s
        with page.expect_download() as info:
            link.click()
        sheet = load_workbook(io.BytesIO(info.value.path().read_bytes())).active
        assert sheet.max_row == 6
    finally:
        context.close()
