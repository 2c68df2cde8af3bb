"""« Clients exposés aux pénalités »: the reform dashboard's card and its worklist
(vigie.reform.penalties holds the rules)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from vigie.lib.decorators import firm_required
from vigie.reform import penalties

PER_PAGE = 50


def exposures(firm) -> list[penalties.Exposure]:
    """The dashboard card: today's exposure and that of 1 September 2027."""
    today = timezone.localdate()
    return [penalties.exposure(firm, when, today) for when in (penalties.NOW, penalties.IN_2027)]


@require_GET
@firm_required
def penalty_worklist(request):
    when = request.GET.get("quand")
    if when not in penalties.WHEN:
        when = penalties.NOW
    day = penalties.at(when, timezone.localdate())
    clients = penalties.exposed(request.firm, day).only(
        "id", "code", "name", "pa_status", "mandate_status", "invoices_per_month"
    )
    page = Paginator(clients, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "when": when,
        "day": day,
        "choices": [
            (key, label, f"{reverse('reform_penalties')}?quand={key}")
            for key, label in penalties.WHEN.items()
        ],
        "page": page,
        "rules": penalties.RULES,
        "reception": penalties.RECEPTION,
        "issuance": penalties.ISSUANCE,
        "reception_year": penalties.RECEPTION_YEAR,
    }
    return render(request, "reform/penalties.html", context)
