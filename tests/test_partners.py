"""The partner boundary: the connector against the real sandbox, webhooks, Accéder à Shine."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import ClientFactory, ContactFactory
from tests.sandbox import WEBHOOK_SECRET
from vigie.clients.models import ClientEvent, ShineStatus
from vigie.invitations.models import Invitation, Status
from vigie.partners.models import PartnerLink, PartnerState, WebhookEvent
from vigie.partners.services import partner_invitation_create, partners_sweep
from vigie.partners.shine import PartnerRefused, PartnerUnavailable, ShineClient
from vigie.partners.signatures import sign
from vigie.partners.tasks import cancel_partner_invitation

pytestmark = pytest.mark.django_db(transaction=True)
WEBHOOK_URL = "/partenaires/shine/webhooks/"


def make_invitation(firm, *, email=None, status=Status.SENT, client=None):
    client = client or ClientFactory(firm=firm)
    contact = ContactFactory(
        client=client, is_principal=True, email=email or f"{uuid.uuid4().hex[:8]}@tpe.fr"
    )
    invitation = Invitation.objects.create(
        firm=firm,
        client=client,
        contact=contact,
        email=contact.email,
        plan="start",
        billing_mode="cabinet",
        status=status,
    )
    PartnerLink.objects.create(firm=firm, invitation=invitation)
    return invitation


def payload(invitation, email=None):
    return {
        "external_id": str(invitation.public_id),
        "firm": {"id": "f1", "name": "Cabinet Alpha"},
        "company": {"name": "Boulangerie", "siret": invitation.client.siret},
        "contact": {"email": email or invitation.email},
        "plan": "start",
        "billing_mode": "cabinet",
    }


# --- The connector against the sandbox -------------------------------------------------


def test_it_creates_an_invitation_idempotently(shine, firm_a):
    invitation = make_invitation(firm_a)
    client = ShineClient(retries=0)
    first = client.create_invitation(payload(invitation), idempotency_key="key-1")
    again = client.create_invitation(payload(invitation), idempotency_key="key-1")
    assert first["id"] == again["id"] and first["onboarding_url"].startswith(shine.url)
    with pytest.raises(PartnerRefused) as exc:
        client.create_invitation(payload(invitation, email="autre@tpe.fr"), idempotency_key="key-1")
    assert exc.value.status == 409 and exc.value.code == "idempotency_conflict"


def test_it_retries_a_500_and_succeeds(shine, firm_a):
    invitation = make_invitation(firm_a)
    shine.fault("500", count=2)
    answer = ShineClient(retries=2, backoff=0.01).create_invitation(
        payload(invitation), idempotency_key="k2"
    )
    assert answer["status"] == "pending"


@pytest.mark.parametrize("mode", ["500", "malformed", "timeout"])
def test_it_gives_up_as_unavailable(shine, firm_a, mode):
    invitation = make_invitation(firm_a)
    shine.fault(mode, count=5)
    with pytest.raises(PartnerUnavailable):
        ShineClient(retries=0, timeout=1).create_invitation(
            payload(invitation), idempotency_key="k3"
        )


def test_it_never_retries_a_4xx(shine, firm_a):
    invitation = make_invitation(firm_a)
    bad = payload(invitation)
    bad["plan"] = "gold"
    with pytest.raises(PartnerRefused) as exc:
        ShineClient(retries=3, backoff=5).create_invitation(bad, idempotency_key="k4")
    assert exc.value.status == 422
    assert shine.state()["invitations"] == 0


def test_a_wrong_api_key_is_refused(shine, firm_a):
    invitation = make_invitation(firm_a)
    with pytest.raises(PartnerRefused) as exc:
        ShineClient(api_key="wrong", retries=0).create_invitation(
            payload(invitation), idempotency_key="k5"
        )
    assert exc.value.status == 401


# --- Durable state: partner_invitation_create -------------------------------------------


def test_a_partner_outage_leaves_the_invitation_pending_then_it_goes_through(shine, firm_a):
    invitation = make_invitation(firm_a)
    shine.fault("500", count=10)
    link = partner_invitation_create(
        invitation_id=invitation.pk, client=ShineClient(retries=1, backoff=0.01)
    )
    assert link.state == PartnerState.PENDING
    assert link.attempts == 1 and link.next_attempt_at is not None and link.last_error
    shine.fault("none")
    link = partner_invitation_create(invitation_id=invitation.pk)
    assert link.state == PartnerState.CREATED and "/onboarding/" in link.onboarding_url
    # Called again (a resumed task): nothing more at the partner.
    PartnerLink.objects.filter(pk=link.pk).update(state=PartnerState.PENDING)
    partner_invitation_create(invitation_id=invitation.pk)
    assert shine.state()["invitations"] == 1


def test_an_address_with_an_account_is_refused_and_recorded(shine, firm_a, firm_b):
    # An account opened at the partner without this console (its invitation row is gone).
    taken = make_invitation(firm_b, email="dirigeant@tpe.fr")
    link = partner_invitation_create(invitation_id=taken.pk)
    _accept(shine, link.onboarding_url)
    taken.delete()
    again = make_invitation(firm_a, email="dirigeant@tpe.fr", status=Status.SENT)
    link = partner_invitation_create(invitation_id=again.pk)
    assert link.state == PartnerState.REFUSED
    event = ClientEvent.objects.get(client=again.client, kind="shine.partner_refused")
    assert "déjà un compte Shine" in event.summary
    assert "Cabinet" not in event.summary  # nothing about the other firm


def test_a_cancelled_invitation_is_not_created_at_the_partner(shine, firm_a):
    invitation = make_invitation(firm_a, status=Status.CANCELLED)
    link = partner_invitation_create(invitation_id=invitation.pk)
    assert link.state == PartnerState.CANCELLED
    assert shine.state()["invitations"] == 0


def test_the_sweeper_cancels_at_the_partner_only_an_invitation_that_is_over(firm_a):
    over = make_invitation(firm_a, status=Status.CANCELLED)
    out = make_invitation(firm_a, status=Status.SENT)
    due = timezone.now() - timedelta(minutes=5)
    PartnerLink.objects.update(
        state=PartnerState.CREATED, partner_invitation_id="inv_1", next_attempt_at=due
    )
    assert partners_sweep() == 1
    queued = DBTaskResult.objects.filter(task_path=cancel_partner_invitation.module_path)
    assert [r.args_kwargs["args"] for r in queued] == [[over.pk]]
    assert PartnerLink.objects.get(invitation=over).next_attempt_at > timezone.now()
    assert PartnerLink.objects.get(invitation=out).next_attempt_at == due


def _accept(shine, onboarding_url):
    """The client validates its account on the sandbox's page, through real HTTP."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(onboarding_url).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "password": "un-mot-de-passe", "accept": "on"}
    ).encode()
    request = urllib.request.Request(onboarding_url, data=data, headers={"Referer": onboarding_url})
    return opener.open(request).read().decode()


# --- Webhooks ---------------------------------------------------------------------------


def post_event(client, event, *, secret=WEBHOOK_SECRET, timestamp=None, raw=None):
    body = raw if raw is not None else json.dumps(event).encode()
    return client.post(
        WEBHOOK_URL,
        body,
        content_type="application/json",
        headers={"Shine-Signature": sign(secret, body, timestamp)},
    )


def event(invitation, kind="account.activated", *, created=None, event_id=None):
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": kind,
        "created": created or int(time.time()),
        "data": {
            "invitation_id": "p1",
            "external_id": str(invitation.public_id),
            "account_id": "acc-1",
        },
    }


def test_an_activation_shows_the_client_activated(client, firm_a):
    invitation = make_invitation(firm_a)
    response = post_event(client, event(invitation))
    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == Status.ACTIVATED and invitation.activated_at
    assert (
        invitation.client.__class__.objects.get(pk=invitation.client_id).shine_status
        == ShineStatus.ACTIVATED
    )
    assert ClientEvent.objects.filter(
        client=invitation.client, kind="invitation.activated"
    ).exists()


def test_the_same_event_twice_has_one_effect(client, firm_a):
    invitation = make_invitation(firm_a)
    activated = event(invitation)
    assert post_event(client, activated).json() == {"result": "applied"}
    assert post_event(client, activated).json() == {"result": "duplicate"}
    assert (
        ClientEvent.objects.filter(client=invitation.client, kind="invitation.activated").count()
        == 1
    )
    assert WebhookEvent.objects.count() == 1


def test_an_older_event_arriving_late_changes_nothing(client, firm_a):
    invitation = make_invitation(firm_a)
    now = int(time.time())
    post_event(client, event(invitation, "account.closed", created=now))
    assert post_event(client, event(invitation, "account.activated", created=now - 10)).json() == {
        "result": "stale"
    }
    link = PartnerLink.objects.get(invitation=invitation)
    assert not link.account_active
    invitation.refresh_from_db()
    assert invitation.status == Status.SENT


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"secret": "not-the-secret"}, 401),
        # Seconds from now, taken when the test runs (a time read at collection is stale
        # by the time a long suite reaches it).
        ({"timestamp": -900}, 401),
        ({"timestamp": 900}, 401),
        ({"raw": b"{not json"}, 400),
        ({"raw": b'{"id": "evt_1", "type": "account.hacked", "created": 1, "data": {}}'}, 400),
    ],
)
def test_bad_webhooks_are_refused_and_change_nothing(client, firm_a, kwargs, status):
    invitation = make_invitation(firm_a)
    if "timestamp" in kwargs:
        kwargs = {"timestamp": int(time.time()) + kwargs["timestamp"]}
    assert post_event(client, event(invitation), **kwargs).status_code == status
    invitation.refresh_from_db()
    assert invitation.status == Status.SENT
    assert not WebhookEvent.objects.exists()


def test_an_unsigned_webhook_is_refused(client, firm_a):
    invitation = make_invitation(firm_a)
    response = client.post(
        WEBHOOK_URL, json.dumps(event(invitation)), content_type="application/json"
    )
    assert response.status_code == 401


def test_an_unknown_invitation_is_a_404(client, firm_a):
    invitation = make_invitation(firm_a)
    ghost = event(invitation)
    ghost["data"]["external_id"] = str(uuid.uuid4())
    assert post_event(client, ghost).status_code == 404
    assert not WebhookEvent.objects.exists()


def _with_own_secret(invitation) -> str:
    PartnerLink.objects.filter(invitation=invitation).update(
        encrypted_webhook_secret=PartnerLink.new_encrypted_webhook_secret()
    )
    return PartnerLink.objects.get(invitation=invitation).webhook_secret


def test_a_link_with_its_own_secret_refuses_every_other(client, firm_a, firm_b):
    invitation, other = make_invitation(firm_a), make_invitation(firm_b)
    secret, other_secret = _with_own_secret(invitation), _with_own_secret(other)
    assert secret and other_secret and secret != other_secret
    for forged in (WEBHOOK_SECRET, other_secret):  # the global one, another firm's
        assert post_event(client, event(invitation), secret=forged).status_code == 401
    assert not WebhookEvent.objects.exists()
    assert post_event(client, event(invitation), secret=secret).json() == {"result": "applied"}
    # A link without its own secret (created before links had one) keeps the global one.
    legacy = make_invitation(firm_a)
    assert post_event(client, event(legacy)).json() == {"result": "applied"}


def test_a_link_secret_survives_a_secret_key_rotation_with_fallbacks(client, firm_a, settings):
    invitation = make_invitation(firm_a)
    secret = _with_own_secret(invitation)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert post_event(client, event(invitation), secret=secret).status_code == 401
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert post_event(client, event(invitation), secret=secret).status_code == 200


def test_the_partner_signs_with_the_secret_each_invitation_was_sent(shine, firm_a):
    from vigie.partners.services import partner_onboarding

    invitation = make_invitation(firm_a)
    PartnerLink.objects.filter(invitation=invitation).delete()  # made by the service below
    link = partner_onboarding(invitation)
    assert link.state == PartnerState.CREATED and link.webhook_secret
    _accept(shine, link.onboarding_url)  # the sandbox's webhook, signed with that secret
    shine.deliver_webhooks()
    link.refresh_from_db()
    assert link.account_active
    invitation.refresh_from_db()
    assert invitation.status == Status.ACTIVATED


def test_expiry_expires_a_pending_invitation(client, firm_a):
    invitation = make_invitation(firm_a)
    post_event(client, event(invitation, "invitation.expired"))
    invitation.refresh_from_db()
    assert invitation.status == Status.EXPIRED
    assert (
        invitation.client.__class__.objects.get(pk=invitation.client_id).shine_status
        == ShineStatus.EXPIRED
    )


def test_the_webhook_accepts_only_post(client):
    assert client.get(WEBHOOK_URL).status_code == 405


# --- Accéder à Shine --------------------------------------------------------------------


def _activated(shine, firm):
    invitation = make_invitation(firm)
    link = partner_invitation_create(invitation_id=invitation.pk)
    _accept(shine, link.onboarding_url)
    shine.deliver_webhooks()  # the sandbox's first delivery went to the live server already
    link.refresh_from_db()
    if not link.account_active:  # delivered to the live server's database in this test
        raise AssertionError("the activation webhook did not reach the console")
    return invitation


def test_a_collaborator_reaches_the_clients_shine(shine, firm_a, bob_client, bob):
    invitation = _activated(shine, firm_a)
    url = reverse("shine_access", args=[invitation.client.code])
    response = bob_client.post(url)
    assert response.status_code == 302 and response["Location"].startswith(shine.url + "/acces/")
    event = ClientEvent.objects.get(client=invitation.client, kind="shine.access")
    assert event.actor == bob
    import urllib.request

    page = urllib.request.urlopen(response["Location"]).read().decode()
    assert "Accès cabinet" in page and invitation.client.name in page
    with pytest.raises(urllib.error.HTTPError):  # single use
        urllib.request.urlopen(response["Location"])


def test_charlie_cannot_reach_firm_a_shine(shine, firm_a, charlie_client):
    invitation = _activated(shine, firm_a)
    response = charlie_client.post(reverse("shine_access", args=[invitation.client.code]))
    assert response.status_code == 404
    assert not ClientEvent.objects.filter(kind="shine.access").exists()


def test_no_access_without_an_active_account(firm_a, alice_client):
    invitation = make_invitation(firm_a)
    assert (
        alice_client.post(reverse("shine_access", args=[invitation.client.code])).status_code == 404
    )


def test_access_accepts_only_post(firm_a, alice_client):
    invitation = make_invitation(firm_a)
    assert (
        alice_client.get(reverse("shine_access", args=[invitation.client.code])).status_code == 405
    )


def test_a_bulk_run_stops_calling_an_unavailable_partner(shine, firm_a):
    from vigie.partners.services import partner_invitations_create_many

    invitations = [make_invitation(firm_a) for _ in range(3)]
    shine.fault("500", count=10)
    started = time.monotonic()
    partner_invitations_create_many(invitation_ids=[i.pk for i in invitations])
    assert time.monotonic() - started < 5  # no per-invitation retries and sleeps
    links = PartnerLink.objects.filter(invitation__in=invitations)
    assert [link.state for link in links] == [PartnerState.PENDING] * 3
    assert sorted(link.attempts for link in links) == [0, 0, 1]  # one call, then waiting
    assert all(link.next_attempt_at for link in links)
    shine.fault("none")
    partner_invitations_create_many(invitation_ids=[i.pk for i in invitations])
    assert shine.state()["invitations"] == 3


def test_a_non_ascii_signature_is_a_401(client, firm_a):
    invitation = make_invitation(firm_a)
    body = json.dumps(event(invitation)).encode()
    for header in (f"t={int(time.time())},v1=é", f"t=١٢٣,v1={'a' * 64}", "t=,v1="):
        response = client.post(
            WEBHOOK_URL, body, content_type="application/json", headers={"Shine-Signature": header}
        )
        assert response.status_code == 401, header
        assert response.json()["code"] == "bad_signature"
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("created", [2**70, -1, True, 1.5])
def test_a_signed_event_with_an_impossible_date_is_a_400(client, firm_a, created):
    invitation = make_invitation(firm_a)
    bad = event(invitation)
    bad["created"] = created
    response = post_event(client, bad)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_event"
    assert not WebhookEvent.objects.exists()


def test_a_signed_event_with_a_nul_byte_is_a_400(client, firm_a):
    invitation = make_invitation(firm_a)
    bad = event(invitation, event_id="evt_\x00")
    assert post_event(client, bad).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_deeply_nested_body_is_a_4xx(client, firm_a):
    body = b"[" * 100_000 + b"]" * 100_000
    response = post_event(client, None, raw=body)
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://shine.example", "shine.example"])
def test_the_client_only_speaks_http(url):
    # urlopen would read a local file or an FTP server if the setting named one.
    with pytest.raises(ImproperlyConfigured):
        ShineClient(base_url=url)
    ShineClient(base_url="https://api.shine.example")
