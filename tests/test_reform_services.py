"""Reform workflows: each state transition, its history, the mandate PDF, upload checks."""

from __future__ import annotations

import io
from datetime import date, timedelta
from functools import cache

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader

from tests.factories import ClientFactory, ContactFactory
from vigie.clients.models import ClientEvent, MandateStatus, PaStatus
from vigie.mail.models import OutboundEmail
from vigie.reform import services
from vigie.reform.models import Mandate, MandateState, ReformEmailTemplate
from vigie.reform.pdf import MandateData, mandate_pdf

SIRET = "84523656100013"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _kinds(client):
    return list(
        ClientEvent.objects.filter(client=client).order_by("id").values_list("kind", flat=True)
    )


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@cache  # one PDF per run: two builds a second apart differ by their creation time
def _signed_pdf() -> bytes:
    return mandate_pdf(
        MandateData("Cabinet", "Client", "845236561", SIRET, "Jeanne", "j@x.fr", date.today(), "x")
    )


def _upload(data: bytes, name="mandat.pdf", content_type="application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


# --- Sensibilisation -------------------------------------------------------------------


class TestSensitise:
    def test_it_marks_informed_with_when_and_who(self, ready, alice):
        client = services.client_sensitise(client=ready, actor=alice)
        client.refresh_from_db()
        assert client.sensitised and client.sensitised_by == alice
        assert abs(client.sensitised_at - timezone.now()) < timedelta(minutes=1)
        event = ClientEvent.objects.get(client=ready)
        assert event.kind == "reform.sensitised" and event.actor == alice
        assert event.changes == {"Sensi. réforme": ["Non", "Oui"]}
        assert not OutboundEmail.objects.exists()

    def test_it_unmarks_and_records_it(self, ready, alice):
        services.client_sensitise(client=ready, actor=alice)
        client = services.client_sensitise(client=ready, actor=alice, sensitised=False)
        client.refresh_from_db()
        assert not client.sensitised and client.sensitised_at is None
        assert _kinds(ready) == ["reform.sensitised", "reform.unsensitised"]

    def test_it_records_nothing_when_nothing_changes(self, ready, alice):
        services.client_sensitise(client=ready, actor=alice)
        services.client_sensitise(client=ready, actor=alice)
        assert _kinds(ready) == ["reform.sensitised"]

    def test_it_sends_the_firms_template_through_the_outbox(self, ready, alice):
        services.reform_template_save(
            firm=ready.firm,
            actor=alice,
            subject="La réforme et {entreprise}",
            body="Bonjour {contact}, {cabinet}",
        )
        services.client_sensitise(client=ready, actor=alice, send_email=True)
        email = OutboundEmail.objects.get()
        assert email.to == "jeanne@elan.fr" and email.client_id == ready.id
        assert email.subject == "La réforme et Boulangerie Élan"
        assert email.text == "Bonjour Jeanne Martin, Cabinet Alpha"
        assert email.reply_to == "alice@alpha.fr" and email.from_name == "Cabinet Alpha"
        assert email.kind == "reform.information"
        assert _kinds(ready) == ["reform.information_sent", "reform.sensitised"]

    def test_its_placeholders_are_the_invitations_ones(self, ready, alice):
        services.reform_template_save(
            firm=ready.firm,
            actor=alice,
            subject="{client}",
            body="{contact} · {cabinet} · {collaborateur}",
        )
        services.client_sensitise(client=ready, actor=alice, send_email=True)
        email = OutboundEmail.objects.get()
        assert email.subject == "Boulangerie Élan"
        assert email.text == "Jeanne Martin · Cabinet Alpha · Alice Adam"

    def test_it_uses_the_default_wording_without_a_template(self, ready, alice):
        services.client_sensitise(client=ready, actor=alice, send_email=True)
        email = OutboundEmail.objects.get()
        assert "1er septembre 2027" in email.text and "Boulangerie Élan" in email.subject
        assert not ReformEmailTemplate.objects.exists()

    def test_it_refuses_the_email_without_principal_email(self, firm_a, alice):
        client = ClientFactory(firm=firm_a)
        with pytest.raises(ValidationError) as exc:
            services.client_sensitise(client=client, actor=alice, send_email=True)
        assert services.NO_PRINCIPAL_EMAIL in exc.value.message_dict["send_email"]
        client.refresh_from_db()
        assert not client.sensitised and not ClientEvent.objects.exists()

    def test_it_marks_a_selection_in_bulk(self, firm_a, firm_b, alice, ready):
        others = ClientFactory.create_batch(3, firm=firm_a)
        others[0].sensitised = True
        others[0].save()
        foreign = ClientFactory(firm=firm_b)
        ids = [ready.id, *[c.id for c in others], foreign.id]
        result = services.clients_sensitise_many(firm=firm_a, client_ids=[ids], actor=alice)
        assert (result.marked, result.already) == (3, 1)
        foreign.refresh_from_db()
        assert not foreign.sensitised
        assert ClientEvent.objects.filter(kind="reform.sensitised", firm=firm_a).count() == 3
        ready.refresh_from_db()
        assert ready.sensitised_by == alice and ready.sensitised_at

    def test_it_emails_only_clients_with_a_principal_email(self, firm_a, alice, ready):
        bare = ClientFactory(firm=firm_a, code="B001")
        result = services.clients_sensitise_many(
            firm=firm_a, client_ids=[[ready.id, bare.id]], actor=alice, send_email=True
        )
        assert (result.marked, result.emailed, result.without_email) == (1, 1, ["B001"])
        bare.refresh_from_db()
        assert not bare.sensitised
        assert OutboundEmail.objects.get().to == "jeanne@elan.fr"


# --- Template ---------------------------------------------------------------------------


def test_it_refuses_an_empty_template(firm_a, alice):
    with pytest.raises(ValidationError) as exc:
        services.reform_template_save(firm=firm_a, actor=alice, subject=" ", body="")
    assert set(exc.value.message_dict) == {"subject", "body"}


# --- Mandate ----------------------------------------------------------------------------


class TestMandate:
    def test_it_generates_sends_and_records(self, ready, alice, media):
        mandate = services.mandate_send(client=ready, actor=alice, starts_on=date(2026, 10, 1))
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.SENT and ready.mandate_sent_at
        assert mandate.state == MandateState.SENT and mandate.siren == "845236561"
        # Stored under MEDIA_ROOT with a random name.
        assert mandate.document.name.startswith("reform/mandates/mandat-")
        assert (media / mandate.document.name).exists()
        email = OutboundEmail.objects.get()
        assert email.to == "jeanne@elan.fr" and email.kind == "reform.mandate"
        [(name, content, content_type)] = email.decoded_attachments()
        assert (name, content_type) == ("mandat-R001.pdf", "application/pdf")
        assert content == mandate.document.read()
        event = ClientEvent.objects.get(client=ready)
        assert event.kind == "reform.mandate_sent" and event.actor == alice
        assert event.changes == {"mandat": ["Aucun", "Mandat envoyé"]}

    def test_the_pdf_says_who_what_and_since_when(self, ready, alice):
        mandate = services.mandate_send(client=ready, actor=alice, starts_on=date(2026, 10, 1))
        text = _pdf_text(mandate.document.read())
        for expected in (
            "Mandat de facturation électronique",
            "Boulangerie Élan",
            "SIREN 845 236 561",
            "représentée par Jeanne Martin",
            "Cabinet Alpha",
            "Objet du mandat",
            "plateforme agréée",
            "prend effet le 1 octobre 2026",
            "Le Mandant déclare être dûment habilité",
            "Bon pour mandat",
        ):
            assert expected in " ".join(text.split()), expected

    def test_it_refuses_without_siret_or_principal(self, firm_a, alice):
        client = ClientFactory(firm=firm_a, siret="")
        with pytest.raises(ValidationError) as exc:
            services.mandate_send(client=client, actor=alice)
        assert exc.value.message_dict["mandate"] == [
            services.MANDATE_NEEDS_SIRET,
            services.MANDATE_NEEDS_PRINCIPAL,
        ]
        ContactFactory(client=client, email="", is_principal=True)
        client.siret = SIRET
        client.save()
        with pytest.raises(ValidationError) as exc:
            services.mandate_send(client=client, actor=alice)
        assert exc.value.message_dict["mandate"] == [services.MANDATE_NEEDS_EMAIL]
        assert not Mandate.objects.exists() and not OutboundEmail.objects.exists()
        client.refresh_from_db()
        assert client.mandate_status == ""

    def test_a_new_mandate_replaces_the_one_waiting(self, ready, alice):
        first = services.mandate_send(client=ready, actor=alice)
        second = services.mandate_send(client=ready, actor=alice)
        first.refresh_from_db()
        assert first.state == MandateState.REVOKED and second.state == MandateState.SENT

    def test_upload_signs_then_revoke(self, ready, alice, media):
        services.mandate_send(client=ready, actor=alice)
        mandate = services.mandate_upload_signed(
            client=ready, actor=alice, upload=_upload(_signed_pdf())
        )
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.SIGNED and ready.mandate_signed_at
        assert mandate.is_signed and mandate.signed_by == alice
        assert "mandat.pdf" not in mandate.signed_document.name
        assert mandate.signed_document.name.startswith("reform/mandates/signe-")
        assert (media / mandate.signed_document.name).read_bytes() == _signed_pdf()
        with pytest.raises(ValidationError) as exc:
            services.mandate_send(client=ready, actor=alice)
        assert exc.value.message_dict["mandate"] == [services.MANDATE_ALREADY_SIGNED]

        services.mandate_revoke(client=ready, actor=alice, reason="Fin de mission")
        ready.refresh_from_db()
        mandate.refresh_from_db()
        assert ready.mandate_status == MandateStatus.REVOKED
        assert mandate.state == MandateState.REVOKED and mandate.revoked_by == alice
        assert _kinds(ready) == [
            "reform.mandate_sent",
            "reform.mandate_signed",
            "reform.mandate_revoked",
        ]
        signed = ClientEvent.objects.get(client=ready, kind="reform.mandate_signed")
        assert signed.changes == {"mandat": ["Mandat envoyé", "Mandat signé"]}
        # Revoked: a new mandate can be sent again.
        services.mandate_send(client=ready, actor=alice)
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.SENT and ready.mandate_signed_at is None

    def test_revoking_before_signature_is_a_withdrawal(self, ready, alice):
        services.mandate_send(client=ready, actor=alice)
        services.mandate_revoke(client=ready, actor=alice, reason="Fin de mission")
        assert _kinds(ready)[-1] == "reform.mandate_withdrawn"
        with pytest.raises(ValidationError):
            services.mandate_revoke(client=ready, actor=alice, reason="Fin de mission")

    def test_upload_needs_a_sent_mandate(self, ready, alice):
        with pytest.raises(ValidationError) as exc:
            services.mandate_upload_signed(client=ready, actor=alice, upload=_upload(_signed_pdf()))
        assert exc.value.message_dict["file"] == [services.MANDATE_NOT_SENT]


class TestUploadChecks:
    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"", services.FILE_EMPTY),
            (b"GIF89a not a pdf", services.FILE_NOT_PDF),
            (b"%PDF-1.7\nthis is no pdf at all", services.FILE_NOT_PDF),
            (b"<html><body>%PDF-</body></html>", services.FILE_NOT_PDF),
        ],
    )
    def test_it_refuses_what_is_not_a_pdf(self, ready, alice, data, message):
        services.mandate_send(client=ready, actor=alice)
        with pytest.raises(ValidationError) as exc:
            # The name and the type claim PDF: only the content counts.
            services.mandate_upload_signed(client=ready, actor=alice, upload=_upload(data))
        assert exc.value.message_dict["file"] == [message]
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.SENT
        assert not Mandate.objects.exclude(signed_document="").exists()

    def test_it_refuses_a_file_too_large(self, ready, alice, settings, monkeypatch):
        monkeypatch.setattr(services, "MAX_SIGNED_SIZE", 1000)
        services.mandate_send(client=ready, actor=alice)
        with pytest.raises(ValidationError) as exc:
            services.mandate_upload_signed(client=ready, actor=alice, upload=_upload(_signed_pdf()))
        assert exc.value.message_dict["file"] == [services.FILE_TOO_LARGE.format(limit=0)]

    def test_the_limit_is_five_megabytes(self):
        assert services.MAX_SIGNED_SIZE == 5 * 1024 * 1024

    def test_it_accepts_a_pdf_with_another_name(self, ready, alice):
        services.mandate_send(client=ready, actor=alice)
        mandate = services.mandate_upload_signed(
            client=ready,
            actor=alice,
            upload=_upload(_signed_pdf(), name="scan.bin", content_type="application/octet-stream"),
        )
        assert mandate.is_signed

    def test_it_requires_a_file(self, ready, alice):
        services.mandate_send(client=ready, actor=alice)
        with pytest.raises(ValidationError) as exc:
            services.mandate_upload_signed(client=ready, actor=alice, upload=None)
        assert exc.value.message_dict["file"] == [services.FILE_REQUIRED]


# --- PA registration --------------------------------------------------------------------


class TestPa:
    def test_it_goes_absent_invited_registered_and_back(self, ready, alice):
        services.client_pa_update(client=ready, actor=alice, status=PaStatus.INVITED)
        services.client_pa_update(
            client=ready,
            actor=alice,
            status=PaStatus.REGISTERED,
            pa_name="  Plateforme   Exemple ",
            registered_at=date(2026, 9, 15),
        )
        ready.refresh_from_db()
        assert (ready.pa_status, ready.pa_name, ready.pa_registered_at) == (
            PaStatus.REGISTERED,
            "Plateforme Exemple",
            date(2026, 9, 15),
        )
        services.client_pa_update(
            client=ready,
            actor=alice,
            status=PaStatus.REGISTERED,
            pa_name="Autre PA",
            registered_at=date(2026, 9, 16),
        )
        services.client_pa_update(client=ready, actor=alice, status=PaStatus.ABSENT)
        ready.refresh_from_db()
        assert ready.pa_name == "" and ready.pa_registered_at is None
        assert _kinds(ready) == [
            "reform.pa_invited",
            "reform.pa_registered",
            "reform.pa_updated",
            "reform.pa_unregistered",
        ]
        registered = ClientEvent.objects.get(client=ready, kind="reform.pa_registered")
        assert registered.summary == (
            "Inscrit auprès de la plateforme agréée Plateforme Exemple depuis le 15/09/2026"
        )
        assert registered.changes["inscription PA"] == ["Invitation envoyée", "Inscrit"]

    def test_it_refuses_a_registration_without_name_or_date(self, ready, alice):
        with pytest.raises(ValidationError) as exc:
            services.client_pa_update(client=ready, actor=alice, status=PaStatus.REGISTERED)
        assert exc.value.message_dict == {
            "pa_name": [services.PA_NAME_REQUIRED],
            "pa_registered_at": [services.PA_DATE_REQUIRED],
        }
        tomorrow = timezone.localdate() + timedelta(days=1)
        with pytest.raises(ValidationError) as exc:
            services.client_pa_update(
                client=ready,
                actor=alice,
                status=PaStatus.REGISTERED,
                pa_name="X",
                registered_at=tomorrow,
            )
        assert exc.value.message_dict == {"pa_registered_at": [services.PA_DATE_FUTURE]}
        ready.refresh_from_db()
        assert ready.pa_status == PaStatus.ABSENT and not ClientEvent.objects.exists()
