"""Reform views: happy paths, charlie's 404 everywhere, wrong methods, bad input."""

from __future__ import annotations

from datetime import date
from functools import cache

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import ClientFactory
from vigie.clients.models import Client, ClientEvent, MandateStatus, PaStatus
from vigie.mail.models import OutboundEmail
from vigie.reform import services
from vigie.reform.models import Mandate, ReformEmailTemplate
from vigie.reform.pdf import MandateData, mandate_pdf

SIRET = "84523656100013"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@cache  # one PDF per run: two builds a second apart differ by their creation time
def _pdf() -> bytes:
    return mandate_pdf(MandateData("C", "E", "845236561", SIRET, "J", "j@x.fr", date.today(), "r"))


def _url(name, client=None, *args):
    return reverse(name, args=[client.code, *args] if client else list(args))


def _signed(client, actor):
    services.mandate_send(client=client, actor=actor)
    return services.mandate_upload_signed(
        client=client, actor=actor, upload=SimpleUploadedFile("s.pdf", _pdf())
    )


CLIENT_POSTS = [
    ("reform_client_sensitise", {"sensitised": "1"}),
    ("reform_mandate_send", {}),
    ("reform_mandate_prepare", {}),
    ("reform_mandate_draft_send", {}),
    ("reform_mandate_draft_delete", {}),
    ("reform_mandate_revoke", {"reason": "Fin de mission"}),
    ("reform_mandate_regenerate", {}),
    ("reform_client_pa", {"pa_status": "invite"}),
]


class TestTenancy:
    @pytest.mark.parametrize(("name", "data"), CLIENT_POSTS)
    def test_charlie_gets_404_on_every_action(self, charlie_client, ready, alice, name, data):
        response = charlie_client.post(_url(name, ready), data)
        assert response.status_code == 404
        assert not ClientEvent.objects.filter(client=ready).exists()

    def test_charlie_gets_404_on_uploads_and_downloads(self, charlie_client, ready, alice):
        mandate = _signed(ready, alice)
        upload = SimpleUploadedFile("s.pdf", _pdf())
        assert (
            charlie_client.post(_url("reform_mandate_upload", ready), {"file": upload}).status_code
            == 404
        )
        assert charlie_client.get(_url("reform_mandate_download", ready)).status_code == 404
        document = _url("reform_mandate_document", ready, mandate.public_id)
        assert charlie_client.get(document).status_code == 404
        assert charlie_client.get(_url("reform_client", ready)).status_code == 404

    def test_charlie_cannot_reach_a_mandate_through_his_own_client(
        self, charlie_client, charlie, ready, alice, firm_b
    ):
        mandate = _signed(ready, alice)
        ClientFactory(firm=firm_b, code="R001")  # same code, other firm
        response = charlie_client.get(_url("reform_mandate_document", ready, mandate.public_id))
        assert response.status_code == 404
        assert charlie_client.get(_url("reform_mandate_download", ready)).status_code == 404

    def test_charlies_selection_cannot_touch_firm_a(self, charlie_client, ready):
        response = charlie_client.post(reverse("reform_sensitise_selection"), {"codes": ["R001"]})
        assert response.status_code == 302
        ready.refresh_from_db()
        assert not ready.sensitised

    def test_charlies_dashboard_counts_only_his_firm(self, charlie_client, ready):
        response = charlie_client.get(reverse("reform_dashboard"))
        assert response.status_code == 200
        assert [f.total for f in response.context["figures"]] == [0, 0, 0, 0]

    def test_anonymous_is_sent_to_sign_in(self, client, ready):
        response = client.get(reverse("reform_dashboard"))
        assert response.status_code == 302 and "/compte/login/" in response["Location"]


class TestMethods:
    @pytest.mark.parametrize(("name", "data"), [*CLIENT_POSTS, ("reform_mandate_upload", {})])
    def test_actions_refuse_get(self, alice_client, ready, name, data):
        assert alice_client.get(_url(name, ready)).status_code == 405

    def test_reads_refuse_post(self, alice_client, ready, alice):
        _signed(ready, alice)
        assert alice_client.post(_url("reform_mandate_download", ready)).status_code == 405
        assert alice_client.post(reverse("reform_dashboard")).status_code == 405
        assert alice_client.post(_url("reform_client", ready)).status_code == 405
        assert alice_client.get(reverse("reform_sensitise_selection")).status_code == 405
        assert alice_client.delete(reverse("reform_template")).status_code == 405


class TestClientActions:
    def test_the_client_page_shows_the_panel(self, alice_client, ready):
        response = alice_client.get(_url("client_detail", ready))
        html = response.content.decode()
        assert 'id="reforme"' in html and "Générer et envoyer le mandat" in html
        assert "Marquer sensibilisé" in html

    def test_it_sensitises_with_the_email(self, alice_client, ready, alice):
        response = alice_client.post(
            _url("reform_client_sensitise", ready), {"sensitised": "1", "send_email": "1"}
        )
        assert response.status_code == 302 and response["Location"].endswith(
            "/clients/R001/#reforme"
        )
        ready.refresh_from_db()
        assert ready.sensitised and ready.sensitised_by == alice
        assert OutboundEmail.objects.get().to == "jeanne@elan.fr"
        page = alice_client.get(response["Location"]).content.decode()
        assert 'Oui <svg class="mark mark-yes"' in page and "par Alice Adam" in page

    def test_it_says_why_the_email_cannot_go(self, alice_client, firm_a):
        client = ClientFactory(firm=firm_a, code="N001")
        response = alice_client.post(_url("reform_client_sensitise", client), {"send_email": "1"})
        assert response.status_code == 400
        assert services.NO_PRINCIPAL_EMAIL.replace("'", "&#x27;") in response.content.decode()
        client.refresh_from_db()
        assert not client.sensitised

    def test_it_sends_uploads_downloads_and_revokes(self, alice_client, ready):
        assert alice_client.post(_url("reform_mandate_send", ready)).status_code == 302
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.SENT
        mandate = Mandate.objects.get()
        document = alice_client.get(_url("reform_mandate_document", ready, mandate.public_id))
        assert document["Content-Type"] == "application/pdf"
        assert b"".join(document.streaming_content).startswith(b"%PDF-")
        # Not signed yet: nothing to download.
        assert alice_client.get(_url("reform_mandate_download", ready)).status_code == 404

        upload = SimpleUploadedFile("scan.pdf", _pdf(), content_type="application/pdf")
        response = alice_client.post(_url("reform_mandate_upload", ready), {"file": upload})
        assert response.status_code == 302
        download = alice_client.get(_url("reform_mandate_download", ready))
        assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
        assert 'filename="mandat-R001-signe.pdf"' in download["Content-Disposition"]
        assert b"".join(download.streaming_content) == _pdf()

        response = alice_client.post(_url("reform_mandate_revoke", ready), {"reason": "Fin"})
        assert response.status_code == 302
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.REVOKED
        assert alice_client.get(_url("reform_mandate_download", ready)).status_code == 404

    def test_it_says_what_is_missing_for_a_mandate(self, alice_client, firm_a):
        client = ClientFactory(firm=firm_a, code="N002", siret="")
        response = alice_client.post(_url("reform_mandate_send", client))
        assert response.status_code == 400
        html = response.content.decode()
        assert "Le SIRET du client est manquant ou invalide" in html
        assert "pas de contact principal" in html
        assert not Mandate.objects.exists()

    @pytest.mark.parametrize(
        ("content", "message"),
        [(b"", "Le fichier est vide."), (b"not a pdf", "Le fichier n&#x27;est pas un PDF valide.")],
    )
    def test_it_refuses_a_bad_upload(self, alice_client, ready, alice, content, message):
        services.mandate_send(client=ready, actor=alice)
        upload = SimpleUploadedFile("mandat.pdf", content, content_type="application/pdf")
        response = alice_client.post(_url("reform_mandate_upload", ready), {"file": upload})
        assert response.status_code == 400
        assert message in response.content.decode()
        ready.refresh_from_db()
        assert ready.mandate_status == MandateStatus.SENT

    def test_it_refuses_an_upload_without_file(self, alice_client, ready, alice):
        services.mandate_send(client=ready, actor=alice)
        response = alice_client.post(_url("reform_mandate_upload", ready))
        assert response.status_code == 400
        assert services.FILE_REQUIRED in response.content.decode()

    def test_it_records_a_pa_registration(self, alice_client, ready):
        response = alice_client.post(
            _url("reform_client_pa", ready),
            {
                "pa_status": "inscrit",
                "pa_name": "Plateforme Exemple",
                "pa_registered_at": "2026-09-15",
            },
        )
        assert response.status_code == 302
        ready.refresh_from_db()
        assert (ready.pa_status, ready.pa_name, ready.pa_registered_at) == (
            PaStatus.REGISTERED,
            "Plateforme Exemple",
            date(2026, 9, 15),
        )
        page = alice_client.get(_url("client_detail", ready)).content.decode()
        assert "Inscrit auprès de Plateforme Exemple depuis le 15/09/2026" in page

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (
                {"pa_status": "inscrit", "pa_registered_at": "2026-09-15"},
                "Indiquez la plateforme agréée",
            ),
            (
                {"pa_status": "inscrit", "pa_name": "X", "pa_registered_at": "15/13/2026"},
                "Saisissez une date valide.",
            ),
            ({"pa_status": "nimporte"}, "Sélectionnez un choix valide"),
        ],
    )
    def test_it_refuses_a_bad_pa_form(self, alice_client, ready, data, message):
        response = alice_client.post(_url("reform_client_pa", ready), data)
        assert response.status_code == 400
        assert message in response.content.decode()
        ready.refresh_from_db()
        assert ready.pa_status == PaStatus.ABSENT


class TestSelection:
    def test_it_marks_the_ticked_rows(self, alice_client, firm_a, ready):
        other = ClientFactory(firm=firm_a, code="R002")
        untouched = ClientFactory(firm=firm_a, code="R003")
        response = alice_client.post(
            reverse("reform_sensitise_selection"),
            {"codes": ["R001", "R002"], "query": "view=equipement&sensi=non"},
        )
        assert response.status_code == 302 and response["Location"] == "/?view=equipement&sensi=non"
        assert set(Client.objects.filter(sensitised=True).values_list("code", flat=True)) == {
            "R001",
            "R002",
        }
        untouched.refresh_from_db()
        assert not untouched.sensitised and other
        messages = [str(m) for m in alice_client.get("/").context["messages"]]
        assert "2 client(s) marqué(s) sensibilisé(s)." in messages

    def test_it_marks_every_row_matching_the_filters(
        self, alice_client, firm_a, firm_b, bob, ready
    ):
        from vigie.clients.models import ClientAssignment

        mine = ClientFactory.create_batch(3, firm=firm_a)
        for client in mine:
            ClientAssignment.objects.create(firm=firm_a, client=client, user=bob)
        foreign = ClientFactory(firm=firm_b)
        response = alice_client.post(
            reverse("reform_sensitise_selection"), {"all": "1", "query": f"collab={bob.id}"}
        )
        assert response.status_code == 302
        assert set(Client.objects.filter(sensitised=True)) == set(mine)
        ready.refresh_from_db()
        foreign.refresh_from_db()
        assert not ready.sensitised and not foreign.sensitised

    def test_it_can_send_the_information_email(self, alice_client, ready, firm_a):
        ClientFactory(firm=firm_a, code="R009")
        response = alice_client.post(
            reverse("reform_sensitise_selection"), {"codes": ["R001", "R009"], "send_email": "1"}
        )
        assert response.status_code == 302
        assert OutboundEmail.objects.count() == 1
        messages = [str(m) for m in alice_client.get("/").context["messages"]]
        assert "1 client(s) sans contact principal avec e-mail" in messages[0]

    def test_it_needs_a_selection(self, alice_client, ready):
        response = alice_client.post(reverse("reform_sensitise_selection"), {})
        assert response.status_code == 302
        assert not Client.objects.filter(sensitised=True).exists()


class TestTemplate:
    def test_admin_edits_the_information_email(self, alice_client, firm_a):
        response = alice_client.get(reverse("reform_template"))
        html = response.content.decode()
        # The invitations' placeholders, with the same names and words.
        assert response.status_code == 200 and "{client}" in html and "{collaborateur}" in html
        assert "la raison sociale du client" in html
        response = alice_client.post(
            reverse("reform_template"), {"subject": "Réforme", "body": "Bonjour {contact}"}
        )
        assert response.status_code == 302
        template = ReformEmailTemplate.objects.get(firm=firm_a)
        assert (template.subject, template.body) == ("Réforme", "Bonjour {contact}")

    def test_it_refuses_an_empty_template(self, alice_client):
        response = alice_client.post(reverse("reform_template"), {"subject": "", "body": ""})
        assert response.status_code == 400
        assert "L&#x27;objet est obligatoire." in response.content.decode()
        assert not ReformEmailTemplate.objects.exists()

    def test_a_collaborator_or_charlie_cannot_edit_firm_as_template(
        self, bob_client, charlie_client, alice, firm_a
    ):
        assert bob_client.get(reverse("reform_template")).status_code == 404
        charlie_client.post(reverse("reform_template"), {"subject": "X", "body": "Y"})
        assert not ReformEmailTemplate.objects.filter(firm=firm_a).exists()
