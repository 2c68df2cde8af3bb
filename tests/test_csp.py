"""The Content-Security-Policy header (django-csp's middleware): every response carries the
settings' policy, no page needs a nonce, a view may change its own policy, and a change of
the settings (the sandbox fixture adds the partner to form-action) shows at once."""

from __future__ import annotations

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.decorators import csp_update
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory, override_settings


def directives(header: str) -> set[str]:
    return {part.strip() for part in header.split(";")}


def through(view, path: str = "/"):
    request = RequestFactory().get(path)
    return CSPMiddleware(view)(request)


def test_it_sends_the_settings_policy(alice_client):
    response = alice_client.get("/")
    assert response.status_code == 200
    assert directives(response[HEADER]) == directives(build_policy())
    assert "frame-ancestors 'none'" in directives(response[HEADER])
    # Scripts from our own files only: no nonce asked for, none needed.
    assert "script-src 'self'" in directives(response[HEADER])
    assert "'nonce-" not in response[HEADER]
    assert HEADER_REPORT_ONLY not in response


def test_it_lets_a_view_change_its_own_policy():
    @csp_update({"img-src": ["https://images.example"]})
    def view(request):
        return HttpResponse()

    header = through(view)[HEADER]
    assert "https://images.example" in header
    assert "https://images.example" not in through(lambda r: HttpResponse())[HEADER]


def test_it_follows_the_settings():
    before = through(lambda r: HttpResponse())[HEADER]
    policy = {"DIRECTIVES": {"default-src": ["'self'"], "form-action": ["https://partner.example"]}}
    with override_settings(
        CONTENT_SECURITY_POLICY=policy,
        CONTENT_SECURITY_POLICY_REPORT_ONLY={
            "DIRECTIVES": {"default-src": ["'none'"]},
            "EXCLUDE_URL_PREFIXES": ["/api/"],
        },
    ):
        response = through(lambda r: HttpResponse())
        assert directives(response[HEADER]) == {
            "default-src 'self'",
            "form-action https://partner.example",
        }
        assert response[HEADER_REPORT_ONLY] == "default-src 'none'"
        assert HEADER_REPORT_ONLY not in through(lambda r: HttpResponse(), path="/api/x")
    assert through(lambda r: HttpResponse())[HEADER] == before


def test_it_leaves_a_header_already_set():
    def view(request):
        response = HttpResponse()
        response[HEADER] = "default-src 'none'"
        return response

    assert through(view)[HEADER] == "default-src 'none'"
