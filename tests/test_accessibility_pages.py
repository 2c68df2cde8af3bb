"""Accessibility rules of the templates, server side (the browser audit is in
test_accessibility_browser.py): what a screen reader is told, in the HTML itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from vigie.mail import services as mail_services

pytestmark = pytest.mark.django_db


def test_it_titles_the_contact_form_page_with_an_h1(alice_client, client_a):
    response = alice_client.get("/clients/A001/contacts/nouveau/")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r"<h1 class=\"form-title\">\s*Ajouter un contact\s*</h1>", html)


def test_it_titles_the_contact_dialog_with_an_h2(alice_client, client_a):
    response = alice_client.get("/clients/A001/contacts/nouveau/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<h1" not in html
    assert re.search(r"<h2 class=\"form-title\">\s*Ajouter un contact\s*</h2>", html)


def test_it_keeps_the_h1_when_the_page_shows_errors(alice_client, client_a):
    response = alice_client.post("/clients/A001/contacts/nouveau/", {"first_name": ""})
    html = response.content.decode()
    assert response.status_code in (200, 422)
    assert re.search(r"<h1 class=\"form-title\">", html)
    assert 'role="alert"' in html


class _Ids(HTMLParser):
    """The ids of a page, and the ids its aria-describedby / aria-labelledby point at."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []
        self.invalid: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for name in ("aria-describedby", "aria-labelledby"):
            for ref in (attrs.get(name) or "").split():
                self.refs.append((attrs.get("name") or tag, ref))
        if attrs.get("aria-invalid") == "true":
            self.invalid.append(attrs.get("name") or tag)


def _ids(html: str) -> _Ids:
    parser = _Ids()
    parser.feed(html)
    return parser


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/clients/A001/contacts/nouveau/", {"email": "pas-une-adresse"}),
        ("/clients/nouveau/", {"name": ""}),
    ],
)
def test_every_field_error_is_where_the_field_points(alice_client, client_a, url, data):
    response = alice_client.post(url, data)
    page = _ids(response.content.decode())
    assert page.invalid  # the fields in error say so
    missing = [(field, ref) for field, ref in page.refs if ref not in page.ids]
    assert not missing, missing
    assert any(ref.endswith("_error") for _field, ref in page.refs)


def test_it_points_the_sign_in_fields_at_their_errors(client, alice):
    response = client.post("/compte/login/", {"login": "", "password": ""})
    html = response.content.decode()
    page = _ids(html)
    assert set(page.invalid) == {"login", "password"}
    assert ("login", "id_login_error") in page.refs and "id_login_error" in page.ids
    assert ("password", "id_password_error") in page.refs and "id_password_error" in page.ids


def test_it_leaves_a_valid_sign_in_field_unmarked(client):
    page = _ids(client.get("/compte/login/").content.decode())
    assert not page.invalid and not page.refs


def test_it_titles_the_local_mailboxs_message_frame(firm_a, settings, tmp_path, alice_client):
    """/dev/mail/ (DEBUG only) shows a message's HTML part in a frame: a frame needs a
    title for a screen reader (axe's frame-title)."""
    settings.EMAIL_BACKEND = "vigie.mail.backends.MailboxBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    settings.DEBUG = True
    email = mail_services.email_queue(
        firm=firm_a,
        to="jeanne@example.fr",
        subject="Votre compte Shine",
        text="Bonjour Jeanne,",
        html="<p>Bonjour Jeanne,</p>",
        reply_to="bob@alpha.fr",
        from_name="Cabinet Alpha",
        kind="test",
    )
    mail_services.email_deliver(email.pk)
    [path] = list(tmp_path.glob("*.eml"))
    html = alice_client.get(f"/dev/mail/{path.name}/").content.decode()
    frame = re.search(r"<iframe[^>]*>", html).group(0)
    assert 'title="Contenu HTML de l\'e-mail"' in frame
