"""The client page (Portefeuille clients > {client}): contacts, details, collaborators,
notes and history.

With htmx, each change answers with the fragment it changed, plus the readiness banner
and the history swapped out-of-band, and a toast through `HX-Trigger`. Without
JavaScript the same forms post and redirect back with a Django message.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cached_property

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vigie.accounts.models import User
from vigie.clients import services
from vigie.clients.access import get_client, get_contact
from vigie.clients.forms import ClientDetailsForm, ContactForm, NotesForm
from vigie.clients.models import Client, ClientAssignment
from vigie.clients.readiness import principal_of, shine_blockers
from vigie.equipment.models import Slot
from vigie.firms.models import Membership
from vigie.invitations.lifecycle import EMAIL_CHANGED
from vigie.invitations.models import Status
from vigie.invitations.services import EMAIL_TAKEN, email_is_taken, latest_invitation
from vigie.lib.decorators import firm_required
from vigie.lib.htmx import fire
from vigie.reform.panel import ReformPanel
from vigie.registries.card import RegistersCard

PAGE = "clients/client_detail.html"
CONTACT_FORM = "clients/contact_form.html"
PRINCIPAL_UPDATED = "Contact principal mis à jour avec succès"
HISTORY_LIMIT = 50


def _shown(value) -> str:
    if value is True:
        return "Oui"
    if value is False:
        return "Non"
    return "—" if value in ("", None) else str(value)


@dataclass(frozen=True, slots=True)
class Assigned:
    """A collaborator assigned to the client (the « Collaborateurs » list)."""

    user: User

    @property
    def user_id(self) -> int:
        return self.user.pk


def collaborators_of(client: Client) -> tuple[list[Assigned], list[User]]:
    """The client's collaborators (by name, then in the order assigned) and the firm's
    active collaborators it has not (by name), in one statement."""
    assignment = ClientAssignment.objects.filter(
        firm_id=client.firm_id, client=client, user=OuterRef("pk")
    ).values("id")
    # The firm's members and the client's assignees first: the condition below alone (an
    # OR) reads every user of the installation, each with its own assignment lookup.
    involved = (
        Membership.objects.filter(firm_id=client.firm_id)
        .values("user_id")
        .union(
            ClientAssignment.objects.filter(firm_id=client.firm_id, client=client).values("user_id")
        )
    )
    users = (
        User.objects.filter(pk__in=involved)
        .annotate(assignment_id=Subquery(assignment))
        .filter(
            Q(assignment_id__isnull=False) | Q(membership__firm_id=client.firm_id, is_active=True)
        )
        .order_by("last_name", "first_name", "assignment_id", "email")
    )
    assigned: list[Assigned] = []
    candidates: list[User] = []
    for user in users:
        if user.assignment_id is None:
            candidates.append(user)
        else:
            assigned.append(Assigned(user))
    return assigned, candidates


class ClientPage:
    """What the page shows, loaded lazily: a fragment only queries what it renders."""

    def __init__(
        self,
        request,
        client: Client,
        *,
        details_form: ClientDetailsForm | None = None,
        notes_form: NotesForm | None = None,
        assignment_error: str = "",
    ):
        self.request = request
        self.client = client
        self._details_form = details_form
        self.details_open = bool(details_form and details_form.errors) or (
            request.GET.get("modifier") == "details"
        )
        self.notes_form = notes_form or NotesForm(initial={"notes": client.notes})
        self.assignment_error = assignment_error

    @cached_property
    def details_form(self) -> ClientDetailsForm:
        """Built only when shown: the page renders it open (`?modifier=details`, errors),
        else « Modifier les détails » asks for it (`client_details_update`, GET)."""
        return self._details_form or ClientDetailsForm(instance=self.client, firm=self.client.firm)

    @cached_property
    def contacts(self):
        return list(self.client.contacts.filter(firm_id=self.client.firm_id))

    @cached_property
    def invitation(self):
        """The client's latest Shine invitation, for the Équipement panel's Shine line
        (rendered with the page; `client_shine_panel` refreshes it after a change)."""
        return latest_invitation(self.client)

    @cached_property
    def principal(self):
        return principal_of(self.contacts)

    @cached_property
    def shine(self) -> str:
        """What the banner says once the prerequisites hold: "active" (Shine activated),
        "open" (an invitation on its way), "taken" (the principal's address already
        holds a Shine account elsewhere) or "ready"."""
        invitation = self.invitation
        if invitation is not None and invitation.status == Status.ACTIVATED:
            return "active"
        if invitation is not None and invitation.is_open and invitation.status != Status.DRAFT:
            return "open"
        if email_is_taken(self.principal.email):
            return "taken"
        return "ready"

    email_taken = EMAIL_TAKEN

    @cached_property
    def blockers(self):
        return shine_blockers(self.client, self.contacts)

    @cached_property
    def _collaborators(self) -> tuple[list[Assigned], list[User]]:
        return collaborators_of(self.client)

    @property
    def assignments(self) -> list[Assigned]:
        return self._collaborators[0]

    @property
    def candidates(self) -> list[User]:
        """Active collaborators of the firm not yet assigned to the client."""
        return self._collaborators[1]

    @cached_property
    def equipment(self) -> dict[str, list[str]]:
        """Each slot's solutions (« Shine Plus »), in the order they were added."""
        slots: dict[str, list[str]] = {slot: [] for slot in Slot.values}
        found = self.client.equipment.filter(firm_id=self.client.firm_id)
        for slot, name, plan in found.values_list("slot", "solution__name", "plan"):
            slots[slot].append(f"{name} {plan}".strip())
        return slots

    @cached_property
    def registers(self) -> RegistersCard:
        """The « Registres » card: what the registers last said (stored, never asked here)."""
        return RegistersCard(self.client)

    @cached_property
    def events(self):
        events = self.client.events.filter(firm_id=self.client.firm_id).select_related("actor")
        events = list(events[:HISTORY_LIMIT])
        for event in events:
            event.rows = [
                (label, _shown(pair[0]), _shown(pair[1]))
                for label, pair in (event.changes or {}).items()
                if isinstance(pair, (list, tuple)) and len(pair) == 2
            ]
        return events


def _render_page(request, client: Client, **page_kwargs) -> HttpResponse:
    page = ClientPage(request, client, **page_kwargs)
    return render(request, PAGE, {"client": client, "page": page})


def _changed(request, client: Client, part: str, message: str, *, kind="success", **page_kwargs):
    """Answer a change: the fragment `part` (+ banner, history and, for contacts, the
    Réforme panel) for htmx, else a redirect."""
    if not request.htmx:
        if message:
            getattr(messages, kind)(request, message)
        return redirect(reverse("client_detail", args=[client.code]) + f"#{part}")
    page = ClientPage(request, client, **page_kwargs)
    context = {"client": client, "page": page}
    html = render_to_string(f"{PAGE}#{part}", context, request)
    for extra in ("banner", "history"):
        html += render_to_string(f"{PAGE}#{extra}", {**context, "oob": True}, request)
    if part == "contacts":
        # The Réforme panel's blockers follow the principal contact and its email.
        panel = ReformPanel(client, principal=page.principal)
        html += render_to_string(
            "reform/panel.html", {"client": client, "panel": panel, "oob": True}, request
        )
    response = HttpResponse(html)
    response["HX-Retarget"] = f"#{part}"
    response["HX-Reswap"] = "outerHTML"
    return fire(response, "closeModal", message=message, kind=kind)


# --- The page and its details -----------------------------------------------------------


@require_GET
@firm_required
def client_detail(request, code: str):
    client = get_client(request, code)
    return _render_page(request, client)


# The parts of the page that follow changes made elsewhere (the Shine and equipment
# dialogs answer `HX-Trigger: equipmentChanged`, the « Registres » card
# `registersChanged`, after which the name heading the page may have changed too; an
# activation arrives by webhook).
PARTS = ("head", "banner", "details", "equipment", "history")


@require_GET
@firm_required
def client_part(request, code: str, part: str):
    if part not in PARTS:
        raise Http404("Partie inconnue.")
    client = get_client(request, code)
    context = {"client": client, "page": ClientPage(request, client)}
    return render(request, f"{PAGE}#{part}", context)


@require_http_methods(["GET", "POST"])
@firm_required
def client_details_update(request, code: str):
    client = get_client(request, code)
    if request.method == "GET":
        # « Modifier les détails » opened: the form, which the page leaves out until then.
        if request.htmx:
            context = {"client": client, "page": ClientPage(request, client)}
            return render(request, f"{PAGE}#details_form", context)
        url = reverse("client_detail", args=[client.code])
        return redirect(f"{url}?modifier=details#details")
    # The form writes into its instance while validating; keep `client` as it was so the
    # service can record before → after.
    form = ClientDetailsForm(request.POST, instance=copy.copy(client), firm=request.firm)
    if form.is_valid():
        try:
            client = services.client_update(
                client=client, actor=request.user, data=form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            client = get_client(request, code)
        else:
            messages.success(request, "Détails enregistrés.")
            # The code client is the URL: a new code means a new address.
            return redirect(reverse("client_detail", args=[client.code]) + "#details")
    return _render_page(request, client, details_form=form)


@require_POST
@firm_required
def client_notes_update(request, code: str):
    client = get_client(request, code)
    form = NotesForm(request.POST)
    form.is_valid()  # free text: always valid
    client = services.client_notes_update(
        client=client, actor=request.user, notes=form.cleaned_data.get("notes", "")
    )
    return _changed(request, client, "notes", "Notes enregistrées")


# --- Contacts -----------------------------------------------------------------------------


def _contact_form(request, client: Client, form: ContactForm, contact=None) -> HttpResponse:
    if contact is None:
        action = reverse("contact_create", args=[client.code])
        title = "Ajouter un contact"
    else:
        action = reverse("contact_update", args=[client.code, contact.public_id])
        title = f"Modifier le contact {contact.full_name}"
    context = {"client": client, "form": form, "action": action, "title": title}
    template = f"{CONTACT_FORM}#form" if request.htmx else CONTACT_FORM
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@firm_required
def contact_create(request, code: str):
    client = get_client(request, code)
    form = ContactForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                client=client, actor=request.user, data=form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _changed(request, client, "contacts", f"Contact ajouté : {contact.full_name}")
    return _contact_form(request, client, form)


@require_http_methods(["GET", "POST"])
@firm_required
def contact_update(request, code: str, contact_id):
    client = get_client(request, code)
    contact = get_contact(request, client, contact_id)
    initial = {f: getattr(contact, f) for f in services.CONTACT_FIELDS}
    form = ContactForm(request.POST or None, client=client, contact=contact, initial=initial)
    if request.method == "POST" and form.is_valid():
        contact.client = client
        try:
            contact = services.contact_update(
                contact=contact, actor=request.user, data=form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            message = f"Contact modifié : {contact.full_name}."
            for invitation in contact.voided_invitations:
                message += " " + EMAIL_CHANGED.format(email=invitation.email)
            return _changed(request, client, "contacts", message)
    return _contact_form(request, client, form, contact)


@require_POST
@firm_required
def contact_delete(request, code: str, contact_id):
    client = get_client(request, code)
    contact = get_contact(request, client, contact_id)
    contact.client = client
    was_principal = services.contact_delete(contact=contact, actor=request.user)
    message = f"Contact supprimé : {contact.full_name}."
    if was_principal:
        message += " Le client n'a plus de contact principal."
    return _changed(request, client, "contacts", message)


@require_POST
@firm_required
def contact_set_principal(request, code: str, contact_id):
    client = get_client(request, code)
    contact = get_contact(request, client, contact_id)
    contact.client = client
    principal = request.POST.get("is_principal") in {"1", "on", "true"}
    try:
        services.contact_set_principal(contact=contact, actor=request.user, principal=principal)
    except ValidationError as exc:
        return _changed(request, client, "contacts", exc.messages[0], kind="error")
    return _changed(request, client, "contacts", PRINCIPAL_UPDATED)


# --- Collaborators assigned to the client ---------------------------------------------------


def _firm_user(request, user_id) -> User | None:
    field = forms.UUIDField()
    try:
        public_id = field.clean(user_id)
    except ValidationError:
        return None
    return User.objects.filter(
        public_id=public_id, membership__firm=request.firm, is_active=True
    ).first()


@require_POST
@firm_required
def assignment_add(request, code: str):
    client = get_client(request, code)
    user = _firm_user(request, request.POST.get("user"))
    error = services.NOT_A_COLLEAGUE if user is None else ""
    if user is not None:
        try:
            services.assignment_add(client=client, user=user, actor=request.user)
        except ValidationError as exc:
            error = exc.messages[0]
    if error:
        if request.htmx:
            return _changed(request, client, "collaborators", "", assignment_error=error)
        return _render_page(request, client, assignment_error=error)
    return _changed(request, client, "collaborators", f"{user} affecté au client.")


@require_POST
@firm_required
def assignment_remove(request, code: str, user_id):
    client = get_client(request, code)
    assignment = client.assignments.select_related("user").filter(user__public_id=user_id).first()
    if assignment is None:
        raise Http404("Collaborateur non affecté à ce client.")
    services.assignment_remove(client=client, user=assignment.user, actor=request.user)
    return _changed(request, client, "collaborators", f"{assignment.user} retiré du client.")
