"""Export of the current portfolio view (every matching row) to CSV and XLSX.

The rows and columns are written once (`rows`, `headers`); the inline download streams
them (`csv_response`, `xlsx_response`) and the worker writes the same bytes to a file
(`write_file`) for the exports too large for a request (vigie.exports)."""

from __future__ import annotations

import csv
import itertools
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

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


def filename(view: str, ext: str, day=None) -> str:
    """`portefeuille-<view>-<date>.<ext>`: the download's name, inline or prepared."""
    return f"portefeuille-{view}-{day or timezone.localdate():%Y-%m-%d}.{ext}"


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(view: str, lines: Iterable[list[str]]) -> Iterator[str]:
    """The CSV for Excel, line by line: a BOM, the header, then each row, `;`-separated."""
    writer = csv.writer(_Echo(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow(headers(view))
    for cells in lines:
        yield writer.writerow(cells)


def write_xlsx(view: str, lines: Iterable[list[str]], output: BinaryIO) -> None:
    """The workbook of these rows, codes and SIRETs typed « Texte », saved to `output`."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Portefeuille")
    names = headers(view)
    sheet.append(names)
    text = [i for i, name in enumerate(names) if name in TEXT_COLUMNS]
    for cells in lines:
        for i in text:
            cell = WriteOnlyCell(sheet, value=cells[i])
            cell.number_format = TEXT_FORMAT
            cells[i] = cell
        sheet.append(cells)
    workbook.save(output)


def write_file(fmt: str, view: str, lines: Iterable[list[str]], output: BinaryIO) -> None:
    """The export of `fmt` written to a binary file: byte for byte what the inline
    download sends (the worker's prepared exports, vigie.exports)."""
    if fmt == "csv":
        for text in csv_lines(view, lines):
            output.write(text.encode("utf-8"))
    else:
        write_xlsx(view, lines, output)


def csv_response(query: PortfolioQuery, firm, lookups: Lookups) -> StreamingHttpResponse:
    # The first chunk is read now, before the status line is sent: a statement that
    # fails is this request's error, not a 200 whose download stops mid-way.
    lines = rows(query, firm, lookups)
    first = next(lines, None)
    read = lines if first is None else itertools.chain([first], lines)
    response = StreamingHttpResponse(
        csv_lines(query.params.view, read), content_type=CONTENT_TYPES["csv"]
    )
    response["Content-Disposition"] = content_disposition_header(
        True, filename(query.params.view, "csv")
    )
    return response


def xlsx_response(query: PortfolioQuery, firm, lookups: Lookups) -> FileResponse:
    output = tempfile.TemporaryFile()
    write_xlsx(query.params.view, rows(query, firm, lookups), output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=filename(query.params.view, "xlsx"),
        content_type=CONTENT_TYPES["xlsx"],
    )
