"""Search and sort fold ligatures like accents (œ → oe, æ → ae, ß → ss), for new rows
through the models and the imports, and for rows written before through the data
migration `clients.0013_fold_ligatures`."""

from __future__ import annotations

import importlib
import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import ClientFactory, ContactFactory
from vigie.clients import services
from vigie.clients.models import Client, Contact
from vigie.lib.text import fold

MIGRATION = ("clients", "0013_fold_ligatures")


def found(http, q: str, **params) -> list[str]:
    html = http.get("/", {"q": q, "per_page": 100, **params}).content.decode()
    return re.findall(r'<tr data-code="([^"]+)">', html)


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Café de l'Œuf", "cafe de l'oeuf"),
        ("CŒUR", "coeur"),
        ("Lætitia Æsop", "laetitia aesop"),
        ("Straße STRAẞE", "strasse strasse"),
        ("Frères ÉCKHOUT", "freres eckhout"),
    ],
)
def test_it_folds_ligatures_like_accents(typed, folded):
    assert fold(typed) == folded


def test_oeuf_finds_the_oeuf(alice_client, firm_a):
    ClientFactory(firm=firm_a, code="000246", name="Café de l'Œuf")
    ClientFactory(firm=firm_a, code="000247", name="Boulangerie Élan")
    ContactFactory(
        client=ClientFactory(firm=firm_a, code="000248", name="Zinguerie"),
        first_name="Lætitia",
        last_name="Groß",
    )
    assert found(alice_client, "oeuf") == ["000246"]
    assert found(alice_client, "Œuf") == ["000246"]
    assert found(alice_client, "cafe de l'oeuf") == ["000246"]
    assert found(alice_client, "laetitia gross") == ["000248"]
    assert found(alice_client, "lætitia") == ["000248"]


def test_it_sorts_the_oeuf_as_oeuf(alice_client, firm_a):
    for code, name in (("1", "Odile"), ("2", "Œuf"), ("3", "Ogre"), ("4", "Oasis")):
        ClientFactory(firm=firm_a, code=code, name=name)
    assert found(alice_client, "", sort="name") == ["4", "1", "2", "3"]


def test_an_imported_client_is_found_too(alice_client, firm_a):
    services.clients_upsert_many(
        firm=firm_a,
        rows=[
            {
                "code": "I1",
                "name": "Sœurs Martin",
                "contact": {
                    "last_name": "Bæk",
                    "first_name": "Anne",
                    "email": "anne@soeurs.fr",
                    "phone": "0707070707",
                },
            }
        ],
        source="Import (test)",
    )
    assert found(alice_client, "soeurs") == ["I1"]
    assert found(alice_client, "baek") == ["I1"]


def test_the_migration_refolds_the_rows_written_before(alice_client, firm_a, firm_b):
    oeuf = ClientFactory(firm=firm_a, code="000246", name="Café de l'Œuf")
    plain = ClientFactory(firm=firm_a, code="000247", name="Boulangerie Élan")
    other = ClientFactory(firm=firm_b, code="000246", name="Sœurs Bravo")
    laetitia = ContactFactory(client=plain, first_name="Lætitia", last_name="Groß")
    # The keys as the old folding wrote them (the ligatures kept), through raw SQL as
    # rows stored before this change are.
    with connection.cursor() as cursor:
        for client in (oeuf, other):
            old = client.name.lower().replace("é", "e")
            cursor.execute(
                "UPDATE clients_client SET sort_name = %s, search_text = %s WHERE id = %s",
                [old, f"{old} {client.code} {client.siret}", client.pk],
            )
        cursor.execute(
            "UPDATE clients_contact SET search_text = %s WHERE id = %s",
            [f"lætitia groß {laetitia.email}", laetitia.pk],
        )
    assert found(alice_client, "oeuf") == [] and found(alice_client, "laetitia") == []
    untouched = Client.objects.get(pk=plain.pk)

    module = importlib.import_module("vigie.clients.migrations.0013_fold_ligatures")
    apps = MigrationExecutor(connection).loader.project_state(MIGRATION).apps
    module.forwards(apps, None)

    oeuf.refresh_from_db()
    assert oeuf.sort_name == "cafe de l'oeuf"
    assert oeuf.search_text == f"cafe de l'oeuf 000246 {oeuf.siret}"
    assert Client.objects.get(pk=other.pk).sort_name == "soeurs bravo"
    assert Contact.objects.get(pk=laetitia.pk).search_text == f"laetitia gross {laetitia.email}"
    # A row without a ligature is not rewritten.
    assert Client.objects.get(pk=plain.pk).updated_at == untouched.updated_at
    # The search documents followed (their triggers): the search finds them now.
    assert found(alice_client, "oeuf") == ["000246"]
    assert found(alice_client, "laetitia gross") == ["000247"]
    # Twice is harmless.
    module.forwards(apps, None)
    assert found(alice_client, "oeuf") == ["000246"]
