"""Drug–drug interaction parsers: real pairs merged as the raw files say, bad rows quarantined.

Real data: the cut of DDInter and of the merged PDDI file in ``tests/fixtures/ddi`` (made by
``make_ddi_fixture.py``) and, read directly, the small real files (ANSM 2020, ONC, DrugBank 4,
CredibleMeds) under ``../shared/data/ddi``. Malformed input is synthetic, written in tmp_path.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import json
from datetime import date
from functools import cache
from pathlib import Path

import orjson
import pytest

from drugradar.sources import (
    ansm,
    credible_meds,
    ddi,
    ddinter,
    drugbank_ddi,
    merged_pddi,
    onc_ddi,
)
from drugradar.sources.base import Record, Rejected

from .conftest import ROOT

SHARED_DDI = ROOT.parent / "shared" / "data" / "ddi"
FIXTURE_DDI = ROOT / "tests" / "fixtures" / "ddi"
TVEC = "talimogene laherparepvec"

needs_shared = pytest.mark.skipif(not SHARED_DDI.exists(), reason="../shared/data/ddi missing")


def split(items: list[Record | Rejected]) -> tuple[dict[str, Record], list[Rejected]]:
    recs = {i.record_id: i for i in items if isinstance(i, Record)}
    assert len(recs) == sum(isinstance(i, Record) for i in items), "duplicate record ids"
    return recs, [i for i in items if isinstance(i, Rejected)]


def raw_lines(path: Path) -> list[str]:
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix)
    with opener(path, "rb") if opener else path.open("rb") as fh:  # type: ignore[operator]
        return fh.read().decode("utf-8-sig").splitlines()


@cache
def ansm_2020() -> tuple[dict[str, Record], list[Rejected]]:
    rel = next(r for r in ansm.releases(SHARED_DDI) if r[1] == "2020_01")
    return split(list(rel[0].parse(rel[2])))


# --- the scale ----------------------------------------------------------------------------


def test_severity_scale_and_mappings() -> None:
    assert ddi.LEVELS == ("contraindicated", "major", "moderate", "minor", "unknown")
    assert ddi.strongest(["minor", "major", "unknown"]) == "major"
    assert ddi.strongest([]) == "unknown"
    assert ddi.DDINTER_LEVELS == {
        "Major": "major",
        "Moderate": "moderate",
        "Minor": "minor",
        "Unknown": "unknown",
    }
    ansm_words = {
        "CONTRE-INDICATION": "contraindicated",
        "Association DECONSEILLEE": "major",
        "Précaution d'emploi": "moderate",
        "A prendre en compte": "minor",
        "Il convient de prendre en compte": "minor",
    }
    assert {w: ddi.ansm_level(w) for w in ansm_words} == ansm_words
    assert ddi.ansm_level("Interdit") is None
    assert (ddi.ONC_HIGH_PRIORITY_LEVEL, ddi.ONC_NON_INTERRUPTIVE_LEVEL) == ("major", "moderate")
    lvl = merged_pddi.source_level
    assert lvl("NDF-RT", "Critical", {}) == "major"
    assert lvl("NDF-RT", "Significant", {}) == "moderate"
    assert [lvl("OSCAR", s, {}) for s in ("3", "2", "1", None)] == [
        "major",
        "moderate",
        "minor",
        "unknown",
    ]
    assert lvl("French National Formulary (Fr.)", "CI", {}) == "contraindicated"
    assert lvl("French National Formulary (Fr.)", "PC", {}) == "minor"
    eng = "French National Formulary (Eng. - TESTING)"
    assert lvl(eng, "CONTRANDICATION", {}) == "contraindicated"  # the source's typo
    assert lvl(eng, "Nor recommended", {}) == "major"
    assert lvl(eng, "Contraindication - Not recommended - Precaution for use", {}) == (
        "contraindicated"
    )
    assert lvl("KEGG", None, {"contraindication": "True"}) == "contraindicated"
    assert lvl("KEGG", None, {"precaution": "True"}) == "moderate"
    assert lvl("Drugbank", None, {}) == "unknown"


def test_pair_key_and_names() -> None:
    assert ddi.pair_key("lamivudine", "abacavir") == ("abacavir|lamivudine", True)
    assert ddi.norm_name("  Acetylsalicylic   Acid ") == "acetylsalicylic acid"
    assert ddi.norm_name("DÉFÉRIPRONE", fold=True) == "deferiprone"


# --- DDInter --------------------------------------------------------------------------------


def test_ddinter_one_record_per_pair_across_atc_files() -> None:
    files = sorted((FIXTURE_DDI / "ddinter").glob("cut_ddinter_downloads_code_*"))
    recs, bad = split(list(ddinter.parse(files)))
    assert not bad
    # the raw rows naming T-VEC, counted straight from the cut files
    rows = [r for f in files for r in csv.reader(raw_lines(f)) if TVEC in ",".join(r).lower()]
    pairs = {tuple(sorted((r[1].lower(), r[3].lower()))) for r in rows}
    tvec = {k: r for k, r in recs.items() if TVEC in k.split("|")}
    assert len(rows) == 261  # listed once per ATC file of either drug...
    assert len(tvec) == len(pairs) == 213  # ...but one record per pair
    cortisone = tvec["hydrocortisone|talimogene laherparepvec"].data
    assert cortisone["drug_b"] == "Talimogene laherparepvec"
    assert cortisone["ids_b"] == {"ddinter": ["DDInter1743"]}
    # raw: "DDInter885,Hydrocortisone,DDInter1743,Talimogene laherparepvec,Major" is in the
    # A, D, H, L and R files (gzipped and plain)
    assert cortisone["atc_files"] == ["A", "D", "H", "L", "R"]
    assert (cortisone["severity"], cortisone["level"]) == ("Major", "major")
    warf = recs["acetylsalicylic acid|warfarin"].data
    # raw: "DDInter1951,Warfarin,DDInter20,Acetylsalicylic acid,Major" in the A and B files
    assert (warf["drug_a"], warf["drug_b"], warf["severity"]) == (
        "Acetylsalicylic acid",
        "Warfarin",
        "Major",
    )
    assert warf["ids_a"] == {"ddinter": ["DDInter20"]} and warf["atc_files"] == ["A", "B"]
    assert recs["fluconazole|warfarin"].data["level"] == "major"


@needs_shared
def test_ddinter_fixture_holds_every_real_tvec_row() -> None:
    real = sorted((SHARED_DDI / "ddinter").glob("ddinter_downloads_code_*"))
    assert len(real) == 8
    total = 0
    for f in real:
        cut = FIXTURE_DDI / "ddinter" / f"cut_{f.name}"
        want = [ln for ln in raw_lines(f) if TVEC in ln.lower()]
        assert [ln for ln in raw_lines(cut) if TVEC in ln.lower()] == want, f.name
        total += len(want)
    assert total == 261  # so the 213 pairs found in the cut are all of the real files'


def test_ddinter_malformed_rows_are_quarantined(tmp_path: Path) -> None:
    f = tmp_path / "synthetic_ddinter_downloads_code_L.csv"
    f.write_bytes(
        b"DDInterID_A,Drug_A,DDInterID_B,Drug_B,Level\n"
        b"DDInter1,Abacavir,DDInter2,Lamivudine,Minor\n"
        b"DDInter1,Abacavir,DDInter2\n"
        b"X1,Abacavir,DDInter3,Zidovudine,Minor\n"
        b"DDInter1,,DDInter3,Zidovudine,Minor\n"
        b"DDInter1,Abacavir,DDInter3,Zidovudine,Severe\n"
        b"DDInter2,Lamivudine,DDInter1,Abacavir,Major\n"
        b"DDInter1,Abacavir,DDInter1,ABACAVIR,Minor\n"
        b"DDInter1,Abac\xe9vir,DDInter3,Zidovudine,Minor\n"
        b'DDInter1,"Abacavir,DDInter3,Zidovudine,Minor\n'
    )
    recs, bad = split(list(ddinter.parse([f])))
    assert set(recs) == {"abacavir|lamivudine"}
    assert recs["abacavir|lamivudine"].data["atc_files"] == ["L"]
    got = {b.line: (b.field, b.reason) for b in bad}
    assert all(b.file_name == f.name for b in bad)
    assert got[3] == (None, "expected 5 comma-separated columns, found 3")
    assert got[4] == ("DDInterID_A", "malformed DDInter id 'X1' in DDInterID_A")
    assert got[5] == ("Drug_A", "empty drug name in Drug_A")
    assert got[6] == ("Level", "unknown severity level 'Severe' in Level")
    assert got[7][0] == "Level" and "already listed with Level 'Minor'" in got[7][1]
    assert got[8] == ("Drug_B", "Drug_A and Drug_B name the same drug")
    assert got[9] == (None, "line is not valid UTF-8")
    assert got[10] == (None, "line is not valid CSV (unbalanced quotes)")


# --- ANSM -----------------------------------------------------------------------------------


@needs_shared
def test_ansm_releases_are_dated_by_folder() -> None:
    rels = ansm.releases(SHARED_DDI)
    assert [(r[1], r[3]) for r in rels] == [
        ("2016_01", date(2016, 1, 1)),
        ("2016_08", date(2016, 8, 1)),
        ("2018_05", date(2018, 5, 1)),
        ("2019_09", date(2019, 9, 1)),
        ("2020_01", date(2020, 1, 1)),
    ]
    for spec, label, paths, _ in rels:
        assert spec is ansm.SPEC
        assert [p.parent.name for p in paths] == [label, label, "mappings", "mappings"]
        assert {p.name for p in paths} >= {"rxnorm_mappings.tsv", "wikidata_mappings.tsv"}


@needs_shared
def test_ansm_contraindication_between_two_substances() -> None:
    recs, bad = ansm_2020()
    assert not bad
    # raw: {"main_drug": "SIMVASTATINE", "plus_drug": "CICLOSPORINE", level CONTRE-INDICATION},
    # printed again under CICLOSPORINE: one record, one statement
    rec = recs["ciclosporine|simvastatine"].data
    assert (rec["severity"], rec["level"], rec["lang"]) == (
        "CONTRE-INDICATION",
        "contraindicated",
        "fr",
    )
    assert [(s["stated_a"], s["stated_b"]) for s in rec["statements"]] == [
        ("CICLOSPORINE", "SIMVASTATINE")
    ]
    assert rec["mechanism"] and "rhabdomyolyse" in rec["mechanism"]
    # ids come from the mapping files
    rx = [
        ln.split("\t")[1]
        for ln in raw_lines(SHARED_DDI / "ansm_thesaurus" / "mappings" / "rxnorm_mappings.tsv")
        if ln.startswith("simvastatine\t")
    ]
    assert rec["ids_b"]["rxnorm"] == sorted(rx)


@needs_shared
def test_ansm_class_interactions_reach_their_member_substances() -> None:
    recs, _ = ansm_2020()
    index = json.loads(
        (
            SHARED_DDI / "ansm_thesaurus" / "2020_01" / "index-des-substances-20102020.json"
        ).read_text()
    )
    avk = sorted(s["substance"] for s in index if "antivitamines K" in s["drug_classes"])
    assert "warfarine" in avk and len(avk) > 2
    # raw: MILLEPERTUIS + ANTIVITAMINES K, CONTRE-INDICATION: every AVK of the index gets it
    for sub in avk:
        rec = recs[ddi.pair_key("millepertuis", ddi.norm_name(sub, fold=True))[0]].data
        stated = {(s["stated_a"], s["stated_b"]): s for s in rec["statements"]}
        st = (
            stated.get(("ANTIVITAMINES K", "MILLEPERTUIS"))
            or stated[("MILLEPERTUIS", "ANTIVITAMINES K")]
        )
        assert st["level"] == "contraindicated" and rec["level"] == "contraindicated"
    # a name that is neither a substance nor a class of the index is kept as written
    assert "pamplemousse (jus et fruit)|simvastatine" in recs


@needs_shared
def test_ansm_conditional_levels_follow_the_substances_they_name() -> None:
    recs, _ = ansm_2020()
    # raw: MÉDICAMENTS SÉDATIFS + AUTRES MÉDICAMENTS SÉDATIFS: CONTRE-INDICATION "entre
    # l'oxybate de sodium et les opiacés…", ASDEC "avec l'oxybate de sodium", APEC for the rest
    sedatives = ("AUTRES MÉDICAMENTS SÉDATIFS", "MÉDICAMENTS SÉDATIFS")

    def sedative_statement(key: str) -> dict[str, object]:
        sts = recs[key].data["statements"]
        return next(s for s in sts if {s["stated_a"], s["stated_b"]} == set(sedatives))

    plain = sedative_statement("diazepam|zolpidem")
    assert (plain["level"], plain["conditional"]) == ("minor", True)
    assert len(plain["severity_levels"]) == 3  # all three kept verbatim
    assert sedative_statement("morphine|oxybate de sodium")["level"] == "contraindicated"


def test_ansm_malformed_items_are_quarantined(tmp_path: Path) -> None:
    idx = tmp_path / "synthetic_index_substances.json"
    idx.write_text(json.dumps([{"substance": "warfarine", "drug_classes": ["antivitamines K"]}]))
    th = tmp_path / "synthetic_thesaurus.json.gz"
    good = {
        "main_drug": "MILLEPERTUIS",
        "plus_drug": "ANTIVITAMINES K",
        "severity_levels": [{"level": "CONTRE-INDICATION", "info": ""}],
        "interaction_mechanism": "Diminution des concentrations.",
        "description": "CONTRE-INDICATION Diminution des concentrations.",
    }
    items = [
        good,
        {**good, "plus_drug": ""},
        {**good, "severity_levels": [{"level": "Interdit", "info": ""}]},
        {**good, "severity_levels": []},
        "not an object",
    ]
    text = "[\n" + ",\n".join(json.dumps(i) for i in items) + ",\n{broken\n]"
    with gzip.open(th, "wt", encoding="utf-8") as fh:
        fh.write(text)
    recs, bad = split(list(ansm.parse([th, idx])))
    assert set(recs) == {"millepertuis|warfarine"}
    assert recs["millepertuis|warfarine"].data["drug_b"] == "warfarine"
    got = {b.line: (b.field, b.reason) for b in bad}
    assert got[3] == ("plus_drug", "missing or empty plus_drug")
    assert got[4] == ("severity_levels.level", "unknown severity level 'Interdit'")
    assert got[5] == ("severity_levels", "missing or empty severity_levels")
    assert got[6] == (None, "item is not a JSON object")
    assert got[7][1].startswith("malformed JSON")
    assert all(b.file_name == th.name for b in bad)


# --- ONC ------------------------------------------------------------------------------------


@needs_shared
def test_onc_high_priority_pairs_listed_both_ways_are_one_record() -> None:
    (spec, _, paths, when), _ = onc_ddi.releases(SHARED_DDI)
    assert spec is onc_ddi.HIGH_PRIORITY_SPEC and when == date(2014, 7, 1)
    recs, bad = split(list(spec.parse(paths)))
    assert not bad
    raw = raw_lines(paths[0])
    assert "Sparfloxacin$DB01208$Erythromycin$DB00199$" in raw
    assert "Erythromycin$DB00199$Sparfloxacin$DB01208$" in raw
    distinct = {tuple(sorted((c[0].lower(), c[2].lower()))) for c in (ln.split("$") for ln in raw)}
    assert len(recs) == len(distinct) < len(raw)
    rec = recs["erythromycin|sparfloxacin"].data
    assert rec["ids_a"] == {"drugbank": ["DB00199"]} and rec["ids_b"] == {"drugbank": ["DB01208"]}
    assert (rec["severity"], rec["level"]) == ("high priority", "major")


@needs_shared
def test_onc_non_interruptive_reads_the_superset_and_the_formatted_list() -> None:
    _, (spec, _, paths, _) = onc_ddi.releases(SHARED_DDI)
    assert spec is onc_ddi.NON_INTERRUPTIVE_SPEC and len(paths) == 2
    recs, bad = split(list(spec.parse(paths)))
    assert not bad
    dollar = raw_lines(paths[0])
    assert len(recs) == len(dollar) == 2101  # the '$' file is the superset
    # formatted line 1: 1,ACE inhibitors,benazepril,DB00542,…,Salicylates,Methacholine,DB06709,…
    rec = recs["benazepril|methacholine"].data
    assert (rec["onc_ids"], rec["classes_a"], rec["classes_b"]) == (
        ["1"],
        ["ACE inhibitors"],
        ["Salicylates"],
    )
    assert rec["level"] == "moderate"
    # only in the '$' file: no publication id, no class
    only = recs["acebutolol|acetylsalicylic acid"].data
    assert (only["onc_ids"], only["classes_a"]) == ([], [])


def test_onc_malformed_rows_are_quarantined(tmp_path: Path) -> None:
    f = tmp_path / "synthetic_onc.csv"
    f.write_bytes(
        b"\xef\xbb\xbfWarfarin$DB00682$Aspirin$DB00945$\r\n"
        b"Warfarin$DB00682$Aspirin\r\n"
        b"Warfarin$DB682$Aspirin$DB00945$\r\n"
        b"$DB00682$Aspirin$DB00945$\r\n"
    )
    g = tmp_path / "synthetic_onc_Formatted.csv"
    g.write_text("x,cls,warfarin,DB00682,u,u,cls,aspirin,DB00945,u,u\n1,cls,warfarin\n")
    recs, bad = split(list(onc_ddi.parse_non_interruptive([f, g])))
    assert set(recs) == {"aspirin|warfarin"}
    got = {(b.file_name, b.line): (b.field, b.reason) for b in bad}
    assert got[(f.name, 2)] == (None, "expected 4 '$'-separated columns, found 3")
    assert got[(f.name, 3)] == ("drug 1 drugbank id", "malformed DrugBank id 'DB682' for drug 1")
    assert got[(f.name, 4)] == ("drug 1 name", "empty drug 1 name")
    assert got[(g.name, 1)] == ("publication id", "malformed publication id 'x'")
    assert got[(g.name, 2)] == (None, "expected 11 comma-separated columns, found 3")


# --- merged PDDI ----------------------------------------------------------------------------


def merged_fixture() -> Path:
    return next((FIXTURE_DDI / "merged_pddi").glob("cut_*.tsv.bz2"))


def test_merged_pddi_merges_every_source_of_a_pair() -> None:
    path = merged_fixture()
    recs, bad = split(list(merged_pddi.parse([path])))
    header, *rows = (ln.split("\t") for ln in raw_lines(path))
    col = {c: i for i, c in enumerate(header)}
    # every raw row of simvastatin (DB00641) with verapamil (DB00661): the KEGG rows (names
    # "imvastatin", "erapamil") and the French rows ("SIMVASTATINE") are the same pair
    raw = [
        r
        for r in rows
        if {r[col["drug1ID"]], r[col["drug2ID"]]} == {"DB00641", "DB00661"}
        and r[col["object"]].lower() != r[col["precipitant"]].lower()
    ]
    want_sources = {r[col["source"]] or "KEGG" for r in raw}
    rec = recs["simvastatin|verapamil"].data
    assert set(rec["sources"]) == want_sources
    assert want_sources >= {"NDF-RT", "ONC-HighPriority", "KEGG", "French National Formulary (Fr.)"}
    assert "simvastatine|verapamil" not in recs
    detail = rec["sources_detail"]
    assert detail == sorted(
        detail,
        key=lambda s: (
            s["source"],
            s["object"],
            s["precipitant"],
            orjson.dumps(s, option=orjson.OPT_SORT_KEYS),
        ),
    )
    ndfrt = next(s for s in detail if s["source"] == "NDF-RT")
    ndf_raw = next(r for r in raw if r[col["source"]] == "NDF-RT")
    assert ndfrt["severity"] == ndf_raw[col["severity"]] == "Significant"
    assert ndfrt["level"] == "moderate" and ndfrt["licence"].startswith("public domain")
    assert rec["level"] == "major"  # ONC high priority is the strongest
    kegg = [s for s in detail if s["source"] == "KEGG"]
    assert {s["object"] for s in kegg} == {"imvastatin", "erapamil"}  # verbatim, truncated
    assert all(s["names_repaired"] and s["source_inferred"] for s in kegg)
    assert rec["ids_a"] == {"drugbank": ["DB00641"]} and rec["ids_b"] == {"drugbank": ["DB00661"]}
    drugbank = next(s for s in detail if s["source"] == "Drugbank")
    assert drugbank["licence"].startswith("CC BY-NC")
    # bad rows of the real file
    reasons = {b.reason for b in bad}
    assert "empty source, and the uri is not KEGG's: origin unknown" in reasons
    assert "object and precipitant name the same drug" in reasons
    # the empty KEGG placeholder rows are skipped: neither records nor quarantined
    placeholders = [
        i + 2
        for i, r in enumerate(rows)
        if r[col["drug2"]] == "Kegg" and r[col["drug1"]].strip() in ("", "None")
    ]
    assert placeholders and not {b.line for b in bad} & set(placeholders)
    assert not any(b.reason.startswith("empty placeholder") for b in bad)
    again, _ = split(list(merged_pddi.parse([path])))
    assert {k: r.data for k, r in again.items()} == {k: r.data for k, r in recs.items()}


def test_merged_pddi_malformed_rows_are_quarantined(tmp_path: Path) -> None:
    header = next(iter(raw_lines(merged_fixture()))).split("\t")

    def row(**values: str) -> str:
        return "\t".join(values.get(c, "None") for c in header)

    good = {
        "drug1": "http://bio2rdf.org/drugbank:DB00641",
        "object": "Simvastatin",
        "drug2": "http://bio2rdf.org/drugbank:DB00661",
        "precipitant": "Verapamil",
        "source": "Drugbank",
        "drug1ID": "DB00641",
        "drug2ID": "DB00661",
    }
    lines = [
        "\t".join(header),
        row(**good),
        "only\tthree\tcolumns",
        row(**{**good, "precipitant": "None"}),
        row(**{**good, "source": ""}),
        row(**{**good, "drug2ID": "Clipper Summary"}),
    ]
    f = tmp_path / "synthetic_merged.tsv.bz2"
    f.write_bytes(bz2.compress("\r\n".join(lines).encode()))
    recs, bad = split(list(merged_pddi.parse([f])))
    assert set(recs) == {"simvastatin|verapamil"}
    got = {b.line: (b.field, b.reason) for b in bad}
    assert got[3] == (None, f"expected {len(header)} tab-separated columns, found 3")
    assert got[4] == ("precipitant", "missing drug name in precipitant")
    assert got[5] == ("source", "empty source, and the uri is not KEGG's: origin unknown")
    assert got[6] == ("drug2ID", "malformed DrugBank id 'Clipper Summary' in drug2ID")


# --- DrugBank 4, CredibleMeds, discovery -----------------------------------------------------


@needs_shared
def test_drugbank4_pairs() -> None:
    ((spec, _, paths, when),) = drugbank_ddi.releases(SHARED_DDI)
    assert when == date(2014, 6, 15)
    recs, bad = split(list(spec.parse(paths)))
    assert not bad
    # raw line 1: DB00073$Rituximab$DB00519$Trandolapril$
    rec = recs["rituximab|trandolapril"].data
    assert rec["ids_a"] == {"drugbank": ["DB00073"]} and rec["level"] == "unknown"


@needs_shared
def test_credible_meds_rejects_its_shifted_rows() -> None:
    ((spec, _, paths, when),) = credible_meds.releases(SHARED_DDI)
    assert when == date(2017, 2, 26)
    recs, bad = split(list(spec.parse(paths)))
    raw = raw_lines(paths[0])
    # raw lines 11 and 12 (digoxin with clarithromycin / erythromycin) have a 9th column
    assert [(b.line, b.reason) for b in bad] == [
        (11, "expected 8 columns, found 9"),
        (12, "expected 8 columns, found 9"),
    ]
    assert raw[10].startswith("DIGOXIN") and "clarithromycin|digoxin" not in recs
    # raw line 2: AMIODARONE … LEVOFLOXACIN … Options "Usually Avoid …"
    rec = recs["amiodarone|levofloxacin"].data
    assert (rec["severity"], rec["level"], rec["object"]) == (
        "Usually Avoid",
        "major",
        "AMIODARONE",
    )


@needs_shared
def test_every_ddi_release_is_found() -> None:
    found = [(spec.name, when) for spec, _, _, when in ddi.releases(SHARED_DDI)]
    assert ("ddinter", ddinter.RELEASE_DATE) in found
    assert ("merged_pddi", date(2017, 1, 1)) in found
    assert [w for n, w in found if n == "ansm_ddi"] == sorted(
        w for n, w in found if n == "ansm_ddi"
    )
    assert {n for n, _ in found} == {
        "ddinter",
        "ansm_ddi",
        "onc_high_priority",
        "onc_non_interruptive",
        "merged_pddi",
        "drugbank4_ddi",
        "credible_meds_ddi",
    }
