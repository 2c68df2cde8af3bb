"""Text PostgreSQL cannot store, refused at the door.

PostgreSQL's text types refuse the NUL character, and a lone UTF-16 surrogate cannot be
encoded to UTF-8 at all: such a value reaching a query is a DataError or a
UnicodeEncodeError, a 500. No legitimate input holds one, so a request carrying one in
its path, its query string or its form fields is answered with a 400 before any view
runs. (Django's forms already refuse NUL, but views read a client's code from the path,
`?q=` or the ticked `codes` without a form; invalid UTF-8 in a URL or a form is decoded
by Django as U+FFFD, which is storable.) JSON bodies are checked by the API's schemas
(vigie.api.schemas), with the other rules of each field.
"""

from __future__ import annotations

import re

from django.http import HttpResponse, JsonResponse

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = (
    "Requête refusée : elle contient un caractère interdit (un octet nul ou un "
    "caractère invalide). Retirez-le et réessayez."
)
FIELD_MESSAGE = "Caractère interdit (octet nul ou caractère invalide)."
# Answered in the API's error format (vigie.api.errors) under this prefix.
JSON_PREFIX = "/api/"


def is_storable(text: str) -> bool:
    return UNSTORABLE.search(text) is None


def _all_storable(data) -> bool:
    """Every key and value of a QueryDict (or a MultiValueDict of files, by name)."""
    for key, values in data.lists():
        if not is_storable(key):
            return False
        for value in values:
            if not is_storable(value if isinstance(value, str) else value.name or ""):
                return False
    return True


def refusal(request) -> HttpResponse:
    if request.path_info.startswith(JSON_PREFIX):
        body = {"code": "invalid_characters", "message": MESSAGE, "details": None}
        return JsonResponse(body, status=400)
    return HttpResponse(MESSAGE, status=400, content_type="text/plain; charset=utf-8")


class StorableInputMiddleware:
    """A 400 for a path, query string or form field PostgreSQL cannot store; a cookie
    that holds such a character is ignored (as Django ignores a malformed cookie), so
    that a session key never reaches the sessions table with one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, value in list(request.COOKIES.items()):
            if not (is_storable(name) and is_storable(value)):
                del request.COOKIES[name]
        if not (is_storable(request.path_info) and _all_storable(request.GET)):
            return refusal(request)
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        # The body is read here as Django's CSRF check reads it, before the view; views
        # exempt from that check (the API, webhooks) read their own bodies.
        if request.method != "POST" or getattr(view, "csrf_exempt", False):
            return None
        if not (_all_storable(request.POST) and _all_storable(request.FILES)):
            return refusal(request)
        return None
