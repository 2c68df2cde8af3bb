"""Which client counts as *équipé* for the reform: the one place that says it.

A client is equipped with an invoicing app able to issue e-invoices when its Shine
account is activated, or when its VENTE slot holds a declared solution other than
« Non concerné » (and other than a Shine that is not activated yet: Shine counts
once the client has validated its account).
"""

from __future__ import annotations

from django.db.models import Q

from vigie.clients.models import ShineStatus
from vigie.equipment.models import Equipment, Slot, Solution

NOT_INVOICING_SLUGS = ("non-concerne", "shine")


def equipped_q(client_ref: str = "pk", *, firm_id: int) -> Q:
    """The rule as an ORM condition on a queryset of the firm's clients (or `client_id`
    of a row pointing to one: pass `client_ref="client_id"` and prefix accordingly).

    The firm's declared solutions are read once per statement (an `IN` of an uncorrelated
    subquery, hashed), as `equipped_sql` does: a correlated EXISTS ran once per client and
    per use (the dashboard's counts use the rule five times), and under a NOT PostgreSQL
    hashed every firm's equipment for it."""
    prefix = "" if client_ref == "pk" else client_ref.removesuffix("_id") + "__"
    declared = (
        Equipment.objects.filter(firm_id=firm_id, slot=Slot.VENTE)
        .exclude(solution__slug__in=NOT_INVOICING_SLUGS)
        .values("client_id")
    )
    return Q(**{f"{prefix}shine_status": ShineStatus.ACTIVATED}) | Q(
        **{f"{client_ref}__in": declared}
    )


def equipped_sql(firm_id: int) -> tuple[str, list]:
    """The same rule as SQL over the portfolio's alias `c` (vigie.clients.portfolio)."""
    equipment = Equipment._meta.db_table
    solution = Solution._meta.db_table
    placeholders = ", ".join(["%s"] * len(NOT_INVOICING_SLUGS))
    sql = (
        f"(c.shine_status = %s OR c.id IN (SELECT e.client_id FROM {equipment} e "
        f"JOIN {solution} s ON s.id = e.solution_id WHERE e.firm_id = %s "
        f"AND e.slot = %s AND s.slug NOT IN ({placeholders})))"
    )
    return sql, [str(ShineStatus.ACTIVATED), firm_id, str(Slot.VENTE), *NOT_INVOICING_SLUGS]
