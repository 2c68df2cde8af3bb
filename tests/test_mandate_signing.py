"""The client signs its mandate online: the e-mail's link (tampered, expired, reused,
revoked), the one-time code (10 minutes, 5 wrong codes lock, the resend cooldown), the
sealed PDF (pyHanko's own validation, the evidence page), two tabs signing at once, a
signature that fails half-way, tenancy, and the signatory against the register's
directors."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from tests.factories import ClientFactory, ContactFactory
from vigie.clients.models import Client, ClientEvent, MandateStatus
from vigie.mail.models import OutboundEmail
from vigie.reform import services, signing, tokens
from vigie.reform.models import Mandate, MandateState
from vigie.reform.panel import SIGNATORY_UNLISTED, is_listed
from vigie.reform.seal import sealer, sha256
from vigie.registries.models import CheckStatus, Register, RegisterCheck

SIRET = "84523656100013"
UA = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "http://vigie.test"
    return tmp_path


@pytest.fixture
def mandate(ready, bob):
    return services.mandate_send(client=ready, actor=bob)


def _token(mandate) -> str:
    return tokens.make_token(mandate, now=mandate.sent_at.timestamp())


def _url(name, mandate_or_token) -> str:
    token = mandate_or_token if isinstance(mandate_or_token, str) else _token(mandate_or_token)
    return reverse(name, args=[token])


def _tampered(token: str) -> str:
    """The token with its last character changed (never left as it was)."""
    return token[:-1] + ("0" if token[-1] != "0" else "1")


def _kinds(client) -> list[str]:
    return list(
        ClientEvent.objects.filter(client=client).order_by("id").values_list("kind", flat=True)
    )


def _last_code(mandate) -> str:
    email = OutboundEmail.objects.filter(kind="reform.mandate_code").order_by("-id").first()
    assert email.to == mandate.representative_email
    return re.search(r"\b(\d{6})\b", email.text).group(1)


def _verified(mandate, *, now=None):
    """The mandate with a code sent and verified (as the page does), read again."""
    mandate = signing.mandate_code_send(mandate=mandate, now=now)
    return signing.mandate_code_verify(mandate=mandate, code=_last_code(mandate), now=now)


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _sign_through_the_pages(http, mandate, *, consent="1"):
    """What the client's browser does: open, ask a code, type it, tick, sign."""
    assert http.get(_url("mandate_sign", mandate)).status_code == 200
    assert http.post(_url("mandate_sign_code", mandate)).status_code == 302
    code = _last_code(mandate)
    assert http.post(_url("mandate_sign_verify", mandate), {"code": code}).status_code == 302
    data = {"consent": consent} if consent else {}
    return http.post(_url("mandate_sign_submit", mandate), data, HTTP_USER_AGENT=UA)


# --- The link ------------------------------------------------------------------------------


class TestLink:
    def test_the_mandate_email_carries_the_personal_link(self, mandate):
        email = OutboundEmail.objects.get(kind="reform.mandate")
        link = tokens.link_url(mandate, now=mandate.sent_at.timestamp())
        assert link.startswith("http://vigie.test/reforme/mandat/")
        assert link in email.text and f'href="{link}"' in email.html
        assert email.decoded_attachments()[0][1].startswith(b"%PDF-")  # the PDF still attached
        assert mandate.document_sha256 == sha256(mandate.document.read())

    def test_a_scanners_get_or_head_opens_nothing(self, client, mandate, ready):
        """A mail filter (Safe Links, Mimecast…) fetches the link: the page answers,
        the mandate stays *envoyé*."""
        response = client.get(_url("mandate_sign", mandate), HTTP_USER_AGENT="Mimecast")
        assert response.status_code == 200
        html = response.content.decode()
        assert "Mandat de facturation électronique" in html
        assert "Recevoir le code par e-mail" in html
        assert _url("mandate_sign_document", mandate) in html  # the PDF, in the page
        # The page's own signal, posted by htmx once loaded (no inline script: the CSP).
        opener = f'hx-post="{_url("mandate_sign_open", mandate)}" hx-trigger="load"'
        assert opener in html and "<script>" not in html
        assert client.head(_url("mandate_sign", mandate)).status_code == 200
        mandate.refresh_from_db()
        assert mandate.state == MandateState.SENT and mandate.opened_at is None
        assert _kinds(ready) == ["reform.mandate_sent"]

    def test_the_pages_signal_opens_the_mandate_once(self, client, mandate, ready):
        client.get(_url("mandate_sign", mandate))
        for _ in range(2):
            response = client.post(_url("mandate_sign_open", mandate), HTTP_HX_REQUEST="true")
            assert response.status_code == 204
        mandate.refresh_from_db()
        assert mandate.state == MandateState.OPENED and mandate.opened_at
        assert _kinds(ready) == ["reform.mandate_sent", "reform.mandate_opened"]
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.SENT  # the portfolio says « envoyé »
        # Opened, the page no longer sends the signal.
        html = client.get(_url("mandate_sign", mandate)).content.decode()
        assert _url("mandate_sign_open", mandate) not in html

    def test_asking_for_the_code_opens_it_too(self, client, mandate, ready):
        """Without JavaScript the page sends no signal: its first action counts."""
        assert client.post(_url("mandate_sign_code", mandate)).status_code == 302
        mandate.refresh_from_db()
        assert mandate.state == MandateState.OPENED and mandate.opened_at
        assert _kinds(ready) == [
            "reform.mandate_sent",
            "reform.mandate_opened",
            "reform.mandate_code_sent",
        ]

    def test_the_signal_of_a_tampered_or_closed_link_opens_nothing(
        self, client, mandate, ready, bob
    ):
        token = _token(mandate)
        response = client.post(_url("mandate_sign_open", _tampered(token)))
        assert response.status_code == 404
        services.mandate_send(client=ready, actor=bob)  # replaces (revokes) this one
        client.post(_url("mandate_sign_open", mandate), HTTP_HX_REQUEST="true")
        mandate.refresh_from_db()
        assert mandate.state == MandateState.REVOKED and mandate.opened_at is None
        assert "reform.mandate_opened" not in _kinds(ready)

    def test_the_page_shows_the_pdf_and_offers_it_to_download(self, client, mandate):
        shown = client.get(_url("mandate_sign_document", mandate))
        assert shown.status_code == 200 and shown["Content-Type"] == "application/pdf"
        assert b"".join(shown.streaming_content) == mandate.document.read()
        assert "attachment" not in shown.get("Content-Disposition", "")
        assert shown["X-Frame-Options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in shown["Content-Security-Policy"]
        download = client.get(_url("mandate_sign_document", mandate) + "?telecharger=1")
        assert 'attachment; filename="mandat-R001.pdf"' == download["Content-Disposition"]
        # The console's own pages stay unframed.
        assert client.get(_url("mandate_sign", mandate))["X-Frame-Options"] == "DENY"

    @pytest.mark.parametrize(
        "tamper",
        [
            _tampered,  # the HMAC
            lambda t: "0" * 32 + t[32:],  # another mandate's id
            lambda t: t.split("-")[0] + "-zzzzzz-" + t.split("-")[2],  # another time
            lambda t: "nimportequoi",
            lambda t: t + "-x",
        ],
    )
    def test_a_tampered_token_leads_nowhere(self, client, mandate, tamper):
        token = tamper(_token(mandate))
        response = client.get(_url("mandate_sign", token))
        assert response.status_code == 404
        assert "Ce lien de signature n'est pas valide" in response.content.decode()
        assert client.get(_url("mandate_sign_document", token)).status_code == 404
        assert client.post(_url("mandate_sign_code", token)).status_code == 404
        mandate.refresh_from_db()
        assert mandate.state == MandateState.SENT and mandate.codes_sent == 0

    def test_it_expires_after_the_days_set(self, client, mandate, settings):
        sent = mandate.sent_at.timestamp()
        token = _token(mandate)
        issued = datetime.fromtimestamp(int(sent), UTC)  # the token counts whole seconds
        assert signing.link_resolve(token, now=issued + timedelta(days=30)).state == "open"
        later = issued + timedelta(days=30, seconds=1)
        assert signing.link_resolve(token, now=later).state == "expired"
        settings.MANDATE_LINK_DAYS = 45
        assert signing.link_resolve(token, now=later).state == "open"
        settings.MANDATE_LINK_DAYS = 30
        old = tokens.make_token(mandate, now=sent - 31 * 86400)
        response = client.get(_url("mandate_sign", old))
        assert response.status_code == 410
        assert "Ce lien de signature a expiré" in response.content.decode()
        assert client.post(_url("mandate_sign_code", old)).status_code == 410
        mandate.refresh_from_db()
        assert mandate.state == MandateState.SENT and not mandate.codes_sent

    def test_a_link_of_a_replaced_mandate_says_so(self, client, mandate, ready, bob):
        services.mandate_send(client=ready, actor=bob)  # a new one replaces it
        response = client.get(_url("mandate_sign", mandate))
        assert response.status_code == 410
        assert "Ce mandat n'est plus à signer" in response.content.decode()
        assert client.post(_url("mandate_sign_code", mandate)).status_code == 410
        assert not OutboundEmail.objects.filter(kind="reform.mandate_code").exists()

    def test_wrong_methods(self, client, mandate):
        assert client.post(_url("mandate_sign", mandate)).status_code == 405
        assert client.post(_url("mandate_sign_document", mandate)).status_code == 405
        names = ("mandate_sign_open", "mandate_sign_code", "mandate_sign_verify")
        for name in (*names, "mandate_sign_submit"):
            assert client.get(_url(name, mandate)).status_code == 405


# --- The one-time code -----------------------------------------------------------------------


class TestCode:
    def test_it_is_sent_to_the_representative_and_only_its_hash_kept(self, mandate, ready):
        now = timezone.now()
        mandate = signing.mandate_code_send(mandate=mandate, now=now)
        code = _last_code(mandate)
        email = OutboundEmail.objects.get(kind="reform.mandate_code")
        assert email.to == "jeanne@elan.fr" and code in email.subject
        assert "valable 10 minutes" in email.text
        row = Mandate.objects.filter(pk=mandate.pk).values().get()
        assert code not in repr(row) and len(row["code_hash"]) == 64
        assert _kinds(ready)[-1] == "reform.mandate_code_sent"

    def test_it_is_valid_ten_minutes(self, mandate):
        sent = timezone.now()
        mandate = signing.mandate_code_send(mandate=mandate, now=sent)
        code = _last_code(mandate)
        with pytest.raises(ValidationError) as exc:
            signing.mandate_code_verify(
                mandate=mandate, code=code, now=sent + timedelta(minutes=10, seconds=1)
            )
        assert exc.value.message_dict["code"] == [signing.CODE_EXPIRED]
        verified = signing.mandate_code_verify(
            mandate=mandate, code=code, now=sent + timedelta(minutes=10)
        )
        assert verified.code_verified_at == sent + timedelta(minutes=10)
        assert verified.code_tries == 1 and verified.code_hash == ""
        # Used: the same code does not work twice.
        with pytest.raises(ValidationError):
            signing.mandate_code_verify(mandate=mandate, code=code, now=sent)

    def test_five_wrong_codes_lock_the_link_and_tell_the_firm(self, client, mandate, ready, bob):
        now = timezone.now()
        mandate = signing.mandate_code_send(mandate=mandate, now=now)
        code = _last_code(mandate)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for left in (4, 3, 2, 1):
            with pytest.raises(ValidationError) as exc:
                signing.mandate_code_verify(mandate=mandate, code=wrong, now=now)
            assert exc.value.message_dict["code"] == [signing.CODE_WRONG.format(left=left)]
        mandate.refresh_from_db()
        # Kept (asking for the code opened it).
        assert mandate.code_failures == 4 and mandate.state == MandateState.OPENED
        with pytest.raises(ValidationError) as exc:
            signing.mandate_code_verify(mandate=mandate, code=wrong, now=now)
        assert "bloqué" in exc.value.message_dict["code"][0]
        mandate.refresh_from_db()
        assert mandate.state == MandateState.LOCKED and mandate.locked_at == now
        assert _kinds(ready)[-1] == "reform.mandate_locked"
        notice = OutboundEmail.objects.get(kind="reform.mandate_locked")
        assert notice.to == bob.email and "Boulangerie Élan" in notice.subject
        assert "/clients/R001/#reforme" in notice.text
        # The right code no longer helps, nor a new one; the page says it is locked.
        with pytest.raises(ValidationError):
            signing.mandate_code_verify(mandate=mandate, code=code, now=now)
        with pytest.raises(ValidationError):
            signing.mandate_code_send(mandate=mandate, now=now + timedelta(hours=1))
        response = client.get(_url("mandate_sign", mandate))
        assert response.status_code == 403
        assert "Ce lien de signature est bloqué" in response.content.decode()
        # The firm can still take a scanned copy, or send a new mandate.
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.SENT

    def test_the_fifth_wrong_code_through_the_page(self, client, mandate):
        client.post(_url("mandate_sign_code", mandate))
        for _ in range(4):
            response = client.post(_url("mandate_sign_verify", mandate), {"code": "000000"})
            assert response.status_code == 400
            assert "Code incorrect" in response.content.decode()
        response = client.post(_url("mandate_sign_verify", mandate), {"code": "000000"})
        assert response.status_code == 403
        assert "Lien de signature bloqué" in response.content.decode()

    def test_a_mistyped_code_does_not_count(self, mandate):
        mandate = signing.mandate_code_send(mandate=mandate)
        for typed in ("", "12345", "abcdef", "1234567"):
            with pytest.raises(ValidationError) as exc:
                signing.mandate_code_verify(mandate=mandate, code=typed)
            assert exc.value.message_dict["code"] == [signing.CODE_FORMAT]
        mandate.refresh_from_db()
        assert mandate.code_failures == 0
        # Spaces, as mail apps show it grouped, are fine.
        code = _last_code(mandate)
        signing.mandate_code_verify(mandate=mandate, code=f" {code[:3]} {code[3:]} ")

    def test_a_new_code_waits_for_the_cooldown(self, client, mandate):
        start = timezone.now()
        mandate = signing.mandate_code_send(mandate=mandate, now=start)
        first = _last_code(mandate)
        with pytest.raises(ValidationError) as exc:
            signing.mandate_code_send(mandate=mandate, now=start + timedelta(seconds=30))
        assert exc.value.message_dict["code"] == [signing.CODE_WAIT.format(seconds=30)]
        assert OutboundEmail.objects.filter(kind="reform.mandate_code").count() == 1
        mandate = signing.mandate_code_send(mandate=mandate, now=start + timedelta(seconds=60))
        second = _last_code(mandate)
        assert mandate.codes_sent == 2
        if first != second:  # the first code stopped working
            with pytest.raises(ValidationError):
                signing.mandate_code_verify(
                    mandate=mandate, code=first, now=start + timedelta(seconds=61)
                )
        signing.mandate_code_verify(mandate=mandate, code=second, now=start + timedelta(seconds=62))

    def test_the_page_refuses_a_second_code_at_once(self, client, mandate):
        assert client.post(_url("mandate_sign_code", mandate)).status_code == 302
        response = client.post(_url("mandate_sign_code", mandate))
        assert response.status_code == 400
        assert "Vous pourrez en demander un autre dans" in response.content.decode()
        assert OutboundEmail.objects.filter(kind="reform.mandate_code").count() == 1


# --- Signing -------------------------------------------------------------------------------


class TestSign:
    def test_the_whole_journey_through_the_pages(self, client, mandate, ready):
        response = _sign_through_the_pages(client, mandate)
        assert response.status_code == 302
        mandate.refresh_from_db()
        ready.refresh_from_db()
        assert mandate.state == MandateState.SIGNED and mandate.signed_online
        assert mandate.is_signed and mandate.signed_by is None and mandate.signed_at
        assert ready.mandate_status == MandateStatus.SIGNED
        assert ready.mandate_signed_at == mandate.signed_at
        assert _kinds(ready) == [
            "reform.mandate_sent",
            "reform.mandate_opened",
            "reform.mandate_code_sent",
            "reform.mandate_signed",
        ]
        signed = ClientEvent.objects.get(client=ready, kind="reform.mandate_signed")
        assert signed.actor is None and "signé en ligne par Jeanne Martin" in signed.summary
        assert signed.changes == {"mandat": ["Mandat envoyé", "Mandat signé"]}
        evidence = mandate.evidence
        assert evidence["ip"] == "127.0.0.1" and evidence["user_agent"] == UA
        assert evidence["code_tries"] == 1 and evidence["signer_email"] == "jeanne@elan.fr"
        # The signer gets the sealed copy; the page offers it to this browser.
        copy = OutboundEmail.objects.get(kind="reform.mandate_signed")
        assert copy.to == "jeanne@elan.fr"
        sealed = mandate.signed_document.read()
        assert copy.decoded_attachments()[0][1] == sealed
        page = client.get(_url("mandate_sign", mandate)).content.decode()
        assert "Mandat signé" in page and "Télécharger le mandat signé (PDF)" in page
        download = client.get(_url("mandate_sign_document", mandate) + "?telecharger=1")
        assert b"".join(download.streaming_content) == sealed

    def test_the_firm_downloads_the_sealed_copy(self, client, bob_client, mandate):
        _sign_through_the_pages(client, mandate)
        mandate.refresh_from_db()
        response = bob_client.get(reverse("reform_mandate_download", args=["R001"]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == mandate.signed_document.read()
        page = bob_client.get(reverse("client_detail", args=["R001"])).content.decode()
        assert 'data-testid="mandate-download"' in page
        assert "Signé en ligne par Jeanne Martin" in page

    def test_consent_is_required(self, client, mandate):
        response = _sign_through_the_pages(client, mandate, consent="")
        assert response.status_code == 400
        assert signing.CONSENT_REQUIRED in response.content.decode()
        mandate.refresh_from_db()
        assert mandate.state == MandateState.OPENED and not mandate.signed_document

    def test_another_browser_must_confirm_its_own_identity(
        self, client, django_client_factory, mandate
    ):
        client.get(_url("mandate_sign", mandate))
        client.post(_url("mandate_sign_code", mandate))
        client.post(_url("mandate_sign_verify", mandate), {"code": _last_code(mandate)})
        other = django_client_factory()
        response = other.post(_url("mandate_sign_submit", mandate), {"consent": "1"})
        assert response.status_code == 400
        assert escape(signing.CODE_NOT_VERIFIED) in response.content.decode()
        mandate.refresh_from_db()
        assert mandate.state == MandateState.OPENED

    def test_a_verification_lasts_thirty_minutes(self, mandate):
        start = timezone.now()
        mandate = _verified(mandate, now=start)
        with pytest.raises(ValidationError) as exc:
            signing.mandate_sign_online(
                mandate=mandate,
                consent=True,
                ip="1.2.3.4",
                user_agent=UA,
                now=start + timedelta(minutes=30, seconds=1),
            )
        assert exc.value.message_dict["code"] == [signing.CODE_NOT_VERIFIED]

    def test_reusing_the_link_after_signing_signs_nothing(
        self, client, django_client_factory, mandate, ready
    ):
        _sign_through_the_pages(client, mandate)
        mandate.refresh_from_db()
        first = mandate.signed_document.name
        response = client.post(_url("mandate_sign_submit", mandate), {"consent": "1"})
        assert response.status_code == 200 and "Mandat signé" in response.content.decode()
        assert client.post(_url("mandate_sign_code", mandate)).status_code == 200
        mandate.refresh_from_db()
        assert mandate.signed_document.name == first
        assert _kinds(ready).count("reform.mandate_signed") == 1
        assert OutboundEmail.objects.filter(kind="reform.mandate_code").count() == 1
        # Another browser with the link learns it is signed, without the copy.
        other = django_client_factory()
        page = other.get(_url("mandate_sign", mandate)).content.decode()
        assert "Mandat signé" in page and "Télécharger le mandat signé" not in page
        assert other.get(_url("mandate_sign_document", mandate)).status_code == 404

    def test_a_scanned_copy_can_still_be_uploaded_once_opened(
        self, client, bob_client, mandate, ready
    ):
        client.get(_url("mandate_sign", mandate))
        client.post(_url("mandate_sign_open", mandate), HTTP_HX_REQUEST="true")
        page = bob_client.get(reverse("client_detail", args=["R001"])).content.decode()
        assert "Déposer le mandat signé" in page
        assert "Lien de signature ouvert par le client le" in page
        with mandate.document.open("rb") as file:
            response = bob_client.post(
                reverse("reform_mandate_upload", args=["R001"]), {"file": file}
            )
        assert response.status_code == 302
        mandate.refresh_from_db()
        assert mandate.state == MandateState.SIGNED and not mandate.signed_online
        # The link then says it is signed.
        assert "Mandat signé" in client.get(_url("mandate_sign", mandate)).content.decode()


class TestSeal:
    def test_the_sealed_pdf_validates_and_carries_the_evidence(self, mandate):
        original = mandate.document.read()
        mandate = _verified(mandate)
        signed = signing.mandate_sign_online(
            mandate=mandate, consent=True, ip="203.0.113.7", user_agent=UA
        )
        sealed = signed.signed_document.read()
        reader = PdfFileReader(io.BytesIO(sealed))
        [signature] = reader.embedded_signatures
        status = validate_pdf_signature(
            signature, ValidationContext(trust_roots=[sealer().trust_root])
        )
        assert status.intact and status.valid and status.trusted and status.bottom_line
        assert status.coverage.name == "ENTIRE_FILE"
        assert signature.field_name == "SceauVigie"
        # The original's pages, then the evidence page naming the original's SHA-256.
        pages = PdfReader(io.BytesIO(sealed)).pages
        assert len(pages) == len(PdfReader(io.BytesIO(original)).pages) + 1
        evidence = " ".join(pages[-1].extract_text().split())
        digest = sha256(original)
        assert signed.evidence["original_sha256"] == digest == signed.document_sha256
        assert digest in evidence.replace(" ", "") or digest in evidence
        for text in (
            "Dossier de preuve",
            "Jeanne Martin <jeanne@elan.fr>",
            "203.0.113.7",
            "Chrome/130.0",
            "en 1 essai",
            "heure de Paris",
        ):
            assert text in evidence, text
        assert signed.evidence["sealed_sha256"] == sha256(sealed)

    def test_a_changed_byte_breaks_the_seal(self, mandate):
        mandate = _verified(mandate)
        signed = signing.mandate_sign_online(mandate=mandate, consent=True, ip="", user_agent="")
        sealed = bytearray(signed.signed_document.read())
        at = sealed.index(b"Mandat de facturation")  # in the document's metadata
        sealed[at] = ord("m")
        [signature] = PdfFileReader(io.BytesIO(bytes(sealed))).embedded_signatures
        status = validate_pdf_signature(
            signature, ValidationContext(trust_roots=[sealer().trust_root])
        )
        assert not status.intact and not status.bottom_line

    def test_a_stored_document_that_changed_is_not_signed(self, mandate):
        mandate = _verified(mandate)
        with open(mandate.document.path, "ab") as file:
            file.write(b"\n% changed\n")
        with pytest.raises(ValidationError) as exc:
            signing.mandate_sign_online(mandate=mandate, consent=True, ip="", user_agent="")
        assert exc.value.message_dict["mandate"] == [signing.DOCUMENT_CHANGED]
        mandate.refresh_from_db()
        # Unsigned, as it was (opened when its code was asked for).
        assert mandate.state == MandateState.OPENED and not mandate.signed_document

    def test_evidence_text_outside_the_pdf_fonts_is_drawn(self, mandate):
        mandate = _verified(mandate)
        signed = signing.mandate_sign_online(
            mandate=mandate, consent=True, ip="::1", user_agent="Navigateur 🦊 " + "x" * 600
        )
        text = _pdf_text(signed.signed_document.read())
        assert "Navigateur ?" in text


# --- Two tabs, and a failure half-way --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_two_tabs_signing_at_once_give_one_signature(self, firm_a, bob, media):
        client = ClientFactory(firm=firm_a, code="T001", name="Deux Onglets", siret=SIRET)
        ContactFactory(client=client, email="tabs@onglets.fr", is_principal=True)
        mandate = _verified(services.mandate_send(client=client, actor=bob))
        barrier = threading.Barrier(2)
        results, errors = [], []

        def tab():
            try:
                mine = Mandate.objects.get(pk=mandate.pk)  # each tab read the page itself
                barrier.wait()
                results.append(
                    signing.mandate_sign_online(
                        mandate=mine, consent=True, ip="127.0.0.1", user_agent=UA
                    )
                )
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connection.close()  # each thread has its own connection

        threads = [threading.Thread(target=tab) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors, errors
        assert len(results) == 2
        assert {r.signed_document.name for r in results} == {results[0].signed_document.name}
        assert ClientEvent.objects.filter(client=client, kind="reform.mandate_signed").count() == 1
        assert OutboundEmail.objects.filter(kind="reform.mandate_signed").count() == 1
        files = list((media / "reform" / "mandates").glob("signe-*.pdf"))
        assert len(files) == 1  # the tab that lost stored nothing

    def test_a_failure_before_the_commit_signs_nothing_and_a_retry_seals(self, firm_a, bob, media):
        client = ClientFactory(firm=firm_a, code="F001", name="Panne", siret=SIRET)
        ContactFactory(client=client, email="panne@panne.fr", is_principal=True)
        mandate = _verified(services.mandate_send(client=client, actor=bob))
        # The database refuses the client's update, after the sealed file is stored: what
        # a process killed before its commit leaves.
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION sign_test_refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql;"
                "CREATE TRIGGER sign_test_refuse BEFORE UPDATE OF mandate_status ON "
                "clients_client FOR EACH ROW EXECUTE FUNCTION sign_test_refuse();"
            )
        try:
            with pytest.raises(Exception, match="refused"):
                signing.mandate_sign_online(mandate=mandate, consent=True, ip="", user_agent="")
        finally:
            with connection.cursor() as cursor:
                cursor.execute(
                    "DROP TRIGGER sign_test_refuse ON clients_client;"
                    "DROP FUNCTION sign_test_refuse();"
                )
        mandate.refresh_from_db()
        # Unsigned, as it was (opened when its code was asked for).
        assert mandate.state == MandateState.OPENED and not mandate.signed_document
        assert Client.objects.get(pk=client.pk).mandate_status == MandateStatus.SENT
        assert not list((media / "reform" / "mandates").glob("signe-*.pdf"))
        assert not OutboundEmail.objects.filter(kind="reform.mandate_signed").exists()
        # Signing again seals again.
        signed = signing.mandate_sign_online(mandate=mandate, consent=True, ip="", user_agent="")
        assert signed.state == MandateState.SIGNED
        assert len(list((media / "reform" / "mandates").glob("signe-*.pdf"))) == 1


# --- Tenancy -----------------------------------------------------------------------------------


class TestTenancy:
    def test_another_firm_sees_nothing_of_the_signed_mandate(
        self, client, charlie_client, charlie, firm_b, mandate
    ):
        _sign_through_the_pages(client, mandate)
        mandate.refresh_from_db()
        own = ClientFactory(firm=firm_b, code="B001")
        for url in (
            reverse("reform_mandate_download", args=["R001"]),
            reverse("reform_mandate_document", args=["R001", mandate.public_id]),
            reverse("reform_mandate_document", args=[own.code, mandate.public_id]),
            reverse("reform_mandate_download", args=[own.code]),
            reverse("client_detail", args=["R001"]),
            reverse("reform_client", args=["R001"]),
            # The public link's copy is the signer's browser's alone.
            _url("mandate_sign_document", mandate) + "?telecharger=1",
        ):
            assert charlie_client.get(url).status_code == 404, url
        page = charlie_client.get(_url("mandate_sign", mandate)).content.decode()
        assert "Télécharger le mandat signé" not in page

    def test_the_signing_pages_need_no_sign_in_and_ignore_one(self, bob_client, mandate):
        # A collaborator following the link is not the signer: no shortcut, same steps.
        response = bob_client.post(_url("mandate_sign_submit", mandate), {"consent": "1"})
        assert response.status_code == 400
        mandate.refresh_from_db()
        assert mandate.state != MandateState.SIGNED


# --- The signatory and the register's directors --------------------------------------------


class TestSignatory:
    def test_names_match_whatever_the_case_accents_and_first_names(self):
        directors = [{"name": "Jeanne Marie MARTIN", "role": "Gérante"}]
        assert is_listed("Jeanne Martin", directors)
        assert is_listed("jeanne MARTÍN", directors)
        assert not is_listed("Paul Martin", directors)
        assert not is_listed("", directors)
        assert is_listed("Jean-Pierre Dupont", [{"name": "Jean-Pierre DUPONT", "role": ""}])

    def _directors(self, client, *names):
        RegisterCheck.objects.create(
            firm=client.firm,
            client=client,
            register=Register.SIRENE,
            status=CheckStatus.UP_TO_DATE,
            checked_at=timezone.now(),
            attempted_at=timezone.now(),
            values={"directors": [{"name": n, "role": "Gérant"} for n in names]},
        )

    def test_the_panel_warns_before_sending_and_on_the_signed_mandate(
        self, client, bob_client, ready, bob
    ):
        detail = reverse("client_detail", args=["R001"])
        assert SIGNATORY_UNLISTED not in bob_client.get(detail).content.decode()  # unknown
        self._directors(ready, "Paul DURAND")
        page = bob_client.get(detail).content.decode()
        assert f"{SIGNATORY_UNLISTED} (Jeanne Martin)" in page
        assert (
            SIGNATORY_UNLISTED
            in bob_client.get(reverse("reform_client", args=["R001"])).content.decode()
        )
        mandate = services.mandate_send(client=ready, actor=bob)
        _sign_through_the_pages(client, mandate)
        page = bob_client.get(detail).content.decode()
        assert "Signé en ligne par Jeanne Martin" in page and SIGNATORY_UNLISTED in page

    def test_no_warning_when_the_signatory_is_a_director(self, bob_client, ready):
        self._directors(ready, "Paul DURAND", "Jeanne Marie MARTIN")
        page = bob_client.get(reverse("client_detail", args=["R001"])).content.decode()
        assert SIGNATORY_UNLISTED not in page


def test_sealing_takes_well_under_a_second(mandate):
    """Sealed in the request: the whole file (evidence page, merge, seal)."""
    mandate = _verified(mandate)
    sealer()  # the certificate is loaded once per process
    start = time.perf_counter()
    signing.mandate_sign_online(mandate=mandate, consent=True, ip="", user_agent=UA)
    assert time.perf_counter() - start < 1.0


def test_sealing_works_where_an_event_loop_already_runs(media):
    """pyHanko's synchronous API runs its own event loop: in a thread already running one
    (an ASGI server's, a browser driver's), the seal is made in a thread of its own."""
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    original = bytes(document.output())

    async def in_a_running_loop() -> bytes:
        return sealer().seal(original, reason="Essai")

    def scenario():
        # A thread of its own, free of any loop a test driver may run in this one.
        sealed = asyncio.run(in_a_running_loop())
        [signature] = PdfFileReader(io.BytesIO(sealed)).embedded_signatures
        context = ValidationContext(trust_roots=[sealer().trust_root])
        return validate_pdf_signature(signature, context)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        status = pool.submit(scenario).result()
    assert status.intact and status.valid
