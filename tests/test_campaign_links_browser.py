"""A sensibilisation e-mail's personal link, in Chromium: a mail filter fetches it first
(GET, HEAD) and opens nothing; the client's browser shows the reform page (axe-audited,
no CSP violation) and its own signal records the open, once; the campaign's funnel
counts it and its count lists exactly that client; a tampered link is a French 404. A
Shine link forwards to Shine's page, at once with JavaScript, through « Continuer vers
Shine » without."""

from __future__ import annotations

import re
import time
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from playwright.sync_api import expect

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory
from tests.test_accessibility_browser import BLOCKING, audit, describe
from vigie.campaigns import services, tracking
from vigie.campaigns.models import Kind, Target
from vigie.clients.models import ClientEvent
from vigie.mail import services as mail
from vigie.mail.models import OutboundEmail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCANNER = "Mozilla/5.0 (compatible; Microsoft Safe Links; +https://aka.ms/safelinks)"
LINK = re.compile(r"https?://\S+/campagnes/lien/[^/\s]+/")


def _clean(page, where: str) -> None:
    violations = [v for v in audit(page) if v["impact"] in BLOCKING]
    assert not violations, f"{where}:\n{describe(violations)}"


def _eventually(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)


def _fetch(url: str, method: str) -> int:
    try:
        with urlopen(Request(url, method=method, headers={"User-Agent": SCANNER})) as answer:  # noqa: S310
            return answer.status
    except HTTPError as exc:
        return exc.code


def _sent(firm, actor, kind: str, prefix: str, name: str, **options):
    """A campaign of `kind` launched on two new clients (codes <prefix>00, <prefix>01),
    its e-mails queued."""
    clients = []
    for n in range(2):
        client = ClientFactory(firm=firm, code=f"{prefix}{n:02d}", name=f"{name} {n}")
        ContactFactory(
            client=client,
            first_name="Jeanne",
            email=f"{prefix.lower()}{n}@tpe.fr",
            is_principal=True,
        )
        clients.append(client)
    campaign = services.campaign_launch(
        firm=firm, actor=actor, kind=kind, client_ids=[c.pk for c in clients], name=name, **options
    )
    services.campaign_run(campaign.pk, slice_seconds=3600)
    return campaign


@pytest.fixture
def campaign(live_server, settings, firm_a, alice):
    """A sensibilisation campaign sent to two clients, its links to the live server."""
    settings.SITE_URL = live_server.url
    return _sent(firm_a, alice, Kind.SENSITISATION, "L", "Réforme d'hiver")


def test_the_personal_link_opens_on_the_clients_browser_only(page, browser, live_server, campaign):
    target = Target.objects.select_related("client").get(campaign=campaign, client__code="L01")
    link = LINK.search(OutboundEmail.objects.get(pk=target.email_id).text).group(0)

    # A link-scanning mail filter fetches it first: nothing is recorded.
    assert _fetch(link, "GET") == 200 and _fetch(link, "HEAD") == 200
    target.refresh_from_db()
    assert target.opened_at is None

    # The client, in a browser of its own.
    context = browser.new_context(locale="fr-FR")
    tpe = context.new_page()
    tpe.set_default_timeout(10_000)
    blocked = []
    tpe.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
    tpe.goto(link)
    expect(
        tpe.get_by_role(
            "heading", name="La facturation électronique : ce qui change pour votre entreprise"
        )
    ).to_be_visible()
    expect(tpe.get_by_test_id("key-dates")).to_contain_text("1 septembre 2027")
    expect(tpe.get_by_role("link", name="alice@alpha.fr")).to_have_attribute(
        "href", "mailto:alice@alpha.fr"
    )
    _eventually(lambda: Target.objects.get(pk=target.pk).opened_at is not None)
    _clean(tpe, "sensibilisation page")
    tpe.reload()
    expect(tpe.get_by_test_id("key-dates")).to_be_visible()
    tpe.wait_for_load_state("networkidle")
    assert list(
        ClientEvent.objects.filter(client=target.client, kind="campaign.opened").values_list(
            "summary", flat=True
        )
    ) == ["Campagne « Réforme d'hiver » : e-mail ouvert"]
    assert not blocked, blocked

    # A tampered link: a French 404 page, nothing recorded.
    tampered = link[:-2] + ("A" if link[-2] != "A" else "B") + "/"
    response = tpe.goto(tampered)
    assert response.status == 404
    expect(tpe.get_by_role("heading", name="Lien invalide")).to_be_visible()
    _clean(tpe, "invalid link")
    context.close()
    assert Target.objects.filter(campaign=campaign, opened_at__isnull=False).count() == 1

    # The collaborator's funnel: one opened, and its count lists exactly that client.
    sign_in(page, live_server, "alice@alpha.fr", PASSWORD)
    page.goto(f"{live_server.url}/campagnes/{campaign.public_id}/")
    expect(page.get_by_test_id("count-ouverts")).to_have_text("1")
    page.get_by_test_id("count-ouverts").click()
    expect(page.get_by_test_id("page-range")).to_have_text("1-1 sur 1")
    expect(page.locator('tr[data-code="L01"]')).to_have_count(1)


def test_the_shine_link_forwards_to_shine_with_or_without_javascript(
    browser, live_server, settings, shine, firm_a, alice, catalogue, sink
):
    """With JavaScript the page records the open and forwards at once; without, it
    waits for « Continuer vers Shine ». Either way the client lands on Shine's page."""
    settings.SITE_URL = live_server.url
    campaign = _sent(
        firm_a, alice, Kind.SHINE, "K", "Shine d'hiver", plan="start", billing_mode="shine"
    )
    targets = list(Target.objects.filter(campaign=campaign).order_by("client__code"))
    for target in targets:
        mail.email_deliver(target.email_id)  # what the worker does
    links = [LINK.search(m.get_body(("plain",)).get_content()).group(0) for m in sink.wait_for(2)]
    link_of = {
        t.pk: next(x for x in links if tracking.make_token(campaign, t.client) in x)
        for t in targets
    }
    onboarding = re.compile(re.escape(shine.url) + "/onboarding/")

    # JavaScript on: straight on to Shine, the open recorded.
    context = browser.new_context(locale="fr-FR")
    tpe = context.new_page()
    tpe.goto(link_of[targets[0].pk])
    tpe.wait_for_url(onboarding)
    assert Target.objects.get(pk=targets[0].pk).opened_at is not None
    context.close()

    # JavaScript off: the page waits for the button; nothing recorded before it.
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    tpe = context.new_page()
    tpe.goto(link_of[targets[1].pk])
    button = tpe.get_by_role("button", name="Continuer vers Shine")
    expect(button).to_be_visible()
    assert Target.objects.get(pk=targets[1].pk).opened_at is None
    button.click()
    tpe.wait_for_url(onboarding)
    assert Target.objects.get(pk=targets[1].pk).opened_at is not None
    context.close()
