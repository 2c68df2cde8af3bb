"""/dev/mail/: the local mailbox, to try the whole journey on one machine without an SMTP
server. Only when DEBUG is on (a 404 for everyone otherwise), and only for a signed-in
collaborator, who reads their firm's outbox and the mail sent to them: a password reset
link is for its recipient alone."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime
from functools import wraps

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from vigie.lib.decorators import firm_required
from vigie.mail.backends import mailbox_dir
from vigie.mail.models import OutboundEmail

NAME_RE = re.compile(r"^[0-9A-Za-z-]+\.eml$")
LIMIT = 200


def debug_only(view):
    """The same 404 as a page that does not exist, whoever asks, when DEBUG is off."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.DEBUG:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _parse(path):
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    try:
        date = parsedate_to_datetime(msg["Date"]) if msg["Date"] else None
    except (TypeError, ValueError):
        date = None
    return msg, date


def _message_id(msg) -> str:
    return str(msg["Message-ID"] or "").strip()


def _firm_message_ids(firm, msgs) -> set[str]:
    """The Message-IDs among `msgs` of the firm's outbox (a file only knows its headers)."""
    ids = {_message_id(msg) for msg in msgs} - {""}
    return set(
        OutboundEmail.objects.filter(firm=firm, message_id__in=ids).values_list(
            "message_id", flat=True
        )
    )


def _sent_to(msg, email: str) -> bool:
    """Mail outside the outbox (allauth's password resets) is its recipient's alone."""
    for header in ("To", "Cc"):
        value = msg[header]
        if value is not None and any(
            address.addr_spec.lower() == email for address in getattr(value, "addresses", ())
        ):
            return True
    return False


def _readable(request, msg, firm_ids: set[str]) -> bool:
    return _message_id(msg) in firm_ids or _sent_to(msg, request.user.email.lower())


@debug_only
@require_GET
@firm_required
def mailbox(request):
    folder = mailbox_dir()
    paths = sorted(folder.glob("*.eml"), reverse=True) if folder.exists() else []
    messages = []
    # Newest first, a batch of files at a time, until a page of the reader's own mail.
    for start in range(0, len(paths), LIMIT):
        batch = [(path, *_parse(path)) for path in paths[start : start + LIMIT]]
        firm_ids = _firm_message_ids(request.firm, [msg for _, msg, _ in batch])
        messages += [
            {
                "name": path.name,
                "to": msg["To"],
                "from": msg["From"],
                "subject": msg["Subject"],
                "date": date,
            }
            for path, msg, date in batch
            if _readable(request, msg, firm_ids)
        ]
        if len(messages) >= LIMIT:
            break
    return render(request, "mail/mailbox.html", {"messages_list": messages[:LIMIT]})


@debug_only
@require_GET
@firm_required
def mailbox_message(request, name: str):
    if not NAME_RE.match(name):
        raise Http404
    path = mailbox_dir() / name
    if not path.is_file():
        raise Http404
    msg, date = _parse(path)
    if not _readable(request, msg, _firm_message_ids(request.firm, [msg])):
        raise Http404
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    context = {
        "name": name,
        "headers": [(k, v) for k, v in msg.items()],
        "subject": msg["Subject"],
        "text": text_part.get_content() if text_part else "",
        "html": ('<base target="_blank">' + html_part.get_content()) if html_part else "",
        "date": date,
    }
    return render(request, "mail/message.html", context)
