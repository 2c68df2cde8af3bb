"""Hostile input on every route, generated from the URLconf and the OpenAPI schema.

alice (firm A) requests every route of the URLconf and every API operation with hostile
values — a NUL byte, a huge integer, 10 kB of text, invalid UTF-8, `../`, CRLF, firm B's
objects, and for API bodies each property given a value of the wrong type — one request per
(route, method, parameter, value); a visitor does the same on the pages open to visitors.
The parameters are each route's path parameters, and the query parameters, form fields and
files its view reads: found by requesting the route and recording the keys it looks up in
`request.GET`, `request.POST` and `request.FILES` (`RecordingMiddleware`), so a new field
is attacked without being listed here.

No answer may be a 5xx (nor a stream that dies after its 200), and no request may change
firm B's rows (every table with a `firm_id`, compared after each request that wrote). Each
request runs in a savepoint rolled back after it, so every one meets the same world and a
failure cannot cascade. Each test prints its figures: routes, parameters, requests, 5xx.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass, field
from functools import cache, partial
from urllib.parse import quote, unquote, urlencode

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, DataError, connection, transaction
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils.datastructures import MultiValueDict

from tests.factories import ContactFactory
from tests.security.test_security_tenancy import BODIES, COVERED, PAYLOAD
from tests.security.urlconf import routes
from vigie.api.models import ApiKey
from vigie.clients import services as client_services
from vigie.clients.models import Client as ClientModel
from vigie.firms.models import Firm
from vigie.imports.services import import_create
from vigie.integrations.services import integration_secret_create
from vigie.invitations import services as invitations
from vigie.invitations.models import BulkInvitation
from vigie.reform import services as reform

# One value per kind of attack; bytes are sent as they are (percent-encoded).
HOSTILE: dict[str, str | bytes] = {
    "nul": "A\x00B",
    "huge_int": "9" * 23,
    "10kB": "x" * 10_000,
    "bad_utf8": b"\xff\xfe",
    "dotdot": "../../../../etc/passwd",
    "crlf": "a\r\nSet-Cookie: pwned=1",
    # A serialized portfolio state (a selection posts one) holding hostile values itself.
    "nested": "q=A%00B&page=99999999999999999999999&collab=99999999999999999999&solution=%00",
}
# API bodies: each property given each of these (wrong types, NUL, a lone surrogate).
JSON_HOSTILE: dict[str, object] = {
    "nul": "A\x00B",
    "surrogate": "\ud800",
    "10kB": "x" * 10_000,
    "huge_int": 2**70,
    "negative": -1,
    "float": 1.5,
    "bool": True,
    "null": None,
    "list": ["A\x00B"],
    "object": {"x": "A\x00B"},
}

# Legitimate values of path parameters that name no firm object (or no object at all).
PLAIN_PATH_VALUES = {
    "key": "MQ:1abc:def",
    "uidb36": "1",
    "token": "x",
    "name": "x.eml",
    "fmt": "csv",
    "object_id": "1",
    "content_type_id": "1",
    "url": "x/",
}
# Values for the form fields a view reads (the tenancy suite's payload, and more).
BASELINE = {
    **PAYLOAD,
    "q": "Dupont",
    "page": "2",
    "codes": "A001",
    "slot": "achat",
    "scope": "achat",
    "solution": "axonaut",
    "send_email": "1",
}

# Fields whose value sends a view down another path: its other fields are attacked once
# more with each of these (a selection is its ticked `codes`, or `all` a search's rows).
VARIANTS = {"all": ["1"]}

SLOW_MS = 2000
FORM = "application/x-www-form-urlencoded"
PARAM = re.compile(r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>([^)]*)\)")


# --- Recording which keys a view reads --------------------------------------------------

SEEN: set[tuple[str, str]] = set()


def _recording(base, source: str):
    class Recorded(base):
        def __getitem__(self, key):
            SEEN.add((source, key))
            return super().__getitem__(key)

        def get(self, key, default=None):
            SEEN.add((source, key))
            return super().get(key, default)

        def getlist(self, key, default=None):
            SEEN.add((source, key))
            return super().getlist(key, default)

        def __contains__(self, key):
            SEEN.add((source, key))
            return super().__contains__(key)

    return Recorded


RecordedGET = _recording(QueryDict, "query")
RecordedPOST = _recording(QueryDict, "form")
RecordedFILES = _recording(MultiValueDict, "file")


class RecordingMiddleware:
    """Swaps the request's GET, POST and FILES for recording subclasses, lazily: the
    body is parsed when the view (or Django) first asks, not here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.GET.__class__ = RecordedGET
        load = request._load_post_and_files

        def load_and_record():
            load()
            if type(request._post) is QueryDict:
                request._post.__class__ = RecordedPOST
            if type(request._files) is MultiValueDict:
                request._files.__class__ = RecordedFILES

        request._load_post_and_files = load_and_record
        return self.get_response(request)


# --- The world: firm A's objects, and firm B's to attack with -----------------------------


@dataclass
class Target:
    route: object
    legit: dict[str, str]  # path parameter -> firm A's value
    charlie: dict[str, str]  # path parameter -> firm B's value


@dataclass
class FirmB:
    path: dict[str, str]  # path parameter -> firm B's object
    fields: dict[str, str]  # form field or query key -> firm B's object


@dataclass
class Sweep:
    routes: set = field(default_factory=set)
    parameters: set = field(default_factory=set)  # (route, source, name)
    sent: int = 0
    failures: list[str] = field(default_factory=list)
    changed_b: list[str] = field(default_factory=list)
    slow: list[str] = field(default_factory=list)


@pytest.fixture
def firm_b_world(world, firm_b, charlie):
    """Firm B's own objects of every kind a URL can name."""
    b = world.charlie_client_row
    client_services.contact_set_principal(contact=world.charlie_contact, actor=charlie)
    ContactFactory(client=b, first_name="Bruno", last_name="Bravo")
    reform.mandate_send(client=b, actor=charlie)
    invitation = invitations.invitation_create(
        client=b, actor=charlie, plan="start", billing_mode="shine"
    )
    bulk = BulkInvitation.objects.create(
        firm=firm_b,
        created_by=charlie,
        plan="start",
        billing_mode="shine",
        subject="S",
        body="B",
        client_ids=[b.pk],
        total=1,
    )
    job = import_create(
        firm=firm_b,
        actor=charlie,
        upload=SimpleUploadedFile("b.csv", b"Code client;Raison sociale\r\nB9;Bis\r\n"),
    )
    secret, _ = integration_secret_create(firm=firm_b, actor=charlie, name="Bravo")
    key = ApiKey.objects.for_firm(firm_b).get()
    path = {
        "code": b.code,
        "contact_id": str(world.charlie_contact.public_id),
        "user_id": str(charlie.public_id),
        "key_id": str(key.public_id),
        "secret_id": str(secret.public_id),
        "job_id": str(job.public_id),
        "mandate_id": str(reform.current_mandate(b).public_id),
        "public_id": str(invitation.public_id),
        "bulk_id": str(bulk.public_id),
    }
    fields = {
        "codes": b.code,
        "code": b.code,
        "user": str(charlie.public_id),
        "collab": str(charlie.pk),
        "query": f"q=Cave&collab={charlie.pk}",
    }
    return FirmB(path, fields)


def _targets(world, charlie_values) -> list[Target]:
    targets = []
    for route in routes():
        if getattr(route.callback, "__module__", "") == "ninja.operation":
            continue  # an API operation: from the OpenAPI schema, below
        legit = {}
        if route.key in COVERED:
            legit = {k: str(v) for k, v in COVERED[route.key](world).items()}
        for name in route.params:
            legit.setdefault(name, _plain(route, name))
        charlie = {}
        for name in route.params:
            key = "bulk_id" if (name, route.key) == ("public_id", "bulk_progress") else name
            if charlie_values.get(key):
                charlie[name] = charlie_values[key]
        targets.append(Target(route, legit, charlie))
    return targets


def _plain(route, name: str) -> str:
    for match in PARAM.finditer(route.pattern):
        if match.group(3) == name and re.fullmatch(r"[\w|]+", match.group(4)):
            return match.group(4).split("|")[0]  # admin: one of the app labels
    return PLAIN_PATH_VALUES.get(name, "1")


def _url(pattern: str, values: dict[str, str | bytes]) -> str:
    def sub(match):
        return quote(values[match.group(2) or match.group(3)], safe="")

    return "/" + PARAM.sub(sub, pattern).replace("^", "").replace("$", "")


# --- Sending ------------------------------------------------------------------------------


@cache
def _firm_b_sql() -> str:
    """One statement: for every table with a `firm_id`, its count and a hash of firm B's
    rows (every column), plus firm B's own row."""
    parts = [f"(SELECT md5(f::text) FROM {Firm._meta.db_table} f WHERE f.id = %(firm)s)"]
    for model in apps.get_models():
        columns = {f.column for f in model._meta.concrete_fields}
        if "firm_id" in columns:
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            parts.append(
                f"(SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' "
                f"ORDER BY t.{pk})), '') FROM {table} t WHERE t.firm_id = %(firm)s)"
            )
    return "SELECT " + ", ".join(parts)


WRITES_SQL = "SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_xact_user_tables"


def _writes() -> int:
    """Rows written so far by this transaction, in any table (PostgreSQL's counters): a
    request that wrote nothing cannot have changed firm B, and the full comparison
    (~5 ms) is only made after one that did (~1 ms)."""
    with connection.cursor() as cursor:
        cursor.execute(WRITES_SQL)
        return cursor.fetchone()[0] or 0


def _firm_b(firm_b: Firm) -> str:
    with connection.cursor() as cursor:
        cursor.execute(_firm_b_sql(), {"firm": firm_b.pk})
        return hashlib.md5(repr(cursor.fetchone()).encode()).hexdigest()


class _RolledBack(Exception):
    pass


def _isolated(client: Client, send, check=None):
    """`send()` in a savepoint rolled back after it (and `check(response)` inside it), the
    client's cookies put back (a sign-out must not end the sweep)."""
    cookies = copy.deepcopy(client.cookies)
    try:
        with transaction.atomic():
            response = send()
            if check is not None:
                check(response)
            raise _RolledBack
    except _RolledBack:
        pass
    finally:
        client.cookies = cookies
    return response


def _send(sweep: Sweep, client: Client, firm_b, before: str, label: str, send) -> None:
    """One hostile request: its status, its whole body, its time and firm B's rows."""
    start = time.perf_counter()
    writes = _writes()

    def check(response):
        sweep.sent += 1
        if response.status_code >= 500:
            exc = getattr(response, "exc_info", None)
            detail = repr(exc[1])[:200] if exc else ""
            sweep.failures.append(f"{response.status_code} {label} {detail}")
            return  # its transaction may be aborted; the rollback undoes anything it did
        if response.streaming:
            try:
                b"".join(response.streaming_content)
            except Exception as exc:  # a stream that dies after its status line
                sweep.failures.append(f"stream {label} {exc!r:.200}")
        elapsed = (time.perf_counter() - start) * 1000
        if elapsed > SLOW_MS:
            sweep.slow.append(f"{elapsed:.0f} ms {label}")
        try:
            if _writes() != writes and _firm_b(firm_b) != before:
                sweep.changed_b.append(label)
        except DatabaseError as exc:
            sweep.failures.append(f"aborted transaction {label} {exc!r:.200}")

    _isolated(client, send, check)


@pytest.fixture
def sweeping(settings):
    """The recording middleware first; Django's error logs quiet (5xx are collected)."""
    settings.MIDDLEWARE = [f"{__name__}.RecordingMiddleware", *settings.MIDDLEWARE]
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    loggers = [logging.getLogger(n) for n in ("django.request", "django.security")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def _report(name: str, sweep: Sweep, capsys) -> None:
    """The sweep's figures, printed past pytest's capture."""
    with capsys.disabled():
        print(
            f"\n[hostile sweep] {name}: {len(sweep.routes)} routes, "
            f"{len(sweep.parameters)} parameters, {sweep.sent} requests, "
            f"{len(sweep.failures)} 5xx, {len(sweep.changed_b)} changes to firm B, "
            f"{len(sweep.slow)} over {SLOW_MS} ms"
        )


def test_it_sees_a_5xx_a_broken_stream_and_a_change_to_firm_b(
    world, firm_b_world, firm_b, sweeping
):
    """The sweep's own checks can fail: a control of each."""
    sweep, client = Sweep(), Client()
    before = _firm_b(firm_b)

    def broken():
        yield b"a"
        raise DataError("mid-stream")

    def change():
        ClientModel.objects.filter(firm=firm_b).update(notes="changed")
        return HttpResponse()

    _send(sweep, client, firm_b, before, "500", lambda: HttpResponse(status=500))
    _send(sweep, client, firm_b, before, "stream", lambda: StreamingHttpResponse(broken()))
    _send(sweep, client, firm_b, before, "change", change)
    _send(sweep, client, firm_b, before, "fine", lambda: HttpResponse())
    assert [failure.split()[:2] for failure in sweep.failures] == [
        ["500", "500"],
        ["stream", "stream"],
    ]
    assert sweep.changed_b == ["change"] and sweep.sent == 4
    assert _firm_b(firm_b) == before  # each request was rolled back


# --- Each hole the sweep found, on its own -------------------------------------------------

REFUSED = "caractère interdit"


def test_it_refuses_a_nul_byte_in_a_url_a_query_or_a_form(world, alice_client):
    client = world.client
    for url in (
        "/clients/A%00B/",
        "/reforme/clients/A%00B/",
        "/equipement/clients/A%00B/",
        "/?q=martin%00",
    ):
        response = alice_client.get(url)
        assert response.status_code == 400, url
        assert REFUSED in response.content.decode()
    response = alice_client.post("/reforme/sensibiliser/", {"codes": [client.code + "\x00"]})
    assert response.status_code == 400
    response = alice_client.post(f"/clients/{client.code}/notes/", {"notes": "a\x00b"})
    assert response.status_code == 400
    client.refresh_from_db()
    assert not client.sensitised and client.notes == ""


def test_it_ignores_a_session_cookie_holding_a_nul(world, client):
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    response = client.get("/")
    assert response.status_code == 302 and "/compte/login/" in response["Location"]


def test_it_refuses_a_nul_search_before_the_export_starts(world, alice_client):
    """The CSV export runs its search inside the stream, after its 200: a NUL in `q`
    made the statement fail there, a download cut short with no error shown."""
    for fmt in ("csv", "xlsx"):
        response = alice_client.get(f"/portefeuille/export.{fmt}?q=Dupont%00")
        assert response.status_code == 400, fmt
        assert not response.streaming


def test_it_answers_the_api_in_json(world, client):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.api_raw}"}
    for url in ("/api/v1/clients?q=Dupont%00", "/api/v1/clients/A%00B"):
        response = client.get(url, **auth)
        assert response.status_code == 400, url
        assert response.json()["code"] == "invalid_characters"


@pytest.mark.parametrize("bad", ["A\x00B", "\ud800"])
def test_it_refuses_unstorable_text_in_json_bodies(world, client, bad):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.api_raw}"}
    response = client.put(
        "/api/v1/clients/A001", {"name": bad}, content_type="application/json", **auth
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == ["body", "payload", "name"]
    bulk = {
        "clients": [{"code": "Z1", "name": "Z", "contact": {"last_name": bad, "email": "z@z.fr"}}]
    }
    response = client.post("/api/v1/clients/bulk", bulk, content_type="application/json", **auth)
    assert response.status_code == 422
    assert "contact" in response.json()["details"][0]["loc"]
    world.client.refresh_from_db()
    assert world.client.name == "Boulangerie Dupont"


def test_it_answers_404_to_a_malformed_contact_id_in_the_api(world, client):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.api_raw}"}
    for contact_id in ("not-a-uuid", "9" * 23):
        url = f"/api/v1/clients/A001/contacts/{contact_id}"
        response = client.patch(url, {"last_name": "X"}, content_type="application/json", **auth)
        assert response.status_code == 404
        response = client.post(url + "/principal", **auth)
        assert response.status_code == 404


def test_it_selects_with_a_hostile_portfolio_state(world, alice_client):
    """A selection of « all » posts the portfolio's state as one field, parsed again."""
    state = "q=Dupont%00&page=99999999999999999999999&collab=99999999999999999999&solution=%00"
    response = alice_client.get("/equipement/selection/", {"all": "1", "query": state})
    assert response.status_code == 200
    response = alice_client.post(
        "/equipement/selection/declarer/",
        {"all": "1", "query": state, "solution": "axonaut", "scope": "achat"},
    )
    assert response.status_code == 200


def test_it_shows_the_default_template_for_an_unknown_plan(world, alice_client):
    response = alice_client.get("/equipement/selection/", {"codes": "A001", "plan": "bogus"})
    assert response.status_code == 200
    assert "1 client sélectionné" in response.content.decode()


def test_it_refuses_a_bulk_subject_over_200_characters(world, alice_client):
    data = {"codes": "A001", "plan": "start", "billing_mode": "shine", "body": "Bonjour"}
    response = alice_client.post("/equipement/selection/shine/", {**data, "subject": "x" * 201})
    assert response.status_code == 200
    assert "L&#x27;objet ne doit pas dépasser 200 caractères." in response.content.decode()
    assert not BulkInvitation.objects.filter(firm=world.firm_a).exclude(pk=world.bulk.pk).exists()


def test_it_refuses_an_unknown_send_method_with_a_message(world, alice_client):
    invitation = world.invitation
    response = alice_client.post(
        f"/invitations/i/{invitation.public_id}/envoyer/",
        {"subject": "Objet", "body": "Message", "method": "pigeon"},
    )
    assert response.status_code == 200
    assert "Choisissez comment envoyer l&#x27;invitation." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "brouillon"


# --- The pages ----------------------------------------------------------------------------


def _discover(client: Client, method: str, url: str) -> set[tuple[str, str]]:
    """The query keys, form fields and files the view reads, with values filled in from
    BASELINE until no new key shows up (a view may read a field only once another is
    valid)."""
    found: set[tuple[str, str]] = set()
    for _ in range(3):
        values = {(source, key): BASELINE.get(key, "") for source, key in found}
        SEEN.clear()
        # A field no view reads: `request.POST or None` binds a form only when one is sent.
        values[("form", "_probe")] = "1"
        _isolated(client, lambda v=values: _request(client, method, url, v))
        SEEN.discard(("form", "_probe"))
        new = SEEN - found
        found |= SEEN
        if not new:
            break
    return found


def _request(client: Client, method: str, path: str, values: dict, files=None):
    """`values`: (source, key) -> value, each in the query string or the form."""
    query = {key: value for (source, key), value in values.items() if source == "query"}
    form = {key: value for (source, key), value in values.items() if source == "form"}
    if query:
        path += "?" + urlencode(query)
    if method == "get":
        return client.get(path)
    if files:
        return client.post(path, {**form, **files})
    return client.post(path, urlencode(form), FORM)


def _variants(keys) -> list[dict[str, str]]:
    """The baselines a view is attacked from: BASELINE, and one per VARIANTS value of a
    field it reads."""
    found = [{}]
    for _source, key in sorted(keys):
        found += [{key: value} for value in VARIANTS.get(key, ())]
    return found


def _upload(value: str | bytes) -> SimpleUploadedFile:
    """A file named by the hostile value, holding a NUL, invalid UTF-8 and CRLF."""
    name = value if isinstance(value, str) else value.decode("latin-1")
    return SimpleUploadedFile(name[:300] or "x", b"A\x00B;\xff\xfe\r\n")


def _closed_to_visitors(client: Client, url: str) -> bool:
    """Each method answers a visitor with the sign-in page or a 405: nothing to attack."""
    login = resolve_url(settings.LOGIN_URL)
    for method in ("get", "post"):
        response = _isolated(client, lambda m=method: getattr(client, m)(url))
        signs_in = response.status_code == 302 and response["Location"].startswith(login)
        if not signs_in and response.status_code != 405:
            return False
    return True


@pytest.mark.parametrize("who", ["alice", "visitor"])
def test_it_answers_hostile_input_on_every_route_without_a_5xx(
    who, world, firm_b_world, firm_b, alice, sweeping, capsys
):
    sweep = Sweep()
    client = Client(raise_request_exception=False)
    if who == "alice":
        client.force_login(alice)
    before = _firm_b(firm_b)
    unresolved = []
    for target in _targets(world, firm_b_world.path):
        route = target.route
        url = _url(route.pattern, target.legit)
        try:
            resolve(unquote(url))
        except Resolver404:
            unresolved.append(url)
            continue
        if who == "visitor" and _closed_to_visitors(client, url):
            continue
        sweep.routes.add(route.pattern)
        for method in ("get", "post"):
            keys = _discover(client, method, url)
            label = f"{method.upper()} /{route.pattern}"
            baseline = {(source, key): BASELINE.get(key, "") for source, key in keys}
            # Path parameters: each hostile value, and firm B's object.
            for name in route.params:
                sweep.parameters.add((route.pattern, "path", name))
                for kind, value in _values(name, target.charlie).items():
                    path = _url(route.pattern, {**target.legit, name: value})
                    send = partial(_request, client, method, path, baseline)
                    _send(sweep, client, firm_b, before, f"{label} path:{name}={kind}", send)
            # Query parameters, form fields and files: each hostile value.
            for variant in _variants(keys):
                base = {k: variant.get(k[1], v) for k, v in baseline.items()}
                for source, key in sorted(keys):
                    sweep.parameters.add((route.pattern, source, key))
                    for kind, value in _values(key, firm_b_world.fields).items():
                        if source == "file":
                            files = {key: _upload(value)}
                            send = partial(_request, client, method, url, base, files)
                        else:
                            values = {**base, (source, key): value}
                            send = partial(_request, client, method, url, values)
                        where = f"{label} {source}:{key}={kind}{variant or ''}"
                        _send(sweep, client, firm_b, before, where, send)
    _report(f"pages ({who})", sweep, capsys)
    if who == "alice":
        assert client.get("/").status_code == 200, "alice was signed out during the sweep"
    assert not sweep.failures, "\n".join(sweep.failures)
    assert not sweep.changed_b, f"firm B's rows changed: {sweep.changed_b}"
    assert not unresolved, (
        f"URLs built from the URLconf that resolve to nothing: {unresolved} (give their "
        "parameters a value: COVERED in test_security_tenancy.py, or PLAIN_PATH_VALUES)"
    )


def _values(name: str, charlie: dict[str, str]) -> dict[str, str | bytes]:
    """The hostile values, and firm B's object where the parameter names one."""
    return {**HOSTILE, "charlie": charlie[name]} if name in charlie else HOSTILE


# --- The API ------------------------------------------------------------------------------

API_BODIES = {
    **BODIES,
    ("post", "/api/v1/clients/bulk"): {
        "clients": [
            {"code": "Z001", "name": "Zeta", "contact": {"last_name": "Z", "email": "z@zeta.fr"}}
        ]
    },
}
# Whole bodies that are not the JSON object an operation expects.
RAW_BODIES = {
    "bad_utf8": b'{"name": "\xff\xfe"}',
    "not_json": b"A\x00B",
    "array": b"[]",
    "string": b'"A\\u0000B"',
    "nul_key": b'{"\\u0000": 1}',
    "deep": b"[" * 100_000 + b"]" * 100_000,
}


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _property_paths(schema: dict, node: dict, prefix: tuple = ()) -> list[tuple]:
    """Every property of a body, at any depth (a list's first item stands for all)."""
    node = _resolve(schema, node)
    found = []
    for option in node.get("anyOf", []):
        found += _property_paths(schema, option, prefix)
    if node.get("type") == "array":
        found += _property_paths(schema, node["items"], (*prefix, 0))
    for name, child in node.get("properties", {}).items():
        found.append((*prefix, name))
        found += _property_paths(schema, child, (*prefix, name))
    return found


def _with(body, path: tuple, value):
    body = copy.deepcopy(body)
    node = body
    for step, after in zip(path, path[1:], strict=False):
        if isinstance(step, int):
            while len(node) <= step:
                node.append({})
        elif not isinstance(node.get(step), dict | list):
            node[step] = [] if isinstance(after, int) else {}
        node = node[step]
    node[path[-1]] = value
    return body


def _api_request(client, auth, method: str, path: str, values: dict, query=None, body=b""):
    url = path.format(**{name: quote(value, safe="") for name, value in values.items()})
    if query:
        url += "?" + urlencode(query)
    if method in ("get", "delete"):
        return getattr(client, method)(url, **auth)
    return getattr(client, method)(url, body, content_type="application/json", **auth)


def test_it_answers_hostile_input_on_every_api_operation_without_a_5xx(
    world, firm_b_world, firm_b, sweeping, settings, capsys
):
    from vigie.api.api import api

    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    sweep = Sweep()
    client = Client(raise_request_exception=False)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.api_raw}"}
    legit = {"code": world.client.code, "contact_id": str(world.contact.public_id)}
    schema = api.get_openapi_schema()
    before = _firm_b(firm_b)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            sweep.routes.add((method, path))
            label = f"{method.upper()} {path}"
            params = operation.get("parameters", [])
            content = operation.get("requestBody", {}).get("content", {})
            body_schema = content.get("application/json", {}).get("schema")
            body = API_BODIES.get((method, path))
            assert body_schema is None or body is not None, f"{label}: a valid body in BODIES"
            valid = json.dumps(body or {}).encode()
            send = partial(_api_request, client, auth, method, path)

            def attack(where: str, request, label=label) -> None:
                _send(sweep, client, firm_b, before, f"{label} {where}", request)

            for param in params:
                name = param["name"]
                sweep.parameters.add((method, path, param["in"], name))
                for kind, value in _values(name, firm_b_world.path).items():
                    if param["in"] == "path":
                        request = partial(send, {**legit, name: value}, body=valid)
                    else:
                        request = partial(send, legit, query={name: value}, body=valid)
                    attack(f"{param['in']}:{name}={kind}", request)
            if body_schema is None:
                continue
            for prop in _property_paths(schema, body_schema):
                where = ".".join(map(str, prop))
                sweep.parameters.add((method, path, "body", where))
                for kind, value in JSON_HOSTILE.items():
                    raw = json.dumps(_with(body, prop, value)).encode()
                    attack(f"body:{where}={kind}", partial(send, legit, body=raw))
            for kind, raw in RAW_BODIES.items():
                attack(f"body={kind}", partial(send, legit, body=raw))
    _report("api", sweep, capsys)
    assert not sweep.failures, "\n".join(sweep.failures)
    assert not sweep.changed_b, f"firm B's rows changed: {sweep.changed_b}"
