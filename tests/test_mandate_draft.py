"""The mandate's *brouillon*: prepared and read by the firm, then sent as it was read,
or replaced, or deleted; an expired mandate still takes a signed paper copy."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from vigie.clients.models import ClientEvent, MandateStatus
from vigie.mail.models import OutboundEmail
from vigie.reform import lifecycle, services, signing, tokens
from vigie.reform.models import Mandate, MandateState
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


class TestDraft:
    def test_preparing_generates_the_pdf_and_sends_nothing(self, ready, alice):
        draft = services.mandate_prepare(client=ready, actor=alice, starts_on=date(2026, 10, 1))
        assert draft.state == MandateState.DRAFT and draft.sent_at is None
        assert draft.document.read().startswith(b"%PDF-")
        assert not OutboundEmail.objects.exists()
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.NONE
        assert services.current_mandate(ready) is None
        assert services.mandate_draft(ready) == draft
        assert services.mandate_and_draft(ready) == (None, draft)
        assert _kinds(ready) == ["reform.mandate_drafted"]

    def test_sending_the_draft_sends_the_very_file_that_was_read(self, ready, alice):
        draft = services.mandate_prepare(client=ready, actor=alice)
        read = draft.document.read()
        sent = services.mandate_draft_send(client=ready, actor=alice)
        assert sent.pk == draft.pk and sent.state == MandateState.SENT and sent.sent_at
        email = OutboundEmail.objects.get()
        [(_name, content, _type)] = email.decoded_attachments()
        assert content == read
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.SENT
        assert services.current_mandate(ready) == sent and services.mandate_draft(ready) is None
        assert _kinds(ready) == ["reform.mandate_drafted", "reform.mandate_sent"]
        with pytest.raises(ValidationError) as exc:
            services.mandate_draft_send(client=ready, actor=alice)
        assert exc.value.message_dict["mandate"] == [services.MANDATE_NO_DRAFT]
        assert OutboundEmail.objects.count() == 1

    def test_a_draft_whose_client_changed_is_not_sent(self, ready, alice):
        services.mandate_prepare(client=ready, actor=alice)
        ready.name = "Boulangerie Élan et Fils"
        ready.save()
        with pytest.raises(ValidationError) as exc:
            services.mandate_draft_send(client=ready, actor=alice)
        assert exc.value.message_dict["mandate"] == [
            services.MANDATE_DRAFT_STALE.format(changes="raison sociale")
        ]
        assert not OutboundEmail.objects.exists()
        assert Mandate.objects.get().state == MandateState.DRAFT
        # A new draft says the new name, and replaces the old one.
        draft = services.mandate_prepare(client=ready, actor=alice)
        assert list(Mandate.objects.all()) == [draft] and draft.client_name.endswith("Fils")
        services.mandate_draft_send(client=ready, actor=alice)

    def test_the_draft_sent_replaces_the_mandate_waiting(self, ready, alice):
        waiting = services.mandate_send(client=ready, actor=alice)
        services.mandate_prepare(client=ready, actor=alice)
        # The draft is not the client's mandate until it is sent.
        assert services.current_mandate(ready) == waiting
        assert services.mandate_and_draft(ready) == (waiting, services.mandate_draft(ready))
        sent = services.mandate_draft_send(client=ready, actor=alice)
        waiting.refresh_from_db()
        assert waiting.state == MandateState.REVOKED and waiting.revoke_reason == "remplacé"
        assert services.current_mandate(ready) == sent

    def test_sending_in_one_step_replaces_the_draft(
        self, ready, alice, media, django_capture_on_commit_callbacks
    ):
        draft = services.mandate_prepare(client=ready, actor=alice)
        path = media / draft.document.name
        with django_capture_on_commit_callbacks(execute=True):
            sent = services.mandate_send(client=ready, actor=alice)
        assert sent.pk != draft.pk and not Mandate.objects.filter(pk=draft.pk).exists()
        assert services.mandate_draft(ready) is None and not path.exists()

    def test_deleting_the_draft(self, ready, alice, django_capture_on_commit_callbacks, media):
        draft = services.mandate_prepare(client=ready, actor=alice)
        path = media / draft.document.name
        with django_capture_on_commit_callbacks(execute=True):
            services.mandate_draft_delete(client=ready, actor=alice)
        assert not Mandate.objects.exists() and not path.exists()
        assert _kinds(ready) == ["reform.mandate_drafted", "reform.mandate_draft_deleted"]
        with pytest.raises(ValidationError):
            services.mandate_draft_delete(client=ready, actor=alice)

    def test_a_signed_client_gets_no_draft(self, ready, alice):
        services.mandate_send(client=ready, actor=alice)
        services.mandate_upload_signed(
            client=ready, actor=alice, upload=SimpleUploadedFile("s.pdf", _pdf())
        )
        with pytest.raises(ValidationError) as exc:
            services.mandate_prepare(client=ready, actor=alice)
        assert exc.value.message_dict["mandate"] == [services.MANDATE_ALREADY_SIGNED]

    def test_one_draft_per_client_in_the_database(self, ready, alice):
        draft = services.mandate_prepare(client=ready, actor=alice)
        with pytest.raises(IntegrityError), transaction.atomic():
            Mandate.objects.create(
                firm_id=ready.firm_id,
                client=ready,
                state=MandateState.DRAFT,
                firm_name="x",
                client_name="x",
                siren="845236561",
                representative="x",
                representative_email="x@x.fr",
                starts_on=draft.starts_on,
            )

    def test_the_expiry_of_the_mandate_sent_reaches_the_client_despite_a_newer_draft(
        self, ready, alice
    ):
        sent = services.mandate_send(client=ready, actor=alice)
        services.mandate_prepare(client=ready, actor=alice)
        later = sent.sent_at + timedelta(days=tokens.link_days(), minutes=1)
        lifecycle.mandates_lifecycle(now=later)
        ready.refresh_from_db()
        sent.refresh_from_db()
        assert sent.state == MandateState.EXPIRED
        assert ready.mandate_status == MandateStatus.EXPIRED
        assert services.mandate_draft(ready).state == MandateState.DRAFT


def _pdf() -> bytes:
    return mandate_pdf(MandateData("C", "E", "845236561", SIRET, "J", "j@x.fr", date.today(), "r"))


def test_a_drafts_link_signs_nothing(ready, alice):
    draft = services.mandate_prepare(client=ready, actor=alice)
    # A token made for it (as sending would) does not open the draft.
    token = tokens.link_url(draft, now=timezone.now().timestamp()).rstrip("/").split("/")[-1]
    assert signing.link_resolve(token).state == "invalid"


class TestExpiredUpload:
    def test_an_expired_mandate_takes_the_signed_paper_copy(self, ready, alice):
        sent = services.mandate_send(client=ready, actor=alice)
        lifecycle.mandates_lifecycle(
            now=timezone.now() + timedelta(days=tokens.link_days(), minutes=1)
        )
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.EXPIRED
        signed = services.mandate_upload_signed(
            client=ready, actor=alice, upload=SimpleUploadedFile("s.pdf", _pdf())
        )
        assert signed.pk == sent.pk and signed.state == MandateState.SIGNED
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.SIGNED

    def test_a_revoked_mandate_does_not(self, ready, alice):
        services.mandate_send(client=ready, actor=alice)
        services.mandate_revoke(client=ready, actor=alice, reason="Fin de mission")
        with pytest.raises(ValidationError):
            services.mandate_upload_signed(
                client=ready, actor=alice, upload=SimpleUploadedFile("s.pdf", _pdf())
            )


class TestViews:
    def _panel(self, alice_client, client):
        return alice_client.get(reverse("reform_client", args=[client.code]))

    def test_prepare_read_send(self, alice_client, ready):
        response = alice_client.post(reverse("reform_mandate_prepare", args=[ready.code]))
        assert response.status_code in (200, 302)
        draft = services.mandate_draft(ready)
        page = self._panel(alice_client, ready).content.decode()
        assert 'data-testid="mandate-draft"' in page and "Voir le brouillon (PDF)" in page
        document = reverse("reform_mandate_document", args=[ready.code, draft.public_id])
        assert document in page
        pdf = alice_client.get(document)
        assert pdf.status_code == 200 and b"".join(pdf.streaming_content) == draft.document.read()
        response = alice_client.post(reverse("reform_mandate_draft_send", args=[ready.code]))
        assert response.status_code in (200, 302)
        assert OutboundEmail.objects.get().to == "jeanne@elan.fr"
        page = self._panel(alice_client, ready).content.decode()
        assert 'data-testid="mandate-draft"' not in page and "Mandat envoyé" in page

    def test_a_stale_draft_says_so_and_offers_no_send(self, alice_client, ready, alice):
        services.mandate_prepare(client=ready, actor=alice)
        ready.name = "Autre nom"
        ready.save()
        page = self._panel(alice_client, ready).content.decode()
        assert 'data-testid="mandate-draft-changed"' in page
        assert 'data-testid="mandate-draft-send"' not in page
        response = alice_client.post(reverse("reform_mandate_draft_send", args=[ready.code]))
        assert response.status_code == 400
        assert "préparez un nouveau brouillon" in response.content.decode()
        assert not OutboundEmail.objects.exists()

    def test_delete(self, alice_client, ready, alice):
        services.mandate_prepare(client=ready, actor=alice)
        alice_client.post(reverse("reform_mandate_draft_delete", args=[ready.code]))
        assert not Mandate.objects.exists()

    def test_charlie_reaches_nothing_of_a_draft(self, charlie_client, ready, alice):
        draft = services.mandate_prepare(client=ready, actor=alice)
        for name in ("reform_mandate_draft_send", "reform_mandate_draft_delete"):
            assert charlie_client.post(reverse(name, args=[ready.code])).status_code == 404
        document = reverse("reform_mandate_document", args=[ready.code, draft.public_id])
        assert charlie_client.get(document).status_code == 404
        draft.refresh_from_db()
        assert draft.state == MandateState.DRAFT and not OutboundEmail.objects.exists()
