from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from vigie.api.models import ApiKey
from vigie.clients.models import Client
from vigie.integrations import services
from vigie.integrations.forms import NameForm
from vigie.integrations.launch import LaunchRefused, launch_verify
from vigie.integrations.models import IntegrationSecret
from vigie.lib.decorators import admin_required

BACKEND = "vigie.accounts.backends.AuthenticationBackend"


def _page(request, *, key_form=None, secret_form=None, new_key=None, new_secret=None, status=200):
    context = {
        "keys": ApiKey.objects.for_firm(request.firm),
        "secrets": IntegrationSecret.objects.for_firm(request.firm),
        "key_form": key_form or NameForm(prefix="key"),
        "secret_form": secret_form or NameForm(prefix="secret"),
        "new_key": new_key,
        "new_secret": new_secret,
    }
    return render(request, "integrations/index.html", context, status=status)


@require_GET
@admin_required
def index(request):
    return _page(request)


@require_POST
@admin_required
def api_key_create(request):
    form = NameForm(request.POST, prefix="key")
    if not form.is_valid():
        return _page(request, key_form=form, status=422)
    key, raw = services.api_key_create(
        firm=request.firm, actor=request.user, name=form.cleaned_data["name"]
    )
    # Rendered, not redirected: the key is shown this once and stored nowhere in clear.
    return _page(request, new_key={"name": key.name, "value": raw})


@require_POST
@admin_required
def api_key_revoke(request, key_id):
    try:
        key = ApiKey.objects.for_firm(request.firm).get(public_id=key_id)
    except ApiKey.DoesNotExist:
        raise Http404("Clé introuvable.") from None
    services.api_key_revoke(key=key)
    messages.success(request, f"Clé « {key.name} » révoquée.")
    return redirect("integrations")


@require_POST
@admin_required
def secret_create(request):
    form = NameForm(request.POST, prefix="secret")
    if not form.is_valid():
        return _page(request, secret_form=form, status=422)
    secret, raw = services.integration_secret_create(
        firm=request.firm, actor=request.user, name=form.cleaned_data["name"]
    )
    return _page(request, new_secret={"name": secret.name, "value": raw})


@require_POST
@admin_required
def secret_revoke(request, secret_id):
    try:
        secret = IntegrationSecret.objects.for_firm(request.firm).get(public_id=secret_id)
    except IntegrationSecret.DoesNotExist:
        raise Http404("Secret introuvable.") from None
    services.integration_secret_revoke(secret=secret)
    messages.success(request, f"Secret « {secret.name} » révoqué.")
    return redirect("integrations")


@require_GET
def launch(request):
    """Signs in a collaborator from a production tool's signed link (docs/api.md)."""
    try:
        user, firm, code = launch_verify(request.GET)
    except LaunchRefused as refusal:
        context = {"message": refusal.message, "reason": refusal.reason}
        return render(request, "integrations/launch_refused.html", context, status=403)
    login(request, user, backend=BACKEND)
    if code:
        if Client.objects.for_firm(firm).filter(code=code).exists():
            return redirect("client_detail", code=code)
        messages.error(request, f"Le client « {code} » est introuvable dans ce cabinet.")
    return redirect("home")
