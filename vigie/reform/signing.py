"""The client signs its mandate online, from the mandate e-mail's link (docs/mandates.md).

The link (vigie.reform.tokens) opens a public page. The client asks for a one-time code,
sent by e-mail to the mandate's representative address (6 digits, valid 10 minutes; only
an HMAC of it is kept), types it, ticks the consent box and signs. The generated PDF then
gets an evidence page and is sealed (vigie.reform.seal) in the request: about 30 ms.

Each step is in the client's history: reform.mandate_opened (the link followed, once, on
a human signal: the page's POST once loaded, or the code asked for; never a bare GET,
which a link-scanning mail filter sends too),
reform.mandate_code_sent, reform.mandate_signed (as for an uploaded copy: the dashboard's
figures count both), reform.mandate_locked (MAX_FAILURES wrong codes: the link locks and
the collaborator who sent the mandate is told by e-mail).

Nothing is ever half-signed: the sealed file is made first, then one transaction, with
the client's and the mandate's rows locked, checks the mandate is still waiting, stores
the file and changes the state. Two tabs signing at once give one signature (the second
finds the mandate signed); a process killed before the commit leaves the mandate as it
was (at most an unreferenced file), and signing again seals again.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from vigie.clients import history
from vigie.clients.models import Client, MandateStatus
from vigie.reform import mailer, tokens
from vigie.reform.models import Mandate, MandateState
from vigie.reform.seal import Evidence, evidence_pdf, sealer, sha256, with_evidence

log = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_VALIDITY = timedelta(minutes=10)
MAX_FAILURES = 5
# Between two codes sent for one mandate.
RESEND_COOLDOWN = timedelta(seconds=60)
# Between the code verified and the signature.
VERIFIED_FOR = timedelta(minutes=30)
# States in which the link still lets the client sign.
SIGNABLE = (MandateState.SENT, MandateState.OPENED)

CONSENT = "J'ai lu le mandat et j'accepte de le signer électroniquement au nom de {client}."

LINK_CLOSED = "Ce mandat ne peut plus être signé en ligne."
LINK_LOCKED = (
    "Ce lien de signature est bloqué après {max} codes erronés. Votre cabinet en a été "
    "informé : il vous enverra un nouveau mandat."
)
CODE_WAIT = "Un code vient de vous être envoyé. Vous pourrez en demander un autre dans {seconds} s."
CODE_FIRST = "Demandez d'abord un code : il vous sera envoyé par e-mail."
CODE_FORMAT = "Saisissez les 6 chiffres du code reçu par e-mail."
CODE_EXPIRED = "Ce code a expiré (il est valable 10 minutes) : demandez-en un nouveau."
CODE_WRONG = "Code incorrect. Il vous reste {left} essai(s)."
CODE_NOT_VERIFIED = "Confirmez d'abord votre identité avec le code reçu par e-mail."
CONSENT_REQUIRED = "Cochez la case pour donner votre consentement."
DOCUMENT_CHANGED = (
    "Le document du mandat ne correspond plus à celui qui vous a été envoyé : il ne peut "
    "pas être signé. Contactez votre cabinet."
)


# --- The link ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """What a link leads to: `state` is invalid, expired, revoked, signed, locked or open."""

    state: str
    mandate: Mandate | None = None


def link_resolve(token: str, *, now: datetime | None = None) -> Link:
    parsed = tokens.parse_token(token)
    mandate = None
    if parsed is not None:
        mandate = (
            Mandate.objects.issued()  # a draft has no link: it was never sent
            .select_related("client", "firm")
            .filter(public_id=parsed[0])
            .first()
        )
    if mandate is None or not tokens.is_authentic(mandate, token):
        return Link("invalid")
    if mandate.state == MandateState.SIGNED:
        return Link("signed", mandate)
    if mandate.state == MandateState.REVOKED:
        return Link("revoked", mandate)
    if mandate.state == MandateState.EXPIRED or tokens.is_expired(
        token, now=(now or timezone.now()).timestamp()
    ):
        return Link("expired", mandate)
    if mandate.state == MandateState.LOCKED:
        return Link("locked", mandate)
    return Link("open", mandate)


def mandate_link_open(*, mandate: Mandate, now: datetime | None = None) -> Mandate:
    """The client followed the link: *ouvert*, once (a conditional UPDATE: two tabs
    opening at once record it once). Called on a human signal only (see above)."""
    now = now or timezone.now()
    with transaction.atomic():
        opened = Mandate.objects.filter(pk=mandate.pk, state=MandateState.SENT).update(
            state=MandateState.OPENED, opened_at=now
        )
        if opened:
            history.record(
                mandate.client,
                actor=None,
                kind="reform.mandate_opened",
                summary=f"Lien de signature du mandat ouvert par {mandate.representative}",
            )
    if opened:
        mandate.state, mandate.opened_at = MandateState.OPENED, now
    return mandate


# --- The one-time code -------------------------------------------------------------------


def _code_hash(mandate: Mandate, code: str) -> str:
    sent = round(mandate.code_sent_at.timestamp() * 1_000_000)
    value = f"{mandate.public_id}:{sent}:{code}"
    return salted_hmac("vigie.reform.signing.code", value, algorithm="sha256").hexdigest()


def code_wait(mandate: Mandate, *, now: datetime | None = None) -> int:
    """Seconds before another code may be sent (0: now)."""
    if mandate.code_sent_at is None:
        return 0
    left = mandate.code_sent_at + RESEND_COOLDOWN - (now or timezone.now())
    return max(0, int(left.total_seconds() + 0.999))


def code_is_live(mandate: Mandate, *, now: datetime | None = None) -> bool:
    return bool(mandate.code_hash) and (now or timezone.now()) <= (
        mandate.code_sent_at + CODE_VALIDITY
    )


def is_verified(mandate: Mandate, *, now: datetime | None = None) -> bool:
    return mandate.code_verified_at is not None and (now or timezone.now()) <= (
        mandate.code_verified_at + VERIFIED_FOR
    )


def _locked(mandate_id: int) -> Mandate:
    return (
        Mandate.objects.select_for_update(of=("self",))
        .select_related("client", "client__firm", "created_by")
        .get(pk=mandate_id)
    )


@transaction.atomic
def mandate_code_send(*, mandate: Mandate, now: datetime | None = None) -> Mandate:
    """A new one-time code by e-mail to the representative (the previous one no longer
    works). Refused within the cooldown, or when the mandate is no longer signable."""
    now = now or timezone.now()
    mandate = _locked(mandate.pk)
    if mandate.state == MandateState.LOCKED:
        raise ValidationError({"code": LINK_LOCKED.format(max=MAX_FAILURES)})
    if mandate.state not in SIGNABLE:
        raise ValidationError({"code": LINK_CLOSED})
    wait = code_wait(mandate, now=now)
    if wait:
        raise ValidationError({"code": CODE_WAIT.format(seconds=wait)})
    # The page's first action: the link was followed by someone, even without the
    # page's own signal (JavaScript off).
    mandate_link_open(mandate=mandate, now=now)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    mandate.code_sent_at = now
    mandate.code_hash = _code_hash(mandate, code)
    mandate.codes_sent += 1
    mandate.code_verified_at = None
    mandate.save(update_fields=["code_sent_at", "code_hash", "codes_sent", "code_verified_at"])
    mailer.send_code(mandate=mandate, code=code)
    history.record(
        mandate.client,
        actor=None,
        kind="reform.mandate_code_sent",
        summary=f"Code de signature du mandat envoyé à {mandate.representative_email}",
    )
    return mandate


def mandate_code_verify(*, mandate: Mandate, code: str, now: datetime | None = None) -> Mandate:
    """Check the code typed. A wrong one counts (and is kept counted when this raises);
    the MAX_FAILURES-th locks the link and tells the firm."""
    now = now or timezone.now()
    code = re.sub(r"\s", "", code or "")
    error = ""
    with transaction.atomic():
        mandate = _locked(mandate.pk)
        if mandate.state == MandateState.LOCKED:
            error = LINK_LOCKED.format(max=MAX_FAILURES)
        elif mandate.state not in SIGNABLE:
            error = LINK_CLOSED
        elif not mandate.code_hash:
            error = CODE_FIRST
        elif not code_is_live(mandate, now=now):
            error = CODE_EXPIRED
        elif not re.fullmatch(rf"\d{{{CODE_DIGITS}}}", code):
            error = CODE_FORMAT
        elif hmac.compare_digest(_code_hash(mandate, code), mandate.code_hash):
            mandate.code_hash = ""  # used
            mandate.code_verified_at = now
            mandate.code_tries = mandate.code_failures + 1
            mandate.save(update_fields=["code_hash", "code_verified_at", "code_tries"])
        else:
            mandate.code_failures += 1
            left = MAX_FAILURES - mandate.code_failures
            if left > 0:
                error = CODE_WRONG.format(left=left)
                mandate.save(update_fields=["code_failures"])
            else:
                error = LINK_LOCKED.format(max=MAX_FAILURES)
                _lock(mandate, now)
    if error:
        raise ValidationError({"code": error})
    return mandate


def _lock(mandate: Mandate, now: datetime) -> None:
    mandate.state, mandate.locked_at, mandate.code_hash = MandateState.LOCKED, now, ""
    mandate.save(update_fields=["state", "locked_at", "code_hash", "code_failures"])
    history.record(
        mandate.client,
        actor=None,
        kind="reform.mandate_locked",
        summary=f"Lien de signature du mandat bloqué après {MAX_FAILURES} codes erronés : "
        "envoyez un nouveau mandat ou déposez la copie signée",
    )
    mailer.send_locked_notice(mandate=mandate, failures=MAX_FAILURES)


# --- The signature -----------------------------------------------------------------------


def mandate_sign_online(
    *,
    mandate: Mandate,
    consent: bool,
    ip: str,
    user_agent: str,
    now: datetime | None = None,
) -> Mandate:
    """Seal the mandate with its evidence and store it as the signed copy. The mandate
    is returned signed; when another request signed it first, that signature stands."""
    now = now or timezone.now()
    if not consent:
        raise ValidationError({"consent": CONSENT_REQUIRED})
    if mandate.state == MandateState.SIGNED:
        return mandate
    if mandate.state not in SIGNABLE:
        raise ValidationError({"mandate": LINK_CLOSED})
    if not is_verified(mandate, now=now):
        raise ValidationError({"code": CODE_NOT_VERIFIED})
    with mandate.document.open("rb") as file:
        original = file.read()
    digest = sha256(original)
    if mandate.document_sha256 and digest != mandate.document_sha256:
        log.error("mandate %s: the stored document's SHA-256 changed", mandate.public_id)
        raise ValidationError({"mandate": DOCUMENT_CHANGED})
    evidence = Evidence(
        reference=str(mandate.public_id),
        client_name=mandate.client_name,
        siren=mandate.siren,
        firm_name=mandate.firm_name,
        signer_name=mandate.representative,
        signer_email=mandate.representative_email,
        original_sha256=digest,
        opened_at=mandate.opened_at,
        code_sent_at=mandate.code_sent_at,
        code_verified_at=mandate.code_verified_at,
        code_tries=mandate.code_tries,
        signed_at=now,
        ip=ip[:64],
        user_agent=" ".join(user_agent.split())[:400],
        consent=CONSENT.format(client=mandate.client_name),
    )
    seal = sealer()
    sealed = seal.seal(
        with_evidence(original, evidence_pdf(evidence, certificate=seal.subject)),
        reason=f"Mandat signé en ligne par {mandate.representative}",
        name=mandate.representative,
    )
    return _store(mandate, sealed, evidence, seal.subject, now)


def _store(mandate: Mandate, sealed: bytes, evidence: Evidence, certificate: str, now):
    name = ""
    try:
        with transaction.atomic():
            client = Client.objects.locked(mandate.client)
            current = _locked(mandate.pk)
            if current.state == MandateState.SIGNED:
                return current  # the other tab signed first
            if current.state not in SIGNABLE or current.code_verified_at != (
                mandate.code_verified_at
            ):
                raise ValidationError({"mandate": LINK_CLOSED})
            current.signed_document.save("signe.pdf", ContentFile(sealed), save=False)
            name = current.signed_document.name
            current.signed_size = len(sealed)
            current.state = MandateState.SIGNED
            current.signed_at, current.signed_by, current.signed_online = now, None, True
            current.evidence = {
                **evidence.as_json(),
                "sealed_sha256": sha256(sealed),
                "certificate": certificate,
            }
            current.document_sha256 = current.document_sha256 or evidence.original_sha256
            current.save()
            before = history.snapshot(client, ["mandate_status"])
            client.mandate_status = MandateStatus.SIGNED
            client.mandate_signed_at = now
            client.save(update_fields=["mandate_status", "mandate_signed_at"])
            history.record(
                client,
                actor=None,
                kind="reform.mandate_signed",
                summary=f"Mandat signé en ligne par {current.representative} "
                f"({current.representative_email}), code vérifié par e-mail",
                changes=history.diff(before, client),
            )
            mailer.send_signed_copy(mandate=current, content=sealed)
            return current
    except BaseException:
        if name:  # stored, then rolled back: the file belongs to no mandate
            mandate.signed_document.storage.delete(name)
        raise
