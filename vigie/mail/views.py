"""/dev/mail/: the local mailbox (DEBUG, or staff), to try the whole journey on one
machine without an SMTP server."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from vigie.mail.backends import mailbox_dir

NAME_RE = re.compile(r"^[0-9A-Za-z-]+\.eml$")
LIMIT = 200


def _allowed(request) -> bool:
    return settings.DEBUG or (request.user.is_authenticated and request.user.is_staff)


def _parse(path):
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    try:
        date = parsedate_to_datetime(msg["Date"]) if msg["Date"] else None
    except (TypeError, ValueError):
        date = None
    return msg, date


@require_GET
def mailbox(request):
    if not _allowed(request):
        raise Http404
    folder = mailbox_dir()
    files = sorted(folder.glob("*.eml"), reverse=True)[:LIMIT] if folder.exists() else []
    messages = []
    for path in files:
        msg, date = _parse(path)
        messages.append(
            {
                "name": path.name,
                "to": msg["To"],
                "from": msg["From"],
                "subject": msg["Subject"],
                "date": date,
            }
        )
    return render(request, "mail/mailbox.html", {"messages_list": messages})


@require_GET
def mailbox_message(request, name: str):
    if not _allowed(request) or not NAME_RE.match(name):
        raise Http404
    path = mailbox_dir() / name
    if not path.is_file():
        raise Http404
    msg, date = _parse(path)
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
