"""The portfolio's row is the one Jinja2 template (templates/jinja2/clients/portfolio_row.html):
it escapes what it shows as Django's templates do, and draws the same marks."""

from __future__ import annotations

import pytest
from django.template import engines
from django.template.loader import render_to_string

ROW = "clients/portfolio_row.html"


def _row(**values) -> dict:
    base = {
        "id": 1,
        "code": "000001",
        "name": "Client",
        "legal_form": "SARL",
        "collaborators": [],
        "contact": "",
        "slots": [("achat", {}), ("vente", {}), ("caisse", {})],
        "shine_form": False,
        "shine_status": "",
        "shine_label": "",
        "cabinet_mode": False,
        "url": "/clients/000001/",
        "mandate_url": "",
        "mandate": "",
        "pa": "",
        "registers": {"status": "non_verifie", "label": "Non vérifié", "badge": "", "title": ""},
        "sensitised": False,
        "sensitised_on": "",
        "notes": "",
        "notes_short": "",
        "flux": ["", "", "", "", ""],
        "collect_email": "",
        "collect_email_short": "",
        "cabinet": [],
        "cabinet_more": 0,
    }
    return {**base, **values}


def _render(view: str, **values) -> str:
    return engines["jinja2"].get_template(ROW).render({"r": _row(**values), "view": view})


@pytest.mark.parametrize("view", ["equipement", "collecte"])
def test_it_escapes_what_a_client_typed(view):
    html = _render(
        view,
        name='<script>alert("x")</script>',
        notes="<b>n</b>",
        notes_short="<b>n</b>",
        collect_email='"><img src=x>',
        collect_email_short='"><img src=x>',
        flux=["<i>", "", "", "", ""],
    )
    assert "<script>" not in html and "<b>" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("yes", [True, False])
def test_its_marks_are_the_ones_of_the_other_templates(yes):
    html = _render("equipement", sensitised=yes)
    assert render_to_string("includes/mark.html", {"yes": yes}).strip() in html
