"""Before a campaign leaves: which clients of the selection can receive it, why each other
one cannot (and where that is fixed), and what one client would receive.

The reasons are the features' own: the reform's (no principal contact with an e-mail,
`reform.services.mandate_blockers`) and the Shine invitations' (`invitations.services.
preflight`). The worker meets the same refusals, from the same services, when it sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from vigie.campaigns.models import Kind
from vigie.clients.models import Client, Contact, MandateStatus
from vigie.clients.readiness import principal_of, shine_blockers
from vigie.invitations import emails as invitation_emails
from vigie.invitations import services as invitations
from vigie.reform import mailer
from vigie.reform import services as reform
from vigie.reform import tokens as reform_tokens
from vigie.reform.models import Mandate
from vigie.reform.panel import SIGNATORY_UNLISTED, is_listed
from vigie.registries.models import Register, RegisterCheck

# Where the client page fixes each reason (its sections' ids).
DETAILS, CONTACTS, REFORM, EQUIPMENT = "#details", "#contacts", "#reforme", "#equipment"


@dataclass
class Blocked:
    client: Client
    reason: str
    anchor: str  # the client page's section where it is fixed


def principals() -> Prefetch:
    """The clients' contacts as every check here reads them: the principal only."""
    return Prefetch("contacts", queryset=Contact.objects.filter(is_principal=True))


def _principal(client: Client):
    return principal_of(client.contacts.all())


def _sensitisation(clients: list[Client]) -> tuple[list[Client], list[Blocked]]:
    ready, blocked = [], []
    for client in clients:
        contact = _principal(client)
        if contact is None or not contact.email:
            blocked.append(Blocked(client, reform.NO_PRINCIPAL_EMAIL, CONTACTS))
        else:
            ready.append(client)
    return ready, blocked


def _mandate(clients: list[Client]) -> tuple[list[Client], list[Blocked]]:
    ready, blocked = [], []
    for client in clients:
        reasons = reform.mandate_blockers(client, _principal(client))
        if reasons:
            anchor = DETAILS if reform.MANDATE_NEEDS_SIRET in reasons else CONTACTS
            blocked.append(Blocked(client, " ; ".join(reasons), anchor))
        elif client.mandate_status == MandateStatus.SIGNED:
            blocked.append(Blocked(client, reform.MANDATE_ALREADY_SIGNED, REFORM))
        else:
            ready.append(client)
    return ready, blocked


def _shine(clients: list[Client]) -> tuple[list[Client], list[Blocked]]:
    ready, refused = invitations.preflight(clients)
    blocked = []
    for client, reason in refused:
        codes = {b.code for b in shine_blockers(client, client.contacts.all())}
        if "siret" in codes:
            anchor = DETAILS
        elif codes or reason != invitations.ALREADY_INVITED:
            anchor = CONTACTS  # no principal, or its address taken: an alias
        else:
            anchor = EQUIPMENT
        blocked.append(Blocked(client, reason, anchor))
    return ready, blocked


CHECKS = {Kind.SENSITISATION: _sensitisation, Kind.MANDATE: _mandate, Kind.SHINE: _shine}


@dataclass
class Notice:
    client: Client
    reason: str
    anchor: str


def signatory_warnings(clients: list[Client]) -> list[Notice]:
    """The clients a mandate would go to a signatory who is none of the directors the
    company register lists (when it lists them), as the Réforme panel says for one
    client: sent all the same, shown before. One query for the lot."""
    if not clients:
        return []
    directors = dict(
        RegisterCheck.objects.filter(
            firm_id=clients[0].firm_id,
            client_id__in=[c.pk for c in clients],
            register=Register.SIRENE,
        ).values_list("client_id", "values__directors")
    )
    warnings = []
    for client in clients:
        listed = [d for d in directors.get(client.pk) or [] if isinstance(d, dict)]
        contact = _principal(client)
        name = (contact.full_name if contact is not None else "") or ""
        if listed and name and not is_listed(name, listed):
            warnings.append(Notice(client, f"{SIGNATORY_UNLISTED} ({name})", REFORM))
    return warnings


def preflight(kind: str, clients: list[Client]) -> tuple[list[Client], list[Blocked]]:
    """(ready, blocked) for a campaign of `kind`. Clients come with their principal
    contacts prefetched (`principals()`, or all their contacts) and `firm`: a few queries
    for any number of them."""
    return CHECKS[kind](clients)


# --- What is sent ----------------------------------------------------------------------


def template_for(firm, kind: str, plan: str = "") -> tuple[str, str]:
    """The firm's wording for `kind` now (subject, body): the reform information e-mail's
    template, or the Shine invitation's for `plan`; a mandate's e-mail is fixed ("")."""
    if kind == Kind.SENSITISATION:
        template = mailer.template_for(firm)
        return template.subject, template.body
    if kind == Kind.SHINE:
        return invitation_emails.firm_template(firm, plan)
    return "", ""


LINK_PLACEHOLDER = "(lien personnel du client)"


@dataclass
class Preview:
    to: str
    subject: str
    text: str
    attachment: str = ""


def _fill(text: str, values: dict[str, str]) -> str:
    # Plain replacement, as the reform's mailer does: the firm's text is never a template.
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def preview(
    *, kind: str, client: Client, actor, subject: str, body: str, plan: str = "", mode: str = ""
) -> Preview | None:
    """What `client` would receive (its personal link shown as a placeholder); None when
    it has no principal contact with an e-mail."""
    contact = _principal(client)
    if contact is None or not contact.email:
        return None
    firm = client.firm
    if kind == Kind.SENSITISATION:
        values = {
            "client": client.name,
            "entreprise": client.name,
            "contact": contact.full_name or contact.email,
            "cabinet": firm.name,
            "collaborateur": getattr(actor, "full_name", "") or getattr(actor, "email", ""),
        }
        # The personal link's line the mailer adds (vigie.campaigns.tracking).
        text = mailer.with_link(_fill(body, values), LINK_PLACEHOLDER)
        return Preview(contact.email, " ".join(_fill(subject, values).split()), text)
    if kind == Kind.SHINE:
        values = invitation_emails.values_for(
            firm=firm,
            client=client,
            contact=contact,
            actor=actor,
            plan=plan,
            billing_mode=mode,
            link=LINK_PLACEHOLDER,
        )
        return Preview(
            contact.email,
            invitation_emails.fill(subject, values)[:200].replace("\n", " "),
            invitation_emails.fill(body, values),
        )
    # The mandate's fixed e-mail, as vigie.reform.mailer.send_mandate renders it.
    mandate = Mandate(
        firm_name=firm.name,
        client_name=client.name,
        siren=client.siren,
        representative=contact.full_name or contact.email,
        representative_email=contact.email,
        starts_on=timezone.localdate(),
    )
    context = {
        "mandate": mandate,
        "firm_name": firm.name,
        "link": LINK_PLACEHOLDER,
        "link_expires": reform_tokens.expires_at(timezone.now()),
    }
    return Preview(
        contact.email,
        " ".join(render_to_string("reform/email/mandate_subject.txt", context).split()),
        render_to_string("reform/email/mandate.txt", context),
        attachment=f"mandat-{client.code}.pdf",
    )
