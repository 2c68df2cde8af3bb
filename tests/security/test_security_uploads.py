"""Uploads judged by their content and size, never by their name: what tests/test_imports.py
and tests/test_reform_views.py do not already try (a PNG as .csv, 50 MB and empty imports,
empty and non-PDF mandates are covered there)."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterable
from email.message import Message

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from vigie.clients.models import Client
from vigie.imports import reader
from vigie.imports.models import ImportJob, Status
from vigie.imports.services import import_create
from vigie.reform import services as reform
from vigie.reform.models import Mandate

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)


def _zip(**files) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _import(client, content: bytes, name: str):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(reverse("imports"), {"file": upload})


IMPORT_REFUSALS = {
    "zip renamed .xlsx": (_zip(**{"readme.txt": "hello"}), "clients.xlsx"),
    "png renamed .xlsx": (PNG, "clients.xlsx"),
    "pdf renamed .csv": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + bytes(64), "c.csv"),
    "zero bytes": (b"", "clients.csv"),
    "30 MB": (b"Code client;Raison sociale\n" + b"C;X\n" * (30 * 1024 * 1024 // 4), "c.csv"),
}


@pytest.mark.parametrize("case", sorted(IMPORT_REFUSALS))
def test_the_import_refuses(case, world, alice_client):
    before = ImportJob.objects.count()
    content, name = IMPORT_REFUSALS[case]
    response = _import(alice_client, content, name)
    assert response.status_code in (400, 413, 422), case
    assert 'role="alert"' in response.content.decode() or "error" in response.content.decode()
    assert ImportJob.objects.count() == before


@pytest.fixture
def sent(world, alice):
    """A2: firm A's client with a mandate waiting for its signed copy."""
    reform.mandate_revoke(client=world.client, actor=alice, reason="Renvoi")
    world.client.refresh_from_db()
    return reform.mandate_send(client=world.client, actor=alice)


def _pdf(sent) -> bytes:
    return sent.document.read()


def _upload(client, code, content, name="signe.pdf"):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(reverse("reform_mandate_upload", args=[code]), {"file": upload})


def test_the_signed_mandate_refuses_disguised_files(world, sent, alice_client, settings):
    pdf = _pdf(sent)
    cases = {
        "png renamed .pdf": PNG,
        "zip renamed .pdf": _zip(**{"a.txt": "x"}),
        "html renamed .pdf": b"<html><script>alert(1)</script></html>",
        "header after junk": b"<script>alert(1)</script>\n" + pdf,
        "a PDF header and nothing readable": b"%PDF-1.7\n<script>alert(1)</script>\n%%EOF",
        "30 MB": pdf + b"\n%" + b"x" * (30 * 1024 * 1024),
    }
    for case, content in cases.items():
        response = _upload(alice_client, world.client.code, content)
        assert response.status_code in (400, 413), case
        sent.refresh_from_db()
        assert sent.state == "envoye" and not sent.signed_document, case


def test_a_pdf_polyglot_is_only_ever_served_as_a_pdf_download(world, sent, alice_client):
    """A real PDF carrying HTML after its end: accepted (it is a PDF), but never rendered
    by the browser as a page of our origin."""
    polyglot = _pdf(sent) + b"\n<html><script>alert(document.cookie)</script></html>\n"
    response = _upload(alice_client, world.client.code, polyglot)
    assert response.status_code in (200, 302)
    mandate = Mandate.objects.get(pk=sent.pk)
    assert mandate.signed_document.name.endswith(".pdf")
    assert (
        "signe" in mandate.signed_document.name and "signe.pdf" not in mandate.signed_document.name
    )
    download = alice_client.get(reverse("reform_mandate_download", args=[world.client.code]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in download["Content-Security-Policy"]


def test_uploaded_names_never_reach_the_disk(world, sent, alice_client):
    response = _upload(alice_client, world.client.code, _pdf(sent), name="../../../etc/passwd.pdf")
    assert response.status_code in (200, 302)
    name = Mandate.objects.get(pk=sent.pk).signed_document.name
    assert ".." not in name and "passwd" not in name
    response = _import(
        alice_client,
        b"Code client;Raison sociale\nC1;X\n",
        "../../evil.csv",
    )
    job = ImportJob.objects.latest("pk")
    assert ".." not in job.file.name and "evil" not in job.file.name


# XLSX bombs, written part by part: openpyxl would never write them.
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
        f'Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN}" xmlns:r="{OFFICE}"><sheets>'
        '<sheet name="Clients" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
        f'Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def xlsx_row(number: int | None, *values: str) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in values)
    return f'<row r="{number}">{cells}</row>' if number else f"<row>{cells}</row>"


def xlsx_from_parts(sheet: Iterable[str]) -> bytes:
    """A workbook whose first sheet is the concatenation of `sheet`, inflated as it goes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in XLSX_PARTS.items():
            archive.writestr(name, xml)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            for chunk in sheet:
                part.write(chunk.encode())
    return buffer.getvalue()


def dimension_bomb(dimension: str | None = "A1:XFD1048576", last_row: int = 1_048_576) -> bytes:
    """A few kB whose rows are 1, 2 and `last_row`: openpyxl's read-only mode pads every
    row between with as many cells as the declared dimension has columns."""
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    return xlsx_from_parts(
        [
            f'<worksheet xmlns="{MAIN}">{declared}<sheetData>',
            xlsx_row(1, "Code client", "Raison sociale"),
            xlsx_row(2, "B1", "Bombe"),
            xlsx_row(last_row, "B2", "Bombe"),
            "</sheetData></worksheet>",
        ]
    )


def deflate_bomb(megabytes: int = 188) -> bytes:
    """~200 kB that inflate to `megabytes` MB of sheet rows."""

    def sheet():
        yield f'<worksheet xmlns="{MAIN}"><sheetData>'
        yield xlsx_row(None, "Code client", "Raison sociale")
        block = xlsx_row(None, "B", "Bombe") * (1024 * 1024 // len(xlsx_row(None, "B", "Bombe")))
        for _ in range(megabytes):
            yield block
        yield "</sheetData></worksheet>"

    return xlsx_from_parts(sheet())


def lying_part() -> bytes:
    """A sheet declared at 1 kB in the ZIP's directory that inflates to 50 MB."""
    content = bytearray(deflate_bomb(megabytes=50))
    entry = content.rfind(b"PK\x01\x02")  # the sheet's central directory entry, written last
    assert content[entry + 46 :].startswith(b"xl/worksheets/sheet1.xml")
    content[entry + 24 : entry + 28] = (1024).to_bytes(4, "little")  # its uncompressed size
    return bytes(content)


@pytest.fixture
def read_by_worker(settings, django_capture_on_commit_callbacks):
    """Upload a file, the tasks it queues run at once in-process (as the worker would):
    (response, seconds for the upload and the worker's read together)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

    def upload(client, content: bytes, name: str = "bombe.xlsx"):
        started = time.perf_counter()
        with django_capture_on_commit_callbacks(execute=True):
            response = _import(client, content, name)
        return response, time.perf_counter() - started

    return upload


def test_it_refuses_a_deflate_bomb_before_inflating_it(world, alice_client, read_by_worker):
    before = ImportJob.objects.count()
    content = deflate_bomb()
    assert len(content) < 1024 * 1024
    response, seconds = read_by_worker(alice_client, content)
    assert response.status_code == 422
    assert "Le fichier est trop volumineux une fois décompressé" in response.content.decode()
    assert seconds < 2, seconds
    assert ImportJob.objects.count() == before


def test_it_refuses_a_zip_of_too_many_parts(world, alice_client, read_by_worker):
    parts = {f"xl/media/image{n}.png": "" for n in range(reader.MAX_PARTS)}
    response, _ = read_by_worker(alice_client, _zip(**XLSX_PARTS, **parts), "parts.xlsx")
    assert response.status_code == 422
    assert "Ce classeur Excel contient trop" in response.content.decode()


WORKER_REFUSALS = {
    # Its <dimension> claims A1:XFD1048576, which read-only openpyxl padded cell by cell.
    "dimension bomb": (dimension_bomb, reader.TOO_MANY_ROWS),
    "no dimension, a row at 1,048,576": (lambda: dimension_bomb(None), reader.TOO_MANY_ROWS),
    "a false dimension, a row at 2**31 - 1": (
        lambda: dimension_bomb("A1:B3", 2**31 - 1),
        reader.TOO_MANY_ROWS,
    ),
    "a fake workbook": (lambda: _zip(**{"xl/workbook.xml": "<x"}), reader.BROKEN_XLSX),
    # The caps read the sizes the ZIP declares: zipfile stops a part at its declared size.
    "a part that lies about its size": (lying_part, reader.BROKEN_XLSX),
}


@pytest.mark.parametrize("case", sorted(WORKER_REFUSALS))
def test_the_worker_fails_a_hostile_workbook_at_once(case, world, alice_client, read_by_worker):
    """The upload only checks the ZIP's directory; the worker's read fails the job with the
    reason, quickly, before the mapping page or any client row."""
    make, message = WORKER_REFUSALS[case]
    clients = Client.objects.count()
    response, seconds = read_by_worker(alice_client, make())
    assert response.status_code == 302
    assert seconds < 2, seconds
    job = ImportJob.objects.latest("pk")
    assert (job.status, job.error_message, job.preview) == (Status.FAILED, message, [])
    assert Client.objects.count() == clients
    page = alice_client.get(response.url).content.decode()
    assert escape(message) in page and "import-preview" not in page


def test_it_reads_no_more_columns_than_the_cap(world, alice_client, read_by_worker):
    """A header cell in column XFD: the preview and the mapping offer the first columns only."""
    sheet = [
        f'<worksheet xmlns="{MAIN}"><dimension ref="A1:XFD3"/><sheetData>',
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Code client</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Raison sociale</t></is></c>'
        '<c r="XFD1" t="inlineStr"><is><t>Loin</t></is></c></row>',
        xlsx_row(2, "L1", "Large"),
        "</sheetData></worksheet>",
    ]
    response, _ = read_by_worker(alice_client, xlsx_from_parts(sheet), "large.xlsx")
    assert response.status_code == 302
    form = alice_client.get(response.url).context["form"]
    assert [label for _, label in form.fields["code"].choices[1:]] == [
        "Code client",
        "Raison sociale",
    ]


def test_it_caps_the_rows_of_a_csv(world, alice_client):
    header = b"Code client;Raison sociale\n"
    over = header + b"".join(b"C%d;X\n" % n for n in range(reader.MAX_ROWS + 1))
    response = _import(alice_client, over, "long.csv")
    assert response.status_code == 422
    assert "Le fichier dépasse 100 000 lignes" in response.content.decode()
    response = _import(alice_client, over[: over.rindex(b"C")], "juste.csv")
    assert response.status_code == 302
    assert ImportJob.objects.latest("pk").total == reader.MAX_ROWS


HOSTILE_NAME = "a\";filename*=UTF-8''evil.html;x=\".csv"


def _disposition(response) -> Message:
    """The header as a mail parser reads it, which follows RFC 2231 like browsers do."""
    header = response["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    message = Message()
    message["Content-Disposition"] = header
    assert message.get_content_disposition() == "attachment"
    names = [key for key, _ in message.get_params(header="content-disposition")[1:]]
    assert names == ["filename"], header  # one name, no filename* beside it
    return message


@pytest.mark.parametrize(
    "name, expected",
    [
        (HOSTILE_NAME, "rapport-a_filename_UTF-8_evil_html_x.csv"),
        ("Clients Société 2025.csv", "rapport-Clients_Société_2025.csv"),
        ("../../.csv", "rapport-import.csv"),
    ],
)
def test_the_import_report_downloads_under_a_safe_name(name, expected, world, alice, alice_client):
    # Through the service: the test client's multipart encoder would not keep such a name.
    upload = SimpleUploadedFile(name, b"Code client;Raison sociale\nC1;X\n")
    job = import_create(firm=world.firm_a, actor=alice, upload=upload)
    assert job.original_name == name.rsplit("/", 1)[-1]
    report = alice_client.get(reverse("import_report", args=[job.public_id]))
    assert report.status_code == 200
    assert _disposition(report).get_filename() == expected


def test_every_download_is_a_single_well_formed_attachment(world, sent, alice_client):
    ImportJob.objects.filter(pk=world.job.pk).update(original_name=HOSTILE_NAME)
    downloads = [
        reverse("portfolio_export", args=["csv"]),
        reverse("portfolio_export", args=["xlsx"]),
        reverse("reform_mandate_document", args=[world.client.code, sent.public_id]),
        reverse("import_report", args=[world.job.public_id]),
    ]
    for url in downloads:
        response = alice_client.get(url)
        assert response.status_code == 200, url
        filename = _disposition(response).get_filename()
        assert filename and set(filename) - set('"\\;/') == set(filename), filename
