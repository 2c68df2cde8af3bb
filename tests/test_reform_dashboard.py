"""The reform dashboard: figures against a known data set, per collaborator, the weekly
chart read from the history, the links to the portfolio, a constant number of queries."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ClientFactory
from vigie.clients.models import ClientAssignment, ClientEvent, MandateStatus, PaStatus, ShineStatus
from vigie.clients.portfolio.query import Params, PortfolioQuery
from vigie.equipment.models import Equipment, Slot
from vigie.reform import dashboard, services


@pytest.fixture
def portfolio(firm_a, firm_b, bob, alice, catalogue):
    """Ten active clients of firm A (and noise that must not count)."""
    c = [ClientFactory(firm=firm_a, code=f"D{i:03d}") for i in range(10)]
    for client in c[:4]:
        client.sensitised = True
    c[0].mandate_status = c[1].mandate_status = MandateStatus.SIGNED
    c[2].mandate_status = MandateStatus.SENT
    c[3].mandate_status = MandateStatus.REVOKED
    for client in c[4:7]:
        client.pa_status, client.pa_name = PaStatus.REGISTERED, "PA Exemple"
    c[7].pa_status = PaStatus.INVITED
    c[0].shine_status = ShineStatus.ACTIVATED  # equipped
    for client in c:
        client.save()

    def equip(client, slug, slot=Slot.VENTE):
        Equipment.objects.create(firm=firm_a, client=client, solution=catalogue[slug], slot=slot)

    equip(c[0], "shine")
    equip(c[4], "abby")  # equipped: a declared VENTE solution
    equip(c[5], "non-concerne")  # not equipped
    equip(c[6], "shine")  # Shine invited but not activated: not equipped
    equip(c[7], "abby", Slot.ACHAT)  # ACHAT only: not equipped
    for client in (c[0], c[2], c[4], c[5]):
        ClientAssignment.objects.create(firm=firm_a, client=client, user=bob)
    # Noise: an archived client of firm A and a client of firm B, both "done".
    ClientFactory(firm=firm_a, sensitised=True, mandate_status="signe", archived_at=timezone.now())
    ClientFactory(firm=firm_b, sensitised=True, mandate_status="signe", pa_status="inscrit")
    return c


def _by_key(figures):
    return {f.key: (f.done, f.total, f.percent) for f in figures}


def test_it_counts_the_firm(firm_a, portfolio):
    figures = _by_key(dashboard.firm_figures(firm_a))
    assert figures == {
        "sensitised": (4, 10, 40),
        "mandate": (2, 10, 20),
        "pa": (3, 10, 30),
        "equipped": (2, 10, 20),
    }


def test_it_counts_per_collaborator(firm_a, portfolio, alice, bob):
    people = {p.user: p for p in dashboard.collaborator_figures(firm_a)}
    assert set(people) == {alice, bob}
    assert people[bob].total == 4
    assert _by_key(people[bob].figures) == {
        "sensitised": (2, 4, 50),
        "mandate": (1, 4, 25),
        "pa": (2, 4, 50),
        "equipped": (2, 4, 50),
    }
    assert people[alice].total == 0
    assert all(f.percent == 0 for f in people[alice].figures)


def _count(firm, query: dict) -> int:
    return PortfolioQuery(firm_id=firm.id, params=Params.from_query(query)).count()


def test_each_figure_lists_exactly_the_clients_it_counts(firm_a, portfolio, alice, bob):
    for figure in dashboard.firm_figures(firm_a):
        assert _count(firm_a, figure.done_query) == figure.done, figure.key
        assert _count(firm_a, figure.todo_query) == figure.todo, figure.key
    for person in dashboard.collaborator_figures(firm_a):
        collab = {"collab": str(person.user.id)}
        assert _count(firm_a, collab) == person.total
        for figure in person.figures:
            # The cell shows `done`: its link lists those clients, not the others.
            assert _count(firm_a, {**figure.done_query, **collab}) == figure.done, figure.key
            assert _count(firm_a, {**figure.todo_query, **collab}) == figure.todo, figure.key


def test_the_weekly_chart_reads_the_history_backwards(firm_a, portfolio, alice):
    # Two clients were already informed before any history (imported); two more now.
    extra = [ClientFactory(firm=firm_a) for _ in range(2)]
    for client in extra:
        services.client_sensitise(client=client, actor=alice)
    # One of them three weeks ago.
    three_weeks_ago = timezone.now() - timedelta(weeks=3)
    ClientEvent.objects.filter(client=extra[0]).update(at=three_weeks_ago)
    figures = dashboard.firm_figures(firm_a)
    weeks = dashboard.weekly_progress(firm_a, figures, weeks=12)
    assert len(weeks) == 12
    assert weeks[-1].start == timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    assert [w.values["sensitised"] for w in weeks] == [4] * 8 + [5, 5, 5] + [6]
    # A signed then revoked mandate this week: no net change.
    ClientEvent.objects.create(
        firm=firm_a, client=portfolio[0], kind="reform.mandate_signed", summary=""
    )
    ClientEvent.objects.create(
        firm=firm_a, client=portfolio[0], kind="reform.mandate_revoked", summary=""
    )
    weeks = dashboard.weekly_progress(firm_a, figures, weeks=12)
    assert [w.values["mandate"] for w in weeks] == [2] * 12


def test_the_chart_axis_is_scaled_to_the_portfolio():
    from vigie.reform.chart import _axis

    # (top, step): at most five round steps, the top the first multiple at or above.
    assert [_axis(v) for v in (0, 3, 5, 9, 37, 4537, 100_000)] == [
        (4, 1),
        (4, 1),
        (5, 1),
        (10, 2),
        (40, 10),
        (5000, 1000),
        (100_000, 20_000),
    ]
    assert _axis(26) == (30, 10) and _axis(130) == (150, 50) and _axis(2400) == (2500, 500)


def test_the_chart_ticks_climb_by_the_step_to_the_top():
    from vigie.reform.chart import build

    weeks = [
        dashboard.Week(
            start=date(2026, 1, 5), values=dict.fromkeys(("sensitised", "mandate", "pa"), 3)
        )
    ]
    chart = build(weeks, 4537)
    assert [t["label"] for t in chart["ticks"]] == ["0", "1000", "2000", "3000", "4000", "5000"]


def test_days_left():
    assert dashboard.days_left(date(2027, 8, 31)) == 1
    assert dashboard.days_left(date(2026, 9, 1)) == 365
    assert dashboard.days_left(date(2028, 1, 1)) == 0


def test_the_page_shows_figures_chart_and_links(alice_client, firm_a, portfolio, bob):
    response = alice_client.get(reverse("reform_dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tableau de bord réforme" in html
    assert "jours avant le 1er septembre 2027" in html
    assert "obligatoire pour toutes les entreprises depuis le 1er septembre 2026" in html
    assert ",5" not in html.split("<svg")[1].split("</svg>")[0]  # SVG numbers use a dot
    assert "<svg" in html and "<polyline" in html and "<script" not in html.split("<main")[1]
    figures = {f.key: f for f in response.context["figures"]}
    query = dict(parse_qsl(urlsplit(figures["mandate"].url).query))
    assert urlsplit(figures["mandate"].url).path == "/" and query == {"mandat": "signe"}
    todo = dict(parse_qsl(urlsplit(figures["mandate"].todo_url).query))
    assert todo == {"mandat": "non_signe"}
    # Bob's « équipés » cell opens his equipped clients, not his others.
    assert f'href="/?collab={bob.id}&amp;facturation=oui"' in html
    assert f'href="/?collab={bob.id}&amp;facturation=non"' not in html
    # Each link opens the portfolio with exactly those clients.
    page = alice_client.get(figures["pa"].url).content.decode()
    assert '<span class="range" data-testid="page-range">1-3 sur 3</span>' in page
    page = alice_client.get(figures["pa"].todo_url).content.decode()
    assert '<span class="range" data-testid="page-range">1-7 sur 7</span>' in page


def test_the_page_costs_a_constant_number_of_queries(
    alice_client, firm_a, portfolio, django_assert_max_num_queries
):
    alice_client.get(reverse("reform_dashboard"))
    with django_assert_max_num_queries(10):
        alice_client.get(reverse("reform_dashboard"))
    ClientFactory.create_batch(20, firm=firm_a, sensitised=True)
    with django_assert_max_num_queries(10):
        response = alice_client.get(reverse("reform_dashboard"))
    assert response.context["figures"][0].done == 24
