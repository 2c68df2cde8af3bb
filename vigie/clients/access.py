"""The tenancy gateway: the only way views reach a firm's clients and contacts.

A client of another firm and a client that does not exist give the same 404.
"""

from __future__ import annotations

from django.http import Http404

from vigie.clients.models import Client, Contact


def get_client(request, code: str, *, queryset=None) -> Client:
    qs = queryset if queryset is not None else Client.objects.all()
    try:
        return qs.for_firm(request.firm).get(code=code)
    except Client.DoesNotExist:
        raise Http404("Client introuvable.") from None


def get_contact(request, client: Client, public_id) -> Contact:
    try:
        return Contact.objects.for_firm(request.firm).get(client=client, public_id=public_id)
    except (Contact.DoesNotExist, ValueError):
        raise Http404("Contact introuvable.") from None
