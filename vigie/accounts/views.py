from __future__ import annotations

from django.http import Http404


def email_management(request, *args, **kwargs):
    """allauth's e-mail pages (add an address, make it primary, confirm it): none here.

    A collaborator's sign-in address is the one the firm's admin gave; a second address
    on the account would receive password resets for it (vigie/accounts/urls.py).
    """
    raise Http404("L'adresse de connexion est définie par l'administrateur du cabinet.")
