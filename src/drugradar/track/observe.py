"""Turn one stored release into events: run the source's rule over what it added, changed and
removed, tell who left or came back to a series, and save the drafts (``track.store``).

Called by ``dictionary.ingest`` inside the release's transaction, so a killed load leaves no
events behind and its rerun raises them once. Unchanged records are never looked at.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, and_, func, select, update

from drugradar.model.event import Change
from drugradar.sources.registry import Release
from drugradar.store.schema import event, event_source, source_record, source_release
from drugradar.store.sync import chunks
from drugradar.track.rules import Context, rule_for
from drugradar.track.store import Sighting, save

JSON = dict[str, Any]
# (source, scope) -> (release id, ids of that release, ids of every release of the scope so far)
_SCOPES: dict[tuple[str, str], tuple[int, frozenset[str], frozenset[str]]] = {}


def partial(n_previous: int, n_missing: int) -> bool:
    """A day of a series that lacks more than half of the previous day's records is a partial
    snapshot (a failed fetch: the TIGIT watch list's 2026-02-04 holds 12 of the 133 studies of
    the day before). Its absences are not vanishings: no alert follows from a transient error."""
    return n_missing * 2 > n_previous > 0


def tracked(source: str) -> bool:
    """Whether the source has a change rule (sources without one only keep field history)."""
    return rule_for(source) is not None


class Drafts:
    """The events of one release, made as its records come: a new record's are made as it is
    read (``add``), so the store need not keep every new record's data until the end (a whole
    registry's studies would not fit in memory); ``record_events`` makes the rest and saves."""

    def __init__(self, conn: Connection, release: Release, release_id: int, baseline: bool):
        self.source = release.spec.name
        self.release_id = release_id
        self.rule = rule_for(self.source)
        since = _previous(conn, self.source, release_id) if release.spec.snapshot else None
        self.ctx = Context(self.source, release.release_date, baseline, since=since)
        self.made: list[tuple[Change, Sighting]] = []  # not saved yet
        self.saved = 0  # drafts saved (new events or sightings of stored ones)

    def emit(
        self, rid: str, old: JSON | None, new: JSON | None, when: date, c: Context | None = None
    ) -> None:
        if self.rule is None:
            return
        c = c or self.ctx
        c = c if when == c.as_of else replace(c, as_of=when)
        sighting = Sighting(self.source, rid, self.release_id, c.as_of)
        self.made.extend((ch, sighting) for ch in self.rule(c, rid, old, new))

    def add(self, rid: str, data: JSON, when: date) -> None:
        """A record new to the source."""
        self.emit(rid, None, data, when)

    def save(self, conn: Connection) -> None:
        """Save the drafts made so far, in the order they were made (what one save of them
        all would store: each is merged with the newest event on its field, saved or not)."""
        if self.made:
            save(conn, self.made)
            self.saved += len(self.made)
            self.made = []


def record_events(
    conn: Connection,
    release: Release,
    drafts: Drafts,
    *,
    changed: Iterable[tuple[str, JSON | None, JSON, date]],
    gone: Iterable[str],
    seen: set[str],
    returned: set[str] | None = None,
) -> int:
    """Store the events of one release; return how many drafts it made (new or merged).

    ``drafts``: those of its new records, made as they were read (``Drafts.add``) and saved as
    they were written (``Drafts.save``); the rest are made here. ``returned``: records of a
    full-snapshot source that had left it and are back; the rule sees them as reappeared
    (their stored version is the one from before they left)."""
    source, ctx, release_id = drafts.source, drafts.ctx, drafts.release_id
    left: set[str] = set()
    back: set[str] = set()
    if release.scope:
        prev, ever = _scope_history(conn, source, release.scope, release.release_date)
        left = set(prev - seen)
        back = set((seen - prev) & ever)
        members = set(seen)
        if partial(len(prev), len(left)):
            members |= prev  # what it lacks still counts as present for the next day
            left = set()
        _keep_members(conn, source, release.scope, release_id, members, ever)
    back |= returned or set()
    again = replace(ctx, reappeared=True)
    changed_ids: set[str] = set()
    for rid, old, new, when in changed:
        changed_ids.add(rid)
        drafts.emit(rid, old, new, when, again if rid in back else ctx)
    still = back - changed_ids
    for rid, data in _current(conn, source, still).items():
        drafts.emit(rid, data, data, release.release_date, again)
    for rid, data in _current(conn, source, set(gone) | left).items():
        drafts.emit(rid, data, None, release.release_date)
    drafts.save(conn)
    return drafts.saved


def _previous(conn: Connection, source: str, release_id: int) -> date | None:
    """The date of the source's latest release loaded before this one."""
    sr = source_release.c
    value = conn.execute(
        select(func.max(sr.release_date)).where(
            sr.source == source, sr.id != release_id, sr.status.in_(("done", "stored"))
        )
    ).scalar()
    return value if isinstance(value, date) else None


def _current(conn: Connection, source: str, ids: set[str]) -> dict[str, JSON]:
    out: dict[str, JSON] = {}
    src = source_record.c
    for batch in chunks(sorted(ids), 500):
        for r in conn.execute(
            select(src.record_id, src.data).where(src.source == source, src.record_id.in_(batch))
        ):
            out[r.record_id] = orjson.loads(r.data)
    return out


def _ids(blob: bytes | None) -> frozenset[str]:
    if not blob:
        return frozenset()
    return frozenset(zlib.decompress(blob).decode().split("\n"))


def _scope_history(
    conn: Connection, source: str, scope: str, day: date
) -> tuple[frozenset[str], frozenset[str]]:
    """The ids of the series' previous day, and of every earlier day."""
    sr = source_release.c
    rows = conn.execute(
        select(sr.id, sr.members)
        .where(
            and_(
                sr.source == source,
                sr.scope == scope,
                sr.release_date < day,
                sr.status.in_(("done", "stored")),
            )
        )
        .order_by(sr.release_date.desc(), sr.id.desc())
    ).all()
    if not rows:
        return frozenset(), frozenset()
    cached = _SCOPES.get((source, scope))
    if cached is not None and cached[0] == rows[0].id:
        return cached[1], cached[2]
    ever: set[str] = set()
    for r in rows:
        ever |= _ids(r.members)
    return _ids(rows[0].members), frozenset(ever)


def _keep_members(
    conn: Connection, source: str, scope: str, release_id: int, seen: set[str], ever: frozenset[str]
) -> None:
    blob = zlib.compress("\n".join(sorted(seen)).encode())
    conn.execute(
        update(source_release)
        .where(source_release.c.id == release_id)
        .values(scope=scope, members=blob)
    )
    _SCOPES[(source, scope)] = (release_id, frozenset(seen), ever | seen)


def event_ids(engine: Engine, release_id: int) -> list[int]:
    """The events a release raised (first seen in it)."""
    with engine.connect() as conn:
        return list(
            conn.execute(select(event.c.id).where(event.c.release_id == release_id)).scalars()
        )


def news_of(engine: Engine, release_ids: Iterable[int]) -> dict[str, tuple[str, int, date]]:
    """Source records with non-baseline events in these releases, keyed the way
    ``dev_status.sources`` names them (NCT ids; ``source:record`` for other sources)."""
    ids = sorted(set(release_ids))
    out: dict[str, tuple[str, int, date]] = {}
    es, e = event_source.c, event.c
    with engine.connect() as conn:
        for batch in chunks(ids, 500):
            for r in conn.execute(
                select(es.source, es.record_id, es.release_id, es.as_of)
                .join(event, e.id == es.event_id)
                .where(es.release_id.in_(batch), e.baseline.is_(False), e.family != "dev_status")
            ):
                token = r.record_id if r.source == "ctgov" else f"{r.source}:{r.record_id}"
                out.setdefault(token, (r.source, r.release_id, r.as_of))
    return out
