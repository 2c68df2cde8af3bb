"""Invitations: send the edited email, resend, cancel; the link's landing page; the
firm's templates and test account (admins); the progress of a bulk run."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vigie.invitations import emails, lifecycle, services
from vigie.invitations.forms import ComposeForm, TemplateForm, TestAccountForm
from vigie.invitations.models import (
    PLAN_FEATURES,
    BulkInvitation,
    Invitation,
    InvitationTemplate,
    Plan,
    SendMethod,
    Status,
)
from vigie.invitations.tokens import check_token, parse_token, was_issued
from vigie.lib.decorators import admin_required, firm_required
from vigie.lib.htmx import fire
from vigie.partners.models import PartnerState
from vigie.partners.services import partner_onboarding
from vigie.partners.shine import shine_signin_url

COMPOSE = "invitations/compose.html"


def _get_invitation(request, public_id) -> Invitation:
    try:
        return (
            Invitation.objects.for_firm(request.firm)
            .select_related("client", "firm")
            .get(public_id=public_id)
        )
    except Invitation.DoesNotExist:
        raise Http404("Invitation introuvable.") from None


def _changed(response: HttpResponse, message: str, *, close: bool = False) -> HttpResponse:
    events = ["equipmentChanged", "closeModal"] if close else ["equipmentChanged"]
    return fire(response, *events, message=message)


def _refused(form: ComposeForm, exc: ValidationError) -> None:
    # A refusal names its field ({"subject": …}) or none (an unknown send method).
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for field, field_errors in errors.items():
        form.add_error(field if field in form.fields else None, field_errors)


@require_POST
@firm_required
def invitation_send(request, public_id):
    """The edited email: « Envoyer par Vigie » sends it; « J'envoie » opens it in the
    collaborator's mail app and asks them to confirm once they have sent it."""
    invitation = _get_invitation(request, public_id)
    form = ComposeForm(request.POST)
    method = request.POST.get("method", "")
    context = {"invitation": invitation, "client": invitation.client, "form": form}
    if not form.is_valid():
        return render(request, f"{COMPOSE}#compose", context)
    try:
        if method == SendMethod.MAILTO:
            invitation = services.invitation_prepare_mailto(
                invitation=invitation, actor=request.user, **form.cleaned_data
            )
        else:
            invitation = services.invitation_send(
                invitation=invitation, actor=request.user, method=method, **form.cleaned_data
            )
    except ValidationError as exc:
        _refused(form, exc)
        return render(request, f"{COMPOSE}#compose", context)
    context["invitation"] = invitation
    if method == SendMethod.MAILTO:
        context.update(services.mailto_context(invitation), open_now=True)
        return render(request, f"{COMPOSE}#mailto", context)
    return _changed(render(request, f"{COMPOSE}#sent", context), "Invitation en cours d'envoi")


@require_POST
@firm_required
def invitation_confirm(request, public_id):
    """« J'ai envoyé l'e-mail »: the invitation is recorded as sent by the firm."""
    invitation = _get_invitation(request, public_id)
    try:
        invitation = services.invitation_send(
            invitation=invitation,
            actor=request.user,
            method=SendMethod.MAILTO,
            subject=invitation.subject,
            body=invitation.body,
        )
    except ValidationError as exc:
        return render(request, f"{COMPOSE}#refused", {"message": " ".join(exc.messages)})
    context = {"invitation": invitation, "client": invitation.client}
    return _changed(
        render(request, f"{COMPOSE}#sent", context),
        "Invitation enregistrée comme envoyée par le cabinet",
    )


def _act(request, public_id, action, done: str) -> HttpResponse:
    """Run an action on one invitation; htmx gets a toast (the dialog closes, the page
    refreshes), a plain form a redirect."""
    invitation = _get_invitation(request, public_id)
    try:
        action(invitation=invitation, actor=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
        if not request.htmx:
            messages.error(request, error)
            return _back(invitation)
        return render(request, f"{COMPOSE}#refused", {"message": error})
    if not request.htmx:
        messages.success(request, done)
        return _back(invitation)
    return _changed(HttpResponse(""), done, close=True)


def _back(invitation: Invitation) -> HttpResponse:
    if invitation.client is not None:
        return redirect("client_detail", code=invitation.client.code)
    return redirect("invitation_test_account")


@require_POST
@firm_required
def invitation_resend(request, public_id):
    return _act(request, public_id, services.invitation_resend, "Invitation renvoyée")


@require_POST
@firm_required
def invitation_cancel(request, public_id):
    return _act(request, public_id, services.invitation_cancel, "Invitation annulée")


@require_POST
@firm_required
def invitation_remind(request, public_id):
    return _act(request, public_id, lifecycle.invitation_remind, "Relance envoyée")


@require_GET
def invitation_landing(request, token: str):
    """The email's link: checks our token, then hands over to the partner's onboarding
    page (creating the partner's invitation now if the worker has not yet). A client
    back on the link of an account already active is sent to Shine's sign-in."""
    parsed = parse_token(token)
    invitation = None
    if parsed is not None:
        invitation = (
            Invitation.objects.select_related("firm", "client").filter(public_id=parsed[0]).first()
        )
    if invitation is not None and was_issued(invitation, token):
        if invitation.status == Status.ACTIVATED:
            context = {"active": invitation, "signin_url": shine_signin_url()}
            return render(request, "invitations/landing.html", context)
    valid = invitation is not None and check_token(invitation, token)
    if valid and services.is_prepared_mailto(invitation):
        # The client holds the collaborator's email: it was sent, whether or not they
        # came back to say so.
        try:
            invitation = services.invitation_send(
                invitation=invitation,
                actor=invitation.sent_by or invitation.created_by,
                method=SendMethod.MAILTO,
                subject=invitation.subject,
                body=invitation.body,
            )
        except ValidationError:
            valid = False
    context = {"invitation": invitation if valid else None}
    if valid:
        link = partner_onboarding(invitation)
        if link.state == PartnerState.CREATED and link.onboarding_url:
            return redirect(link.onboarding_url)
        context["partner"] = link
        context["features"] = PLAN_FEATURES[Plan(invitation.plan)]
        context["mode"] = emails.mode_text(invitation.billing_mode)
    return render(request, "invitations/landing.html", context, status=200 if valid else 404)


@require_GET
@firm_required
def bulk_progress(request, public_id):
    try:
        bulk = BulkInvitation.objects.get(firm=request.firm, public_id=public_id)
    except (BulkInvitation.DoesNotExist, ValueError):
        raise Http404 from None
    response = render(request, "invitations/bulk.html#progress", {"bulk": bulk})
    if bulk.status == "terminee":
        fire(response, "equipmentChanged")
    return response


@require_http_methods(["GET", "POST"])
@admin_required
def invitation_templates(request):
    plan = request.GET.get("plan") or request.POST.get("plan") or Plan.START
    if plan not in Plan.values:
        raise Http404
    row = InvitationTemplate.objects.filter(firm=request.firm, plan=plan).first()
    if row is None:
        subject, body = emails.default_template(plan)
        row = InvitationTemplate(firm=request.firm, plan=plan, subject=subject, body=body)
    form = TemplateForm(request.POST or None, instance=row)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.updated_by = request.user
        saved.save()
        return redirect(f"{request.path}?plan={plan}&ok=1")
    context = {
        "form": form,
        "plan": plan,
        "plans": Plan.choices,
        "placeholders": emails.PLACEHOLDERS,
        "saved": request.GET.get("ok") == "1",
    }
    return render(request, "invitations/templates.html", context)


@require_http_methods(["GET", "POST"])
@admin_required
def test_account(request):
    form = TestAccountForm(request.POST or None)
    invitation = None
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.firm_test_account_invite(
                firm=request.firm, actor=request.user, email=form.cleaned_data["email"]
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    tests = Invitation.objects.for_firm(request.firm).filter(client__isnull=True)[:20]
    context = {"form": form, "invitation": invitation, "tests": tests}
    return render(request, "invitations/test_account.html", context)
