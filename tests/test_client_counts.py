"""The firm's active-client count kept by triggers (vigie.clients.counts) stays equal to
a real COUNT(*) whatever writes the rows: the ORM, bulk paths, raw SQL, a rollback."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import ClientFactory
from vigie.clients.counts import active_clients, recount
from vigie.clients.models import Client, ClientCount

pytestmark = pytest.mark.django_db


def real(firm) -> int:
    return Client.objects.filter(firm=firm, archived_at__isnull=True).count()


def test_counts_follow_create_archive_unarchive_delete(firm_a, firm_b):
    assert active_clients(firm_a.id) == 0
    a1, a2, a3 = ClientFactory.create_batch(3, firm=firm_a)
    ClientFactory(firm=firm_b)
    assert (active_clients(firm_a.id), active_clients(firm_b.id)) == (3, 1)
    a1.archived_at = timezone.now()
    a1.save()
    assert active_clients(firm_a.id) == 2
    a1.name = "Renommée"
    a1.save()  # an ordinary save of an archived client changes nothing
    a2.save()
    assert active_clients(firm_a.id) == 2
    a1.archived_at = None
    a1.save(update_fields=["archived_at"])
    assert active_clients(firm_a.id) == 3
    a3.delete()
    a1.archived_at = timezone.now()
    a1.save()
    a1.delete()  # deleting an archived client leaves the count alone
    assert active_clients(firm_a.id) == real(firm_a) == 1
    assert active_clients(firm_b.id) == real(firm_b) == 1


def test_counts_follow_bulk_writes_raw_sql_and_moves(firm_a, firm_b):
    Client.objects.bulk_create(
        [Client(firm=firm_a, code=f"B{n}", name=f"Bulk {n}", siret="") for n in range(5)]
    )
    Client.objects.filter(firm=firm_a, code__in=["B0", "B1"]).update(archived_at=timezone.now())
    assert active_clients(firm_a.id) == real(firm_a) == 3
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clients_client SET firm_id = %s WHERE firm_id = %s AND code = 'B2'",
            [firm_b.id, firm_a.id],
        )
    assert (active_clients(firm_a.id), active_clients(firm_b.id)) == (2, 1)
    Client.objects.filter(firm=firm_a).delete()
    assert active_clients(firm_a.id) == real(firm_a) == 0


def test_a_rolled_back_insert_leaves_the_count(firm_a):
    ClientFactory(firm=firm_a, code="X1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientFactory(firm=firm_a, code="X2")
        ClientFactory(firm=firm_a, code="X1")  # the code is taken: the whole block rolls back
    assert active_clients(firm_a.id) == real(firm_a) == 1


def test_recount_repairs_a_count_written_without_triggers(firm_a):
    ClientFactory.create_batch(4, firm=firm_a)
    ClientCount.objects.filter(firm=firm_a).update(active=99)
    recount()
    assert active_clients(firm_a.id) == 4


OPS = st.lists(
    st.tuples(
        st.sampled_from(["create", "archive", "unarchive", "delete", "move"]), st.integers(0, 30)
    ),
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_any_sequence_of_writes_keeps_the_counts_exact(firm_a, firm_b, ops):
    firms = [firm_a, firm_b]
    with transaction.atomic():
        for n, (op, pick) in enumerate(ops):
            rows = list(Client.objects.filter(firm__in=firms).order_by("id"))
            target = rows[pick % len(rows)] if rows else None
            if op == "create" or target is None:
                ClientFactory(firm=firms[pick % 2], code=f"H{n}")
            elif op == "archive":
                target.archived_at = timezone.now()
                target.save()
            elif op == "unarchive":
                target.archived_at = None
                target.save()
            elif op == "delete":
                target.delete()
            else:
                Client.objects.filter(pk=target.pk).update(
                    firm=firm_b if target.firm_id == firm_a.id else firm_a, code=f"M{n}"
                )
            for firm in firms:
                assert active_clients(firm.id) == real(firm), (op, n)
        transaction.set_rollback(True)
