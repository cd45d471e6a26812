"""Read stored events back: filtered lists and a drug's timeline, newest first."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Engine, select

from drugradar.model.event import MATERIALITY_RANK, Event, EventSource, Materiality
from drugradar.store.schema import event, event_concern, event_source
from drugradar.store.sync import chunks


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events to list. ``concern``: ("drug", id), ("disease", MeSH id), ("organization",
    key) or ("target", gene symbol). Baseline records (first seen) only when asked for."""

    since: date | None = None
    until: date | None = None
    concern: tuple[str, str] | None = None
    families: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    min_materiality: Materiality = Materiality.LOW
    entity: tuple[str, str] | None = None
    include_baseline: bool = False
    limit: int = 200


def list_events(engine: Engine, f: EventFilter) -> list[Event]:
    e = event.c
    q = select(event)
    if f.concern is not None:
        ec = event_concern.c
        q = q.join(event_concern, ec.event_id == e.id).where(
            ec.kind == f.concern[0], ec.ref == f.concern[1]
        )
    if f.since is not None:
        q = q.where(e.as_of >= f.since)
    if f.until is not None:
        q = q.where(e.as_of <= f.until)
    if f.families:
        q = q.where(e.family.in_(f.families))
    if f.types:
        q = q.where(e.type.in_(f.types))
    if f.entity is not None:
        q = q.where(e.entity_kind == f.entity[0], e.entity_id == f.entity[1])
    if not f.include_baseline:
        q = q.where(e.baseline.is_(False))
    allowed = [
        m.value for m in Materiality if MATERIALITY_RANK[m] >= MATERIALITY_RANK[f.min_materiality]
    ]
    q = q.where(e.materiality.in_(allowed)).order_by(e.as_of.desc(), e.id.desc()).limit(f.limit)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
        events = [_event(r) for r in rows]
        _fill(conn, events)
    return events


def _event(r: Any) -> Event:
    return Event(
        id=r.id,
        family=r.family,
        type=r.type,
        entity_kind=r.entity_kind,
        entity_id=r.entity_id,
        summary=r.summary,
        field=r.field or None,
        old=orjson.loads(r.old_value) if r.old_value else None,
        new=orjson.loads(r.new_value) if r.new_value else None,
        days_shifted=r.days_shifted,
        materiality=Materiality(r.materiality),
        baseline=r.baseline,
        as_of=r.as_of,
        event_date=r.event_date,
        first_seen_at=r.first_seen_at,
    )


def _fill(conn: Any, events: list[Event]) -> None:
    by_id = {ev.id: ev for ev in events}
    sources: dict[int, list[EventSource]] = defaultdict(list)
    concerns: dict[int, list[tuple[str, str]]] = defaultdict(list)
    es, ec = event_source.c, event_concern.c
    for batch in chunks(sorted(by_id), 500):  # rows fetched at once, as tuples: thousands
        for eid, source, record_id, release_id, as_of in conn.execute(
            select(es.event_id, es.source, es.record_id, es.release_id, es.as_of)
            .where(es.event_id.in_(batch))
            .order_by(es.as_of, es.source)
        ).all():
            sources[eid].append(EventSource(source, record_id, release_id, as_of))
        for eid, kind, ref in conn.execute(
            select(ec.event_id, ec.kind, ec.ref)
            .where(ec.event_id.in_(batch))
            .order_by(ec.kind, ec.ref)
        ).all():
            concerns[eid].append((kind, ref))
    for eid, ev in by_id.items():
        ev.sources = sources.get(eid, [])
        ev.concerns = concerns.get(eid, [])


def as_dict(ev: Event) -> dict[str, Any]:
    """Plain JSON for the CLI and the API."""
    return {
        "id": ev.id,
        "family": ev.family,
        "type": ev.type,
        "entity": {"kind": ev.entity_kind, "id": ev.entity_id},
        "summary": ev.summary,
        "field": ev.field,
        "from": ev.old,
        "to": ev.new,
        "days_shifted": ev.days_shifted,
        "materiality": ev.materiality.value,
        "baseline": ev.baseline,
        "as_of": ev.as_of.isoformat(),
        "event_date": ev.event_date.isoformat() if ev.event_date else None,
        "first_seen_at": ev.first_seen_at.isoformat(),
        "sources": [
            {
                "source": s.source,
                "record_id": s.record_id,
                "as_of": s.as_of.isoformat() if s.as_of else None,
                "url": source_url(s.source, s.record_id),
            }
            for s in ev.sources
        ],
        "concerns": [{"kind": k, "ref": r} for k, r in ev.concerns],
    }


def source_url(source: str, record_id: str) -> str | None:
    """A link to the record at its source, where the source has stable record pages."""
    if source == "ctgov" and record_id.startswith("NCT"):
        return f"https://clinicaltrials.gov/study/{record_id}?tab=history"
    if source.startswith("fda_") or source.startswith("ob_"):
        appl = "".join(ch for ch in record_id.split("/")[0] if ch.isdigit())
        if appl:
            return (
                "https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm"
                f"?event=overview.process&ApplNo={appl}"
            )
    if source == "spl_labels":
        return f"https://dailymed.nlm.nih.gov/dailymed/lookup.cfm?setid={record_id}"
    return None


def events_by_ids(engine: Engine, ids: list[int]) -> list[Event]:
    """The events with these ids (sources and concerns filled), in id order."""
    out: list[Event] = []
    with engine.connect() as conn:
        for batch in chunks(sorted(set(ids)), 500):
            rows = conn.execute(select(event).where(event.c.id.in_(batch)).order_by(event.c.id))
            out += [_event(r) for r in rows]
        _fill(conn, out)
    return out
