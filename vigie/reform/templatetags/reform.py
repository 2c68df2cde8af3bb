from __future__ import annotations

from django import template

from vigie.reform import services
from vigie.reform.panel import ReformPanel

register = template.Library()


@register.inclusion_tag("reform/panel.html", takes_context=True)
def reform_panel(context, client, principal=services.UNKNOWN):
    """The Réforme panel of the client page: `{% load reform %}{% reform_panel client %}`
    (`principal=page.principal` when the page already has the contacts)."""
    return {
        "client": client,
        "panel": ReformPanel(client, principal=principal),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
