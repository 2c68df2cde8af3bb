"""The registers on the client page (the « Registres » card: findings, « Vérifier
maintenant ») and « Remplir depuis le registre » in the client forms.

With htmx, each action answers with the card and a toast (`HX-Trigger`), plus
`registersChanged` so the client page refreshes its details and history. Without
JavaScript the same forms post and redirect back to the client page with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from vigie.clients.access import get_client
from vigie.clients.forms import ClientDetailsForm
from vigie.clients.models import Client
from vigie.lib.decorators import firm_required
from vigie.lib.htmx import fire
from vigie.registries import decisions, lookup
from vigie.registries.card import RegistersCard
from vigie.registries.forms import FindingForm, SiretLookupForm
from vigie.registries.http import RegisterUnavailable
from vigie.registries.services import check_clients_queue

CARD = "registries/card.html#card"
SIRET_PAGE = "registries/siret.html"
REGISTER_DOWN = (
    "Le registre des entreprises ne répond pas pour le moment ({reason}). "
    "Rien n'a été modifié : réessayez dans quelques minutes ou saisissez les valeurs."
)
NOT_FOUND = "Ce SIRET est inconnu du registre des entreprises (ou non diffusible)."
FILLED = "Valeurs du registre reprises dans le formulaire : vérifiez-les puis enregistrez."
FILL_FIELDS = ("name", "legal_form", "ape_code", "activity")


def _card(request, client: Client, message: str = "", kind: str = "success") -> HttpResponse:
    """The card for htmx (with a toast and `registersChanged`), else back to the page."""
    if not request.htmx:
        if message:
            getattr(messages, kind)(request, message)
        return redirect(reverse("client_detail", args=[client.code]) + "#registers")
    response = render(request, CARD, {"client": client, "card": RegistersCard(client)})
    return fire(response, "registersChanged", message=message, kind=kind)


@require_GET
@firm_required
def client_registers(request, code: str):
    """The card alone: what it polls while a check is under way."""
    client = get_client(request, code)
    if not request.htmx:
        return redirect(reverse("client_detail", args=[client.code]) + "#registers")
    return render(request, CARD, {"client": client, "card": RegistersCard(client)})


@require_POST
@firm_required
def client_registers_check(request, code: str):
    """« Vérifier maintenant »: both registers, by the task worker."""
    client = get_client(request, code)
    if RegistersCard(client).running:
        return _card(request, client, "Une vérification est déjà en cours.", "info")
    check_clients_queue(firm=request.firm, client_ids=[client.pk])
    return _card(request, client, "Vérification demandée : les résultats arrivent ici.")


def _decide(request, code: str, decide, done: str) -> HttpResponse:
    client = get_client(request, code)
    form = FindingForm(request.POST)
    if not form.is_valid():
        return _card(request, client, decisions.FINDING_GONE, "error")
    register, finding = form.cleaned_data["register"], form.cleaned_data["code"]
    try:
        # The client is updated in place (a taken value).
        decide(client=client, actor=request.user, register=register, code=finding)
    except ValidationError as exc:
        return _card(request, client, exc.messages[0], "error")
    return _card(request, client, done)


@require_POST
@firm_required
def finding_take(request, code: str):
    """« Prendre la valeur du registre »."""
    return _decide(request, code, decisions.finding_take, "Valeur du registre reprise.")


@require_POST
@firm_required
def finding_dismiss(request, code: str):
    """« Ignorer »: this finding, for this register value."""
    return _decide(request, code, decisions.finding_dismiss, "Constat ignoré.")


# --- Fill from the SIRET ------------------------------------------------------------------


def _filled(request, found: lookup.Found) -> HttpResponse:
    """The form's fields rendered with the register's values, swapped out of band over
    the ones on the page (same ids); the user still saves the form."""
    values = found.values()
    form = ClientDetailsForm(firm=request.firm, initial=values)
    widgets = [form[name].as_widget(attrs={"hx-swap-oob": "true"}) for name in values]
    context = {"widgets": widgets, "message": FILLED}
    return render(request, f"{SIRET_PAGE}#filled", context)


@require_GET
@firm_required
def siret_lookup(request):
    """« Remplir depuis le registre »: what the company register says of a SIRET (and,
    with `utiliser`, those values put into the form on the page)."""
    form = SiretLookupForm(request.GET or None)
    context: dict = {"form": form}
    if form.is_valid():
        try:
            found = lookup.find(form.cleaned_data["siret"])
        except RegisterUnavailable as exc:
            context["error"] = REGISTER_DOWN.format(reason=exc)
        else:
            if found is None:
                context["error"] = NOT_FOUND
            elif request.htmx and "utiliser" in request.GET:
                return _filled(request, found)
            context["found"] = found
    elif form.is_bound and request.htmx:  # the page shows it by the field
        context["error"] = form.errors["siret"][0]
    template = f"{SIRET_PAGE}#result" if request.htmx else SIRET_PAGE
    return render(request, template, context)
