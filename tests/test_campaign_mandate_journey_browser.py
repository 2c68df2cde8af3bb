"""A mandate campaign from end to end, in Chromium, with a real task worker and SMTP
server: a collaborator launches it on a filtered selection; a mail filter fetches one
client's link (which opens nothing); another client opens the e-mail, reads the code
from the second e-mail and signs; the campaign's funnel moves (opened,
signed) and the sealed PDF passes pyHanko's validation."""

from __future__ import annotations

import concurrent.futures
import io
import os
import re
import subprocess
import sys
from urllib.request import Request, urlopen

import pytest
from playwright.sync_api import expect
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory
from tests.test_campaigns_worker import _stop
from tests.test_mail_worker import _database_url
from vigie.lib.validators import make_siret
from vigie.mail.testing import SMTPSink
from vigie.reform.models import Mandate, MandateState
from vigie.reform.pades import sealer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://\S+/reforme/mandat/[0-9a-z-]+/")


@pytest.fixture
def portfolio(firm_a, firm_b, alice):
    """Three clients ready for a mandate, one already signed (filtered out), one of firm B."""
    for n in range(3):
        client = ClientFactory(
            firm=firm_a, code=f"M{n:02d}", name=f"Fleuriste {n}",
            siret=make_siret(f"8{n:07d}", "0001"),
        )  # fmt: skip
        ContactFactory(
            client=client, first_name="Jeanne", last_name=f"Martin{n}",
            email=f"m{n}@tpe.fr", is_principal=True,
        )  # fmt: skip
    ClientFactory(firm=firm_a, code="SIGNE", mandate_status="signe")
    ClientFactory(firm=firm_b, code="B00")


def _worker(sink: SMTPSink, site_url: str) -> subprocess.Popen:
    """The task worker, sending through the test's SMTP server, writing links to the live
    server (the mandates' files under the same VIGIE_VAR_DIR as this process)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vigie.settings",
        "DATABASE_URL": _database_url(),
        "EMAIL_URL": sink.url,
        "EMAIL_TIMEOUT": "30",
        "SITE_URL": site_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "x" * 50),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "vigie", "db_worker", "--interval", "0.1", "--no-startup-delay"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_mandate_campaign_signed_online_moves_its_funnel(
    live_server, page, browser, portfolio, settings
):
    settings.SITE_URL = live_server.url
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(live_server.url + "/?mandat=non_signe")
    expect(page.get_by_test_id("page-range")).to_have_text("1-3 sur 3")
    page.locator("tbody input[name=codes]").first.check()
    page.get_by_role("button", name="Sélectionner les 3 clients").click()
    page.get_by_test_id("bulk-campaign").click()
    dialog = page.get_by_test_id("campaign-dialog")
    dialog.get_by_test_id("kind-mandat").check()
    # The dialog comes back for that kind (its preflight, its preview, its default name).
    expect(page.get_by_label("Nom de la campagne")).to_have_attribute(
        "placeholder", re.compile("^Mandat")
    )
    expect(dialog.get_by_test_id("ready-count")).to_have_text("3")
    page.get_by_label("Nom de la campagne").fill("Mandats de décembre")
    page.get_by_test_id("campaign-launch").click()
    expect(page.locator("h1")).to_have_text("Mandats de décembre")

    with SMTPSink() as sink:
        worker = _worker(sink, live_server.url)
        try:
            expect(page.get_by_test_id("count-envoyes")).to_have_text("3", timeout=30_000)
            mandates = sink.wait_for(3, timeout=30)
            to_m1 = next(m for m in mandates if m["To"].addresses[0].addr_spec == "m1@tpe.fr")
            link = LINK.search(_text(to_m1)).group(0)
            # M0's mail filter fetches its link (GET, HEAD): that opens nothing.
            to_m0 = next(m for m in mandates if m["To"].addresses[0].addr_spec == "m0@tpe.fr")
            for method in ("GET", "HEAD"):
                scan = Request(LINK.search(_text(to_m0)).group(0), method=method)
                with urlopen(scan) as answer:  # noqa: S310
                    assert answer.status == 200

            # The client, in a browser of its own.
            context = browser.new_context(locale="fr-FR")
            tpe = context.new_page()
            tpe.set_default_timeout(15_000)
            tpe.goto(link)
            expect(
                tpe.get_by_role("heading", name="Mandat de facturation électronique")
            ).to_be_visible()
            # The page, once loaded, says a person opened it: before any step.
            tpe.wait_for_load_state("networkidle")
            page.reload()
            expect(page.get_by_test_id("count-ouverts")).to_have_text("1")
            tpe.get_by_role("button", name="Recevoir le code par e-mail").click()
            expect(tpe.get_by_role("status")).to_contain_text("Un code à 6 chiffres a été envoyé")
            # The second e-mail to that client: its subject starts with the code.
            code_mail = next(
                m for m in sink.wait_for(4, timeout=30)
                if "m1@tpe.fr" in str(m["To"]) and re.match(r"\d{6}\b", str(m["Subject"]).strip())
            )  # fmt: skip
            code = re.match(r"\d{6}", str(code_mail["Subject"]).strip()).group(0)
            tpe.get_by_label("Code reçu par e-mail (6 chiffres)").fill(code)
            tpe.get_by_role("button", name="Valider le code").click()
            expect(tpe.get_by_test_id("identity-confirmed")).to_be_visible()
            tpe.get_by_label(re.compile("J'ai lu le mandat et j'accepte de le signer")).check()
            tpe.get_by_role("button", name="Signer le mandat").click()
            expect(tpe.get_by_role("heading", name="Mandat signé")).to_be_visible()
            context.close()

            # The funnel: one opened (M1, not M0's scanned link), one signed; each count
            # opens exactly that client.
            page.reload()
            expect(page.get_by_test_id("count-ouverts")).to_have_text("1")
            expect(page.get_by_test_id("count-signes")).to_have_text("1")
            campaign_url = page.url
            page.get_by_test_id("count-ouverts").click()
            expect(page.get_by_test_id("page-range")).to_have_text("1-1 sur 1")
            expect(page.locator('tr[data-code="M01"]')).to_have_count(1)
            page.goto(campaign_url)
            page.get_by_test_id("count-signes").click()
            expect(page.get_by_test_id("page-range")).to_have_text("1-1 sur 1")
            expect(page.locator('tr[data-code="M01"]')).to_have_count(1)
        finally:
            _stop(worker)

    mandate = Mandate.objects.get(client__code="M01")
    assert mandate.state == MandateState.SIGNED and mandate.signed_online
    [signature] = PdfFileReader(io.BytesIO(mandate.signed_document.read())).embedded_signatures
    context = ValidationContext(trust_roots=[sealer().trust_root])
    # pyHanko's validation runs an event loop of its own: not in the browser driver's thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        status = pool.submit(validate_pdf_signature, signature, context).result()
    assert status.intact and status.valid and status.trusted
    assert Mandate.objects.filter(state=MandateState.SENT).count() == 2  # M0 scanned, M2
    assert Mandate.objects.get(client__code="M00").opened_at is None
