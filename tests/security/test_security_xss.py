"""Stored XSS and template injection: hostile text in every free-text field renders
escaped everywhere it shows (pages, dialogs, history, emails), is never evaluated as a
template, and never runs as a formula in an export."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.factories import ContactFactory
from vigie.clients import services as client_services
from vigie.invitations import services as invitations
from vigie.invitations.models import InvitationTemplate
from vigie.mail.models import OutboundEmail
from vigie.reform import services as reform

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}}{% debug %}"
P = SCRIPT + IMG + TEMPLATE
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def assert_escaped(html: str, *, present: bool = True) -> None:
    assert SCRIPT not in html
    assert "<img src=x" not in html and "onerror=alert" not in html.replace(
        "onerror=alert(1)&gt;", ""
    )
    if present:
        assert ESCAPED in html
        assert TEMPLATE in html.replace("&#x27;", "'")  # shown as text, never evaluated


@pytest.fixture
def hostile(world, alice):
    """Firm A's client A001 with hostile text in every free-text field, entered through
    the services the forms, the API and the import use (so the history holds it too)."""
    client = world.client
    client.name = P
    client.activity = P
    client.save()
    client_services.client_notes_update(client=client, actor=alice, notes=P)
    client_services.contact_update(
        contact=world.other_contact,
        actor=alice,
        data={
            "first_name": P[:100],
            "last_name": P[:100],
            "email": "paul@dupont.fr",
            "phone": "0707070707",
            "access": "utilisateur",
        },
    )
    ContactFactory(client=client, first_name=P[:100], last_name=P[:100], email="x@dupont.fr")
    return client


def _pages(code: str):
    """(url, htmx only, shows the hostile text)"""
    return [
        (reverse("home"), False, True),
        (reverse("home") + "?view=collecte", False, True),
        (reverse("client_detail", args=[code]), False, True),
        (reverse("reform_client", args=[code]), False, True),
        (reverse("equipment_dialog", args=[code]), True, True),
        (reverse("selection_dialog") + f"?codes={code}", True, False),
    ]


def test_pages_and_dialogs_escape_hostile_text(hostile, alice_client):
    for url, htmx_only, present in _pages(hostile.code):
        for headers in (
            ({"HTTP_HX_REQUEST": "true"},) if htmx_only else ({}, {"HTTP_HX_REQUEST": "true"})
        ):
            response = alice_client.get(url, **headers)
            assert response.status_code == 200, url
            assert_escaped(response.content.decode(), present=present)


def test_the_search_box_reflects_its_query_escaped(world, alice_client):
    response = alice_client.get(reverse("home"), {"q": P[:100]})
    assert_escaped(response.content.decode(), present=False)
    assert "&lt;script&gt;" in response.content.decode()


def test_the_history_escapes_hostile_text(hostile, alice_client):
    html = alice_client.get(reverse("client_detail", args=[hostile.code])).content.decode()
    assert_escaped(html)
    assert html.count(ESCAPED) >= 3  # name, notes, contacts, history entries


def test_invitation_email_html_is_escaped_and_text_verbatim(world, alice):
    InvitationTemplate.objects.create(firm=world.firm_a, plan="start", subject="S", body=P)
    invitation = invitations.invitation_create(
        client=world.client, actor=alice, plan="start", billing_mode="shine"
    )
    invitations.invitation_send(
        invitation=invitation,
        actor=alice,
        method="vigie",
        subject="Votre compte " + SCRIPT,
        body=invitation.body + "\n" + P,
    )
    email = OutboundEmail.objects.filter(firm=world.firm_a).latest("pk")
    assert P in email.text
    assert_escaped(email.html)
    assert SCRIPT in email.subject  # a header: plain text, no markup


def test_reform_email_html_is_escaped_and_text_verbatim(world, alice):
    reform.reform_template_save(firm=world.firm_a, actor=alice, subject="Réforme " + SCRIPT, body=P)
    reform.client_sensitise(client=world.client, actor=alice, send_email=True)
    email = OutboundEmail.objects.filter(firm=world.firm_a, kind__icontains="reform").latest("pk")
    assert P in email.text
    assert_escaped(email.html)


def test_template_editors_show_hostile_templates_escaped(world, alice, alice_client):
    InvitationTemplate.objects.create(firm=world.firm_a, plan="start", subject=P, body=P)
    reform.reform_template_save(firm=world.firm_a, actor=alice, subject=P[:200], body=P)
    for name in ("invitation_templates", "reform_template"):
        assert_escaped(alice_client.get(reverse(name)).content.decode())


def test_the_mailbox_viewer_escapes_the_html_part(world, alice, alice_client, settings, tmp_path):
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "vigie.mail.backends.MailboxBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    from vigie.mail.services import email_deliver

    reform.reform_template_save(firm=world.firm_a, actor=alice, subject="Réforme", body=P)
    reform.client_sensitise(client=world.client, actor=alice, send_email=True)
    email = OutboundEmail.objects.filter(firm=world.firm_a).latest("pk")
    email_deliver(email_id=email.pk)
    names = [p.name for p in (tmp_path / "mail").glob("*.eml")]
    assert names
    html = alice_client.get(reverse("mailbox_message", args=[names[0]])).content.decode()
    assert SCRIPT not in html.replace('srcdoc="', "")  # only inside the escaped srcdoc
    assert "<img src=x" not in html


FORMULAS = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_exports_neutralise_formulas(formula, world, alice_client):
    client = world.client
    client.name = formula
    client.save()
    world.other_contact.last_name = formula
    world.other_contact.save()
    csv_response = alice_client.get(reverse("portfolio_export", args=["csv"]))
    text = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    for line in text.splitlines()[1:]:
        for cell in line.split(";"):
            cell = cell.strip('"')
            assert not cell.startswith(("=", "+", "-", "@")), cell
    assert "'" + formula.replace('"', '""') in text

    xlsx = alice_client.get(reverse("portfolio_export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@")), cell.value


def test_the_import_report_neutralises_formulas(world, alice, alice_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from vigie.imports.services import import_create, import_run, import_start

    rows = "Code client;Raison sociale;SIRET\r\n"
    rows += "\tF1;=cmd|' /C calc'!A0;123\r\n@F2;" + P + ";1\r\n"
    job = import_create(
        firm=world.firm_a,
        actor=alice,
        upload=SimpleUploadedFile("x.csv", rows.encode("utf-8"), content_type="text/csv"),
    )
    import_start(job=job, mapping=job.mapping)
    import_run(job_id=job.pk)
    report = alice_client.get(reverse("import_report", args=[job.public_id]))
    text = b"".join(report.streaming_content if report.streaming else [report.content])
    for line in text.decode("utf-8-sig").splitlines():
        for cell in line.split(";"):
            assert not cell.strip('"').startswith(("=", "+", "-", "@", "\t")), line
    detail = alice_client.get(reverse("import_detail", args=[job.public_id])).content.decode()
    assert SCRIPT not in detail


def test_the_mandate_pdf_carries_hostile_text_as_text(world, alice):
    client = world.client
    reform.mandate_revoke(client=client, actor=alice, reason="Nouveau nom")
    client.refresh_from_db()
    client.name = P
    client.save()
    mandate = reform.mandate_send(client=client, actor=alice)
    text = "".join(page.extract_text() for page in PdfReader(mandate.document.path).pages)
    assert "alert(1)" in text
