"""The mail sender: the dispatcher's ``mail`` kind, one message per event to the buyer's addresses.

The event names its invoice; the sender reads the invoice with the issuer version it was emitted
under, renders its A4 (in a render process of its own), builds the message
(encola/mail/message.py) and hands it to the SMTP server of ``ENCOLA_SMTP_URL``. Accepted
(2xx after DATA, for at least one address) is delivered: the store marks the invoice
(``envio_x_mail`` "S"). Anything else — the server down, refusing, timing out — is a failed
attempt, retried on ``ENCOLA_MAIL_RETRY_SCHEDULE``. Every attempt is recorded in ``hook_attempts``
with the server as ``smtp://host:port`` (never a password) and its reply code.

The SMTP server is the one endpoint of this kind: at most ``ENCOLA_MAIL_CONCURRENCY`` messages in
flight per process, each on a connection of its own, kept open for the next message while it is
fresh (an idle connection the server closed is replaced without counting an attempt).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import aiosmtplib
from email import policy

from encola.clock import Clock
from encola.documents import pool as render_pool
from encola.documents.links import Links
from encola.documents.render import filename, render_a4
from encola.mail import message as messages
from encola.mail.config import envelope_address
from encola.settings import Settings
from encola.store.rows import Attempt, HookEvent
from encola.webhooks.retry import next_retry_at

log = logging.getLogger("encola.mail")
IDLE_SECONDS = 20.0  # a connection unused this long is closed rather than reused
NOT_FOUND = "el comprobante no esta emitido o no existe"
# UTF-8 headers, unfolded up to SMTP's line limit (Python folds a long UTF-8 subject badly).
_INTERNATIONAL = policy.SMTPUTF8.clone(max_line_length=998)


class MailSender:
    kind = "mail"

    def __init__(self, store, settings: Settings, clock: Clock):
        assert settings.smtp is not None
        self.store = store
        self.settings = settings
        self.clock = clock
        self.server = settings.smtp
        self.concurrency = settings.mail_concurrency
        self.endpoint_concurrency = settings.mail_concurrency
        self.longest_attempt = settings.mail_timeout + 10  # + reading and rendering the invoice
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        # Messages are composed (the A4 rendered, the message built and flattened) in render
        # processes: in a thread, a render made every SMTP round trip of the event loop wait for
        # it (28 ms per message instead of 3, measured). Shared with the process's downloads.
        self._renderer = render_pool.shared(settings.render_processes)
        self._opened = False
        self._hostname: str | None = None
        self._links: Links | None = None
        self._envelope_from = envelope_address(settings.mail_from)
        self._domain = self._envelope_from.rpartition("@")[2] or "encola"

    @staticmethod
    def endpoint(event: HookEvent) -> str:
        return "smtp"  # one server for every mail

    async def open(self) -> None:
        if not self._opened:
            self._renderer.open()
            self._opened = True
        if self._hostname is None:
            self._hostname = await asyncio.to_thread(socket.getfqdn)  # the EHLO name, looked up once

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client, _ in idle:
            await _quit(client)
        if self._opened:
            self._opened = False
            self._renderer.close()

    # --- one attempt ---------------------------------------------------------------------------

    async def attempt(self, event: HookEvent) -> Attempt:
        """Build and send the event's message once; the outcome, not yet recorded."""
        await self.open()
        intento = event.attempts + 1
        started = time.monotonic()
        status_code, error, recipients = None, None, None
        try:
            built = await self._message(event)
            if built is None:
                error = NOT_FOUND
            else:
                message, to = built
                status_code, refused = await asyncio.wait_for(self._send(message, to), self.settings.mail_timeout)
                recipients = ",".join(address for address in to if address not in refused)
                if refused:
                    log.info("mail %s: refused %s", event.external_reference, ", ".join(sorted(refused)),
                             extra={"action": "mail", "hook_id": event.hook_id})
        except asyncio.TimeoutError:
            error = f"sin respuesta en {self.settings.mail_timeout:g} s"
        except aiosmtplib.SMTPResponseException as exc:
            status_code, error = exc.code, f"SMTP {exc.code}: {exc.message}"[:500]
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = f"no se pudo enviar: {type(exc).__name__}: {exc}"[:500]
        delivered = error is None
        retry_at = None
        if not delivered and error != NOT_FOUND:
            retry_at = next_retry_at(self.clock.now(), intento - event.schedule_start, self.settings.mail_retry_schedule)
        log.log(
            logging.DEBUG if delivered else logging.INFO,
            "mail %s %s intento=%d %s",
            event.external_reference,
            "aceptado" if delivered else "fallido",
            intento,
            error or status_code,
            extra={"action": "mail", "hook_id": event.hook_id},
        )
        duration_ms = int((time.monotonic() - started) * 1000)
        return Attempt(event, self.server.display, status_code, error, duration_ms, delivered, retry_at, recipients=recipients)

    async def _message(self, event: HookEvent):
        """The message and its recipients, or None when the invoice is not there (or not emitted)."""
        if event.invoice_id is None:
            return None
        document = await asyncio.to_thread(self.store.emitted_document, event.invoice_id)
        if document is None or not document.row.mail_to:
            return None
        if self._links is None:
            self._links = Links(self.settings.public_url or "", await asyncio.to_thread(self.store.document_link_key))
        to = document.row.mail_to.split(",")
        try:
            built = await self._renderer.run(
                _compose,
                document,
                to,
                self.settings.mail_from,
                f"<{event.hook_id}@{self._domain}>",
                event.mail_reply_to,
                self._links.folder(document.row.id) if self.settings.public_url else None,
                self.clock.now(),
            )
        except render_pool.RenderProcessDied as exc:
            raise OSError(str(exc)) from None
        return built, to

    async def _send(self, message: bytes, to: list[str]) -> tuple[int, set[str]]:
        """Hand the message over on a kept or a new connection; (reply code, refused addresses)."""
        client, reused = await self._connection()
        try:
            try:
                refused, _ = await client.sendmail(self._envelope_from, to, message, mail_options=_options(message))
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                if not reused:
                    raise
                # The server closed the idle connection: once more on a new one.
                await _quit(client)
                client, reused = await self._connection(fresh=True)
                refused, _ = await client.sendmail(self._envelope_from, to, message, mail_options=_options(message))
        except BaseException:
            client.close()  # no QUIT: the attempt may be ending on a timeout
            raise
        self._idle.append((client, time.monotonic()))
        return 250, set(refused)

    async def _connection(self, fresh: bool = False) -> tuple[aiosmtplib.SMTP, bool]:
        while self._idle and not fresh:
            client, since = self._idle.pop()
            if client.is_connected and time.monotonic() - since < IDLE_SECONDS:
                return client, True
            await _quit(client)
        server = self.server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.security == "tls",
            start_tls=server.security == "starttls",
            local_hostname=self._hostname,
            timeout=self.settings.mail_timeout,
        )
        await client.connect()
        return client, False


def _compose(document, to, mail_from, message_id, reply_to, page_url, now) -> bytes:
    """The whole message as it goes on the wire, made in the render process: the A4 rendered and
    attached, both bodies, the headers (the event loop only hands the bytes to the server)."""
    pdf = render_a4(document.row, document.issuer, afip_env=document.afip_env)
    message = messages.build(document, pdf, filename(document.row, "a4"), to=to, mail_from=mail_from,
                             message_id=message_id, reply_to=reply_to, page_url=page_url, now=now)
    # An address with a non-ASCII local part needs SMTPUTF8 (then the headers go as UTF-8 too).
    international = not all(address.isascii() for address in [*to, envelope_address(mail_from)])
    return message.as_bytes(policy=_INTERNATIONAL if international else policy.SMTP)


def _options(message: bytes) -> list[str]:
    return [] if message.isascii() else ["SMTPUTF8"]


async def _quit(client: aiosmtplib.SMTP) -> None:
    """Close a connection, politely if it still answers."""
    try:
        if client.is_connected:
            await asyncio.wait_for(client.quit(), 2)
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
        pass
    finally:
        client.close()
