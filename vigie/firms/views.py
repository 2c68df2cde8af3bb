from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from vigie.firms import services
from vigie.firms.forms import CollaboratorForm, InvitationSettingsForm, RoleForm
from vigie.firms.models import Membership
from vigie.lib.decorators import admin_required


def _get_membership(request, user_id) -> Membership:
    memberships = Membership.objects.select_related("user").filter(firm=request.firm)
    return get_object_or_404(memberships, user__public_id=user_id)


@require_http_methods(["GET", "POST"])
@admin_required
def collaborators(request):
    form = CollaboratorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.collaborator_add(firm=request.firm, request=request, **form.cleaned_data)
        messages.success(
            request,
            f"{user.email} a été ajouté ; un lien pour choisir son mot de passe lui a été envoyé.",
        )
        return redirect("collaborators")
    members = (
        Membership.objects.filter(firm=request.firm)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__email")
    )
    return render(request, "firms/collaborators.html", {"form": form, "members": members})


@require_POST
@admin_required
def collaborator_role(request, user_id):
    membership = _get_membership(request, user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Rôle inconnu.")
    else:
        try:
            services.collaborator_set_role(membership=membership, role=form.cleaned_data["role"])
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, f"Rôle de {membership.user.email} mis à jour.")
    return redirect("collaborators")


@require_POST
@admin_required
def collaborator_active(request, user_id):
    membership = _get_membership(request, user_id)
    active = request.POST.get("active") == "1"
    try:
        services.collaborator_set_active(membership=membership, active=active)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        state = "réactivé" if active else "désactivé"
        messages.success(request, f"{membership.user.email} a été {state}.")
    return redirect("collaborators")


@require_http_methods(["GET", "POST"])
@admin_required
def invitation_settings(request):
    form = InvitationSettingsForm(request.POST or None, instance=request.firm)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Paramètres des invitations enregistrés.")
        return redirect("invitation_settings")
    return render(request, "firms/invitation_settings.html", {"form": form})
