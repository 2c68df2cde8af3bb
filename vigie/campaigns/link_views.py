"""The public page of a campaign e-mail's personal link, for the client (no sign-in):
the reform explained (sensibilisation), or « Continuer vers Shine » (Shine invitation).

Showing the page (GET, HEAD) records nothing: a mail filter that fetches every link
would otherwise open every e-mail. The page, once loaded in a browser, posts
`campaign_link_open` (htmx, `hx-trigger="load"`); so does « Continuer vers Shine »
without JavaScript. That POST records the open (vigie.campaigns.tracking) and, for
Shine, forwards to the invitation's own link.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from vigie.campaigns import tracking
from vigie.campaigns.models import Kind, Target
from vigie.invitations import services as invitations
from vigie.reform import penalties

PAGE = "campaigns/link.html"


def _not_found(request):
    return render(request, PAGE, {"invalid": True}, status=404)


def _target(token: str) -> Target | None:
    """The token's target; None too for a Shine one whose invitation is gone."""
    target = tracking.target_for(token)
    if target is None or (target.campaign.kind == Kind.SHINE and target.invitation is None):
        return None
    return target


def _onward(target: Target) -> str:
    """Where a Shine target goes once its open is recorded: its invitation's link."""
    return invitations.invitation_link(target.invitation)


def _dates(today) -> list[dict]:
    return [{"rule": rule, "in_force": rule.applies_from <= today} for rule in penalties.RULES]


@never_cache
@require_safe
def campaign_link(request, token: str):
    """The e-mail's link: the page, nothing recorded."""
    target = _target(token)
    if target is None:
        return _not_found(request)
    campaign = target.campaign
    context = {
        "token": token,
        "campaign": campaign,
        "client": target.client,
        "firm": campaign.firm,
        "firm_name": campaign.firm.name,
        "with_htmx": True,
        "shine": campaign.kind == Kind.SHINE,
        "reply_to": getattr(campaign.created_by, "email", "") or "",
        "dates": _dates(timezone.localdate()),
        "reception": penalties.RECEPTION,
        "issuance": penalties.ISSUANCE,
    }
    return render(request, PAGE, context)


@require_POST
def campaign_link_open(request, token: str):
    """Sent by the page once loaded, or by « Continuer vers Shine »: the open, once."""
    target = _target(token)
    if target is None:
        return _not_found(request)
    tracking.target_open(target=target)
    if target.campaign.kind == Kind.SHINE:
        onward = _onward(target)
        return HttpResponseClientRedirect(onward) if request.htmx else redirect(onward)
    if request.htmx:
        return HttpResponse(status=204)
    return redirect(reverse("campaign_link", args=[token]))
