"""`route`: Django's `reverse`, remembered per URLconf and script prefix."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import reverse, set_script_prefix

from vigie.lib.routes import route

NAMES = [
    ("home", ()),
    ("reform_dashboard", ()),
    ("portfolio_export", ("csv",)),
    ("equipment_dialog", ("CODE",)),
    ("client_detail", ("A&B é",)),
]


@pytest.mark.parametrize(("name", "args"), NAMES)
def test_it_gives_what_reverse_gives(name, args):
    assert route(name, *args) == reverse(name, args=args)
    assert route(name, *args) == reverse(name, args=args)  # and again, remembered


def test_it_follows_the_script_prefix():
    try:
        set_script_prefix("/vigie/")
        assert route("home") == "/vigie/" == reverse("home")
    finally:
        set_script_prefix("/")
    assert route("home") == "/"


def test_it_follows_the_urlconf():
    assert route("reform_dashboard") == reverse("reform_dashboard")
    with override_settings(ROOT_URLCONF="tests.urls_moved"):
        assert route("reform_dashboard") == reverse("reform_dashboard")
        assert route("reform_dashboard").startswith("/autre/")
    assert not route("reform_dashboard").startswith("/autre/")


def test_the_tag_escapes_like_url():
    html = Template(
        "{% load routes %}{% route 'client_detail' code %}|{% url 'client_detail' code %}"
    ).render(Context({"code": 'x"<y>'}))
    ours, django = html.split("|")
    assert ours == django
