"""Uploads judged by their content and size, never by their name: what tests/test_imports.py
and tests/test_reform_views.py do not already try (a PNG as .csv, 50 MB and empty imports,
empty and non-PDF mandates are covered there)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from vigie.imports.models import ImportJob
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
    "zip with a fake workbook": (_zip(**{"xl/workbook.xml": "<x"}), "clients.xlsx"),
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
    reform.mandate_revoke(client=world.client, actor=alice)
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
