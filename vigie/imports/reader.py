"""Reading CSV and XLSX files as French spreadsheets export them.

CSV: `;`, `,` or tab separators, UTF-8 with or without BOM or Windows-1252, quoted
fields spanning lines. XLSX: read-only, formulas are read as their text, never
evaluated. Rows come out as lists of strings; line numbers are spreadsheet rows
(the header is line 1).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
NOT_A_SPREADSHEET = "Ce fichier n'est ni un CSV ni un classeur Excel (.xlsx)."
BROKEN_XLSX = (
    "Ce classeur Excel est illisible ou incomplet : enregistrez-le de nouveau et réessayez."
)
EMPTY_FILE = "Ce fichier est vide."
XLS_OLD = "Les classeurs Excel 97-2003 (.xls) ne sont pas pris en charge : enregistrez-le en .xlsx ou en CSV."


class UnreadableFile(Exception):
    pass


@dataclass
class FileFormat:
    kind: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""


def sniff(head: bytes) -> FileFormat:
    """Decide from the content (never the name) whether this is a CSV or an XLSX."""
    if not head.strip():
        raise UnreadableFile(EMPTY_FILE)
    if head.startswith(b"PK\x03\x04"):
        return FileFormat("xlsx")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(XLS_OLD)
    if b"\x00" in head:
        raise UnreadableFile(NOT_A_SPREADSHEET)
    encoding = _encoding(head)
    text = head.decode(encoding, errors="ignore")
    return FileFormat("csv", encoding=encoding, delimiter=_delimiter(text))


def _encoding(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the end of the sample
            return "utf-8"
    try:
        head.decode("cp1252")
    except UnicodeDecodeError:
        raise UnreadableFile(NOT_A_SPREADSHEET) from None
    return "cp1252"


def _delimiter(text: str) -> str:
    """The separator that splits the header line the most (outside quotes)."""
    header = next(csv.reader(io.StringIO(text, newline=""), delimiter="\x1f"), [""])
    line = header[0] if header else ""
    counts = {d: line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        try:
            return csv.Sniffer().sniff(text[:4096], delimiters=";,\t").delimiter
        except csv.Error:
            return ";"
    return best


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y") if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def iter_rows(path: str, fmt: FileFormat) -> Iterator[list[str]]:
    """Every row of the file, the header first."""
    if fmt.kind == "csv":
        with open(path, encoding=fmt.encoding, newline="", errors="strict") as handle:
            try:
                for row in csv.reader(handle, delimiter=fmt.delimiter):
                    yield [cell.strip() for cell in row]
            except UnicodeDecodeError:
                raise UnreadableFile(
                    "Ce fichier mélange plusieurs encodages de caractères : "
                    "enregistrez-le en CSV UTF-8 et réessayez."
                ) from None
            except csv.Error as exc:
                raise UnreadableFile(f"Ce fichier CSV est mal formé : {exc}.") from None
        return
    yield from _xlsx_rows(path)


def _xlsx_rows(path: str) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        if not zipfile.is_zipfile(path):
            raise UnreadableFile(BROKEN_XLSX)
        with zipfile.ZipFile(path) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise UnreadableFile(NOT_A_SPREADSHEET)
        # data_only=False: a formula comes out as its text ("=A1*2"), never a value.
        workbook = load_workbook(path, read_only=True, data_only=False)
    except UnreadableFile:
        raise
    except Exception:
        raise UnreadableFile(BROKEN_XLSX) from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [cell_text(v) for v in values]
    except Exception:
        raise UnreadableFile(BROKEN_XLSX) from None
    finally:
        workbook.close()


def read_head(path: str, fmt: FileFormat, count: int = 11) -> list[list[str]]:
    rows = []
    for row in iter_rows(path, fmt):
        rows.append(row)
        if len(rows) >= count:
            break
    return rows


def count_rows(path: str, fmt: FileFormat) -> int:
    """Data rows (after the header), blank rows excluded."""
    return sum(1 for row in iter_rows(path, fmt) if any(row)) - 1
