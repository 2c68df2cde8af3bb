from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from vigie.clients import services
from vigie.clients.forms import ClientCreateForm
from vigie.lib.decorators import firm_required


@require_http_methods(["GET", "POST"])
@firm_required
def client_create(request):
    form = ClientCreateForm(request.POST or None, firm=request.firm, creator=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        collaborator = data.pop("collaborator")
        try:
            client = services.client_create(
                firm=request.firm, actor=request.user, data=data, collaborator=collaborator
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Client « {client.name} » créé.")
            return redirect("client_detail", code=client.code)
    return render(request, "clients/client_form.html", {"form": form})
