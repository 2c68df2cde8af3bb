"""View decorators: who may reach a view."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404


def firm_required(view):
    """Signed in and member of a firm; otherwise the sign-in page or a 404."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.firm is None:
            raise Http404("Aucun cabinet pour ce compte.")
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view):
    """A firm admin only. Others get the same 404 as a page that does not exist."""

    @firm_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.is_admin:
            raise Http404("Réservé aux administrateurs du cabinet.")
        return view(request, *args, **kwargs)

    return wrapper
