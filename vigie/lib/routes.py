"""`route(name, *args)`: `reverse` remembered per process.

A page's menus and buttons link to the same routes on every request; Django reverses
each `{% url %}` again every time (~30 µs each, a dozen per page). A route's URL only
changes with the URLconf and the script prefix, which are part of the key.

In templates: `{% load routes %}{% route 'home' %}` (or `… as name`), for routes whose
arguments are constants. Routes taking one client's code: `code_route(name, code)`, or
`CodeRoutes(code)` in a page's context (`{{ urls.contact_create }}`): each reversed once
per process with a placeholder, then the code put in."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import RFC3986_SUBDELIMS

register = template.Library()


@lru_cache(maxsize=512)
def _reverse(urlconf: str, prefix: str, name: str, args: tuple) -> str:
    return reverse(name, urlconf=urlconf, args=args)


@register.simple_tag(name="route")
def route(name: str, *args) -> str:
    return _reverse(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), name, args)


# Quoted as `reverse` quotes a path argument (sub-delimiters kept).
PATH_SAFE = RFC3986_SUBDELIMS + "~:@"
_CODE = "__code__"


def code_route(name: str, quoted_code: str) -> str:
    """The URL of route `name` whose one argument is a client's code, already quoted
    (`quote(code, safe=PATH_SAFE)`)."""
    return route(name, _CODE).replace(_CODE, quoted_code)


class CodeRoutes:
    """The URLs of one client's routes by name, for a template: `{{ urls.contact_create }}`
    (an unknown name raises NoReverseMatch, as `{% url %}` does)."""

    __slots__ = ("quoted_code",)

    def __init__(self, code: str):
        self.quoted_code = quote(code, safe=PATH_SAFE)

    def __getitem__(self, name: str) -> str:
        return code_route(name, self.quoted_code)
