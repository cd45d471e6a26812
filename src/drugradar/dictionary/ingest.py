"""Store one source release: every record versioned by content hash, changes kept as history.

A release is loaded in one transaction, so a load killed halfway leaves nothing behind and the
next run simply loads it again (no duplicates). Unchanged records cost one hash comparison.
Loading the same files again is recognised by their SHA-256 and skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, and_, bindparam, delete, func, insert, select, update

from drugradar.nogc import no_gc
from drugradar.sources.base import (
    Record,
    Rejected,
    SourceSpec,
    Waiting,
    dump_json,
    stored_raw,
    text_hash,
)
from drugradar.sources.registry import Release
from drugradar.store.bulk import insert_rows
from drugradar.store.checkpoint import checkpoints_aside
from drugradar.store.schema import quarantine, record_change, source_record, source_release
from drugradar.store.sync import chunks
from drugradar.track import observe

FLUSH_ROWS = 500  # new records are written in groups of this many, as they come
WAITING_ROWS = 50  # or as many as this, when the reader has nothing ready (``Waiting``)


@dataclass(slots=True)
class ReleaseReport:
    source: str
    label: str
    release_date: date
    status: str  # done, skipped, failed
    message: str = ""
    n_records: int = 0
    n_added: int = 0
    n_changed: int = 0
    n_removed: int = 0
    n_quarantined: int = 0
    n_events: int = 0  # change events the release raised (new or seen again)
    n_older: int = 0  # records older than the version already stored, left as they were
    newest_record: date | None = None  # the newest date the records carry themselves
    quarantined: list[Rejected] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)  # ids of records added or changed
    release_id: int | None = None


def content_hash(data: Any) -> str:
    return text_hash(dump_json(data))


def files_sha256(release: Release) -> str:
    """One hash over the release's label and files (a folder: every file in it, by path)."""
    return label_sha256(release.label, release.paths)


def label_sha256(label: str, paths: Sequence[Path]) -> str:
    """``files_sha256`` of a release labelled ``label`` reading ``paths``."""
    h = hashlib.sha256(label.encode())  # the label carries a snapshot date, if any
    for p in paths:
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(p.parent)).encode())
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(field, old, new)`` per changed field; for lists, the items removed and the items added."""
    out = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, list) and isinstance(b, list):
            sa = {dump_json(x) for x in a}
            sb = {dump_json(x) for x in b}
            removed = [x for x in a if dump_json(x) not in sb]
            added = [x for x in b if dump_json(x) not in sa]
            if removed or added:
                out.append((key, dump_json(removed), dump_json(added)))
        else:
            out.append((key, dump_json(a), dump_json(b)))
    return out


def _now() -> datetime:
    return datetime.now(UTC)


def load_release(
    engine: Engine,
    release: Release,
    *,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    two_phase: bool = False,
) -> ReleaseReport:
    """Parse and store one release (see ``_load_release``), without the cyclic collector, and
    with SQLite's checkpoints beside it (``store.checkpoint``)."""
    with no_gc(), checkpoints_aside(engine):
        return _load_release(engine, release, force, progress, two_phase)


def _load_release(
    engine: Engine,
    release: Release,
    force: bool,
    progress: Callable[[int], None] | None,
    two_phase: bool,
) -> ReleaseReport:
    """Parse and store one release; return what it added, changed, removed and quarantined.

    ``two_phase``: the caller has more to do with the records (build tables from them) in
    transactions of its own. The release is then left "stored", and the caller calls
    ``mark_done`` when it has finished. A run that finds its release "stored" (the previous one
    was killed in between) gets back, as ``touched``, the records that release wrote, with
    status "resumed", and does not parse again.
    """
    spec = release.spec
    report = ReleaseReport(spec.name, release.label, release.release_date, "done")
    sha = files_sha256(release)
    with engine.begin() as conn:
        prior = conn.execute(
            select(source_release.c.id, source_release.c.status).where(
                source_release.c.source == spec.name, source_release.c.sha256 == sha
            )
        ).first()
        newest = conn.execute(
            select(func.max(source_release.c.release_date)).where(
                source_release.c.source == spec.name, source_release.c.status == "done"
            )
        ).scalar()
    if prior is not None and prior.status == "done" and not force:
        report.status, report.message = "skipped", "already loaded (same file contents)"
        return report
    if prior is not None and prior.status == "stored":
        src = source_record.c
        with engine.connect() as conn:
            report.touched = list(
                conn.execute(
                    select(src.record_id).where(
                        src.source == spec.name, src.changed_release_id == prior.id
                    )
                ).scalars()
            )
        report.status, report.release_id = "resumed", prior.id
        report.message = "stored by an interrupted run; finishing it"
        return report
    if spec.snapshot and newest is not None and release.release_date < newest and not force:
        report.status = "skipped"
        report.message = f"older than the loaded release of {newest.isoformat()}"
        return report
    try:
        with engine.begin() as conn:
            fields = {
                "file_name": release.label,
                "release_date": release.release_date,
                "status": "running",
                "started_at": _now(),
                "finished_at": None,
            }
            if prior is not None:  # a retry or a forced reload re-uses the release's row
                release_id: int = prior.id
                conn.execute(delete(quarantine).where(quarantine.c.release_id == release_id))
                conn.execute(
                    update(source_release).where(source_release.c.id == release_id).values(fields)
                )
            else:
                inserted = conn.execute(
                    insert(source_release).values(
                        source=spec.name,
                        sha256=sha,
                        n_records=0,
                        n_added=0,
                        n_changed=0,
                        n_removed=0,
                        n_quarantined=0,
                        **fields,
                    )
                ).inserted_primary_key
                release_id = int(inserted[0]) if inserted else 0
            report.release_id = release_id
            _store(conn, release, release_id, report, progress)
            conn.execute(
                update(source_release)
                .where(source_release.c.id == release_id)
                .values(
                    status="stored" if two_phase else "done",
                    release_date=report.newest_record or release.release_date,
                    finished_at=_now(),
                    n_records=report.n_records,
                    n_added=report.n_added,
                    n_changed=report.n_changed,
                    n_removed=report.n_removed,
                    n_quarantined=report.n_quarantined,
                )
            )
    except Exception as exc:  # recorded, then re-raised: a failed load is visible, never silent
        if prior is None:
            with engine.begin() as conn:
                conn.execute(
                    insert(source_release).values(
                        source=spec.name,
                        file_name=release.label,
                        sha256=sha,
                        release_date=release.release_date,
                        status="failed",
                        started_at=_now(),
                        finished_at=_now(),
                        n_records=0,
                        n_added=0,
                        n_changed=0,
                        n_removed=0,
                        n_quarantined=0,
                    )
                )
        report.status, report.message = "failed", f"{type(exc).__name__}: {exc}"
        raise
    return report


def _flush(
    conn: Connection,
    spec: SourceSpec,
    rows: list[dict[str, Any]],
    records: list[Record],
    drafts: observe.Drafts | None,
) -> None:
    """Write new records and save the events made of them so far (a first load of a whole
    registry would otherwise hold every event until the end), then let the source build from
    them (``SourceSpec.stored``), the events included."""
    insert_rows(conn, source_record, rows)
    if drafts is not None:
        drafts.save(conn)
    if spec.stored is not None and rows:
        spec.stored(conn, rows, records)


def _store(
    conn: Connection,
    release: Release,
    release_id: int,
    report: ReleaseReport,
    progress: Callable[[int], None] | None,
) -> None:
    spec = release.spec
    src = source_record.c
    existing: dict[str, tuple[str, bool, date | None]] = {
        r.record_id: (r.content_hash, r.removed, r.source_date)
        for r in conn.execute(
            select(src.record_id, src.content_hash, src.removed, src.source_date).where(
                src.source == spec.name
            )
        )
    }
    seen: set[str] = set()
    first_release = not existing
    drafts = (  # the change rules' events of new records, made as they come
        observe.Drafts(conn, release, release_id, first_release)
        if observe.tracked(spec.name)
        else None
    )
    added: list[str] = []  # ids: the rows themselves go once written (a whole registry's raw
    pending: list[dict[str, Any]] = []  # text would not fit in memory)
    pending_records: list[Record] = []  # the records of ``pending``, for ``SourceSpec.stored``
    changed: list[tuple[Record, str]] = []
    returned: set[str] = set()
    for item in spec.parse(release.paths):
        if isinstance(item, Waiting):
            if len(pending) >= WAITING_ROWS:  # the store would wait: it writes meanwhile
                _flush(conn, spec, pending, pending_records, drafts)
                pending, pending_records = [], []
            continue
        if isinstance(item, Rejected):
            report.quarantined.append(item)
            continue
        if item.record_id in seen:
            report.quarantined.append(
                Rejected(
                    release.label,
                    None,
                    "duplicate record id in this release",
                    record_id=item.record_id,
                )
            )
            continue
        seen.add(item.record_id)
        report.n_records += 1
        if progress and report.n_records % 1000 == 0:
            progress(1000)
        h = item.digest or content_hash(item.data)
        old = existing.get(item.record_id)
        when = item.as_of or release.release_date
        if item.as_of and (report.newest_record is None or item.as_of > report.newest_record):
            report.newest_record = item.as_of
        if old is not None and old[2] is not None and when < old[2]:
            report.n_older += 1  # an older version than the one stored: history, not news
            continue
        if old is None:
            if drafts is not None:
                drafts.add(item.record_id, item.data, when)
            raw, packed = stored_raw(item)
            added.append(item.record_id)
            pending.append(
                {
                    "source": spec.name,
                    "record_id": item.record_id,
                    "content_hash": h,
                    "data": item.text or dump_json(item.data),
                    "raw": raw,
                    "raw_packed": packed,
                    "source_date": when,
                    "licence": spec.licence,
                    "first_release_id": release_id,
                    "changed_release_id": release_id,
                    "removed": False,
                }
            )
            if spec.stored is not None:
                pending_records.append(item)
            if len(pending) >= FLUSH_ROWS:  # written while the reader reads on
                _flush(conn, spec, pending, pending_records, drafts)
                pending, pending_records = [], []
        elif old[0] != h or old[1]:
            changed.append((item, h))
            if old[1]:  # it had left the source's snapshot and is back
                returned.add(item.record_id)
    _flush(conn, spec, pending, pending_records, drafts)
    report.n_added = len(added)
    changes: list[dict[str, Any]] = []
    if not first_release:
        changes += [
            {
                "release_id": release_id,
                "source": spec.name,
                "record_id": rid,
                "change": "added",
                "field": None,
                "old_value": None,
                "new_value": None,
            }
            for rid in added
        ]
    old_data_all: dict[str, Any] = {}
    for cbatch in chunks(changed):
        ids = [rec.record_id for rec, _ in cbatch]
        old_data = {
            r.record_id: orjson.loads(r.data)
            for r in conn.execute(
                select(src.record_id, src.data).where(
                    and_(src.source == spec.name, src.record_id.in_(ids))
                )
            )
        }
        old_data_all.update(old_data)
        for rec, _ in cbatch:
            for fname, a, b in field_changes(old_data.get(rec.record_id, {}), rec.data):
                changes.append(
                    {
                        "release_id": release_id,
                        "source": spec.name,
                        "record_id": rec.record_id,
                        "change": "changed",
                        "field": fname,
                        "old_value": a,
                        "new_value": b,
                    }
                )
        conn.execute(
            update(source_record)
            .where(src.source == spec.name, src.record_id == bindparam("rid"))
            .values(
                content_hash=bindparam("h"),
                data=bindparam("d"),
                raw=bindparam("r"),
                raw_packed=bindparam("rp"),
                source_date=bindparam("sd"),
                changed_release_id=release_id,
                removed=False,
            ),
            [
                {
                    "rid": rec.record_id,
                    "h": h,
                    "d": rec.text or dump_json(rec.data),
                    "r": raw,
                    "rp": packed,
                    "sd": rec.as_of or release.release_date,
                }
                for rec, h in cbatch
                for raw, packed in [stored_raw(rec)]
            ],
        )
    report.n_changed = len(changed)
    report.touched = added + [rec.record_id for rec, _ in changed]
    gone = [
        rid
        for rid, (_, removed, _) in existing.items()
        if spec.snapshot and not removed and rid not in seen
    ]
    for gbatch in chunks(gone):
        conn.execute(
            update(source_record)
            .where(src.source == spec.name, src.record_id.in_(gbatch))
            .values(removed=True, changed_release_id=release_id)
        )
        changes += [
            {
                "release_id": release_id,
                "source": spec.name,
                "record_id": rid,
                "change": "removed",
                "field": None,
                "old_value": None,
                "new_value": None,
            }
            for rid in gbatch
        ]
    report.n_removed = len(gone)
    insert_rows(conn, record_change, changes)
    if drafts is not None:
        report.n_events = observe.record_events(
            conn,
            release,
            drafts,
            changed=[
                (
                    rec.record_id,
                    old_data_all.get(rec.record_id),
                    rec.data,
                    rec.as_of or release.release_date,
                )
                for rec, _ in changed
            ],
            gone=gone,
            seen=seen,
            returned=returned,
        )
    rows = [
        {
            "release_id": release_id,
            "source": spec.name,
            "file_name": q.file_name,
            "line": q.line,
            "record_id": q.record_id,
            "field": q.field,
            "reason": q.reason,
            "raw": (q.raw or "")[:2000],
        }
        for q in report.quarantined
    ]
    for batch in chunks(rows):
        conn.execute(insert(quarantine), batch)
    report.n_quarantined = len(rows)


def mark_done(engine: Engine, release_id: int) -> None:
    """Finish a two-phase release (see ``load_release``)."""
    with engine.begin() as conn:
        conn.execute(
            update(source_release).where(source_release.c.id == release_id).values(status="done")
        )
