"""Request and response bodies of the JSON API (published in ``/openapi.json``).

Large nested documents whose shape is the library's (a drug's whole profile, a trial) are
plain JSON objects here; everything a program pages through or writes is typed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from drugradar.model.event import Materiality
from drugradar.model.subscription import Frequency


class ErrorOut(BaseModel):
    error: str = Field(description="What went wrong, in one sentence.")


class DrugHit(BaseModel):
    id: str
    preferred_name: str
    modality: str
    highest_phase: str | None = Field(description="Of active or suspended programs.")
    highest_phase_ever: str | None
    matched_alias: str | None = Field(description="The name that matched q, when q is given.")
    organizations: list[str] = Field(
        default_factory=list, description="Parent companies, the furthest along first (3 at most)."
    )


class SearchOut(BaseModel):
    query: dict[str, str]
    sort: str
    total: int | None = Field(description="How many drugs match (absent with facets=false).")
    facets: dict[str, dict[str, int]] | None
    results: list[DrugHit]
    next_cursor: str | None = Field(description="Pass as cursor= for the next page.")


class Suggestion(BaseModel):
    drug_id: str
    preferred_name: str
    matched_alias: str
    alias_type: str
    match_kind: str = Field(description="exact, salt, combination, partial, fuzzy or prefix")
    score: float


class SuggestOut(BaseModel):
    query: str
    suggestions: list[Suggestion]


class EventSourceOut(BaseModel):
    source: str
    record_id: str
    as_of: str | None
    url: str | None


class ConcernOut(BaseModel):
    kind: str
    ref: str


class EventOut(BaseModel):
    """A change, as ``track.query.as_dict`` gives it."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    family: str
    type: str
    entity: dict[str, str]
    summary: str
    field: str | None
    from_: Any = Field(default=None, alias="from")
    to: Any = None
    days_shifted: int | None
    materiality: str
    baseline: bool
    as_of: str
    event_date: str | None
    first_seen_at: str
    sources: list[EventSourceOut]
    concerns: list[ConcernOut]


class EventsOut(BaseModel):
    events: list[EventOut]


class ResolvedName(BaseModel):
    query: str
    drug_id: str | None
    preferred_name: str | None
    matched_alias: str | None


class InteractionsOut(BaseModel):
    drugs: list[ResolvedName]
    unresolved: list[str] = Field(description="Names no drug matches (left out of the pairs).")
    pairs: list[dict[str, Any]] = Field(description="Every pair, most severe first.")


# -- subscriptions -------------------------------------------------------------------------


class ScheduleIn(BaseModel):
    frequency: Frequency = Frequency.DAILY
    hour: int = Field(default=8, ge=0, le=23)
    weekday: int = Field(default=0, ge=0, le=6, description="0 = Monday")
    tz: str = Field(default="UTC", max_length=60, description="An IANA time zone")


class ChannelsIn(BaseModel):
    emails: list[str] = Field(default_factory=list, max_length=20)
    webhook_url: str | None = Field(default=None, max_length=2000)
    inbox: bool = True
    feed: bool = False
    apprise_urls: list[str] = Field(default_factory=list, max_length=20)


class SubscriptionIn(BaseModel):
    """What to follow (at least one thing), which events, when and where to deliver."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=400)
    drugs: list[str] = Field(default_factory=list, max_length=100)
    targets: list[str] = Field(default_factory=list, max_length=100)
    diseases: list[str] = Field(default_factory=list, max_length=100)
    organizations: list[str] = Field(default_factory=list, max_length=100)
    search: dict[str, str] | None = Field(
        default=None, description="Saved search filters, as /api/drugs takes them (text, …)."
    )
    families: list[str] = Field(default_factory=list, max_length=50)
    types: list[str] = Field(default_factory=list, max_length=200)
    min_materiality: Materiality = Materiality.LOW
    schedule: ScheduleIn = Field(default_factory=ScheduleIn)
    channels: ChannelsIn = Field(default_factory=ChannelsIn)
    send_empty: bool = False


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paused: bool


class FollowOut(BaseModel):
    kind: str
    ref: str
    label: str
    alias: str | None


class ScheduleOut(BaseModel):
    frequency: str
    hour: int
    weekday: int
    tz: str


class ChannelsOut(BaseModel):
    emails: list[str]
    webhook_url: str | None
    inbox: bool
    feed: bool
    apprise_urls: list[str]


class SubscriptionOut(BaseModel):
    id: int
    name: str
    follows: list[FollowOut]
    search: dict[str, Any] | None
    families: list[str]
    types: list[str]
    min_materiality: str
    schedule: ScheduleOut
    channels: ChannelsOut
    send_empty: bool
    paused: bool
    created_at: datetime | None
    last_digest_at: datetime | None
    feed_url: str | None = Field(description="The Atom feed, when the feed channel is on.")
    webhook_secret: str | None = Field(description="Verifies the webhook's signatures.")


class SubscriptionsOut(BaseModel):
    subscriptions: list[SubscriptionOut]


# -- inbox ---------------------------------------------------------------------------------


class InboxItemOut(BaseModel):
    id: int
    subscription_id: int
    subscription_name: str
    created_at: datetime
    read_at: datetime | None
    event: EventOut


class InboxOut(BaseModel):
    unread: int
    items: list[InboxItemOut]
    next_before: int | None = Field(description="Pass as before= for older items.")


class MarkReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] | None = Field(
        default=None, max_length=1000, description="Inbox item ids; omit with all=true."
    )
    all: bool = False


class MarkReadOut(BaseModel):
    marked: int
    unread: int


class UnsubscribeOut(BaseModel):
    unsubscribed: bool
    subscription_id: int
