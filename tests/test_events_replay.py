"""Replaying the real daily snapshot series: every real change in the raw files is an event and
no event lacks one (checked against ``ctgov_oracle``, an independent reading of the raw files)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, and_, func, select, text

from drugradar.dictionary import load_vocab
from drugradar.store import migrate
from drugradar.store.schema import (
    event,
    event_concern,
    event_source,
    trial_drug,
    trial_intervention,
)
from drugradar.track.catalogue import CATALOGUE
from drugradar.track.query import EventFilter, list_events
from drugradar.track.replay import replay
from drugradar.trials.query import unresolved_interventions
from drugradar.trials.rows import DRUG_ROLES

from .conftest import FIXTURE_VOCAB, SHARED_VOCAB, Database
from .ctgov_oracle import changes

pytestmark = pytest.mark.xdist_group("replay")
DATA = SHARED_VOCAB.parent
ROOT = Path(__file__).resolve().parents[1]
# drugradar event type -> the oracle's kind
KIND = {
    "posted": "appeared",
    "first_seen": "appeared",
    "vanished": "vanished",
    "reappeared": "reappeared",
    "status_changed": "status_changed",
    "phase_changed": "phase_changed",
    "results_posted": "results_posted",
    "results_removed": "results_removed",
    "primary_completion_moved": "primary_completion_changed",
    "completion_moved": "completion_changed",
    "enrollment_changed": "enrollment_changed",
    "sponsor_changed": "sponsor_changed",
}
TIGIT = (date(2026, 1, 1), date(2026, 12, 31))
COVID = (date(2020, 1, 1), date(2020, 12, 31))


def sightings(
    engine: Engine, span: tuple[date, date], tsv: bool = False
) -> set[tuple[str, str, str]]:
    """(NCT id, day, oracle kind) of every clinical_trial event seen in the span."""
    out = set()
    e, s = event.c, event_source.c
    with engine.connect() as c:
        rows = c.execute(
            select(e.entity_id, s.as_of, e.type)
            .join(event_source, s.event_id == e.id)
            .where(e.family == "clinical_trial", s.as_of.between(*span))
        )
        for r in rows:
            kind = KIND.get(r.type)
            if kind and not (tsv and kind == "sponsor_changed"):  # the TSV mixes collaborators in
                out.add((r.entity_id, r.as_of.isoformat(), kind))
    return out


def oracle(series: str, until: date | None = None) -> set[tuple[str, str, str]]:
    return {
        (o.nct_id, o.day.isoformat(), o.kind)
        for o in changes(series)
        if until is None or o.day <= until
    }


@pytest.fixture(scope="module")
def tigit_db(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    d = Database(backend, tmp_path_factory.mktemp("tigit"), request.config.getoption("pg_url"))
    migrate(d.engine)
    load_vocab(d.engine, FIXTURE_VOCAB)
    replay(d.engine, DATA, sources=["tigit"])
    yield d.engine
    d.drop()


def test_tigit_events_are_exactly_the_real_changes(tigit_db: Engine) -> None:
    mine, real = sightings(tigit_db, TIGIT), oracle("tigit")
    assert real, "the oracle found the series' changes"
    assert mine - real == set(), "an event without a real change"
    assert real - mine == set(), "a real change without an event"


def test_partial_snapshot_raises_no_vanishings(tigit_db: Engine) -> None:
    """The watch list's fetch of 2026-02-04 holds 12 of the 133 studies of the day before: a
    transient error, not 121 trials leaving the registry (and coming back the next day)."""
    with tigit_db.connect() as c:
        presence = c.execute(
            select(event.c.as_of, event.c.type).where(event.c.type.in_(("vanished", "reappeared")))
        ).all()
    assert not [r for r in presence if r.as_of in (date(2026, 2, 4), date(2026, 2, 5))]
    assert any(r.type == "vanished" for r in presence)  # the later real ones are kept


def test_documented_termination_is_one_event_with_its_source(tigit_db: Engine) -> None:
    found = list_events(
        tigit_db, EventFilter(entity=("trial", "NCT05935098"), families=("clinical_trial",))
    )
    status = [ev for ev in found if ev.type == "status_changed"]
    assert len(status) == 1
    ev = status[0]
    assert (ev.old, ev.new, ev.as_of) == ("ACTIVE_NOT_RECRUITING", "TERMINATED", date(2026, 3, 14))
    assert ev.materiality.value == "high" and "why stopped" in ev.summary
    assert [(s.source, s.record_id) for s in ev.sources] == [("ctgov", "NCT05935098")]
    moved = {ev.type: ev.days_shifted for ev in found if ev.type.endswith("_moved")}
    assert moved["primary_completion_moved"] is not None and moved["primary_completion_moved"] < 0


def test_no_event_is_noise(tigit_db: Engine) -> None:
    with tigit_db.connect() as c:
        rows = c.execute(select(event.c.family, event.c.type, event.c.old_value, event.c.new_value))
        for r in rows:
            assert (r.family, r.type) in CATALOGUE
            if r.type not in ("reappeared", "vanished", "first_seen", "posted"):
                assert r.old_value != r.new_value
        fields = c.execute(select(event.c.field).distinct()).scalars().all()
    assert not any("version" in (f or "").lower() for f in fields)
    assert "last_update_posted" not in fields


def test_baseline_day_raises_no_changes(tigit_db: Engine) -> None:
    first = min(o.day for o in changes("tigit"))
    with tigit_db.connect() as c:
        kinds = Counter(
            c.execute(select(event.c.type).where(event.c.as_of == first)).scalars().all()
        )
    assert set(kinds) == {"first_seen"}


def test_every_event_has_concerns_resolved(tigit_db: Engine) -> None:
    with tigit_db.connect() as c:
        pending = c.execute(
            select(func.count()).select_from(event).where(event.c.concerns_done.is_(False))
        ).scalar()
        kinds = set(c.execute(select(event_concern.c.kind).distinct()).scalars())
        dev = c.execute(
            select(event.c.type, event.c.summary).where(event.c.family == "dev_status")
        ).all()
    assert pending == 0
    assert {"drug", "organization", "disease"} <= kinds
    assert dev, "phase and activity changes of linked drugs become dev_status events"
    assert all(
        t in CATALOGUE and t[0] == "dev_status" for t in (("dev_status", r.type) for r in dev)
    )


def test_replay_again_adds_nothing(tigit_db: Engine) -> None:
    with tigit_db.connect() as c:
        before = c.execute(text("select count(*) from event")).scalar()
    results = replay(tigit_db, DATA, sources=["tigit"])
    assert all(r.status == "skipped" for step in results for r in step.releases)
    with tigit_db.connect() as c:
        assert c.execute(text("select count(*) from event")).scalar() == before


@pytest.mark.skipif(not (DATA / "ctgov").is_dir(), reason="needs the shared data")
def test_covid_series_on_sqlite(tmp_path: Path, backend: str) -> None:
    """The 190-day TSV series (SQLite only: it is the slow one)."""
    if backend != "sqlite":
        pytest.skip("the TIGIT replay covers PostgreSQL")
    d = Database("sqlite", tmp_path, "")
    migrate(d.engine)
    load_vocab(d.engine, FIXTURE_VOCAB)
    results = replay(d.engine, DATA, sources=["covid"])
    releases = [r for step in results for r in step.releases]
    assert len(releases) == 190 and all(r.status == "done" for r in releases)  # one a file
    assert sum(r.n_added for r in releases) == 3605  # every study, once
    assert sum(r.n_quarantined for r in releases) == 0  # counted and reported, none here
    listed = {name.lower() for name, _, _ in unresolved_interventions(d.engine, limit=100_000)}
    ti, td = trial_intervention.c, trial_drug.c
    with d.engine.connect() as c:
        unlinked = {
            name.lower()
            for name in c.execute(
                select(ti.name)
                .select_from(
                    trial_intervention.outerjoin(
                        trial_drug, and_(td.nct_id == ti.nct_id, td.position == ti.position)
                    )
                )
                .where(ti.role.in_(DRUG_ROLES), td.drug_id.is_(None))
            ).scalars()
        }
        n_linked = c.execute(select(func.count()).select_from(trial_drug)).scalar()
    assert n_linked and unlinked and unlinked == listed  # every drug intervention: linked or listed
    mine, real = sightings(d.engine, COVID, tsv=True), oracle("covid")
    assert mine - real == set()
    assert real - mine == set()
    phase = list_events(d.engine, EventFilter(types=("phase_changed",), limit=1000))
    moves = Counter((tuple(ev.old), tuple(ev.new)) for ev in phase)
    assert moves[(("PHASE2",), ("PHASE3",))] >= 1
    assert moves[(("PHASE1",), ("PHASE1", "PHASE2"))] >= 1
    assert list_events(d.engine, EventFilter(types=("results_posted",)))
    d.drop()


def test_replay_killed_resumes_without_duplicates(tmp_path: Path, backend: str) -> None:
    """A real replay process killed with SIGKILL, run again: the same events as the raw files
    hold, each once."""
    if backend != "sqlite":
        pytest.skip("one backend is enough for the kill; the replay runs on both above")
    until = date(2026, 2, 20)
    d = Database("sqlite", tmp_path, "")
    migrate(d.engine)
    load_vocab(d.engine, FIXTURE_VOCAB)
    cmd = [
        sys.executable,
        "-m",
        "drugradar.cli",
        "--db",
        d.url,
        "replay",
        str(DATA),
        "--source",
        "tigit",
        "--until",
        until.isoformat(),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill once a few days are in, mid-series
        time.sleep(0.5)
        with d.engine.connect() as c:
            done = c.execute(
                text("select count(*) from source_release where source='ctgov' and status='done'")
            ).scalar()
        if done and done >= 3:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    assert sightings(d.engine, TIGIT) == oracle("tigit", until)
    with d.engine.connect() as c:
        dup = c.execute(
            select(event.c.key, func.count())
            .group_by(event.c.key, event.c.entity_id)
            .having(func.count() > 1)
        ).all()
        keys = [orjson.loads(r.new_value) for r in c.execute(select(event.c.new_value)).all()]
    assert keys and not dup
    d.drop()
