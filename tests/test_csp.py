"""The Content-Security-Policy header (vigie.lib.csp): the settings' policy, built once per
process, exactly as django-csp builds it; a response whose view changes the policy, or
that asked for a nonce, still gets django-csp's own per-response header."""

from __future__ import annotations

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE, SELF
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from vigie.lib.csp import CSPMiddleware


def directives(header: str) -> set[str]:
    return {part.strip() for part in header.split(";")}


def through(response: HttpResponse, *, nonce: bool = False, path: str = "/"):
    request = RequestFactory().get(path)
    middleware = CSPMiddleware(lambda r: response)
    middleware.process_request(request)
    if nonce:
        str(request.csp_nonce)
    return request, middleware.process_response(request, response)


def test_pages_carry_the_settings_policy(alice_client):
    response = alice_client.get("/")
    assert response.status_code == 200
    assert directives(response[HEADER]) == directives(build_policy())
    assert "frame-ancestors 'none'" in directives(response[HEADER])
    assert HEADER_REPORT_ONLY not in response


def test_a_view_that_changes_the_policy_gets_its_own():
    response = HttpResponse()
    response._csp_update = {"img-src": ["https://images.example"]}
    _request, response = through(response)
    assert "https://images.example" in response[HEADER]
    assert directives(response[HEADER]) == directives(
        build_policy(update={"img-src": ["https://images.example"]})
    )


def test_a_nonce_asked_for_goes_into_the_header():
    policy = {"DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        request, response = through(HttpResponse(), nonce=True)
        assert f"script-src 'self' 'nonce-{request._csp_nonce}'" in directives(response[HEADER])
        # Without a nonce asked for, the policy of the settings as django-csp builds it.
        assert directives(through(HttpResponse())[1][HEADER]) == directives(build_policy())


def test_a_nonce_asked_for_after_the_header_is_an_error():
    from csp.exceptions import CSPNonceError

    request, _response = through(HttpResponse())
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)


def test_exempt_responses_and_a_header_already_set_are_left_alone():
    response = HttpResponse()
    response._csp_exempt = True
    assert HEADER not in through(response)[1]
    response = HttpResponse()
    response[HEADER] = "default-src 'none'"
    assert through(response)[1][HEADER] == "default-src 'none'"


def test_new_settings_give_a_new_header():
    before = through(HttpResponse())[1][HEADER]
    policy = {"DIRECTIVES": {"default-src": ["'self'"], "img-src": ["https://cdn.example"]}}
    with override_settings(
        CONTENT_SECURITY_POLICY=policy,
        CONTENT_SECURITY_POLICY_REPORT_ONLY={
            "DIRECTIVES": {"default-src": ["'none'"]},
            "EXCLUDE_URL_PREFIXES": ["/api/"],
        },
    ):
        _request, response = through(HttpResponse())
        assert directives(response[HEADER]) == {"default-src 'self'", "img-src https://cdn.example"}
        assert response[HEADER_REPORT_ONLY] == "default-src 'none'"
        assert HEADER_REPORT_ONLY not in through(HttpResponse(), path="/api/x")[1]
    assert through(HttpResponse())[1][HEADER] == before
