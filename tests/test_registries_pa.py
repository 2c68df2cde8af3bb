"""A firm's own connection to its platform's (PA's) directory: the settings page (admins
only, each firm its own, the secret never shown again), « Tester la connexion » against
the sandbox's OAuth2 token endpoint and directory, the token obtained, cached and renewed
once on a 401, and a run going through the firm's connection with its token."""

from __future__ import annotations

import html
import logging
import time

import pytest
from django.core.cache import cache
from django.db import connection as db

from tests.factories import ClientFactory
from tests.registries import point_at_sandbox
from tests.sandbox import free_port
from vigie.clients.models import PaStatus
from vigie.lib import crypto
from vigie.registries import annuaire
from vigie.registries.http import RegisterRefused
from vigie.registries.models import (
    CheckStatus,
    DirectoryConnection,
    Register,
    RegisterCheck,
    TokenBucket,
)
from vigie.registries.services import check_clients, directory_connection_save

pytestmark = pytest.mark.django_db

CLIENT_ID = "vigie-sandbox"  # the sandbox's seeded OAuth2 client (sandbox/registers_seed.py)
SECRET = "sandbox-annuaire-secret"
PAGE = "/registres/annuaire/"
TEST = "/registres/annuaire/tester/"
DELETE = "/registres/annuaire/supprimer/"


@pytest.fixture
def registers(sandbox, settings):
    return point_at_sandbox(sandbox, settings)


def _form(sandbox, **fields) -> dict:
    return {
        "base_url": sandbox.url + "/afnor-directory",
        "token_url": sandbox.url + "/afnor-directory/oauth/token",
        "client_id": CLIENT_ID,
        "secret": SECRET,
        **fields,
    }


def _connect(firm, sandbox, actor=None, **fields) -> DirectoryConnection:
    return directory_connection_save(firm=firm, actor=actor, **_form(sandbox, **fields))


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _saved(firm):
    row = DirectoryConnection.objects.for_firm(firm).first()
    if row is None:
        return None
    return (row.base_url, row.token_url, row.client_id, row.encrypted_secret, row.version)


# --- The settings page ----------------------------------------------------------------------


class TestPage:
    def test_it_is_a_settings_page_of_admins(self, alice_client):
        response = alice_client.get(PAGE)
        assert response.status_code == 200
        page = _text(response)
        assert f'href="{PAGE}" aria-current="page"' in page  # in the Paramètres menu
        assert "Annuaire (plateforme agréée)" in page and "Aucune connexion propre" in page
        assert 'href="/parametres/' in page.split('data-testid="settings-nav"')[1]

    def test_it_saves_the_connection_and_never_shows_the_secret_again(
        self, alice_client, alice, firm_a, sandbox
    ):
        response = alice_client.post(PAGE, _form(sandbox))
        assert response.status_code == 302
        row = DirectoryConnection.objects.for_firm(firm_a).get()
        assert (row.base_url, row.client_id, row.updated_by) == (
            sandbox.url + "/afnor-directory",
            CLIENT_ID,
            alice,
        )
        assert row.get_secret() == SECRET and SECRET not in row.encrypted_secret
        page = _text(alice_client.get(PAGE))
        assert "•••• enregistré" in page and CLIENT_ID in page
        assert SECRET not in page and row.encrypted_secret not in page
        # Nothing of the database holds it in clear.
        with db.cursor() as cursor:
            cursor.execute("SELECT t::text FROM registries_directoryconnection t")
            assert SECRET not in cursor.fetchone()[0]

    def test_an_empty_secret_keeps_the_saved_one(self, alice_client, firm_a, sandbox):
        _connect(firm_a, sandbox)
        before = DirectoryConnection.objects.for_firm(firm_a).get()
        form = _form(sandbox, base_url=sandbox.url + "/autre-annuaire/", secret="")
        assert alice_client.post(PAGE, form).status_code == 302
        row = DirectoryConnection.objects.for_firm(firm_a).get()
        assert row.base_url == sandbox.url + "/autre-annuaire"  # no trailing slash
        assert row.get_secret() == SECRET and row.version == before.version + 1

    @pytest.mark.parametrize("field", ["token_url", "client_id"])
    def test_the_saved_secret_never_goes_to_a_new_token_url_or_client(
        self, alice_client, firm_a, sandbox, field
    ):
        """Else an admin could send the saved secret elsewhere and read it."""
        _connect(firm_a, sandbox)
        before = _saved(firm_a)
        changed = {"token_url": "https://ailleurs.example/token", "client_id": "autre"}[field]
        for url in (PAGE, TEST):
            response = alice_client.post(url, _form(sandbox, secret="", **{field: changed}))
            assert response.status_code == 422
            assert "Saisissez de nouveau le secret" in _text(response)
        assert _saved(firm_a) == before

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"base_url": "ftp://pa.example.fr/annuaire"}, "http:// ou https://"),
            ({"token_url": "javascript:alert(1)"}, "adresse web valide"),
            ({"base_url": "https://moi:motdepasse@pa.example.fr/"}, "Pas d'identifiant"),
            ({"base_url": "https://pa.example.fr/annuaire?x=1"}, "sans paramètres"),
            ({"base_url": ""}, "Saisissez l'URL du service d'annuaire."),
            ({"client_id": "  "}, "Saisissez l'identifiant client"),
            ({"secret": ""}, "Saisissez le secret client"),
            ({"client_id": "x" * 201}, "200 caractères"),
        ],
    )
    def test_bad_input_says_why_and_changes_nothing(
        self, alice_client, firm_a, registers, sandbox, fields, message
    ):
        for url in (PAGE, TEST):
            response = alice_client.post(url, _form(sandbox, **fields))
            assert response.status_code == 422
            assert message in _text(response), url
        assert _saved(firm_a) is None
        assert registers.state("annuaire")["tokens_by_client"] == {}

    def test_bad_input_leaves_a_saved_connection_unchanged(self, alice_client, firm_a, sandbox):
        _connect(firm_a, sandbox)
        before = _saved(firm_a)
        response = alice_client.post(PAGE, _form(sandbox, base_url="file:///etc/passwd"))
        assert response.status_code == 422 and _saved(firm_a) == before
        assert SECRET not in _text(response)

    def test_bob_never_sees_nor_changes_it(self, bob_client, firm_a, sandbox):
        _connect(firm_a, sandbox)
        before = _saved(firm_a)
        response = bob_client.get(PAGE)
        assert response.status_code == 404
        assert sandbox.url not in _text(response)
        other = _form(sandbox, base_url="https://bob.example/annuaire", secret="bob")
        for url in (PAGE, TEST, DELETE):
            assert bob_client.post(url, other).status_code == 404, url
        assert _saved(firm_a) == before
        assert "/registres/annuaire/" not in bob_client.get("/").content.decode()

    def test_charlie_sees_and_changes_only_his_firms(self, charlie_client, firm_a, firm_b, sandbox):
        _connect(firm_a, sandbox)
        before = _saved(firm_a)
        page = _text(charlie_client.get(PAGE))
        assert sandbox.url not in page and CLIENT_ID not in page and "•••• enregistré" not in page
        mine = _form(sandbox, base_url="https://bravo.example/annuaire", client_id="bravo")
        assert charlie_client.post(PAGE, mine).status_code == 302
        assert charlie_client.post(DELETE).status_code == 302
        assert _saved(firm_a) == before and _saved(firm_b) is None

    def test_an_admin_removes_it(self, alice_client, firm_a, sandbox):
        _connect(firm_a, sandbox)
        response = alice_client.post(DELETE, follow=True)
        assert "Connexion supprimée" in _text(response)
        assert _saved(firm_a) is None

    @pytest.mark.parametrize(("method", "url"), [("get", TEST), ("get", DELETE), ("put", PAGE)])
    def test_the_wrong_method_is_405(self, alice_client, method, url):
        assert getattr(alice_client, method)(url).status_code == 405

    def test_the_secret_is_never_logged(self, alice_client, firm_a, sandbox, registers, caplog):
        caplog.set_level(logging.DEBUG)
        alice_client.post(PAGE, _form(sandbox))
        alice_client.post(TEST, _form(sandbox, secret=""))
        client = ClientFactory(firm=firm_a)
        registers.seed(client)
        check_clients(firm=firm_a, registers=(Register.ANNUAIRE,))
        assert caplog.records and SECRET not in caplog.text


# --- « Tester la connexion » -----------------------------------------------------------


class TestConnectionTest:
    def test_good_credentials_get_a_token_and_one_search(
        self, alice_client, firm_a, registers, sandbox
    ):
        client = ClientFactory(firm=firm_a)
        registers.seed(client)
        response = alice_client.post(TEST, _form(sandbox))
        assert response.status_code == 200
        page = _text(response)
        assert "Connexion réussie" in page and f"1 ligne pour le SIREN {client.siren}" in page
        assert SECRET not in page
        state = registers.state("annuaire")
        assert state["tokens_by_client"] == {CLIENT_ID: 1}
        assert state["calls_by_client"] == {CLIENT_ID: 1}
        assert _saved(firm_a) is None  # a test saves nothing

    def test_it_uses_the_saved_secret_when_left_empty(self, alice_client, firm_a, registers):
        _connect(firm_a, registers.sandbox)
        response = alice_client.post(TEST, _form(registers.sandbox, secret=""))
        assert "Connexion réussie" in _text(response)
        assert "0 ligne pour le SIREN 356000000" in _text(response)

    def test_wrong_credentials_are_named(self, alice_client, registers):
        response = alice_client.post(TEST, _form(registers.sandbox, secret="pas-le-bon"))
        page = _text(response)
        assert "Identifiants refusés par la plateforme (HTTP 401)" in page
        assert registers.state("annuaire")["calls_by_client"] == {}

    def test_an_unreachable_platform_is_named(self, alice_client, registers):
        closed = f"http://127.0.0.1:{free_port()}/oauth/token"
        response = alice_client.post(TEST, _form(registers.sandbox, token_url=closed))
        assert "Jeton non obtenu : serveur de jetons injoignable" in _text(response)

    def test_a_wrong_directory_url_is_named(self, alice_client, registers):
        wrong = registers.sandbox.url + "/pas-d-annuaire"
        response = alice_client.post(TEST, _form(registers.sandbox, base_url=wrong))
        assert "aucun service d'annuaire à cette URL (HTTP 404)" in _text(response)

    def test_a_directory_that_does_not_answer_in_time_is_named(self, alice_client, registers):
        registers.fault("annuaire", "timeout", count=1)
        started = time.monotonic()
        response = alice_client.post(TEST, _form(registers.sandbox))
        assert "l'annuaire n'a pas répondu : le registre n'a pas répondu à temps" in (
            _text(response)
        )
        assert time.monotonic() - started < annuaire.PROBE_TIMEOUT + 3


# --- The connector --------------------------------------------------------------------------


@pytest.fixture
def oauth(registers, firm_a):
    """Firm A connected to the sandbox by OAuth2; one client seeded."""
    cache.clear()
    connection = _connect(firm_a, registers.sandbox)
    client = ClientFactory(firm=firm_a)
    registers.seed(client)
    return connection, client


def test_the_token_is_obtained_once_and_cached(oauth, registers, firm_a):
    connection, client = oauth
    annuaire.connector_for(firm_a).lines(client.siren)
    # Another connector (another run, another process) reads the cached token.
    annuaire.connector_for(firm_a).lines(client.siren)
    state = registers.state("annuaire")
    assert state["tokens_by_client"] == {CLIENT_ID: 1}
    assert state["calls_by_client"] == {CLIENT_ID: 2}
    cached = cache.get(annuaire.token_cache_key(connection))
    token = crypto.decrypt(annuaire.CACHE_CONTEXT, cached)
    assert token and token not in cached  # stored encrypted, not as it is


def test_a_new_token_shortly_before_the_old_one_expires(oauth, registers, firm_a):
    _, client = oauth
    registers.sandbox.call(
        "POST", "/_sandbox/registers/config", {"service": "annuaire", "token_ttl": 3}
    )
    annuaire.connector_for(firm_a).lines(client.siren)
    annuaire.connector_for(firm_a).lines(client.siren)
    assert registers.state("annuaire")["tokens_by_client"] == {CLIENT_ID: 1}
    time.sleep(2.1)  # kept 2 s of its 3
    annuaire.connector_for(firm_a).lines(client.siren)
    assert registers.state("annuaire")["tokens_by_client"] == {CLIENT_ID: 2}


def test_a_saved_change_gets_a_new_token(oauth, registers, firm_a):
    _, client = oauth
    annuaire.connector_for(firm_a).lines(client.siren)
    _connect(firm_a, registers.sandbox, secret="")
    annuaire.connector_for(firm_a).lines(client.siren)
    assert registers.state("annuaire")["tokens_by_client"] == {CLIENT_ID: 2}


def test_a_401_fetches_a_new_token_once(oauth, registers, firm_a):
    _, client = oauth
    connector = annuaire.connector_for(firm_a)
    connector.lines(client.siren)
    registers.sandbox.call(
        "POST", "/_sandbox/registers/config", {"service": "annuaire", "revoke_tokens": True}
    )
    assert len(connector.lines(client.siren)) == 1
    state = registers.state("annuaire")
    assert state["tokens_by_client"] == {CLIENT_ID: 2}
    assert state["calls_by_client"] == {CLIENT_ID: 2}  # the refused call is not counted


def test_a_token_refused_again_is_not_asked_for_a_third_time(oauth, registers, firm_a):
    _, client = oauth
    # Tokens dead on arrival: every call is refused.
    registers.sandbox.call(
        "POST", "/_sandbox/registers/config", {"service": "annuaire", "token_ttl": 0}
    )
    with pytest.raises(RegisterRefused) as refused:
        annuaire.connector_for(firm_a).lines(client.siren)
    assert refused.value.status == 401
    assert registers.state("annuaire")["tokens_by_client"] == {CLIENT_ID: 2}


def test_wrong_credentials_in_a_connection_are_refused(oauth, registers, firm_a):
    _, client = oauth
    _connect(firm_a, registers.sandbox, secret="change-chez-la-pa")
    with pytest.raises(annuaire.CredentialsRefused, match="invalid_client"):
        annuaire.connector_for(firm_a).lines(client.siren)


def test_a_secret_unreadable_after_a_key_change_says_so(oauth, firm_a, settings):
    settings.SECRET_KEY = "une-autre-cle-" + "x" * 40
    with pytest.raises(annuaire.RegisterUnavailable, match="enregistrez-le de nouveau"):
        annuaire.connector_for(firm_a)


def test_without_a_connection_the_servers_access_is_used(registers, firm_b):
    connector = annuaire.connector_for(firm_b)
    assert isinstance(connector.auth, annuaire.StaticToken)
    assert connector.base_url == registers.sandbox.url + "/afnor-directory"


# --- Runs ---------------------------------------------------------------------------------


def test_each_firms_run_goes_through_its_own_access(registers, firm_a, firm_b, settings):
    """Firm A through its connection (OAuth2, 127.0.0.1), firm B through the server's
    (the fixed key, the same sandbox named localhost): each gets its answers, with its
    token, at its endpoint, paced in that endpoint's bucket."""
    sandbox = registers.sandbox
    settings.ANNUAIRE_API_URL = sandbox.url.replace("127.0.0.1", "localhost") + "/afnor-directory"
    _connect(firm_a, sandbox)
    alpha = ClientFactory(firm=firm_a, pa_status=PaStatus.REGISTERED, pa_name="Docaposte")
    bravo = ClientFactory(firm=firm_b, pa_status=PaStatus.REGISTERED, pa_name="Docaposte")
    registers.seed(alpha, bravo)
    check_clients(firm=firm_a, registers=(Register.ANNUAIRE,))
    check_clients(firm=firm_b, registers=(Register.ANNUAIRE,))
    a = RegisterCheck.objects.for_firm(firm_a).get(client=alpha)
    b = RegisterCheck.objects.for_firm(firm_b).get(client=bravo)
    assert a.status == b.status == CheckStatus.UP_TO_DATE
    assert a.source.endswith(f"({sandbox.url}/afnor-directory)")
    assert b.source.endswith(f"({settings.ANNUAIRE_API_URL})")
    state = registers.state("annuaire")
    assert state["calls_by_client"] == {CLIENT_ID: 1, "static": 1}
    assert state["calls_by_query"] == {alpha.siren: 1, bravo.siren: 1}
    port = sandbox.url.rsplit(":", 1)[1]
    buckets = set(TokenBucket.objects.values_list("service", flat=True))
    assert {f"annuaire:127.0.0.1:{port}", f"annuaire:localhost:{port}"} <= buckets


def test_a_run_with_refused_credentials_is_not_verified_with_the_reason(
    registers, firm_a, settings
):
    settings.REGISTRY_ATTEMPTS = 1
    _connect(firm_a, registers.sandbox, secret="plus-valable")
    client = ClientFactory(firm=firm_a)
    registers.seed(client)
    check_clients(firm=firm_a, registers=(Register.ANNUAIRE,))
    check = RegisterCheck.objects.for_firm(firm_a).get(client=client)
    assert check.status == CheckStatus.UNVERIFIED
    assert "identifiants refusés par la plateforme (invalid_client)" in check.reason
    assert registers.state("annuaire")["calls"] == 0
