"""The dated vocabulary series' parsers (DrugCentral drug-target revisions, WHO ATC versions), on
fixtures cut from the real files by ``fixtures/make_vocab_history_fixture.py``, and their rules'
noise on hand-made versions of real records."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select

from drugradar.dictionary import load_vocab
from drugradar.sources import drugcentral_history, who_atc
from drugradar.sources.base import Record, Rejected
from drugradar.sources.registry import vocab_releases
from drugradar.store.schema import event, quarantine, source_record
from drugradar.track.rules import Context
from drugradar.track.rules.atc import atc_changes
from drugradar.track.rules.drugcentral import target_changes

from .conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "vocab_history"
HISTORY = FIXTURE / "drugcentral-2016" / "history_drug_target"
ATC = FIXTURE / "atc"
CTX = Context("x", date(2016, 1, 28), baseline=False)


def records(parsed: list[Record | Rejected]) -> dict[str, Record]:
    assert not [p for p in parsed if isinstance(p, Rejected)]
    return {p.record_id: p for p in parsed if isinstance(p, Record)}


def test_series_are_releases_in_date_order() -> None:
    rel = vocab_releases(FIXTURE)
    dc = [r.release_date for r in rel if r.spec.name == "drugcentral_history"]
    atc = [r.release_date.isoformat() for r in rel if r.spec.name == "who_atc"]
    assert len(dc) == 14 and dc == sorted(dc)
    assert (dc[0], dc[-1]) == (date(2015, 5, 29), date(2016, 5, 9))
    assert atc == ["2021-12-03", "2026-04-25"]
    assert {r.spec.name for r in rel} == {"drugcentral_history", "who_atc"}


def test_drugcentral_history_reads_each_layout_by_its_header() -> None:
    files = sorted(HISTORY.glob("*.tsv.gz"))
    first = records(list(drugcentral_history.parse([files[0]])))  # 8 columns
    last = records(list(drugcentral_history.parse([files[-1]])))  # 11 columns
    rec = last["4209/P35348"]  # prazosin, alpha-1A adrenergic receptor
    assert rec.data["drug_name"] == "prazosin" and rec.data["accession"] == "P35348"
    (row,) = rec.data["rows"]
    assert (row["gene"], row["action_type"]) == ("ADRA1A", "INVERSE AGONIST")
    old_row = first["4209/P35348"].data["rows"][0]
    assert old_row["gene"] is None and old_row["swissprot"] is None  # the old layout lacks them
    assert old_row["action_type"] == "ANTAGONIST"


def test_drugcentral_history_splits_multicomponent_targets() -> None:
    files = sorted(HISTORY.glob("*.tsv.gz"))
    recs = records(list(drugcentral_history.parse([files[-1]])))
    multi = [r for r in recs.values() if "|" in (r.data["rows"][0]["uniprot"] or "")]
    assert multi, "the fixture holds multicomponent targets"
    for r in multi:
        assert r.record_id == f"{r.data['drug_id']}/{r.data['accession']}"
        assert r.data["accession"] in r.data["rows"][0]["uniprot"].split("|")


def test_atc_one_record_per_code_with_its_ddds() -> None:
    recs = records(list(who_atc.parse([ATC / "WHO_ATC-DDD_2026-04-25.csv"])))
    cimetidine = recs["A02BA01"].data
    assert cimetidine["name"] == "cimetidine" and cimetidine["level"] == 5
    assert {d["adm_r"] for d in cimetidine["ddd"]} == {"O", "P"}
    assert recs["L01XL02"].data["name"] == "talimogene laherparepvec"
    assert recs["L01"].data["level"] == 2 and recs["L01XL"].data["level"] == 4
    assert recs["L01XL02"].data["ddd"] == []  # NA everywhere: no dose


def test_malformed_rows_are_quarantined_and_the_rest_loads(engine: Engine, tmp_path: Path) -> None:
    src = sorted(HISTORY.glob("*.tsv.gz"))[0]
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines(keepends=True)
    bad = [
        "12x\tCHEMBL1\tfoo\tbar\tP12345\tINHIBITOR\tX\tY\n",
        "58\tCHEMBL734\tacetohydroxamic acid\tbar\tnot-an-acc\tINHIBITOR\tX\tY\n",
        "58\ttoo few columns\n",
    ]
    hist = tmp_path / "drugcentral-2016" / "history_drug_target"
    hist.mkdir(parents=True)
    with gzip.open(hist / src.name, "wt", encoding="utf-8") as out:
        out.writelines(lines[:3] + bad + lines[3:])
    (tmp_path / "atc").mkdir()
    atc_lines = (ATC / "WHO_ATC-DDD_2021-12-03.csv").read_text(encoding="utf-8").splitlines(True)
    atc_bad = ["L01XX9,bad code,NA,NA,NA,NA\n", "L01XX99,,NA,NA,NA,NA\n"]
    (tmp_path / "atc" / "WHO_ATC-DDD_2021-12-03.csv").write_text(
        "".join(atc_lines[:5] + atc_bad + atc_lines[5:]), encoding="utf-8"
    )
    load_vocab(engine, tmp_path)
    with engine.connect() as c:
        q = c.execute(
            select(quarantine.c.source, quarantine.c.line, quarantine.c.field, quarantine.c.reason)
        ).all()
        n = {
            s: c.execute(select(source_record.c.record_id).where(source_record.c.source == s))
            .scalars()
            .all()
            for s in ("drugcentral_history", "who_atc")
        }
    assert sorted(q) == [
        ("drugcentral_history", 4, "DRUG_ID", "malformed DRUG_ID '12x'"),
        ("drugcentral_history", 5, "UNIPROT", "malformed UniProt accession 'not-an-acc'"),
        ("drugcentral_history", 6, None, "expected 8 columns, found 2"),
        ("who_atc", 6, "atc_code", "malformed ATC code 'L01XX9'"),
        ("who_atc", 7, "atc_name", "empty atc_name"),
    ]
    codes = {line.split(",", 1)[0] for line in atc_lines[1:]}
    assert len(n["drugcentral_history"]) > 50 and set(n["who_atc"]) == codes
    assert "58/Q03282" in n["drugcentral_history"]  # the good rows of the same drug loaded


# -- the rules' noise -----------------------------------------------------------------------


def _pair(action: str | None, **row: str | None) -> dict[str, object]:
    base = {
        "target_name": "Alpha-1A adrenergic receptor",
        "target_family": None,
        "uniprot": "P35348",
        "gene": None,
        "swissprot": None,
        "action_type": action,
        "source": "IUPHAR",
        "reference": "http://example/1",
    }
    return {
        "drug_id": "4209",
        "accession": "P35348",
        "drug_name": "prazosin",
        "chembl_id": None,
        "rows": [base | row],
    }


def test_drugcentral_rule_ignores_references_names_and_layout() -> None:
    old = _pair("ANTAGONIST")
    for new in (
        _pair("ANTAGONIST", reference="http://example/2", source="DRUG LABEL"),
        _pair("antagonist "),
        _pair("ANTAGONIST", gene="ADRA1A", target_family="GPCR", swissprot="ADA1A_HUMAN"),
        _pair("ANTAGONIST") | {"drug_name": "prazosine", "chembl_id": "CHEMBL2"},
    ):
        assert target_changes(CTX, "4209/P35348", old, new) == []


def test_drugcentral_rule_types() -> None:
    rid, old = "4209/P35348", _pair("ANTAGONIST")
    (changed,) = target_changes(CTX, rid, old, _pair("INVERSE AGONIST"))
    assert (changed.type, changed.old, changed.new) == (
        "target_action_changed",
        "ANTAGONIST",
        "INVERSE AGONIST",
    )
    assert changed.materiality.value == "low"
    (added,) = target_changes(CTX, rid, None, old)
    (removed,) = target_changes(CTX, rid, old, None)
    assert (added.type, removed.type) == ("target_added", "target_removed")
    assert added.materiality.value == removed.materiality.value == "medium"
    assert ("uniprot", "P35348") in added.concerns
    back = Context("x", date(2016, 1, 28), baseline=False, reappeared=True)
    assert [c.type for c in target_changes(back, rid, old, old)] == ["target_added"]
    assert target_changes(Context("x", date(2015, 5, 29), baseline=True), rid, None, old) == []


def _code(name: str, level: int = 5, ddd: list[dict[str, str]] | None = None) -> dict[str, object]:
    return {"name": name, "level": level, "ddd": ddd or []}


def test_atc_rule_types_and_noise() -> None:
    (renamed,) = atc_changes(CTX, "N07BA04", _code("cytisine"), _code("cytisinicline"))
    assert (renamed.type, renamed.old, renamed.new) == ("atc_renamed", "cytisine", "cytisinicline")
    assert (
        atc_changes(CTX, "V09IX07", _code("fluorocholine(18F)"), _code("fluorocholine (18F)")) == []
    )
    dose = [{"ddd": "1", "uom": "g", "adm_r": "O", "note": None}]
    assert atc_changes(CTX, "A02BA01", _code("cimetidine"), _code("cimetidine", ddd=dose)) == []
    group = _code("Other immunoglobulins", level=4)
    assert atc_changes(CTX, "J06BC", group, _code("Antibacterial monoclonal antibodies", 4)) == []
    assert atc_changes(CTX, "J06BC", None, group) == []
    (added,) = atc_changes(CTX, "L01XL02", None, _code("talimogene laherparepvec"))
    (removed,) = atc_changes(CTX, "L01XX51", _code("talimogene laherparepvec"), None)
    assert (added.type, removed.type) == ("atc_added", "atc_removed")
    assert ("atc", "L01XL02|talimogene laherparepvec") in added.concerns


def test_no_events_from_the_fixture_series_baseline(engine: Engine) -> None:
    load_vocab(engine, FIXTURE, until=date(2015, 5, 29))
    with engine.connect() as c:
        assert c.execute(select(event.c.id)).first() is None
