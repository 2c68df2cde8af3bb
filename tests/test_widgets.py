"""Widgets written in Python (vigie.lib.widgets) give exactly the HTML of Django's
templates: every widget kind, hostile values, and every field of the project's forms,
rendered both ways and compared byte for byte."""

from __future__ import annotations

import datetime
import importlib
import pkgutil
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st

import vigie
from vigie.lib.widgets import PYTHON_WIDGETS, WidgetRenderer

TEMPLATES = DjangoTemplates()
PYTHON = WidgetRenderer()
HOSTILE = ['<script>alert("x")</script>', "a & b", "l'été", '"quoted"', "", "  spaced  "]


def both(widget: forms.Widget, name: str, value, attrs=None) -> tuple[str, str]:
    """Both renderings; a value the widget itself refuses raises the same both ways."""
    try:
        expected = widget.render(name, value, attrs=attrs, renderer=TEMPLATES)
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            widget.render(name, value, attrs=attrs, renderer=PYTHON)
        return "refused", "refused"
    return expected, widget.render(name, value, attrs=attrs, renderer=PYTHON)


def test_the_project_renders_forms_with_it():
    assert isinstance(get_default_renderer(), WidgetRenderer)


@pytest.mark.parametrize(
    "widget",
    [
        forms.TextInput(),
        forms.TextInput(attrs={"class": "x", "required": True, "disabled": False, "maxlength": 5}),
        forms.EmailInput(attrs={"autocomplete": "off"}),
        forms.NumberInput(attrs={"min": 0, "step": Decimal("0.5")}),
        forms.PasswordInput(render_value=True),
        forms.PasswordInput(),
        forms.HiddenInput(),
        forms.URLInput(),
        forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        forms.DateInput(),
        forms.DateTimeInput(),
        forms.TimeInput(),
        forms.CheckboxInput(),
        forms.Textarea(attrs={"rows": 3}),
        forms.Select(choices=[("", "---------"), ("a", "Alpha"), (1, "Un"), ("b", "B & <b>")]),
        forms.Select(choices=[("Groupe", [("x", "X"), ("y", "Y")]), ("z", gettext_lazy("Oui"))]),
        forms.SelectMultiple(choices=[("a", "A"), ("b", "B")]),
        forms.NullBooleanSelect(),
    ],
    ids=lambda w: type(w).__name__,
)
@pytest.mark.parametrize(
    "value",
    [None, "", "a", 1, 0, True, False, ["a", "b"], datetime.date(2027, 9, 1), *HOSTILE],
    ids=repr,
)
def test_each_widget_kind_gives_the_templates_html(widget, value):
    expected, got = both(widget, "field", value, attrs={"id": "id_field"})
    assert got == expected


def test_a_value_already_safe_is_not_escaped_twice():
    widget = forms.Textarea()
    for value in (mark_safe("<b>gras</b>"), "<b>gras</b>"):
        expected, got = both(widget, "notes", value)
        assert got == expected


def test_other_widgets_still_go_through_the_templates():
    widget = forms.RadioSelect(choices=[("a", "A")])
    assert widget.template_name not in PYTHON_WIDGETS
    expected, got = both(widget, "mode", "a")
    assert got == expected and 'type="radio"' in got


texts = st.text(max_size=20)
attr_values = st.one_of(st.booleans(), texts, st.integers(), st.none())
attr_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10)


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(st.none(), texts, st.integers()),
    attrs=st.dictionaries(attr_names, attr_values, max_size=4),
    choices=st.lists(st.tuples(texts, texts), max_size=5),
)
def test_any_value_attributes_and_choices(value, attrs, choices):
    for widget in (forms.TextInput(), forms.Textarea(), forms.Select(choices=choices)):
        expected, got = both(widget, "f", value, attrs=attrs)
        assert got == expected


def _project_forms() -> list[type[forms.BaseForm]]:
    found = []
    for module in pkgutil.walk_packages(vigie.__path__, "vigie."):
        if module.name.endswith(".forms"):
            loaded = importlib.import_module(module.name)
            found += [
                value
                for value in vars(loaded).values()
                if isinstance(value, type)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.name
            ]
    return found


def test_every_field_of_the_projects_forms(db):
    forms_found = _project_forms()
    assert len(forms_found) >= 5
    rendered = 0
    for form_class in forms_found:
        for name, field in form_class.base_fields.items():
            for value in (None, field.initial, "x", *HOSTILE[:2]):
                expected, got = both(field.widget, name, value, attrs={"id": f"id_{name}"})
                assert got == expected, (form_class, name, value)
                rendered += 1
    assert rendered > 50
