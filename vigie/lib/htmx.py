"""htmx requests: the browser's cache, and the events a response fires.

A page and its htmx fragment share one URL (the portfolio's `/?page=2`, a dialog's form):
htmx asks with `HX-Request: true`, the browser without. Every response says it varies on
that header, so that a navigation (Back, a reload, a new tab) never gets the fragment the
browser kept from an htmx request.

A response fires events in the page through `HX-Trigger` (django-htmx's
`trigger_client_event`): `showMessage` (a toast, static/js/vigie.js), `closeModal`, and
what the page's parts listen to (`equipmentChanged`, `registersChanged`, …).
"""

from __future__ import annotations

from django.utils.cache import patch_vary_headers
from django_htmx.http import trigger_client_event


def fire(response, *events: str, message: str = "", kind: str = "success"):
    """`response` firing `events` in the page, and `message` as a toast of `kind`
    (success, error) when given."""
    for event in events:
        trigger_client_event(response, event)
    if message:
        trigger_client_event(response, "showMessage", {"text": message, "kind": kind})
    return response


class VaryOnHtmxMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response
