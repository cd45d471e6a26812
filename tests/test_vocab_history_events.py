"""Replaying the real dated vocabulary series (all 14 DrugCentral drug-target revisions, both WHO
ATC versions): every real change is an event and no event lacks one, checked against an
independent reading of the raw files with the standard library alone."""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from drugradar.dictionary import load_vocab
from drugradar.store import migrate
from drugradar.store.schema import (
    atc_ddd,
    drug,
    drug_class,
    event,
    event_concern,
    event_source,
    record_change,
    source_release,
)
from drugradar.track.catalogue import CATALOGUE
from drugradar.track.replay import replay

from .conftest import FIXTURE_VOCAB, SHARED_VOCAB, Database

pytestmark = pytest.mark.xdist_group("vocab_history")
DATA = SHARED_VOCAB.parent
SERIES = ["drugcentral_history", "atc"]
KIND = {  # drugradar event type -> the oracle's kind
    "target_added": "added",
    "target_removed": "removed",
    "target_action_changed": "action",
    "atc_added": "added",
    "atc_removed": "removed",
    "atc_renamed": "renamed",
}


# -- the oracle: the raw files, standard library only ---------------------------------------


def _day(name: str) -> str:
    found = re.search(r"\d{4}-\d{2}-\d{2}", name)
    assert found
    return found.group(0)


def drugcentral_oracle() -> set[tuple[str, str, str]]:
    """(day, kind, "drug/accession") between consecutive revisions: a pair of DRUG_ID and one
    UniProt accession appearing, leaving, or its set of action types changing."""
    out: set[tuple[str, str, str]] = set()
    prev: dict[str, set[str]] | None = None
    for f in sorted((SHARED_VOCAB / "drugcentral-2016" / "history_drug_target").glob("*.gz")):
        cur: dict[str, set[str]] = {}
        with gzip.open(f, "rt", encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                act = " ".join(row["ACTION_TYPE"].upper().split())
                for acc in row["UNIPROT"].split("|"):
                    cur.setdefault(f"{row['DRUG_ID']}/{acc}", set()).update({act} - {""})
        if prev is not None:
            day = _day(f.name)
            out |= {(day, "added", k) for k in cur.keys() - prev.keys()}
            out |= {(day, "removed", k) for k in prev.keys() - cur.keys()}
            out |= {(day, "action", k) for k in cur.keys() & prev.keys() if cur[k] != prev[k]}
        prev = cur
    return out


def atc_oracle() -> set[tuple[str, str, str]]:
    """(day, kind, code) of 7-character codes between the two versions; a rename must change
    more than case, spacing or punctuation."""
    out: set[tuple[str, str, str]] = set()
    prev: dict[str, str] | None = None
    for f in sorted((SHARED_VOCAB / "atc").glob("WHO_ATC-DDD_*.csv")):
        with f.open(encoding="utf-8", newline="") as fh:
            cur = {
                r["atc_code"]: r["atc_name"] for r in csv.DictReader(fh) if len(r["atc_code"]) == 7
            }
        if prev is not None:
            day, key = _day(f.name), lambda s: re.sub(r"[\W_]+", "", s.casefold())
            out |= {(day, "added", c) for c in cur.keys() - prev.keys()}
            out |= {(day, "removed", c) for c in prev.keys() - cur.keys()}
            out |= {
                (day, "renamed", c) for c in cur.keys() & prev.keys() if key(cur[c]) != key(prev[c])
            }
        prev = cur
    return out


def sightings(engine: Engine, source: str) -> set[tuple[str, str, str]]:
    """(day, oracle kind, record id) of every event a source's records showed."""
    e, s = event.c, event_source.c
    with engine.connect() as c:
        rows = c.execute(
            select(s.as_of, e.type, s.record_id)
            .join(event, e.id == s.event_id)
            .where(s.source == source)
        ).all()
    return {(r.as_of.isoformat(), KIND[r.type], r.record_id) for r in rows}


# -- one replay of both series, resumed once ----------------------------------------------


@pytest.fixture(scope="module")
def series_db(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    """The fixture dictionary, then both real series replayed: stopped after 2015-07-02 and
    resumed (the releases loaded are recognised by hash), as after a kill between releases."""
    d = Database(backend, tmp_path_factory.mktemp("series"), request.config.getoption("pg_url"))
    migrate(d.engine)
    load_vocab(d.engine, FIXTURE_VOCAB)
    replay(d.engine, DATA, sources=SERIES, until=date(2015, 7, 2))
    replay(d.engine, DATA, sources=SERIES)
    yield d.engine
    d.drop()


def test_drugcentral_events_are_exactly_the_real_changes(series_db: Engine) -> None:
    mine, real = sightings(series_db, "drugcentral_history"), drugcentral_oracle()
    assert len(real) > 800, "the oracle found the revisions' changes"
    assert mine - real == set(), "an event without a real change"
    assert real - mine == set(), "a real change without an event"


def test_atc_events_are_exactly_the_real_changes(series_db: Engine) -> None:
    mine, real = sightings(series_db, "who_atc"), atc_oracle()
    assert Counter(k for _, k, _ in real)["added"] > 500
    assert mine - real == set(), "an event without a real change"
    assert real - mine == set(), "a real change without an event"


def test_layout_changes_and_references_make_no_events(series_db: Engine) -> None:
    """2015-08-13 added TARGET_FAMILY and GENE, 2015-09-17 SWISSPROT: nearly every record
    changed, yet only the oracle's changes are events."""
    rc, sr = record_change.c, source_release.c
    real = Counter(day for day, _, _ in drugcentral_oracle())
    with series_db.connect() as c:
        for day in ("2015-08-13", "2015-09-17"):
            changed = c.execute(
                select(func.count(func.distinct(rc.record_id)))
                .join(source_release, sr.id == rc.release_id)
                .where(sr.source == "drugcentral_history", sr.file_name.contains(day))
                .where(rc.change == "changed")
            ).scalar()
            assert changed and changed > 3000 and changed > 10 * real[day]
        events = c.execute(
            select(event.c.family, event.c.type, event.c.old_value, event.c.new_value).where(
                event.c.family == "dictionary"
            )
        ).all()
    assert {(r.family, r.type) for r in events} <= set(CATALOGUE)
    assert all(r.old_value != r.new_value for r in events)


def test_first_release_is_a_baseline(series_db: Engine) -> None:
    with series_db.connect() as c:
        days = set(
            c.execute(
                select(event_source.c.as_of).where(
                    event_source.c.source.in_(("drugcentral_history", "who_atc"))
                )
            ).scalars()
        )
    assert date(2015, 5, 29) not in days and date(2021, 12, 3) not in days


def test_atc_links_drugs_as_classes_with_concerns(series_db: Engine) -> None:
    """T-VEC moved from L01XX51 (2021) to L01XL02 (2026): a removal and an addition, both
    about the drug; its class now comes from L01XL02's group, with the WHO's licence."""
    with series_db.connect() as c:
        tvec = c.execute(
            select(drug.c.id).where(drug.c.preferred_name.ilike("talimogene laherparepvec"))
        ).scalar_one()
        cls = c.execute(
            select(drug_class).where(drug_class.c.drug_id == tvec, drug_class.c.source == "who_atc")
        ).one()
        about = c.execute(
            select(event.c.type, event.c.entity_id)
            .join(event_concern, event_concern.c.event_id == event.c.id)
            .where(event_concern.c.kind == "drug", event_concern.c.ref == tvec)
            .where(event.c.family == "dictionary")
        ).all()
        pending = c.execute(
            select(func.count()).select_from(event).where(event.c.concerns_done.is_(False))
        ).scalar()
        doses = c.execute(select(atc_ddd).where(atc_ddd.c.code == "A02BA01")).all()
    assert (cls.class_type, cls.class_source_id, cls.source_record_id) == (
        "ATC",
        "L01XL02",
        "L01XL02",
    )
    assert cls.name == "L01XL Antineoplastic cell and gene therapy"
    assert cls.licence.startswith("NC")
    assert cls.source_date == date(2026, 4, 25)
    assert {(r.type, r.entity_id) for r in about} == {
        ("atc_removed", "L01XX51"),
        ("atc_added", "L01XL02"),
    }
    assert pending == 0
    assert {(r.route, r.ddd, r.uom) for r in doses} == {("O", "0.8", "g"), ("P", "0.8", "g")}


def test_target_events_concern_the_drug_and_its_gene(series_db: Engine) -> None:
    """Prazosin's action on alpha-1 receptors turned from antagonist to inverse agonist."""
    with series_db.connect() as c:
        ev = c.execute(
            select(event.c.id, event.c.old_value, event.c.new_value, event.c.materiality).where(
                event.c.entity_id == "drugcentral:4209/P35348"
            )
        ).one()
        concerns = set(
            c.execute(
                select(event_concern.c.kind, event_concern.c.ref).where(
                    event_concern.c.event_id == ev.id
                )
            ).tuples()
        )
        prazosin = c.execute(
            select(drug.c.id).where(drug.c.preferred_name.ilike("prazosin"))
        ).scalar_one()
    assert (ev.old_value, ev.new_value, ev.materiality) == (
        '"ANTAGONIST"',
        '"INVERSE AGONIST"',
        "low",
    )
    assert {("drug", prazosin), ("target", "ADRA1A")} <= concerns


def test_replay_again_adds_nothing(series_db: Engine) -> None:
    with series_db.connect() as c:
        before = c.execute(select(func.count()).select_from(event)).scalar()
    results = replay(series_db, DATA, sources=SERIES)
    assert all(r.status == "skipped" for step in results for r in step.releases)
    with series_db.connect() as c:
        assert c.execute(select(func.count()).select_from(event)).scalar() == before
        dup = c.execute(
            select(event.c.key, func.count())
            .group_by(event.c.key, event.c.release_id)
            .having(func.count() > 1)
        ).all()
    assert not dup


@pytest.mark.skipif(not Path(DATA / "vocab" / "atc").is_dir(), reason="needs the shared data")
def test_plan_names_both_series_in_date_order() -> None:
    from drugradar.track.replay import plan

    steps = {s.name: s.first for s in plan(DATA)}
    assert steps["drugcentral_history"] == date(2015, 5, 29)
    assert steps["atc"] == date(2021, 12, 3)


def test_profile_gives_the_who_defined_daily_doses(series_db: Engine) -> None:
    """A drug whose ATC codes have DDDs: the profile and the article's "How it is given" show
    each dose with its route in words, unit and source (the drug found in the data, not named)."""
    from drugradar.profile.view import ROUTES, profile_of
    from drugradar.web.article import how_given

    dc = drug_class.c
    with series_db.connect() as c:
        did, code = c.execute(
            select(dc.drug_id, dc.class_source_id)
            .join(atc_ddd, atc_ddd.c.code == dc.class_source_id)
            .where(dc.class_type == "ATC", atc_ddd.c.route.in_(("O", "P")))
            .order_by(dc.drug_id)
            .limit(1)
        ).one()
        codes = c.execute(
            select(dc.class_source_id).where(dc.drug_id == did, dc.class_type == "ATC")
        ).scalars()
        real = {
            (ROUTES.get(r.route, r.route.lower()), r.ddd, r.uom)
            for r in c.execute(select(atc_ddd).where(atc_ddd.c.code.in_(list(codes))))
        }
    prof = profile_of(series_db, did)
    assert prof is not None
    doses = {(d["route"], d["ddd"], d["unit"]) for d in prof["doses"]}
    assert doses == real and any(d["atc"] == code for d in prof["doses"])
    assert all(d["sources"][0]["source"] == "who_atc" for d in prof["doses"])
    sec = how_given(prof)
    texts = [i["text"] for i in sec.items]
    assert any(t.startswith("WHO defined daily dose:") for t in texts)
    assert any(t.endswith((", oral", ", parenteral")) for t in texts)
    assert any(c.source == "who_atc" for c in sec.cites)
