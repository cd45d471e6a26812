"""Change events: what changed in the world, from what to what, when, and where it was seen.

A source rule (``track.rules``) turns two versions of one source record into ``Change`` drafts;
``track.store`` gives each an id, merges it with the same real-world event already seen in
another source (one event, several sources) and stores it. Events are never recomputed at
render time.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Materiality(StrEnum):
    """How much a change matters to someone following the drug (rules in ``track.catalogue``)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


MATERIALITY_RANK = {Materiality.LOW: 1, Materiality.MEDIUM: 2, Materiality.HIGH: 3}


@dataclass(slots=True)
class Change:
    """A change a source rule saw between two versions of one record (a draft event).

    ``entity_kind``/``entity_id`` name what changed (``trial``/``NCT01234567``,
    ``application``/``NDA021436``, ``dev_status``/``D00042|D009369|United States|merck``…);
    ``field`` the attribute (None for whole-entity events such as a first posting). ``old`` and
    ``new`` are plain JSON values. ``baseline`` marks a record of state first seen (kept for the
    timeline, never alerted). ``event_date`` is the date the source says the thing happened,
    when it says one (a results-posted date, an approval date); the as-of date of the snapshot
    that showed it is kept apart by the store.
    """

    family: str
    type: str
    entity_kind: str
    entity_id: str
    summary: str
    field: str | None = None
    old: Any = None
    new: Any = None
    days_shifted: int | None = None
    materiality: Materiality = Materiality.LOW
    baseline: bool = False
    event_date: date | None = None
    concerns: list[tuple[str, str]] = dc_field(default_factory=list)  # ("drug", "D00042")…


@dataclass(slots=True)
class EventSource:
    """One sighting of an event: the source record (and its release) that showed it."""

    source: str
    record_id: str
    release_id: int | None
    as_of: date | None


@dataclass(slots=True)
class Event:
    """A stored event, as queries return it."""

    id: int
    family: str
    type: str
    entity_kind: str
    entity_id: str
    summary: str
    field: str | None
    old: Any
    new: Any
    days_shifted: int | None
    materiality: Materiality
    baseline: bool
    as_of: date
    event_date: date | None
    first_seen_at: datetime
    sources: list[EventSource] = dc_field(default_factory=list)
    concerns: list[tuple[str, str]] = dc_field(default_factory=list)
