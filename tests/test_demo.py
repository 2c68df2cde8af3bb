from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from vigie.accounts.models import User
from vigie.clients.models import Client, Contact
from vigie.demo.data import DEMO_FIRM, GUIDE_ROWS, WITNESS_FIRM
from vigie.equipment.models import Equipment
from vigie.firms.models import Firm, Role
from vigie.invitations.models import Invitation
from vigie.lib.validators import is_valid_siret


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from vigie.equipment.catalogue import install
        from vigie.equipment.models import Solution

        install(Solution)
        call_command("demo")
        yield
        from vigie.demo.data import delete_demo

        delete_demo()


pytestmark = pytest.mark.django_db


def test_it_builds_the_guides_portfolio(demo):
    demo_firm = Firm.objects.get(name=DEMO_FIRM)
    witness = Firm.objects.get(name=WITNESS_FIRM)
    assert Client.objects.for_firm(demo_firm).count() == 4537
    assert Client.objects.for_firm(witness).count() == 50
    codes = set(Client.objects.for_firm(demo_firm).values_list("code", flat=True))
    assert {row.code for row in GUIDE_ROWS} <= codes
    oasis = Client.objects.get(firm=demo_firm, code="000246")
    assert (oasis.name, oasis.siret) == ("CABINET DENTAIRE DE L'OASIS", "84523656100013")
    assert Client.objects.get(firm=demo_firm, code="01TEST1").siret == "80826415400010"


def test_every_siret_is_valid_and_most_clients_have_one(demo):
    sirets = list(Client.objects.exclude(siret="").values_list("siret", flat=True))
    assert all(is_valid_siret(s) for s in sirets)
    assert len(sirets) > 0.8 * Client.objects.count()
    assert Client.objects.filter(siret="").exists()


def test_contacts_are_varied(demo):
    firm = Firm.objects.get(name=DEMO_FIRM)
    from django.db.models import Count

    counts = Client.objects.for_firm(firm).annotate(n=Count("contacts")).values_list("n", flat=True)
    assert 0 in counts and 1 in counts
    assert sum(1 for n in counts if n >= 2) > len(counts) / 2
    assert Contact.objects.filter(firm=firm, is_principal=True).exists()


def test_collaborators_and_signins(demo):
    firm = Firm.objects.get(name=DEMO_FIRM)
    assert firm.memberships.count() == 6
    demo_user = User.objects.get(email="demo@cabinet-demo.fr")
    assert demo_user.membership.role == Role.ADMIN and demo_user.check_password("demo-vigie")
    temoin = User.objects.get(email="temoin@cabinet-temoin.fr")
    assert temoin.membership.firm.name == WITNESS_FIRM and temoin.check_password("demo-vigie")


def test_equipment_and_reform_states_are_mixed(demo):
    firm = Firm.objects.get(name=DEMO_FIRM)
    assert Equipment.objects.filter(firm=firm, solution__slug="shine").exists()
    assert Equipment.objects.filter(firm=firm, slot="caisse").exists()
    assert Invitation.objects.filter(firm=firm, status="activee").exists()
    clients = Client.objects.for_firm(firm)
    assert clients.filter(sensitised=True).exists() and clients.filter(sensitised=False).exists()
    assert clients.filter(mandate_status="envoye").exists()
    assert clients.filter(pa_status="inscrit").exists()
    assert clients.exclude(collect_email="").exists()


def test_it_refuses_to_load_twice_without_reset(demo):
    with pytest.raises(CommandError):
        call_command("demo")
    call_command("demo", "--if-empty")  # a no-op
    assert Client.objects.count() == 4587


def test_the_first_sweep_leaves_the_demo_as_it_is(demo):
    from vigie.invitations.lifecycle import invitations_lifecycle
    from vigie.mail.models import OutboundEmail

    assert invitations_lifecycle() == 0
    assert not OutboundEmail.objects.exists()
