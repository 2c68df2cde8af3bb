"""Property-based run of schemathesis over the OpenAPI schema, through Django's WSGI app:
no server error, every answer documented and matching its schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import ClientFactory, ContactFactory
from vigie.api.api import api
from vigie.integrations.services import api_key_create

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI app closes "old" connections at each request's start and end, which
    would close the test's own (a file SQLite database, or PostgreSQL, inside the test's
    transaction). Django's test client does the same as this."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db, alice, catalogue, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    client = ClientFactory(firm=alice.membership.firm, code="A001", name="Boulangerie Dupont")
    ContactFactory(client=client)
    _key, raw = api_key_create(firm=alice.membership.firm, actor=alice, name="Schemathesis")
    return {"Authorization": f"Bearer {raw}"}


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_it_conforms_to_its_schema(case, bearer):
    case.call_and_validate(headers=bearer, checks=CHECKS)
