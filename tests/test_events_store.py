"""Events as stored: one real-world event however many sources show it, a change back and forth
kept as separate events, concerns resolved, noise never stored (both backends)."""

from __future__ import annotations

import lzma
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, func, insert, select, update

from drugradar.dictionary import load_vocab
from drugradar.model.event import Change, Materiality
from drugradar.resolve.orgs import org_key
from drugradar.sources import drugsatfda
from drugradar.sources.base import Record
from drugradar.store.schema import event, event_concern, event_source, source_record, source_release
from drugradar.track import concerns
from drugradar.track.query import EventFilter, list_events
from drugradar.track.rules import Context, rule_for
from drugradar.track.store import Sighting, save
from drugradar.trials.load import load_ctgov

from .conftest import FIXTURE_VOCAB, SHARED_VOCAB

DATA = SHARED_VOCAB.parent
TIGIT = DATA / "ctgov" / "v2-daily-tigit-2026" / "tigit_versions.jsonl.xz"


def new_release(engine: Engine, source: str, day: date) -> int:
    with engine.begin() as c:
        pk = c.execute(
            insert(source_release).values(
                source=source,
                file_name=f"test release {source} {day}",
                sha256=f"{source}-{day}-{datetime.now(UTC).timestamp()}",
                release_date=day,
                status="done",
                started_at=datetime.now(UTC),
                n_records=0,
                n_added=0,
                n_changed=0,
                n_removed=0,
                n_quarantined=0,
            )
        ).inserted_primary_key
    assert pk is not None
    return int(pk[0])


def status_change(old: str, new: str) -> Change:
    """A synthetic draft (not real data): a trial's status moving."""
    return Change(
        "clinical_trial",
        "status_changed",
        "trial",
        "NCT00000000",
        f"status {old} -> {new}",
        field="overall_status",
        old=old,
        new=new,
        materiality=Materiality.MEDIUM,
        concerns=[("drug", "D-synthetic")],
    )


def test_same_change_in_two_sources_is_one_event(engine: Engine) -> None:
    r1 = new_release(engine, "ctgov", date(2020, 5, 1))
    r2 = new_release(engine, "ctgov_other_format", date(2020, 5, 3))
    with engine.begin() as c:
        first = save(
            c,
            [
                (
                    status_change("RECRUITING", "SUSPENDED"),
                    Sighting("ctgov", "NCT00000000", r1, date(2020, 5, 1)),
                )
            ],
        )
        again = save(
            c,
            [
                (
                    status_change("ACTIVE_NOT_RECRUITING", "SUSPENDED"),
                    Sighting("ctgov_other_format", "NCT00000000", r2, date(2020, 5, 3)),
                )
            ],
        )
    assert (first.new, first.merged, again.new, again.merged) == (1, 0, 0, 1)
    (ev,) = list_events(engine, EventFilter(entity=("trial", "NCT00000000")))
    assert ev.as_of == date(2020, 5, 1)  # first seen
    assert [s.source for s in ev.sources] == ["ctgov", "ctgov_other_format"]
    assert ev.concerns == [("drug", "D-synthetic")]


def test_a_change_back_and_forth_is_three_events(engine: Engine) -> None:
    r = new_release(engine, "ctgov", date(2020, 5, 1))
    moves = [("RECRUITING", "SUSPENDED"), ("SUSPENDED", "RECRUITING"), ("RECRUITING", "SUSPENDED")]
    for n, (a, b) in enumerate(moves):
        with engine.begin() as c:
            save(
                c,
                [(status_change(a, b), Sighting("ctgov", "NCT00000000", r, date(2020, 5, 1 + n)))],
            )
    found = list_events(engine, EventFilter(entity=("trial", "NCT00000000")))
    assert [(e.old, e.new) for e in reversed(found)] == moves


def test_many_new_events_get_their_own_sightings_and_concerns(engine: Engine) -> None:
    """Synthetic drafts (not real data), more than one insert batch, saved after an event that
    was deleted again: each stored event carries its own sighting and concern, whichever way the
    backend hands out the new ids."""
    r = new_release(engine, "ctgov", date(2020, 5, 1))
    day = date(2020, 5, 1)

    def draft(n: int) -> tuple[Change, Sighting]:
        nct = f"NCT9{n:07d}"
        change = Change(
            "clinical_trial",
            "status_changed",
            "trial",
            nct,
            f"status of {nct}",
            field="overall_status",
            old="RECRUITING",
            new="SUSPENDED",
            materiality=Materiality.MEDIUM,
            concerns=[("drug", f"D-synthetic-{n}")],
        )
        return change, Sighting("ctgov", nct, r, day)

    with engine.begin() as c:
        save(c, [draft(0), draft(1)])
        top = c.execute(select(func.max(event.c.id))).scalar_one()
        c.execute(event_concern.delete().where(event_concern.c.event_id == top))
        c.execute(event_source.delete().where(event_source.c.event_id == top))
        c.execute(event.delete().where(event.c.id == top))
    with engine.begin() as c:
        report = save(c, [draft(n) for n in range(2, 2502)])
    assert (report.new, report.merged) == (2500, 0)
    with engine.connect() as c:
        events = dict(c.execute(select(event.c.id, event.c.entity_id)).all())
        sightings = c.execute(select(event_source.c.event_id, event_source.c.record_id)).all()
        concerned = c.execute(select(event_concern.c.event_id, event_concern.c.ref)).all()
    assert len(events) == 2501
    assert sorted(sightings) == sorted(events.items())
    assert sorted(concerned) == sorted(
        (i, f"D-synthetic-{int(nct[4:])}") for i, nct in events.items()
    )


def test_fda_application_and_its_original_submission_are_one_event(engine: Engine) -> None:
    """Real Drugs@FDA records of 2019: the application list and the submissions file both show
    a new original approval; the store keeps one event with both sightings."""
    (apps, subs) = [
        {r.record_id: r.data for r in spec.parse(paths) if isinstance(r, Record)}
        for spec, name, paths, _ in drugsatfda.releases(DATA / "fda" / "drugsatfda")
        if name == "2019-07_full" and spec.name in ("fda_applications", "fda_submissions")
    ]
    appl = next(k for k in sorted(apps) if subs.get(f"{k}/ORIG/1", {}).get("status") == "AP")
    day = date(2019, 7, 1)
    drafts = []
    for source, rid, data in (
        ("fda_applications", appl, apps[appl]),
        ("fda_submissions", f"{appl}/ORIG/1", subs[f"{appl}/ORIG/1"]),
    ):
        rule = rule_for(source)
        assert rule is not None
        (change,) = rule(Context(source, day, False, window_days=100000), rid, None, data)
        drafts.append((change, Sighting(source, rid, new_release(engine, source, day), day)))
    with engine.begin() as c:
        report = save(c, drafts)
    assert (report.new, report.merged) == (1, 1)
    (ev,) = list_events(engine, EventFilter(types=("new_approval",)))
    assert {s.source for s in ev.sources} == {"fda_applications", "fda_submissions"}


def test_hints_resolve_to_drugs_and_targets(loaded: Engine) -> None:
    r = new_release(loaded, "ema_medicines", date(2025, 3, 1))
    change = Change(
        "approval",
        "new_approval",
        "medicine",
        "EMEA/H/C/synthetic",
        "a synthetic authorisation naming a real substance",
        concerns=[("name", "Nivolumab")],
    )
    with loaded.begin() as c:
        save(c, [(change, Sighting("ema_medicines", "synthetic", r, date(2025, 3, 1)))])
    assert len(concerns.attach(loaded)) == 1
    (ev,) = list_events(loaded, EventFilter(types=("new_approval",)))
    kinds = {k for k, _ in ev.concerns}
    assert {"drug", "target"} <= kinds
    assert ("target", "PDCD1") in ev.concerns


def test_new_names_of_known_drugs_are_dictionary_events(engine: Engine) -> None:
    """The real UNII release of 2025-06 names nivolumab's new subcutaneous brand."""
    load_vocab(engine, FIXTURE_VOCAB, until=date(2025, 3, 1))
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(event)).scalar() == 0  # baseline
    load_vocab(engine, FIXTURE_VOCAB)
    found = list_events(engine, EventFilter(families=("dictionary",), limit=1000))
    brands = {(e.type, str(e.new)) for e in found}
    assert ("new_brand", "OPDIVO QVANTIG") in brands
    assert all(e.materiality is Materiality.LOW and e.sources for e in found)


def _study(path: Path) -> dict[str, Any]:
    with lzma.open(path) as fh:
        wrapper = orjson.loads(fh.readline())
    return dict(wrapper["study"])


def test_noise_never_becomes_an_event(loaded: Engine, tmp_path: Path) -> None:
    """A real study re-served with only a new versionHolder, whitespace and list order changed;
    then stored by an "older parser" without a field the new one reads: no change events."""
    study = _study(TIGIT)
    day1 = tmp_path / "day1.json"
    day1.write_bytes(orjson.dumps(study))
    load_ctgov(loaded, [day1], as_of=date(2026, 2, 3))
    noisy = orjson.loads(orjson.dumps(study))
    misc = noisy.setdefault("derivedSection", {}).setdefault("miscInfoModule", {})
    misc["versionHolder"] = "2026-02-04"
    ident = noisy["protocolSection"]["identificationModule"]
    ident["briefTitle"] = "  " + ident["briefTitle"].replace(" ", "   ") + " "
    conds = noisy["protocolSection"].get("conditionsModule", {}).get("conditions", [])
    conds.reverse()
    day2 = tmp_path / "day2.json"
    day2.write_bytes(orjson.dumps(noisy))
    load_ctgov(loaded, [day2], as_of=date(2026, 2, 4))
    nct = ident["nctId"]
    with loaded.begin() as c:  # what an older parser stored: no ``why_stopped`` key at all
        data = orjson.loads(
            c.execute(
                select(source_record.c.data).where(source_record.c.record_id == nct)
            ).scalar_one()
        )
        data.pop("why_stopped", None)
        c.execute(
            update(source_record)
            .where(source_record.c.record_id == nct)
            .values(data=orjson.dumps(data).decode(), content_hash="older parser")
        )
    status = noisy["protocolSection"]["statusModule"]
    status["whyStopped"] = "a reason the older parser never read"
    day3 = tmp_path / "day3.json"
    day3.write_bytes(orjson.dumps(noisy))
    load_ctgov(loaded, [day3], as_of=date(2026, 2, 5))
    with loaded.connect() as c:
        types = c.execute(select(event.c.type)).scalars().all()
        sources = c.execute(select(func.count()).select_from(event_source)).scalar()
    assert types == ["first_seen"] and sources == 1


def test_trial_events_concern_the_trial_sponsor(loaded: Engine, tmp_path: Path) -> None:
    study = _study(TIGIT)
    path = tmp_path / "study.json"
    path.write_bytes(orjson.dumps(study))
    load_ctgov(loaded, [path], as_of=date(2026, 2, 3))
    sponsor = study["protocolSection"]["sponsorCollaboratorsModule"]["leadSponsor"]["name"]
    with loaded.connect() as c:
        orgs = c.execute(
            select(event_concern.c.ref).where(event_concern.c.kind == "organization")
        ).scalars()
        done = c.execute(select(event.c.concerns_done)).scalars().all()
    assert org_key(sponsor) in set(orgs)
    assert done == [True]


def _stored_events(engine: Engine) -> list[tuple[Any, ...]]:
    e, es = event.c, event_source.c
    with engine.connect() as c:
        sightings = dict(
            c.execute(select(es.event_id, func.count()).group_by(es.event_id)).tuples().all()
        )
        rows = c.execute(
            select(e.id, e.family, e.type, e.entity_id, e.field, e.old_value, e.new_value)
            .add_columns(e.baseline, e.as_of, e.release_id)
            .order_by(e.id)
        ).all()
    return [(*r[1:], sightings.get(r.id, 0)) for r in rows]


def test_events_saved_group_by_group_are_those_of_one_save(
    engine: Engine, tmp_path: Path, monkeypatch: Any
) -> None:
    """A load saves the events of new records as it writes them, a group at a time, so that a
    first load of a whole registry does not hold them all to the end; what it stores is what
    one save at the end stored: the same events, in the same order, with the same sightings."""
    from drugradar.dictionary import ingest
    from drugradar.store import make_engine, migrate
    from drugradar.track import observe

    from .test_ctgov_xml import TVEC_2018, TVEC_2020

    sizes: list[int] = []
    real = observe.save

    def spy(conn: Any, drafts: list[Any]) -> Any:
        sizes.append(len(drafts))
        return real(conn, drafts)

    monkeypatch.setattr(observe, "save", spy)
    monkeypatch.setattr(ingest, "FLUSH_ROWS", 4)
    for path in (TVEC_2018, TVEC_2020):
        load_ctgov(engine, [path])
    grouped = _stored_events(engine)
    saves_grouped = len(sizes)

    monkeypatch.setattr(ingest, "FLUSH_ROWS", 100_000)
    sizes.clear()
    once = make_engine(f"sqlite:///{tmp_path / 'once.db'}")
    migrate(once)
    for path in (TVEC_2018, TVEC_2020):
        load_ctgov(once, [path])
    assert len(sizes) <= 3 < saves_grouped  # at the end of each load (new, then changed)
    assert _stored_events(once) == grouped
    assert len(grouped) > 20 and {r[1] for r in grouped if not r[6]}  # changes, not only new
    once.dispose()
