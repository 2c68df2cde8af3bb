"""/dev/mail/, the local mailbox: with DEBUG on, a signed-in collaborator reads their
firm's outbox and the mail sent to them, nothing else (a password reset link is its
recipient's alone); with DEBUG off it does not exist, whoever asks."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from django.core.cache import cache

from tests.factories import UserFactory
from vigie.mail import services as mail

MAILBOX = "/dev/mail/"
LINK = re.compile(r'href="/dev/mail/([0-9A-Za-z-]+\.eml)/"')


@pytest.fixture
def folder(settings, tmp_path, db):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "vigie.mail.backends.MailboxBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    cache.clear()  # allauth's rate limits on password resets
    yield tmp_path
    cache.clear()


@pytest.fixture
def mails(folder, client, firm_a, firm_b, alice, bob, charlie) -> dict[str, str]:
    """Both firms' outbox and everyone's password reset: {"To / Subject": file name}."""
    for firm, subject in ((firm_a, "Invitation Alpha"), (firm_b, "Invitation Bravo")):
        email = mail.email_queue(
            firm=firm, to="client@exemple.fr", subject=subject, text="Votre lien : …\n"
        )
        mail.email_deliver(email.pk)
    for user in (alice, bob, charlie):
        client.post("/compte/password/reset/", {"email": user.email})
    found = {}
    for path in folder.glob("*.eml"):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        subject = msg["Subject"] if msg["Subject"].startswith("Invitation") else "reset"
        found[f"{msg['To']} / {subject}"] = path.name
    assert len(found) == 5
    return found


def _listed(client) -> set[str]:
    response = client.get(MAILBOX)
    assert response.status_code == 200
    return set(LINK.findall(response.content.decode()))


def test_it_shows_bob_his_firms_mail_and_his_own(mails, bob_client):
    mine = {"client@exemple.fr / Invitation Alpha", "bob@alpha.fr / reset"}
    assert _listed(bob_client) == {mails[k] for k in mine}
    for key, name in mails.items():
        status = bob_client.get(f"{MAILBOX}{name}/").status_code
        assert status == (200 if key in mine else 404), key


def test_it_never_shows_bob_alices_password_reset(mails, bob_client):
    """Same firm, but alice's reset link would give bob the firm's admin account."""
    name = mails["alice@alpha.fr / reset"]
    assert name not in _listed(bob_client)
    assert bob_client.get(f"{MAILBOX}{name}/").status_code == 404


def test_it_never_shows_charlie_firm_a_mail(mails, charlie_client):
    mine = {"client@exemple.fr / Invitation Bravo", "charlie@bravo.fr / reset"}
    assert _listed(charlie_client) == {mails[k] for k in mine}
    name = mails["client@exemple.fr / Invitation Alpha"]
    assert charlie_client.get(f"{MAILBOX}{name}/").status_code == 404


def test_it_sends_an_anonymous_visitor_to_sign_in(mails, client):
    for url in (MAILBOX, f"{MAILBOX}{mails['bob@alpha.fr / reset']}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/compte/login/")


def test_it_refuses_an_account_without_a_firm(mails, client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(MAILBOX).status_code == 404
    assert client.get(f"{MAILBOX}{mails['bob@alpha.fr / reset']}/").status_code == 404


def test_it_does_not_exist_when_debug_is_off(mails, settings, client, bob_client, bob):
    settings.DEBUG = False
    staff = UserFactory(is_staff=True, is_superuser=True)
    bob.is_staff = True
    bob.save()
    ops = type(client)()
    ops.force_login(staff)
    name = mails["bob@alpha.fr / reset"]
    for who in (client, bob_client, ops):
        for url in (MAILBOX, f"{MAILBOX}{name}/", f"{MAILBOX}nothing.eml/"):
            assert who.get(url).status_code == 404, url
            assert who.post(url).status_code == 404, url  # not even a 405
