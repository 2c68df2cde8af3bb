"""Sign-in addresses: set by the firm's admin, never added by a collaborator to their own
account. An address bob could attach (unverified) to his account would make a password
reset for it mail a link into bob's account, and making it primary ended in a 500."""

from __future__ import annotations

import importlib
import re

from allauth.account.forms import AddEmailForm
from allauth.account.internal.flows.manage_email import sync_user_email_address
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.apps import apps
from django.core import mail

EMAIL = "/compte/email/"
RESET = "/compte/password/reset/"
RESET_LINK = re.compile(r"/compte/password/reset/key/([0-9a-z]+)-")


def test_it_does_not_let_bob_attach_charlies_address(bob_client, bob, charlie):
    assert bob_client.get(EMAIL).status_code == 404
    for address in ("charlie@bravo.fr", "Charlie@Bravo.FR", "dave@bravo.fr"):
        response = bob_client.post(EMAIL, {"action_add": "", "email": address})
        assert response.status_code == 404
    assert not EmailAddress.objects.filter(user=bob).exclude(email="bob@alpha.fr").exists()


def test_it_never_ends_action_primary_in_a_500(bob_client, bob, charlie):
    bob_client.post(EMAIL, {"action_add": "", "email": "charlie@bravo.fr"})
    for address in ("charlie@bravo.fr", "bob@alpha.fr", "", "pas-une-adresse"):
        response = bob_client.post(EMAIL, {"action_primary": "", "email": address})
        assert response.status_code == 404, address
    bob.refresh_from_db()
    assert bob.email == "bob@alpha.fr"


def test_it_never_mails_a_reset_for_charlies_address_into_bobs_account(
    client, bob_client, bob, charlie
):
    bob_client.post(EMAIL, {"action_add": "", "email": "charlie@bravo.fr"})
    mail.outbox.clear()
    client.post(RESET, {"email": "charlie@bravo.fr"})
    assert [m.to for m in mail.outbox] == [["charlie@bravo.fr"]]
    # The one link opens charlie's account, not bob's.
    assert RESET_LINK.findall(mail.outbox[0].body) == [user_pk_to_url_str(charlie)]


def test_it_refuses_a_second_address_in_allauths_form(bob):
    sync_user_email_address(bob)  # what allauth does on its pages first
    form = AddEmailForm(user=bob, data={"email": "dave@bravo.fr"})
    assert not form.is_valid()
    assert "adresses e-mail" in form.errors["email"][0]
    assert list(EmailAddress.objects.filter(user=bob).values_list("email", flat=True)) == [
        "bob@alpha.fr"
    ]


def test_it_drops_the_addresses_added_before_in_a_migration(bob, charlie):
    EmailAddress.objects.create(user=bob, email="bob@alpha.fr", primary=True)
    EmailAddress.objects.create(user=bob, email="charlie@bravo.fr")
    EmailAddress.objects.create(user=charlie, email="charlie@bravo.fr", primary=True)
    migration = importlib.import_module("vigie.accounts.migrations.0002_drop_added_email_addresses")
    migration.forwards(apps, None)
    assert set(EmailAddress.objects.values_list("user__email", "email")) == {
        ("bob@alpha.fr", "bob@alpha.fr"),
        ("charlie@bravo.fr", "charlie@bravo.fr"),
    }
