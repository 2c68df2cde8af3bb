from __future__ import annotations

from django import template

from vigie.reform import services
from vigie.reform.panel import ReformPanel

register = template.Library()


@register.inclusion_tag("reform/panel.html", takes_context=True)
def reform_panel(context, client, principal=services.UNKNOWN, directors=services.UNKNOWN):
    """The Réforme panel of the client page: `{% load reform %}{% reform_panel client %}`
    (`principal=page.principal` when the page already has the contacts,
    `directors=page.registers.directors` when it read the registers)."""
    return {
        "client": client,
        "panel": ReformPanel(client, principal=principal, directors=directors),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
