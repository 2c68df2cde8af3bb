"""Campaign pages: the launch dialog from the portfolio's selection, the list, a
campaign's page (its funnel, refreshed while it sends) with its actions and export.

A page and its fragment share one URL (`?part=funnel` while sending); actions post, then
redirect back to the campaign's page with a message (htmx: the page again, by
HX-Redirect)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from vigie.campaigns import export, funnel, preflight, services
from vigie.campaigns.models import Campaign, Kind, State, Target, TargetStatus
from vigie.clients.models import Client
from vigie.clients.portfolio.query import Params, query_for
from vigie.invitations.models import BillingMode, Plan
from vigie.lib.decorators import firm_required
from vigie.lib.text import counted

DIALOG = "campaigns/new.html"
PREVIEW_CHOICES = 50
BLOCKED_SHOWN = 100
PER_PAGE = 25


def get_campaign(request, public_id) -> Campaign:
    """The firm's campaign of that public id, or the same 404 as a missing one."""
    campaign = (
        Campaign.objects.for_firm(request.firm)
        .select_related("created_by")
        .filter(public_id=public_id)
        .first()
    )
    if campaign is None:
        raise Http404("Campagne introuvable.")
    campaign.firm = request.firm
    return campaign


# --- Launch ----------------------------------------------------------------------------


def _selection(request, data) -> list[int]:
    """The ids of the portfolio's selection, in its order: the ticked rows (`codes`), or
    every row matching its search and filters (`all=1` + `query`, read by the
    portfolio's own query), at most one more than a campaign takes."""
    limit = services.MAX_TARGETS + 1
    if data.get("all") == "1":
        query, _ = query_for(request.firm, request.user, QueryDict(data.get("query", "")))
        ids: list[int] = []
        for chunk in query.iter_id_chunks():
            ids.extend(chunk)
            if len(ids) >= limit:
                break
        return ids[:limit]
    codes = list(dict.fromkeys(data.getlist("codes")))[:limit]
    if not codes:
        return []
    found = dict(
        Client.objects.for_firm(request.firm)
        .active()
        .filter(code__in=codes)
        .values_list("code", "id")
    )
    return [found[code] for code in codes if code in found]


def _choice(value, choices, default: str) -> str:
    return value if value in choices else default


def _dialog(request, data, *, errors=None, status: int = 200):
    ids = _selection(request, data)
    selection = [("all", data.get("all", "")), ("query", data.get("query", ""))]
    if data.get("all") != "1":
        selection += [("codes", code) for code in data.getlist("codes")[: len(ids) + 100]]
    if not ids:
        template = f"{DIALOG}#empty" if request.htmx else DIALOG
        return render(request, template, {"errors": errors}, status=status)
    kind = _choice(data.get("kind"), Kind.values, Kind.SENSITISATION)
    plan = _choice(data.get("plan"), Plan.values, Plan.START)
    mode = _choice(data.get("billing_mode"), BillingMode.values, BillingMode.SHINE)
    clients = list(
        Client.objects.for_firm(request.firm)
        .filter(pk__in=ids[: services.MAX_TARGETS])
        .prefetch_related(preflight.principals())
        .order_by("sort_name", "id")
    )
    for client in clients:
        client.firm = request.firm
    ready, blocked = preflight.preflight(kind, clients)
    notices = preflight.signatory_warnings(ready) if kind == Kind.MANDATE else []
    subject, body = preflight.template_for(request.firm, kind, plan)
    sample = next((c for c in ready if c.code == data.get("apercu")), ready[0] if ready else None)
    choices = ready[:PREVIEW_CHOICES]
    if sample is not None and sample not in choices:
        choices.append(sample)
    context = {
        "selection": selection,
        "total": len(ids),
        "too_many": len(ids) > services.MAX_TARGETS,
        "max_targets": services.MAX_TARGETS,
        "kind": kind,
        "kinds": Kind.choices,
        "plan": plan,
        "plans": Plan.choices,
        "mode": mode,
        "modes": BillingMode.choices,
        "name": data.get("name", ""),
        "default_name": services.default_name(kind),
        "ready": len(ready),
        "blocked": [
            (b, reverse("client_detail", args=[b.client.code]) + b.anchor)
            for b in blocked[:BLOCKED_SHOWN]
        ],
        "blocked_count": len(blocked),
        "signatory_warnings": [
            (n, reverse("client_detail", args=[n.client.code]) + n.anchor)
            for n in notices[:BLOCKED_SHOWN]
        ],
        "signatory_warnings_count": len(notices),
        "sample": sample,
        "choices": choices,
        "preview": preflight.preview(
            kind=kind,
            client=sample,
            actor=request.user,
            subject=subject,
            body=body,
            plan=plan,
            mode=mode,
        )
        if sample is not None
        else None,
        "errors": errors or {},
    }
    if request.htmx:
        return render(request, f"{DIALOG}#dialog", context, status=status)
    return render(request, DIALOG, context, status=status)


@require_GET
@firm_required
def campaign_new(request):
    """The launch dialog for the portfolio's selection: kind, preflight, preview."""
    return _dialog(request, request.GET)


@require_POST
@firm_required
def campaign_launch(request):
    data = request.POST
    try:
        campaign = services.campaign_launch(
            firm=request.firm,
            actor=request.user,
            kind=data.get("kind", ""),
            client_ids=_selection(request, data),
            name=data.get("name", ""),
            plan=data.get("plan", ""),
            billing_mode=data.get("billing_mode", ""),
            source_query=data.get("query", "") if data.get("all") == "1" else "",
        )
    except ValidationError as exc:
        return _dialog(request, data, errors=exc.message_dict, status=200 if request.htmx else 400)
    messages.success(request, f"Campagne lancée pour {counted(campaign.total, 'client')}.")
    url = reverse("campaign_detail", args=[campaign.public_id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- List and page ---------------------------------------------------------------------


@require_GET
@firm_required
def campaign_list(request):
    campaigns = Campaign.objects.for_firm(request.firm).select_related("created_by")
    page = Paginator(campaigns, PER_PAGE).get_page(request.GET.get("page"))
    counts = {
        row["campaign_id"]: row
        for row in Target.objects.filter(firm=request.firm, campaign__in=list(page))
        .values("campaign_id")
        .annotate(
            sent=Count("id", filter=Q(sent_at__isnull=False)),
            blocked=Count("id", filter=Q(status=TargetStatus.BLOCKED)),
            pending=Count("id", filter=Q(status=TargetStatus.PENDING)),
        )
        .order_by()
    }
    for campaign in page:
        campaign.counts = counts.get(campaign.pk, {})
    return render(request, "campaigns/list.html", {"page": page})


def _portfolio_url(campaign: Campaign, stage: str, **filters) -> str:
    return reverse("home") + Params(campagne=str(campaign.public_id), etape=stage, **filters).url()


def _funnel(campaign: Campaign) -> dict:
    """The funnel's lines (each count with the portfolio link listing those clients),
    the same per collaborator, and the blocked clients."""
    counts = funnel.counts(campaign)
    total = counts.get(funnel.CIBLES.key, 0)

    def line(stage, on: bool, filters: dict, values: dict) -> dict:
        count = values.get(stage.key, 0) if on else None
        return {
            "key": stage.key,
            "label": stage.label,
            "count": count,
            "percent": round(100 * count / total) if on and total else 0,
            "url": _portfolio_url(campaign, stage.key, **filters) if on else "",
        }

    stages = funnel.FUNNELS[campaign.kind]
    people = [
        {
            "user": user,
            "url": _portfolio_url(campaign, funnel.CIBLES.key, collab=user.id),
            "lines": [line(s, on, {"collab": user.id}, values) for s, on in stages],
        }
        for user, values in funnel.counts_by_collaborator(campaign)
    ]
    blocked = (
        Target.objects.filter(
            firm_id=campaign.firm_id,
            campaign=campaign,
            status__in=[TargetStatus.BLOCKED, TargetStatus.FAILED],
        )
        .select_related("client")
        .order_by("client__sort_name", "id")[:BLOCKED_SHOWN]
    )
    return {
        "lines": [line(s, on, {}, counts) for s, on in stages],
        "extras": [line(s, True, {}, counts) for s in funnel.EXTRAS],
        "done": total - counts.get(funnel.EN_ATTENTE.key, 0),
        "total": total,
        "to_remind": counts.get(funnel.A_RELANCER.key, 0),
        "people": people,
        "blocked": [
            (target, reverse("client_detail", args=[target.client.code])) for target in blocked
        ],
        "goal": funnel.GOALS[campaign.kind],
        "live": campaign.state == State.SENDING,
    }


@require_GET
@firm_required
def campaign_detail(request, public_id):
    campaign = get_campaign(request, public_id)
    context = {"campaign": campaign, "funnel": _funnel(campaign)}
    if request.htmx and request.GET.get("part") == "funnel":
        return render(request, "campaigns/detail.html#funnel", context)
    context["source_url"] = (
        reverse("home") + "?" + campaign.source_query if campaign.source_query else ""
    )
    return render(request, "campaigns/detail.html", context)


def _act(request, public_id, service, done) -> object:
    """Run a campaign action, then back to its page with the message (or the refusal)."""
    campaign = get_campaign(request, public_id)
    try:
        result = service(campaign=campaign, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done(result))
    url = reverse("campaign_detail", args=[campaign.public_id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@firm_required
def campaign_pause(request, public_id):
    return _act(
        request,
        public_id,
        services.campaign_pause,
        lambda _: "Campagne en pause : plus aucun envoi jusqu'à la reprise.",
    )


@require_POST
@firm_required
def campaign_resume(request, public_id):
    return _act(request, public_id, services.campaign_resume, lambda _: "Envois repris.")


@require_POST
@firm_required
def campaign_remind(request, public_id):
    return _act(
        request,
        public_id,
        services.campaign_remind,
        lambda count: f"Relance en cours pour {counted(count, 'client')}.",
    )


@require_POST
@firm_required
def campaign_retry(request, public_id):
    return _act(
        request,
        public_id,
        services.campaign_retry_blocked,
        lambda count: f"Nouvel essai pour {counted(count, 'client')}.",
    )


@require_http_methods(["GET"])
@firm_required
def campaign_export(request, public_id, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise Http404("Format inconnu.")
    campaign = get_campaign(request, public_id)
    if fmt == "csv":
        return export.csv_response(campaign)
    return export.xlsx_response(campaign)
