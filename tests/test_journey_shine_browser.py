"""The guide's journey in Chromium at 1440×900, step by step as a new collaborator takes
it, without a stumble: the plan named in every invitation, dialogs that close or show
their result, each equipment slot with its own catalogue, « J'envoie » opening the mail
app, and a client who comes back to an invitation after activating."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.conftest import sign_in
from tests.factories import PASSWORD, ClientFactory, ContactFactory
from vigie.clients.models import ClientEvent
from vigie.equipment.models import Equipment
from vigie.invitations import services
from vigie.invitations.models import BulkInvitation, Invitation, SendMethod, Status
from vigie.mail import services as mail
from vigie.mail.models import EmailStatus, OutboundEmail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Records the mailto: links the page opens instead of launching a mail app.
CATCH_MAILTO = """
window.__mailto = [];
document.addEventListener("click", function (e) {
  var a = e.target.closest && e.target.closest("a[href^='mailto:']");
  if (a) { window.__mailto.push(a.href); e.preventDefault(); }
}, true);
"""


@pytest.fixture
def wide(page):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.add_init_script(CATCH_MAILTO)
    return page


def _client(firm, code, name, email):
    client = ClientFactory(firm=firm, name=name, code=code)
    ContactFactory(
        client=client, first_name="Jeanne", last_name=name, email=email, is_principal=True
    )
    return client


def _modal_is_closed(page) -> bool:
    return page.evaluate("!document.getElementById('modal').open")


def _wait_modal_closed(page) -> None:
    page.locator("#modal[open]").wait_for(state="detached")


def _wait_for(page, expression: str) -> None:
    """Poll `expression` (the page's CSP forbids the eval of wait_for_function)."""
    for _ in range(100):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {expression}")


def _invited(client, actor, plan="start"):
    invitation = services.invitation_create(
        client=client, actor=actor, plan=plan, billing_mode="cabinet"
    )
    return services.invitation_send(
        invitation=invitation, actor=actor, method=SendMethod.MAILTO, subject="s", body="b"
    )


def _deliver_all():
    for pk in OutboundEmail.objects.filter(status=EmailStatus.QUEUED).values_list("pk", flat=True):
        mail.email_deliver(pk)


# --- 2. The plan chosen is the plan named -----------------------------------------------


def test_a_bulk_invitation_names_the_plan_chosen(wide, live_server, bob, firm_a, catalogue):
    for n in range(2):
        _client(firm_a, f"R{n}", f"Prêt {n}", f"tpe{n}@entreprise.com")
    sign_in(wide, live_server, bob.email, PASSWORD)
    wide.goto(live_server.url + "/?view=equipement")
    wide.locator("[data-check-page]").check()
    wide.locator("[data-testid=equip-selection]").click()
    dialog = wide.locator("#modal")
    dialog.get_by_label("Cabinet").check()
    dialog.locator("[data-testid=plan-plus]").click()
    dialog.get_by_text("Modifier l'e-mail").click()
    # What the collaborator reads before sending already names Plus.
    assert "Start" not in dialog.locator("#bulk-subject").input_value()
    dialog.get_by_role("button", name="Activer pour 2 clients").click()
    dialog.locator("[data-testid=bulk-progress]").wait_for()
    services.bulk_invitation_run(BulkInvitation.objects.get().pk)  # what the worker does
    invitations = list(Invitation.objects.all())
    assert len(invitations) == 2
    for invitation in invitations:
        assert "Shine Plus" in invitation.subject and "Start" not in invitation.subject
        assert "Shine Plus" in invitation.body and "Start" not in invitation.body


def test_one_invitation_names_the_plan_chosen(wide, live_server, bob, firm_a, catalogue):
    _client(firm_a, "E1", "Fleuriste", "fleurs@entreprise.com")
    sign_in(wide, live_server, bob.email, PASSWORD)
    wide.goto(live_server.url + "/clients/E1/")
    wide.get_by_test_id("open-equipment").click()
    dialog = wide.locator("#modal")
    dialog.get_by_label("Shine", exact=True).check()
    dialog.locator("[data-testid=plan-easy]").click()
    dialog.get_by_role("button", name="Activer").click()
    subject = dialog.locator("#compose-subject")
    subject.wait_for()
    assert "Shine Easy" in subject.input_value()
    body = dialog.locator("#compose-body").input_value()
    assert "Shine Easy" in body and "Start" not in body and "Plus" not in body


# --- 3. Every action in a dialog ends with its result or the dialog closed --------------


def test_declaring_a_solution_closes_the_dialog_and_refreshes_the_row(
    wide, live_server, bob, firm_a, catalogue
):
    _client(firm_a, "D1", "Droguerie", "drogue@entreprise.com")
    sign_in(wide, live_server, bob.email, PASSWORD)
    wide.goto(live_server.url + "/?view=equipement")
    row = wide.locator("tr[data-code='D1']")
    row.hover()
    row.locator("a.add-on-hover").first.click(force=True)
    dialog = wide.locator("#modal")
    dialog.get_by_role("button", name="Abby — Achats").click()
    _wait_modal_closed(wide)
    wide.locator("tr[data-code='D1']").get_by_text("Abby").wait_for()
    assert wide.get_by_text("Abby enregistré pour Droguerie").is_visible()


def test_relancer_and_annuler_from_the_client_page(wide, live_server, bob, firm_a, catalogue):
    client = _client(firm_a, "G1", "Garage", "garage@entreprise.com")
    _invited(client, bob)
    sign_in(wide, live_server, bob.email, PASSWORD)
    wide.goto(live_server.url + "/clients/G1/")
    panel = wide.get_by_test_id("client-shine-panel")
    panel.get_by_role("button", name="Relancer").click()
    wide.get_by_text("Relance envoyée").first.wait_for()
    panel = wide.get_by_test_id("client-shine-panel")
    panel.get_by_text("Dernière relance").wait_for()
    assert _modal_is_closed(wide)

    wide.once("dialog", lambda d: d.accept())
    panel.get_by_role("button", name="Annuler l'invitation").click()
    wide.get_by_text("Invitation annulée").first.wait_for()
    wide.get_by_test_id("client-shine-panel").get_by_test_id("invitation-status").wait_for(
        state="detached"
    )
    assert _modal_is_closed(wide)
    assert Invitation.objects.get(client=client).status == Status.CANCELLED


def test_relancer_inside_the_dialog_shows_its_result(wide, live_server, bob, firm_a, catalogue):
    client = _client(firm_a, "G2", "Garage Deux", "garage2@entreprise.com")
    _invited(client, bob)
    sign_in(wide, live_server, bob.email, PASSWORD)
    wide.goto(live_server.url + "/clients/G2/")
    wide.get_by_test_id("open-equipment").click()
    dialog = wide.locator("#modal")
    dialog.get_by_role("button", name="Relancer").click()
    wide.get_by_text("Relance envoyée").first.wait_for()
    wide.wait_for_timeout(300)
    # Either closed, or showing something: never an empty white window.
    assert _modal_is_closed(wide) or wide.locator("#modal-body").inner_text().strip()


# --- 4. Each slot has its own catalogue -------------------------------------------------


def _open_slot(page, code, index):
    row = page.locator(f"tr[data-code='{code}']")
    row.hover()
    row.locator("td.col-slot").nth(index).locator("a.add-on-hover").click(force=True)
    dialog = page.locator("#modal")
    dialog.get_by_test_id("equipment-dialog").wait_for()
    return dialog


def test_caisse_and_vente_offer_their_own_solutions(wide, live_server, bob, firm_a, catalogue):
    client = _client(firm_a, "K1", "Kiosque", "kiosque@entreprise.com")
    sign_in(wide, live_server, bob.email, PASSWORD)
    wide.goto(live_server.url + "/?view=equipement")

    dialog = _open_slot(wide, "K1", 2)
    text = dialog.inner_text()
    for name in ("Cegid Point de vente", "SumUp", "Zettle", "Lightspeed", "Apisoft", "Elo"):
        assert name in text, name
    for name in ("Abby", "Daxt", "Compleo Invoice Platform"):
        assert name not in text, name
    dialog.get_by_role("button", name="SumUp — Caisse").click()
    _wait_modal_closed(wide)
    row = wide.locator("tr[data-code='K1']")
    row.locator("td.col-slot").nth(2).get_by_text("SumUp").wait_for()
    assert list(Equipment.objects.filter(client=client).values_list("slot", flat=True)) == [
        "caisse"
    ]

    dialog = _open_slot(wide, "K1", 1)
    text = dialog.inner_text()
    for name in ("bim", "Freebe", "Henrri", "Cegid Devis Factures"):
        assert name in text, name
    assert "Daxt" not in text and "SumUp" not in text
    dialog.get_by_role("button", name="bim — Ventes").click()
    _wait_modal_closed(wide)
    wide.locator("tr[data-code='K1']").locator("td.col-slot").nth(1).get_by_text("bim").wait_for()
    assert set(Equipment.objects.filter(client=client).values_list("slot", flat=True)) == {
        "caisse",
        "vente",
    }


def test_a_declared_solution_is_removed_and_non_concerne_excludes_the_others(
    wide, live_server, bob, firm_a, catalogue
):
    client = _client(firm_a, "K2", "Kiosque Deux", "kiosque2@entreprise.com")
    sign_in(wide, live_server, bob.email, PASSWORD)
    wide.goto(live_server.url + "/?view=equipement")
    dialog = _open_slot(wide, "K2", 2)
    dialog.get_by_role("button", name="Zettle — Caisse").click()
    _wait_modal_closed(wide)

    # From the client page: Équiper, the Caisse slot, remove Zettle.
    wide.goto(live_server.url + "/clients/K2/")
    wide.get_by_test_id("open-equipment").click()
    dialog = wide.locator("#modal")
    dialog.get_by_role("link", name="Caisse").click()
    dialog.get_by_role("button", name="Retirer Zettle").click()
    _wait_modal_closed(wide)
    assert not Equipment.objects.filter(client=client).exists()
    assert ClientEvent.objects.filter(client=client, kind="equipment.removed").count() == 1
    wide.locator("#history").get_by_text("Équipement retiré : Zettle (Caisse)").wait_for()

    # Non concerné replaces what the slot held.
    wide.get_by_test_id("open-equipment").click()
    dialog.get_by_role("link", name="Caisse").click()
    dialog.get_by_role("button", name="SumUp — Caisse").click()
    _wait_modal_closed(wide)
    wide.get_by_test_id("open-equipment").click()
    dialog.get_by_role("link", name="Caisse").click()
    dialog.get_by_role("button", name="Non concerné — Caisse").click()
    _wait_modal_closed(wide)
    slots = Equipment.objects.filter(client=client).values_list("slot", "solution__slug")
    assert list(slots) == [("caisse", "non-concerne")]


# --- 5. « J'envoie » opens the mail app; sent only once confirmed ------------------------


def test_j_envoie_opens_the_mail_app_and_waits_for_confirmation(
    wide, live_server, bob, firm_a, catalogue
):
    client = _client(firm_a, "M1", "Menuiserie", "menuiserie@entreprise.com")
    sign_in(wide, live_server, bob.email, PASSWORD)
    wide.goto(live_server.url + "/clients/M1/")
    wide.get_by_test_id("open-equipment").click()
    dialog = wide.locator("#modal")
    dialog.get_by_label("Cabinet").check()
    dialog.locator("[data-testid=plan-start]").click()
    dialog.get_by_role("button", name="Activer").click()
    body = dialog.locator("#compose-body")
    body.wait_for()
    body.fill(body.input_value().replace("Bonjour", "Bonjour et bienvenue", 1))
    dialog.get_by_role("button", name="J'envoie").click()
    _wait_for(wide, "window.__mailto.length > 0")
    [opened] = wide.evaluate("window.__mailto")
    assert opened.startswith("mailto:menuiserie@entreprise.com?subject=")
    assert "Bonjour%20et%20bienvenue" in opened
    invitation = Invitation.objects.get(client=client)
    assert invitation.status == Status.DRAFT
    assert "Bonjour et bienvenue" in invitation.body
    # Closed without confirming: still a draft, and the dialog asks again.
    dialog.get_by_role("button", name="Fermer").first.click()
    _wait_modal_closed(wide)
    assert Invitation.objects.get(client=client).status == Status.DRAFT
    wide.get_by_test_id("open-equipment").click()
    dialog.get_by_role("button", name="J'ai envoyé l'e-mail").click()
    dialog.get_by_test_id("invitation-status").get_by_text("Envoyée par le cabinet").wait_for()
    invitation.refresh_from_db()
    assert invitation.status == Status.SENT and invitation.send_method == SendMethod.MAILTO
    wide.get_by_test_id("client-shine-panel").get_by_text("Invitation envoyée").wait_for()


# --- 7. Opening the link again after activating ------------------------------------------


def test_the_link_after_activation_says_the_account_is_active(
    wide, live_server, shine, bob, firm_a, catalogue, sink
):
    client = _client(firm_a, "000246", "Cabinet Dentaire de l'Oasis", "jeanne@oasis.fr")
    invitation = services.invitation_create(
        client=client, actor=bob, plan="start", billing_mode="cabinet"
    )
    invitation = services.invitation_send(
        invitation=invitation,
        actor=bob,
        method=SendMethod.VIGIE,
        subject=invitation.subject,
        body=invitation.body,
    )
    _deliver_all()
    [message] = sink.wait_for(1)
    link = services.link_in(invitation, message.get_body(("plain",)).get_content())
    path = live_server.url + "/invitations/" + link.rsplit("/invitations/", 1)[1]

    wide.goto(path)
    wide.get_by_label("Choisissez un mot de passe").fill("mon-mot-de-passe")
    wide.get_by_label("J'accepte les conditions générales").check()
    wide.get_by_role("button", name="Valider mon compte").click()
    wide.get_by_text("Compte activé").wait_for()
    shine.deliver_webhooks()
    assert Invitation.objects.get(pk=invitation.pk).status == Status.ACTIVATED

    # Days later, from another browser, the client opens the email's link again.
    later = wide.context.browser.new_context(locale="fr-FR")
    again = later.new_page()
    again.goto(path)
    text = again.locator("main").inner_text()
    assert "déjà actif" in text
    assert "nouvelle invitation" not in text and "renvoyer une invitation" not in text
    again.get_by_role("link", name="Se connecter à Shine").click()
    again.get_by_label("Adresse e-mail").fill("jeanne@oasis.fr")
    again.get_by_label("Mot de passe").fill("mon-mot-de-passe")
    again.get_by_role("button", name="Se connecter").click()
    again.get_by_text("Compte activé").wait_for()
    assert "Cabinet Dentaire de l'Oasis" in again.locator("h1").inner_text()
    later.close()


# --- Polish: the Shine window and the portfolio's Shine cell -----------------------------


def test_the_shine_window_has_a_visible_close_and_plan_cards(
    wide, live_server, bob, firm_a, catalogue
):
    _client(firm_a, "P1", "Pâtisserie", "patisserie@entreprise.com")
    sign_in(wide, live_server, bob.email, PASSWORD)
    wide.goto(live_server.url + "/clients/P1/")
    wide.get_by_test_id("open-equipment").click()
    dialog = wide.locator("#modal")
    close = dialog.get_by_role("button", name="Fermer").first
    # The ✕ is dark on the white window, at the title's right.
    color = close.evaluate("el => getComputedStyle(el).color")
    rgb = [int(x) for x in color[color.index("(") + 1 : color.index(")")].split(",")[:3]]
    assert sum(rgb) < 3 * 140, color
    title = dialog.locator(".dialog-head h2").bounding_box()
    box = close.bounding_box()
    assert abs(box["y"] - title["y"]) < title["height"] and box["x"] > title["x"] + 300
    # Plans are cards side by side; the chosen one stands out.
    cards = [dialog.locator(f"[data-testid=plan-{p}]").bounding_box() for p in ("easy", "start")]
    assert abs(cards[0]["y"] - cards[1]["y"]) < 2 and cards[1]["x"] > cards[0]["x"]
    start = dialog.locator("[data-testid=plan-start]")
    before = start.evaluate("el => getComputedStyle(el).borderColor")
    start.click()
    assert start.evaluate("el => getComputedStyle(el).borderColor") != before


def test_a_shine_cell_with_its_badge_is_not_truncated(wide, live_server, bob, firm_a, catalogue):
    client = _client(firm_a, "T1", "Traiteur", "traiteur@entreprise.com")
    _invited(client, bob, plan="easy")
    Invitation.objects.filter(client=client).update(sent_at=timezone.now())
    sign_in(wide, live_server, bob.email, PASSWORD)
    wide.goto(live_server.url + "/?view=equipement")
    name = wide.locator("tr[data-code='T1'] td.col-slot").first.locator(".slot-name")
    assert name.inner_text() == "Shine Easy"
    assert name.evaluate("el => el.scrollWidth <= el.clientWidth")
