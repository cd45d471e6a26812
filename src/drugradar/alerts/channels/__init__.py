"""Delivery channels: each sends one rendered digest and raises ``ChannelError`` on failure, so
the delivery loop can record the error and retry without knowing which channel it was."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RenderedDigest:
    """A digest ready to send, rendered once and handed to every channel of its kind."""

    subject: str
    text: str  # plain-text body
    html: str  # HTML body (already escaped by the renderer)
    payload: dict[str, Any]  # webhook JSON: digest_id, subscription, period_end, items
    idempotency_key: str  # stable per digest: the receiver dedupes on it
    unsubscribe_url: str | None = None


class ChannelError(Exception):
    """A failed send; the message is one clear sentence, shown to the user and the admin."""
