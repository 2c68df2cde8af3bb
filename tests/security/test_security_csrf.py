"""CSRF, generated from the URLconf: a signed-in session that posts without the token is
refused on every route (403), whatever the view would have done with the request."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tests.security.test_security_tenancy import COVERED
from tests.security.urlconf import routes
from vigie.clients.models import Client as Tpe

# Routes that take state-changing requests without a session cookie's authority.
EXEMPT = {
    "shine_webhook": "the partner's webhook: authenticated by its HMAC signature, not a session",
}
EXEMPT_PREFIXES = {
    "api/v1/": "the API: bearer keys only, a session alone is refused (test_the_api_ignores_"
    "a_session_even_without_token below)",
}
METHODS = ["post", "put", "patch", "delete"]


def _named_routes():
    return sorted(
        {
            r.key
            for r in routes()
            if r.name and not any(r.pattern.startswith(p) for p in EXEMPT_PREFIXES)
        }
    )


def _url(name: str, world) -> str | None:
    if name in COVERED:
        return reverse(name, kwargs=COVERED[name](world))
    route = next(r for r in routes() if r.key == name)
    for dummy in ("1", str(uuid.uuid4()), "csv"):
        try:
            return reverse(name, kwargs=dict.fromkeys(route.params, dummy))
        except NoReverseMatch:
            continue
    return None


@pytest.fixture
def strict(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    return client


@pytest.mark.parametrize("name", [n for n in _named_routes() if n not in EXEMPT])
def test_it_refuses_a_state_change_without_token(name, world, strict):
    url = _url(name, world)
    if url is None:  # admin routes whose parameter is an app label: any label
        pytest.skip(f"{name}: no URL for dummy parameters")
    for method in METHODS:
        response = getattr(strict, method)(url, {"notes": "x"} if method == "post" else None)
        assert response.status_code == 403, (name, method, url, response.status_code)
        assert b"CSRF" in response.content, (name, method)


def test_with_the_token_the_same_request_goes_through(world, strict):
    """The control: the 403 above is the CSRF check, not the view."""
    page = strict.get(reverse("client_detail", args=["A001"]))
    token = page.cookies["csrftoken"].value
    response = strict.post(
        reverse("client_notes_update", args=["A001"]),
        {"notes": "Vu"},
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code in (200, 204, 302)
    assert Tpe.objects.get(code="A001").notes == "Vu"


def test_the_exempt_routes_exist(world):
    names = {r.key for r in routes()}
    assert set(EXEMPT) <= names
    assert all(any(r.pattern.startswith(p) for r in routes()) for p in EXEMPT_PREFIXES)


def test_the_webhook_without_signature_is_refused(world, client):
    response = client.post(
        reverse("shine_webhook"), b'{"id": "evt"}', content_type="application/json"
    )
    assert response.status_code in (400, 401, 403)


def test_the_api_ignores_a_session_even_without_token(world, strict):
    for method, url, body in [
        ("put", "/api/v1/clients/A001", {"name": "X"}),
        ("post", "/api/v1/clients/bulk", {"clients": [{"code": "A001", "name": "X"}]}),
        ("patch", "/api/v1/clients/A001/reform", {"sensitised": False}),
        ("delete", "/api/v1/clients/A001", None),
    ]:
        response = getattr(strict, method)(url, body, content_type="application/json")
        assert response.status_code in (401, 403), (method, url)
    client = Tpe.objects.get(code="A001")
    assert client.name == "Boulangerie Dupont" and client.archived_at is None
