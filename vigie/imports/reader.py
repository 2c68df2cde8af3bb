"""Reading CSV and XLSX files as French spreadsheets export them.

CSV: `;`, `,` or tab separators, UTF-8 with or without BOM or Windows-1252, quoted
fields spanning lines. XLSX: read-only, formulas are read as their text, never
evaluated. Rows come out as lists of strings; line numbers are spreadsheet rows
(the header is line 1).

Every read is bounded whatever the file claims: at most `MAX_ROWS` data rows and
`max_col` columns, an XLSX's ZIP parts checked against size caps before openpyxl
inflates any of them, and its `<dimension>` never used as the extent to read (a 5 kB
workbook can claim A1:XFD1048576, which openpyxl would pad cell by cell).
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000  # data rows after the header: what bench/import_bench.py times
MAX_COLUMNS = 100  # the most any read keeps; an XLSX import reads only up to its mapping's last
# An XLSX is a ZIP of XML parts; XML usually compresses 5 to 20 times.
MAX_PARTS = 1000
MAX_PART_BYTES = 80 * 1024 * 1024
MAX_UNZIPPED_BYTES = 120 * 1024 * 1024
MAX_RATIO = 100  # for parts over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024

NOT_A_SPREADSHEET = "Ce fichier n'est ni un CSV ni un classeur Excel (.xlsx)."
BROKEN_XLSX = (
    "Ce classeur Excel est illisible ou incomplet : enregistrez-le de nouveau et réessayez."
)
EMPTY_FILE = "Ce fichier est vide."
XLS_OLD = "Les classeurs Excel 97-2003 (.xls) ne sont pas pris en charge : enregistrez-le en .xlsx ou en CSV."
TOO_MANY_ROWS = (
    f"Le fichier dépasse {MAX_ROWS:,} lignes : découpez-le en plusieurs fichiers.".replace(",", " ")
)
TOO_BIG_UNZIPPED = (
    "Le fichier est trop volumineux une fois décompressé : découpez-le en plusieurs fichiers."
)
TOO_MANY_PARTS = (
    "Ce classeur Excel contient trop d'éléments : enregistrez la seule feuille des clients "
    "dans un nouveau classeur et réessayez."
)
TOO_SLOW = "La lecture du fichier a pris plus de {duration} : découpez-le en plusieurs fichiers."


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


def iter_rows(
    path: str, fmt: FileFormat, *, max_col: int = MAX_COLUMNS, budget: float | None = None
) -> Iterator[list[str]]:
    """Every row of the file, the header first, cut to `max_col` columns. Raises
    UnreadableFile past `MAX_ROWS` data rows, or once reading has taken `budget` seconds."""
    rows = _csv_rows(path, fmt, max_col) if fmt.kind == "csv" else _xlsx_rows(path, max_col)
    deadline = None if budget is None else time.monotonic() + budget
    with closing(rows):
        for line, row in enumerate(rows, start=1):
            if line > MAX_ROWS + 1:
                raise UnreadableFile(TOO_MANY_ROWS)
            if deadline is not None and line % 1000 == 0 and time.monotonic() > deadline:
                raise UnreadableFile(TOO_SLOW.format(duration=_duration(budget)))
            yield row


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def _csv_rows(path: str, fmt: FileFormat, max_col: int) -> Iterator[list[str]]:
    with open(path, encoding=fmt.encoding, newline="", errors="strict") as handle:
        try:
            for row in csv.reader(handle, delimiter=fmt.delimiter):
                yield [cell.strip() for cell in row[:max_col]]
        except UnicodeDecodeError:
            raise UnreadableFile(
                "Ce fichier mélange plusieurs encodages de caractères : "
                "enregistrez-le en CSV UTF-8 et réessayez."
            ) from None
        except csv.Error as exc:
            raise UnreadableFile(f"Ce fichier CSV est mal formé : {exc}.") from None


def check_archive(path: str) -> None:
    """Refuse an XLSX whose parts would inflate past the caps, before anything inflates
    them. The sizes are the ZIP's central directory's, and they hold: zipfile stops a part
    at its declared size, and a part that would have inflated further fails its CRC."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise UnreadableFile(BROKEN_XLSX) from None
    if len(parts) > MAX_PARTS:
        raise UnreadableFile(TOO_MANY_PARTS)
    total = 0
    for part in parts:
        total += part.file_size
        if part.file_size > MAX_PART_BYTES or total > MAX_UNZIPPED_BYTES:
            raise UnreadableFile(TOO_BIG_UNZIPPED)
        if part.file_size > RATIO_FLOOR and part.file_size > MAX_RATIO * part.compress_size:
            raise UnreadableFile(TOO_BIG_UNZIPPED)
    if "xl/workbook.xml" not in {part.filename for part in parts}:
        raise UnreadableFile(NOT_A_SPREADSHEET)


def _xlsx_rows(path: str, max_col: int) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    check_archive(path)
    try:
        # data_only=False: a formula comes out as its text ("=A1*2"), never a value.
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception:
        raise UnreadableFile(BROKEN_XLSX) from None
    try:
        sheet = workbook.worksheets[0]
        # A declared extent past the cap is refused at once; a smaller one is not believed
        # either: the rows are read as they come, up to one past the cap (to tell it).
        if (sheet.max_row or 0) > MAX_ROWS + 1:
            raise UnreadableFile(TOO_MANY_ROWS)
        sheet.reset_dimensions()
        for values in sheet.iter_rows(max_row=MAX_ROWS + 2, max_col=max_col, values_only=True):
            if values.count(None) == len(values):  # a blank or missing row: no cell to convert
                yield []
                continue
            row = [cell_text(v) for v in values]
            while row and not row[-1]:
                row.pop()
            yield row
    except UnreadableFile:
        raise
    except Exception:
        raise UnreadableFile(BROKEN_XLSX) from None
    finally:
        workbook.close()


def survey(
    path: str, fmt: FileFormat, *, head: int, budget: float | None = None
) -> tuple[list[list[str]], int]:
    """The first `head` rows (the header first) and the number of data rows after the
    header, blank rows excluded, in one read."""
    rows: list[list[str]] = []
    filled = 0
    for row in iter_rows(path, fmt, budget=budget):
        if len(rows) < head:
            rows.append(row)
        if any(row):
            filled += 1
    return rows, filled - 1
