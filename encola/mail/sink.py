"""A local SMTP server that keeps what it receives: for ``make demo``, the benchmark and tests.

aiosmtpd in a thread of its own on 127.0.0.1. Every accepted message is kept in ``messages``
(envelope sender, recipients, parsed message) and, with a ``directory``, written there as
``<n>-<Message-ID>.eml``. ``stop()`` closes the port and ``start()`` opens it again on the same
one, so a test can take the server down and bring it back mid-run.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from dataclasses import dataclass
from functools import cached_property
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes
    path: Path | None = None

    @cached_property
    def message(self) -> EmailMessage:
        """The message, parsed when first asked for (a benchmark's sink need not spend the CPU)."""
        return message_from_bytes(self.raw, policy=policy.default)


class _Handler:
    def __init__(self, sink: "MailSink"):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.sink.refuse:
            return "451 4.3.0 no por ahora"
        self.sink.keep(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        return "250 2.0.0 OK"


class MailSink:
    def __init__(self, directory: Path | None = None, port: int = 0, host: str = "127.0.0.1"):
        self.host = host
        self.port = port or _free_port(host)
        self.directory = directory
        self.messages: list[Received] = []
        self.refuse = False  # answer 451 to every message (a server refusing for now)
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        self.on_message = None  # called with each Received (the demo prints it)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> "MailSink":
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
        if self._controller is None:
            self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, ready_timeout=10)
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def keep(self, sender: str, recipients: list[str], raw: bytes) -> None:
        with self._lock:
            received = Received(sender, recipients, raw)
            if self.directory is not None:
                self.directory.mkdir(parents=True, exist_ok=True)
                name = re.sub(r"[^A-Za-z0-9.@_-]", "", str(received.message.get("Message-ID", "")))[:80] or "mensaje"
                received.path = self.directory / f"{len(self.messages) + 1:04d}-{name}.eml"
                received.path.write_bytes(raw)
            self.messages.append(received)
        if self.on_message is not None:
            self.on_message(received)

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.messages)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
