"""A firm whose clients are all ready for a Shine invitation (valid SIRET, a principal
contact with an email): the data of the bulk-invitation bench and of the fault drills."""

from __future__ import annotations


def ready_firm(
    *,
    name: str,
    admin_email: str,
    admin_first_name: str,
    clients: int,
    code_prefix: str,
    client_name_prefix: str,
    siren_start: int,
    email_domain: str,
):
    """Create the firm, its admin and `clients` ready clients. Returns (firm, admin)."""
    from vigie.accounts.models import User
    from vigie.clients.models import Client, Contact
    from vigie.firms.models import Firm, Membership, Role
    from vigie.lib.validators import make_siret

    firm = Firm.objects.create(name=name)
    user = User.objects.create_user(email=admin_email, password="x", first_name=admin_first_name)
    Membership.objects.create(user=user, firm=firm, role=Role.ADMIN)
    rows = []
    for n in range(clients):
        c = Client(firm=firm, code=f"{code_prefix}{n:05d}", name=f"{client_name_prefix}{n}")
        c.siret = make_siret(f"{siren_start + n:08d}", "0001")
        c.refresh_keys()
        rows.append(c)
    Client.objects.bulk_create(rows, batch_size=500)
    made = Client.objects.filter(firm=firm).order_by("pk")
    Contact.objects.bulk_create(
        [
            Contact(
                firm=firm,
                client=c,
                last_name=f"Dirigeant {i}",
                first_name="Jeanne",
                email=f"dirigeant{i}@{email_domain}",
                is_principal=True,
            )
            for i, c in enumerate(made)
        ],
        batch_size=500,
    )
    return firm, user
