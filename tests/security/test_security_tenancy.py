"""Tenant isolation, generated from the URLconf and the OpenAPI schema.

Every route whose pattern names an object is requested by charlie (firm B) on firm A's
object, with GET, POST and htmx's header: the answer is a 404 (or a 405 for a method the
view never accepts), the same as for an object that does not exist. A new parametrised
route fails `test_every_parametrised_route_is_covered` until it is added below, either to
COVERED (with the URL of a firm A object) or to ALLOWED (with the reason).
"""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.security.urlconf import routes
from vigie.api.models import ApiKey
from vigie.campaigns.models import Campaign, Target
from vigie.campaigns.services import campaign_launch
from vigie.clients.models import Client, ClientAssignment, ClientEvent, Contact
from vigie.clients.portfolio.query import query_for
from vigie.exports.models import PortfolioExport
from vigie.exports.services import export_request, export_run
from vigie.firms.models import Membership
from vigie.imports.models import ImportJob
from vigie.integrations.models import IntegrationSecret
from vigie.invitations.models import BulkInvitation, Invitation
from vigie.mail.models import OutboundEmail
from vigie.reform.models import Mandate


def _campaign(w) -> Campaign:
    """Firm A's campaign (a mandate campaign over its client A001)."""
    campaign = Campaign.objects.filter(firm=w.firm_a).first()
    if campaign is None:
        campaign = campaign_launch(
            firm=w.firm_a, actor=w.alice, kind="mandat", client_ids=[w.client.pk]
        )
    return campaign


def _export(w) -> PortfolioExport:
    """Alice's export of firm A's portfolio (prepared by the worker: written here)."""
    job = PortfolioExport.objects.filter(firm=w.firm_a).first()
    if job is None:
        query, _ = query_for(w.firm_a, w.alice, {})
        job = export_request(firm=w.firm_a, user=w.alice, params=query.params, fmt="csv", rows=2)
        export_run(export_id=job.pk)
    return job


# name -> the URL kwargs of firm A's object.
COVERED = {
    "collaborator_role": lambda w: {"user_id": w.bob.public_id},
    "collaborator_active": lambda w: {"user_id": w.bob.public_id},
    "api_key_revoke": lambda w: {"key_id": w.api_key.public_id},
    "integration_secret_revoke": lambda w: {"secret_id": w.secret.public_id},
    "import_detail": lambda w: {"job_id": w.job.public_id},
    "import_start": lambda w: {"job_id": w.job.public_id},
    "import_resume": lambda w: {"job_id": w.job.public_id},
    "import_progress": lambda w: {"job_id": w.job.public_id},
    "import_report": lambda w: {"job_id": w.job.public_id},
    "import_registry_fill": lambda w: {"job_id": w.job.public_id},
    "import_registry_progress": lambda w: {"job_id": w.job.public_id},
    "import_registry_accept": lambda w: {"job_id": w.job.public_id},
    "reform_client": lambda w: {"code": w.client.code},
    "reform_client_sensitise": lambda w: {"code": w.client.code},
    "reform_mandate_send": lambda w: {"code": w.client.code},
    "reform_mandate_prepare": lambda w: {"code": w.client.code},
    "reform_mandate_draft_send": lambda w: {"code": w.client.code},
    "reform_mandate_draft_delete": lambda w: {"code": w.client.code},
    "reform_mandate_upload": lambda w: {"code": w.client.code},
    "reform_mandate_revoke": lambda w: {"code": w.client.code},
    "reform_mandate_regenerate": lambda w: {"code": w.client.code},
    "reform_mandate_download": lambda w: {"code": w.client.code},
    "reform_mandate_document": lambda w: {
        "code": w.client.code,
        "mandate_id": w.mandate.public_id,
    },
    "reform_client_pa": lambda w: {"code": w.client.code},
    "equipment_dialog": lambda w: {"code": w.client.code},
    "client_shine_panel": lambda w: {"code": w.client.code},
    "equipment_declare": lambda w: {"code": w.client.code},
    "equipment_remove": lambda w: {"code": w.client.code},
    "equipment_siret": lambda w: {"code": w.client.code},
    "equipment_contact": lambda w: {"code": w.client.code},
    "equipment_alias": lambda w: {"code": w.client.code},
    "equipment_shine": lambda w: {"code": w.client.code},
    "bulk_progress": lambda w: {"public_id": w.bulk.public_id},
    "invitation_send": lambda w: {"public_id": w.invitation.public_id},
    "invitation_resend": lambda w: {"public_id": w.invitation.public_id},
    "invitation_confirm": lambda w: {"public_id": w.invitation.public_id},
    "invitation_cancel": lambda w: {"public_id": w.invitation.public_id},
    "invitation_remind": lambda w: {"public_id": w.invitation.public_id},
    "shine_access": lambda w: {"code": w.client.code},
    "client_detail": lambda w: {"code": w.client.code},
    "client_details_update": lambda w: {"code": w.client.code},
    "client_notes_update": lambda w: {"code": w.client.code},
    "client_part": lambda w: {"code": w.client.code, "part": "banner"},
    "contact_create": lambda w: {"code": w.client.code},
    "contact_update": lambda w: {"code": w.client.code, "contact_id": w.contact.public_id},
    "contact_set_principal": lambda w: {
        "code": w.client.code,
        "contact_id": w.other_contact.public_id,
    },
    "contact_delete": lambda w: {"code": w.client.code, "contact_id": w.contact.public_id},
    "assignment_add": lambda w: {"code": w.client.code},
    "assignment_remove": lambda w: {"code": w.client.code, "user_id": w.bob.public_id},
    "client_registers": lambda w: {"code": w.client.code},
    "client_registers_check": lambda w: {"code": w.client.code},
    "registry_finding_take": lambda w: {"code": w.client.code},
    "registry_finding_dismiss": lambda w: {"code": w.client.code},
    "campaign_detail": lambda w: {"public_id": _campaign(w).public_id},
    "campaign_pause": lambda w: {"public_id": _campaign(w).public_id},
    "campaign_resume": lambda w: {"public_id": _campaign(w).public_id},
    "campaign_remind": lambda w: {"public_id": _campaign(w).public_id},
    "campaign_retry": lambda w: {"public_id": _campaign(w).public_id},
    "campaign_export": lambda w: {"public_id": _campaign(w).public_id, "fmt": "csv"},
    "export_detail": lambda w: {"public_id": _export(w).public_id},
    "export_download": lambda w: {"public_id": _export(w).public_id},
}

# Routes naming an object inside a client: charlie's OWN client code with firm A's object.
MIXED = {
    "reform_mandate_document": lambda w: {
        "code": w.charlie_client_row.code,
        "mandate_id": w.mandate.public_id,
    },
    "contact_update": lambda w: {
        "code": w.charlie_client_row.code,
        "contact_id": w.contact.public_id,
    },
    "contact_set_principal": lambda w: {
        "code": w.charlie_client_row.code,
        "contact_id": w.other_contact.public_id,
    },
    "contact_delete": lambda w: {
        "code": w.charlie_client_row.code,
        "contact_id": w.contact.public_id,
    },
    "assignment_remove": lambda w: {
        "code": w.charlie_client_row.code,
        "user_id": w.bob.public_id,
    },
}

# Parametrised routes that name no firm object, or are public by design.
ALLOWED = {
    "account_confirm_email": "allauth: e-mail confirmation by signed key (no tenant object)",
    "account_reset_password_from_key": "allauth: password reset by signed key, own account",
    "invitation_landing": "public landing of the client's email: a signed, single-use token "
    "(bad tokens: test_invitation_landing_refuses_forged_tokens)",
    "mailbox_message": "/dev/mail/: DEBUG only, the reader's firm and own mail (test_security_mailbox)",
    **dict.fromkeys(
        (
            "mandate_sign",
            "mandate_sign_open",
            "mandate_sign_document",
            "mandate_sign_code",
            "mandate_sign_verify",
            "mandate_sign_submit",
        ),
        "the client's signing link for its mandate: public, a signed, expiring token "
        "(tests/test_mandate_signing.py: forged, expired, another firm's collaborator)",
    ),
    **dict.fromkeys(
        ("campaign_link", "campaign_link_open"),
        "a campaign e-mail's personal link: public, a token signed for one target of one "
        "firm (tests/test_campaign_links.py: tampered, another firm's campaign untouched)",
    ),
    "portfolio_export": "the parameter is a format (csv/xlsx); rows are the caller's firm "
    "(test_exports_only_carry_the_callers_rows)",
}
ALLOWED_PREFIXES = {
    "admin/": "Django admin: unmounted unless ADMIN_ENABLED, superusers only "
    "(test_admin_is_closed_to_collaborators, test_security_admin)",
    "api/v1/": "the API: generated from its OpenAPI schema (test_api_operation_is_isolated)",
}


def _allowed(route) -> bool:
    return route.key in ALLOWED or any(route.pattern.startswith(p) for p in ALLOWED_PREFIXES)


def test_every_parametrised_route_is_covered(db):
    parametrised = [r for r in routes() if r.params]
    missing = [r.pattern for r in parametrised if r.key not in COVERED and not _allowed(r)]
    assert not missing, f"New routes with parameters need a tenant test or a reason: {missing}"
    known = {r.key for r in parametrised}
    stale = (set(COVERED) | set(ALLOWED)) - known
    assert not stale, f"Entries for routes that no longer exist: {stale}"


def _fingerprint(w) -> dict:
    """What charlie might change of firm A: compared before and after his attempts."""
    firm = w.firm_a
    return {
        "clients": list(
            Client.objects.for_firm(firm)
            .order_by("pk")
            .values_list(
                "code",
                "name",
                "notes",
                "siret",
                "sensitised",
                "mandate_status",
                "pa_status",
                "shine_status",
                "archived_at",
            )
        ),
        "contacts": list(
            Contact.objects.for_firm(firm)
            .order_by("pk")
            .values_list("last_name", "email", "is_principal")
        ),
        "assignments": ClientAssignment.objects.filter(firm=firm).count(),
        "events": ClientEvent.objects.filter(firm=firm).count(),
        "memberships": list(
            Membership.objects.filter(firm=firm)
            .order_by("pk")
            .values_list("role", "user__is_active")
        ),
        "keys": list(ApiKey.objects.for_firm(firm).values_list("revoked_at", flat=True)),
        "secrets": list(
            IntegrationSecret.objects.for_firm(firm).values_list("revoked_at", flat=True)
        ),
        "jobs": list(ImportJob.objects.for_firm(firm).values_list("status", flat=True)),
        "invitations": list(
            Invitation.objects.for_firm(firm).order_by("pk").values_list("status", "attempts")
        ),
        "bulks": list(BulkInvitation.objects.filter(firm=firm).values_list("status", "done")),
        "mandates": list(Mandate.objects.for_firm(firm).order_by("pk").values_list("state")),
        "emails": OutboundEmail.objects.filter(firm=firm).count(),
        "campaigns": list(
            Campaign.objects.filter(firm=firm).values_list("state", "reminder_round", "total")
        ),
        "targets": list(
            Target.objects.filter(firm=firm).order_by("pk").values_list("status", "remind_round")
        ),
        "b_clients": Client.objects.exclude(firm=firm).count(),
    }


ATTEMPTS = [
    ("get", {}),
    ("get", {"HTTP_HX_REQUEST": "true"}),
    ("post", {}),
    ("post", {"HTTP_HX_REQUEST": "true"}),
]
PAYLOAD = {
    "notes": "charlie",
    "name": "Charlie",
    "last_name": "Charlie",
    "first_name": "C",
    "email": "c@bravo.fr",
    "phone": "0707070707",
    "siret": "84523656100013",
    "role": "collaborateur",
    "active": "0",
    "sensitised": "1",
    "pa_status": "invite",
    "plan": "start",
    "billing_mode": "shine",
    "method": "mailto",
    "subject": "s",
    "body": "b",
    "user": "",
}


def _assert_refused(client, url: str, name: str) -> None:
    for method, headers in ATTEMPTS:
        response = getattr(client, method)(url, PAYLOAD if method == "post" else None, **headers)
        assert response.status_code in (404, 405), (
            f"{name} {method.upper()} {url} {headers}: {response.status_code}"
        )


@pytest.mark.parametrize("name", sorted(COVERED))
def test_charlie_gets_404_on_firm_a_object(name, world, charlie_client, alice_client):
    url = reverse(name, kwargs=COVERED[name](world))
    before = _fingerprint(world)
    _assert_refused(charlie_client, url, name)
    if name in MIXED:
        _assert_refused(charlie_client, reverse(name, kwargs=MIXED[name](world)), name)
    assert _fingerprint(world) == before, f"charlie changed firm A's data through {name}"

    # The control: the same URL reaches a real object for alice (firm A's admin).
    response = alice_client.get(url)
    if response.status_code == 405:
        response = alice_client.post(url, {})
    assert response.status_code != 404, f"{name}: alice gets 404, the URL names nothing"


@pytest.mark.parametrize("name", sorted(COVERED))
def test_a_missing_object_gives_the_same_404(name, world, alice_client):
    """Firm A's admin asking for an object that does not exist: the same 404 as charlie's."""
    kwargs = COVERED[name](world)
    for key in kwargs:
        kwargs[key] = "ZZZ999" if key == "code" else uuid.uuid4()
    for method in ("get", "post"):
        response = getattr(alice_client, method)(reverse(name, kwargs=kwargs))
        assert response.status_code in (404, 405), (name, method, response.status_code)


def test_invitation_landing_refuses_forged_tokens(world, client):
    for token in ("x", str(world.invitation.public_id), "a" * 200, "1:abc:def"):
        assert client.get(reverse("invitation_landing", args=[token])).status_code == 404


def test_dev_mailbox_is_closed(world, charlie_client, settings):
    settings.DEBUG = False
    assert charlie_client.get(reverse("mailbox")).status_code == 404
    url = reverse("mailbox_message", args=["0-x.eml"])
    assert charlie_client.get(url).status_code == 404
    assert charlie_client.get(reverse("mailbox_message", args=["..%2F..%2Fx"])).status_code == 404


def test_admin_is_closed_to_collaborators(world, charlie_client, alice_client):
    # Not mounted unless ADMIN_ENABLED (test_security_admin covers it when it is).
    for who in (charlie_client, alice_client):
        assert who.get("/admin/").status_code == 404
        assert who.get("/admin/clients/client/").status_code == 404


# --- Selections: codes in the body or the query string, not in the path ---------------


def test_charlies_selections_never_reach_firm_a(world, charlie_client):
    before = _fingerprint(world)
    codes = {"codes": [world.client.code, "A002"]}
    response = charlie_client.get(reverse("selection_dialog"), codes)
    assert "Boulangerie Dupont" not in response.content.decode()
    charlie_client.post(
        reverse("selection_declare"), {**codes, "solution": "axonaut", "scope": "achat"}
    )
    charlie_client.post(reverse("selection_shine"), {**codes, **PAYLOAD})
    charlie_client.post(reverse("reform_sensitise_selection"), {**codes, "send_email": "1"})
    charlie_client.post(reverse("reform_sensitise_selection"), {"select_all": "1"})
    assert _fingerprint(world) == before


# --- Exports -----------------------------------------------------------------------------


def test_exports_only_carry_the_callers_rows(world, charlie_client, alice_client):
    response = charlie_client.get(reverse("portfolio_export", args=["csv"]))
    assert response.status_code == 200
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    text = text.decode("utf-8-sig")
    assert "Cave Bravo" in text
    assert "Boulangerie Dupont" not in text and "A001" not in text
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 2  # header + B001

    response = charlie_client.get(reverse("portfolio_export", args=["xlsx"]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(content)).active
    values = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert any("Cave Bravo" in v for v in values)
    assert not any("Dupont" in v or v == "A001" for v in values)

    # Searching for firm A's names finds nothing either.
    response = charlie_client.get(reverse("portfolio_export", args=["csv"]), {"q": "Dupont"})
    assert b"Dupont" not in b"".join(
        response.streaming_content if response.streaming else [response.content]
    )
    assert charlie_client.get(reverse("portfolio_export", args=["pdf"])).status_code == 404


def test_lists_and_dashboards_show_nothing_of_firm_a(world, charlie_client):
    for url in [
        reverse("home"),
        reverse("home") + "?q=Dupont",
        reverse("home") + "?view=collecte",
        reverse("reform_dashboard"),
        reverse("imports"),
        reverse("integrations"),
        reverse("collaborators"),
        reverse("invitation_test_account"),
        reverse("invitation_templates"),
    ]:
        response = charlie_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in ("Boulangerie Dupont", "jeanne@dupont.fr", "alice@alpha.fr", "Cegid Loop"):
            assert secret not in body, (url, secret)


# --- The API -----------------------------------------------------------------------------

API = "/api/v1"

# A valid body for each operation that takes one (so validation cannot answer first).
BODIES = {
    ("post", "/api/v1/clients/{code}/contacts"): {
        "last_name": "C",
        "first_name": "C",
        "email": "c@bravo.fr",
        "phone": "0707070707",
    },
    ("patch", "/api/v1/clients/{code}/contacts/{contact_id}"): {"last_name": "Charlie"},
    ("post", "/api/v1/clients/{code}/equipment"): {"slot": "achat", "solution": "axonaut"},
    ("patch", "/api/v1/clients/{code}/reform"): {"sensitised": True},
    ("put", "/api/v1/clients/{code}"): {"name": "Charlie"},
}
# PUT is an upsert by *code client* in the caller's firm: tested on its own below.
UPSERTS = {("put", "/api/v1/clients/{code}")}


def _operations(client):
    schema = client.get(f"{API}/openapi.json").json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            if params:
                yield method, path, params, operation


def _api_operations():
    from vigie.api.api import api

    schema = api.get_openapi_schema()
    return sorted(
        (method, path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if any(p["in"] == "path" for p in operation.get("parameters", []))
    )


@pytest.mark.parametrize(("method", "path"), _api_operations())
def test_api_operation_is_isolated(method, path, world, client):
    params = {
        "code": world.client.code,
        "contact_id": str(world.contact.public_id),
    }
    found = {(m, p): (ps, op) for m, p, ps, op in _operations(client)}
    names, operation = found[(method, path)]
    unknown = set(names) - set(params)
    assert not unknown, f"{method} {path}: no firm A object for {unknown}"
    url = path.format(**params)
    body = BODIES.get((method, path))
    if "requestBody" in operation:
        assert body is not None, f"{method} {path} needs a valid body in BODIES"
    before = _fingerprint(world)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.charlie_raw}"}
    if method == "get":
        response = client.get(url, **headers)
    else:
        response = getattr(client, method)(
            url, body or {}, content_type="application/json", **headers
        )
    if (method, path) in UPSERTS:
        # charlie's firm gets its own A001; firm A's client is untouched.
        assert response.status_code in (200, 201)
        assert response.json()["client"]["public_id"] != str(world.client.public_id)
        before["b_clients"] += 1
    else:
        assert response.status_code == 404, (method, path, response.status_code)
        assert "Dupont" not in response.content.decode()
    assert _fingerprint(world) == before

    # Control: alice's key reaches the object.
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.api_raw}"}
    response = client.get(url, **headers) if method == "get" else None
    if response is not None:
        assert response.status_code == 200


def test_api_operations_with_path_parameters_are_all_listed(world, client):
    ops = {(m, p) for m, p, _, _ in _operations(client)}
    assert ops == set(_api_operations())


def test_api_list_only_carries_the_callers_clients(world, client):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.charlie_raw}"}
    body = client.get(f"{API}/clients", **headers).json()
    assert [c["code"] for c in body["items"]] == ["B001"]
    response = client.post(
        f"{API}/clients/bulk",
        {"clients": [{"code": "A001", "name": "Charlie"}]},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200
    assert Client.objects.get(firm=world.firm_a, code="A001").name == "Boulangerie Dupont"


def test_api_refuses_a_session_without_a_key(world, alice_client):
    for url in (f"{API}/clients", f"{API}/clients/A001"):
        assert alice_client.get(url).status_code == 401
    response = alice_client.put(
        f"{API}/clients/A001", {"name": "X"}, content_type="application/json"
    )
    assert response.status_code in (401, 403)
    assert Client.objects.get(code="A001").name == "Boulangerie Dupont"


def test_api_refuses_a_revoked_or_forged_key(world, client):
    world.api_key.revoke()
    for token in (world.api_raw, "vk_forged", world.api_raw + "x", ""):
        response = client.get(f"{API}/clients", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401
