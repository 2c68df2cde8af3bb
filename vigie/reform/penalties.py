"""The e-invoicing reform's penalties: the rules in force, their amounts and legal sources,
in this one place (a change of law is an edit here), and which of a firm's clients they
expose, when, and for about how much.

- Since 1 September 2026 every company must be able to *receive* e-invoices through an
  approved platform (PA). Without one: a formal notice with 3 months to comply, then
  €500, then €1,000 for each further 3 months.
- From 1 September 2027 small and medium businesses must *issue* them: €50 per invoice
  not issued electronically, and for e-reporting €500 per missing transmission, each
  capped at €15,000 a calendar year.

A client counts as able to receive when the firm's record says it is registered with a
PA (*Inscription PA*, checked against the directory by vigie.registries), and as able to
issue when it is equipped (vigie.reform.rules, the dashboard's own rule). The estimate
is a year's exposure: for reception, the notice's first year (€500 + 3 × €1,000); for
issuance, €50 × the invoices the firm recorded per month × 12, within the cap. Nothing is
estimated for e-reporting, whose transmissions depend on sales Vigie does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import BooleanField, Case, Count, ExpressionWrapper, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Least

from vigie.clients.models import Client, PaStatus
from vigie.reform.rules import equipped_q

RECEPTION_FROM = date(2026, 9, 1)
ISSUANCE_FROM = date(2027, 9, 1)  # small and medium businesses, micro-businesses

RECEPTION_NOTICE_MONTHS = 3
RECEPTION_FIRST_FINE = 500
RECEPTION_NEXT_FINE = 1_000  # for each further period of 3 months
INVOICE_FINE = 50
E_REPORTING_FINE = 500
ANNUAL_CAP = 15_000
# The 12 months after a formal notice: €500 at 3 months, €1,000 at 6, 9 and 12.
RECEPTION_YEAR = RECEPTION_FIRST_FINE + 3 * RECEPTION_NEXT_FINE


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    applies_from: date
    reason: str  # why a client is exposed, as the worklist says it
    penalty: str
    source: str
    action: str  # what removes the exposure


RECEPTION = Rule(
    key="reception",
    label="Réception des factures électroniques",
    applies_from=RECEPTION_FROM,
    reason="Aucune plateforme agréée pour recevoir ses factures",
    penalty=(
        f"Mise en demeure de se conformer sous {RECEPTION_NOTICE_MONTHS} mois, "
        f"puis {RECEPTION_FIRST_FINE} €, puis {RECEPTION_NEXT_FINE:,} € ".replace(",", "\u202f")
        + f"par nouvelle période de {RECEPTION_NOTICE_MONTHS} mois"
    ),
    source="Code général des impôts, art. 1737, modifié par la loi de finances pour 2026",
    action="Inscrire à une plateforme agréée",
)
ISSUANCE = Rule(
    key="emission",
    label="Émission des factures électroniques",
    applies_from=ISSUANCE_FROM,
    reason="Aucune solution pour émettre ses factures électroniques",
    penalty=(
        f"{INVOICE_FINE} € par facture non émise sous forme électronique, "
        f"dans la limite de {ANNUAL_CAP:,} € par année civile".replace(",", "\u202f")
    ),
    source="Code général des impôts, art. 1737, III, modifié par la loi de finances pour 2026",
    action="Équiper d'une app de facturation",
)
E_REPORTING = Rule(
    key="e_reporting",
    label="Transmission des données (e-reporting)",
    applies_from=ISSUANCE_FROM,
    reason="",
    penalty=(
        f"{E_REPORTING_FINE} € par transmission manquante, "
        f"dans la limite de {ANNUAL_CAP:,} € par année civile".replace(",", "\u202f")
    ),
    source="Code général des impôts, art. 1788 D, modifié par la loi de finances pour 2026",
    action="",
)
RULES = (RECEPTION, ISSUANCE, E_REPORTING)

NOW, IN_2027 = "maintenant", "2027"
WHEN = {NOW: "aujourd'hui", IN_2027: "au 1er septembre 2027"}


def at(when: str, today: date) -> date:
    """The day a worklist is read at: today, or the issuance deadline if still ahead."""
    return max(today, ISSUANCE_FROM) if when == IN_2027 else today


def _flag(condition: Q | None):
    """A condition as a boolean column; a rule not in force yet is false for everyone."""
    if condition is None:
        return Value(False)
    return ExpressionWrapper(condition, output_field=BooleanField())


def exposed(firm, day: date):
    """The firm's active clients exposed on `day`, each annotated with `no_reception`,
    `no_issuance` and `estimate` (a year's exposure in euros: the parts known; None when
    none is), the largest first."""
    reception = ~Q(pa_status=PaStatus.REGISTERED) if day >= RECEPTION_FROM else None
    issuance = ~equipped_q(firm_id=firm.id) if day >= ISSUANCE_FROM else None
    clients = Client.objects.for_firm(firm).active()
    in_force = [c for c in (reception, issuance) if c is not None]
    if not in_force:
        clients = clients.none()
    else:
        clients = clients.filter(in_force[0] | in_force[-1])
    # (PostgreSQL's LEAST skips NULLs: unknown invoices must stay unknown.)
    invoices = Case(
        When(
            invoices_per_month__isnull=False,
            then=Least(F("invoices_per_month") * 12 * INVOICE_FINE, Value(ANNUAL_CAP)),
        )
    )
    return (
        clients.annotate(no_reception=_flag(reception), no_issuance=_flag(issuance))
        .annotate(
            estimate=Case(
                # The reception part is known even when the invoices are not.
                When(
                    no_reception=True,
                    no_issuance=True,
                    then=Coalesce(invoices, Value(0)) + RECEPTION_YEAR,
                ),
                When(no_issuance=True, then=invoices),
                When(no_reception=True, then=Value(RECEPTION_YEAR)),
            )
        )
        .order_by(F("estimate").desc(nulls_last=True), "sort_name", "id")
    )


@dataclass
class Exposure:
    when: str
    day: date
    clients: int
    reception: int
    issuance: int
    estimate: int  # euros a year, over the clients whose estimate is known
    estimated: int  # how many of them have one


def exposure(firm, when: str, today: date) -> Exposure:
    """The counts of `exposed(firm, at(when, today))`, in one statement."""
    day = at(when, today)
    row = exposed(firm, day).aggregate(
        clients=Count("id"),
        reception=Count("id", filter=Q(no_reception=True)),
        issuance=Count("id", filter=Q(no_issuance=True)),
        total=Sum("estimate"),
        estimated=Count("estimate"),
    )
    row["estimate"] = row.pop("total")
    return Exposure(when=when, day=day, **{k: v or 0 for k, v in row.items()})
