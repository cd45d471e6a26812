"""``drugradar load profile``: regulators, labels and interactions, then the profile tables.

Each release is stored like a vocabulary release (one transaction, versioned records, field-level
history, quarantine). A group's tables are rebuilt when one of its sources got a new release since
the last build (the stamp is written in the build's own transaction, so a load killed between the
two builds again on the next run). FDA and EMA approvals then refresh the status matrix.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, func, insert, select

from drugradar.alerts.settle import settle
from drugradar.devstatus import build as devstatus
from drugradar.dictionary.ingest import ReleaseReport, load_release
from drugradar.dictionary.load import ReleaseHook
from drugradar.nogc import no_gc
from drugradar.resolve import Resolver
from drugradar.sources.registry import PROFILE_GROUPS, profile_releases
from drugradar.store.schema import approval, dev_status, meta, source_release
from drugradar.track import observe
from drugradar.track.devstatus import News

BUILDERS = {
    "fda": "drugradar.profile.fda",
    "ema": "drugradar.profile.ema",
    "labels": "drugradar.profile.labels",
    "ddi": "drugradar.profile.interactions",
}
STATUS_GROUPS = {"fda", "ema"}  # their approvals are rows of the status matrix
STATUS_KEY = "profile_built:status"  # the approval builds the status rows were refreshed from


@dataclass(slots=True)
class ProfileSummary:
    releases: list[ReleaseReport] = field(default_factory=list)
    built: dict[str, dict[str, int]] = field(default_factory=dict)
    status_rows: int = 0

    @property
    def n_loaded(self) -> int:
        return sum(r.n_records for r in self.releases if r.status == "done")

    @property
    def n_quarantined(self) -> int:
        return sum(r.n_quarantined for r in self.releases if r.status == "done")


def _stamp(conn: Connection, sources: list[str]) -> str:
    newest = conn.execute(
        select(func.max(source_release.c.id)).where(
            source_release.c.source.in_(sources), source_release.c.status == "done"
        )
    ).scalar()
    return str(newest)


def _meta_key(group: str) -> str:
    return f"profile_built:{group}"


def load_profile(
    engine: Engine,
    data: Path,
    *,
    groups: tuple[str, ...] = PROFILE_GROUPS,
    force: bool = False,
    hook: ReleaseHook | None = None,
    until: date | None = None,
) -> ProfileSummary:
    """Load every profile release under the data root ``data`` (up to ``until``), oldest
    first within each source; rebuild what changed; store the changes as events."""
    hook = hook or ReleaseHook()
    summary = ProfileSummary()
    resolver = Resolver(engine)
    loaded: list[int] = []
    for group in groups:
        releases = [
            r for r in profile_releases(data, (group,)) if until is None or r.release_date <= until
        ]
        if not releases:
            continue
        newest = {r.spec.name: r for r in releases}
        for release in releases:
            again = force and newest[release.spec.name] is release
            report = load_release(engine, release, force=again, progress=hook.start(release))
            summary.releases.append(report)
            hook.done(report)
            if report.status == "done" and report.release_id is not None:
                loaded.append(report.release_id)
        sources = sorted(newest)
        with engine.begin() as conn:
            stamp = _stamp(conn, sources)
            built = conn.execute(select(meta.c.value).where(meta.c.key == _meta_key(group)))
            if not force and built.scalar() == stamp:
                continue
            hook.building()
            module = importlib.import_module(BUILDERS[group])
            with no_gc():
                summary.built[group] = module.build(conn, resolver)
            conn.execute(delete(meta).where(meta.c.key == _meta_key(group)))
            conn.execute(insert(meta).values(key=_meta_key(group), value=stamp))
    with engine.connect() as conn:  # the builds of the approvals the status rows stand on
        keys = [_meta_key(g) for g in sorted(STATUS_GROUPS)]
        stamps = {
            r.key: r.value
            for r in conn.execute(select(meta.c.key, meta.c.value).where(meta.c.key.in_(keys)))
        }
        wanted = ";".join(f"{k}={stamps.get(k, '')}" for k in keys)
        done = conn.execute(select(meta.c.value).where(meta.c.key == STATUS_KEY)).scalar()
    if force or wanted != done:  # also after a run killed between a build and this step
        news = None
        if loaded:
            found = observe.news_of(engine, loaded)
            news = News(found, loaded[-1], max(r.release_date for r in summary.releases))
        summary.status_rows = devstatus.rebuild(engine, approval_drugs(engine), news=news)
        with engine.begin() as conn:
            conn.execute(delete(meta).where(meta.c.key == STATUS_KEY))
            conn.execute(insert(meta).values(key=STATUS_KEY, value=wanted))
    settle(engine)
    return summary


def approval_drugs(engine: Engine) -> set[str]:
    """Drugs whose status rows regulators' decisions may change: those with an approval now,
    and those whose rows came from a regulator before (an approval may have gone)."""
    with engine.connect() as conn:
        drugs = set(
            conn.execute(select(approval.c.drug_id).where(approval.c.drug_id.is_not(None)))
            .scalars()
            .all()
        )
        drugs.update(
            conn.execute(select(dev_status.c.drug_id).where(dev_status.c.source != "ctgov"))
            .scalars()
            .all()
        )
    return drugs
