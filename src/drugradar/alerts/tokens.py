"""Signed tokens for links that act without a log-in (one-click unsubscribe and the like).

A token is ``<payload>.<mac>``, both url-safe base64 without padding: the payload is
``<unix time>:<value>`` and the MAC is HMAC-SHA256 over a fixed tag, the **purpose** and the
payload, so a token made for one purpose (say "unsubscribe") is worthless for another. The value
is readable by whoever holds the token: sign ids, never secrets. The time inside lets a caller
refuse old tokens (``max_age_s``); unsubscribe links do not expire.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import logging
import os
import string
import time

from drugradar.config import database_url

SECRET_ENV = "DRUGRADAR_SECRET"
_TAG = b"drugradar-token-v1\x00"
_DERIVE_SALT = b"drugradar-server-secret-v1\x00"
_CLOCK_SKEW_S = 300  # a token "from the future" within this is accepted (several servers)

log = logging.getLogger(__name__)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(purpose: str, payload: bytes, secret: bytes) -> bytes:
    if not secret:
        raise ValueError("A token needs a non-empty secret.")
    if not purpose or "\x00" in purpose:
        raise ValueError("A token purpose is a non-empty string without NUL characters.")
    msg = _TAG + purpose.encode() + b"\x00" + payload
    return hmac.new(secret, msg, hashlib.sha256).digest()


def sign(purpose: str, value: str, secret: bytes, *, now: float | None = None) -> str:
    """A token carrying ``value`` for ``purpose``, stamped with the time (``now``, for tests)."""
    stamp = int(time.time() if now is None else now)
    payload = f"{stamp}:{value}".encode()
    return f"{_b64(payload)}.{_b64(_mac(purpose, payload, secret))}"


def verify(
    purpose: str,
    token: str,
    secret: bytes,
    max_age_s: float | None = None,
    *,
    now: float | None = None,
) -> str | None:
    """The value of a genuine token for ``purpose`` (no older than ``max_age_s`` when given),
    or None for anything else: tampered, another purpose or secret, expired, malformed."""
    body, dot, mac_text = token.strip().partition(".")
    if not dot or not body or not mac_text:
        return None
    try:
        payload, mac = _unb64(body), _unb64(mac_text)
    except (binascii.Error, ValueError):
        return None
    if _b64(payload) != body or _b64(mac) != mac_text:
        return None  # one spelling per token: base64's unused low bits must not make another
    if not hmac.compare_digest(mac, _mac(purpose, payload, secret)):
        return None
    stamp_text, colon, value = payload.decode("utf-8", "replace").partition(":")
    if not colon or not stamp_text.isdigit():
        return None
    if max_age_s is not None:
        age = (time.time() if now is None else now) - int(stamp_text)
        if age > max_age_s or age < -_CLOCK_SKEW_S:
            return None
    return value


@functools.cache
def _warn_derived() -> None:
    """Say it once per process, not on every link."""
    log.warning(
        "%s is not set: tokens are signed with a key derived from the database URL, "
        "which anyone knowing the URL can forge. Set %s in production.",
        SECRET_ENV,
        SECRET_ENV,
    )


def server_secret() -> bytes:
    """The key that signs tokens. PRODUCTION MUST SET ``DRUGRADAR_SECRET``.

    ``DRUGRADAR_SECRET`` is read as hex when it is an even number of hex digits (e.g. the
    output of ``openssl rand -hex 32``), else as the raw string's UTF-8 bytes. Without it the
    secret is DERIVED from the database URL and a fixed salt: stable across restarts and
    across the web and worker processes without any setup, but anyone who knows or guesses
    the URL (the default ``sqlite:///drugradar.db`` is public) can forge unsubscribe links.
    That fallback is for development and single-user installs only; a warning is logged.
    """
    configured = os.environ.get(SECRET_ENV, "").strip()
    if configured:
        if len(configured) % 2 == 0 and all(ch in string.hexdigits for ch in configured):
            return bytes.fromhex(configured)
        return configured.encode()
    _warn_derived()
    return hashlib.sha256(_DERIVE_SALT + database_url().encode()).digest()
