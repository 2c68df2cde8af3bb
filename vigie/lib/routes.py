"""`route(name, *args)`: `reverse` remembered per process.

A page's menus and buttons link to the same routes on every request; Django reverses
each `{% url %}` again every time (~30 µs each, a dozen per page). A route's URL only
changes with the URLconf and the script prefix, which are part of the key.

In templates: `{% load routes %}{% route 'home' %}` (or `… as name`), for routes whose
arguments are constants; a URL per client stays `{% url %}` (nothing to reuse)."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()


@lru_cache(maxsize=512)
def _reverse(urlconf: str, prefix: str, name: str, args: tuple) -> str:
    return reverse(name, urlconf=urlconf, args=args)


@register.simple_tag(name="route")
def route(name: str, *args) -> str:
    return _reverse(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), name, args)
