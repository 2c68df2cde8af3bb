"""A collaborator searches the portfolio, then exports the result to Excel: codes and
SIRETs stay text (« 000246 » stays « 000246 », a SIRET keeps its 14 digits), typed as
text in the workbook so that Excel neither drops the zeros nor shows 8,45237E+13."""

from __future__ import annotations

import io

from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import ClientFactory


def test_the_xlsx_keeps_codes_and_sirets_as_text(alice_client, firm_a):
    ClientFactory(
        firm=firm_a, code="000246", name="Cabinet dentaire de l'Oasis", siret="84523656100013"
    )
    ClientFactory(firm=firm_a, code="000247", name="Boulangerie Élan")
    response = alice_client.get(reverse("portfolio_export", args=["xlsx"]) + "?q=oasis")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, row = [list(r) for r in sheet.iter_rows(max_row=2)]
    columns = {cell.value: i for i, cell in enumerate(header)}
    code, siret = row[columns["CODE CLIENT"]], row[columns["SIRET"]]
    assert (code.value, siret.value) == ("000246", "84523656100013")
    assert code.data_type == siret.data_type == "s"
    assert code.number_format == siret.number_format == "@"  # Excel's « Texte »
    assert sheet.max_row == 2
