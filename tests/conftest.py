"""The people of every test (healthchecks' style):

- alice: admin of firm A ("Cabinet Alpha")
- bob: collaborator of firm A
- charlie: admin of firm B ("Cabinet Bravo"), who must never see anything of firm A
"""

from __future__ import annotations

import os

import pytest

from tests.factories import (
    PASSWORD,
    ClientFactory,
    ContactFactory,
    FirmFactory,
    MembershipFactory,
)
from vigie.equipment.catalogue import install as install_catalogue
from vigie.equipment.models import Solution
from vigie.firms.models import Role


@pytest.fixture(autouse=True)
def _sandbox_on_loopback(settings):
    """The sandbox partner and registers listen on 127.0.0.1: addresses users give the
    server may lead there in tests (tests/test_netguard.py checks they may not otherwise)."""
    settings.OUTBOUND_PRIVATE_HOSTS = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness costs ~0.3 s per user created; tests don't need it.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # rows made outside a test
    ]


@pytest.fixture
def firm_a(db):
    return FirmFactory(name="Cabinet Alpha")


@pytest.fixture
def firm_b(db):
    return FirmFactory(name="Cabinet Bravo")


@pytest.fixture
def alice(firm_a):
    return MembershipFactory(
        firm=firm_a,
        role=Role.ADMIN,
        user__email="alice@alpha.fr",
        user__first_name="Alice",
        user__last_name="Adam",
    ).user


@pytest.fixture
def bob(firm_a):
    return MembershipFactory(
        firm=firm_a,
        role=Role.COLLABORATOR,
        user__email="bob@alpha.fr",
        user__first_name="Bob",
        user__last_name="Bernard",
    ).user


@pytest.fixture
def charlie(firm_b):
    return MembershipFactory(
        firm=firm_b,
        role=Role.ADMIN,
        user__email="charlie@bravo.fr",
        user__first_name="Charlie",
        user__last_name="Chevalier",
    ).user


@pytest.fixture
def password():
    return PASSWORD


def _signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(client, alice):
    return _signed_in(client, alice)


@pytest.fixture
def bob_client(django_client_factory, bob):
    return _signed_in(django_client_factory(), bob)


@pytest.fixture
def charlie_client(django_client_factory, charlie):
    return _signed_in(django_client_factory(), charlie)


@pytest.fixture
def django_client_factory():
    from django.test import Client

    return Client


READY_SIRET = "84523656100013"


@pytest.fixture
def client_a(firm_a):
    """A client of firm A."""
    return ClientFactory(firm=firm_a, name="Boulangerie Dupont", code="A001")


@pytest.fixture
def ready(firm_a):
    """A client of firm A ready for a mandate or an invitation: a SIRET, and a principal
    contact with an e-mail."""
    client = ClientFactory(firm=firm_a, code="R001", name="Boulangerie Élan", siret=READY_SIRET)
    ContactFactory(
        client=client,
        first_name="Jeanne",
        last_name="Martin",
        email="jeanne@elan.fr",
        is_principal=True,
    )
    return client


@pytest.fixture
def catalogue(db):
    """The solutions catalogue (migrations seed it; TransactionTestCase flushes it)."""
    if not Solution.objects.exists():
        install_catalogue(Solution)
    return {s.slug: s for s in Solution.objects.all()}


# --- Browser ------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is required for browser tests: apt-get install chromium")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made
    # by the test itself are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page, live_server, email: str, password: str) -> None:
    """Sign in through the real sign-in page."""
    page.goto(live_server.url + "/compte/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


# --- Mail -------------------------------------------------------------------------------


@pytest.fixture
def sink(settings):
    """A real SMTP server (aiosmtpd) on a free port, and the console sending to it."""
    from vigie.mail.testing import SMTPSink

    with SMTPSink() as sink:
        for key, value in sink.email_settings().items():
            setattr(settings, key, value)
        yield sink


# --- Sandbox partner ------------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory, live_server):
    """The sandbox partner, running for real; its webhooks reach the test console."""
    from tests.sandbox import SandboxServer

    server = SandboxServer(
        tmp_path_factory.mktemp("sandbox"), live_server.url + "/partenaires/shine/webhooks/"
    ).start()
    yield server
    server.stop()


@pytest.fixture
def shine(sandbox, settings):
    """The console pointed at an empty sandbox."""
    settings.SHINE_API_URL = sandbox.url
    # « Accéder à Shine » posts to the partner: the CSP's form-action names its origin.
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {**directives, "form-action": ["'self'", sandbox.url]}
    }
    sandbox.reset()
    return sandbox
