"""The tenancy gateway: the only way views reach a firm's clients and contacts.

A client of another firm and a client that does not exist give the same 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404

from vigie.clients.models import Client, Contact


def get_client(request, code: str) -> Client:
    """The firm's client of that code, with `client.firm` the request's firm."""
    try:
        client = Client.objects.for_firm(request.firm).get(code=code)
    except Client.DoesNotExist:
        raise Http404("Client introuvable.") from None
    client.firm = request.firm
    return client


def get_contact(request, client: Client, public_id) -> Contact:
    """The client's contact of that public id; a malformed id (the API takes any text)
    is the same 404 as a missing one."""
    try:
        return Contact.objects.for_firm(request.firm).get(client=client, public_id=public_id)
    except (Contact.DoesNotExist, ValueError, ValidationError):
        raise Http404("Contact introuvable.") from None
