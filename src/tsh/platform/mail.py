"""Sending e-mail over SMTP (aiosmtplib), for the notification outbox's sender.

TSH_SMTP_URL: smtp://[user:password@]host[:port] (plain, upgraded with STARTTLS when the server
offers it, or always with ?starttls=1), smtps://… for implicit TLS (port 465 by default).
One connection carries a whole batch; a message the server refuses for good (5xx) is reported as
`Rejected`, anything else (connection lost, 4xx) is `MailUnavailable`: the caller stops the batch.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

Send = Callable[[str, str, str], Awaitable[None]]


class Rejected(Exception):
    """The server refused this message permanently (bad recipient, policy): do not retry it."""


class MailUnavailable(Exception):
    """The server cannot be reached or refused for now (connection, 4xx): try again later."""


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = None
    timeout_s: float = 30.0

    @classmethod
    def from_url(cls, url: str, *, sender: str) -> SmtpSender:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("TSH_SMTP_URL must look like smtp://user:password@host:port")
        implicit = parts.scheme == "smtps"
        query = parse_qs(parts.query)
        starttls = query.get("starttls", [""])[0].lower()
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            sender=sender,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=implicit,
            start_tls=None if implicit or not starttls else starttls in ("1", "true", "yes"),
        )

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Send]:
        """One SMTP connection; yields `send(recipient, subject, body)`."""
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            timeout=self.timeout_s,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailUnavailable(f"SMTP server {self.host}:{self.port}: {exc}") from exc

        async def send(recipient: str, subject: str, body: str) -> None:
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = self.sender, recipient, subject
            message.set_content(body)
            try:
                await client.send_message(message)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                if all(r.code >= 500 for r in exc.recipients):
                    raise Rejected(str(exc)) from exc
                raise MailUnavailable(str(exc)) from exc
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code >= 500:
                    raise Rejected(str(exc)) from exc
                raise MailUnavailable(str(exc)) from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                raise MailUnavailable(str(exc)) from exc

        try:
            yield send
        finally:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
