"""htmx requests and the browser's cache.

A page and its htmx fragment share one URL (the portfolio's `/?page=2`, a dialog's form):
htmx asks with `HX-Request: true`, the browser without. Every response says it varies on
that header, so that a navigation (Back, a reload, a new tab) never gets the fragment the
browser kept from an htmx request.
"""

from __future__ import annotations

from django.utils.cache import patch_vary_headers


class VaryOnHtmxMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response
