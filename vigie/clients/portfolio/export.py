"""Export of the current portfolio view (every matching row) to CSV and XLSX."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterator

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from vigie.clients.models import MandateStatus, PaStatus
from vigie.clients.portfolio.query import Lookups, PortfolioQuery, Row, load_rows
from vigie.registries.rules import STATUS_LABELS

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Identifiers made of digits: cells typed « Texte » in the workbook, or Excel drops a
# code's leading zeros and shows a SIRET as 8,45237E+13 once the cell is edited.
TEXT_COLUMNS = ("CODE CLIENT", "SIRET")
TEXT_FORMAT = "@"


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with `'`."""
    value = value or ""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _labels(items) -> str:
    return ", ".join(item.label for item in items)


def _contacts(row: Row) -> str:
    return ", ".join(row.contacts)


def _collaborators(row: Row) -> str:
    return ", ".join(u.full_name or u.email for u in row.collaborators)


def _mandate(row: Row) -> str:
    status = row.client.mandate_status
    return MandateStatus(status).label if status else ""


def _pa(row: Row) -> str:
    client = row.client
    if client.pa_status == PaStatus.REGISTERED:
        return client.pa_name or PaStatus.REGISTERED.label
    return PaStatus(client.pa_status).label


COMMON: list[tuple[str, Callable[[Row], str]]] = [
    ("ENTREPRISE", lambda r: r.client.name),
    ("FORME JURIDIQUE", lambda r: r.client.get_legal_form_display()),
    ("CODE CLIENT", lambda r: r.client.code),
    ("SIRET", lambda r: r.client.siret),
    ("CONTACT", _contacts),
]
COLUMNS: dict[str, list[tuple[str, Callable[[Row], str]]]] = {
    "equipement": [
        *COMMON,
        ("CABINET", _collaborators),
        ("ACHAT", lambda r: _labels(r.achat)),
        ("VENTE", lambda r: _labels(r.vente)),
        ("CAISSE", lambda r: _labels(r.caisse)),
        (
            "STATUT SHINE",
            lambda r: r.client.get_shine_status_display() if r.client.shine_status else "",
        ),
        ("MANDAT", _mandate),
        ("INSCRIPTION PA", _pa),
        ("REGISTRES", lambda r: STATUS_LABELS[r.register_status]),
        (
            "DERNIER CONTRÔLE",
            lambda r: f"{timezone.localtime(r.registers_at):%d/%m/%Y}" if r.registers_at else "",
        ),
        ("SENSI. RÉFORME", lambda r: "Oui" if r.client.sensitised else "Non"),
        ("NOTES", lambda r: r.client.notes),
    ],
    "collecte": [
        *COMMON,
        ("RÉCEPTION FLUX", lambda r: r.client.reception_flux),
        ("FLUX ACHAT", lambda r: r.client.flux_achat),
        ("FLUX VENTE", lambda r: r.client.flux_vente),
        ("FLUX BANQUE", lambda r: r.client.flux_banque),
        ("PAIE", lambda r: r.client.paie),
        ("EMAIL DE COLLECTE", lambda r: r.client.collect_email),
        ("CABINET", _collaborators),
    ],
}


def headers(view: str) -> list[str]:
    return [header for header, _ in COLUMNS[view]]


def rows(query: PortfolioQuery, firm, lookups: Lookups) -> Iterator[list[str]]:
    """Every matching row as cells, loaded a chunk of ids at a time."""
    columns = COLUMNS[query.params.view]
    for ids in query.iter_id_chunks():
        for row in load_rows(firm, ids, lookups):
            yield [neutralise(str(value(row))) for _, value in columns]


def _filename(view: str, ext: str) -> str:
    return f"portefeuille-{view}-{timezone.localdate():%Y-%m-%d}.{ext}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(query: PortfolioQuery, firm, lookups: Lookups) -> StreamingHttpResponse:
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    # The first chunk is read now, before the status line is sent: a statement that
    # fails is this request's error, not a 200 whose download stops mid-way.
    lines = rows(query, firm, lookups)
    first = next(lines, None)

    def stream() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(headers(query.params.view))
        if first is not None:
            yield writer.writerow(first)
        for cells in lines:
            yield writer.writerow(cells)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, _filename(query.params.view, "csv")
    )
    return response


def xlsx_response(query: PortfolioQuery, firm, lookups: Lookups) -> FileResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Portefeuille")
    names = headers(query.params.view)
    sheet.append(names)
    text = [i for i, name in enumerate(names) if name in TEXT_COLUMNS]
    for cells in rows(query, firm, lookups):
        for i in text:
            cell = WriteOnlyCell(sheet, value=cells[i])
            cell.number_format = TEXT_FORMAT
            cells[i] = cell
        sheet.append(cells)
    output = tempfile.TemporaryFile()
    workbook.save(output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=_filename(query.params.view, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
