"""The reform's emails. Every one goes through the outbox (`vigie.mail`), never
`send_mail`: it is queued on commit, retried, and kept in the local mailbox in
development."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse

from vigie.invitations.emails import PLACEHOLDERS as EMAIL_PLACEHOLDERS
from vigie.lib.site import site_url
from vigie.mail.services import email_queue
from vigie.reform import tokens
from vigie.reform.models import Mandate, ReformEmailTemplate

DEFAULT_SUBJECT = "Réforme de la facturation électronique : ce qui change pour {client}"
DEFAULT_BODY = """Bonjour {contact},

La réforme de la facturation électronique s'applique à toutes les entreprises assujetties à la TVA :

- depuis le 1er septembre 2026, votre entreprise doit pouvoir recevoir des factures électroniques ;
- à partir du 1er septembre 2027, les PME, TPE et micro-entreprises devront aussi émettre leurs factures au format électronique.

Concrètement, {client} doit choisir une plateforme agréée (PA) et être inscrite dans l'annuaire central, et utiliser un outil de facturation capable d'émettre des factures électroniques.

Nous pouvons vous accompagner dans ces démarches : n'hésitez pas à répondre à ce message.

Bien cordialement,
{cabinet}"""

# The invitations' names for the same values (vigie.invitations.emails.PLACEHOLDERS);
# {entreprise}, the name these templates used first, still works in saved ones.
PLACEHOLDERS = {
    key: EMAIL_PLACEHOLDERS[key] for key in ("client", "contact", "cabinet", "collaborateur")
}


def template_for(firm) -> ReformEmailTemplate:
    """The firm's template, or the default wording (unsaved) when it has none."""
    template = ReformEmailTemplate.objects.filter(firm=firm).first()
    return template or ReformEmailTemplate(firm=firm, subject=DEFAULT_SUBJECT, body=DEFAULT_BODY)


def _fill(text: str, values: dict[str, str]) -> str:
    # Plain replacement: the firm's text is never evaluated as a template.
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def _sender(actor) -> str:
    return getattr(actor, "email", "") or ""


# A campaign's information e-mail ends with the client's personal link (vigie.campaigns).
LINK_TEXT = "Ce qui change pour votre entreprise, en détail : {link}"
LINK_LABEL = "La facturation électronique : ce qui change pour votre entreprise"


def with_link(text: str, link: str) -> str:
    """`text` ending with the personal link's line."""
    return f"{text.rstrip()}\n\n{LINK_TEXT.format(link=link)}\n"


def send_information(
    *,
    client,
    contact,
    actor,
    template: ReformEmailTemplate,
    link: str = "",
    idempotency_key: str = "",
):
    values = {
        "client": client.name,
        "entreprise": client.name,
        "contact": contact.full_name or contact.email,
        "cabinet": client.firm.name,
        "collaborateur": getattr(actor, "full_name", "") or _sender(actor),
    }
    text = _fill(template.body, values)
    html = render_to_string(
        "reform/email/information.html", {"text": text, "link": link, "label": LINK_LABEL}
    )
    if link:
        text = with_link(text, link)
    return email_queue(
        firm=client.firm,
        to=contact.email,
        subject=" ".join(_fill(template.subject, values).split()),
        text=text,
        html=html,
        reply_to=_sender(actor),
        from_name=client.firm.name,
        client=client,
        kind="reform.information",
        idempotency_key=idempotency_key,
    )


def send_mandate(
    *, mandate: Mandate, content: bytes, actor, reminder: int = 0, idempotency_key: str = ""
):
    """The mandate for signature: the PDF attached, and the personal link to sign it
    online (vigie.reform.signing). With `reminder` (its number), the same e-mail as a
    « Rappel : … », with the same link. `idempotency_key`: vigie.mail.services."""
    context = {
        "mandate": mandate,
        "firm_name": mandate.firm_name,
        "link": tokens.link_url(mandate, now=mandate.sent_at.timestamp()),
        "link_expires": tokens.expires_at(mandate.sent_at),
        "reminder": reminder,
    }
    return _to_signer(
        mandate,
        "mandate",
        context,
        kind="reform.mandate_reminder" if reminder else "reform.mandate",
        reply_to=_sender(actor),
        attachments=[(f"mandat-{mandate.client.code}.pdf", content, "application/pdf")],
        idempotency_key=idempotency_key,
    )


def send_reminder(*, mandate: Mandate, number: int, idempotency_key: str = ""):
    """Automatic reminder `number`, answered to the collaborator who sent the mandate."""
    with mandate.document.open("rb") as file:
        content = file.read()
    return send_mandate(
        mandate=mandate,
        content=content,
        actor=mandate.created_by,
        reminder=number,
        idempotency_key=idempotency_key,
    )


def send_revoked(*, mandate: Mandate, actor):
    """Tell the signer the mandate is revoked, and why."""
    return _to_signer(
        mandate, "mandate_revoked", {}, kind="reform.mandate_revoked", reply_to=_sender(actor)
    )


def _render(name: str, context: dict) -> tuple[str, str, str]:
    subject = render_to_string(f"reform/email/{name}_subject.txt", context)
    text = render_to_string(f"reform/email/{name}.txt", context)
    html = render_to_string(f"reform/email/{name}.html", context)
    return " ".join(subject.split()), text, html


def _to_signer(mandate: Mandate, name: str, context: dict, *, kind: str, **extra):
    """E-mail `name` (its three templates) of the mandate to its signer, from the firm."""
    subject, text, html = _render(name, {"mandate": mandate, **context})
    return email_queue(
        firm=mandate.client.firm,
        to=mandate.representative_email,
        subject=subject,
        text=text,
        html=html,
        from_name=mandate.firm_name,
        client=mandate.client,
        kind=kind,
        **extra,
    )


def send_code(*, mandate: Mandate, code: str):
    """The one-time code that confirms the signer's identity."""
    return _to_signer(mandate, "mandate_code", {"code": code}, kind="reform.mandate_code")


def send_signed_copy(*, mandate: Mandate, content: bytes):
    """The sealed mandate, to its signer."""
    return _to_signer(
        mandate,
        "mandate_signed",
        {},
        kind="reform.mandate_signed",
        attachments=[(f"mandat-{mandate.client.code}-signe.pdf", content, "application/pdf")],
    )


def send_locked_notice(*, mandate: Mandate, failures: int):
    """Tell the collaborator who sent the mandate that its link locked after `failures`
    wrong codes; nobody to tell when they left or have no address."""
    sender = mandate.created_by
    if sender is None or not sender.is_active or not sender.email:
        return None
    context = {
        "mandate": mandate,
        "failures": failures,
        "client_url": site_url(reverse("client_detail", args=[mandate.client.code]) + "#reforme"),
    }
    subject, text, html = _render("mandate_locked", context)
    return email_queue(
        firm=mandate.client.firm,
        to=sender.email,
        subject=subject,
        text=text,
        html=html,
        client=mandate.client,
        kind="reform.mandate_locked",
    )
