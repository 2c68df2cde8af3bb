"""What the portfolio table shows, for its template (templates/clients/portfolio.html):
the columns of each view, and each row's values (`row_context`), computed in Python,
marked up by the template's `row` partial."""

from __future__ import annotations

from django.urls import reverse
from django.utils.timezone import localtime

from vigie.clients.models import MandateStatus, PaStatus, ShineStatus
from vigie.clients.portfolio.query import Item, Row
from vigie.invitations.models import BillingMode
from vigie.registries import rules as registers
from vigie.registries.models import Register

MANDATE_LABELS = dict(MandateStatus.choices)
PA_LABELS = dict(PaStatus.choices)
REGISTER_LABELS = dict(Register.choices)

# (header, sort key or "") of each view's columns, after the checkbox column; the
# cells are the `row` partial of the template, in the same order.
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "equipement": [
        ("ENTREPRISE", "name"),
        ("CONTACT", ""),
        ("ACHAT", ""),
        ("VENTE", ""),
        ("CAISSE", ""),
        ("MANDAT", "mandat"),
        ("INSCRIPTION PA", "pa"),
        ("REGISTRES", ""),
        ("SENSI. RÉFORME", "sensi"),
        ("NOTES", ""),
    ],
    "collecte": [
        ("ENTREPRISE", "name"),
        ("CONTACT", ""),
        ("RÉCEPTION FLUX", ""),
        ("FLUX ACHAT", ""),
        ("FLUX VENTE", ""),
        ("FLUX BANQUE", ""),
        ("PAIE", ""),
        ("EMAIL DE COLLECTE", ""),
        ("CABINET", ""),
    ],
}


def _truncate(value: str, length: int) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"


def has_shine_card(row: Row) -> bool:
    """An activated Shine among the row's equipment: its cell shows Shine's hover card
    (« Accéder à Shine »)."""
    return row.client.shine_status == ShineStatus.ACTIVATED and any(
        i.is_shine for i in (*row.achat, *row.vente)
    )


def _people(users) -> list[dict]:
    return [{"name": u.full_name or u.email, "initials": u.initials} for u in users]


def _slot(items: list[Item], card: bool, client) -> dict:
    """A slot cell (achat, vente, caisse): its first solution, how many more, the Shine
    status if the first is Shine, and Shine's card if the slot holds it."""
    if not items:
        return {}
    return {
        "title": ", ".join(i.label for i in items),
        "first": items[0].label,
        "more": len(items) - 1,
        "shine": bool(items[0].is_shine and client.shine_status),
        "card": card and any(i.is_shine for i in items),
    }


def register_title(row: Row) -> str:
    """The date of the client's last register check and each register's status."""
    if row.registers_at is None:
        return "Jamais vérifié auprès des registres"
    each = " ; ".join(
        f"{REGISTER_LABELS.get(register, register)} : {registers.STATUS_LABELS.get(status, status)}"
        for register, status in row.registers
    )
    return f"Dernier contrôle le {localtime(row.registers_at):%d/%m/%Y à %H:%M} — {each}"


def row_context(row: Row) -> dict:
    """What the row's template shows, as plain values (a dictionary's keys are the
    template engine's fastest lookup)."""
    c = row.client
    card = has_shine_card(row)
    status = row.register_status
    url = reverse("client_detail", args=[c.code])
    return {
        "id": c.id,
        "code": c.code,
        "name": c.name,
        "legal_form": c.get_legal_form_display(),
        "collaborators": _people(row.collaborators),
        "contact": row.contact_label,
        "slots": [
            (name, _slot(items, card, c))
            for name, items in (("achat", row.achat), ("vente", row.vente), ("caisse", row.caisse))
        ],
        "shine_form": card,
        "shine_status": c.shine_status,
        "shine_label": c.get_shine_status_display(),
        "cabinet_mode": row.shine_mode == BillingMode.CABINET,
        "url": url,
        # The mandate's download, once signed.
        "mandate_url": (
            reverse("reform_mandate_download", args=[c.code])
            if c.mandate_status == MandateStatus.SIGNED
            else ""
        ),
        "mandate": MANDATE_LABELS.get(c.mandate_status, "") if c.mandate_status else "",
        "pa": (
            c.pa_name or PA_LABELS[PaStatus.REGISTERED]
            if c.pa_status == PaStatus.REGISTERED
            else PA_LABELS.get(c.pa_status, "")
        ),
        "registers": {
            "status": status,
            "label": registers.STATUS_LABELS[status],
            "badge": registers.STATUS_BADGES[status],
            "title": register_title(row),
        },
        "sensitised": c.sensitised,
        "sensitised_on": f"{localtime(c.sensitised_at):%d/%m/%Y}" if c.sensitised_at else "",
        "notes": c.notes,
        "notes_short": _truncate(c.notes, 40),
        "flux": [c.reception_flux, c.flux_achat, c.flux_vente, c.flux_banque, c.paie],
        "collect_email": c.collect_email,
        "collect_email_short": _truncate(c.collect_email, 24),
        "cabinet": _people(row.cabinet_shown),
        "cabinet_more": row.cabinet_more,
    }
