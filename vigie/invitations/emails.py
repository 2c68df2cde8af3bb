"""The invitation email: a firm-editable template per plan, filled per client.

Templates use `{placeholders}` (not Django template syntax: a firm's text must not
run code): {client}, {contact}, {cabinet}, {collaborateur}, {plan}, {offre}, {mode},
{lien}. Unknown placeholders are left as typed. The default wording names the plan
through {plan} and {offre}, so it always says the plan the invitation is for.
"""

from __future__ import annotations

import re

from django.template.loader import render_to_string

from vigie.invitations.models import PLAN_FEATURES, BillingMode, InvitationTemplate, Plan

PLACEHOLDERS = {
    "client": "la raison sociale du client",
    "contact": "le prénom et le nom du contact principal",
    "cabinet": "le nom du cabinet",
    "collaborateur": "le nom du collaborateur qui envoie",
    "plan": "le plan choisi (Easy, Start ou Plus)",
    "offre": "l'offre choisie (Shine Start…) et ses fonctionnalités",
    "mode": "le mode de facturation",
    "lien": "le lien d'activation du compte Shine",
}

DEFAULT_SUBJECT = "{cabinet} vous invite à activer votre compte Shine {plan}"
DEFAULT_BODY = """Bonjour {contact},

{cabinet} vous propose d'équiper {client} de Shine, l'application de facturation qui vous \
prépare à la facturation électronique.

Votre offre : {offre}
Mode de facturation : {mode}

Pour activer votre compte, il vous suffit de suivre ce lien et de valider votre compte Shine \
en toute autonomie :
{lien}

Je reste à votre disposition pour toute question : répondez simplement à cet e-mail.

Bien cordialement,
{collaborateur}
{cabinet}
"""

_PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")


def default_template(plan: str) -> tuple[str, str]:
    Plan(plan)  # an unknown plan is a programming error
    return DEFAULT_SUBJECT, DEFAULT_BODY


def firm_template(firm, plan: str) -> tuple[str, str]:
    row = InvitationTemplate.objects.filter(firm=firm, plan=plan).first()
    if row is not None:
        return row.subject, row.body
    return default_template(plan)


def follow_plan(firm, plan: str, subject: str, body: str) -> tuple[str, str]:
    """The wording for `plan`: a text left exactly as another plan's template (the
    dialog opened on one plan, another chosen) becomes the chosen plan's own."""
    if plan not in Plan.values:
        return subject, body
    typed = (subject.strip(), body.replace("\r\n", "\n").strip())
    for other in Plan.values:
        template = firm_template(firm, other)
        if other != plan and typed == (template[0].strip(), template[1].strip()):
            return firm_template(firm, plan)
    return subject, body


def offer_text(plan: str) -> str:
    return f"Shine {Plan(plan).label} ({', '.join(PLAN_FEATURES[Plan(plan)]).lower()})"


def mode_text(billing_mode: str) -> str:
    if billing_mode == BillingMode.CABINET:
        return "Cabinet (votre cabinet vous refacture l'abonnement)"
    return "Shine (Shine vous facture directement l'abonnement)"


def fill(template: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m[1], m[0]), template)


def values_for(*, firm, client, contact, actor, plan, billing_mode, link) -> dict[str, str]:
    return {
        "client": client.name if client is not None else firm.name,
        "contact": (contact.full_name if contact is not None else "") or "Madame, Monsieur",
        "cabinet": firm.name,
        "collaborateur": (getattr(actor, "full_name", "") or getattr(actor, "email", "")),
        "offre": offer_text(plan),
        "plan": Plan(plan).label,
        "mode": mode_text(billing_mode),
        "lien": link,
    }


def render_html(*, body: str, link: str, firm_name: str, plan: str) -> str:
    """The HTML part: the (edited) text escaped, paragraphs kept, the link a button."""
    return render_to_string(
        "emails/invitation.html",
        {"body": body, "link": link, "firm_name": firm_name, "plan_label": Plan(plan).label},
    )
