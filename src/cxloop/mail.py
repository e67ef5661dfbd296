"""Outgoing e-mail over SMTP: one function every area uses."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

from cxloop.config import Settings


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server (the job queue retries)."""


class InvalidAddress(ValueError):
    pass


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    to_name: str | None = None


def check_address(address: str) -> str:
    """The address if it is a plausible single mailbox; raises ``InvalidAddress`` otherwise."""
    _, addr = parseaddr(address)
    local, _, domain = addr.rpartition("@")
    if (
        not addr
        or addr != address.strip()
        or not local
        or "." not in domain
        or any(c.isspace() for c in addr)
        or domain.startswith(".")
        or domain.endswith(".")
    ):
        raise InvalidAddress(f"{address!r} is not a valid e-mail address")
    return addr


def build_message(settings: Settings, mail: Mail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    to = check_address(mail.to)
    msg["To"] = formataddr((mail.to_name, to)) if mail.to_name else to
    msg["Subject"] = mail.subject
    msg["Message-ID"] = make_msgid(domain="cxloop")
    msg.set_content(mail.text)
    if mail.html:
        msg.add_alternative(mail.html, subtype="html")
    for a in mail.attachments:
        maintype, _, subtype = a.mime_type.partition("/")
        msg.add_attachment(a.content, maintype=maintype, subtype=subtype, filename=a.filename)
    return msg


def send(settings: Settings, mail: Mail, *, timeout: float = 20.0) -> str:
    """Send ``mail``; returns its Message-ID. Raises ``MailError`` when the server fails."""
    msg = build_message(settings, mail)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user and settings.smtp_password:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc
    return str(msg["Message-ID"])
