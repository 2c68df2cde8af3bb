"""The reform's pages and actions. Each client action posts, then redirects back to the
client page (#reforme) with a message; bad input re-renders the Réforme panel with the
French message next to the field, and nothing is saved."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vigie.clients.access import get_client
from vigie.clients.portfolio.query import Params, query_for
from vigie.lib.decorators import admin_required, firm_required
from vigie.lib.htmx import fire
from vigie.lib.text import counted
from vigie.reform import chart, dashboard, mailer, penalty_views, services
from vigie.reform.forms import PaForm, TemplateForm
from vigie.reform.models import Mandate
from vigie.reform.panel import ReformPanel
from vigie.registries.models import UNDER_WAY, CheckRun
from vigie.registries.services import check_clients_queue


def _done(request, client, message: str):
    messages.success(request, message)
    return redirect(reverse("client_detail", args=[client.code]) + "#reforme")


def _panel_page(request, client, *, status: int = 200, **panel_kwargs):
    panel = ReformPanel(client, **panel_kwargs)
    return render(request, "reform/client.html", {"client": client, "panel": panel}, status=status)


def _act(request, client, message: str, service, **kwargs):
    """Run the service for `client`: the client page with `message`, or the panel
    with the refusal next to its field (400)."""
    try:
        service(client=client, actor=request.user, **kwargs)
    except ValidationError as exc:
        return _panel_page(request, client, status=400, errors=exc.message_dict)
    return _done(request, client, message)


def _send(request, code: str, service, message: str = "Mandat envoyé à {email}."):
    """As `_act`, for a service that e-mails a mandate: the message names its address."""
    client = get_client(request, code)
    try:
        mandate = service(client=client, actor=request.user)
    except ValidationError as exc:
        return _panel_page(request, client, status=400, errors=exc.message_dict)
    return _done(request, client, message.format(email=mandate.representative_email))


# --- Client actions --------------------------------------------------------------------


@require_http_methods(["GET"])
@firm_required
def client_reform(request, code: str):
    """The Réforme panel on its own page (where bad input is shown without JavaScript)."""
    return _panel_page(request, get_client(request, code))


@require_POST
@firm_required
def client_sensitise(request, code: str):
    client = get_client(request, code)
    sensitised = request.POST.get("sensitised", "1") != "0"
    send_email = sensitised and request.POST.get("send_email") in ("1", "on")
    if not sensitised:
        message = "Sensibilisation à la réforme retirée."
    elif send_email:
        message = "E-mail d'information envoyé ; client sensibilisé."
    else:
        message = "Client marqué sensibilisé à la réforme."
    return _act(
        request,
        client,
        message,
        services.client_sensitise,
        sensitised=sensitised,
        send_email=send_email,
    )


@require_POST
@firm_required
def mandate_send(request, code: str):
    return _send(request, code, services.mandate_send)


@require_POST
@firm_required
def mandate_prepare(request, code: str):
    return _act(
        request,
        get_client(request, code),
        "Brouillon de mandat préparé : relisez-le avant de l'envoyer.",
        services.mandate_prepare,
    )


@require_POST
@firm_required
def mandate_draft_send(request, code: str):
    return _send(request, code, services.mandate_draft_send)


@require_POST
@firm_required
def mandate_draft_delete(request, code: str):
    return _act(
        request,
        get_client(request, code),
        "Brouillon de mandat supprimé.",
        services.mandate_draft_delete,
    )


@require_POST
@firm_required
def mandate_upload(request, code: str):
    client = get_client(request, code)
    upload = request.FILES.get("file")
    return _act(
        request, client, "Mandat signé déposé.", services.mandate_upload_signed, upload=upload
    )


@require_POST
@firm_required
def mandate_revoke(request, code: str):
    return _act(
        request,
        get_client(request, code),
        "Mandat révoqué ; le client en est informé par e-mail.",
        services.mandate_revoke,
        reason=request.POST.get("reason", ""),
    )


@require_POST
@firm_required
def mandate_regenerate(request, code: str):
    return _send(
        request, code, services.mandate_regenerate, "Mandat régénéré et renvoyé à {email}."
    )


def _mandate_file(request, code: str, field: str, public_id=None):
    client = get_client(request, code)
    mandates = Mandate.objects.for_firm(request.firm).filter(client=client)
    mandate = (
        mandates.filter(public_id=public_id).first()
        if public_id
        else mandates.exclude(signed_document="").filter(state="signe").first()
    )
    file = getattr(mandate, field, None) if mandate else None
    if not file:
        raise Http404("Document introuvable.")
    suffix = "-signe" if field == "signed_document" else ""
    return FileResponse(
        file.open("rb"),
        as_attachment=True,
        filename=f"mandat-{client.code}{suffix}.pdf",
        content_type="application/pdf",
    )


@require_GET
@firm_required
def mandate_download(request, code: str):
    """The signed copy of the client's current mandate (**Télécharger**)."""
    return _mandate_file(request, code, "signed_document")


@require_GET
@firm_required
def mandate_document(request, code: str, mandate_id):
    """The generated document, as it was sent for signature."""
    return _mandate_file(request, code, "document", public_id=mandate_id)


@require_POST
@firm_required
def client_pa_update(request, code: str):
    client = get_client(request, code)
    form = PaForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.client_pa_update(
                client=client,
                actor=request.user,
                status=data["pa_status"],
                pa_name=data["pa_name"],
                registered_at=data["pa_registered_at"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _done(request, client, "Inscription PA enregistrée.")
    return _panel_page(request, client, status=400, pa_form=form)


# --- Portfolio selection ---------------------------------------------------------------


def _selection(request):
    """The ids (in chunks) of the portfolio's selection: the ticked rows (`codes`), or
    every row matching the portfolio's search and filters (`all=1` + `query`, resolved by
    the portfolio's own query); None when nothing is selected."""
    if request.POST.get("all") == "1":
        data = QueryDict(request.POST.get("query", ""))
        query, _ = query_for(request.firm, request.user, data)
        return query.iter_id_chunks()
    codes = request.POST.getlist("codes")[:1000]
    if not codes:
        return None
    return [list(request.firm.clients.filter(code__in=codes).values_list("id", flat=True))]


@require_POST
@firm_required
def sensitise_selection(request):
    """Mark the selected clients (`_selection`) as informed."""
    state = request.POST.get("query", "")
    home = reverse("home") + (f"?{state}" if state else "")
    send_email = request.POST.get("send_email") in ("1", "on")
    chunks = _selection(request)
    if chunks is None:
        messages.error(request, "Sélectionnez au moins un client.")
        return redirect(home)
    result = services.clients_sensitise_many(
        firm=request.firm, client_ids=chunks, actor=request.user, send_email=send_email
    )
    text = f"{result.marked} client(s) marqué(s) sensibilisé(s)"
    if result.already:
        text += f", {result.already} déjà sensibilisé(s)"
    if send_email:
        text += f" ; {result.emailed} e-mail(s) d'information envoyé(s)"
        if result.without_email:
            text += f", {len(result.without_email)} client(s) sans contact principal avec e-mail"
    messages.success(request, text + ".")
    return redirect(home)


# --- Registres: checks on demand ---------------------------------------------------------


def _answer(request, back: str, text: str, kind: str = "success"):
    """A toast at once (htmx: nothing swapped; the dashboard's card refreshes itself on
    `registersChecked`), or the page again with the message."""
    if request.htmx:
        events = ["registersChecked"] if kind == "success" else []
        return fire(HttpResponse(status=204), *events, message=text, kind=kind)
    (messages.success if kind == "success" else messages.error)(request, text)
    return redirect(back)


def _queued(count: int) -> str:
    return (
        f"Vérification des registres lancée pour {counted(count, 'client')}. "
        "Suivez-la dans le tableau de bord réforme."
    )


@require_POST
@firm_required
def registers_check_selection(request):
    """« Vérifier les registres »: a run over the portfolio's selection, by the worker."""
    state = request.POST.get("query", "")
    home = reverse("home") + (f"?{state}" if state else "")
    chunks = _selection(request)
    ids = [pk for chunk in chunks for pk in chunk] if chunks is not None else []
    if not ids:
        return _answer(request, home, "Sélectionnez au moins un client.", "error")
    check_clients_queue(firm=request.firm, client_ids=ids)
    return _answer(request, home, _queued(len(ids)))


@require_POST
@admin_required
def registers_check_all(request):
    """« Vérifier tout le portefeuille » (admins): a run over every active client, unless
    one is already under way."""
    back = reverse("reform_dashboard") + "#registres"
    if CheckRun.objects.for_firm(request.firm).filter(state__in=UNDER_WAY).exists():
        return _answer(request, back, "Une vérification des registres est déjà en cours.", "error")
    # Created « en préparation »: the worker writes its checks; the firm's active clients
    # were counted from its ClientCount row.
    run = check_clients_queue(firm=request.firm)
    return _answer(
        request,
        back,
        f"Vérification de tout le portefeuille lancée : {counted(run.clients, 'client')}.",
    )


# --- Dashboard and settings ------------------------------------------------------------


def _portfolio_url(**filters) -> str:
    return reverse("home") + Params(**filters).url()


@require_GET
@firm_required
def reform_dashboard(request):
    if request.htmx and request.GET.get("part") == "registres":
        # The « Registres » card alone: its progress while a run is under way.
        return render(request, "reform/dashboard.html#registers", _registers(request))
    figures = dashboard.firm_figures(request.firm)
    total = figures[0].total if figures else 0
    for figure in figures:
        figure.url = _portfolio_url(**figure.done_query)
        figure.todo_url = _portfolio_url(**figure.todo_query)
    people = dashboard.collaborator_figures(request.firm)
    for person in people:
        person.url = _portfolio_url(collab=person.user.id)
        for figure in person.figures:
            figure.url = _portfolio_url(collab=person.user.id, **figure.done_query)
    weeks = dashboard.weekly_progress(request.firm, figures)
    context = {
        **_registers(request),
        "figures": figures,
        "total": total,
        "people": people,
        "chart": chart.build(weeks, total),
        "exposures": penalty_views.exposures(request.firm),
        "days_left": dashboard.days_left(),
        "deadline": dashboard.ISSUANCE_DEADLINE,
        "reception_date": dashboard.RECEPTION_DATE,
        "portfolio_url": reverse("home"),
    }
    return render(request, "reform/dashboard.html", context)


def _registers(request) -> dict:
    """The « Registres » card: each count with the portfolio link listing those clients."""
    registers = dashboard.register_figures(request.firm)
    for line in registers.counts:
        line.url = _portfolio_url(**line.query)
    return {"registers": registers}


@require_http_methods(["GET", "POST"])
@admin_required
def reform_template(request):
    """The firm's information email (subject and text, with placeholders)."""
    current = mailer.template_for(request.firm)
    form = TemplateForm(
        request.POST or None, initial={"subject": current.subject, "body": current.body}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.reform_template_save(
                firm=request.firm, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Modèle d'e-mail enregistré.")
            return redirect("reform_template")
    status = 400 if form.errors else 200
    return render(
        request,
        "reform/template.html",
        {"form": form, "placeholders": mailer.PLACEHOLDERS},
        status=status,
    )
