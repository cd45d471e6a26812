"""``drugradar load ctgov``: read studies from any ClinicalTrials.gov format, store them as
versioned source records, and (re)build the trial tables and drug links of those that changed.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, Engine, Table, delete, insert, select

from drugradar.alerts.settle import settle
from drugradar.background import background
from drugradar.devstatus import build as devstatus
from drugradar.dictionary import trial_codes
from drugradar.dictionary.ingest import (
    ReleaseReport,
    label_sha256,
    load_release,
    mark_done,
)
from drugradar.model.trial import (
    Intervention,
)
from drugradar.nogc import no_gc
from drugradar.resolve import Resolver
from drugradar.resolve.normalize import norm_key
from drugradar.sources import ctgov_common as cg
from drugradar.sources import ctgov_v2
from drugradar.sources.base import WAITING, Parsed, Record, SourceSpec, Waiting
from drugradar.sources.ctgov_v2 import NotGrouped
from drugradar.sources.registry import Release
from drugradar.store.bulk import insert_rows
from drugradar.store.checkpoint import checkpoints_aside
from drugradar.store.db import refresh_statistics
from drugradar.store.schema import (
    disease,
    disease_synonym,
    drug,
    source_record,
    source_release,
    synonym,
    trial,
    trial_condition,
    trial_country,
    trial_drug,
    trial_intervention,
    trial_party,
)
from drugradar.store.sync import chunks
from drugradar.track import concerns, observe
from drugradar.track.devstatus import News
from drugradar.trials import regimens
from drugradar.trials.prefetch import Made, Prefetch
from drugradar.trials.read import read_records
from drugradar.trials.roles import MAYBE_DRUG_TYPES
from drugradar.trials.rows import DRUG_ROLES, SOURCE, TrialRows, rows_of, trial_from_dict


@dataclass(slots=True)
class TrialLoadReport:
    release: ReleaseReport  # the sum over ``releases``
    format: str
    releases: list[ReleaseReport] = field(default_factory=list)
    trials_built: int = 0
    interventions: int = 0
    linked: int = 0
    unknown_values: dict[str, int] = field(default_factory=dict)
    status_rows: int = 0

    def add(self, rep: ReleaseReport) -> None:
        self.releases.append(rep)
        total = self.release
        if rep.status == "done" or total.status != "done":
            total.status, total.message = rep.status, rep.message
        for name in ("n_records", "n_added", "n_changed", "n_removed", "n_quarantined", "n_older"):
            setattr(total, name, getattr(total, name) + getattr(rep, name))
        total.quarantined += rep.quarantined
        total.touched += rep.touched


def detect_format(path: Path) -> str:
    """v2-json, xml or tsv, from the name, or from the first file inside an archive."""
    name = path.name.lower()
    if path.is_dir() or name.endswith(".xml"):
        return "xml"
    if ".json" in name:
        return "v2-json"
    if name.endswith((".tsv", ".txt")):
        return "tsv"
    if ".tar" in name:
        with tarfile.open(path, mode="r|*") as tar:
            for member in tar:
                if member.isfile():
                    if member.name.endswith(".xml"):
                        return "xml"
                    if member.name.endswith(".tsv"):
                        return "tsv"
    raise ValueError(
        f"{path.name}: not a ClinicalTrials.gov file this reader knows "
        "(API v2 JSON/JSONL, clinical_study XML, or the TSV export)"
    )


BACKGROUND_BYTES = 1 << 20  # inputs this big are parsed in a second process, beside the storing


def _input_bytes(paths: Sequence[Path]) -> int:
    total = 0
    for p in paths:
        if p.is_dir():
            return BACKGROUND_BYTES  # a folder of studies: worth it, no need to walk it twice
        total += p.stat().st_size if p.exists() else 0
    return total


Doc = Parsed | NotGrouped | Waiting  # what a trial reader hands the loader


def _docs(
    fmt: str,
    paths: Sequence[Path],
    as_of: date | None,
    days: Sequence[date] | None = None,
    skip: frozenset[date] = frozenset(),
    until: date | None = None,
    idle: Callable[[], bool] | None = None,
    grouped: bool = False,
) -> Iterator[Doc]:
    args = (fmt, list(paths), as_of, days, skip, until, grouped)
    if days is not None or _input_bytes(paths) >= BACKGROUND_BYTES:
        yield from background(read_records, *args, idle=idle, waiting=WAITING)
    else:
        yield from read_records(*args)


class StudiesNotGrouped(Exception):
    """The reader found the file's versions of a study apart (``ctgov_v2.NotGrouped``)."""


def _spec(
    docs: Iterable[Doc],
    as_of: date | None,
    tap: Callable[[Record], None] | None = None,
    stored: Callable[[Connection, list[dict[str, Any]], list[Record]], None] | None = None,
) -> SourceSpec:
    def parse(_: Sequence[Path]) -> Iterator[Parsed | Waiting]:
        for doc in docs:
            if isinstance(doc, NotGrouped):
                raise StudiesNotGrouped(
                    f"{doc.file_name}: line {doc.line} holds a later version of {doc.nct_id}"
                )
            if isinstance(doc, Record):
                if as_of is not None and doc.as_of != as_of:
                    doc = replace(doc, as_of=as_of)
                if tap is not None:
                    tap(doc)
            yield doc

    return SourceSpec(SOURCE, cg.LICENCE, "ClinicalTrials.gov", parse, False, stored)


def _by_day(docs: Iterable[Doc]) -> Iterator[tuple[date | None, list[Doc]]]:
    """Consecutive documents of one as-of date (a daily file of a series) as one group."""
    day: date | None = None
    group: list[Doc] = []
    for doc in docs:
        if isinstance(doc, Waiting):
            continue  # a day is stored whole, once read: no waiting in it
        if isinstance(doc, Record):
            if group and doc.as_of != day:
                yield day, group
                group = []
            day = doc.as_of
        group.append(doc)
    if group:
        yield day, group


def _done_days(engine: Engine, names: str, paths: Sequence[Path]) -> frozenset[date]:
    """The days of a series (releases labelled ``names @ day``) already loaded from these very
    files: the same check ``load_release`` makes, done before reading so they are not parsed."""
    prefix = f"{names} @ "
    sr = source_release.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(sr.file_name, sr.sha256).where(
                sr.source == SOURCE,
                sr.status == "done",
                sr.file_name.startswith(prefix, autoescape=True),
            )
        ).all()
    out = set()
    for r in rows:
        try:
            day = date.fromisoformat(r.file_name[len(prefix) :])
        except ValueError:
            continue
        if label_sha256(r.file_name, paths) == r.sha256:
            out.add(day)
    return frozenset(out)


def load_ctgov(
    engine: Engine,
    paths: Sequence[Path],
    *,
    as_of: date | None = None,
    replay: bool = False,
    force: bool = False,
    until: date | None = None,
    on_release: Callable[[ReleaseReport], None] | None = None,
) -> TrialLoadReport:
    """Load studies; records older than the stored version are kept out (history, not news).

    A series of dated files (the TSV export's daily files) is replayed: each date is a release
    of its own, oldest first, so every real change between two days is seen. ``replay`` does the
    same for a JSONL version series (every snapshot day in turn); otherwise a version series
    gives the snapshot of ``as_of``, or the latest version of each study. ``until`` leaves out
    the days of a series after it; ``on_release`` hears about each release when it is done.
    """
    with no_gc(), checkpoints_aside(engine):  # the status rebuild and settling too
        return _load(engine, paths, as_of, replay, force, until, on_release)


def _load(
    engine: Engine,
    paths: Sequence[Path],
    as_of: date | None,
    replay: bool,
    force: bool,
    until: date | None,
    on_release: Callable[[ReleaseReport], None] | None,
) -> TrialLoadReport:
    fmt = detect_format(paths[0])
    names = ", ".join(p.name for p in paths)
    today = datetime.now(UTC).date()
    out = TrialLoadReport(ReleaseReport(SOURCE, names, as_of or today, "skipped"), fmt)
    resolver = Resolver(engine, trial_born=False, bulk=True)
    prefetch = Prefetch(resolver)
    groups: Iterable[tuple[date | None, Iterable[Doc]]]
    if fmt == "tsv" or (fmt == "v2-json" and replay):
        skip = frozenset() if force else _done_days(engine, names, paths)
        for done in sorted(d for d in skip if until is None or d <= until):
            out.add(_already_loaded(f"{names} @ {done.isoformat()}", done))
        if fmt == "tsv":
            groups = _by_day(_docs(fmt, paths, None, skip=skip, until=until, idle=prefetch.step))
        else:
            days = [
                d
                for d in ctgov_v2.snapshot_days(paths[0])
                if d not in skip and (until is None or d <= until)
            ]
            series = _docs(fmt, paths, None, days=days, idle=prefetch.step)
            groups = _by_day(series) if days else []
    else:  # a version series streams, as if each study's versions were on consecutive lines
        grouped = fmt == "v2-json"
        groups = [(as_of, _docs(fmt, paths, as_of, idle=prefetch.step, grouped=grouped))]
    for day, docs in groups:
        if until is not None and day is not None and day > until:
            continue  # a series' later days, past the replay's end
        label = names + (f" @ {day.isoformat()}" if day else "")
        pin = day if (fmt == "tsv" or replay or as_of) else None
        scope = names if (fmt == "tsv" or replay) else None  # one day of a series
        counts = (out.interventions, out.linked, dict(out.unknown_values))
        for again in (False, True):
            if again:  # rolled back whole: read again, choosing at the end
                prefetch.forget()
                out.interventions, out.linked, out.unknown_values = counts
                docs = _docs(fmt, paths, as_of, idle=prefetch.step)
            early = EarlyBuild(resolver, out, prefetch.made, prefetch.built)
            spec = _spec(docs, pin, prefetch.feed, early)
            release = Release(spec, label, tuple(paths), day or today, scope)
            try:
                rep = load_release(engine, release, force=force, two_phase=True)
                break
            except StudiesNotGrouped:
                if again:
                    raise
        out.add(rep)
        news = None
        if rep.release_id is not None:
            found = observe.news_of(engine, [rep.release_id])
            news = News(found, rep.release_id, day or rep.release_date)
        if rep.touched:
            prefetch.finish()
            build_trials(engine, rep.touched, out, resolver, news, prefetch.made, early)
        prefetch.forget()  # what was made ahead for this release and not used
        if rep.release_id is not None:
            attached = early.attached
            if rep.status == "resumed":  # killed before it settled: maybe after it attached
                attached = observe.event_ids(engine, rep.release_id)  # (matching is idempotent)
            settle(engine, attached)
            mark_done(engine, rep.release_id)
        if on_release is not None:
            on_release(rep)
    if any(r.status == "done" for r in out.releases):
        refresh_statistics(engine)
    return out


def _already_loaded(label: str, day: date) -> ReleaseReport:
    rep = ReleaseReport(SOURCE, label, day, "skipped")
    rep.message = "already loaded (same file contents)"
    return rep


CHILD_TABLES = (trial_drug, trial_intervention, trial_condition, trial_party, trial_country)


class Stored(NamedTuple):
    """What building a study's rows needs of its stored record."""

    record_id: str
    content_hash: str
    source_date: date | None
    licence: str


@dataclass(slots=True)
class EarlyBuild:
    """Builds the rows of new studies in the store's own transaction, as each group of records
    is written (``SourceSpec.stored``): the work overlaps with the reader instead of waiting for
    the whole input. ``build_trials`` then skips them and adds the drugs they link."""

    resolver: Resolver
    report: TrialLoadReport
    made: Made
    ids: set[str]  # shared with the prefetcher, which then makes no rows for them
    drugs: set[str] = field(default_factory=set)
    attached: list[int] = field(default_factory=list)  # events whose concerns are resolved

    def __call__(self, conn: Connection, rows: list[dict[str, Any]], records: list[Record]) -> None:
        stored = [
            Stored(r["record_id"], r["content_hash"], r["source_date"], r["licence"]) for r in rows
        ]
        for r, rec in zip(rows, records, strict=True):  # the data at hand: no need to read it
            key = (r["record_id"], r["content_hash"])
            if key not in self.made:
                self.made[key] = rows_of(trial_from_dict(rec.data, sites=False))
        ids = [s.record_id for s in stored]
        self.drugs |= _replace(conn, ids, stored, self.made, self.resolver, self.report)
        self.ids.update(ids)
        # The events of these studies (saved just before) concern what was just built: their
        # concerns are resolved now, beside the reader, not after the last study.
        self.attached += concerns.attach_pending(conn)


def build_trials(
    engine: Engine,
    nct_ids: Sequence[str],
    report: TrialLoadReport,
    resolver: Resolver | None = None,
    news: News | None = None,
    made: Made | None = None,
    early: EarlyBuild | None = None,
) -> None:
    """Rebuild the trial rows of ``nct_ids`` from their current source records, then the
    development status of every drug they link (before or after). Pass one ``resolver`` to
    many calls: its fuzzy index is built once. ``made``: rows made ahead, by record id and
    content hash (used when the stored record is still that version). ``early``: the studies
    already built while they were stored."""
    resolver = resolver or Resolver(engine, trial_born=False, bulk=True)
    made = made if made is not None else {}
    drugs: set[str] = set(early.drugs) if early else set()
    todo = [n for n in nct_ids if n not in early.ids] if early else list(nct_ids)
    src = source_record.c
    for batch in chunks(todo, 2000):
        with engine.begin() as conn:
            stored = [
                Stored(*r)
                for r in conn.execute(
                    select(src.record_id, src.content_hash, src.source_date, src.licence).where(
                        src.source == SOURCE, src.record_id.in_(batch)
                    )
                )
            ]
            drugs |= _replace(conn, batch, stored, made, resolver, report)
    report.trials_built += len(nct_ids)
    report.status_rows += devstatus.rebuild(engine, drugs, news=news)


def _replace(
    conn: Connection,
    batch: Sequence[str],
    stored: list[Stored],
    made: Made,
    resolver: Resolver,
    report: TrialLoadReport,
) -> set[str]:
    """Replace the trial rows of ``batch`` from their ``stored`` records; return the drugs they
    linked before or link now."""
    src = source_record.c
    ready = {r.record_id: made.pop((r.record_id, r.content_hash), None) for r in stored}
    missing = [rid for rid, rows in ready.items() if rows is None]
    for mbatch in chunks(missing, 500):
        for rid, data in conn.execute(
            select(src.record_id, src.data).where(src.source == SOURCE, src.record_id.in_(mbatch))
        ).all():
            ready[rid] = rows_of(trial_from_dict(orjson.loads(data), sites=False))
    trials = [(rows, r) for r in stored if (rows := ready[r.record_id]) is not None]
    drugs = set(
        conn.execute(select(trial_drug.c.drug_id).where(trial_drug.c.nct_id.in_(batch)))
        .scalars()
        .all()
    )
    for table in CHILD_TABLES:
        conn.execute(delete(table).where(table.c.nct_id.in_(batch)))
    conn.execute(delete(trial).where(trial.c.nct_id.in_(batch)))
    _insert(conn, trials, resolver, report)
    drugs.update(
        conn.execute(select(trial_drug.c.drug_id).where(trial_drug.c.nct_id.in_(batch)))
        .scalars()
        .all()
    )
    return drugs


def _disease_map(conn: Connection, conds: list[dict[str, Any]]) -> None:
    """Set ``disease_id`` on condition rows: the MeSH id when it is a disease, else the one
    disease whose name or synonym the term is."""
    keys = sorted({c["norm_key"] for c in conds})
    ids = sorted({c["mesh_id"] for c in conds if c["mesh_id"]})
    by_key: dict[str, set[str]] = {}
    known: set[str] = set()
    for kbatch in chunks(keys, 500):
        for r in conn.execute(
            select(disease_synonym.c.norm_key, disease_synonym.c.disease_id).where(
                disease_synonym.c.norm_key.in_(kbatch)
            )
        ).all():
            by_key.setdefault(r.norm_key, set()).add(r.disease_id)
    for ibatch in chunks(ids, 500):
        known.update(conn.execute(select(disease.c.id).where(disease.c.id.in_(ibatch))).scalars())
    for c in conds:
        if c["kind"] not in ("condition", "mesh"):
            continue
        if c["mesh_id"] in known:
            c["disease_id"] = c["mesh_id"]
        elif len(by_key.get(c["norm_key"], ())) == 1:
            c["disease_id"] = next(iter(by_key[c["norm_key"]]))


def _insert(
    conn: Connection,
    trials: list[tuple[TrialRows, Stored]],
    resolver: Resolver,
    report: TrialLoadReport,
) -> None:
    main, ivs, conds, parties, countries = [], [], [], [], []
    to_resolve: list[tuple[str, int, str, Intervention]] = []
    for rows, r in trials:
        for u in rows.unknown_values:
            key = u.split(":", 1)[0]
            report.unknown_values[key] = report.unknown_values.get(key, 0) + 1
        main.append({**rows.main, "source_date": r.source_date, "licence": r.licence})
        ivs += rows.interventions
        conds += rows.conditions
        parties += rows.parties
        countries += rows.countries
        to_resolve += rows.to_resolve
    _disease_map(conn, conds)
    insert_rows(conn, trial, main)
    linked = _link(conn, to_resolve, resolver)
    maybe = {(n, p) for n, p, _, iv in to_resolve if iv.type in MAYBE_DRUG_TYPES}
    for row in ivs:  # "Other: questionnaire" is not a drug unless its name is one
        if (row["nct_id"], row["position"]) in maybe - linked:
            row["role"], row["role_rule"] = "not_drug", f"type {row['type']} and no drug name"
    children: tuple[tuple[Table, list[dict[str, Any]]], ...] = (
        (trial_intervention, ivs),
        (trial_condition, conds),
        (trial_party, parties),
        (trial_country, countries),
    )
    for table, data in children:
        insert_rows(conn, table, data)
    report.interventions += len(ivs)
    report.linked += len(linked)


def _link(
    conn: Connection, items: list[tuple[str, int, str, Intervention]], resolver: Resolver
) -> set[tuple[str, int]]:
    """Resolve drug interventions (name, then other names); store each matched drug."""
    rows: dict[tuple[str, int, str], dict[str, Any]] = {}
    linked: set[tuple[str, int]] = set()
    items = _regimens(items, resolver, rows, linked)
    names = sorted({n for _, _, _, iv in items for n in [iv.name, *iv.other_names]})
    res = dict(zip(names, resolver.resolve_many(names), strict=True))
    for nct, pos, rl, iv in items:
        strict = iv.type in MAYBE_DRUG_TYPES  # OTHER etc. count only when the name is exact
        for query in [iv.name, *iv.other_names]:
            r = res[query]
            matches = [m for m in r.matches if not strict or m.match_kind in ("exact", "salt")]
            if not r.combination:  # one drug per name: the best-ranked, even when ambiguous
                matches = matches[:1]
            if matches:
                linked.add((nct, pos))
                for m in matches:
                    rows.setdefault(
                        (nct, pos, m.drug_id),
                        {
                            "nct_id": nct,
                            "position": pos,
                            "drug_id": m.drug_id,
                            "role": rl,
                            "query": query[:1000],
                            "matched_alias": m.matched_alias[:1000],
                            "alias_type": m.alias_type,
                            "match_kind": m.match_kind,
                            "score": m.score,
                        },
                    )
                break
    rows |= _new_codes(conn, [it for it in items if (it[0], it[1]) not in linked], linked)
    insert_rows(conn, trial_drug, list(rows.values()))
    return linked


def _regimens(
    items: list[tuple[str, int, str, Intervention]],
    resolver: Resolver,
    rows: dict[tuple[str, int, str], dict[str, Any]],
    linked: set[tuple[str, int]],
) -> list[tuple[str, int, str, Intervention]]:
    """Link interventions named by a chemotherapy regimen (``CHOP regimen``) to each of its
    components (``trials.regimens``); return the other items."""
    named = {(it[0], it[1]): regimens.components(it[3].name) for it in items}
    parts = sorted({p for comps in named.values() if comps for p in comps})
    if not parts:
        return items
    found = dict(zip(parts, resolver.resolve_many(parts, fuzzy=False), strict=True))
    rest = []
    for nct, pos, rl, iv in items:
        comps = named[(nct, pos)]
        if not comps:
            rest.append((nct, pos, rl, iv))
            continue
        for part in comps:
            best = found[part].best
            if best is None or best.match_kind not in ("exact", "salt"):
                continue
            linked.add((nct, pos))
            rows.setdefault(
                (nct, pos, best.drug_id),
                {
                    "nct_id": nct,
                    "position": pos,
                    "drug_id": best.drug_id,
                    "role": rl,
                    "query": iv.name[:1000],
                    "matched_alias": best.matched_alias[:1000],
                    "alias_type": best.alias_type,
                    "match_kind": "regimen",
                    "score": 100.0,
                },
            )
    return rest


def _new_codes(
    conn: Connection,
    items: list[tuple[str, int, str, Intervention]],
    linked: set[tuple[str, int]],
) -> dict[tuple[str, int, str], dict[str, Any]]:
    """Unresolved drug interventions named by a research code become drugs (see
    ``dictionary.trial_codes``); returns their link rows and adds them to ``linked``."""
    seen = []
    for nct, _, _, iv in items:
        if iv.type not in MAYBE_DRUG_TYPES:
            names = trial_codes.code_names([iv.name, *iv.other_names])
            if names:
                seen.append((names, nct, None))
    if not seen:
        return {}
    by_key = trial_codes.group(seen, set())
    drug_rows, syn_rows = trial_codes.rows(by_key.values(), cg.LICENCE)
    ids = [r["id"] for r in drug_rows]
    have = set(conn.execute(select(drug.c.id).where(drug.c.id.in_(ids))).scalars())
    have_syn = {
        (r.drug_id, r.name)
        for r in conn.execute(
            select(synonym.c.drug_id, synonym.c.name).where(synonym.c.drug_id.in_(ids))
        )
    }
    new_drugs = [r for r in drug_rows if r["id"] not in have]
    new_syns = [r for r in syn_rows if (r["drug_id"], r["name"]) not in have_syn]
    if new_drugs:
        conn.execute(insert(drug), new_drugs)
    if new_syns:
        conn.execute(insert(synonym), new_syns)
    out: dict[tuple[str, int, str], dict[str, Any]] = {}
    for nct, pos, rl, iv in items:
        if iv.type in MAYBE_DRUG_TYPES:
            continue
        for name in trial_codes.code_names([iv.name, *iv.other_names])[:1]:
            found = by_key.get(norm_key(name))
            if found is None:
                continue
            linked.add((nct, pos))
            out.setdefault(
                (nct, pos, found.id),
                {
                    "nct_id": nct,
                    "position": pos,
                    "drug_id": found.id,
                    "role": rl,
                    "query": name[:1000],
                    "matched_alias": name[:1000],
                    "alias_type": "code",
                    "match_kind": trial_codes.MATCH_KIND,
                    "score": 100.0,
                },
            )
            break
    return out


def relink(engine: Engine) -> int:
    """Rebuild the trials whose drug links a dictionary rebuild may have changed: those linking
    a retired drug (a trial-born code now known under a real name) and those with a drug
    intervention that linked nothing (a new release may know it). Returns how many."""
    ti, td = trial_intervention.c, trial_drug.c
    with engine.connect() as conn:
        stale = set(
            conn.execute(
                select(td.nct_id).join(drug, drug.c.id == td.drug_id).where(drug.c.retired)
            ).scalars()
        )
        linked = select(td.nct_id).where(td.nct_id == ti.nct_id, td.position == ti.position)
        stale.update(
            conn.execute(
                select(ti.nct_id).where(ti.role.in_(DRUG_ROLES), ~linked.exists())
            ).scalars()
        )
    if stale:
        today = datetime.now(UTC).date()
        report = TrialLoadReport(ReleaseReport(SOURCE, "relink", today, "done"), "stored")
        build_trials(engine, sorted(stale), report)
    return len(stale)
