"""The client's address (head office): the forms, the postal code's validation, the
details card, the history, « Remplir depuis le registre » against the sandbox register,
the API and the import."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.registries import point_at_sandbox
from vigie.clients.forms import POSTAL_CODE_INVALID
from vigie.clients.models import Client, ClientEvent, LegalForm
from vigie.imports.models import ImportJob
from vigie.imports.services import import_run
from vigie.integrations.services import api_key_create
from vigie.lib.validators import make_siret
from vigie.registries.sirene import SireneClient, company_from

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
VALID_SIRET = "84523656100013"


def _details(client, **overrides):
    data = {
        "name": client.name,
        "code": client.code,
        "legal_form": client.legal_form,
        "regime": client.regime,
        "siret": client.siret,
        "ape_code": client.ape_code,
        "activity": client.activity,
        "address": client.address,
        "postal_code": client.postal_code,
        "city": client.city,
    }
    return data | overrides


def _update_url(client) -> str:
    return reverse("client_details_update", args=[client.code])


# --- The forms, the card, the history --------------------------------------------------------


def test_it_saves_the_address_shows_it_and_records_it(bob_client, bob, client_a):
    response = bob_client.post(
        _update_url(client_a),
        _details(client_a, address=" 12  rue de la Paix ", postal_code="75 002", city="Paris"),
    )
    assert response.status_code == 302
    client_a.refresh_from_db()
    assert (client_a.address, client_a.postal_code, client_a.city) == (
        "12 rue de la Paix",
        "75002",
        "Paris",
    )
    event = ClientEvent.objects.get(client=client_a, kind="client.updated")
    assert event.actor == bob
    assert event.summary == "Détails modifiés : adresse, code postal, ville"
    assert event.changes["adresse"] == ["", "12 rue de la Paix"]
    assert event.changes["code postal"] == ["", "75002"]
    assert event.changes["ville"] == ["", "Paris"]

    html = bob_client.get(reverse("client_detail", args=[client_a.code])).content.decode()
    assert "<dt>Adresse</dt>" in html
    assert "12 rue de la Paix<br>75002 Paris" in html
    assert "Détails modifiés : adresse, code postal, ville" in html

    # Moving: the history says from where to where.
    bob_client.post(_update_url(client_a), _details(client_a, postal_code="69003", city="Lyon"))
    moved = ClientEvent.objects.filter(client=client_a, kind="client.updated").first()
    assert moved.changes == {"code postal": ["75002", "69003"], "ville": ["Paris", "Lyon"]}


def test_the_details_form_shows_the_address_fields(bob_client, client_a):
    html = bob_client.get(_update_url(client_a), **HTMX).content.decode()
    for name, label in (("address", "Adresse"), ("postal_code", "Code postal"), ("city", "Ville")):
        assert f'name="{name}"' in html and f'for="id_{name}">{label}' in html


def test_a_client_without_an_address_shows_a_dash(bob_client, client_a):
    html = bob_client.get(reverse("client_detail", args=[client_a.code])).content.decode()
    assert '<dd data-testid="address">—</dd>' in html


def test_a_new_client_takes_its_address(bob_client, firm_a):
    response = bob_client.post(
        reverse("client_create"),
        {
            "name": "Garage du Port",
            "code": "G1",
            "legal_form": LegalForm.SARL,
            "siret": VALID_SIRET,
            "address": "3 quai des Chartrons",
            "postal_code": "33000",
            "city": "Bordeaux",
        },
    )
    assert response.status_code == 302
    client = Client.objects.get(firm=firm_a, code="G1")
    assert (client.address, client.postal_code, client.city) == (
        "3 quai des Chartrons",
        "33000",
        "Bordeaux",
    )


@pytest.mark.parametrize("bad", ["7500", "750011", "75O11", "2A004", "75-011"])
def test_a_postal_code_not_of_five_digits_is_refused(bad, bob_client, client_a):
    response = bob_client.post(
        _update_url(client_a), _details(client_a, postal_code=bad, city="Paris")
    )
    assert response.status_code == 200
    assert POSTAL_CODE_INVALID.replace("'", "&#x27;") in response.content.decode()
    client_a.refresh_from_db()
    assert (client_a.postal_code, client_a.city) == ("", "")
    assert not ClientEvent.objects.filter(client=client_a).exists()


def test_the_database_refuses_a_malformed_postal_code(client_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.filter(pk=client_a.pk).update(postal_code="7501")


# --- « Remplir depuis le registre » ---------------------------------------------------------------


@pytest.fixture
def registers(sandbox, settings):
    return point_at_sandbox(sandbox, settings)


def test_fill_from_the_register_puts_the_head_office_address_in_the_form(registers, bob_client):
    siret = make_siret("52345678", "0001")
    registers.seed(Client(code="R1", name="Fleurs du Marché", siret=siret, legal_form="SAS"))
    head = SireneClient().company(siret).head_office
    assert head.street and len(head.postal_code) == 5 and head.city
    url = reverse("registry_siret_lookup")
    found = bob_client.get(url, {"siret": siret}, **HTMX).content.decode()
    assert "<dt>Siège</dt>" in found and head.address in found

    html = bob_client.get(url, {"siret": siret, "utiliser": "1"}, **HTMX).content.decode()
    assert f'name="address" value="{head.street}"' in html
    assert f'name="postal_code" value="{head.postal_code}"' in html
    assert f'name="city" value="{head.city}"' in html
    assert html.count('hx-swap-oob="true"') == 7  # name, form, APE, activity, address, CP, town

    # What the form then saves.
    bob_client.post(
        reverse("client_create"),
        {
            "name": "FLEURS DU MARCHÉ",
            "code": "R1",
            "legal_form": "SAS",
            "siret": siret,
            "address": head.street,
            "postal_code": head.postal_code,
            "city": head.city,
        },
    )
    created = Client.objects.get(code="R1")
    assert (created.address, created.postal_code, created.city) == (
        head.street,
        head.postal_code,
        head.city,
    )


def test_the_connector_maps_the_address_parts_and_the_one_line_address():
    siege = {
        "siret": VALID_SIRET,
        "est_siege": True,
        "etat_administratif": "A",
        "adresse": "BAT B 12 BIS RUE DE LA PAIX 75002 PARIS",
        "complement_adresse": "BAT B",
        "numero_voie": "12",
        "indice_repetition": "BIS",
        "type_voie": "RUE",
        "libelle_voie": "DE LA PAIX",
        "code_postal": "75002",
        "libelle_commune": "PARIS",
    }
    company = company_from({"siren": VALID_SIRET[:9], "siege": siege})
    head = company.head_office
    assert (head.street, head.postal_code, head.city) == (
        "BAT B 12 BIS RUE DE LA PAIX",
        "75002",
        "PARIS",
    )
    # An establishment of matching_etablissements has only the one-line address.
    matching = {k: siege[k] for k in ("siret", "adresse", "code_postal", "libelle_commune")}
    company = company_from({"siren": VALID_SIRET[:9], "matching_etablissements": [matching]})
    establishment = company.establishments[VALID_SIRET]
    assert establishment.street == "BAT B 12 BIS RUE DE LA PAIX"


# --- The API and the import --------------------------------------------------------------------


@pytest.fixture
def api(firm_a, alice, client):
    _, token = api_key_create(firm=firm_a, actor=alice, name="Cegid Loop")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_the_api_reads_and_writes_the_address(api, firm_a):
    body = {
        "name": "Garage Martin",
        "address": "4 rue Neuve",
        "postal_code": "13 001",
        "city": "Marseille",
    }
    response = api.put("/api/v1/clients/M1", body, content_type="application/json")
    assert response.status_code == 201, response.content
    out = response.json()["client"]
    assert (out["address"], out["postal_code"], out["city"]) == (
        "4 rue Neuve",
        "13001",
        "Marseille",
    )

    response = api.put(
        "/api/v1/clients/M1", {"postal_code": "130"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["details"]["postal_code"] == [POSTAL_CODE_INVALID]
    assert Client.objects.get(firm=firm_a, code="M1").postal_code == "13001"


def test_an_import_reads_the_address_columns(alice_client, firm_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["Code client", "Raison sociale", "Adresse", "CP", "Ville"])
    writer.writerow(["I1", "Boulangerie Neuve", "1 place du Marché", "01000", "Bourg-en-Bresse"])
    writer.writerow(["I2", "Garage Sud", "2 route de Nîmes", "3000", "Nîmes"])
    alice_client.post(
        "/imports/", {"file": SimpleUploadedFile("c.csv", buffer.getvalue().encode("utf-8"))}
    )
    job = ImportJob.objects.get(firm=firm_a)
    assert job.mapping == {"code": 0, "name": 1, "address": 2, "postal_code": 3, "city": 4}
    alice_client.post(
        reverse("import_start", args=[job.public_id]), {k: str(v) for k, v in job.mapping.items()}
    )
    job = import_run(job_id=job.pk)
    created = Client.objects.get(firm=firm_a, code="I1")
    assert (created.address, created.postal_code, created.city) == (
        "1 place du Marché",
        "01000",
        "Bourg-en-Bresse",
    )
    error = job.row_errors.get()
    assert error.line == 3 and f"Code postal : {POSTAL_CODE_INVALID}" in error.message
