"""A real SMTP server for tests and the bench (aiosmtpd, a test dependency).

with SMTPSink() as sink:            # 127.0.0.1, a free port
    settings.EMAIL_URL-like config: sink.email_settings() / sink.url
    sink.messages                    # parsed email.message.EmailMessage list
    sink.refuse_next("451 4.3.0 try later", count=2)
"""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, sink: SMTPSink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        import asyncio

        if self.sink.rcpt_delay:
            delay, self.sink.rcpt_delay = self.sink.rcpt_delay, 0
            self.sink.stalled.set()
            await asyncio.sleep(delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            if self.sink.refusals:
                reply = self.sink.refusals.pop(0)
                self.sink.refused += 1
                return reply
            self.sink.raw.append(envelope.content)
            self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SMTPSink:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.lock = threading.Lock()
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refusals: list[str] = []
        self.refused = 0
        self.rcpt_delay = 0.0
        self.stalled = threading.Event()
        self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def email_settings(self, timeout: int = 5) -> dict:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_TIMEOUT": timeout,
        }

    def refuse_next(self, reply: str, count: int = 1) -> None:
        with self.lock:
            self.refusals.extend([reply] * count)

    def stall_next_rcpt(self, seconds: float) -> None:
        """Hold the next RCPT TO for `seconds` (a hanging server; kill a worker meanwhile)."""
        self.stalled.clear()
        self.rcpt_delay = seconds

    @property
    def messages(self):
        with self.lock:
            return [message_from_bytes(raw, policy=policy.default) for raw in self.raw]

    def wait_for(self, count: int, timeout: float = 20.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.raw) >= count:
                    break
            time.sleep(0.05)
        return self.messages

    def start(self) -> SMTPSink:
        from aiosmtpd.controller import Controller

        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> SMTPSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
