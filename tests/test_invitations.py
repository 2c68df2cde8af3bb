"""Shine invitations: activate, edit, send through a real SMTP server, mailto, one
account per email across firms, aliases, the firm's test account, tokens, bulk."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from tests.factories import ClientFactory, ContactFactory
from vigie.clients.models import ClientEvent
from vigie.equipment.models import Equipment
from vigie.invitations import services, tokens
from vigie.invitations.models import BulkInvitation, Invitation, InvitationTemplate, Status
from vigie.mail import services as mail
from vigie.mail.models import EmailStatus, OutboundEmail

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ready_client(firm_a, catalogue):
    client = ClientFactory(firm=firm_a, name="Boulangerie Dupont", code="A001")
    ContactFactory(
        client=client,
        first_name="Jeanne",
        last_name="Dupont",
        email="jeanne@dupont.fr",
        is_principal=True,
    )
    return client


def _activate(http, code="A001", plan="start", mode="cabinet"):
    return http.post(
        f"/equipement/clients/{code}/shine/", {"plan": plan, "billing_mode": mode}, **HX
    )


def _deliver_all():
    for pk in OutboundEmail.objects.filter(status=EmailStatus.QUEUED).values_list("pk", flat=True):
        mail.email_deliver(pk)


def test_it_invites_by_vigie_with_the_edited_text(
    bob_client, bob, ready_client, sink, django_capture_on_commit_callbacks
):
    compose = _activate(bob_client)
    html = compose.content.decode()
    assert "Envoyer par Vigie" in html and "J'envoie" in html
    invitation = Invitation.objects.get()
    assert invitation.status == Status.DRAFT
    assert "Jeanne Dupont" in invitation.body and "Cabinet Alpha" in invitation.body
    assert "Bob Bernard" in invitation.body and "Shine Start" in invitation.body
    link = services.link_in(invitation, invitation.body)
    assert link and link.startswith(settings.SITE_URL + "/invitations/")
    body = invitation.body.replace("Bonjour", "Chère Jeanne, <script>alert(1)</script> été")
    with django_capture_on_commit_callbacks(execute=False):
        sent = bob_client.post(
            f"/invitations/i/{invitation.public_id}/envoyer/",
            {"method": "vigie", "subject": "Votre Shine – l'offre été", "body": body},
            **HX,
        )
    assert sent.status_code == 200 and "equipmentChanged" in sent["HX-Trigger"]
    invitation.refresh_from_db()
    ready_client.refresh_from_db()
    assert invitation.status == Status.PENDING and ready_client.shine_status == "en_attente"
    assert invitation.sent_by == bob and invitation.send_method == "vigie"
    assert Equipment.objects.filter(client=ready_client, solution__slug="shine").count() == 2
    _deliver_all()
    invitation.refresh_from_db()
    ready_client.refresh_from_db()
    assert invitation.status == Status.SENT and invitation.sent_at
    assert ready_client.shine_status == "envoyee"
    [msg] = sink.wait_for(1)
    assert msg["Subject"] == "Votre Shine – l'offre été"
    assert "=?utf-8?" in sink.raw[0].decode().lower()
    assert msg["From"].addresses[0].display_name == "Cabinet Alpha"
    assert msg["From"].addresses[0].addr_spec == "no-reply@vigie.localhost"
    assert msg["Reply-To"].addresses[0].addr_spec == "bob@alpha.fr"
    assert msg["To"].addresses[0].addr_spec == "jeanne@dupont.fr"
    assert msg["Message-ID"] == invitation.message_id
    text = msg.get_body(("plain",)).get_content()
    html_part = msg.get_body(("html",)).get_content()
    assert "Chère Jeanne, <script>alert(1)</script> été" in text
    assert "<script>" not in html_part and "&lt;script&gt;" in html_part
    assert link in text and f'href="{link}"' in html_part
    assert ClientEvent.objects.filter(client=ready_client, kind="invitation.sent").exists()
    # The link leads to the console, which hands over to the partner (unreachable here).
    token = link.rsplit("/invitations/", 1)[1].strip("/")
    landing = bob_client.get(f"/invitations/{token}/")
    assert landing.status_code == 200
    assert "Shine est momentanément indisponible" in landing.content.decode()


def test_j_envoie_keeps_a_draft_until_the_collaborator_confirms(alice_client, alice, ready_client):
    _activate(alice_client)
    invitation = Invitation.objects.get()
    response = alice_client.post(
        f"/invitations/i/{invitation.public_id}/envoyer/",
        {"method": "mailto", "subject": "Shine & vous ?", "body": "Bonjour,\nlien : x=1&y=2 100%"},
        **HX,
    )
    html = response.content.decode()
    invitation.refresh_from_db()
    # The text goes to the mail app (opened at once), nothing is recorded as sent.
    assert invitation.status == Status.DRAFT and invitation.send_method == "mailto"
    assert invitation.body == "Bonjour,\nlien : x=1&y=2 100%"
    assert "data-open-mailto" in html and "J'ai envoyé l'e-mail" in html
    assert "equipmentChanged" not in response.get("HX-Trigger", "")
    assert not ClientEvent.objects.filter(kind="invitation.sent").exists()
    url = services.mailto_url(invitation)
    assert url.startswith("mailto:jeanne@dupont.fr?subject=Shine%20%26%20vous%20%3F&body=")
    assert "%0D%0A" in url and "%25" in url and "&amp;body=" in html
    assert unquote(url.split("body=")[1]) == "Bonjour,\r\nlien : x=1&y=2 100%"
    assert "trop long" not in html
    # Reopened later, the dialog asks again, without opening the mail app by itself.
    html = alice_client.get("/equipement/clients/A001/", **HX).content.decode()
    assert "J'ai envoyé l'e-mail" in html and "data-open-mailto" not in html

    response = alice_client.post(f"/invitations/i/{invitation.public_id}/envoyee/", **HX)
    invitation.refresh_from_db()
    assert invitation.status == Status.SENT and invitation.send_method == "mailto"
    assert invitation.sent_by == alice and invitation.sent_at is not None
    assert "Envoyée par le cabinet" in response.content.decode()
    assert "equipmentChanged" in json.loads(response["HX-Trigger"])
    [event] = ClientEvent.objects.filter(kind="invitation.sent")
    assert "(envoyée par le cabinet)" in event.summary
    # Confirmed twice (a double click): refused, nothing changes.
    again = alice_client.post(f"/invitations/i/{invitation.public_id}/envoyee/", **HX)
    assert "déjà été envoyée" in again.content.decode()
    assert ClientEvent.objects.filter(kind="invitation.sent").count() == 1


def test_the_client_on_the_link_of_a_j_envoie_draft_makes_it_sent(alice, ready_client, client):
    invitation = services.invitation_create(
        client=ready_client, actor=alice, plan="start", billing_mode="shine"
    )
    services.invitation_prepare_mailto(
        invitation=invitation, actor=alice, subject=invitation.subject, body=invitation.body
    )
    link = services.link_in(invitation, invitation.body)
    client.get("/invitations/" + link.rsplit("/invitations/", 1)[1])
    invitation.refresh_from_db()
    assert invitation.status == Status.SENT and invitation.send_method == "mailto"


def test_charlie_cannot_confirm_a_send(alice, charlie_client, ready_client):
    invitation = services.invitation_create(
        client=ready_client, actor=alice, plan="start", billing_mode="shine"
    )
    services.invitation_prepare_mailto(invitation=invitation, actor=alice, subject="s", body="b")
    response = charlie_client.post(f"/invitations/i/{invitation.public_id}/envoyee/", **HX)
    assert response.status_code == 404
    assert charlie_client.get(f"/invitations/i/{invitation.public_id}/envoyee/").status_code == 405
    invitation.refresh_from_db()
    assert invitation.status == Status.DRAFT


def test_it_offers_to_copy_a_text_too_long_for_mailto(alice_client, ready_client):
    _activate(alice_client)
    invitation = Invitation.objects.get()
    response = alice_client.post(
        f"/invitations/i/{invitation.public_id}/envoyer/",
        {"method": "mailto", "subject": "Shine", "body": "é" * 1000},
        **HX,
    )
    html = response.content.decode()
    assert "trop long pour un lien mailto" in html and "Copier le texte" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"subject": "Bonjour\r\nBcc: victim@example.org", "body": "x"}, "retour à la ligne"),
        ({"subject": "", "body": "x"}, "obligatoire"),
        ({"subject": "Objet", "body": "   "}, "Le texte du message est obligatoire."),
    ],
)
def test_it_refuses_bad_input(alice_client, ready_client, data, message):
    _activate(alice_client)
    invitation = Invitation.objects.get()
    response = alice_client.post(
        f"/invitations/i/{invitation.public_id}/envoyer/", {"method": "vigie", **data}, **HX
    )
    assert message in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == Status.DRAFT
    assert not OutboundEmail.objects.exists()


def test_it_requires_mode_and_plan(alice_client, ready_client):
    response = alice_client.post("/equipement/clients/A001/shine/", {"plan": "gold"}, **HX)
    html = response.content.decode()
    assert "Choisissez un mode de facturation." in html
    assert not Invitation.objects.exists()


def test_charlie_cannot_send_or_cancel(alice_client, charlie_client, ready_client):
    _activate(alice_client)
    invitation = Invitation.objects.get()
    for action in ("envoyer", "annuler", "renvoyer"):
        response = charlie_client.post(
            f"/invitations/i/{invitation.public_id}/{action}/",
            {"method": "vigie", "subject": "x", "body": "y"},
            **HX,
        )
        assert response.status_code == 404
    assert _activate(charlie_client).status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == Status.DRAFT
    assert alice_client.get(f"/invitations/i/{invitation.public_id}/envoyer/").status_code == 405


def test_one_shine_account_per_email_across_firms(
    alice_client, charlie_client, ready_client, firm_b, catalogue
):
    _activate(alice_client)
    invitation = Invitation.objects.get()
    alice_client.post(
        f"/invitations/i/{invitation.public_id}/envoyer/",
        {"method": "vigie", "subject": "Shine", "body": "Bonjour"},
        **HX,
    )
    other = ClientFactory(firm=firm_b, code="B001", name="Dupont Traiteur")
    ContactFactory(
        client=other,
        email="JEANNE@dupont.fr",
        is_principal=True,
        first_name="Jeanne",
        last_name="Dupont",
    )
    html = charlie_client.get("/equipement/clients/B001/", **HX).content.decode()
    assert "déjà utilisée pour un compte Shine" in html
    assert "Cabinet Alpha" not in html and "Boulangerie" not in html
    assert "jeanne+alias1@dupont.fr" in html
    refused = _activate(charlie_client, code="B001")
    assert "déjà utilisée pour un compte Shine" in refused.content.decode()
    assert "Cabinet Alpha" not in refused.content.decode()
    # The alias, created in one click as the principal contact, can be invited.
    charlie_client.post(
        "/equipement/clients/B001/alias/", {"email": "jeanne+alias1@dupont.fr"}, **HX
    )
    principal = other.contacts.get(is_principal=True)
    assert principal.email == "jeanne+alias1@dupont.fr"
    _activate(charlie_client, code="B001")
    assert Invitation.objects.get(client=other).email == "jeanne+alias1@dupont.fr"
    assert services.next_free_alias("jeanne@dupont.fr") == "jeanne+alias1@dupont.fr"


def test_the_constraint_turns_a_race_into_the_french_message(
    alice, ready_client, firm_b, catalogue
):
    first = services.invitation_create(
        client=ready_client, actor=alice, plan="start", billing_mode="shine"
    )
    other = ClientFactory(firm=firm_b, code="B002")
    ContactFactory(client=other, email="jeanne@dupont.fr", is_principal=True)
    second = services.invitation_create(client=other, actor=None, plan="plus", billing_mode="shine")
    services.invitation_send(invitation=first, actor=alice, method="mailto", subject="a", body="b")
    # The check is bypassed to reach the constraint, as a concurrent request would.
    Invitation.objects.filter(pk=second.pk).update(email="Jeanne@Dupont.fr")
    second.refresh_from_db()
    original = services.email_is_taken
    services.email_is_taken = lambda *a, **k: False
    try:
        with pytest.raises(ValidationError) as exc:
            services.invitation_send(
                invitation=second, actor=None, method="vigie", subject="a", body="b"
            )
    finally:
        services.email_is_taken = original
    assert services.EMAIL_TAKEN in str(exc.value)
    second.refresh_from_db()
    assert second.status == Status.DRAFT


def test_failed_sends_are_visible_and_resendable(alice_client, ready_client, sink, settings):
    settings.MAIL_RETRY_DELAYS = [1]
    sink.refuse_next("451 4.3.0 Greylisted", count=1)
    _activate(alice_client)
    invitation = Invitation.objects.get()
    alice_client.post(
        f"/invitations/i/{invitation.public_id}/envoyer/",
        {"method": "vigie", "subject": "Shine", "body": "Bonjour"},
        **HX,
    )
    _deliver_all()
    invitation.refresh_from_db()
    assert invitation.status == Status.PENDING and invitation.attempts == 1
    assert invitation.next_attempt_at and "451" in invitation.last_error
    panel = alice_client.get("/equipement/clients/A001/shine-statut/", **HX).content.decode()
    assert "Envoi en attente" in panel and "Tentatives : 1" in panel
    sink.refuse_next("550 5.1.1 Unknown user")
    _deliver_all()
    invitation.refresh_from_db()
    ready_client.refresh_from_db()
    assert invitation.status == Status.FAILED and ready_client.shine_status == "echec"
    dialog = alice_client.get("/equipement/clients/A001/", **HX).content.decode()
    assert "Renvoyer" in dialog
    alice_client.post(f"/invitations/i/{invitation.public_id}/renvoyer/", **HX)
    _deliver_all()
    invitation.refresh_from_db()
    assert invitation.status == Status.SENT
    assert len(sink.wait_for(1)) == 1


def test_it_cancels(alice_client, ready_client):
    _activate(alice_client)
    invitation = Invitation.objects.get()
    alice_client.post(
        f"/invitations/i/{invitation.public_id}/envoyer/",
        {"method": "mailto", "subject": "Shine", "body": "Bonjour"},
        **HX,
    )
    response = alice_client.post(f"/invitations/i/{invitation.public_id}/annuler/", **HX)
    assert "equipmentChanged" in json.loads(response["HX-Trigger"])
    invitation.refresh_from_db()
    ready_client.refresh_from_db()
    assert invitation.status == Status.CANCELLED and ready_client.shine_status == "annulee"
    assert not Equipment.objects.filter(client=ready_client).exists()
    assert not services.email_is_taken("jeanne@dupont.fr")


def test_tokens_are_signed_expiring_and_single_use(alice, ready_client):
    invitation = services.invitation_create(
        client=ready_client, actor=alice, plan="easy", billing_mode="shine"
    )
    token = tokens.make_token(invitation)
    assert tokens.check_token(invitation, token)
    assert not tokens.check_token(invitation, token[:-1] + ("0" if token[-1] != "0" else "1"))
    assert not tokens.check_token(invitation, token, now=__import__("time").time() + 31 * 86400)
    services.invitation_send(
        invitation=invitation, actor=alice, method="mailto", subject="s", body="b"
    )
    invitation.refresh_from_db()
    assert tokens.check_token(invitation, token)
    services.invitation_accept(invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.status == Status.ACTIVATED
    assert not tokens.check_token(invitation, token)


def test_the_landing_page_refuses_a_bad_token(client, db):
    assert client.get("/invitations/nope/").status_code == 404
    assert "plus valide" in client.get("/invitations/nope/").content.decode()


def test_admins_edit_the_templates(alice_client, bob_client, charlie_client, alice, ready_client):
    page = alice_client.get("/invitations/modeles/?plan=plus")
    assert page.status_code == 200 and "{lien}" in page.content.decode()
    bad = alice_client.post(
        "/invitations/modeles/", {"plan": "plus", "subject": "a\r\nBcc: x", "body": "b"}
    )
    assert "retour à la ligne" in bad.content.decode()
    alice_client.post(
        "/invitations/modeles/",
        {
            "plan": "start",
            "subject": "Pour {client}",
            "body": "Bonjour {contact}, {lien} — {inconnu}",
        },
    )
    assert InvitationTemplate.objects.get(plan="start").subject == "Pour {client}"
    _activate(alice_client)
    invitation = Invitation.objects.get()
    assert invitation.subject == "Pour Boulangerie Dupont"
    assert (
        invitation.body.startswith("Bonjour Jeanne Dupont, http") and "{inconnu}" in invitation.body
    )
    assert bob_client.get("/invitations/modeles/").status_code == 404
    assert charlie_client.get("/invitations/modeles/").status_code == 200  # firm B's own
    assert alice_client.delete("/invitations/modeles/").status_code == 405


def test_a_firm_opens_its_own_test_account(alice_client, bob_client, bob, firm_a, catalogue):
    refused = alice_client.post("/invitations/compte-test/", {"email": "BOB@alpha.fr"})
    assert "Merci de ne pas utiliser une adresse e-mail déjà employée" in refused.content.decode()
    bad = alice_client.post("/invitations/compte-test/", {"email": "pas une adresse"})
    assert "Saisissez une adresse e-mail valide." in bad.content.decode()
    ok = alice_client.post("/invitations/compte-test/", {"email": "test-shine@alpha.fr"})
    assert "en cours d'envoi" in ok.content.decode()
    invitation = Invitation.objects.get()
    assert invitation.client is None and invitation.plan == "easy"
    assert invitation.status == Status.PENDING
    assert bob_client.post("/invitations/compte-test/", {"email": "x@y.fr"}).status_code == 404


def test_bulk_preflight_and_run(
    alice_client, firm_a, catalogue, sink, django_capture_on_commit_callbacks
):
    ready = []
    for n in range(3):
        c = ClientFactory(firm=firm_a, code=f"R{n}", name=f"Prêt {n}")
        ContactFactory(client=c, email=f"dirigeant{n}@tpe.fr", is_principal=True)
        ready.append(c)
    ClientFactory(firm=firm_a, code="NOSIRET", siret="", name="Sans Siret")
    codes = ["R0", "R1", "R2", "NOSIRET"]
    query = "&".join(f"codes={c}" for c in codes)
    html = alice_client.get(f"/equipement/selection/?{query}", **HX).content.decode()
    assert 'data-testid="ready-count">3<' in html and 'data-testid="blocked-count">1<' in html
    assert "Sans Siret" in html and "Le SIRET est obligatoire pour inviter la TPE" in html
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = alice_client.post(
            "/equipement/selection/shine/",
            {
                "codes": codes,
                "plan": "plus",
                "billing_mode": "cabinet",
                "subject": "Shine pour {client}",
                "body": "Bonjour {contact}, {lien}",
            },
            **HX,
        )
    assert "bulk-progress" in response.content.decode() and len(callbacks) == 1
    bulk = BulkInvitation.objects.get()
    assert bulk.total == 3 and bulk.done == 0
    services.bulk_invitation_run(bulk.pk)
    bulk.refresh_from_db()
    assert bulk.done == 3 and bulk.status == "terminee"
    progress = alice_client.get(f"/invitations/lots/{bulk.public_id}/", **HX).content.decode()
    assert "3 / 3" in progress and "Terminé" in progress
    _deliver_all()
    messages = sink.wait_for(3)
    assert sorted(m["Subject"] for m in messages) == [
        "Shine pour Prêt 0",
        "Shine pour Prêt 1",
        "Shine pour Prêt 2",
    ]


def test_bulk_over_all_matching_clients(alice_client, firm_a, catalogue):
    for n in range(3):
        c = ClientFactory(firm=firm_a, code=f"M{n}", name=f"Martin {n}")
        ContactFactory(client=c, email=f"m{n}@tpe.fr", is_principal=True)
    ClientFactory(firm=firm_a, code="Z9", name="Zebre")
    html = alice_client.get("/equipement/selection/?all=1&query=q%3Dmartin", **HX).content.decode()
    assert 'data-testid="ready-count">3<' in html and 'data-testid="blocked-count">0<' in html


def test_charlie_cannot_see_a_bulk_run(alice_client, charlie_client, alice, ready_client):
    bulk = services.bulk_invitation_start(
        firm=ready_client.firm,
        actor=alice,
        clients=[ready_client],
        plan="start",
        billing_mode="shine",
        subject="s",
        body="b",
    )
    assert charlie_client.get(f"/invitations/lots/{bulk.public_id}/", **HX).status_code == 404
    assert alice_client.post(f"/invitations/lots/{bulk.public_id}/", **HX).status_code == 405


def test_the_link_after_activation_says_the_account_is_active(
    alice, ready_client, client, settings
):
    invitation = services.invitation_create(
        client=ready_client, actor=alice, plan="start", billing_mode="shine"
    )
    link = services.link_in(invitation, invitation.body)
    services.invitation_send(
        invitation=invitation, actor=alice, method="mailto", subject="s", body=invitation.body
    )
    services.invitation_accept(invitation=invitation)
    path = "/invitations/" + link.rsplit("/invitations/", 1)[1]
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Votre compte Shine est déjà actif" in html and "renvoyer une invitation" not in html
    assert f'href="{settings.SHINE_API_URL.rstrip("/")}/connexion/"' in html
    settings.SHINE_SIGNIN_URL = "https://app.shine.example/login"
    assert 'href="https://app.shine.example/login"' in client.get(path).content.decode()
    # A forged token for the same invitation is still refused.
    forged = path[:-5] + ("0000/" if not path.endswith("0000/") else "1111/")
    assert client.get(forged).status_code == 404


def test_a_cancelled_invitation_link_still_asks_for_a_new_one(alice, ready_client, client):
    invitation = services.invitation_create(
        client=ready_client, actor=alice, plan="start", billing_mode="shine"
    )
    link = services.link_in(invitation, invitation.body)
    services.invitation_cancel(invitation=invitation, actor=alice)
    html = client.get("/invitations/" + link.rsplit("/invitations/", 1)[1]).content.decode()
    assert "déjà actif" not in html and "renvoyer une invitation" in html


@pytest.mark.parametrize("plan,label", [("plus", "Plus"), ("easy", "Easy"), ("start", "Start")])
def test_the_email_names_the_plan_chosen(alice_client, ready_client, plan, label):
    html = _activate(alice_client, plan=plan).content.decode()
    invitation = Invitation.objects.get()
    assert f"Shine {label}" in invitation.subject and f"Shine {label}" in invitation.body
    others = {"Easy", "Start", "Plus"} - {label}
    assert not any(f"Shine {o}" in invitation.subject + invitation.body for o in others)
    assert f"— Shine {label}" in html


def test_a_bulk_run_names_the_plan_chosen_even_with_another_plans_text(
    alice_client, alice, firm_a, catalogue
):
    # The firm's own Start wording, as the dialog shows it before Plus is chosen.
    InvitationTemplate.objects.create(
        firm=firm_a, plan="start", subject="Votre Shine Start", body="Start : {lien}"
    )
    InvitationTemplate.objects.create(
        firm=firm_a, plan="plus", subject="Votre Shine Plus", body="Plus : {lien}"
    )
    for n in range(2):
        c = ClientFactory(firm=firm_a, code=f"B{n}")
        ContactFactory(client=c, email=f"b{n}@entreprise.fr", is_principal=True)
    dialog = alice_client.get("/equipement/selection/", {"codes": ["B0", "B1"]}, **HX)
    html = dialog.content.decode()
    assert 'value="Votre Shine Start"' in html and "bulk-plan-templates" in html
    alice_client.post(
        "/equipement/selection/shine/",
        {
            "codes": ["B0", "B1"],
            "plan": "plus",
            "billing_mode": "cabinet",
            "subject": "Votre Shine Start",
            "body": "Start : {lien}",
        },
        **HX,
    )
    services.bulk_invitation_run(BulkInvitation.objects.get().pk)
    for invitation in Invitation.objects.all():
        assert invitation.plan == "plus" and invitation.subject == "Votre Shine Plus"
        assert invitation.body.startswith("Plus : http")
    # Text the collaborator wrote themselves is kept as written.
    Invitation.objects.all().delete()
    alice_client.post(
        "/equipement/selection/shine/",
        {
            "codes": ["B0"],
            "plan": "plus",
            "billing_mode": "cabinet",
            "subject": "Mon objet {plan}",
            "body": "Mon texte {offre}",
        },
        **HX,
    )
    services.bulk_invitation_run(BulkInvitation.objects.latest("pk").pk)
    [invitation] = Invitation.objects.all()
    assert invitation.subject == "Mon objet Plus" and invitation.body.startswith(
        "Mon texte Shine Plus"
    )


def test_the_dialogs_speak_plain_french(alice_client, alice, firm_a, ready_client):
    html = alice_client.get("/equipement/clients/A001/", **HX).content.decode()
    assert "L'invitation sera envoyée à Jeanne Dupont (jeanne@dupont.fr)" in html
    assert "Invitation envoyée à" not in html
    one = alice_client.get("/equipement/selection/", {"codes": ["A001"]}, **HX).content.decode()
    assert "1 client sélectionné" in one and "Activer pour 1 client<" in one
    text = re.sub(r"<[^>]+>", "", one)
    assert "1 prêt · 0 bloqué\n" in text
    invitation = services.invitation_create(
        client=ready_client, actor=alice, plan="start", billing_mode="cabinet"
    )
    services.invitation_send(
        invitation=invitation, actor=alice, method="mailto", subject="s", body="b"
    )
    html = alice_client.get("/equipement/clients/A001/", **HX).content.decode()
    assert "mode Cabinet" in html and "Revente" not in html
    assert "Envoyée par le cabinet le" in html
