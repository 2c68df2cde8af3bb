"""Two collaborators of two firms inviting the same address at the same moment, on two
PostgreSQL connections: exactly one invitation holds it; the other gets the message."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from tests.factories import ClientFactory, ContactFactory
from vigie.invitations import services
from vigie.invitations.models import Invitation, Status

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_lets_exactly_one_through(alice, charlie, firm_a, firm_b, catalogue):
    drafts = []
    for firm, actor, code in ((firm_a, alice, "A1"), (firm_b, charlie, "B1")):
        client = ClientFactory(firm=firm, code=code)
        ContactFactory(client=client, email="dirigeant@tpe.fr", is_principal=True)
        drafts.append(
            (
                services.invitation_create(
                    client=client, actor=actor, plan="start", billing_mode="shine"
                ),
                actor,
            )
        )
    barrier = threading.Barrier(2)
    outcomes = []

    def send(invitation, actor):
        try:
            barrier.wait()
            services.invitation_send(
                invitation=invitation, actor=actor, method="mailto", subject="Shine", body="Bonjour"
            )
            outcomes.append("ok")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=draft) for draft in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == sorted(["ok", services.EMAIL_TAKEN])
    assert Invitation.objects.filter(status=Status.SENT).count() == 1
    assert Invitation.objects.filter(status=Status.DRAFT).count() == 1
