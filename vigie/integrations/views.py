from __future__ import annotations

import time

from allauth.account.utils import perform_login
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from vigie.accounts.models import User
from vigie.api.models import ApiKey
from vigie.clients.models import Client
from vigie.integrations import services
from vigie.integrations.forms import NameForm
from vigie.integrations.launch import EXPIRED, NOT_MEMBER, LaunchRefused, launch_verify
from vigie.integrations.models import IntegrationSecret
from vigie.lib.decorators import admin_required

# A verified launch link waiting for the signed-in user to confirm the switch.
PENDING_LAUNCH = "integrations.pending_launch"
CONFIRM_WITHIN = 120  # seconds


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


def _create(request, kind: str, create):
    """Create a key or a secret (`kind`) from the name posted in its form."""
    form = NameForm(request.POST, prefix=kind)
    if not form.is_valid():
        return _page(request, **{f"{kind}_form": form}, status=422)
    row, raw = create(firm=request.firm, actor=request.user, name=form.cleaned_data["name"])
    # Rendered, not redirected: the value is shown this once and stored nowhere in clear.
    return _page(request, **{f"new_{kind}": {"name": row.name, "value": raw}})


@require_POST
@admin_required
def api_key_create(request):
    return _create(request, "key", services.api_key_create)


@require_POST
@admin_required
def api_key_revoke(request, key_id):
    key = get_object_or_404(ApiKey.objects.for_firm(request.firm), public_id=key_id)
    key.revoke()
    messages.success(request, f"Clé « {key.name} » révoquée.")
    return redirect("integrations")


@require_POST
@admin_required
def secret_create(request):
    return _create(request, "secret", services.integration_secret_create)


@require_POST
@admin_required
def secret_revoke(request, secret_id):
    secrets = IntegrationSecret.objects.for_firm(request.firm)
    secret = get_object_or_404(secrets, public_id=secret_id)
    secret.revoke()
    messages.success(request, f"Secret « {secret.name} » révoqué.")
    return redirect("integrations")


@require_GET
def launch(request):
    """Signs in a collaborator from a production tool's signed link (docs/api.md)."""
    try:
        user, firm, code = launch_verify(request.GET)
    except LaunchRefused as refusal:
        return _refused(request, refusal)
    if not request.user.is_authenticated:
        return _sign_in(request, user, firm, code)
    if request.user.pk == user.pk:
        return redirect(_destination(request, firm, code))
    # Signed in as someone else: a link opened in this browser must not switch the
    # session behind the user's back (login CSRF). The link is spent; the switch waits
    # for a POST of this page, protected by the CSRF token.
    request.session[PENDING_LAUNCH] = {
        "user": user.pk,
        "firm": firm.pk,
        "code": code,
        "expires": time.time() + CONFIRM_WITHIN,
    }
    context = {
        "current": request.user,
        "current_firm": request.firm,
        "target": user,
        "target_firm": firm,
    }
    return render(request, "integrations/launch_confirm.html", context)


@require_POST
def launch_confirm(request):
    pending = request.session.pop(PENDING_LAUNCH, None)
    if "cancel" in request.POST:
        return redirect("home")
    if not isinstance(pending, dict) or pending.get("expires", 0) < time.time():
        return _refused(request, LaunchRefused("expired", EXPIRED))
    user = (
        User.objects.filter(pk=pending["user"], is_active=True, membership__firm=pending["firm"])
        .select_related("membership__firm")
        .first()
    )
    if user is None:
        return _refused(request, LaunchRefused("not_member", NOT_MEMBER))
    logout(request)  # allauth's second-factor step runs only for a signed-out browser
    return _sign_in(request, user, user.membership.firm, pending["code"])


def _refused(request, refusal: LaunchRefused):
    context = {"message": refusal.message, "reason": refusal.reason}
    return render(request, "integrations/launch_refused.html", context, status=403)


def _destination(request, firm, code: str) -> str:
    if code:
        if Client.objects.for_firm(firm).filter(code=code).exists():
            try:
                return reverse("client_detail", kwargs={"code": code})
            except NoReverseMatch:  # a code no URL can carry ("/"): its page is not linkable
                pass
        messages.error(request, f"Le client « {code} » est introuvable dans ce cabinet.")
    return reverse("home")


def _sign_in(request, user, firm, code: str):
    """allauth's sign-in with its stages: an account with TOTP is sent to the code page
    (/compte/2fa/authenticate/) and signed in only once the code is right."""
    return perform_login(request, user, redirect_url=_destination(request, firm, code))
