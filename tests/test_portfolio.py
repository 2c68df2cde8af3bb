from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import DataError, transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import ClientFactory, ContactFactory
from vigie.clients.models import ClientAssignment, MandateStatus, PaStatus, ShineStatus
from vigie.clients.portfolio import export, rowcache
from vigie.clients.portfolio.query import Lookups, Params, PortfolioQuery
from vigie.equipment.models import Equipment, Slot
from vigie.invitations.models import Invitation
from vigie.invitations.models import Status as InvitationStatus

HOME = "/"
# the session, the user with their firm, the firm's count with its directory version (the
# key of its collaborators and catalogue, cached), page ids with their rows' versions; then,
# for the rows not in the rows cache at their version: clients, then their contacts,
# assignments and equipment in one statement
QUERIES = 4
COLD_QUERIES = 6


def equip(client, solution, slot, plan=""):
    return Equipment.objects.create(
        firm=client.firm, client=client, solution=solution, slot=slot, plan=plan
    )


def assign(client, *users):
    for user in users:
        ClientAssignment.objects.create(firm=client.firm, client=client, user=user)


def row_of(response, code: str) -> str:
    html = response.content.decode()
    match = re.search(rf'<tr data-code="{re.escape(code)}">(.*?)</tr>', html, re.S)
    assert match, f"no row {code}"
    return match.group(1)


def tbody(response) -> str:
    return re.search(r"<tbody>(.*)</tbody>", response.content.decode(), re.S).group(1)


def codes(response) -> list[str]:
    return re.findall(r'<tr data-code="([^"]+)">', response.content.decode())


def page_range(response) -> str:
    return re.search(r'data-testid="page-range">([^<]*)<', response.content.decode()).group(1)


def activated_invitation(client, billing_mode: str):
    return Invitation.objects.create(
        firm=client.firm,
        client=client,
        email=f"{client.code.lower()}@tpe.fr",
        plan="start",
        billing_mode=billing_mode,
        status=InvitationStatus.ACTIVATED,
        activated_at=timezone.now(),
    )


@pytest.fixture
def portfolio(firm_a, alice, bob, catalogue):
    """Three clients of firm A shaped like the guide's rows."""
    eck = ClientFactory(
        firm=firm_a,
        code="000003",
        name="ECKHOUT Pascal Et Frères",
        legal_form="SARL",
        siret="84523656100013",
        shine_status=ShineStatus.ACTIVATED,
        pa_status=PaStatus.INVITED,
        mandate_status=MandateStatus.SENT,
        sensitised=False,
        notes="Relancer en mars",
        collect_email="invoice-fb7ca51e-9838-4c2d-a1b0-1234567890ab@collecte.test",
        reception_flux="Shine Plus",
        flux_banque="Qonto",
        paie="Silae",
    )
    for i in range(9):
        ContactFactory(client=eck, first_name="Jean", last_name=f"Martin{i}")
    assign(eck, alice, bob)
    equip(eck, catalogue["shine"], Slot.ACHAT, "Plus")
    equip(eck, catalogue["shine"], Slot.VENTE, "Plus")

    tcs = ClientFactory(
        firm=firm_a,
        code="00000A",
        name="T.C.S. BERENGER",
        siret="",
        sensitised=True,
        mandate_status=MandateStatus.SIGNED,
        pa_status=PaStatus.REGISTERED,
        pa_name="Cegid Flow",
    )
    ContactFactory(client=tcs, first_name="THOMAS", last_name="BERENGER", email="berenger@tcs.fr")
    assign(tcs, bob)
    equip(tcs, catalogue["cegid-quadra"], Slot.ACHAT)
    equip(tcs, catalogue["abby"], Slot.ACHAT)
    equip(tcs, catalogue["apisoft"], Slot.CAISSE)

    mon = ClientFactory(firm=firm_a, code="000006", name="Mon client", siret="80826415400010")
    return {"eck": eck, "tcs": tcs, "mon": mon}


class TestColumns:
    def test_it_renders_the_equipement_view(self, alice_client, portfolio, alice):
        response = alice_client.get(HOME)
        assert response.status_code == 200
        html = response.content.decode()
        for header in (
            "ENTREPRISE",
            "CONTACT",
            "ACHAT",
            "VENTE",
            "CAISSE",
            "MANDAT",
            "INSCRIPTION PA",
            "SENSI. RÉFORME",
            "NOTES",
        ):
            assert header in html
        assert "+ Nouveau client" in html
        eck = row_of(response, "000003")
        assert "ECKHOUT Pascal Et Frères" in eck and "SARL 000003" in eck
        assert "AA" in eck and "BB" in eck  # alice's and bob's initials
        assert "9 contacts" in eck
        assert eck.count("Shine Plus") >= 2 and "Activé" in eck
        assert (
            "Mandat envoyé" in eck
            and "Invitation envoyée" in eck
            and 'Non <svg class="mark mark-no"' in eck
        )
        assert "Relancer en mars" in eck
        assert "+ Ajouter" in eck  # empty CAISSE
        assert "Ouvrir" in eck and "/clients/000003/" in eck
        tcs = row_of(response, "00000A")
        assert "THOMAS BERENGER" in tcs
        assert "Cegid Quadra" in tcs and "+1" in tcs and "Apisoft" in tcs
        assert (
            "Télécharger" in tcs and "Cegid Flow" in tcs and 'Oui <svg class="mark mark-yes"' in tcs
        )
        assert "✅" not in html and "❌" not in html  # no emoji: drawn in SVG
        mon = row_of(response, "000006")
        assert "Pas dans l&#39;annuaire" in mon  # escaped
        assert mon.count("+ Ajouter") == 3

    def test_it_renders_the_collecte_view(self, alice_client, portfolio, alice, bob, firm_a):
        extra = [
            type(alice).objects.create(
                email=f"x{i}@alpha.fr", first_name="Xavier", last_name=f"Z{i}"
            )
            for i in range(2)
        ]
        assign(portfolio["eck"], *extra)
        response = alice_client.get(HOME + "?view=collecte")
        html = response.content.decode()
        for header in (
            "RÉCEPTION FLUX",
            "FLUX ACHAT",
            "FLUX VENTE",
            "FLUX BANQUE",
            "PAIE",
            "EMAIL DE COLLECTE",
            "CABINET",
        ):
            assert header in html
        assert "<th>ACHAT</th>" not in html
        eck = row_of(response, "000003")
        assert "Shine Plus" in eck and "Qonto" in eck and "Silae" in eck
        email = portfolio["eck"].collect_email
        assert f'data-copy="{email}"' in eck and f'title="{email}"' in eck
        assert "invoice-fb7ca51e-9838-4…" in eck  # shortened
        # Extra users are not members of the firm: they are not shown. Alice and Bob are.
        assert 'class="avatar more"' not in eck

    def test_it_shows_plus_n_beyond_two_collaborators(self, alice_client, firm_a, alice, bob):
        from tests.factories import MembershipFactory

        dave = MembershipFactory(
            firm=firm_a, user__first_name="Dave", user__last_name="Durand"
        ).user
        eve = MembershipFactory(firm=firm_a, user__first_name="Eve", user__last_name="Evrard").user
        client = ClientFactory(firm=firm_a, code="C1")
        assign(client, alice, bob, dave, eve)
        row = row_of(alice_client.get(HOME + "?view=collecte"), "C1")
        cabinet = row.split('class="col-cabinet"')[1]
        assert cabinet.count('class="avatar"') == 2 and "+2" in cabinet


class TestShineCard:
    def card(self, response, code):
        match = re.search(
            r'<div class="shine-card".*?</button></div>', row_of(response, code), re.S
        )
        return match.group(0) if match else ""

    def test_it_shows_the_card_with_revente_in_achat_and_vente(self, alice_client, portfolio):
        eck = portfolio["eck"]
        activated_invitation(eck, "cabinet")
        response = alice_client.get(HOME)
        row = row_of(response, "000003")
        assert row.count('data-testid="shine-card"') == 2  # ACHAT and VENTE
        assert row.count('<div class="shine-cell" tabindex="0">') == 2
        card = self.card(response, "000003")
        assert "<strong>Shine</strong>" in card and ">Cabinet<" in card and ">Activé<" in card
        assert (
            f'<button type="submit" form="shine-access-{eck.id}" '
            'class="button small primary">Accéder à Shine</button>'
        ) in card
        # Its form: a POST with the CSRF token, in a new tab, outside the selection form
        # (forms do not nest), once per client.
        html = response.content.decode()
        action = reverse("shine_access", args=["000003"])
        form = re.search(
            rf'</table>\s*</form>\s*<form id="shine-access-{eck.id}" method="post" '
            rf'action="{re.escape(action)}" target="_blank" hidden>'
            r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)"></form>',
            html,
        )
        assert form and len(form.group(1)) >= 32
        assert html.count(f'id="shine-access-{eck.id}"') == 1

    def test_it_shows_no_revente_when_shine_bills_the_client(self, alice_client, portfolio):
        activated_invitation(portfolio["eck"], "shine")
        card = self.card(alice_client.get(HOME), "000003")
        assert ">Activé<" in card and "Accéder à Shine" in card and ">Cabinet<" not in card

    def test_it_shows_no_card_until_activated(self, alice_client, portfolio):
        eck = portfolio["eck"]
        eck.shine_status = ShineStatus.SENT
        eck.save()
        response = alice_client.get(HOME)
        assert "shine-card" not in response.content.decode()
        assert "Invitation envoyée" in row_of(response, "000003")

    def test_it_shows_no_card_where_shine_is_not(self, alice_client, portfolio, catalogue):
        tcs = portfolio["tcs"]  # Cegid Quadra in ACHAT, Apisoft in CAISSE
        tcs.shine_status = ShineStatus.ACTIVATED
        tcs.save()
        assert "shine-card" not in row_of(alice_client.get(HOME), "00000A")
        activated_invitation(portfolio["eck"], "cabinet")
        collecte = alice_client.get(HOME + "?view=collecte").content.decode()
        assert "shine-card" not in collecte and "shine-access" not in collecte

    def test_it_escapes_the_code_in_the_action(self, alice_client, firm_a, catalogue):
        client = ClientFactory(
            firm=firm_a, code='A"<b>&', name="Code étrange", shine_status=ShineStatus.ACTIVATED
        )
        equip(client, catalogue["shine"], Slot.ACHAT, "Easy")
        html = alice_client.get(HOME).content.decode()
        assert "<b>&" not in html
        assert (
            f'id="shine-access-{client.id}" method="post" action="/clients/A%22%3Cb%3E&amp;/'
            in html
        )

    def test_charlie_never_gets_firm_as_card(self, charlie_client, portfolio, firm_b):
        activated_invitation(portfolio["eck"], "cabinet")
        html = charlie_client.get(HOME).content.decode()
        assert "shine-card" not in html
        url = reverse("shine_access", args=["000003"])
        assert charlie_client.post(url).status_code == 404


class TestSearch:
    @pytest.mark.parametrize(
        "q",
        [
            "eckhout",
            "ECKHOUT",
            "Frères",
            "freres",
            "000003",
            "845 236 561",
            "84523656100013",
            "martin3",
            "contact",
        ],
    )
    def test_it_finds_by_name_code_siret_and_contact(self, alice_client, portfolio, q):
        response = alice_client.get(HOME, {"q": q})
        assert codes(response) == ["000003"], q

    def test_it_finds_contact_emails_and_short_prefixes(self, alice_client, portfolio):
        assert codes(alice_client.get(HOME, {"q": "berenger@tcs"})) == ["00000A"]
        assert codes(alice_client.get(HOME, {"q": "mo"})) == ["000006"]
        assert codes(alice_client.get(HOME, {"q": "t."})) == ["00000A"]

    def test_it_mixes_long_and_short_words(self, alice_client, portfolio):
        assert codes(alice_client.get(HOME, {"q": "eckhout et"})) == ["000003"]
        assert codes(alice_client.get(HOME, {"q": "jean martin"})) == ["000003"]
        assert codes(alice_client.get(HOME, {"q": "eckhout zz"})) == []

    def test_it_never_matches_another_firms_rows(self, alice_client, portfolio, firm_b):
        # The search key starts with the firm id: firm 1's "1:" must not match "11:".
        other = ClientFactory(firm=firm_b, code="B001", name="Eckhout Bis")
        ContactFactory(client=other, first_name="Jean", last_name="Martin3")
        assert codes(alice_client.get(HOME, {"q": "eckhout"})) == ["000003"]
        assert codes(alice_client.get(HOME, {"q": "martin3"})) == ["000003"]

    def test_it_finds_matches_wherever_the_firms_rows_interleave(
        self, alice_client, firm_a, firm_b
    ):
        # Firms' ids interleave (SQLite bounds its FTS scan to the firm's range of ids):
        # the firm's first and last rows match, another firm's rows in between do not.
        for n, firm in enumerate([firm_a, firm_b, firm_a, firm_b, firm_a, firm_b]):
            client = ClientFactory(firm=firm, code=f"I{n:05d}", name=f"Vauquelin {n}")
            ContactFactory(client=client, last_name=f"Quesnoy{n}")
        assert codes(alice_client.get(HOME, {"q": "vauquelin"})) == ["I00000", "I00002", "I00004"]
        assert codes(alice_client.get(HOME, {"q": "quesnoy"})) == ["I00000", "I00002", "I00004"]
        assert codes(alice_client.get(HOME, {"q": "quesnoy4"})) == ["I00004"]
        assert codes(alice_client.get(HOME, {"q": "quesnoy3"})) == []

    def test_it_requires_every_word(self, alice_client, portfolio):
        assert codes(alice_client.get(HOME, {"q": "pascal freres"})) == ["000003"]
        assert codes(alice_client.get(HOME, {"q": "pascal berenger"})) == []

    @pytest.mark.parametrize(
        "q", ["%", "_", "\\", "'", '"', "<script>alert(1)</script>", "a" * 10_000, "--", "%%%"]
    )
    def test_it_survives_odd_input(self, alice_client, portfolio, q):
        response = alice_client.get(HOME, {"q": q})
        assert response.status_code == 200
        html = response.content.decode()
        assert "<script>alert(1)</script>" not in html
        if q.startswith("<script>"):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert codes(response) == []


class TestFilters:
    def test_it_filters(self, alice_client, portfolio, alice, catalogue):
        cases = {
            "mine=1": ["000003"],
            f"collab={alice.id}": ["000003"],
            "achat=oui": ["000003", "00000A"],
            "achat=non": ["000006"],
            "caisse=oui": ["00000A"],
            "solution=shine": ["000003"],
            "solution=apisoft": ["00000A"],
            "shine=active": ["000003"],
            "shine=aucun": ["000006", "00000A"],
            "mandat=signe": ["00000A"],
            "mandat=aucun": ["000006"],
            "pa=inscrit": ["00000A"],
            "pa=absent": ["000006"],
            "sensi=oui": ["00000A"],
            "sensi=non": ["000003", "000006"],
            "achat=oui&sensi=non": ["000003"],
        }
        for query, expected in cases.items():
            assert codes(alice_client.get(HOME + "?" + query)) == expected, query

    def test_it_ignores_unknown_filter_values(self, alice_client, portfolio, charlie):
        for query in (
            f"collab={charlie.id}",
            "solution=nope",
            "mandat=x",
            "achat=peut-etre",
            "view=x",
        ):
            response = alice_client.get(HOME + "?" + query)
            assert response.status_code == 200
            assert len(codes(response)) == 3, query

    def test_mine_is_per_collaborator(self, bob_client, portfolio):
        assert codes(bob_client.get(HOME + "?mine=1")) == ["000003", "00000A"]


class TestSortAndPagination:
    @pytest.fixture
    def many(self, firm_a):
        return [
            ClientFactory(
                firm=firm_a, code=f"K{i:03d}", name=f"Société {chr(65 + (i * 7) % 26)}{i:03d}"
            )
            for i in range(30)
        ]

    def test_it_sorts_by_name_then_code_both_ways(self, alice_client, many):
        by_name = sorted(many, key=lambda c: (c.sort_name, c.id))
        assert codes(alice_client.get(HOME + "?per_page=50")) == [c.code for c in by_name]
        assert codes(alice_client.get(HOME + "?per_page=50&sort=-name")) == [
            c.code for c in reversed(by_name)
        ]
        assert codes(alice_client.get(HOME + "?per_page=50&sort=code")) == sorted(
            c.code for c in many
        )
        assert codes(alice_client.get(HOME + "?per_page=50&sort=-code")) == sorted(
            (c.code for c in many), reverse=True
        )

    def test_it_breaks_ties_on_id(self, alice_client, firm_a):
        same = [ClientFactory(firm=firm_a, name="Même nom") for _ in range(5)]
        assert codes(alice_client.get(HOME)) == [c.code for c in same]

    def test_it_pages(self, alice_client, many):
        response = alice_client.get(HOME + "?per_page=25")
        assert page_range(response) == "1-25 sur 30"
        assert len(codes(response)) == 25
        second = alice_client.get(HOME + "?per_page=25&page=2")
        assert page_range(second) == "26-30 sur 30"
        assert set(codes(response)).isdisjoint(codes(second))
        assert page_range(alice_client.get(HOME)) == "1-10 sur 30"
        html = response.content.decode()
        assert (
            'href="/?page=2&amp;per_page=25"' in html
            and 'hx-get="/?page=2&amp;per_page=25"' in html
        )

    @pytest.mark.parametrize(
        "query,expected",
        [
            ("page=999", "21-30 sur 30"),
            ("page=-3", "1-10 sur 30"),
            ("page=abc", "1-10 sur 30"),
            ("per_page=1000000", "1-10 sur 30"),
            ("per_page=0", "1-10 sur 30"),
            ("sort=password", "1-10 sur 30"),
            ("sort=-id;DROP TABLE", "1-10 sur 30"),
            # Past a bigint: the last page, searching or not.
            ("page=99999999999999999999999", "21-30 sur 30"),
            ("q=societe&page=99999999999999999999999", "21-30 sur 30"),
            ("q=zz&page=99999999999999999999999", "0-0 sur 0"),  # a short prefix
            ("collab=99999999999999999999", "1-10 sur 30"),
        ],
    )
    def test_it_tolerates_bad_paging(self, alice_client, many, query, expected):
        response = alice_client.get(HOME + "?" + query)
        assert response.status_code == 200
        assert page_range(response) == expected

    @pytest.mark.parametrize("sort", ["name", "-name", "code", "-code", "mandat", "-shine"])
    @pytest.mark.parametrize("per_page", [10, 25])
    def test_every_page_is_a_slice_of_the_whole_order(self, alice_client, many, sort, per_page):
        # Pages past the middle are read from the other end of the index.
        whole = codes(alice_client.get(f"{HOME}?per_page=100&sort={sort}"))
        assert len(whole) == 30
        pages = []
        for number in range(1, 5):
            pages += codes(
                alice_client.get(f"{HOME}?per_page={per_page}&sort={sort}&page={number}")
            )
        last = -(-30 // per_page)
        assert pages[:30] == whole and len(pages) == 30 + (4 - last) * (30 - (last - 1) * per_page)

    @pytest.mark.parametrize("sort", ["name", "-code"])
    def test_a_search_pages_and_clamps_in_one_statement(
        self, alice_client, many, firm_a, sort, django_assert_num_queries
    ):
        ClientFactory(firm=firm_a, code="Z999", name="Autre chose")
        whole = codes(alice_client.get(f"{HOME}?q=societe&per_page=100&sort={sort}"))
        assert len(whole) == 30 and "Z999" not in whole
        third = alice_client.get(f"{HOME}?q=societe&page=3&sort={sort}")
        assert page_range(third) == "21-30 sur 30" and codes(third) == whole[20:]
        beyond = alice_client.get(f"{HOME}?q=societe&page=99&sort={sort}")
        assert page_range(beyond) == "21-30 sur 30" and codes(beyond) == whole[20:]
        # The matches' count and the page's ids come from one statement.
        with django_assert_num_queries(COLD_QUERIES):
            alice_client.get(f"{HOME}?q=societe&page=2&sort={sort}&view=collecte")
        with django_assert_num_queries(QUERIES):
            alice_client.get(f"{HOME}?q=societe&page=2&sort={sort}")
        nothing = alice_client.get(f"{HOME}?q=introuvable&page=4")
        assert page_range(nothing) == "0-0 sur 0" and codes(nothing) == []

    def test_a_short_prefix_unites_names_and_codes(self, alice_client, many, firm_a):
        both = ClientFactory(firm=firm_a, code="KA1", name="Kappa")  # name and code match
        ClientFactory(firm=firm_a, code="X1", name="Autre")
        whole = codes(alice_client.get(f"{HOME}?q=k&per_page=100&sort=-name"))
        assert len(whole) == 31 and whole.count("KA1") == 1 and "X1" not in whole
        last = alice_client.get(f"{HOME}?q=k&per_page=25&page=2&sort=-name")
        assert page_range(last) == "26-31 sur 31" and codes(last) == whole[25:]
        assert codes(alice_client.get(f"{HOME}?q=ka")) == [both.code]
        csv_codes = [
            r[2]
            for r in csv.reader(
                io.StringIO(
                    b"".join(
                        alice_client.get(
                            reverse("portfolio_export", args=["csv"]) + "?q=k&sort=-name"
                        ).streaming_content
                    ).decode("utf-8-sig")
                ),
                delimiter=";",
            )
        ][1:]
        assert csv_codes == whole

    def test_htmx_gets_only_the_results(self, alice_client, many):
        response = alice_client.get(HOME + "?page=2", headers={"HX-Request": "true"})
        html = response.content.decode()
        assert "<html" not in html and 'data-testid="portfolio-table"' in html
        assert page_range(response) == "11-20 sur 30"
        restore = alice_client.get(
            HOME + "?page=2", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
        )
        assert "<html" in restore.content.decode()

    def test_the_state_lives_in_the_links(self, alice_client, many):
        html = alice_client.get(
            HOME + "?view=collecte&q=soc&per_page=25&sort=-code"
        ).content.decode()
        assert (
            'href="/?q=soc&amp;sort=-code&amp;per_page=25"' in html
        )  # Equipement tab keeps the rest
        assert 'name="view" value="collecte" form="portfolio-filters"' in html
        assert 'name="sort" value="-code" form="portfolio-filters"' in html


class TestQueries:
    @pytest.fixture
    def hundred(self, firm_a, alice, bob, catalogue):
        for i in range(100):
            client = ClientFactory(firm=firm_a, code=f"Q{i:03d}")
            ContactFactory(client=client)
            ContactFactory(client=client)
            assign(client, alice if i % 2 else bob)
            equip(client, catalogue["abby"], Slot.ACHAT)
            equip(client, catalogue["bim"], Slot.VENTE)
            if i % 3 == 0:  # an activated Shine: its hover card needs the billing mode
                client.shine_status = ShineStatus.ACTIVATED
                client.save()
                equip(client, catalogue["shine"], Slot.VENTE, "Start")
                activated_invitation(client, "cabinet" if i % 2 else "shine")

    @pytest.mark.parametrize("view", ["equipement", "collecte"])
    def test_the_query_count_does_not_grow_with_the_page(
        self, alice_client, hundred, django_assert_num_queries, view
    ):
        alice_client.get(HOME)  # warm caches (content types, session)
        rowcache.clear()
        with django_assert_num_queries(COLD_QUERIES):
            assert len(codes(alice_client.get(f"{HOME}?per_page=10&view={view}"))) == 10
        with django_assert_num_queries(COLD_QUERIES):  # 90 rows not rendered yet
            cold = tbody(alice_client.get(f"{HOME}?per_page=100&view={view}"))
        with django_assert_num_queries(QUERIES):  # every row rendered at its version
            assert tbody(alice_client.get(f"{HOME}?per_page=100&view={view}")) == cold
        if view == "equipement":
            html = alice_client.get(f"{HOME}?per_page=100&view={view}").content.decode()
            assert html.count('data-testid="shine-card"') == 34


class TestTenancy:
    def test_charlie_never_sees_firm_a(self, charlie_client, portfolio, firm_b):
        ClientFactory(firm=firm_b, code="B001", name="Bravo Boulangerie")
        for query in (
            "",
            "?view=collecte",
            "?q=eckhout",
            "?q=000003",
            "?q=martin",
            "?q=845236",
            "?mine=1",
            "?solution=shine",
            "?per_page=100",
            "?q=ec",
        ):
            response = charlie_client.get(HOME + query)
            assert response.status_code == 200
            assert "000003" not in codes(response) and "ECKHOUT" not in response.content.decode()
        assert codes(charlie_client.get(HOME)) == ["B001"]
        for fmt in ("csv", "xlsx"):
            response = charlie_client.get(reverse("portfolio_export", args=[fmt]))
            content = (
                b"".join(response.streaming_content) if response.streaming else response.content
            )
            assert b"ECKHOUT" not in content and b"000003" not in content

    def test_charlie_cannot_filter_by_alices_id(self, charlie_client, portfolio, alice, firm_b):
        ClientFactory(firm=firm_b, code="B001")
        assert codes(charlie_client.get(HOME + f"?collab={alice.id}")) == ["B001"]

    def test_it_needs_a_signed_in_collaborator(self, client, portfolio):
        response = client.get(HOME)
        assert response.status_code == 302 and "/compte/login/" in response["Location"]
        assert client.get(reverse("portfolio_export", args=["csv"])).status_code == 302

    def test_it_refuses_other_methods(self, alice_client, portfolio):
        assert alice_client.post(HOME).status_code == 405
        assert alice_client.put(reverse("portfolio_export", args=["csv"])).status_code == 405

    def test_an_unknown_export_format_is_a_404(self, alice_client, portfolio):
        assert alice_client.get(reverse("portfolio_export", args=["pdf"])).status_code == 404


class TestExport:
    def test_it_runs_its_search_before_the_response_exists(self, alice_client, portfolio, firm_a):
        """A statement that fails is the request's error, never a 200 whose stream dies
        (the middleware refuses a NUL in `q`; the query itself is given one here)."""
        query = PortfolioQuery(firm_id=firm_a.id, params=Params(q="eck\x00hout"))
        lookups = Lookups.for_firm(firm_a)
        with pytest.raises(DataError), transaction.atomic():
            export.csv_response(query, firm_a, lookups)

    def test_it_exports_csv_with_bom_and_semicolons(self, alice_client, portfolio):
        response = alice_client.get(reverse("portfolio_export", args=["csv"]))
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        raw = b"".join(response.streaming_content).decode("utf-8")
        assert raw.startswith("\ufeffENTREPRISE;FORME JURIDIQUE;CODE CLIENT;SIRET;CONTACT;")
        rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";"))
        assert [r[2] for r in rows[1:]] == ["000003", "000006", "00000A"]
        eck = rows[1]
        assert eck[0] == "ECKHOUT Pascal Et Frères" and "Shine Plus" in eck and "Activé" in eck

    def test_it_exports_the_current_view_and_every_matching_row(self, alice_client, firm_a):
        for i in range(25):
            ClientFactory(firm=firm_a, code=f"E{i:03d}", name=f"Export {i:03d}")
        ClientFactory(firm=firm_a, code="OTHER", name="Autre")
        response = alice_client.get(
            reverse("portfolio_export", args=["csv"]) + "?q=export&view=collecte&per_page=10&page=2"
        )
        raw = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
        assert "EMAIL DE COLLECTE" in rows[0] and "ACHAT" not in rows[0]
        assert len(rows) == 26 and "OTHER" not in raw

    def test_it_neutralises_formulas(self, alice_client, firm_a, catalogue):
        for i, evil in enumerate(['=HYPERLINK("http://x")', "+33 6", "-2+3", "@SUM(A1)"]):
            ClientFactory(firm=firm_a, code=f"F{i}", name=evil, notes=evil)
        raw = b"".join(
            alice_client.get(reverse("portfolio_export", args=["csv"])).streaming_content
        ).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(raw), delimiter=";"))[1:]
        names = {r[0] for r in rows}
        assert names == {'\'=HYPERLINK("http://x")', "'+33 6", "'-2+3", "'@SUM(A1)"}
        response = alice_client.get(reverse("portfolio_export", args=["xlsx"]))
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        values = [row for row in sheet.iter_rows(values_only=True)]
        assert values[0][0] == "ENTREPRISE" and values[0][-1] == "NOTES"
        assert {v[0] for v in values[1:]} == names
        assert all(not str(v[-1]).startswith(("=", "+", "-", "@")) for v in values[1:])


def test_a_page_and_its_fragment_say_they_vary_on_hx_request(alice_client, client_a):
    """One URL, two answers: the browser must not serve the fragment to a navigation."""
    for headers in ({}, {"HX-Request": "true"}):
        response = alice_client.get("/?page=1", headers=headers)
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"] and "Cookie" in response["Vary"]
    fragment = alice_client.get("/?page=1", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
