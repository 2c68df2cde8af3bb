from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from vigie.accounts.models import User
from vigie.firms.models import Membership, Role

URL = reverse("collaborators")


def test_it_lists_the_firms_collaborators(alice_client, bob, charlie):
    body = alice_client.get(URL).content.decode()
    assert "bob@alpha.fr" in body
    assert "charlie@bravo.fr" not in body


def test_it_adds_a_collaborator_and_mails_a_password_link(
    alice_client, firm_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            URL,
            {
                "email": "Nina@Alpha.fr",
                "first_name": "Nina",
                "last_name": "Noël",
                "role": "collaborateur",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(email="nina@alpha.fr")
    assert user.membership.firm == firm_a
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nina@alpha.fr"]


def test_it_refuses_an_address_that_has_an_account(alice_client, charlie):
    response = alice_client.post(
        URL, {"email": "charlie@bravo.fr", "first_name": "C", "last_name": "C", "role": "admin"}
    )
    assert "Cette adresse e-mail a déjà un compte Vigie." in response.content.decode()
    assert Membership.objects.get(user=charlie).firm.name == "Cabinet Bravo"


def test_a_collaborator_cannot_manage_collaborators(bob_client):
    assert bob_client.get(URL).status_code == 404


def test_it_changes_a_role(alice_client, bob):
    alice_client.post(reverse("collaborator_role", args=[bob.public_id]), {"role": "admin"})
    assert Membership.objects.get(user=bob).role == Role.ADMIN


def test_it_keeps_the_last_admin(alice_client, alice):
    response = alice_client.post(
        reverse("collaborator_role", args=[alice.public_id]), {"role": "collaborateur"}, follow=True
    )
    assert "Le cabinet doit garder au moins un administrateur actif." in response.content.decode()
    assert Membership.objects.get(user=alice).role == Role.ADMIN


def test_it_deactivates_a_collaborator(alice_client, bob):
    alice_client.post(reverse("collaborator_active", args=[bob.public_id]), {"active": "0"})
    bob.refresh_from_db()
    assert not bob.is_active


def test_charlie_cannot_touch_firm_a_collaborators(charlie_client, bob):
    for name, data in (
        ("collaborator_role", {"role": "admin"}),
        ("collaborator_active", {"active": "0"}),
    ):
        assert charlie_client.post(reverse(name, args=[bob.public_id]), data).status_code == 404
    bob.refresh_from_db()
    assert bob.is_active and bob.membership.role == Role.COLLABORATOR


def test_role_and_active_accept_only_post(alice_client, bob):
    assert alice_client.get(reverse("collaborator_role", args=[bob.public_id])).status_code == 405
    assert alice_client.get(reverse("collaborator_active", args=[bob.public_id])).status_code == 405


SETTINGS_URL = reverse("invitation_settings")


def test_an_admin_sets_the_invitation_lifecycle(alice_client, firm_a):
    response = alice_client.post(
        SETTINGS_URL,
        {"invitation_expiry_days": 45, "first_reminder_days": 5, "second_reminder_days": 20},
    )
    assert response.status_code == 302
    firm_a.refresh_from_db()
    assert (
        firm_a.invitation_expiry_days,
        firm_a.first_reminder_days,
        firm_a.second_reminder_days,
    ) == (
        45,
        5,
        20,
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"invitation_expiry_days": 30, "first_reminder_days": 14, "second_reminder_days": 7},
            "après la première",
        ),
        (
            {"invitation_expiry_days": 10, "first_reminder_days": 7, "second_reminder_days": 14},
            "après la seconde relance",
        ),
        (
            {"invitation_expiry_days": 30, "first_reminder_days": 0, "second_reminder_days": 14},
            "au moins 1 jour",
        ),
        (
            {
                "invitation_expiry_days": "trente",
                "first_reminder_days": 7,
                "second_reminder_days": 14,
            },
            "Saisissez un nombre entier",
        ),
    ],
)
def test_it_refuses_a_lifecycle_out_of_order(alice_client, firm_a, data, message):
    response = alice_client.post(SETTINGS_URL, data)
    assert message in response.content.decode()
    firm_a.refresh_from_db()
    assert firm_a.invitation_expiry_days == 30 and firm_a.first_reminder_days == 7


def test_only_admins_set_the_lifecycle(bob_client, charlie_client, firm_a):
    assert bob_client.get(SETTINGS_URL).status_code == 404
    # charlie edits his own firm only
    charlie_client.post(
        SETTINGS_URL,
        {"invitation_expiry_days": 60, "first_reminder_days": 7, "second_reminder_days": 14},
    )
    firm_a.refresh_from_db()
    assert firm_a.invitation_expiry_days == 30


def test_the_lifecycle_page_accepts_get_and_post_only(alice_client):
    assert alice_client.delete(SETTINGS_URL).status_code == 405
