"""The partner's pages: onboarding (the client validates its account), the account, and
the access page a firm's collaborator reaches through an access link."""

from __future__ import annotations

from django import forms
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from sandbox import webhooks
from sandbox.models import AccessLink, Account, PartnerInvitation

PLAN_LABELS = {"easy": "Easy", "start": "Start", "plus": "Plus"}
MODE_LABELS = {"shine": "Facturé par Shine", "cabinet": "Cabinet (facturé par votre cabinet)"}


class OnboardingForm(forms.Form):
    password = forms.CharField(
        label="Choisissez un mot de passe", min_length=8, widget=forms.PasswordInput
    )
    accept = forms.BooleanField(label="J'accepte les conditions générales d'utilisation de Shine")


class SignInForm(forms.Form):
    email = forms.EmailField(label="Adresse e-mail")
    password = forms.CharField(label="Mot de passe", widget=forms.PasswordInput)


def _invitation(token: str) -> PartnerInvitation:
    invitation = PartnerInvitation.objects.filter(onboarding_token=token).first()
    if invitation is None:
        raise Http404("Invitation inconnue.")
    return invitation


@require_http_methods(["GET", "POST"])
def onboarding(request, token: str):
    invitation = _invitation(token)
    context = {
        "invitation": invitation,
        "plan": PLAN_LABELS.get(invitation.plan),
        "mode": MODE_LABELS.get(invitation.billing_mode),
    }
    if invitation.status != PartnerInvitation.PENDING:
        account = Account.objects.filter(invitation=invitation).first()
        return render(
            request, "sandbox/onboarding_closed.html", {**context, "account": account}, status=410
        )
    form = OnboardingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                account = Account.objects.create(
                    invitation=invitation,
                    email=invitation.email,
                    company_name=invitation.company_name,
                    siret=invitation.siret,
                    plan=invitation.plan,
                    billing_mode=invitation.billing_mode,
                    firm_name=invitation.firm_name,
                    password=make_password(form.cleaned_data["password"]),
                )
                invitation.status = PartnerInvitation.ACCEPTED
                invitation.save(update_fields=["status"])
                webhooks.emit(
                    "account.activated",
                    invitation,
                    {
                        "invitation_id": str(invitation.id),
                        "external_id": invitation.external_id,
                        "account_id": str(account.id),
                        "email": account.email,
                    },
                )
        except IntegrityError:
            form.add_error(
                None, "Cette adresse e-mail a déjà un compte Shine : un seul compte par adresse."
            )
        else:
            request.session["account_id"] = str(account.id)
            return redirect("account")
    return render(request, "sandbox/onboarding.html", {**context, "form": form})


@require_http_methods(["GET", "POST"])
def signin(request):
    """Shine's sign-in page: where a client whose account is active comes back."""
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = Account.objects.filter(
            email__iexact=form.cleaned_data["email"], status=Account.ACTIVE
        ).first()
        if account is not None and check_password(form.cleaned_data["password"], account.password):
            request.session.cycle_key()
            request.session["account_id"] = str(account.id)
            return redirect("account")
        form.add_error(None, "Adresse e-mail ou mot de passe incorrect.")
    return render(request, "sandbox/signin.html", {"form": form})


@require_GET
def account(request):
    account = Account.objects.filter(id=request.session.get("account_id")).first()
    if account is None:
        raise Http404("Aucun compte ouvert dans ce navigateur.")
    return render(
        request, "sandbox/account.html", {"account": account, "plan": PLAN_LABELS.get(account.plan)}
    )


@require_GET
def access(request, token: str):
    with transaction.atomic():
        link = (
            AccessLink.objects.select_for_update()
            .select_related("account")
            .filter(token=token)
            .first()
        )
        if link is None or link.used_at or link.expires_at < timezone.now():
            return render(request, "sandbox/access_refused.html", status=403)
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
    return render(
        request,
        "sandbox/account.html",
        {"account": link.account, "plan": PLAN_LABELS.get(link.account.plan), "access": link},
    )
