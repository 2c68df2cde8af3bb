"""The tenancy gateway: the only way views reach a firm's clients and contacts.

A client of another firm and a client that does not exist give the same 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404

from vigie.clients.models import Client, Contact
from vigie.lib.rows import RowLoader

CLIENT_ROW = RowLoader.all_fields(Client)


def get_client(request, code: str) -> Client:
    """The firm's client of that code, with `client.firm` the request's firm. Written as
    SQL (every client page and change starts here: the ORM took longer to build the
    statement than the database to answer it)."""
    sql = (
        f"SELECT {CLIENT_ROW.columns('c')} FROM {Client._meta.db_table} c "
        "WHERE c.firm_id = %s AND c.code = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [request.firm.id, code])
        values = cursor.fetchone()
    if values is None:
        raise Http404("Client introuvable.")
    client = CLIENT_ROW.build(values)
    Client.firm.field.set_cached_value(client, request.firm)
    return client


def get_contact(request, client: Client, public_id) -> Contact:
    """The client's contact of that public id; a malformed id (the API takes any text)
    is the same 404 as a missing one."""
    try:
        return Contact.objects.for_firm(request.firm).get(client=client, public_id=public_id)
    except (Contact.DoesNotExist, ValueError, ValidationError):
        raise Http404("Contact introuvable.") from None
