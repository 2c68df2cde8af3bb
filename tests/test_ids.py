"""Time-ordered public ids (vigie.lib.ids.uuid7): RFC 9562's layout, increasing from one
millisecond to the next, and given to the rows an installation inserts by the million
(clients, contacts, invitations, mandates, collect addresses), whichever path writes
them: the ORM or the import's COPY."""

from __future__ import annotations

import time
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import ClientFactory
from vigie.clients import services
from vigie.clients.models import Client, Contact
from vigie.lib.ids import uuid7


def _ms(value: uuid.UUID) -> int:
    return value.int >> 80


def test_it_has_the_layout_of_version_7():
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    assert value.version == 7 and value.variant == uuid.RFC_4122
    assert before <= _ms(value) <= after
    assert uuid.UUID(str(value)) == value


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=2, max_value=50))
def test_a_later_millisecond_sorts_after(count):
    made = []
    for _ in range(count):
        made.append(uuid7())
        time.sleep(0.0011)
    assert made == sorted(made) and [str(v) for v in made] == sorted(str(v) for v in made)


def test_its_random_part_does_not_repeat():
    values = {uuid7() for _ in range(20_000)}
    assert len(values) == 20_000
    # 74 random bits: two ids of the same millisecond differ beyond the timestamp.
    same_ms = [v for v in values if _ms(v) == _ms(next(iter(values)))]
    assert len({v.int & ((1 << 74) - 1) for v in same_ms}) == len(same_ms)


def test_the_orm_and_the_import_both_give_them(firm_a):
    made = ClientFactory(firm=firm_a, code="ORM1")
    assert made.public_id.version == 7
    created = services.client_create(firm=firm_a, actor=None, data={"code": "FORM1", "name": "A"})
    assert created.public_id.version == 7
    assert uuid.UUID(created.collect_email.split("invoice-")[1].split("@")[0]).version == 7
    services.clients_upsert_many(
        firm=firm_a,
        rows=[
            {
                "code": "IMP1",
                "name": "Importé",
                "contact": {"last_name": "Durand", "email": "d@imp.fr"},
            },
            {
                "code": "IMP2",
                "name": "Importé 2",
                "contact": {"last_name": "Martin", "email": "m@imp.fr"},
            },
        ],
        source="Import (x)",
    )
    imported = Client.objects.filter(code__in=["IMP1", "IMP2"])
    assert {c.public_id.version for c in imported} == {7}
    contacts = Contact.objects.filter(client__in=imported)
    assert contacts.count() == 2 and {c.public_id.version for c in contacts} == {7}
    assert len({c.public_id for c in imported}) == 2
