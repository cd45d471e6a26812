"""Trials loaded into the database and linked to drugs, diseases and organizations."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from drugradar.model.trial import ArmGroup, Intervention, Trial
from drugradar.resolve.orgs import org_key
from drugradar.store.schema import (
    record_change,
    source_record,
    trial,
    trial_condition,
    trial_drug,
    trial_intervention,
    trial_party,
)
from drugradar.trials.load import load_ctgov
from drugradar.trials.phase import trial_phase
from drugradar.trials.query import unresolved_interventions
from drugradar.trials.roles import role

from .test_ctgov_v2 import SAMPLE


@pytest.mark.parametrize(
    ("phases", "expected"),
    [
        (["PHASE1", "PHASE2"], "PHASE_1_2"),
        (["PHASE2", "PHASE3"], "PHASE_2_3"),
        (["EARLY_PHASE1"], "EARLY_PHASE_1"),
        (["PHASE4"], "PHASE_4"),
        (["NA"], "UNKNOWN"),
        ([], "UNKNOWN"),
    ],
)
def test_trial_phase(phases: list[str], expected: str) -> None:
    assert trial_phase(phases) == expected


def test_org_key() -> None:
    assert org_key("Merck Sharp & Dohme LLC") == org_key("Merck Sharp & Dohme Corp.")
    assert org_key("MERCK SHARP AND DOHME") == "merck sharp dohme"
    assert org_key("Les Laboratoires Servier S.A.S.") == "les laboratoires servier"
    assert org_key("Genentech, Inc.") != org_key("Amgen Inc.")


def test_roles() -> None:
    t = Trial("NCT00000001", "test")
    t.arm_groups = [
        ArmGroup("A", "EXPERIMENTAL"),
        ArmGroup("B", "PLACEBO_COMPARATOR"),
        ArmGroup("C", "ACTIVE_COMPARATOR"),
    ]
    new = Intervention("DRUG", "Tiragolumab", arm_groups=["A"])
    base = Intervention("DRUG", "Atezolizumab", arm_groups=["A", "B", "C"])
    comp = Intervention("DRUG", "Docetaxel", arm_groups=["C"])
    placebo = Intervention("DRUG", "Matching Placebo", arm_groups=["B"])
    device = Intervention("DEVICE", "Infusion pump", arm_groups=["A"])
    care = Intervention("OTHER", "Standard of care", arm_groups=["C"])
    assert [role(i, t)[0] for i in (new, base, comp, placebo, device, care)] == [
        "investigational", "background", "comparator", "placebo", "not_drug", "not_drug",
    ]  # fmt: skip


def test_load_links_interventions(loaded: Engine) -> None:
    rep = load_ctgov(loaded, [SAMPLE])
    assert rep.format == "v2-json" and rep.release.n_added == 36 and rep.trials_built == 36
    assert rep.linked > 0
    with loaded.connect() as c:
        sky = c.execute(select(trial).where(trial.c.nct_id == "NCT04256421")).one()
        assert (sky.phase, sky.overall_status, sky.source) == ("PHASE_3", "COMPLETED", "ctgov")
        assert sky.source_date == date(2026, 3, 14)
        roles = {
            r.name: r.role
            for r in c.execute(
                select(trial_intervention).where(trial_intervention.c.nct_id == "NCT04256421")
            )
        }
        assert roles["Tiragolumab"] == "investigational"
        assert roles["Atezolizumab"] == "background"
        links = c.execute(select(trial_drug).where(trial_drug.c.query == "Pembrolizumab")).all()
        assert links and {r.match_kind for r in links} == {"exact"}
        assert {r.matched_alias.lower() for r in links} == {"pembrolizumab"}
        lead = c.execute(
            select(trial_party).where(
                trial_party.c.nct_id == "NCT04303169", trial_party.c.role == "lead"
            )
        ).one()
        assert lead.norm_name == "merck sharp dohme" and lead.cls == "INDUSTRY"
        kinds = {
            r.kind
            for r in c.execute(
                select(trial_condition).where(trial_condition.c.nct_id == "NCT04256421")
            )
        }
        assert {"condition", "mesh", "ancestor"} <= kinds
    names = {n for n, _, _ in unresolved_interventions(loaded, 100)}
    assert "Laboratory Biomarker Analysis" not in names  # type OTHER, no drug name: not a drug
    assert any("COM902" in n for n in names)  # a new code, kept and listed


def test_snapshots_in_order_record_changes_and_older_ones_are_ignored(loaded: Engine) -> None:
    first = load_ctgov(loaded, [SAMPLE], as_of=date(2026, 2, 3))
    assert first.release.n_added > 0
    last = load_ctgov(loaded, [SAMPLE], as_of=date(2026, 3, 14))
    assert last.release.n_changed > 0
    again = load_ctgov(loaded, [SAMPLE], as_of=date(2026, 2, 10))
    assert again.release.n_older > 0 and again.release.n_changed == 0
    with loaded.connect() as c:
        fields = {
            r.field
            for r in c.execute(select(record_change).where(record_change.c.source == "ctgov"))
        }
    assert {"sites", "last_update_posted"} & fields and "nct_id" not in fields


def test_stored_raw_is_each_document_as_the_file_wrote_it(loaded: Engine) -> None:
    """The raw record kept for provenance comes back exactly as written (CRLF and all); the
    reader packs it, several times smaller than the text."""
    from drugradar.sources.base import unpack_raw

    from .test_ctgov_xml import TVEC_2018

    load_ctgov(loaded, [TVEC_2018])
    src = source_record.c
    with loaded.connect() as c:
        rows = c.execute(
            select(src.record_id, src.raw, src.raw_packed).where(src.source == "ctgov")
        ).all()
    files = {p.stem: p.read_bytes().decode() for p in TVEC_2018.glob("*.xml")}
    assert len(rows) == len(files) > 10 and {r.record_id for r in rows} == set(files)
    for r in rows:
        assert unpack_raw(r.raw, r.raw_packed) == files[r.record_id], r.record_id
        assert r.raw is None and len(r.raw_packed) * 2 < len(files[r.record_id])
    assert sum(len(r.raw_packed) for r in rows) * 3 < sum(len(t) for t in files.values())


def test_the_collector_is_off_for_the_whole_load_and_on_again_after(
    loaded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status rebuild and settling hold as many objects as the store: the cyclic collector
    stays off through them too (its full passes cost a trial load a tenth of its time)."""
    import gc

    from drugradar.devstatus import build
    from drugradar.trials import load

    seen: list[tuple[str, bool]] = []

    def spy(name: str, fn: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            seen.append((name, gc.isenabled()))
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(build, "rebuild", spy("rebuild", build.rebuild))
    monkeypatch.setattr(load, "settle", spy("settle", load.settle))
    assert gc.isenabled()
    load_ctgov(loaded, [SAMPLE])
    assert gc.isenabled()
    assert {name for name, _ in seen} == {"rebuild", "settle"}
    assert not any(enabled for _, enabled in seen)


def test_parent_companies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from drugradar.resolve.orgs import parent_map, parent_of

    assert parent_of("Genentech, Inc.") == ("roche", "Roche")
    assert parent_of("Merck Sharp & Dohme LLC") == ("merck", "Merck & Co.")
    assert org_key("Merck KGaA") != org_key("Merck & Co., Inc.")  # two companies
    assert parent_of("Kermanshah University of Medical Sciences")[1] == (
        "Kermanshah University of Medical Sciences"
    )  # no parent known: itself
    extra = tmp_path / "parents.csv"
    extra.write_text("organization,parent\nCompugen Ltd,Compugen Group\n", encoding="utf-8")
    monkeypatch.setenv("DRUGRADAR_ORG_PARENTS", str(extra))
    parent_map.cache_clear()
    assert parent_of("Compugen Ltd.")[1] == "Compugen Group"
    assert parent_of("Genentech")[1] == "Roche"  # the packaged rows still hold


def test_status_rows_carry_the_parent_company(loaded: Engine) -> None:
    from drugradar.store.schema import dev_status

    load_ctgov(loaded, [SAMPLE])
    with loaded.connect() as c:
        lead = c.execute(
            select(trial_party).where(
                trial_party.c.nct_id == "NCT04256421", trial_party.c.role == "lead"
            )
        ).one()
        assert (lead.name, lead.parent_name) == ("Hoffmann-La Roche", "Roche")
        parents = set(
            c.execute(
                select(dev_status.c.org_parent_name).where(dev_status.c.org_key == lead.norm_name)
            ).scalars()
        )
    assert parents == {"Roche"}


def test_load_leaves_planner_statistics_on_postgresql(loaded: Engine) -> None:
    """After a load PostgreSQL has statistics for the tables it wrote (without them it guessed
    two rows for a drug's hundreds of events); only this schema's tables are analyzed."""
    if loaded.dialect.name != "postgresql":
        pytest.skip("SQLite's planner needs no ANALYZE here")
    from sqlalchemy import text

    load_ctgov(loaded, [SAMPLE])
    with loaded.connect() as c:
        done = c.execute(
            text(
                "select relname from pg_stat_user_tables where schemaname = current_schema()"
                " and coalesce(last_analyze, last_autoanalyze) is not null"
            )
        ).scalars()
        assert {"event", "event_concern", "dev_status", "trial", "trial_drug"} <= set(done)


def _counting(fn: Any, sizes: list[int]) -> Any:
    """``fn`` (``load._replace``), noting the size of each batch it builds."""

    def wrapped(conn: Any, batch: Any, *args: Any) -> Any:
        sizes.append(len(batch))
        return fn(conn, batch, *args)

    return wrapped


def test_names_resolved_while_waiting_link_as_at_build_time(
    loaded: Engine,
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The background reader's load resolves names and makes each study's rows while it waits
    (``trials.prefetch``) and builds them as they are stored (``load.EarlyBuild``); its tables
    are exactly those of a load that does all at build time."""
    from drugradar.dictionary import load_vocab
    from drugradar.resolve import Resolver
    from drugradar.sources.base import Record
    from drugradar.store import migrate
    from drugradar.trials import load as trial_load
    from drugradar.trials.prefetch import Prefetch

    from .conftest import FIXTURE_VOCAB, Database

    resolver = Resolver(loaded, trial_born=False, bulk=True)
    prefetch = Prefetch(resolver)
    for rec in trial_load.read_records("v2-json", [SAMPLE], None):
        if isinstance(rec, Record):
            prefetch.feed(rec)
    steps = 0
    while prefetch.step():
        steps += 1
    assert steps > 1 and not prefetch.step()
    assert resolver.resolve_many(["Tiragolumab"])[0] is resolver.resolve("Tiragolumab")
    assert len(prefetch.made) == 36  # every study's rows, by record id and content hash
    prefetch.forget()
    assert not prefetch.made

    def links(engine: Engine) -> list[tuple[object, ...]]:
        out: list[tuple[object, ...]] = []
        with engine.connect() as c:
            for table in (trial, trial_intervention, trial_condition, trial_party, trial_drug):
                out += sorted((table.name, *r) for r in c.execute(select(table)).all())
        return out

    with monkeypatch.context() as late:  # small: read in this process, all built at the end
        built_early: list[int] = []
        late.setattr(trial_load.EarlyBuild, "__call__", lambda self, c, rows, records: None)
        late.setattr(trial_load, "_replace", _counting(trial_load._replace, built_early))
        load_ctgov(loaded, [SAMPLE])
        assert built_early == [36]  # one batch, after the store
    (tmp_path / "bg").mkdir()
    other = Database(backend, tmp_path / "bg", request.config.getoption("pg_url"))
    try:
        migrate(other.engine)
        load_vocab(other.engine, FIXTURE_VOCAB)
        used: list[int] = []

        class Eager(Prefetch):  # every study's rows made ahead, whatever the timing
            def feed(self, record: Record) -> None:
                super().feed(record)
                before = len(self.made)
                while self.step():
                    pass
                used.append(len(self.made) - before)

        built: list[int] = []
        monkeypatch.setattr(trial_load, "BACKGROUND_BYTES", 0)  # read in a second process
        monkeypatch.setattr(trial_load, "Prefetch", Eager)
        monkeypatch.setattr(trial_load, "_replace", _counting(trial_load._replace, built))
        rep = load_ctgov(other.engine, [SAMPLE])
        assert rep.release.n_added == 36 and sum(used) == 36
        assert built == [36]  # built in the store's transaction, not again after it
        assert links(other.engine) == links(loaded) != []
    finally:
        other.drop()


def test_a_series_with_versions_apart_is_read_again_and_loads_the_same(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version file is read as a stream (each study's versions on consecutive lines); one
    whose versions lie apart is found so, rolled back and read again to the end: the versions
    chosen and the counts are those of the grouped file, with one release row."""
    import lzma

    from sqlalchemy import func

    from drugradar.dictionary import ingest
    from drugradar.sources.ctgov_v2 import NotGrouped, read
    from drugradar.store.schema import source_release

    with lzma.open(SAMPLE) as fh:
        lines = [ln for ln in fh.read().splitlines() if ln.strip()]
    apart = sorted(
        lines, key=lambda ln: (json.loads(ln)["version_index"], json.loads(ln)["nct_id"])
    )
    assert apart != lines
    path = tmp_path / "apart.jsonl"
    path.write_bytes(b"\n".join(apart) + b"\n")
    streamed = list(read([path], grouped=True))
    assert isinstance(streamed[-1], NotGrouped) and len(streamed) > 5

    monkeypatch.setattr(ingest, "FLUSH_ROWS", 2)  # studies built before the reader gives up
    rep = load_ctgov(loaded, [path])
    assert rep.release.status == "done" and rep.release.n_added == 36
    with loaded.connect() as c:
        releases = c.execute(
            select(source_release.c.status).where(source_release.c.file_name == "apart.jsonl")
        ).all()
        n_iv = c.execute(select(func.count()).select_from(trial_intervention)).scalar()
        n_linked = c.execute(
            select(func.count()).select_from(
                select(trial_drug.c.nct_id, trial_drug.c.position).distinct().subquery()
            )
        ).scalar()
    assert [r.status for r in releases] == ["done"]
    assert rep.interventions == n_iv > 0 and rep.linked == n_linked > 0  # counted once
    again = load_ctgov(loaded, [SAMPLE])  # the same versions, grouped: nothing new
    assert again.release.status == "done"
    assert (again.release.n_added, again.release.n_changed) == (0, 0)
