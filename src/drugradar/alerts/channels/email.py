"""Email digests over SMTP: one multipart message (text + HTML) per digest.

The Message-ID is derived from the digest's idempotency key, so a resend after a crash is the
same message to mail clients and to anyone deduplicating on it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr

from drugradar.alerts.channels import ChannelError, RenderedDigest

log = logging.getLogger(__name__)

TIMEOUT = 30.0  # seconds; a hung SMTP server must not hold a worker forever


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "drugradar <alerts@localhost>"

    @classmethod
    def from_env(cls) -> SmtpSettings:
        """``DRUGRADAR_SMTP_HOST``, ``_PORT``, ``_USER``, ``_PASSWORD``, ``_STARTTLS`` (0/1),
        ``_FROM``."""
        env = os.environ
        return cls(
            host=env.get("DRUGRADAR_SMTP_HOST") or "127.0.0.1",
            port=int(env.get("DRUGRADAR_SMTP_PORT") or 25),
            user=env.get("DRUGRADAR_SMTP_USER") or None,
            password=env.get("DRUGRADAR_SMTP_PASSWORD") or None,
            starttls=env.get("DRUGRADAR_SMTP_STARTTLS", "0").strip() == "1",
            sender=env.get("DRUGRADAR_SMTP_FROM") or "drugradar <alerts@localhost>",
        )


def message_id(idempotency_key: str, sender: str) -> str:
    """A Message-ID that is the same for every send of one digest."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<digest.{digest}@{domain}>"


def build_message(
    settings: SmtpSettings, recipients: Sequence[str], d: RenderedDigest
) -> EmailMessage:
    for r in recipients:
        if "\r" in r or "\n" in r:
            raise ChannelError("An email recipient contains a line break.")
    msg = EmailMessage()
    msg["Subject"] = " ".join(d.subject.split())  # no line breaks: no header injection
    msg["From"] = settings.sender
    msg["To"] = ", ".join(recipients)
    msg["Message-ID"] = message_id(d.idempotency_key, settings.sender)
    msg["X-Drugradar-Digest"] = d.idempotency_key
    if d.unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{d.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(d.text)
    msg.add_alternative(d.html, subtype="html")
    return msg


def send_email(settings: SmtpSettings, recipients: Sequence[str], digest: RenderedDigest) -> None:
    """Send the digest to ``recipients`` (one message, every address in To)."""
    rcpts = [r.strip() for r in recipients if r.strip()]
    if not rcpts:
        raise ChannelError("The digest has no email recipient.")
    msg = build_message(settings, rcpts, digest)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            refused = smtp.send_message(msg, to_addrs=rcpts)
    except smtplib.SMTPException as exc:
        raise ChannelError(f"The SMTP server refused the digest ({_reason(exc)}).") from None
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise ChannelError(
            f"The SMTP server {settings.host}:{settings.port} could not be reached ({why})."
        ) from None
    if refused:
        # The others got it: raising would make the retry send it to them again.
        log.warning("SMTP server refused %d of %d recipients", len(refused), len(rcpts))


def _reason(exc: smtplib.SMTPException) -> str:
    code = getattr(exc, "smtp_code", None)
    text = getattr(exc, "smtp_error", b"")
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, text = next(iter(exc.recipients.values()))  # every recipient refused: show one
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if code:
        return f"{code} {' '.join(str(text).split())}".strip()
    return type(exc).__name__
