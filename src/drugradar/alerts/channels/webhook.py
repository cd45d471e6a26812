"""Signed webhooks: POST the digest as JSON with an HMAC-SHA256 signature of the exact body.

The URL is user-supplied, so it is checked twice (when saved and at send time, since DNS can
change) against private, loopback, link-local, multicast and reserved addresses: a webhook must
not be a way to reach the server's own network. Redirects are not followed for the same reason.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import socket
from urllib.parse import urlsplit

import httpx
import orjson

from drugradar.alerts.channels import ChannelError, RenderedDigest

TIMEOUT = 10.0
SIGNATURE_HEADER = "X-Drugradar-Signature"
IDEMPOTENCY_HEADER = "X-Drugradar-Idempotency-Key"


class WebhookUrlError(ValueError):
    """A webhook URL that may not be used; the message says why in one sentence."""


def allow_private_default() -> bool:
    """``DRUGRADAR_WEBHOOK_ALLOW_PRIVATE=1`` (an admin setting, e.g. for an intranet receiver)."""
    return os.environ.get("DRUGRADAR_WEBHOOK_ALLOW_PRIVATE", "0").strip() == "1"


def validate_webhook_url(url: str, allow_private: bool | None = None) -> str:
    """The URL, stripped, when it may receive webhooks; ``WebhookUrlError`` (a ValueError)
    otherwise. ``allow_private`` None reads ``DRUGRADAR_WEBHOOK_ALLOW_PRIVATE``."""
    if allow_private is None:
        allow_private = allow_private_default()
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlError(f"{url!r} is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_private):
        raise WebhookUrlError("A webhook URL must start with https://.")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlError("A webhook URL may not contain a user name or password.")
    host = parts.hostname
    if not host:
        raise WebhookUrlError("A webhook URL needs a host name.")
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(
            host, port or (443 if scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError):
        raise WebhookUrlError(f"The webhook host {host} cannot be resolved.") from None
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if _forbidden(addr):
            raise WebhookUrlError(
                f"The webhook host {host} resolves to a private or reserved address ({addr})."
            )
    return url


def _forbidden(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return _forbidden(addr.ipv4_mapped)
    return (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    )


def sign(body: bytes, secret: str) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str, secret: str) -> bool:
    """For receivers: does ``header`` sign these exact body bytes with ``secret``?"""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(body, secret), header.strip())


def send_webhook(
    url: str, secret: str, digest: RenderedDigest, allow_private: bool | None = None
) -> None:
    """POST the digest's JSON payload to ``url``; ChannelError unless it answers 2xx."""
    try:
        url = validate_webhook_url(url, allow_private)
    except ValueError as exc:
        raise ChannelError(str(exc)) from None
    host = urlsplit(url).hostname
    body = orjson.dumps(digest.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "drugradar-webhook",
        SIGNATURE_HEADER: sign(body, secret),
        IDEMPOTENCY_HEADER: digest.idempotency_key,
    }
    try:
        # trust_env=False: no proxy from the environment may redirect the request elsewhere.
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        raise ChannelError(f"The webhook at {host} did not answer within {TIMEOUT:g} s.") from None
    except httpx.HTTPError as exc:
        raise ChannelError(
            f"The webhook at {host} could not be reached ({type(exc).__name__})."
        ) from None
    if not 200 <= response.status_code < 300:
        raise ChannelError(f"The webhook at {host} answered HTTP {response.status_code}.")
