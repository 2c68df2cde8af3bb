"""Workflows that change clients. Each checks first, then writes, then records history."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import operator
import re
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from vigie.clients import history, searchdoc
from vigie.clients.forms import DETAIL_FIELDS, DUPLICATE_CONTACT_EMAIL, normalize_postal_code
from vigie.clients.models import (
    CODE_VALIDATOR,
    Client,
    ClientAssignment,
    ClientEvent,
    Contact,
    LegalForm,
    Regime,
)
from vigie.clients.signals import contact_email_changed
from vigie.firms.models import Membership
from vigie.lib.ids import uuid7
from vigie.lib.text import fold
from vigie.lib.validators import normalize_ape, normalize_email, normalize_phone, normalize_siret

DUPLICATE_CODE = "Ce code client est déjà utilisé par un autre client du cabinet."


def new_collect_email() -> str:
    # Time-ordered: new addresses sit together in their unique index (vigie.lib.ids).
    return f"invoice-{uuid7()}@{settings.COLLECT_EMAIL_DOMAIN}"


@contextlib.contextmanager
def _unique(field: str, message: str):
    """Write inside: a unique constraint the checks before could not see (a concurrent
    request took the value meanwhile) becomes the field's French error."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise ValidationError({field: message}) from None


@transaction.atomic
def client_create(*, firm, actor, data: dict, collaborator=None) -> Client:
    """Create a client from cleaned form data, followed by `collaborator` (a member of
    the firm) if given. Raises ValidationError on a taken code or a stranger."""
    if (
        collaborator is not None
        and not Membership.objects.filter(user=collaborator, firm=firm).exists()
    ):
        raise ValidationError({"collaborator": NOT_A_COLLEAGUE})
    client = Client(firm=firm, collect_email=new_collect_email(), **data)
    with _unique("code", DUPLICATE_CODE):
        client.save()
    changes = {}
    if collaborator is not None:
        ClientAssignment.objects.create(firm=firm, client=client, user=collaborator)
        changes = {"Collaborateurs": ["", str(collaborator)]}
    history.record(
        client, actor=actor, kind="client.created", summary="Client créé", changes=changes
    )
    return client


@transaction.atomic
def client_update(*, client: Client, actor, data: dict) -> Client:
    before = history.snapshot(client, [*DETAIL_FIELDS, "notes"])
    for field, value in data.items():
        setattr(client, field, value)
    with _unique("code", DUPLICATE_CODE):
        client.save()
    changes = history.diff(before, client)
    if changes:
        history.record(
            client,
            actor=actor,
            kind="client.updated",
            summary="Détails modifiés : " + ", ".join(changes),
            changes=changes,
        )
    return client


# --- Client page: notes, contacts, principal contact, assignments -------------------

CONTACT_FIELDS = ["last_name", "first_name", "email", "phone", "access", "is_principal"]
PRINCIPAL_LABEL = "Contact principal"
NOT_A_COLLEAGUE = "Ce collaborateur n'appartient pas au cabinet."
ALREADY_ASSIGNED = "Ce collaborateur est déjà affecté à ce client."


def _clear_principal(client: Client, *, keep: Contact | None = None) -> Contact | None:
    """Unset the current principal (other than `keep`); return it. Call under `Client.objects.locked`."""
    previous = client.contacts.filter(is_principal=True)
    if keep is not None and keep.pk:
        previous = previous.exclude(pk=keep.pk)
    previous = previous.first()
    if previous is not None:
        Contact.objects.filter(pk=previous.pk).update(is_principal=False, updated_at=timezone.now())
    return previous


def _name(contact: Contact | None) -> str:
    return contact.full_name if contact is not None else ""


def _check_email_free(client: Client, email: str, *, contact: Contact | None = None) -> None:
    if not email:
        return
    taken = Contact.objects.filter(client=client, email__iexact=email)
    if contact is not None and contact.pk:
        taken = taken.exclude(pk=contact.pk)
    if taken.exists():
        raise ValidationError({"email": DUPLICATE_CONTACT_EMAIL})


def _save_contact(contact: Contact) -> None:
    with _unique("email", DUPLICATE_CONTACT_EMAIL):
        contact.save()


def _contact_changes(contact: Contact, *, removed: bool) -> dict:
    """The contact's filled fields as history changes: from nothing, or to nothing."""
    return {
        str(Contact._meta.get_field(f).verbose_name): [v, ""] if removed else ["", v]
        for f, v in history.snapshot(contact, CONTACT_FIELDS).items()
        if v not in ("", False)
    }


@transaction.atomic
def client_notes_update(*, client: Client, actor, notes: str) -> Client:
    before = history.snapshot(client, ["notes"])
    client.notes = notes.strip()
    changes = history.diff(before, client)
    if changes:
        client.save(update_fields=["notes"])
        history.record(
            client, actor=actor, kind="client.notes", summary="Notes modifiées", changes=changes
        )
    return client


@transaction.atomic
def contact_create(*, client: Client, actor, data: dict) -> Contact:
    """Add a contact; if it is the principal, the previous principal stops being one."""
    client = Client.objects.locked(client)
    contact = Contact(firm_id=client.firm_id, client=client, **data)
    contact.email = (contact.email or "").strip().lower()
    _check_email_free(client, contact.email)
    previous = _clear_principal(client) if contact.is_principal else None
    _save_contact(contact)
    history.record(
        client,
        actor=actor,
        kind="contact.created",
        summary=f"Contact ajouté : {contact.full_name}",
        changes=_contact_changes(contact, removed=False),
    )
    if contact.is_principal:
        _record_principal(client, actor, previous, contact)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, actor, data: dict) -> Contact:
    client = Client.objects.locked(contact.client)
    contact = Contact.objects.get(pk=contact.pk)  # fresh, under the lock
    before = history.snapshot(contact, CONTACT_FIELDS)
    was_principal = contact.is_principal
    old_email = contact.email
    for field, value in data.items():
        setattr(contact, field, value)
    contact.email = (contact.email or "").strip().lower()
    _check_email_free(client, contact.email, contact=contact)
    previous = None
    if contact.is_principal and not was_principal:
        previous = _clear_principal(client, keep=contact)
    _save_contact(contact)
    changes = history.diff(before, contact)
    if changes:
        history.record(
            client,
            actor=actor,
            kind="contact.updated",
            summary=f"Contact modifié : {contact.full_name}",
            changes=changes,
        )
    if contact.is_principal != was_principal:
        if contact.is_principal:
            _record_principal(client, actor, previous, contact)
        else:
            _record_principal(client, actor, contact, None)
    contact.voided_invitations = []
    if old_email and contact.email != old_email:
        responses = contact_email_changed.send(
            sender=Contact, contact=contact, old_email=old_email, actor=actor
        )
        for _receiver, voided in responses:
            contact.voided_invitations.extend(voided or [])
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, actor) -> bool:
    """Delete a contact. Returns True when it was the principal (the client has none now)."""
    client = Client.objects.locked(contact.client)
    contact = Contact.objects.get(pk=contact.pk)
    was_principal = contact.is_principal
    changes = _contact_changes(contact, removed=True)
    contact.delete()
    history.record(
        client,
        actor=actor,
        kind="contact.deleted",
        summary=f"Contact supprimé : {contact.full_name}",
        changes=changes,
    )
    if was_principal:
        _record_principal(client, actor, contact, None)
    return was_principal


@transaction.atomic
def contact_set_principal(*, contact: Contact, actor, principal: bool = True) -> Contact:
    """Make `contact` the client's principal (or stop it being one), in one transaction.

    The client row is locked first, so two collaborators ticking two contacts at the
    same moment run one after the other: the last one wins, and exactly one contact
    ends up principal.
    """
    client = Client.objects.locked(contact.client)
    try:
        contact = Contact.objects.get(pk=contact.pk, client=client)
    except Contact.DoesNotExist:
        raise ValidationError("Ce contact n'existe plus.") from None
    if contact.is_principal == principal:
        return contact
    previous = _clear_principal(client, keep=contact) if principal else contact
    Contact.objects.filter(pk=contact.pk).update(is_principal=principal, updated_at=timezone.now())
    _record_principal(client, actor, previous, contact if principal else None)
    contact.is_principal = principal
    return contact


def _record_principal(client: Client, actor, before: Contact | None, after: Contact | None):
    summary = (
        f"Contact principal : {after.full_name}"
        if after is not None
        else "Le client n'a plus de contact principal"
    )
    history.record(
        client,
        actor=actor,
        kind="contact.principal",
        summary=summary,
        changes={PRINCIPAL_LABEL: [_name(before), _name(after)]},
    )


@transaction.atomic
def assignment_add(*, client: Client, user, actor) -> ClientAssignment:
    """Assign a collaborator of the client's own firm to the client."""
    if not Membership.objects.filter(user=user, firm_id=client.firm_id).exists():
        raise ValidationError({"user": NOT_A_COLLEAGUE})
    if ClientAssignment.objects.filter(client=client, user=user).exists():
        raise ValidationError({"user": ALREADY_ASSIGNED})
    with _unique("user", ALREADY_ASSIGNED):
        assignment = ClientAssignment.objects.create(
            firm_id=client.firm_id, client=client, user=user
        )
    history.record(
        client,
        actor=actor,
        kind="assignment.added",
        summary=f"Collaborateur affecté : {user}",
        changes={"Collaborateurs": ["", str(user)]},
    )
    return assignment


@transaction.atomic
def assignment_remove(*, client: Client, user, actor) -> None:
    deleted, _ = ClientAssignment.objects.filter(client=client, user=user).delete()
    if deleted:
        history.record(
            client,
            actor=actor,
            kind="assignment.removed",
            summary=f"Collaborateur retiré : {user}",
            changes={"Collaborateurs": [str(user), ""]},
        )


# --- Upserts by code client: the HTTP API and file imports ---------------------------
# One code path for a single PUT, a bulk API call and a batch of an imported file:
# each row is validated with the same validators as the client and contact forms,
# rejected rows change nothing, and every change is written to the client's history
# with no actor and the source ("API (<key name>)", "Import (<file>)") in the summary.
#
# A batch is written in a handful of statements whatever its size:
# one SELECT of the batch's existing clients (code → row) and one of their contacts,
# compared in Python; new rows go in as multi-row INSERTs built from the model's own
# fields and defaults; changed rows are UPDATEd with only their changed columns; one
# history row per client and per call (a new client's first contact is part of its
# « client créé » entry). The search keys are computed by the models' own
# `refresh_keys`, and the portfolio's search triggers/indexes fire as for any insert.

UPSERT_CLIENT_FIELDS = [
    "name",
    "legal_form",
    "siret",
    "ape_code",
    "regime",
    "activity",
    "address",
    "postal_code",
    "city",
    "docs_to_file",
    "invoices_per_month",
]
UPSERT_CONTACT_FIELDS = ["last_name", "first_name", "email", "phone"]
CONTACT_LABEL = "contact"
COLLABORATORS_LABEL = "Collaborateurs"
UNKNOWN_COLLEAGUE = (
    "aucun collaborateur actif du cabinet ne correspond à « {} » "
    "(indiquez son adresse e-mail de connexion, ou ses prénom et nom)."
)
AMBIGUOUS_COLLEAGUE = (
    "plusieurs collaborateurs du cabinet s'appellent « {} » : "
    "indiquez son adresse e-mail de connexion."
)
_AMBIGUOUS = object()


@dataclasses.dataclass
class UpsertResult:
    result: str  # "created", "updated", "unchanged" or "rejected"
    # Filled by `client_upsert` (one client, for the API's answer); a batch of
    # `clients_upsert_many` leaves it None rather than load model instances.
    client: Client | None = None
    errors: dict[str, list[str]] = dataclasses.field(default_factory=dict)


def _folded_choices(choices) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for value, label in choices:
        lookup.setdefault(fold(str(label)), value)
        lookup[fold(value)] = value
    return lookup


_CHOICES = {
    "legal_form": _folded_choices(LegalForm.choices),
    "regime": _folded_choices(Regime.choices),
}


@functools.lru_cache(maxsize=10_000)  # files repeat values
def _choice_value(raw: str, field: str) -> str | None:
    """A choice by value or label, accents and case ignored (`sarl`, `Micro-entreprise`)."""
    return _CHOICES[field].get(fold(raw))


def _too_long(limit: int, value: str) -> str:
    return (
        f"Assurez-vous que cette valeur comporte au plus {limit} caractères "
        f"(actuellement {len(value)})."
    )


def _french_int(raw) -> int:
    """`1 234`, `1\u202f234`, `1234,0` or 1234.0 → 1234."""
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ValueError(raw)
        return int(raw)
    text = "".join(str(raw).split()).replace("\u202f", "").replace(",", ".")
    number = float(text) if text else 0.0
    if not number.is_integer():
        raise ValueError(raw)
    return int(number)


# Fast paths of the validators for the common, unambiguous forms. They only ever
# ACCEPT, with exactly the value the full validator returns (tests/test_imports_fast.py
# checks it property by property); anything else goes through the full validator,
# which alone decides rejections and their messages.
_SIRET_FAST = re.compile(r"[0-9]{14}")
_LUHN_DOUBLE = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
_PHONE_FAST = re.compile(r"\+33[1-9][0-9]{8}|0?[1-9](?:[ .]?[0-9]{2}){4}")


_EMAIL_FAST = re.compile(
    r"[A-Za-z0-9]+(?:[._+-][A-Za-z0-9]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}"
)


def _clean_email(raw: str) -> str:
    value = raw.strip()
    if len(value) <= 254 and _EMAIL_FAST.fullmatch(value):
        return value.lower()
    return normalize_email(raw)


def _luhn_ok(digits: str) -> bool:
    total = sum(ord(c) - 48 for c in digits[-1::-2])
    total += sum(_LUHN_DOUBLE[ord(c) - 48] for c in digits[-2::-2])
    return total % 10 == 0


def _clean_siret(raw: str) -> str:
    compact = raw.replace(" ", "").replace(".", "").strip()
    if (
        _SIRET_FAST.fullmatch(compact)
        and not compact.startswith("356000000")  # La Poste: its own checksum rule
        and _luhn_ok(compact)
        and _luhn_ok(compact[:9])
    ):
        return compact
    return normalize_siret(raw)


def _clean_phone(raw: str) -> str:
    value = raw.strip()
    if _PHONE_FAST.fullmatch(value):
        # +33XXXXXXXXX, 0X XX XX XX XX (spaces or dots), XXXXXXXXX: the last 9 digits
        # are the national number.
        return "+33" + value.replace(" ", "").replace(".", "")[-9:]
    return normalize_phone(raw)


def client_clean(data: dict) -> tuple[dict, dict[str, list[str]]]:
    """Validate and normalise the client fields present in `data` (plus the code).

    The same rules as the client form; keys absent from `data` stay absent (they are
    left unchanged by an upsert). Returns (cleaned, {field: [French messages]}).
    """
    cleaned: dict = {}
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    def text(field: str, required: str = "", limit: int = 200) -> None:
        value = " ".join(str(data[field] or "").split())
        if required and not value:
            fail(field, required)
        elif len(value) > limit:
            fail(field, _too_long(limit, value))
        else:
            cleaned[field] = value

    code = str(data.get("code") or "").strip()
    if not code:
        fail("code", "Le code client est obligatoire.")
    elif len(code) > 20:
        fail("code", _too_long(20, code))
    elif not CODE_VALIDATOR.regex.match(code):
        fail("code", str(CODE_VALIDATOR.message))
    else:
        cleaned["code"] = code
    if "name" in data:
        text("name", required="La raison sociale est obligatoire.")
    for field, empty in (("legal_form", LegalForm.AUCUNE), ("regime", "")):
        if field in data:
            raw = str(data[field] or "").strip()
            value = _choice_value(raw, field) if raw else empty
            if value is None:
                fail(field, f"Sélectionnez un choix valide. {raw} n’en fait pas partie.")
            else:
                cleaned[field] = value
    for field, normalize in (
        ("siret", _clean_siret),
        ("ape_code", normalize_ape),
        ("postal_code", normalize_postal_code),
    ):
        if field in data:
            try:
                cleaned[field] = normalize(str(data[field] or ""))
            except ValidationError as exc:
                fail(field, exc.messages[0])
    if "activity" in data:
        text("activity")
    if "address" in data:
        text("address")
    if "city" in data:
        text("city", limit=100)
    if "docs_to_file" in data:
        try:
            count = _french_int(data["docs_to_file"] or 0)
        except (TypeError, ValueError):
            count = -1
        if count < 0:
            fail("docs_to_file", "Saisissez un nombre entier positif.")
        else:
            cleaned["docs_to_file"] = count
    if "invoices_per_month" in data:
        # Optional: an empty cell leaves it unknown.
        raw = data["invoices_per_month"]
        try:
            count = None if raw in ("", None) else _french_int(raw)
        except (TypeError, ValueError):
            count = -1
        if count is not None and not 0 <= count <= 1_000_000:
            fail("invoices_per_month", "Saisissez un nombre entier de factures par mois.")
        else:
            cleaned["invoices_per_month"] = count
    return cleaned, errors


def contact_clean(data: dict) -> tuple[dict, dict[str, list[str]]]:
    """A contact arriving with a client (import, bulk API): Nom and E-mail required,
    Prénom and Téléphone optional; each value checked like the contact form."""
    cleaned: dict = {}
    errors: dict[str, list[str]] = {}
    for field, label, limit in (("last_name", "Nom", 100), ("first_name", "Prénom", 100)):
        value = " ".join(str(data.get(field) or "").split())
        if not value and field == "last_name":
            errors[field] = [f"Le champ « {label} » du contact est obligatoire."]
        elif len(value) > limit:
            errors[field] = [_too_long(limit, value)]
        else:
            cleaned[field] = value
    try:
        cleaned["email"] = _clean_email(str(data.get("email") or ""))
        if not cleaned["email"]:
            errors["email"] = ["L'e-mail du contact est obligatoire."]
    except ValidationError as exc:
        errors["email"] = exc.messages
    try:
        cleaned["phone"] = _clean_phone(str(data.get("phone") or ""))
    except ValidationError as exc:
        errors["phone"] = exc.messages
    return cleaned, errors


# --- Writing a batch in few statements ---------------------------------------------

# Field classes whose Python value (str, int, bool, None, UUID) is already the database
# value; every other field (dates, JSON) goes through its own get_db_prep_save.
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
    models.UUIDField,
)


def _insert(model, rows: list[dict]) -> None:
    """INSERT `rows` ({attname: value}, all with the same keys) into `model`'s table.

    Absent fields get what `model(**row).save()` would give them: auto_now and
    auto_now_add dates, callable defaults (UUIDs) called per row, other defaults.
    One COPY: triggers and indexes fire as for any insert. Model instances and the
    ORM's per-value compilation are what made `bulk_create` cost ~1 ms per client row,
    and COPY was 4× faster than multi-row INSERTs, whose client-side binding of ~30,000
    parameters per statement cost more than the server's work.
    """
    if not rows:
        return
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    getters = []
    for field in fields:
        plain = isinstance(field, _PLAIN_FIELDS)
        prep = functools.partial(field.get_db_prep_save, connection=connection)
        if field.attname in rows[0]:
            name = field.attname
            getters.append(operator.itemgetter(name) if plain else _prepped(name, prep))
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            getters.append(_const(prep(now)))
        elif field.has_default() and callable(field.default):
            getters.append(_called(field.default, None if plain else prep))
        else:
            getters.append(_const(prep(field.get_default())))
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([get(row) for get in getters])


def _const(value):
    return lambda row: value


def _prepped(name: str, prep):
    return lambda row: prep(row[name])


def _called(default, prep):
    if prep is None:
        return lambda row: default()
    return lambda row: prep(default())


def _update(model, changes: list[tuple[int, dict]]) -> None:
    """UPDATE each (pk, {field name: value}): one executemany per set of changed fields."""
    groups: dict[tuple[str, ...], list[list]] = defaultdict(list)
    for pk, values in changes:
        names = tuple(sorted(values))
        fields = [model._meta.get_field(name) for name in names]
        groups[names].append(
            [f.get_db_prep_save(values[f.name], connection) for f in fields] + [pk]
        )
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for names, params in groups.items():
            columns = [model._meta.get_field(name).column for name in names]
            sets = ", ".join(f"{quote(column)} = %s" for column in columns)
            sql = f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE {quote('id')} = %s"
            cursor.executemany(sql, params)


def _client_keys(name: str, code: str, siret: str) -> dict:
    """sort_name and search_text as `Client.refresh_keys` computes them (a test holds
    the two together)."""
    return {
        "sort_name": fold(name)[:200],
        "search_text": fold(f"{name} {code} {siret}")[:260],
    }


def _contact_search_text(contact: dict) -> str:
    """`Contact.refresh_keys`'s search_text (a test holds the two together)."""
    return fold(f"{contact['first_name']} {contact['last_name']} {contact['email']}")[:460]


def _colleagues(firm) -> dict:
    """The firm's active collaborators by sign-in e-mail and by folded full name (both
    orders); a name two of them share maps to `_AMBIGUOUS`."""
    found: dict = {}
    memberships = Membership.objects.filter(firm=firm, user__is_active=True).select_related("user")
    for user in (m.user for m in memberships):
        found[user.email.lower()] = user
        for name in (f"{user.first_name} {user.last_name}", f"{user.last_name} {user.first_name}"):
            key = fold(name)
            if key and found.get(key, user) is not user:
                found[key] = _AMBIGUOUS
            elif key:
                found[key] = user
    return found


def _colleague(colleagues: dict, raw) -> tuple[object | None, str]:
    """(the collaborator `raw` names or None, a French message when it names none)."""
    text = " ".join(str(raw or "").split())
    if not text:
        return None, ""
    user = colleagues.get(text.lower()) or colleagues.get(fold(text))
    if user is _AMBIGUOUS:
        return None, AMBIGUOUS_COLLEAGUE.format(text[:100])
    if user is None:
        return None, UNKNOWN_COLLEAGUE.format(text[:100])
    return user, ""


def _full_name(contact: dict) -> str:
    return f"{contact['first_name']} {contact['last_name']}".strip()


_CLIENT_COLUMNS = ["id", "code", *UPSERT_CLIENT_FIELDS, "archived_at"]
_CONTACT_COLUMNS = ["id", "client_id", *UPSERT_CONTACT_FIELDS, "is_principal"]
_IN_CHUNK = 900


def _select_of_firm(model, columns: list[str], firm, key: str, values: list):
    """Rows (tuples of `columns`, raw database values) of `firm` whose `key` is one of
    `values`: one statement per 900 values."""
    quote = connection.ops.quote_name
    select = (
        f"SELECT {', '.join(map(quote, columns))} FROM {quote(model._meta.db_table)} "
        f"WHERE {quote('firm_id')} = %s AND {quote(key)} "
    )
    with connection.cursor() as cursor:
        for start in range(0, len(values), _IN_CHUNK):
            chunk = values[start : start + _IN_CHUNK]
            # IN (…), not = ANY(array): psycopg would send Python ints as a numeric[]
            # array, and `bigint = numeric` cannot use the index (a scan per chunk).
            cursor.execute(select + f"IN ({', '.join(['%s'] * len(chunk))})", [firm.pk, *chunk])
            yield from cursor.fetchall()


@transaction.atomic
def clients_upsert_many(*, firm, rows: list[dict], source: str) -> list[UpsertResult]:
    """Create or update clients of `firm` by code client, each with at most one contact.

    `rows` are raw dicts: "code", any of UPSERT_CLIENT_FIELDS, and optionally "contact"
    (a dict of UPSERT_CONTACT_FIELDS), and optionally "collaborator" (a colleague's
    sign-in e-mail or full name, assigned to the client). Codes must be distinct
    within one call. An archived client is restored. A contact is matched by e-mail
    within its client; the first contact of a client without a principal becomes the
    principal. Sending the same rows again changes nothing and reports "unchanged".
    """
    results: list[UpsertResult | None] = [None] * len(rows)
    prepared = []
    named = any(str(row.get("collaborator") or "").strip() for row in rows)
    colleagues = _colleagues(firm) if named else {}
    for index, row in enumerate(rows):
        cleaned, errors = client_clean(row)
        contact = None
        if row.get("contact"):
            contact, contact_errors = contact_clean(row["contact"])
            errors.update({f"contact.{k}": v for k, v in contact_errors.items()})
        user, message = _colleague(colleagues, row.get("collaborator")) if named else (None, "")
        if message:
            errors["collaborator"] = [message]
        if errors:
            results[index] = UpsertResult("rejected", errors=errors)
        else:
            prepared.append((index, cleaned, contact, user))

    codes = [cleaned["code"] for _, cleaned, _, _ in prepared]
    existing: dict[str, dict] = {}
    for values in _select_of_firm(Client, _CLIENT_COLUMNS, firm, "code", codes):
        existing[values[1]] = dict(zip(_CLIENT_COLUMNS, values, strict=True))
    contacts_of: dict[int, list[dict]] = defaultdict(list)
    with_contact = [
        existing[c["code"]]["id"] for _, c, k, _ in prepared if k and c["code"] in existing
    ]
    for values in _select_of_firm(Contact, _CONTACT_COLUMNS, firm, "client_id", with_contact):
        contacts_of[values[1]].append(dict(zip(_CONTACT_COLUMNS, values, strict=True)))
    with_user = [
        existing[c["code"]]["id"] for _, c, _, u in prepared if u and c["code"] in existing
    ]
    assigned = set(
        _select_of_firm(ClientAssignment, ["client_id", "user_id"], firm, "client_id", with_user)
    )

    now = timezone.now()
    new_clients: list[dict] = []  # rows to insert, in order
    new_contacts: list[tuple[str, dict]] = []  # (code, row) for clients created here
    contacts_of_existing: list[dict] = []  # rows to insert for existing clients
    client_updates: list[tuple[int, dict]] = []
    contact_updates: list[tuple[int, dict]] = []
    contact_client: dict[int, int] = {}  # contact id → client id, for contact_updates
    new_assignments: list[tuple[str | int, int]] = []  # (code or client id, user id)
    events: list[tuple[str | int, str, str, dict]] = []  # (code or client id, ...)
    for index, cleaned, contact_data, user in prepared:
        code = cleaned["code"]
        stored = existing.get(code)
        if stored is None:
            if "name" not in cleaned:
                results[index] = UpsertResult(
                    "rejected", errors={"name": ["La raison sociale est obligatoire."]}
                )
                continue
            row = {
                "firm_id": firm.pk,
                "collect_email": new_collect_email(),
                "legal_form": LegalForm.AUCUNE.value,
                "siret": "",
                "ape_code": "",
                "regime": "",
                "activity": "",
                "address": "",
                "postal_code": "",
                "city": "",
                "docs_to_file": 0,
                "invoices_per_month": None,
                **cleaned,
            }
            row.update(_client_keys(row["name"], code, row["siret"]))
            new_clients.append(row)
            changes = {}
            if contact_data:
                contact = {**contact_data, "is_principal": True}
                contact["search_text"] = _contact_search_text(contact)
                new_contacts.append((code, contact))
                changes = {CONTACT_LABEL: ["", _full_name(contact)]}
            if user is not None:
                new_assignments.append((code, user.pk))
                changes[COLLABORATORS_LABEL] = ["", str(user)]
            events.append((code, "client.created", f"{source} : client créé", changes))
            results[index] = UpsertResult("created")
            continue

        outcome = "unchanged"
        client_id = stored["id"]
        fields = [f for f, v in cleaned.items() if f != "code" and stored[f] != v]
        if fields or stored["archived_at"] is not None:
            before = Client(**stored)
            after = Client(**{**stored, **cleaned})
            changes = history.diff(history.snapshot(before, fields), after)
            values = {f: cleaned[f] for f in fields}
            if stored["archived_at"] is not None:
                values["archived_at"] = None
                changes["archivé"] = ["oui", "non"]
            keys = _client_keys(after.name, code, after.siret)
            old_keys = _client_keys(stored["name"], code, stored["siret"])
            values.update({k: v for k, v in keys.items() if old_keys[k] != v})
            values["updated_at"] = now
            client_updates.append((client_id, values))
            summary = f"{source} : détails modifiés : " + ", ".join(changes)
            events.append((client_id, "client.updated", summary, changes))
            outcome = "updated"
        if contact_data:
            contacts = contacts_of[client_id]
            match = next((c for c in contacts if c["email"] == contact_data["email"]), None)
            if match is None:
                contact = {
                    **contact_data,
                    "is_principal": not any(c["is_principal"] for c in contacts),
                    "client_id": client_id,
                }
                contact["search_text"] = _contact_search_text(contact)
                contacts.append(contact)
                contacts_of_existing.append(contact)
                summary = f"{source} : contact ajouté : {_full_name(contact)}"
                events.append((client_id, "contact.created", summary, {}))
                outcome = "updated"
            else:
                fields = [f for f, v in contact_data.items() if match[f] != v]
                if fields:
                    before = Contact(**match)
                    after = Contact(**{**match, **contact_data})
                    changes = history.diff(history.snapshot(before, fields), after)
                    values = {f: contact_data[f] for f in fields}
                    search_text = _contact_search_text({**match, **contact_data})
                    if search_text != _contact_search_text(match):
                        values["search_text"] = search_text
                    values["updated_at"] = now
                    contact_updates.append((match["id"], values))
                    contact_client[match["id"]] = client_id
                    match.update(contact_data)
                    summary = f"{source} : contact modifié : {_full_name(match)}"
                    events.append((client_id, "contact.updated", summary, changes))
                    outcome = "updated"
        if user is not None and (client_id, user.pk) not in assigned:
            assigned.add((client_id, user.pk))
            new_assignments.append((client_id, user.pk))
            summary = f"{source} : collaborateur affecté : {user}"
            changes = {COLLABORATORS_LABEL: ["", str(user)]}
            events.append((client_id, "assignment.added", summary, changes))
            outcome = "updated"
        results[index] = UpsertResult(outcome)

    # Each client's search document written once, after its contacts (PostgreSQL).
    with searchdoc.written_once(connection) as touched:
        _insert(Client, new_clients)
        new_codes = [row["code"] for row in new_clients]
        ids = {
            code: pk
            for pk, code in _select_of_firm(Client, ["id", "code"], firm, "code", new_codes)
        }
        if client_updates:
            _update(Client, client_updates)
        for code, contact in new_contacts:
            contact["client_id"] = ids[code]
        _insert(
            Contact,
            [{"firm_id": firm.pk, **c} for c in contacts_of_existing]
            + [{"firm_id": firm.pk, **c} for _, c in new_contacts],
        )
        if contact_updates:
            _update(Contact, contact_updates)
        touched.update(ids.values())
        touched.update(pk for pk, values in client_updates if "search_text" in values)
        touched.update(c["client_id"] for c in contacts_of_existing)
        touched.update(contact_client[pk] for pk, v in contact_updates if "search_text" in v)
    _insert(
        ClientAssignment,
        [
            {
                "firm_id": firm.pk,
                "client_id": ids[key] if isinstance(key, str) else key,
                "user_id": u,
            }
            for key, u in new_assignments
        ],
    )
    _insert(
        ClientEvent,
        [
            {
                "firm_id": firm.pk,
                "client_id": ids[key] if isinstance(key, str) else key,
                "actor_id": None,
                "kind": kind,
                "summary": summary[:300],
                "changes": changes,
            }
            for key, kind, summary, changes in events
        ],
    )
    return results  # type: ignore[return-value]


def client_upsert(*, firm, code: str, data: dict, source: str) -> UpsertResult:
    """One client by code client (PUT /api/v1/clients/{code}); `client` is filled."""
    outcome = clients_upsert_many(firm=firm, rows=[{**data, "code": code}], source=source)[0]
    if outcome.result != "rejected":
        outcome.client = Client.objects.for_firm(firm).get(code=code.strip())
    return outcome


@transaction.atomic
def client_archive(*, client: Client, source: str) -> Client:
    """Archive a client (DELETE through the API): hidden from the portfolio, kept in history."""
    if client.archived_at is None:
        client.archived_at = timezone.now()
        client.save(update_fields=["archived_at"])
        history.record(
            client,
            actor=None,
            kind="client.archived",
            summary=f"{source} : client archivé",
            changes={"archivé": ["non", "oui"]},
        )
    return client
