"""Each request's session (Django's database sessions, read through the shared `default`
cache) and its user, read with its membership and firm (vigie.accounts.backends): who is
signed in, in two statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.sessions.backends.cached_db import SessionStore
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.http import Http404
from django.utils import timezone

from tests.factories import ClientFactory, UserFactory
from vigie.accounts.backends import AuthenticationBackend
from vigie.clients.access import get_client
from vigie.clients.models import Client
from vigie.clients.portfolio.query import CLIENT_FIELDS, Lookups, load_rows

pytestmark = pytest.mark.django_db


def test_a_signed_in_user_sees_the_portfolio_of_its_firm(alice_client, firm_a):
    response = alice_client.get("/")
    assert response.status_code == 200
    assert response.wsgi_request.firm == firm_a
    assert response.wsgi_request.membership.firm.name == firm_a.name


def test_an_expired_session_signs_out(alice_client):
    # Sessions are read through the shared cache, each entry expiring with its session:
    # once gone from it, the session's row says it has expired.
    caches["default"].clear()
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = alice_client.get("/")
    assert response.status_code == 302
    assert "/connexion" in response["Location"] or "login" in response["Location"]


def test_a_session_is_cached_until_it_expires(alice_client):
    alice_client.get("/")
    key = alice_client.session.session_key
    session = Session.objects.get(session_key=key)
    remaining = (session.expire_date - timezone.now()).total_seconds()
    kept = caches["default"]
    assert kept.get(SessionStore.cache_key_prefix + key) is not None
    # the cache entry's own expiry is the session's
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT expires FROM vigie_cache WHERE cache_key = %s",
            [kept.make_key(SessionStore.cache_key_prefix + key)],
        )
        (expires,) = cursor.fetchone()
    assert abs((expires - session.expire_date).total_seconds()) < 5 < remaining


def test_an_unknown_session_key_signs_out(client, alice):
    client.force_login(alice)
    key = client.session.session_key
    SessionStore(key).delete()  # as a sign-out elsewhere does: its row and its cache entry
    assert client.get("/").status_code == 302


def test_a_deactivated_collaborator_is_signed_out(bob_client, bob):
    bob.is_active = False
    bob.save()
    assert bob_client.get("/").status_code == 302


def test_the_user_comes_with_its_membership_and_firm_in_one_query(
    alice, firm_a, django_assert_num_queries
):
    with django_assert_num_queries(1):
        user = AuthenticationBackend().get_user(alice.id)
        assert user.membership.firm.name == firm_a.name
        assert user.membership.user == user
        assert user.email == "alice@alpha.fr"
        assert user.date_joined.tzinfo is not None


def test_a_user_without_a_firm_has_no_membership(db, django_assert_num_queries):
    lone = UserFactory()
    with django_assert_num_queries(1):
        user = AuthenticationBackend().get_user(lone.id)
        assert not hasattr(user, "membership")
    assert AuthenticationBackend().get_user(lone.id + 1000) is None


def test_portfolio_rows_hold_what_the_orm_gives(firm_a):
    at = datetime(2026, 10, 5, 14, 30, 12, 123456, tzinfo=UTC)
    made = ClientFactory(firm=firm_a, sensitised=True, sensitised_at=at, notes="n")
    (row,) = load_rows(firm_a, [made.id], Lookups.read(firm_a))
    orm = Client.objects.only(*CLIENT_FIELDS).get(pk=made.id)
    for name in CLIENT_FIELDS:
        assert getattr(row.client, name) == getattr(orm, name), name
    assert row.client.sensitised is True
    assert row.client.sensitised_at == at


def test_get_client_gives_what_the_orm_gives_in_one_query(
    firm_a, firm_b, alice, rf, django_assert_num_queries
):
    at = datetime(2026, 10, 5, 14, 30, 12, 123456, tzinfo=UTC)
    made = ClientFactory(firm=firm_a, code="GC1", sensitised=True, sensitised_at=at)
    ClientFactory(firm=firm_b, code="GC2")
    request = rf.get("/")
    request.firm = firm_a
    with django_assert_num_queries(1):
        client = get_client(request, "GC1")
        assert client.firm is firm_a  # the request's firm, not a second read
    orm = Client.objects.get(pk=made.pk)
    for field in Client._meta.concrete_fields:
        assert getattr(client, field.attname) == getattr(orm, field.attname), field.name
    assert not client._state.adding  # saved as an update, like an instance from the ORM
    for other in ("GC2", "gc1", "GC1 ", "' OR 1=1 --"):  # another firm's, or none
        with pytest.raises(Http404):
            get_client(request, other)


def _statements(http, path="/"):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = http.get(path)
    return response, [q["sql"] for q in captured.captured_queries]


def test_a_signed_in_request_reads_its_session_then_its_user_with_its_firm(
    alice_client, alice, firm_a
):
    alice_client.get("/")
    # A page that reads one row of the firm: everything else is who is asking.
    response, statements = _statements(alice_client, "/clients/INCONNU/")
    assert response.status_code == 404
    assert response.wsgi_request.user == alice
    assert response.wsgi_request.firm == firm_a
    session, user, client = statements
    assert "vigie_cache" in session  # the session, read through the shared cache
    assert "accounts_user" in user and "firms_membership" in user and "firms_firm" in user
    assert "clients_client" in client


def test_a_deleted_user_is_signed_out(client, db):
    lone = UserFactory()
    client.force_login(lone)
    client.get("/")
    lone.delete()
    assert client.get("/").status_code == 302


def test_a_user_deactivated_while_signed_in_is_signed_out(bob_client, bob):
    assert bob_client.get("/").status_code == 200
    bob.is_active = False
    bob.save()
    assert bob_client.get("/").status_code == 302
