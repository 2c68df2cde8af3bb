"""The public pages of a mandate e-mail's link, for the client (no sign-in): read the
mandate, confirm one's identity with a code sent by e-mail, consent, sign
(vigie.reform.signing). Each step posts and redirects back to the page; a refusal shows
the page again with the French message next to its field (400).

The mandate is *ouvert* on a human signal only, never on a bare GET or HEAD (a mail
filter fetching every link): the page's POST once loaded, or the code asked for.

This browser's steps are kept in its session: the code verified here lets this browser
sign, and the browser that signed may download the sealed copy from the page.
"""

from __future__ import annotations

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST, require_safe

from vigie.reform import signing, tokens
from vigie.reform.signing import Link

PAGE = "reform/signing/page.html"
SESSION_KEY = "reform.signing"
VERIFIED, SIGNED = "verified", "signed"
# The answer's status for each state of a link that does not let the client sign.
STATUS = {"invalid": 404, "expired": 410, "revoked": 410, "locked": 403, "signed": 200}


def _session_step(request, mandate) -> str:
    return request.session.get(SESSION_KEY, {}).get(mandate.public_id.hex, "")


def _remember(request, mandate, step: str) -> None:
    steps = dict(request.session.get(SESSION_KEY, {}))
    steps[mandate.public_id.hex] = step
    request.session[SESSION_KEY] = steps


def _page(request, token: str, link: Link, *, errors: dict | None = None, status: int = 200):
    mandate = link.mandate
    context = {
        "token": token,
        "link": link,
        "mandate": mandate,
        "errors": errors or {},
        "firm_name": mandate.firm_name if mandate else "",
        "with_htmx": link.state == "open",
    }
    if link.state == "open":
        verified = _session_step(request, mandate) == VERIFIED and signing.is_verified(mandate)
        context.update(
            step="sign" if verified else "code" if signing.code_is_live(mandate) else "ask",
            wait=signing.code_wait(mandate),
            consent=signing.CONSENT.format(client=mandate.client_name),
            expires=tokens.expires_at(mandate.sent_at) if mandate.sent_at else None,
        )
    elif link.state == "signed":
        context["own_copy"] = _session_step(request, mandate) == SIGNED
    if link.state != "open":
        status = STATUS[link.state]
    return render(request, PAGE, context, status=status)


def _back(token: str):
    return redirect(reverse("mandate_sign", args=[token]) + "#signature")


@never_cache
@require_safe
def mandate_sign(request, token: str):
    """The page of the link. Showing it records nothing: a mail filter that fetches
    every link (GET or HEAD) would open every mandate. The page posts
    `mandate_sign_open` once loaded in a browser; asking for the code counts too."""
    return _page(request, token, signing.link_resolve(token))


@require_POST
def mandate_sign_open(request, token: str):
    """Sent by the page once loaded (htmx): the mandate *ouvert*, once."""
    link = signing.link_resolve(token)
    if link.state == "invalid":
        raise Http404("Lien invalide.")
    if link.state == "open":
        signing.mandate_link_open(mandate=link.mandate)
    return HttpResponse(status=204) if request.htmx else _back(token)


# The page frames this answer: its own origin may (the console's pages stay unframed).
@never_cache
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})
@require_GET
def mandate_sign_document(request, token: str):
    """The mandate's PDF, shown in the page (`?telecharger=1`: as a download); once
    signed, the sealed copy, for the browser that signed it only."""
    link = signing.link_resolve(token)
    mandate = link.mandate
    if link.state in ("open", "locked"):
        file, suffix = mandate.document, ""
    elif link.state == "signed" and _session_step(request, mandate) == SIGNED:
        file, suffix = mandate.signed_document, "-signe"
    else:
        raise Http404("Document introuvable.")
    response = FileResponse(
        file.open("rb"),
        as_attachment=request.GET.get("telecharger") == "1",
        filename=f"mandat-{mandate.client.code}{suffix}.pdf",
        content_type="application/pdf",
    )
    return response


@require_POST
def mandate_sign_code(request, token: str):
    """« Recevoir un code » / « Renvoyer un code »."""
    link = signing.link_resolve(token)
    if link.state != "open":
        return _page(request, token, link)
    try:
        mandate = signing.mandate_code_send(mandate=link.mandate)
    except ValidationError as exc:
        return _page(request, token, link, errors=exc.message_dict, status=400)
    messages.success(
        request, f"Un code à 6 chiffres a été envoyé à {mandate.representative_email}."
    )
    return _back(token)


@require_POST
def mandate_sign_verify(request, token: str):
    """The code typed: this browser may sign."""
    link = signing.link_resolve(token)
    if link.state != "open":
        return _page(request, token, link)
    try:
        mandate = signing.mandate_code_verify(
            mandate=link.mandate, code=request.POST.get("code", "")
        )
    except ValidationError as exc:
        link = signing.link_resolve(token)  # the wrong code may have locked it
        return _page(request, token, link, errors=exc.message_dict, status=400)
    _remember(request, mandate, VERIFIED)
    messages.success(request, "Votre identité est confirmée.")
    return _back(token)


@require_POST
def mandate_sign_submit(request, token: str):
    """« Signer le mandat »: sealed in this request (about 30 ms)."""
    link = signing.link_resolve(token)
    if link.state != "open":
        return _page(request, token, link)
    if _session_step(request, link.mandate) != VERIFIED:
        errors = {"code": [signing.CODE_NOT_VERIFIED]}
        return _page(request, token, link, errors=errors, status=400)
    try:
        mandate = signing.mandate_sign_online(
            mandate=link.mandate,
            consent=request.POST.get("consent") in ("1", "on"),
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except ValidationError as exc:
        return _page(request, token, link, errors=exc.message_dict, status=400)
    _remember(request, mandate, SIGNED)
    return _back(token)


def client_ip(request) -> str:
    """The signer's address: behind the load balancer, the last X-Forwarded-For entry
    (the one the balancer appended, as allauth reads it: settings.BEHIND_PROXY)."""
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")
