"""The equipment dialog: declare a solution, or activate Shine (one client or a selection).

Opened with hx-get into #modal-body; forms post back into the dialog. A recorded
change answers `HX-Trigger: equipmentChanged` (the portfolio refreshes its rows,
the client page its panel) and `closeModal` when there is nothing left to do.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from vigie.clients import services as client_services
from vigie.clients.access import get_client
from vigie.clients.forms import ContactForm
from vigie.clients.models import Client
from vigie.clients.portfolio.query import Params, PortfolioQuery
from vigie.clients.readiness import principal_of, shine_blockers
from vigie.equipment import services
from vigie.equipment.forms import DeclareForm, SiretForm
from vigie.equipment.models import Equipment, Group, Slot, Solution
from vigie.invitations import emails
from vigie.invitations import services as invitations
from vigie.invitations.forms import ShineForm
from vigie.invitations.models import BILLING_MODE_NOTE, PLAN_FEATURES, Plan
from vigie.lib.decorators import firm_required
from vigie.lib.htmx import fire
from vigie.lib.text import counted

DIALOG = "equipment/dialog.html"
SELECTION_LIMIT = 20000


def _trigger(response: HttpResponse, message: str, *, close: bool = True) -> HttpResponse:
    events = ["equipmentChanged", "closeModal"] if close else ["equipmentChanged"]
    return fire(response, *events, message=message)


def _catalogue(slot: str, client: Client | None = None) -> dict:
    """The solutions offered in `slot`, in their groups, each with the dialog's columns
    for that slot (and whether the client already has it there)."""
    solutions = list(Solution.objects.filter(**{f"for_{slot}": True}))
    declared = set()
    if client is not None:
        declared = set(
            Equipment.objects.filter(client=client, slot=slot).values_list("solution_id", flat=True)
        )
    columns = [(scope, services.SCOPE_LABELS[scope]) for scope in services.SLOT_SCOPES[slot]]
    for s in solutions:
        s.declared = s.pk in declared
        s.scopes = [(scope, label, services.offers(s, scope)) for scope, label in columns]
    return {
        "slot": slot,
        "slot_label": Slot(slot).label,
        "slots": Slot.choices,
        "columns": columns,
        "shine": slot in (Slot.ACHAT, Slot.VENTE),
        "cegid": [s for s in solutions if s.group == Group.CEGID and not s.is_partner],
        "autres": [s for s in solutions if s.group == Group.OTHERS],
    }


def _plans() -> list[dict]:
    return [
        {"value": value, "label": label, "features": PLAN_FEATURES[value]}
        for value, label in Plan.choices
    ]


def _dialog(request, client: Client, *, slot: str | None = None, **extra) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    slot = services.parse_slot(slot or data.get("slot"))
    contacts = list(client.contacts.all())
    blockers = shine_blockers(client, contacts)
    principal = principal_of(contacts)
    taken = (
        principal is not None and principal.email and invitations.email_is_taken(principal.email)
    )
    invitation = invitations.latest_invitation(client)
    prepared = invitation if invitations.is_prepared_mailto(invitation) else None
    context = {
        "client": client,
        "catalogue": _catalogue(slot, client),
        "equipped": Equipment.objects.filter(client=client, slot=slot).select_related("solution"),
        "blockers": blockers,
        "blocker_codes": {b.code for b in blockers},
        "principal": principal,
        "email_taken": taken,
        "alias": invitations.next_free_alias(principal.email, client=client) if taken else "",
        "invitation": invitation,
        "live": invitations.live_invitation(client),
        "prepared": prepared,
        **(invitations.mailto_context(prepared) if prepared else {}),
        "plans": _plans(),
        "billing_note": BILLING_MODE_NOTE,
        "shine_form": extra.pop("shine_form", None) or ShineForm(),
        "siret_form": extra.pop("siret_form", None) or SiretForm(),
        "contact_form": extra.pop("contact_form", None)
        or ContactForm(client=client, initial={"is_principal": True}),
        **extra,
    }
    return render(request, f"{DIALOG}#dialog", context)


@require_GET
@firm_required
def equipment_dialog(request, code: str):
    client = get_client(request, code)
    if not request.htmx:
        return redirect("client_detail", code=client.code)
    return _dialog(request, client)


@require_GET
@firm_required
def client_shine_panel(request, code: str):
    """The Shine line of the client page's Equipement panel (loaded by htmx)."""
    client = get_client(request, code)
    context = {"client": client, "invitation": invitations.latest_invitation(client)}
    return render(request, f"{DIALOG}#client_panel", context)


def _solution(form: DeclareForm) -> Solution | None:
    if not form.is_valid():
        return None
    return Solution.objects.filter(slug=form.cleaned_data["solution"]).first()


@require_POST
@firm_required
def equipment_declare(request, code: str):
    client = get_client(request, code)
    form = DeclareForm(request.POST)
    solution = _solution(form)
    if solution is None:
        return _dialog(request, client, error="Choisissez une solution du catalogue.")
    try:
        services.equipment_declare(
            client=client, actor=request.user, solution=solution, scope=form.cleaned_data["scope"]
        )
    except ValidationError as exc:
        return _dialog(request, client, error=" ".join(exc.messages))
    return _trigger(HttpResponse(""), f"{solution.name} enregistré pour {client.name}")


@require_POST
@firm_required
def equipment_remove(request, code: str):
    """« Retirer »: a declared solution leaves the slot the dialog shows."""
    client = get_client(request, code)
    solution = Solution.objects.filter(slug=request.POST.get("solution", "")[:50]).first()
    slot = services.parse_slot(request.POST.get("slot"))
    if solution is None:
        return _dialog(request, client, error="Choisissez une solution du catalogue.")
    try:
        services.equipment_remove(client=client, actor=request.user, solution=solution, slot=slot)
    except ValidationError as exc:
        return _dialog(request, client, error=" ".join(exc.messages))
    return _trigger(HttpResponse(""), f"{solution.name} retiré pour {client.name}")


@require_POST
@firm_required
def equipment_siret(request, code: str):
    client = get_client(request, code)
    form = SiretForm(request.POST)
    if not form.is_valid():
        return _dialog(request, client, siret_form=form)
    try:
        client_services.client_update(
            client=client, actor=request.user, data={"siret": form.cleaned_data["siret"]}
        )
    except ValidationError as exc:
        form.add_error("siret", " ".join(exc.messages))
        return _dialog(request, client, siret_form=form)
    return _trigger(_dialog(request, client), "SIRET enregistré", close=False)


@require_POST
@firm_required
def equipment_contact(request, code: str):
    client = get_client(request, code)
    form = ContactForm(request.POST, client=client)
    if not form.is_valid():
        return _dialog(request, client, contact_form=form)
    try:
        client_services.contact_create(
            client=client, actor=request.user, data={**form.cleaned_data, "is_principal": True}
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _dialog(request, client, contact_form=form)
    return _trigger(
        _dialog(request, client), "Contact principal mis à jour avec succès", close=False
    )


@require_POST
@firm_required
def equipment_alias(request, code: str):
    """Create the proposed alias as the client's principal contact, in one click."""
    client = get_client(request, code)
    principal = principal_of(client.contacts.all())
    alias = invitations.next_free_alias(principal.email, client=client) if principal else ""
    if not alias or request.POST.get("email", "").lower() != alias:
        return _dialog(request, client, error="Cet alias n'est plus disponible, réessayez.")
    client_services.contact_create(
        client=client,
        actor=request.user,
        data={
            "last_name": principal.last_name,
            "first_name": principal.first_name,
            "email": alias,
            "phone": principal.phone,
            "access": principal.access,
            "is_principal": True,
        },
    )
    return _trigger(_dialog(request, client), f"Contact {alias} créé (principal)", close=False)


@require_POST
@firm_required
def equipment_shine(request, code: str):
    """« Activer »: a draft invitation, then the editable email."""
    client = get_client(request, code)
    form = ShineForm(request.POST)
    if not form.is_valid():
        return _dialog(request, client, shine_form=form)
    try:
        invitation = invitations.invitation_create(
            client=client, actor=request.user, **form.cleaned_data
        )
    except ValidationError as exc:
        return _dialog(request, client, shine_form=form, error=" ".join(exc.messages))
    return render(
        request, "invitations/compose.html#compose", {"invitation": invitation, "client": client}
    )


# --- A selection of clients -----------------------------------------------------------


def _selected_clients(request, data) -> list[Client]:
    """The ticked codes, or every client matching the portfolio's search ("all")."""
    qs = Client.objects.for_firm(request.firm).active()
    if data.get("all") == "1":
        params = Params.from_query(QueryDict(data.get("query", "")))
        solution = (
            Solution.objects.filter(slug=params.solution).first() if params.solution else None
        )
        query = PortfolioQuery(
            firm_id=request.firm.id,
            params=params,
            user_id=request.user.id,
            solution_id=solution.id if solution else None,
        )
        ids = [pk for chunk in query.iter_id_chunks() for pk in chunk][:SELECTION_LIMIT]
        qs = qs.filter(pk__in=ids)
    else:
        qs = qs.filter(code__in=data.getlist("codes")[:SELECTION_LIMIT])
    return list(qs.select_related("firm").prefetch_related("contacts").order_by("sort_name", "id"))


def _selection(request, clients, **extra) -> HttpResponse:
    ready, blocked = invitations.preflight(clients)
    data = request.POST if request.method == "POST" else request.GET
    slot = services.parse_slot(data.get("slot"))
    plan = data.get("plan") if data.get("plan") in Plan.values else Plan.START
    templates = {p: emails.firm_template(request.firm, p) for p in Plan.values}
    subject, body = templates[plan]
    if request.method == "POST":
        subject, body = data.get("subject", subject), data.get("body", body)
    selection = {
        "all": data.get("all", ""),
        "query": data.get("query", ""),
        "codes": data.getlist("codes") if data.get("all") != "1" else [],
    }
    context = {
        "clients": clients,
        "ready": ready,
        "blocked": blocked,
        "catalogue": _catalogue(slot),
        "plans": _plans(),
        "billing_note": BILLING_MODE_NOTE,
        "shine_form": ShineForm(data if request.method == "POST" else None),
        "plan": plan,
        "subject": subject,
        "body": body,
        # Each plan's wording: the dialog swaps it in when the plan changes (vigie.js).
        "plan_templates": {p: {"subject": t[0], "body": t[1]} for p, t in templates.items()},
        "placeholders": emails.PLACEHOLDERS,
        "selection": selection,
        "hidden": [("all", selection["all"]), ("query", selection["query"])]
        + [("codes", code) for code in selection["codes"]],
        **extra,
    }
    return render(request, f"{DIALOG}#selection", context)


@require_GET
@firm_required
def selection_dialog(request):
    clients = _selected_clients(request, request.GET)
    if not clients:
        return render(request, f"{DIALOG}#empty_selection")
    return _selection(request, clients)


@require_POST
@firm_required
def selection_declare(request):
    clients = _selected_clients(request, request.POST)
    form = DeclareForm(request.POST)
    solution = _solution(form)
    if solution is None or not clients:
        return _selection(request, clients, error="Choisissez une solution du catalogue.")
    try:
        count = services.equipment_declare_many(
            clients=clients, actor=request.user, solution=solution, scope=form.cleaned_data["scope"]
        )
    except ValidationError as exc:
        return _selection(request, clients, error=" ".join(exc.messages))
    return _trigger(HttpResponse(""), f"{solution.name} enregistré pour {counted(count, 'client')}")


@require_POST
@firm_required
def selection_shine(request):
    clients = _selected_clients(request, request.POST)
    ready, _ = invitations.preflight(clients)
    plan = request.POST.get("plan", "")
    # The wording of another plan, left as it was, follows the plan chosen.
    subject, body = emails.follow_plan(
        request.firm, plan, request.POST.get("subject", ""), request.POST.get("body", "")
    )
    try:
        bulk = invitations.bulk_invitation_start(
            firm=request.firm,
            actor=request.user,
            clients=ready,
            plan=plan,
            billing_mode=request.POST.get("billing_mode", ""),
            subject=subject,
            body=body,
        )
    except ValidationError as exc:
        return _selection(request, clients, errors=exc.message_dict)
    return render(request, "invitations/bulk.html#progress", {"bulk": bulk})
