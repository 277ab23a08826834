"""Outgoing mail behind one small interface: `send(Mail)`.

- `SMTPMailer`: a real server (the standard library's smtplib; STARTTLS unless told otherwise, login when a
  user is set), chosen when PB_SMTP_HOST is set.
- `OutboxMailer`: no mail server (a laptop, the demo): each mail is written as an .eml file to a folder
  (instance/outbox by default) and its recipient and file are logged, so that a developer can open the link.
- `MemoryMailer`: tests read what was sent from a list.

Texts are worded by the caller (the web layer, in the reader's language); this module only delivers.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Mapping, Protocol

log = logging.getLogger(__name__)
DEFAULT_SENDER = "pb_engine <no-reply@localhost>"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str  # plain text


class Mailer(Protocol):
    def send(self, mail: Mail) -> None: ...


def _message(mail: Mail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">") or "localhost")
    msg.set_content(mail.body)
    return msg


class MemoryMailer:
    def __init__(self):
        self.sent: list[Mail] = []

    def send(self, mail: Mail) -> None:
        self.sent.append(mail)


class OutboxMailer:
    def __init__(self, folder: str | os.PathLike, sender: str = DEFAULT_SENDER):
        self.folder = Path(folder)
        self.sender = sender

    def send(self, mail: Mail) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(bytes(_message(mail, self.sender)))
        # The recipient and the file, never the body: it holds a sign-up link.
        log.warning("no mail server (PB_SMTP_HOST unset): mail to %s written to %s", mail.to, path)


class SMTPMailer:
    def __init__(self, host: str, port: int = 587, *, user: str = "", password: str = "", tls: str = "starttls",
                 sender: str = DEFAULT_SENDER, timeout: float = 10.0):
        if tls not in ("starttls", "ssl", "none"):
            raise ValueError("PB_SMTP_TLS is starttls, ssl or none")
        self.host, self.port, self.user, self.password = host, port, user, password
        self.tls, self.sender, self.timeout = tls, sender, timeout

    def send(self, mail: Mail) -> None:
        context = ssl.create_default_context()
        if self.tls == "ssl":
            server = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with server:
            if self.tls == "starttls":
                server.starttls(context=context)
            if self.user:
                server.login(self.user, self.password)
            server.send_message(_message(mail, self.sender))


def from_settings(settings: Mapping[str, str], outbox: str | os.PathLike) -> Mailer:
    """SMTP when PB_SMTP_HOST is set (PB_SMTP_PORT, PB_SMTP_USER, PB_SMTP_PASSWORD, PB_SMTP_TLS, PB_MAIL_FROM),
    else the outbox folder (PB_MAIL_OUTBOX, default `outbox`)."""
    sender = settings.get("PB_MAIL_FROM") or DEFAULT_SENDER
    host = settings.get("PB_SMTP_HOST")
    if host:
        return SMTPMailer(host, int(settings.get("PB_SMTP_PORT") or 587), user=settings.get("PB_SMTP_USER") or "",
                          password=settings.get("PB_SMTP_PASSWORD") or "", tls=settings.get("PB_SMTP_TLS") or "starttls",
                          sender=sender)
    return OutboxMailer(settings.get("PB_MAIL_OUTBOX") or outbox, sender=sender)
