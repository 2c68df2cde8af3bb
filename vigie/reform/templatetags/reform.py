from __future__ import annotations

from django import template

from vigie.reform.panel import ReformPanel

register = template.Library()


@register.inclusion_tag("reform/panel.html", takes_context=True)
def reform_panel(context, client):
    """The Réforme panel of the client page: `{% load reform %}{% reform_panel client %}`."""
    return {
        "client": client,
        "panel": ReformPanel(client),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
