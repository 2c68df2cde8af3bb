"""Collaborators of a firm: added, re-roled and deactivated by an admin."""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm
from allauth.core.context import request_context
from django.core.exceptions import ValidationError
from django.db import transaction

from vigie.accounts.models import User
from vigie.firms.models import Firm, Membership, Role

LAST_ADMIN = "Le cabinet doit garder au moins un administrateur actif."


@transaction.atomic
def collaborator_add(
    *, firm: Firm, email: str, first_name: str, last_name: str, role: str, request
) -> User:
    """Create the account (no password yet) and email a link to choose one."""
    user = User.objects.create_user(email, None, first_name=first_name, last_name=last_name)
    Membership.objects.create(user=user, firm=firm, role=role)

    def send_link():
        # allauth reads the request from its context, which may be gone by commit time.
        with request_context(request):
            form = ResetPasswordForm(data={"email": user.email})
            if form.is_valid():
                form.save(request)

    transaction.on_commit(send_link)
    return user


def _other_active_admins(membership: Membership) -> bool:
    return (
        Membership.objects.filter(firm=membership.firm, role=Role.ADMIN, user__is_active=True)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def collaborator_set_role(*, membership: Membership, role: str) -> None:
    if (
        membership.role == Role.ADMIN
        and role != Role.ADMIN
        and not _other_active_admins(membership)
    ):
        raise ValidationError(LAST_ADMIN)
    membership.role = role
    membership.save(update_fields=["role"])


@transaction.atomic
def collaborator_set_active(*, membership: Membership, active: bool) -> None:
    if not active and membership.role == Role.ADMIN and not _other_active_admins(membership):
        raise ValidationError(LAST_ADMIN)
    user = membership.user
    user.is_active = active
    user.save(update_fields=["is_active"])
