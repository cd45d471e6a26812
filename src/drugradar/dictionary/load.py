"""``drugradar load vocab``: every release in date order, then the dictionary rebuilt in place."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text

from drugradar.dictionary import atc
from drugradar.dictionary.build import build
from drugradar.dictionary.ingest import ReleaseReport, load_release
from drugradar.resolve import fuzzy
from drugradar.sources.registry import SPECS, Release, vocab_releases
from drugradar.store.schema import (
    DICTIONARY_STAMP,
    atc_ddd,
    disease,
    disease_ancestor,
    disease_synonym,
    drug,
    drug_class,
    drug_indication,
    drug_target,
    drug_xref,
    meta,
    salt_form,
    source_record,
    source_release,
    synonym,
    target,
)
from drugradar.store.sync import SyncCounts, chunks, sync_rows
from drugradar.track.dictionary import diff as name_events
from drugradar.track.store import save

BUILT_KEY = "dictionary_built_from_release"
STAMP_KEY = DICTIONARY_STAMP  # new at every rebuild: what in-memory name indexes check
DICTIONARY_TABLES = (
    drug,
    target,
    drug_xref,
    synonym,
    salt_form,
    drug_target,
    drug_indication,
    drug_class,
    atc_ddd,
    source_record,
    disease,
    disease_synonym,
    disease_ancestor,
)


@dataclass(slots=True)
class LoadSummary:
    releases: list[ReleaseReport] = field(default_factory=list)
    rebuilt: bool = False
    relinked: int = 0  # trials whose drug links were rebuilt after the dictionary changed
    tables: dict[str, SyncCounts] = field(default_factory=dict)

    @property
    def n_loaded(self) -> int:
        return sum(r.n_records for r in self.releases if r.status == "done")

    @property
    def n_quarantined(self) -> int:
        return sum(r.n_quarantined for r in self.releases if r.status == "done")


class ReleaseHook:
    """What a caller (the CLI's progress bar) is told as the load goes."""

    def start(self, release: Release) -> Callable[[int], None] | None:
        return None

    def done(self, report: ReleaseReport) -> None:
        return None

    def building(self) -> None:
        return None


def load_vocab(
    engine: Engine,
    folder: Path,
    *,
    force: bool = False,
    hook: ReleaseHook | None = None,
    until: date | None = None,
    sources: Sequence[str] = (),
) -> LoadSummary:
    """Load every vocabulary release under ``folder`` (up to ``until``; of ``sources`` only,
    when named); rebuild the dictionary on change."""
    hook = hook or ReleaseHook()
    releases = [
        r
        for r in vocab_releases(folder)
        if (until is None or r.release_date <= until) and (not sources or r.spec.name in sources)
    ]
    if not releases:
        raise FileNotFoundError(f"no vocabulary files found under {folder}")
    summary = LoadSummary()
    newest = {r.spec.name: r for r in releases}  # sorted oldest first within each source
    for release in releases:
        # --force re-reads only the newest release of a source: re-reading an older one would
        # rewind the source's records to that date.
        again = force and newest[release.spec.name] is release
        report = load_release(engine, release, force=again, progress=hook.start(release))
        summary.releases.append(report)
        hook.done(report)
    if force or _stale(engine):
        hook.building()
        summary.tables = rebuild(engine)
        summary.rebuilt = True
        from drugradar.trials.load import relink  # trials depend on the dictionary, not back

        summary.relinked = relink(engine)
        from drugradar.alerts.settle import settle

        settle(engine)  # the new names' events: concerns, subscribers
    return summary


def _newest_vocab_release(conn: Connection) -> int | None:
    """The newest loaded vocabulary release: what the dictionary is built from. Trial and
    regulator releases never make it stale (a rebuild costs minutes, and they do not feed it)."""
    sr = source_release.c
    newest = conn.execute(
        select(func.max(sr.id)).where(sr.status == "done", sr.source.in_(sorted(SPECS)))
    ).scalar()
    return None if newest is None else int(newest)


def _stale(engine: Engine) -> bool:
    with engine.connect() as conn:
        newest = _newest_vocab_release(conn)
        built = conn.execute(select(meta.c.value).where(meta.c.key == BUILT_KEY)).scalar()
    return newest is not None and str(newest) != built


def _name_events(
    conn: Connection,
    before: set[tuple[str, str]],
    known: set[str],
    rows: list[dict[str, Any]],
    release_id: int,
) -> None:
    """Store the new names of known drugs as dictionary events (``track.dictionary``)."""
    fresh = [r for r in rows if (r["drug_id"], r["norm_key"]) not in before]
    if not fresh:
        return
    ids = sorted({r["drug_id"] for r in fresh})
    names: dict[str, str] = {}
    for batch in chunks(ids, 500):
        found = conn.execute(select(drug.c.id, drug.c.preferred_name).where(drug.c.id.in_(batch)))
        names.update((r.id, r.preferred_name) for r in found)
    as_of = conn.execute(
        select(source_release.c.release_date).where(source_release.c.id == release_id)
    ).scalar()
    save(conn, name_events(before, known, fresh, names, release_id, as_of or date.today()))


def rebuild(engine: Engine) -> dict[str, SyncCounts]:
    """Rebuild the dictionary from the stored source records, updating tables in place."""
    with engine.begin() as conn:
        names_before = conn.execute(select(synonym.c.drug_id, synonym.c.norm_key))
        before = {(r.drug_id, r.norm_key) for r in names_before}
        known = set(conn.execute(select(drug.c.id)).scalars())
        d = build(conn)
        parents = [
            (target, list(d.target.values()), ["id"]),
            (disease, d.disease, ["id"]),
        ]
        counts = {"drug": sync_rows(conn, drug, d.drug, ["id"], retire_column="retired")}
        for table, rows, key in parents:  # new parents first; old ones go after their children
            counts[table.name] = sync_rows(conn, table, rows, key, keep_missing=True)
        counts |= {
            "drug_xref": sync_rows(
                conn, drug_xref, d.xref, ["drug_id", "namespace", "value", "source"]
            ),
            "synonym": sync_rows(
                conn,
                synonym,
                d.synonym,
                [
                    "drug_id",
                    "norm_key",
                    "head_key",
                    "name",
                    "alias_type",
                    "form",
                    "source",
                    "source_record_id",
                    "source_date",
                    "combination",
                ],
                surrogate="id",
            ),
        }
        atc_classes, ddd = atc.classes(conn)  # resolves names: after the synonyms are written
        for row in atc_classes:
            d.drug_class.setdefault(
                (row["drug_id"], row["name"], row["class_type"], row["source"]), row
            )
        counts |= {
            "atc_ddd": sync_rows(conn, atc_ddd, ddd, ["code", "route", "ddd", "uom"]),
            "salt_form": sync_rows(conn, salt_form, d.salt_form, ["unii"]),
            "drug_target": sync_rows(
                conn, drug_target, list(d.drug_target.values()), ["drug_id", "target_id", "source"]
            ),
            "drug_indication": sync_rows(
                conn, drug_indication, list(d.indication.values()), ["drug_id", "name", "source"]
            ),
            "drug_class": sync_rows(
                conn,
                drug_class,
                list(d.drug_class.values()),
                ["drug_id", "name", "class_type", "source"],
            ),
            "disease_synonym": sync_rows(
                conn, disease_synonym, list(d.disease_synonym.values()), ["disease_id", "norm_key"]
            ),
            "disease_ancestor": sync_rows(
                conn, disease_ancestor, d.disease_ancestor, ["disease_id", "ancestor_id"]
            ),
        }
        for table, rows, key in parents:
            counts[table.name].deleted = sync_rows(conn, table, rows, key).deleted
        newest = _newest_vocab_release(conn)
        if newest is not None and before:
            _name_events(conn, before, known, d.synonym, int(newest))
        conn.execute(meta.delete().where(meta.c.key == BUILT_KEY))
        conn.execute(meta.insert().values(key=BUILT_KEY, value=str(newest)))
        conn.execute(meta.delete().where(meta.c.key == STAMP_KEY))
        conn.execute(meta.insert().values(key=STAMP_KEY, value=uuid.uuid4().hex))
        fuzzy.save(conn)  # the resolver's fuzzy index of these names, laid out once
        # bulk changes leave the planner's statistics stale (PostgreSQL then scans whole tables)
        for table in DICTIONARY_TABLES:
            conn.execute(text(f"ANALYZE {table.name}"))
    return counts
