"""The HTTP API: keys, tenancy, upserts, bulk, idempotency, errors, rate limit."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import ClientFactory, ContactFactory
from vigie.api.models import ApiKey, IdempotencyRecord
from vigie.clients.models import Client, ClientEvent, Contact
from vigie.equipment.models import Equipment
from vigie.integrations.services import api_key_create
from vigie.invitations.models import Invitation

VALID_SIRET = "73282932000074"
BAD_SIRET = "73282932000075"


@pytest.fixture
def key_a(alice):
    key, raw = api_key_create(firm=alice.membership.firm, actor=alice, name="Sage")
    return raw


@pytest.fixture
def key_b(charlie):
    key, raw = api_key_create(firm=charlie.membership.firm, actor=charlie, name="Quadra")
    return raw


class Api:
    def __init__(self, client, raw):
        self.client, self.raw = client, raw

    def __call__(self, method, path, body=None, raw_body=None, **headers):
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        if self.raw:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {self.raw}"
        data = (
            raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        )
        kwargs = {"content_type": "application/json"} if data is not None else {}
        if data is not None:
            kwargs["data"] = data
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs, **extra)


@pytest.fixture
def api(client, key_a):
    return Api(client, key_a)


@pytest.fixture
def api_b(django_client_factory, key_b):
    return Api(django_client_factory(), key_b)


# --- Keys ------------------------------------------------------------------------------


class TestKeys:
    def test_it_stores_only_a_hash(self, key_a):
        key = ApiKey.objects.get()
        assert key.key_hash != key_a and len(key.key_hash) == 64
        assert key_a.startswith(key.prefix)

    def test_it_requires_a_key(self, client, client_a):
        response = Api(client, None)("get", "/clients")
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"

    def test_it_refuses_a_wrong_key(self, client, client_a):
        response = Api(client, "vk_nope")("get", "/clients")
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_api_key"
        assert response.json()["message"] == "Cette clé d'API n'existe pas."

    def test_it_refuses_a_revoked_key(self, api, key_a):
        ApiKey.objects.get().revoke()
        response = api("get", "/clients")
        assert response.status_code == 401
        assert response.json()["code"] == "revoked_api_key"

    def test_it_ignores_a_session(self, alice_client, client_a):
        response = alice_client.get("/api/v1/clients")
        assert response.status_code == 401

    def test_it_records_last_use(self, api):
        api("get", "/clients")
        assert ApiKey.objects.get().last_used_at is not None

    def test_it_rate_limits_per_key(self, api, settings):
        settings.API_RATE_LIMIT_PER_MINUTE = 3
        statuses = [api("get", "/clients").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = api("get", "/clients")
        assert response.json()["code"] == "rate_limited"
        assert 1 <= int(response["Retry-After"]) <= 60


# --- Tenancy: charlie's key never reaches firm A --------------------------------------


class TestTenancy:
    @pytest.mark.parametrize(
        "method,path",
        [
            ("get", "/clients/A001"),
            ("delete", "/clients/A001"),
            ("get", "/clients/A001/contacts"),
            ("get", "/clients/A001/equipment"),
            ("get", "/clients/A001/invitations"),
            ("get", "/clients/A001/reform"),
        ],
    )
    def test_it_hides_firm_a_from_charlie(self, api_b, client_a, method, path):
        response = api_b(method, path)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert Client.objects.get(pk=client_a.pk).archived_at is None

    def test_it_lists_only_the_keys_firm(self, api_b, client_a):
        assert api_b("get", "/clients").json()["items"] == []

    def test_it_upserts_into_the_keys_own_firm(self, api_b, client_a, charlie):
        response = api_b("put", "/clients/A001", {"name": "Autre"})
        assert response.status_code == 201
        client_a.refresh_from_db()
        assert client_a.name == "Boulangerie Dupont"
        assert Client.objects.get(firm=charlie.membership.firm, code="A001").name == "Autre"

    def test_it_404s_writes_on_firm_a_contacts(self, api_b, client_a, catalogue):
        contact = ContactFactory(client=client_a)
        body = {"last_name": "X", "first_name": "Y", "email": "x@y.fr", "phone": "0601020304"}
        assert api_b("post", "/clients/A001/contacts", body).status_code == 404
        path = f"/clients/A001/contacts/{contact.public_id}"
        assert api_b("patch", path, {"first_name": "Z"}).status_code == 404
        assert api_b("post", path + "/principal").status_code == 404
        body = {"slot": "achat", "solution": "axonaut"}
        assert api_b("post", "/clients/A001/equipment", body).status_code == 404
        assert api_b("patch", "/clients/A001/reform", {"sensitised": True}).status_code == 404
        assert not Equipment.objects.exists()
        assert Contact.objects.get().first_name == "Jeanne"


# --- Clients ---------------------------------------------------------------------------


class TestUpsert:
    def test_it_creates_then_reports_unchanged(self, api, alice):
        body = {"name": "Garage  Martin", "siret": "732 829 320 00074", "ape_code": "4520a"}
        first = api("put", "/clients/G1", body)
        assert first.status_code == 201
        assert first.json()["result"] == "created"
        client = first.json()["client"]
        assert (client["name"], client["siret"], client["ape_code"]) == (
            "Garage Martin",
            VALID_SIRET,
            "45.20A",
        )
        second = api("put", "/clients/G1", body)
        assert second.status_code == 200
        assert second.json()["result"] == "unchanged"
        assert second.json()["client"] == first.json()["client"]
        assert Client.objects.filter(code="G1").count() == 1

    def test_it_updates_and_writes_history(self, api, client_a):
        response = api("put", "/clients/A001", {"name": "Boulangerie Martin", "legal_form": "sarl"})
        assert response.json()["result"] == "updated"
        event = ClientEvent.objects.filter(client=client_a).latest("id")
        assert event.actor is None
        assert event.summary.startswith("API (Sage) : détails modifiés")
        assert event.changes["raison sociale"] == ["Boulangerie Dupont", "Boulangerie Martin"]
        client_a.refresh_from_db()
        assert client_a.legal_form == "SARL"

    def test_it_leaves_absent_fields_alone(self, api, client_a):
        api("put", "/clients/A001", {"activity": "Boulangerie"})
        client_a.refresh_from_db()
        assert client_a.name == "Boulangerie Dupont"
        assert client_a.activity == "Boulangerie"

    def test_it_rejects_a_bad_siret(self, api):
        response = api("put", "/clients/G2", {"name": "Garage", "siret": BAD_SIRET})
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "invalid_client"
        assert body["details"]["siret"] == [
            "Ce SIRET n'est pas valide : la clé de contrôle ne correspond pas."
        ]
        assert not Client.objects.filter(code="G2").exists()

    def test_it_requires_a_name_to_create(self, api):
        response = api("put", "/clients/G3", {"siret": VALID_SIRET})
        assert response.status_code == 422
        assert response.json()["details"] == {"name": ["La raison sociale est obligatoire."]}

    def test_it_rejects_a_bad_code(self, api):
        response = api("put", "/clients/a b", {"name": "X"})
        assert response.status_code == 422
        assert "code" in response.json()["details"]

    def test_it_rejects_malformed_json(self, api):
        response = api("put", "/clients/G4", raw_body="{not json")
        assert response.status_code == 400
        assert response.json()["code"] == "malformed_json"

    def test_it_rejects_wrong_types(self, api):
        response = api("put", "/clients/G4", {"name": ["a"], "docs_to_file": "many"})
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_request"
        assert not Client.objects.filter(code="G4").exists()

    def test_it_rejects_unknown_fields(self, api):
        response = api("put", "/clients/G4", {"name": "X", "raison_sociale": "X"})
        assert response.status_code == 422
        assert response.json()["details"][0]["type"] == "extra_forbidden"

    def test_it_refuses_other_methods(self, api, client_a):
        assert api("post", "/clients/A001", {}).status_code == 405


class TestReadAndArchive:
    def test_it_gets_one(self, api, client_a):
        assert api("get", "/clients/A001").json()["name"] == "Boulangerie Dupont"
        assert api("get", "/clients/NOPE").status_code == 404

    def test_it_pages_with_a_cursor(self, api, firm_a):
        ClientFactory.create_batch(5, firm=firm_a)
        page = api("get", "/clients?limit=2").json()
        codes = [c["code"] for c in page["items"]]
        while page["next_cursor"]:
            page = api("get", f"/clients?limit=2&cursor={page['next_cursor']}").json()
            codes += [c["code"] for c in page["items"]]
        assert sorted(codes) == sorted(Client.objects.values_list("code", flat=True))
        assert len(codes) == 5

    def test_it_refuses_a_bad_cursor(self, api):
        response = api("get", "/clients?cursor=%%%")
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_cursor"

    def test_it_searches_and_filters_by_update(self, api, client_a, firm_a):
        ClientFactory(firm=firm_a, name="Garage Élan")
        assert [c["code"] for c in api("get", "/clients?q=dupont").json()["items"]] == ["A001"]
        assert len(api("get", "/clients?q=elan").json()["items"]) == 1
        assert api("get", "/clients?updated_since=2999-01-01T00:00:00Z").json()["items"] == []

    @pytest.mark.parametrize(
        ("since", "found"),
        [
            ("0031-05-10T03:14:04-18:24", True),  # an offset PostgreSQL refuses as such
            ("2999-01-01T00:00:00+23:59", False),
            ("2000-01-01T00:00:00", True),  # no offset: the server's time zone
        ],
    )
    def test_it_takes_any_iso_8601_offset(self, api, client_a, since, found):
        response = api("get", f"/clients?updated_since={quote(since)}")
        assert response.status_code == 200
        assert bool(response.json()["items"]) is found

    def test_it_refuses_a_date_out_of_range_in_utc(self, api, client_a):
        response = api("get", f"/clients?updated_since={quote('0001-01-01T00:00:00+05:00')}")
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_date"
        assert "hors des limites" in response.json()["message"]

    def test_it_archives_on_delete(self, api, client_a):
        response = api("delete", "/clients/A001")
        assert response.json()["result"] == "archived"
        client_a.refresh_from_db()
        assert client_a.archived_at is not None
        assert api("delete", "/clients/A001").json()["result"] == "unchanged"
        assert api("get", "/clients").json()["items"] == []
        assert len(api("get", "/clients?include_archived=true").json()["items"]) == 1
        event = ClientEvent.objects.filter(client=client_a).latest("id")
        assert event.summary == "API (Sage) : client archivé"

    def test_it_restores_an_archived_client_on_upsert(self, api, client_a):
        api("delete", "/clients/A001")
        assert (
            api("put", "/clients/A001", {"name": "Boulangerie Dupont"}).json()["result"]
            == "updated"
        )
        client_a.refresh_from_db()
        assert client_a.archived_at is None


class TestBulk:
    def test_it_upserts_rows_with_results(self, api, client_a):
        rows = [
            {"code": "B1", "name": "Un", "contact": {"last_name": "Durand", "email": "D@un.fr"}},
            {"code": "B2", "name": "Deux", "siret": BAD_SIRET},
            {"code": "B1", "name": "Doublon"},
            {"code": "A001", "name": "Boulangerie Dupont"},
        ]
        response = api("post", "/clients/bulk", {"clients": rows})
        assert response.status_code == 200
        body = response.json()
        assert [r["result"] for r in body["results"]] == [
            "created",
            "rejected",
            "rejected",
            "unchanged",
        ]
        assert body["counts"] == {"created": 1, "updated": 0, "unchanged": 1, "rejected": 2}
        assert "double" in body["results"][2]["errors"]["code"][0]
        contact = Contact.objects.get(client__code="B1")
        assert (contact.email, contact.is_principal) == ("d@un.fr", True)
        again = api("post", "/clients/bulk", {"clients": rows[:1]}).json()
        assert again["results"][0]["result"] == "unchanged"

    def test_it_refuses_ten_thousand_rows(self, api):
        rows = [{"code": f"R{i}", "name": f"Client {i}"} for i in range(10_000)]
        response = api("post", "/clients/bulk", {"clients": rows})
        assert response.status_code == 413
        assert response.json()["code"] in {"too_many_rows", "payload_too_large"}
        assert "1" in response.json()["message"]
        assert not Client.objects.exists()

    def test_it_refuses_1001_rows(self, api):
        rows = [{"code": f"R{i}", "name": "C"} for i in range(1001)]
        response = api("post", "/clients/bulk", {"clients": rows})
        assert response.status_code == 413
        assert response.json()["code"] == "too_many_rows"
        assert response.json()["message"].startswith("Au plus 1\u202f000 clients par appel")

    def test_it_replays_with_an_idempotency_key(self, api):
        body = {"clients": [{"code": "I1", "name": "Idem"}]}
        first = api("post", "/clients/bulk", body, **{"Idempotency-Key": "abc"})
        second = api("post", "/clients/bulk", body, **{"Idempotency-Key": "abc"})
        assert first.json() == second.json()
        assert second.json()["results"][0]["result"] == "created"  # the stored answer
        assert second["Idempotent-Replayed"] == "true"
        assert IdempotencyRecord.objects.count() == 1

    def test_it_refuses_a_reused_idempotency_key(self, api):
        api(
            "post",
            "/clients/bulk",
            {"clients": [{"code": "I1", "name": "A"}]},
            **{"Idempotency-Key": "k"},
        )
        response = api(
            "post",
            "/clients/bulk",
            {"clients": [{"code": "I2", "name": "B"}]},
            **{"Idempotency-Key": "k"},
        )
        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_key_reused"
        assert "clé d'idempotence" in response.json()["message"]
        assert not Client.objects.filter(code="I2").exists()

    def test_the_sweeper_forgets_idempotency_keys_after_their_retention(self, api, settings):
        body = {"clients": [{"code": "I1", "name": "Idem"}]}
        api("post", "/clients/bulk", body, **{"Idempotency-Key": "old"})
        api("post", "/clients/bulk", body, **{"Idempotency-Key": "new"})
        settings.IDEMPOTENCY_RETENTION_DAYS = 7
        IdempotencyRecord.objects.filter(key="old").update(
            created_at=timezone.now() - timedelta(days=7, minutes=1)
        )
        call_command("sweep")
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
        again = api("post", "/clients/bulk", body, **{"Idempotency-Key": "old"})
        assert "Idempotent-Replayed" not in again  # a new request now
        assert again.json()["results"][0]["result"] == "unchanged"

    def test_it_answers_a_body_too_big_in_json_with_an_idempotency_key_too(self, api):
        body = {"clients": [{"code": "X1", "name": "x" * 3_000_000}]}
        plain = api("post", "/clients/bulk", body)
        keyed = api("post", "/clients/bulk", body, **{"Idempotency-Key": "big"})
        assert plain.status_code == keyed.status_code == 413
        assert keyed["Content-Type"] == "application/json"
        assert keyed.json() == plain.json()
        assert keyed.json()["code"] == "payload_too_large"
        assert not IdempotencyRecord.objects.exists() and not Client.objects.exists()

    def test_it_counts_replays_against_the_rate_limit(self, api, settings):
        settings.API_RATE_LIMIT_PER_MINUTE = 3
        body = {"clients": [{"code": "I1", "name": "Idem"}]}
        responses = [
            api("post", "/clients/bulk", body, **{"Idempotency-Key": "same"}) for _ in range(4)
        ]
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert responses[1]["Idempotent-Replayed"] == "true"
        assert responses[3].json()["code"] == "rate_limited"
        assert 1 <= int(responses[3]["Retry-After"]) <= 60
        # A key reused with another body, answered before the operation runs, counts too.
        other = api("post", "/clients/bulk", {"clients": []}, **{"Idempotency-Key": "same"})
        assert other.status_code == 429

    def test_it_counts_a_first_idempotent_request_once(self, api, settings):
        settings.API_RATE_LIMIT_PER_MINUTE = 2
        body = {"clients": [{"code": "I1", "name": "Idem"}]}
        assert api("post", "/clients/bulk", body, **{"Idempotency-Key": "a"}).status_code == 200
        assert api("get", "/clients").status_code == 200
        assert api("get", "/clients").status_code == 429

    def test_it_scopes_idempotency_keys_per_api_key(self, api, api_b):
        body = {"clients": [{"code": "I1", "name": "A"}]}
        api("post", "/clients/bulk", body, **{"Idempotency-Key": "same"})
        response = api_b("post", "/clients/bulk", body, **{"Idempotency-Key": "same"})
        assert response.json()["results"][0]["result"] == "created"
        assert Client.objects.filter(code="I1").count() == 2


# --- Contacts, equipment, invitations, reform ----------------------------------------


class TestContacts:
    BODY = {
        "last_name": "Martin",
        "first_name": "Paul",
        "email": "Paul@Martin.fr",
        "phone": "07 07 07 07 07",
    }

    def test_it_creates_lists_and_updates(self, api, client_a):
        response = api("post", "/clients/A001/contacts", self.BODY)
        assert response.status_code == 201
        contact = response.json()
        assert (contact["email"], contact["phone"]) == ("paul@martin.fr", "+33707070707")
        assert [c["email"] for c in api("get", "/clients/A001/contacts").json()] == [
            "paul@martin.fr"
        ]
        path = f"/clients/A001/contacts/{contact['public_id']}"
        assert api("patch", path, {"first_name": "Pierre"}).json()["first_name"] == "Pierre"
        summaries = list(
            ClientEvent.objects.filter(client=client_a).values_list("summary", flat=True)
        )
        assert "API (Sage) : Contact ajouté : Paul Martin" in summaries
        assert all(s.startswith("API (Sage)") for s in summaries)

    def test_it_rejects_a_bad_phone_and_a_duplicate_email(self, api, client_a):
        response = api("post", "/clients/A001/contacts", {**self.BODY, "phone": "12"})
        assert response.status_code == 422
        assert response.json()["details"]["phone"] == ["Ce numéro de téléphone n'est pas valide."]
        api("post", "/clients/A001/contacts", self.BODY)
        response = api("post", "/clients/A001/contacts", self.BODY)
        assert response.status_code == 422
        assert "email" in response.json()["details"]
        assert Contact.objects.count() == 1

    def test_it_moves_the_principal(self, api, client_a):
        first = ContactFactory(client=client_a, is_principal=True)
        second = ContactFactory(client=client_a)
        response = api("post", f"/clients/A001/contacts/{second.public_id}/principal")
        assert response.json()["is_principal"] is True
        first.refresh_from_db()
        assert first.is_principal is False

    def test_it_404s_an_unknown_contact(self, api, client_a):
        path = "/clients/A001/contacts/00000000-0000-0000-0000-000000000000"
        assert api("patch", path, {"first_name": "X"}).status_code == 404


class TestEquipmentInvitationsReform:
    def test_it_declares_a_solution(self, api, client_a, catalogue):
        body = {"slot": "vente", "solution": "axonaut"}
        assert api("post", "/clients/A001/equipment", body).status_code == 201
        again = api("post", "/clients/A001/equipment", body)
        assert (again.status_code, again.json()["result"]) == (200, "unchanged")
        listed = api("get", "/clients/A001/equipment").json()
        assert [(e["slot"], e["solution"]) for e in listed] == [("vente", "axonaut")]

    @pytest.mark.parametrize(
        "body,field",
        [
            ({"slot": "achat", "solution": "shine"}, "solution"),
            ({"slot": "caisse", "solution": "axonaut"}, "slot"),
            ({"slot": "achat", "solution": "inconnue"}, "solution"),
        ],
    )
    def test_it_refuses_bad_equipment(self, api, client_a, catalogue, body, field):
        response = api("post", "/clients/A001/equipment", body)
        assert response.status_code == 422
        assert field in response.json()["details"]
        assert not Equipment.objects.exists()

    def test_it_reads_invitations(self, api, client_a):
        Invitation.objects.create(
            firm=client_a.firm, client=client_a, email="a@b.fr", plan="plus", billing_mode="shine"
        )
        assert [i["status"] for i in api("get", "/clients/A001/invitations").json()] == [
            "brouillon"
        ]

    def test_it_updates_the_reform_state(self, api, client_a):
        body = {
            "sensitised": True,
            "mandate_status": "envoye",
            "pa_status": "inscrit",
            "pa_name": "Shine",
        }
        state = api("patch", "/clients/A001/reform", body).json()
        assert state["sensitised"] and state["sensitised_at"] and state["mandate_sent_at"]
        assert state["pa_registered_at"]
        assert api("get", "/clients/A001/reform").json() == state
        event = ClientEvent.objects.filter(client=client_a).latest("id")
        assert event.summary.startswith("API (Sage) : réforme")

    def test_it_requires_the_pa_name_when_registered(self, api, client_a):
        response = api("patch", "/clients/A001/reform", {"pa_status": "inscrit"})
        assert response.status_code == 422
        assert "pa_name" in response.json()["details"]

    def test_it_refuses_an_unknown_mandate_status(self, api, client_a):
        assert api("patch", "/clients/A001/reform", {"mandate_status": "x"}).status_code == 422

    def test_a_mandate_expired_outside_vigie(self, api, client_a):
        api("patch", "/clients/A001/reform", {"mandate_status": "envoye"})
        state = api("patch", "/clients/A001/reform", {"mandate_status": "expire"}).json()
        assert state["mandate_status"] == "expire"
        event = ClientEvent.objects.filter(client=client_a).latest("id")
        assert event.kind == "reform.mandate_expired"


def test_it_serves_the_schema_and_docs(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/clients/{code}" in schema.json()["paths"]
    assert client.get("/api/v1/docs").status_code == 200


def test_reform_changes_through_the_api_feed_the_reform_chart(api, client_a):
    api(
        "patch",
        "/clients/A001/reform",
        {"sensitised": True, "pa_status": "inscrit", "pa_name": "Shine", "mandate_status": "signe"},
    )
    kinds = set(ClientEvent.objects.filter(client=client_a).values_list("kind", flat=True))
    assert {"reform.sensitised", "reform.pa_registered", "reform.mandate_signed"} <= kinds
    api("patch", "/clients/A001/reform", {"pa_status": "absent"})
    assert ClientEvent.objects.filter(client=client_a, kind="reform.pa_unregistered").exists()
