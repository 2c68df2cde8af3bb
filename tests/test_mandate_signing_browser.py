"""The mandate signed online, in Chromium: a collaborator sends the mandate; the client
opens the e-mail (a real SMTP server); a mail filter's fetch of the link opens nothing,
the client's browser does; it reads the code from the second e-mail, signs; the client page shows *Mandat signé* with « Télécharger ». Every state of
the public page passes axe-core with no serious or critical violation."""

from __future__ import annotations

import re
import time
from urllib.request import Request, urlopen

import pytest
from django.core.exceptions import ValidationError
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory
from tests.test_accessibility_browser import BLOCKING, audit, describe
from vigie.mail import services as mail
from vigie.mail.models import EmailStatus, OutboundEmail
from vigie.reform import services, signing, tokens
from vigie.reform.models import Mandate, MandateState
from vigie.reform.seal import sha256

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://\S+/reforme/mandat/[0-9a-z-]+/")
SCANNER = "Mozilla/5.0 (compatible; Microsoft Safe Links; +https://aka.ms/safelinks)"


def _eventually(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path, live_server):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = live_server.url


@pytest.fixture
def oasis(firm_a):
    client = ClientFactory(
        firm=firm_a, code="000246", name="CABINET DENTAIRE DE L'OASIS", siret="84523656100013"
    )
    ContactFactory(
        client=client,
        first_name="Jeanne",
        last_name="Martin",
        email="jeanne@oasis.fr",
        is_principal=True,
    )
    return client


def _deliver_all():
    """What the mail worker does."""
    for pk in OutboundEmail.objects.filter(status=EmailStatus.QUEUED).values_list("pk", flat=True):
        mail.email_deliver(pk)


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def _clean(page, state: str) -> None:
    violations = [v for v in audit(page) if v["impact"] in BLOCKING]
    assert not violations, f"{state}:\n{describe(violations)}"


def test_the_client_signs_online(page, browser, live_server, bob, oasis, sink):
    # The collaborator sends the mandate from the client page.
    sign_in(page, live_server, bob.email, PASSWORD)
    page.goto(f"{live_server.url}/clients/000246/")
    panel = page.get_by_test_id("reform-panel")
    panel.get_by_role("button", name="Générer et envoyer le mandat").click()
    expect(page.locator("#toasts")).to_contain_text("Mandat envoyé à jeanne@oasis.fr")
    expect(page.get_by_test_id("mandate-link-state")).to_contain_text("Signature en ligne")
    _deliver_all()
    [mandate_email] = sink.wait_for(1)
    assert mandate_email["To"].addresses[0].addr_spec == "jeanne@oasis.fr"
    link = LINK.search(_text(mandate_email)).group(0)

    # A link-scanning mail filter fetches it first (GET, HEAD): the mandate stays sent.
    for method in ("GET", "HEAD"):
        with urlopen(Request(link, method=method, headers={"User-Agent": SCANNER})) as answer:  # noqa: S310
            assert answer.status == 200
    assert Mandate.objects.get(client=oasis).state == MandateState.SENT

    # The client, in a browser of its own, follows the e-mail's link: the page, once
    # loaded, says a person opened it, before any step.
    context = browser.new_context(locale="fr-FR")
    tpe = context.new_page()
    tpe.set_default_timeout(10_000)
    tpe.goto(link)
    expect(tpe.get_by_role("heading", name="Mandat de facturation électronique")).to_be_visible()
    _eventually(lambda: Mandate.objects.get(client=oasis).state == MandateState.OPENED)
    assert Mandate.objects.get(client=oasis).codes_sent == 0
    expect(tpe.locator("iframe[title='Mandat de facturation électronique (PDF)']")).to_have_count(1)
    with tpe.expect_download() as download_info:
        tpe.get_by_test_id("mandate-pdf").click()
    original = open(download_info.value.path(), "rb").read()
    assert original.startswith(b"%PDF-")
    _clean(tpe, "ask")

    tpe.get_by_role("button", name="Recevoir le code par e-mail").click()
    expect(tpe.get_by_role("status")).to_contain_text("Un code à 6 chiffres a été envoyé")
    _clean(tpe, "code")
    _deliver_all()
    messages = sink.wait_for(2)
    code = re.search(r"\b(\d{6})\b", _text(messages[1])).group(1)

    # A wrong code first: the message next to the field.
    tpe.get_by_label("Code reçu par e-mail (6 chiffres)").fill(f"{(int(code) + 1) % 1_000_000:06d}")
    tpe.get_by_role("button", name="Valider le code").click()
    expect(tpe.get_by_role("alert")).to_contain_text("Code incorrect. Il vous reste 4 essai(s).")
    _clean(tpe, "wrong code")

    tpe.get_by_label("Code reçu par e-mail (6 chiffres)").fill(code)
    tpe.get_by_role("button", name="Valider le code").click()
    expect(tpe.get_by_test_id("identity-confirmed")).to_be_visible()
    _clean(tpe, "sign")

    # Signing without consent is refused; then ticked, signed.
    tpe.get_by_role("button", name="Signer le mandat").click()
    expect(tpe.get_by_role("alert")).to_contain_text("Cochez la case")
    _clean(tpe, "consent missing")
    tpe.get_by_label(re.compile("J'ai lu le mandat et j'accepte de le signer")).check()
    tpe.get_by_role("button", name="Signer le mandat").click()
    expect(tpe.get_by_role("heading", name="Mandat signé")).to_be_visible()
    _clean(tpe, "signed")
    with tpe.expect_download() as download_info:
        tpe.get_by_test_id("signed-pdf").click()
    sealed = open(download_info.value.path(), "rb").read()
    mandate = Mandate.objects.get(client=oasis)
    assert mandate.state == MandateState.SIGNED and mandate.signed_online
    assert sealed == mandate.signed_document.read()
    assert mandate.evidence["original_sha256"] == sha256(original)
    assert "Chrome" in mandate.evidence["user_agent"]
    context.close()

    # The client page shows it signed, with the sealed copy to download.
    page.reload()
    expect(page.get_by_test_id("reform-mandate")).to_contain_text("Mandat signé")
    expect(page.get_by_test_id("mandate-signed-online")).to_contain_text(
        "Signé en ligne par Jeanne Martin"
    )
    with page.expect_download() as download_info:
        page.get_by_test_id("mandate-download").click()
    assert open(download_info.value.path(), "rb").read() == sealed
    # And the portfolio's MANDAT column, as for an uploaded copy: « Télécharger ».
    page.goto(f"{live_server.url}/")
    link = page.locator('tr[data-code="000246"]').get_by_role("link", name="Télécharger")
    with page.expect_download() as download_info:
        link.click()
    assert open(download_info.value.path(), "rb").read() == sealed
    _deliver_all()
    kinds = [str(m["Subject"]).strip() for m in sink.wait_for(3)]
    assert any(s.startswith("Votre mandat signé") for s in kinds), kinds


def test_the_pages_of_a_link_that_cannot_sign(page, live_server, bob, oasis):
    mandate = services.mandate_send(client=oasis, actor=bob)
    sent = mandate.sent_at.timestamp()
    token = tokens.make_token(mandate, now=sent)
    pages = {
        "invalide": (token[:-2] + "00", "Lien invalide"),
        "expiré": (tokens.make_token(mandate, now=sent - 40 * 86400), "Lien expiré"),
    }
    for state, (value, heading) in pages.items():
        page.goto(f"{live_server.url}/reforme/mandat/{value}/")
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        _clean(page, state)
    mandate = signing.mandate_code_send(mandate=mandate)
    sent_code = OutboundEmail.objects.get(kind="reform.mandate_code").subject[:6]
    wrong = f"{(int(sent_code) + 1) % 1_000_000:06d}"
    for _ in range(signing.MAX_FAILURES):
        with pytest.raises(ValidationError):
            signing.mandate_code_verify(mandate=mandate, code=wrong)
    page.goto(f"{live_server.url}/reforme/mandat/{token}/")
    expect(page.get_by_role("heading", name="Lien de signature bloqué")).to_be_visible()
    _clean(page, "bloqué")
    services.mandate_send(client=oasis, actor=bob)  # replaces it
    page.goto(f"{live_server.url}/reforme/mandat/{token}/")
    expect(page.get_by_role("heading", name="Mandat retiré")).to_be_visible()
    _clean(page, "retiré")
