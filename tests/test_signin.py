from __future__ import annotations

from django.core import mail
from django.urls import reverse

LOGIN = "/compte/login/"


def test_it_signs_in_with_email_and_password(client, alice, password):
    response = client.post(LOGIN, {"login": "ALICE@alpha.fr", "password": password})
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert "Cabinet Alpha" in home.content.decode()


def test_it_refuses_a_wrong_password_in_french(client, alice):
    response = client.post(LOGIN, {"login": "alice@alpha.fr", "password": "nope-nope-nope"})
    assert response.status_code == 200
    assert "sont incorrects" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_rate_limits_repeated_failures(client, alice, password):
    for _ in range(5):
        client.post(LOGIN, {"login": "alice@alpha.fr", "password": "wrong-password-1"})
    # Even the right password is refused while the limit holds.
    response = client.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)
    assert "trop" in response.content.decode().lower()


def test_there_is_no_public_sign_up(client, db):
    response = client.post(
        "/compte/signup/",
        {"email": "intrus@example.org", "password1": "x-Very-long-1", "password2": "x-Very-long-1"},
    )
    from vigie.accounts.models import User

    assert not User.objects.filter(email="intrus@example.org").exists()
    assert response.status_code in (200, 403)


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_password_reset_sends_an_email(client, alice):
    client.post("/compte/password/reset/", {"email": "alice@alpha.fr"})
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@alpha.fr"]


def _totp_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counter = next(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counter))


def test_it_turns_on_totp_and_then_asks_for_a_code(client, alice, password):
    client.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    client.post("/compte/reauthenticate/", {"password": password})
    response = client.get("/compte/2fa/totp/activate/")
    assert response.status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post("/compte/2fa/totp/activate/", {"code": _totp_code(secret)})
    assert response.status_code == 302
    client.post("/compte/logout/")

    response = client.post(LOGIN, {"login": "alice@alpha.fr", "password": password})
    assert response["Location"].startswith("/compte/2fa/authenticate/")
    assert "_auth_user_id" not in client.session  # the password alone is not enough
    client.post("/compte/2fa/authenticate/", {"code": "000000"})
    assert "_auth_user_id" not in client.session
    client.post("/compte/2fa/authenticate/", {"code": _totp_code(secret)})
    assert client.session["_auth_user_id"] == str(alice.pk)
