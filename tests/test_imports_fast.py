"""The fast paths of the batch upsert give exactly what the full validators and the
models give, and a batch written in raw multi-row statements looks like ORM rows."""

from __future__ import annotations

import unicodedata
import uuid

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from vigie.clients import services
from vigie.clients.models import Client, ClientEvent, Contact
from vigie.lib.text import LIGATURES, fold
from vigie.lib.validators import make_siret, normalize_email, normalize_phone, normalize_siret


def outcome(function, value):
    try:
        return ("ok", function(value))
    except ValidationError as exc:
        return ("error", exc.messages)


digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
separator = st.sampled_from(["", " ", "."])


@st.composite
def french_phones(draw):
    body = draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
    groups = [body[0]] + [body[i : i + 2] for i in range(1, 9, 2)]
    prefix = draw(st.sampled_from(["0", "+33", "", "00", "+33 ", "0033"]))
    text = prefix + groups[0] + "".join(draw(separator) + g for g in groups[1:])
    return draw(st.sampled_from(["", " "])) + text


@given(french_phones())
@example("07 07 07 07 07")
@example("0707070707")
@example("707070707")
@example("+33707070707")
@example("+33 7 07 07 07 07")
@example("0 707070707")
@example("06.12.34.56.78")
def test_it_normalises_phones_like_the_full_validator(value):
    assert outcome(services._clean_phone, value) == outcome(normalize_phone, value)


@given(st.text(max_size=20))
def test_it_rejects_phones_like_the_full_validator(value):
    assert outcome(services._clean_phone, value) == outcome(normalize_phone, value)


@st.composite
def sirets(draw):
    number = draw(st.text(alphabet="0123456789", min_size=13, max_size=15))
    if draw(st.booleans()):
        number = make_siret(number[:8], number[8:12])
    if draw(st.booleans()):
        number = "356000000" + number[9:]
    sep = draw(separator)
    spaced = sep.join([number[:3], number[3:6], number[6:9], number[9:]])
    return draw(st.sampled_from([number, spaced, f" {number} "]))


@given(sirets())
@example("35600000000048")  # La Poste's head office
@example("35600000049837")
@example("732 829 320 00074")
@example("73282932000075")
def test_it_checks_sirets_like_the_full_validator(value):
    assert outcome(services._clean_siret, value) == outcome(normalize_siret, value)


@st.composite
def emails(draw):
    word = st.text(alphabet="abcXYZ019-._+", min_size=1, max_size=8)
    local = draw(word)
    labels = draw(st.lists(word, min_size=1, max_size=3))
    tld = draw(st.text(alphabet="frcomFR-1", min_size=0, max_size=4))
    return f"{local}@{'.'.join(labels)}.{tld}"


@given(emails())
@example("contact123@exemple.fr")
@example("Paul.Martin@Exemple.FR")
@example("a..b@exemple.fr")
@example("a@-exemple.fr")
@example("a@exemple.f")
@example("a@exemple.123")
def test_it_checks_emails_like_the_full_validator(value):
    assert outcome(services._clean_email, value) == outcome(normalize_email, value)


def plain_fold(value: str) -> str:
    """The reference: decompose, drop the combining marks one character at a time,
    spell the ligatures out, lower the case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    spelt = "".join(LIGATURES.get(ch, ch) for ch in stripped)
    return " ".join(spelt.lower().split())


@given(st.text())
@example("Frères ÉCKHOUT  İstanbul ﬁ Ⅻ")
@example("Café de l'Œuf, Lætitia, STRAẞE, ǽ")
def test_the_fast_fold_is_the_plain_one(value):
    assert fold(value) == plain_fold(value)


@given(st.text(max_size=250), st.text(max_size=20), st.text(max_size=14))
def test_it_computes_client_keys_like_the_model(name, code, siret):
    client = Client(name=name, code=code, siret=siret)
    client.refresh_keys()
    keys = services._client_keys(name, code, siret)
    assert keys == {"sort_name": client.sort_name, "search_text": client.search_text}


@given(st.text(max_size=100), st.text(max_size=100), st.text(max_size=254))
def test_it_computes_contact_keys_like_the_model(first_name, last_name, email):
    contact = Contact(first_name=first_name, last_name=last_name, email=email)
    contact.refresh_keys()
    data = {"first_name": first_name, "last_name": last_name, "email": email}
    assert services._contact_search_text(data) == contact.search_text


ROW = {
    "code": "N1",
    "name": "Boulangerie Frères Éclair",
    "legal_form": "sarl",
    "siret": "732 829 320 00074",
    "contact": {
        "last_name": "Lefèvre",
        "first_name": "Amélie",
        "email": "Amelie@Eclair.fr",
        "phone": "07 07 07 07 07",
    },
}


@pytest.mark.django_db
class TestBatchWrites:
    def test_it_writes_rows_like_the_orm(self, firm_a, alice_client):
        [result] = services.clients_upsert_many(firm=firm_a, rows=[ROW], source="Import (x)")
        assert result.result == "created"
        client = Client.objects.get(firm=firm_a, code="N1")
        assert isinstance(client.public_id, uuid.UUID)
        assert client.collect_email.startswith("invoice-")
        assert (client.legal_form, client.siret, client.regime, client.docs_to_file) == (
            "SARL",
            "73282932000074",
            "",
            0,
        )
        assert client.created_at and client.updated_at and client.archived_at is None
        assert client.sort_name == "boulangerie freres eclair"
        contact = client.contacts.get()
        assert (contact.email, contact.phone, contact.is_principal, contact.access) == (
            "amelie@eclair.fr",
            "+33707070707",
            True,
            "utilisateur",
        )
        assert isinstance(contact.public_id, uuid.UUID)
        # One history row for the new client, its first contact included.
        event = ClientEvent.objects.get(client=client)
        assert (event.kind, event.summary, event.actor) == (
            "client.created",
            "Import (x) : client créé",
            None,
        )
        assert event.changes == {"contact": ["", "Amélie Lefèvre"]}
        # The portfolio's search finds it (its index is fed by the inserts).
        page = alice_client.get("/?q=eclair").content.decode()
        assert "Boulangerie Frères Éclair" in page
        page = alice_client.get("/?q=lefevre").content.decode()
        assert "Boulangerie Frères Éclair" in page

    def test_it_updates_only_what_changed_with_history(self, firm_a, alice_client):
        services.clients_upsert_many(firm=firm_a, rows=[ROW], source="Import (x)")
        client = Client.objects.get(code="N1")
        keys = (client.sort_name, client.search_text)
        changed = {**ROW, "legal_form": "SAS", "contact": {**ROW["contact"], "phone": "0601020304"}}
        [result] = services.clients_upsert_many(firm=firm_a, rows=[changed], source="API (K)")
        assert result.result == "updated"
        client.refresh_from_db()
        assert client.legal_form == "SAS"
        assert (client.sort_name, client.search_text) == keys
        events = list(ClientEvent.objects.filter(client=client).order_by("id"))[1:]
        assert [(e.kind, e.summary, e.changes) for e in events] == [
            (
                "client.updated",
                "API (K) : détails modifiés : forme juridique",
                {"forme juridique": ["SARL", "SAS"]},
            ),
            (
                "contact.updated",
                "API (K) : contact modifié : Amélie Lefèvre",
                {"téléphone": ["+33707070707", "+33601020304"]},
            ),
        ]
        renamed = {**ROW, "name": "Garage Lune", "legal_form": "SAS"}
        renamed["contact"] = {**changed["contact"], "email": "autre@lune.fr"}
        services.clients_upsert_many(firm=firm_a, rows=[renamed], source="API (K)")
        client.refresh_from_db()
        assert client.sort_name == "garage lune"
        assert client.contacts.count() == 2
        assert client.contacts.get(email="autre@lune.fr").is_principal is False
        assert "Garage Lune" in alice_client.get("/?q=lune").content.decode()
        assert "Garage Lune" not in alice_client.get("/?q=boulangerie").content.decode()
        assert (
            services.clients_upsert_many(firm=firm_a, rows=[renamed], source="API (K)")[0].result
            == "unchanged"
        )

    def test_it_writes_large_batches_in_several_statements(self, firm_a):
        rows = [
            {
                "code": f"L{i}",
                "name": f"Client {i}",
                "contact": {"last_name": f"Nom{i}", "email": f"c{i}@exemple.fr"},
            }
            for i in range(2500)
        ]
        results = services.clients_upsert_many(firm=firm_a, rows=rows, source="Import (x)")
        assert {r.result for r in results} == {"created"}
        assert Client.objects.filter(firm=firm_a).count() == 2500
        assert Contact.objects.filter(firm=firm_a, is_principal=True).count() == 2500
        assert ClientEvent.objects.filter(firm=firm_a).count() == 2500
        pairs = Contact.objects.filter(firm=firm_a).values_list("client__code", "last_name")
        assert all(code[1:] == name[3:] for code, name in pairs)
        again = services.clients_upsert_many(firm=firm_a, rows=rows, source="Import (x)")
        assert {r.result for r in again} == {"unchanged"}
        assert ClientEvent.objects.filter(firm=firm_a).count() == 2500
