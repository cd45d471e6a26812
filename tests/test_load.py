"""Loading the vocabulary: idempotent, in-place updates with history, quarantine, resumable."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select

from drugradar.dictionary import load_vocab
from drugradar.dictionary.ingest import load_release
from drugradar.sources import unii
from drugradar.sources.base import Parsed, SourceSpec, Waiting
from drugradar.sources.registry import Release, vocab_releases
from drugradar.store.schema import (
    drug,
    drug_class,
    drug_indication,
    drug_target,
    drug_xref,
    quarantine,
    record_change,
    salt_form,
    source_record,
    source_release,
    synonym,
)

from .conftest import FIXTURE_VOCAB

FACT_TABLES = [drug, drug_xref, synonym, salt_form, drug_target, drug_indication, drug_class]


def count(engine: Engine, table: object, *where: object) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table).where(*where)).scalar() or 0)  # type: ignore[arg-type]


def snapshot(engine: Engine) -> dict[str, int]:
    return {t.name: count(engine, t) for t in FACT_TABLES}


def test_load_builds_the_dictionary_with_provenance(loaded: Engine) -> None:
    sizes = snapshot(loaded)
    assert all(n > 0 for n in sizes.values()), sizes
    for t in FACT_TABLES:  # every fact says where it came from, as of when, under which licence
        assert count(loaded, t, t.c.source.is_(None)) == 0
        assert count(loaded, t, t.c.source_record_id.is_(None)) == 0
        assert count(loaded, t, t.c.licence.is_(None)) == 0
        assert count(loaded, t, t.c.source_date.is_(None)) == 0
    nc = count(loaded, drug_target, drug_target.c.licence.like("%NC%"))
    assert nc > 0, "DrugBank targets are marked non-commercial"


def test_loading_twice_changes_nothing(loaded: Engine) -> None:
    before = snapshot(loaded)
    with loaded.connect() as c:
        ids_before = set(c.execute(select(drug.c.id)).scalars())
    summary = load_vocab(loaded, FIXTURE_VOCAB)
    assert {r.status for r in summary.releases} == {"skipped"}
    assert not summary.rebuilt
    forced = load_vocab(loaded, FIXTURE_VOCAB, force=True)  # re-read every file anyway
    assert all(r.n_added == r.n_changed == r.n_removed == 0 for r in forced.releases)
    assert all(c.inserted == c.updated == c.deleted == 0 for c in forced.tables.values())
    assert snapshot(loaded) == before
    with loaded.connect() as c:
        assert set(c.execute(select(drug.c.id)).scalars()) == ids_before


def _folder_with(tmp: Path, unii_files: Sequence[str]) -> Path:
    dst = tmp / "vocab"
    shutil.copytree(FIXTURE_VOCAB, dst)
    for f in (dst / "unii").iterdir():
        if f.name not in unii_files:
            f.unlink()
    return dst


def test_newer_release_updates_in_place_and_keeps_history(engine: Engine, tmp_path: Path) -> None:
    names = sorted(p.name for p in (FIXTURE_VOCAB / "unii").iterdir())
    old, new = names  # 1.2.2 (2025-03), 1.2.7 (2025-06)
    folder = _folder_with(tmp_path, [old])
    load_vocab(engine, folder)
    with engine.connect() as c:
        ids_before = set(c.execute(select(drug.c.id)).scalars())
    shutil.copy(FIXTURE_VOCAB / "unii" / new, folder / "unii" / new)
    summary = load_vocab(engine, folder)
    rep = next(r for r in summary.releases if r.label == new)
    assert rep.status == "done" and rep.n_changed > 0 and rep.n_added > 0 and rep.n_removed > 0
    assert summary.rebuilt
    with engine.connect() as c:
        changes = c.execute(
            select(record_change).where(
                record_change.c.change == "changed", record_change.c.source == "unii"
            )
        ).all()
        assert len({ch.record_id for ch in changes}) == rep.n_changed
        assert {ch.field for ch in changes} <= {"display", "names"}
        ch = next(ch for ch in changes if ch.field == "names")
        added, removed = orjson.loads(ch.new_value), orjson.loads(ch.old_value)
        assert added or removed
        data = orjson.loads(
            c.execute(
                select(source_record.c.data).where(
                    source_record.c.source == "unii", source_record.c.record_id == ch.record_id
                )
            ).scalar_one()
        )
        for item in added:  # the stored record is the new version
            assert item in data["names"]
        for item in removed:
            assert item not in data["names"]
        ids_after = set(c.execute(select(drug.c.id).where(drug.c.retired.is_(False))).scalars())
        retired = set(c.execute(select(drug.c.id).where(drug.c.retired.is_(True))).scalars())
        n_removed = c.execute(
            select(func.count())
            .select_from(record_change)
            .where(record_change.c.change == "removed", record_change.c.source == "unii")
        ).scalar()
    assert n_removed == rep.n_removed
    assert ids_before <= ids_after | retired  # ids are stable: none vanished, some retired
    assert retired, "a substance gone from the newer UNII release retires its drug"


def test_malformed_rows_are_quarantined_and_the_load_goes_on(
    engine: Engine, tmp_path: Path
) -> None:
    folder = _folder_with(tmp_path, [])
    bad = folder / "unii" / "UNII_Names_2025-09-01.txt.gz"
    good = sorted((FIXTURE_VOCAB / "unii").iterdir())[-1]
    with gzip.open(good, "rb") as fh:
        lines = fh.read().splitlines()
    lines.insert(5, b"BROKEN\tROW")
    lines.insert(9, b"CAF\xe9\tcn\t3G6A5W338E\tCAFFEINE")
    with gzip.open(bad, "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n")
    summary = load_vocab(engine, folder)
    rep = next(r for r in summary.releases if r.source == "unii")
    assert rep.status == "done" and rep.n_quarantined == 2 and rep.n_records > 100
    with engine.connect() as c:
        rows = c.execute(select(quarantine).order_by(quarantine.c.line)).all()
    assert [(r.source, r.file_name, r.line) for r in rows] == [
        ("unii", bad.name, 6),
        ("unii", bad.name, 10),
    ]
    assert rows[0].reason == "expected 4 tab-separated columns, found 2"
    assert rows[1].reason == "line is not valid UTF-8"


class Boom(RuntimeError):
    pass


def test_a_load_killed_halfway_leaves_nothing_and_resumes(engine: Engine) -> None:
    release = next(r for r in vocab_releases(FIXTURE_VOCAB) if r.spec.name == "unii")

    def dying_parse(paths: Sequence[Path]) -> Iterator[Parsed]:
        for i, item in enumerate(unii.parse(paths)):
            if i == 300:
                raise Boom("killed")
            yield item

    dying = Release(
        SourceSpec(unii.SPEC.name, unii.SPEC.licence, unii.SPEC.title, dying_parse),
        release.label,
        release.paths,
        release.release_date,
    )
    with pytest.raises(Boom):
        load_release(engine, dying)
    assert count(engine, source_record) == 0
    assert count(engine, source_release, source_release.c.status == "failed") == 1
    report = load_release(engine, release)
    assert report.status == "done" and report.n_added == report.n_records
    assert count(engine, source_record) == report.n_records
    assert count(engine, source_release) == 1  # the failed attempt became the done release
    assert load_release(engine, release).status == "skipped"


def test_records_held_are_written_while_the_reader_has_nothing_ready(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``Waiting`` from the parser (its reader process has nothing ready) makes the store write
    the new records it holds, when they are enough to be worth a group; the rest wait for the
    next group or the end. Every record is stored once."""
    from drugradar.dictionary import ingest
    from drugradar.sources.base import WAITING, Record

    release = next(r for r in vocab_releases(FIXTURE_VOCAB) if r.spec.name == "unii")
    records = [r for r in unii.parse(release.paths) if isinstance(r, Record)][:75]
    assert len(records) == 75
    monkeypatch.setattr(ingest, "WAITING_ROWS", 20)
    groups: list[list[str]] = []

    def parse(_: Sequence[Path]) -> Iterator[Parsed | Waiting]:
        yield WAITING  # nothing held yet: nothing written
        yield from records[:30]
        yield WAITING  # 30 held: written
        yield from records[30:40]
        yield WAITING  # 10 held: too few, kept
        yield from records[40:]

    def stored(_: object, rows: list[dict[str, object]], recs: list[Record]) -> None:
        assert [r["record_id"] for r in rows] == [r.record_id for r in recs]
        groups.append([r.record_id for r in recs])

    spec = SourceSpec(unii.SPEC.name, unii.SPEC.licence, unii.SPEC.title, parse, stored=stored)
    report = load_release(engine, Release(spec, release.label, release.paths, release.release_date))
    assert [len(g) for g in groups] == [30, 45]
    assert [rid for g in groups for rid in g] == [r.record_id for r in records]
    assert report.n_added == 75 and count(engine, source_record) == 75
