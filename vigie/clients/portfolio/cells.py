"""The cells of the portfolio table, one function per column.

Rendered in Python rather than in the template: a page of 100 rows has about
1,100 cells, and Django's template engine spends ~20 µs per variable lookup;
these functions keep a 100-row page within its time budget. Every value goes
through `escape` (the standard library's, which Django's own wraps: same output,
without the lazy-string check on each of ~1,000 calls).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from vigie.clients.models import MandateStatus, PaStatus, ShineStatus
from vigie.clients.portfolio.query import SHINE_LABELS, Item, Row
from vigie.invitations.models import BillingMode

MANDATE_LABELS = dict(MandateStatus.choices)
PA_LABELS = dict(PaStatus.choices)


def _avatars(users) -> str:
    return (
        '<span class="avatars">'
        + "".join(
            f'<span class="avatar" title="{escape(u.full_name or u.email)}">{escape(u.initials)}</span>'
            for u in users
        )
        + "</span>"
    )


def _truncate(value: str, length: int) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"


def company(row: Row) -> str:
    c = row.client
    return (
        f'<a class="company-name" href="{row.url}">{escape(c.name)}</a>'
        f'<span class="muted">{escape(c.get_legal_form_display())} {escape(c.code)}</span>'
        f'<a class="button small open-on-hover" href="{row.url}">Ouvrir</a>'
    )


def contact(row: Row) -> str:
    label = row.contact_label
    return _avatars(row.collaborators) + (
        f' <span class="contact-name">{escape(label)}</span>' if label else ""
    )


def _slot(row: Row, items: list[Item]) -> str:
    if not items:
        return f'<a class="add-on-hover" href="{row.url}">+ Ajouter</a>'
    first = items[0]
    title = ", ".join(i.label for i in items)
    html = f'<span class="slot" title="{escape(title)}"><span class="slot-name">{escape(first.label)}</span>'
    if len(items) > 1:
        html += f' <span class="badge">+{len(items) - 1}</span>'
    status = row.client.shine_status
    if first.is_shine and status:
        html += (
            f' <span class="badge shine-{escape(status)}" data-testid="shine-status">'
            f"{escape(SHINE_LABELS.get(status, status))}</span>"
        )
    html += "</span>"
    if has_shine_card(row) and any(i.is_shine for i in items):
        # Hover (or keyboard focus) shows the card: .shine-cell in vigie.css.
        return f'<div class="shine-cell" tabindex="0">{html}{shine_card(row)}</div>'
    return html


def has_shine_card(row: Row) -> bool:
    return row.client.shine_status == ShineStatus.ACTIVATED and any(
        i.is_shine for i in (*row.achat, *row.vente)
    )


def shine_access_form_id(row: Row) -> str:
    return f"shine-access-{row.client.id}"


def shine_card(row: Row) -> str:
    """Shine, its mode, Activé and « Accéder à Shine », as on the client page
    (templates/invitations/status.html). The rows sit inside the selection form and
    forms do not nest: the button submits its own form (POST, CSRF token, new tab),
    rendered by the template after the table (`shine_forms` of the view)."""
    mode = ' · <span class="badge">Revente</span>' if row.shine_mode == BillingMode.CABINET else ""
    return (
        f'<div class="shine-card" data-testid="shine-card"><strong>Shine</strong>{mode}'
        f' · <span class="badge ok">{escape(SHINE_LABELS[ShineStatus.ACTIVATED])}</span>'
        f'<button type="submit" form="{shine_access_form_id(row)}" '
        'class="button small primary">Accéder à Shine</button></div>'
    )


def mandate(row: Row) -> str:
    status = row.client.mandate_status
    if status == MandateStatus.SIGNED:
        url = row.link("reform_mandate_download")
        return f'<a href="{escape(url)}" data-testid="mandate-download">Télécharger</a>'
    return escape(MANDATE_LABELS.get(status, "")) if status else ""


def pa(row: Row) -> str:
    c = row.client
    if c.pa_status == PaStatus.REGISTERED:
        return escape(c.pa_name or PA_LABELS[PaStatus.REGISTERED])
    return escape(PA_LABELS.get(c.pa_status, ""))


def sensitised(row: Row) -> str:
    c = row.client
    if not c.sensitised:
        return "Non ❌"
    if c.sensitised_at:
        return f'<span title="Sensibilisé le {localtime(c.sensitised_at):%d/%m/%Y}">Oui ✅</span>'
    return "Oui ✅"


def notes(row: Row) -> str:
    value = row.client.notes
    return f'<span title="{escape(value)}">{escape(_truncate(value, 40))}</span>' if value else ""


def collect_email(row: Row) -> str:
    email = row.client.collect_email
    if not email:
        return ""
    return (
        f'<span class="collect-email" title="{escape(email)}">{escape(_truncate(email, 24))}</span> '
        f'<button type="button" class="button small copy" data-copy="{escape(email)}" '
        f'aria-label="Copier {escape(email)}">Copier</button>'
    )


def cabinet(row: Row) -> str:
    html = _avatars(row.cabinet_shown)
    if row.cabinet_more:
        html += f'<span class="avatar more">+{row.cabinet_more}</span>'
    return html


def _text(attr: str) -> Callable[[Row], str]:
    return lambda row: escape(getattr(row.client, attr))


# (header, sort key or "", css class, cell) per view, after the checkbox column.
Column = tuple[str, str, str, Callable[[Row], str]]
COLUMNS: dict[str, list[Column]] = {
    "equipement": [
        ("ENTREPRISE", "name", "col-company", company),
        ("CONTACT", "", "col-contact", contact),
        ("ACHAT", "", "col-slot", lambda r: _slot(r, r.achat)),
        ("VENTE", "", "col-slot", lambda r: _slot(r, r.vente)),
        ("CAISSE", "", "col-slot", lambda r: _slot(r, r.caisse)),
        ("MANDAT", "mandat", "", mandate),
        ("INSCRIPTION PA", "pa", "", pa),
        ("SENSI. RÉFORME", "sensi", "", sensitised),
        ("NOTES", "", "col-notes", notes),
    ],
    "collecte": [
        ("ENTREPRISE", "name", "col-company", company),
        ("CONTACT", "", "col-contact", contact),
        ("RÉCEPTION FLUX", "", "", _text("reception_flux")),
        ("FLUX ACHAT", "", "", _text("flux_achat")),
        ("FLUX VENTE", "", "", _text("flux_vente")),
        ("FLUX BANQUE", "", "", _text("flux_banque")),
        ("PAIE", "", "", _text("paie")),
        ("EMAIL DE COLLECTE", "", "col-email", collect_email),
        ("CABINET", "", "col-cabinet", cabinet),
    ],
}


def row_html(row: Row, view: str) -> SafeString:
    """The `<td>`s of one row: the selection checkbox, then the view's columns."""
    c = row.client
    parts = [
        f'<td class="col-check"><input type="checkbox" name="codes" value="{escape(c.code)}" '
        f'aria-label="Sélectionner {escape(c.name)}"></td>'
    ]
    for _header, _sort, css, cell in COLUMNS[view]:
        parts.append(f'<td class="{css}">{cell(row)}</td>' if css else f"<td>{cell(row)}</td>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
