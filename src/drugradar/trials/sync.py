"""``drugradar sync ctgov``: pull studies from the live API v2, page by page.

Each page is stored as its own release (one transaction), and the next page token is saved in
``meta`` after it: a sync killed halfway resumes from the page it had reached, and re-reading a
page changes nothing. Without ``--since`` the sync asks for what changed since the last complete
sync (its date is kept in ``meta`` too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
from sqlalchemy import Engine, delete, insert, select

from drugradar.dictionary.ingest import load_release, mark_done
from drugradar.resolve import Resolver
from drugradar.sources import ctgov_common as cg
from drugradar.sources.base import Parsed, Record, Rejected, SourceSpec
from drugradar.sources.ctgov_api import Client, Page, Query, fetch
from drugradar.sources.registry import Release
from drugradar.store.schema import meta
from drugradar.trials.load import TrialLoadReport, build_trials
from drugradar.trials.rows import SOURCE


@dataclass(slots=True)
class SyncReport:
    query: Query
    resumed_from: str | None
    pages: int = 0
    studies: int = 0
    added: int = 0
    changed: int = 0
    quarantined: int = 0
    linked: int = 0
    done: bool = False
    errors: list[str] = field(default_factory=list)


def _key(query: Query) -> str:
    params = {k: v for k, v in query.params(None).items() if k != "filter.advanced"}
    return (
        "ctgov_sync:"
        + hashlib.sha1(orjson.dumps(params, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    )


def _get(engine: Engine, key: str) -> str | None:
    with engine.connect() as c:
        return c.execute(select(meta.c.value).where(meta.c.key == key)).scalar()


def _set(engine: Engine, key: str, value: str | None) -> None:
    with engine.begin() as c:
        c.execute(delete(meta).where(meta.c.key == key))
        if value is not None:
            c.execute(insert(meta).values(key=key, value=value))


def sync_ctgov(engine: Engine, query: Query, client: Client, *, resume: bool = True) -> SyncReport:
    """Fetch every page of ``query``, store and link its studies; resumable."""
    key = _key(query)
    if query.updated_since is None:
        last = _get(engine, key + ":last_done")
        if last:
            query.updated_since = date.fromisoformat(last)
    start = _get(engine, key + ":token") if resume else None
    report = SyncReport(query, start)
    today = datetime.now(UTC).date()
    buffer: list[cg.StudyDoc | Rejected] = []
    resolver = Resolver(engine, trial_born=False, bulk=True)

    def store(page: Page) -> None:
        docs = list(buffer)
        buffer.clear()

        def parse(_: Sequence[Path]) -> Iterator[Parsed]:
            for d in docs:
                yield (
                    d
                    if isinstance(d, Rejected)
                    else Record(d.trial.nct_id, d.trial.to_dict(), raw=d.raw, as_of=d.as_of)
                )

        spec = SourceSpec(SOURCE, cg.LICENCE, "ClinicalTrials.gov API v2", parse, snapshot=False)
        label = f"api {key} page {page.token or 'first'} @ {today.isoformat()}"
        rep = load_release(engine, Release(spec, label, (), today), force=True, two_phase=True)
        out = TrialLoadReport(rep, "v2-json")
        if rep.touched:
            build_trials(engine, rep.touched, out, resolver)
        if rep.release_id is not None:
            mark_done(engine, rep.release_id)
        report.pages += 1
        report.studies += rep.n_records
        report.added += rep.n_added
        report.changed += rep.n_changed
        report.quarantined += rep.n_quarantined
        report.linked += out.linked
        _set(engine, key + ":token", page.next_token)  # after the page is safely stored

    for doc in fetch(query, client, start_token=start, on_page=store):
        buffer.append(doc)
    _set(engine, key + ":last_done", today.isoformat())
    report.done = True
    return report
