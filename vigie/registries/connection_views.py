"""« Annuaire (plateforme agréée) », a firm admin's settings page: the firm's own access
to its platform's directory (`DirectoryConnection`), « Tester la connexion », and its
removal (the server's ANNUAIRE_API_URL and key are then used, docs/registries.md)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from vigie.clients.models import Client
from vigie.lib.decorators import admin_required
from vigie.lib.validators import is_valid_siret
from vigie.registries import annuaire, services
from vigie.registries.connection_forms import DirectoryConnectionForm
from vigie.registries.models import DirectoryConnection

PAGE = "registries/connection.html"
UNREADABLE = (
    "Le secret enregistré est illisible (la clé du serveur a changé) : saisissez-le de nouveau."
)


def _page(request, form, *, connection, result=None, status=200):
    context = {
        "form": form,
        "connection": connection,
        "result": result,
        "shared": bool(settings.ANNUAIRE_API_KEY),
    }
    return render(request, PAGE, context, status=status)


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("secret")
@admin_required
def connection_settings(request):
    connection = DirectoryConnection.objects.for_firm(request.firm).first()
    form = DirectoryConnectionForm(request.POST or None, connection=connection)
    if request.method == "POST":
        if not form.is_valid():
            return _page(request, form, connection=connection, status=422)
        services.directory_connection_save(
            firm=request.firm, actor=request.user, **form.cleaned_data
        )
        messages.success(request, "Connexion à l'annuaire enregistrée.")
        return redirect("registries_connection")
    return _page(request, form, connection=connection)


def _probe_siren(firm) -> str:
    """A client's SIREN to search for (the firm's own platform sees them anyway)."""
    sirets = Client.objects.for_firm(firm).active().exclude(siret="").order_by("pk")
    siret = next((s for s in sirets.values_list("siret", flat=True)[:20] if is_valid_siret(s)), "")
    return siret[:9]


@require_POST
@sensitive_post_parameters("secret")
@admin_required
def connection_test(request):
    """« Tester la connexion »: the form's values (the saved secret when left empty), a
    token, one search; nothing saved."""
    connection = DirectoryConnection.objects.for_firm(request.firm).first()
    form = DirectoryConnectionForm(request.POST, connection=connection)
    if not form.is_valid():
        return _page(request, form, connection=connection, status=422)
    data = form.cleaned_data
    secret = data["secret"] or connection.get_secret()
    if not secret:
        result = {"ok": False, "message": UNREADABLE}
    else:
        ok, message = annuaire.connection_test(
            base_url=data["base_url"],
            token_url=data["token_url"],
            client_id=data["client_id"],
            secret=secret,
            siren=_probe_siren(request.firm),
        )
        result = {"ok": ok, "message": message}
    return _page(request, form, connection=connection, result=result)


@require_POST
@admin_required
def connection_delete(request):
    if services.directory_connection_delete(firm=request.firm):
        messages.success(
            request, "Connexion supprimée : l'annuaire est lu par l'accès commun du serveur."
        )
    return redirect("registries_connection")
