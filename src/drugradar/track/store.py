"""Store change drafts as events: one real-world event = one event, however many sightings.

A draft merges into an existing event when that event is the **latest** one on the same entity
and field and has the same key (family, type, entity, field, new value): the same change seen
again, in another source or another format (a phase change in the TSV export and then in the API
JSON). A change back and forth (recruiting -> suspended -> recruiting -> suspended) is two
suspensions, because another event on the field came in between.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select

from drugradar.model.event import Change
from drugradar.store.bulk import insert_rows
from drugradar.store.schema import event, event_concern, event_source
from drugradar.store.sync import chunks

FINAL_KINDS = frozenset({"drug", "disease", "organization", "target", "search"})


@dataclass(frozen=True, slots=True)
class Sighting:
    """Where a draft was seen: the source record and the release (snapshot) that showed it."""

    source: str
    record_id: str
    release_id: int
    as_of: date


@dataclass(slots=True)
class SaveReport:
    new: int = 0
    merged: int = 0


def _dump(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def event_key(c: Change) -> str:
    ident = [c.family, c.type, c.entity_kind, c.entity_id, c.field or "", c.new]
    return hashlib.sha1(_dump(ident).encode()).hexdigest()


Triple = tuple[str, str, str]


def _latest(conn: Connection, triples: set[Triple]) -> dict[Triple, tuple[int, str]]:
    """The newest event (id, key) on each (entity kind, entity id, field).

    Asked per kind and field, with the entity ids in a list: the index on (kind, id, field)
    finds each. SQLite answers a row-value ``IN`` list by scanning the whole table instead, once
    a query: a load saving 85,000 events spent most of its saving there."""
    out: dict[Triple, tuple[int, str]] = {}
    e = event.c
    ids_of: dict[tuple[str, str], list[str]] = defaultdict(list)
    for kind, entity_id, fld in triples:
        ids_of[(kind, fld)].append(entity_id)
    for (kind, fld), ids in sorted(ids_of.items()):
        for batch in chunks(sorted(ids), 500):
            rows = conn.execute(
                select(e.id, e.key, e.entity_id).where(
                    e.entity_kind == kind, e.field == fld, e.entity_id.in_(batch)
                )
            )
            for r in rows:
                t = (kind, r.entity_id, fld)
                if t not in out or r.id > out[t][0]:
                    out[t] = (r.id, r.key)
    return out


def save(conn: Connection, drafts: list[tuple[Change, Sighting]]) -> SaveReport:
    """Insert new events, add sightings to events seen again; return the counts."""
    report = SaveReport()
    if not drafts:
        return report
    latest = _latest(conn, {(c.entity_kind, c.entity_id, c.field or "") for c, _ in drafts})
    # latest[triple] -> ("id", event id) for stored events, ("new", index) for events of this batch
    head: dict[Triple, tuple[str, int, str]] = {t: ("id", i, k) for t, (i, k) in latest.items()}
    fresh: list[tuple[Change, Sighting, str]] = []
    sightings: list[tuple[tuple[str, int], Sighting]] = []
    for c, s in drafts:
        key = event_key(c)
        t = (c.entity_kind, c.entity_id, c.field or "")
        cur = head.get(t)
        if cur is not None and cur[2] == key:
            sightings.append(((cur[0], cur[1]), s))
            report.merged += 1
            continue
        fresh.append((c, s, key))
        head[t] = ("new", len(fresh) - 1, key)
        sightings.append((("new", len(fresh) - 1), s))
        report.new += 1
    now = datetime.now(UTC)
    ids: list[int] = []
    for batch in chunks(fresh, 1000):
        rows = [
            {
                "key": key,
                "family": c.family,
                "type": c.type,
                "entity_kind": c.entity_kind,
                "entity_id": c.entity_id[:1000],
                "field": c.field or "",
                "old_value": _dump(c.old),
                "new_value": _dump(c.new),
                "days_shifted": c.days_shifted,
                "materiality": c.materiality.value,
                "baseline": c.baseline,
                "summary": c.summary,
                "as_of": s.as_of,
                "event_date": c.event_date,
                "first_seen_at": now,
                "release_id": s.release_id,
                "hints": _dump(sorted({h for h in c.concerns if h[0] not in FINAL_KINDS}))
                if any(h[0] not in FINAL_KINDS for h in c.concerns)
                else None,
                "concerns_done": False,
            }
            for c, s, key in batch
        ]
        ids += _insert_events(conn, rows)
    concern_rows = {
        (ids[i], kind, ref[:400])
        for i, (c, _, _) in enumerate(fresh)
        for kind, ref in c.concerns
        if kind in FINAL_KINDS
    }
    for cbatch in chunks(sorted(concern_rows)):
        conn.execute(
            insert(event_concern), [{"event_id": i, "kind": k, "ref": r} for i, k, r in cbatch]
        )
    _add_sightings(conn, [(ids[n] if kind == "new" else n, s) for (kind, n), s in sightings])
    return report


def _insert_events(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert event rows; return their ids, in the rows' order.

    On SQLite, SQLAlchemy's ordered RETURNING inserts one row per statement (a load saves
    thousands of events). There the rows go in as one plain executemany instead. The connection
    holds the write lock through it, and a rowid table gives each new row the largest id plus
    one, so the rows have consecutive ids ending at ``last_insert_rowid()``."""
    if conn.dialect.name != "sqlite":
        result = conn.execute(
            insert(event).returning(event.c.id, sort_by_parameter_order=True), rows
        )
        return [int(r[0]) for r in result]
    insert_rows(conn, event, rows)
    last = int(conn.execute(select(func.last_insert_rowid())).scalar_one())
    first = last - len(rows) + 1
    found = conn.execute(
        select(func.count()).select_from(event).where(event.c.id.between(first, last))
    ).scalar_one()
    if found != len(rows):  # ids not handed out as above: never silently misattribute
        raise RuntimeError(f"inserted {len(rows)} events but found {found} ids up to {last}")
    return list(range(first, last + 1))


def _add_sightings(conn: Connection, items: list[tuple[int, Sighting]]) -> None:
    """Insert each (event, source record, release) once."""
    wanted: dict[tuple[int, str, str, int], date] = {}
    for eid, s in items:
        wanted.setdefault((eid, s.source, s.record_id[:200], s.release_id), s.as_of)
    es = event_source.c
    by_event: dict[int, list[tuple[int, str, str, int]]] = defaultdict(list)
    for k in wanted:
        by_event[k[0]].append(k)
    existing: set[tuple[int, str, str, int]] = set()
    for batch in chunks(sorted(by_event), 500):
        existing.update(
            (r.event_id, r.source, r.record_id, r.release_id)
            for r in conn.execute(
                select(es.event_id, es.source, es.record_id, es.release_id).where(
                    es.event_id.in_(batch)
                )
            )
        )
    rows = [
        {"event_id": k[0], "source": k[1], "record_id": k[2], "release_id": k[3], "as_of": d}
        for k, d in wanted.items()
        if k not in existing
    ]
    insert_rows(conn, event_source, rows)
