"""Users, their subscriptions ("Set Alert") and what is delivered to them.

A subscription follows **entities** (drugs, targets, diseases, organizations) or a **saved
search**, picks event families/types and a minimum materiality, a schedule (immediate, daily,
weekly, in the user's time zone) and channels (email, webhook, Atom feed, in-app inbox, apprise
URLs). Matching puts one ``Delivery`` per (user, event, channel) in the outbox; a digest groups a
user's pending deliveries of one channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from enum import StrEnum
from typing import Any

from drugradar.model.event import Materiality


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class Frequency(StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


class ChannelKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    FEED = "feed"
    INBOX = "inbox"
    APPRISE = "apprise"


class FollowKind(StrEnum):
    DRUG = "drug"
    TARGET = "target"
    DISEASE = "disease"
    ORGANIZATION = "organization"
    SEARCH = "search"


@dataclass(slots=True)
class User:
    id: int
    email: str
    role: Role
    created_at: datetime


@dataclass(slots=True)
class Follow:
    """One thing a subscription follows: ``ref`` is the drug id, gene symbol, MeSH id or
    organization key it resolved to; ``label`` what the user typed or sees; ``alias`` the name
    that matched (a brand, a code…)."""

    kind: FollowKind
    ref: str
    label: str
    alias: str | None = None


@dataclass(slots=True)
class Channels:
    """Where a subscription delivers. ``feed`` is on when the subscription has a feed secret."""

    emails: list[str] = dc_field(default_factory=list)
    webhook_url: str | None = None
    inbox: bool = True
    feed: bool = False
    apprise_urls: list[str] = dc_field(default_factory=list)

    def kinds(self) -> list[ChannelKind]:
        out = []
        if self.emails:
            out.append(ChannelKind.EMAIL)
        if self.webhook_url:
            out.append(ChannelKind.WEBHOOK)
        if self.feed:
            out.append(ChannelKind.FEED)
        if self.inbox:
            out.append(ChannelKind.INBOX)
        if self.apprise_urls:
            out.append(ChannelKind.APPRISE)
        return out


@dataclass(slots=True)
class Schedule:
    """When digests go out: immediately, daily at ``hour`` or weekly on ``weekday`` (0 = Monday)
    at ``hour``, in the IANA time zone ``tz``."""

    frequency: Frequency = Frequency.DAILY
    hour: int = 8
    weekday: int = 0
    tz: str = "UTC"


@dataclass(slots=True)
class Subscription:
    id: int
    user_id: int
    name: str
    follows: list[Follow]
    search: dict[str, Any] | None  # the saved search's filters, when it follows a search
    families: list[str]  # empty: every family
    types: list[str]  # "family.type" or a bare type; empty: every type of the families
    min_materiality: Materiality
    schedule: Schedule
    channels: Channels
    send_empty: bool = False
    paused: bool = False
    created_at: datetime | None = None
    last_digest_at: datetime | None = None
    feed_secret: str | None = None
    webhook_secret: str | None = None
