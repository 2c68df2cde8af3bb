"""Form widgets rendered in Python: `FORM_RENDERER = "vigie.lib.widgets.WidgetRenderer"`.

Django renders each widget through its template (`django/forms/widgets/*.html`): an
input is three templates (text.html includes input.html, which includes attrs.html), a
select one more per option. The client page's Réforme panel (a select, a text input and
a date) cost ~1 ms of template engine per page, a quarter of the page's rendering. This
renderer writes the same HTML, byte for byte, in Python, for the widgets built from
`input.html`, `textarea.html` and `select.html` with its options; any other template (radio
buttons, files, multi-widgets, a form's own layout) goes to Django's templates as before.
`tests/test_widgets.py` renders every widget kind and every form of the project both
ways and compares them.

Each helper is the template expression it stands for: `{{ x }}` (`_shown`: localized,
escaped unless already safe) and `{{ x|stringformat:'s' }}` (`_formatted`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData
from django.utils.timezone import template_localtime

WIDGETS = "django/forms/widgets/"
OPTION_TEMPLATE = WIDGETS + "select_option.html"


def _shown(value) -> str:
    """`{{ value }}` with autoescaping."""
    return conditional_escape(localize(template_localtime(value)))


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}`: the filter keeps a safe value safe."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: dict) -> str:
    """attrs.html."""
    out = []
    for name, value in attrs.items():
        if value is not False:
            out.append(" " + _shown(name))
            if value is not True:
                out.append('="' + _formatted(value) + '"')
    return "".join(out)


def _input(widget: dict) -> str:
    """input.html."""
    value = widget["value"]
    shown_value = ' value="' + _formatted(value) + '"' if value != None else ""  # noqa: E711 (the template's `!=`)
    return (
        f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"'
        f"{shown_value}{_attrs(widget['attrs'])}>\n"
    )


def _textarea(widget: dict) -> str:
    value = widget["value"]
    return (
        f'<textarea name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{_shown(value) if value else ''}</textarea>\n"
    )


def _select(widget: dict) -> str | None:
    """select.html with select_option.html for each option; None when an option has a
    template of its own."""
    out = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION_TEMPLATE:
                return None
            out.append(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_shown(option['label'])}</option>\n"
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>\n")
    return "".join(out)


_INPUTS = (
    "text email number date datetime time password hidden url tel search color checkbox"
).split()
PYTHON_WIDGETS: dict[str, Callable[[dict], str | None]] = {
    WIDGETS + "input.html": _input,
    # text.html, email.html…: `{% include "…/input.html" %}`
    **{f"{WIDGETS}{name}.html": _input for name in _INPUTS},
    WIDGETS + "textarea.html": _textarea,
    WIDGETS + "select.html": _select,
}


class WidgetRenderer(DjangoTemplates):
    """Django's default renderer, with the common widgets written in Python."""

    def render(self, template_name, context, request=None):
        write = PYTHON_WIDGETS.get(template_name)
        if write is not None and "widget" in context:
            html = write(context["widget"])
            if html is not None:
                return html.strip()  # as Django's renderer does
        return super().render(template_name, context, request)
