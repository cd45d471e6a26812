"""Drug labels: SPL XML, openFDA-shaped rows and extracts, OnSIDES annotations — read from the
real files in ../shared/data/fda/labels, and from synthetic broken files written in tmp_path."""

from __future__ import annotations

import copy
import csv
import gzip
import io
import json
import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from drugradar.sources import label_sections as ls
from drugradar.sources import openfda_labels as ol
from drugradar.sources import spl
from drugradar.sources.base import Parsed, Record, Rejected

from .conftest import ROOT

DATA = ROOT.parent / "shared" / "data"
LABELS = DATA / "fda" / "labels"
SPL_DIR = LABELS / "spl_xml_openfda_tests"
ROWS = LABELS / "openfda_section_extracts" / "databricks_clean_drug_table_openfda_labels.csv.gz"
BY_BRAND = LABELS / "openfda_section_extracts" / "kevinkingslin_adverse_reactions_by_brand.json.gz"
TAC = sorted((LABELS / "onsides_tac2017").glob("demner-fushman-*-labels.json.gz"))
PED = LABELS / "onsides_tac2017" / "fda-pediatric-special-populations-annot.json.gz"

pytestmark = pytest.mark.skipif(not LABELS.is_dir(), reason="shared label data not present")

# Read by hand from each file's <setId>, <id>, <versionNumber> and <effectiveTime>.
HUMIRA = "608d4f0d-b19f-46d3-749a-7159aa5f933d"
LIPITOR = "c6e131fe-e7df-4876-83f7-9156fc4e8228"
REPACK = "17a163ef-b349-4e32-bc8c-b02bac7f65d6"
COUGH = "00f66f25-3469-4c16-9baf-fba21e9628bd"
HEADERS = {
    HUMIRA: ("humira.xml", "2c9fb32d-4b1b-b5da-4bdf-6b06908ba8b3", 1560, "2013-09-30"),
    LIPITOR: ("lipitor-orig.xml", "20a11732-b9f5-4b59-9d86-c63f11b139d9", 11, "2014-01-13"),
    REPACK: ("lipitor-repack.xml", "d6ff23b5-3bf8-444d-88c4-252a5c9efa26", 8, "2012-02-29"),
    COUGH: ("cough.xml", "00f66f25-3469-4c16-9baf-fba21e9628bd", 1, "2011-04-26"),
}


def split(items: list[Parsed]) -> tuple[dict[str, Record], list[Rejected]]:
    recs: dict[str, Record] = {}
    for i in items:
        if isinstance(i, Record):
            assert i.record_id not in recs, f"{i.record_id} yielded twice"
            recs[i.record_id] = i
    return recs, [i for i in items if isinstance(i, Rejected)]


@pytest.fixture(scope="module")
def labels() -> dict[str, Record]:
    recs, bad = split(list(spl.parse([SPL_DIR])))
    assert not bad
    return recs


def sections(rec: Record, key: str) -> list[dict[str, Any]]:
    return [s for s in rec.data["sections"] if s["key"] == key]


# ---------------------------------------------------------------- SPL XML


def test_spl_headers_match_the_xml(labels: dict[str, Record]) -> None:
    assert set(labels) == set(HEADERS)
    for set_id, (_, doc_id, version, when) in HEADERS.items():
        d = labels[set_id].data
        assert (d["set_id"], d["document_id"], d["version"], d["effective_date"]) == (
            set_id,
            doc_id,
            version,
            when,
        )
        assert d["effective_time"] == when.replace("-", "")
        assert labels[set_id].as_of == date.fromisoformat(when)
        assert d["source"] == "spl" and d["partial"] is False


def test_humira_boxed_warning_and_products(labels: dict[str, Record]) -> None:
    rec = labels[HUMIRA]
    (box,) = sections(rec, "boxed_warning")
    assert box["code"] == "34066-1" and box["level"] == 1 and box["parent_code"] is None
    assert box["title"] == "WARNING: SERIOUS INFECTIONS AND MALIGNANCY"
    text = ls.section_text(rec.data, "boxed_warning")
    assert text is not None and text.startswith("SERIOUS INFECTIONS\n\n")
    assert "increased risk for developing serious infections" in text
    assert "[see Warnings and Precautions (5.1)]" in text  # inline markup dropped
    d = rec.data
    assert d["labeler"] == "AbbVie Inc." and d["brand_names"] == ["Humira"]
    assert d["uniis"] == ["FYS6T7F842"] and d["application_numbers"] == ["BLA125057"]
    # kits hold alcohol swabs (TOPICAL, OTC monograph part333): not Humira's route or approval
    assert d["routes"] == ["SUBCUTANEOUS"]
    kit = next(p for p in d["products"] if p["ndc"] == "0074-3799")
    assert kit["dosage_form"] == "KIT" and [p["name"] for p in kit["parts"]] == [
        "Humira",
        "Alcohol Swabs",
    ]
    swab = kit["parts"][1]
    assert swab["routes"] == ["TOPICAL"] and swab["active_ingredients"] == []
    assert swab["application_numbers"] == ["PART333"]
    pen = kit["parts"][0]
    assert pen["active_ingredients"][0]["strength"] == "40 mg/0.8 mL"
    assert d["product_ndcs"] == ["0074-3797", "0074-3799", "0074-4339", "0074-9374"]
    # a subsection with its own code keeps its parent's: 6.1 under 6 ADVERSE REACTIONS
    ar = sections(rec, "adverse_reactions")
    assert [(s["title"], s["level"], s["parent_code"]) for s in ar] == [
        ("6 ADVERSE REACTIONS", 1, None),
        ("6.1 Clinical Trials Experience", 2, "34084-4"),
        ("6.2 Postmarketing Experience", 2, "34084-4"),
    ]
    full = ls.section_text(rec.data, "adverse_reactions") or ""
    assert full.count("6.1 Clinical Trials Experience") == 1  # nested same key: not repeated


def test_lipitor_indications_contraindications_and_tables(labels: dict[str, Record]) -> None:
    rec = labels[LIPITOR]
    ind = ls.section_text(rec.data, "indications_and_usage") or ""
    # list items on their own lines, from the 1.1 subsection (an SPL unclassified section)
    assert "\nReduce the risk of myocardial infarction\nReduce the risk of stroke\n" in ind
    assert "1.1 Prevention of Cardiovascular Disease" in ind
    sub = next(
        s for s in rec.data["sections"] if s["title"] == "1.1 Prevention of Cardiovascular Disease"
    )
    assert (sub["code"], sub["key"], sub["parent_code"], sub["level"]) == (
        "42229-5",
        "spl_unclassified",
        "34067-9",
        2,
    )
    (contra,) = sections(rec, "contraindications")
    assert contra["title"] == "4 CONTRAINDICATIONS"
    text = ls.section_text(rec.data, "contraindications") or ""
    assert "4.1 Active liver disease" in text and "4.3 Pregnancy" in text
    # Pregnancy is coded under Contraindications (4.3) and Use in Specific Populations (8.1)
    assert [s["title"] for s in sections(rec, "pregnancy")] == ["4.3 Pregnancy", "8.1 Pregnancy"]
    # a table: tab-separated rows, its footnote in brackets where it is referenced
    ar = ls.section_text(rec.data, "adverse_reactions") or ""
    assert "\nNasopharyngitis\t8.3\t12.9\t5.3\t7.0\t4.2\t8.2\n" in ar
    assert "Adverse Reaction [Adverse Reaction ≥ 2% in any dose greater than placebo]\t" in ar
    assert "[see Use in Specific Populations (8.1) ]" in text  # XML line breaks are spaces
    d = rec.data
    assert d["application_numbers"] == ["NDA020702"] and d["routes"] == ["ORAL"]
    assert d["active_ingredients"] == [
        {
            "name": "ATORVASTATIN CALCIUM TRIHYDRATE",
            "unii": "48A5M73Z4Q",
            "moiety": "ATORVASTATIN",
            "moiety_unii": "A0JWA85V8F",
        }
    ]
    assert "lactation" in d["section_keys"]  # Nursing Mothers
    assert "warnings_and_cautions" in d["section_keys"]


def test_repackager_and_otc_labels(labels: dict[str, Record]) -> None:
    repack = labels[REPACK].data
    assert repack["labeler"] == "PD-Rx Pharmaceuticals, Inc." and repack["product_ndcs"] == [
        "55289-800"
    ]
    assert repack["application_numbers"] == labels[LIPITOR].data["application_numbers"]
    otc = labels[COUGH].data
    assert otc["document_type"] == "HUMAN OTC DRUG LABEL"
    assert otc["brand_names"] == ["TRIAMINIC Childrens Night Time Cold and Cough"]  # + suffix
    assert otc["uniis"] == ["04JA59TNSJ", "TC2D6JAD40"]
    assert otc["application_numbers"] == ["PART341"]
    warn = ls.section_text(otc, "warnings_and_cautions") or ""  # Drug Facts "Warnings"
    assert "Do not use\n\nin a child under 4 years of age\n" in warn
    for key in ("do_not_use", "stop_use", "keep_out_of_reach_of_children", "purpose"):
        assert key in otc["section_keys"]
    # real quirk: a "Boxed Warning" section nested in an unclassified one, about the seal
    (box,) = [s for s in otc["sections"] if s["key"] == "boxed_warning"]
    assert box["level"] == 2 and box["parent_code"] == "42229-5"
    assert "TAMPER-EVIDENT FEATURE" in box["text"]


def test_spl_records_are_stable_json(labels: dict[str, Record]) -> None:
    again, _ = split(list(spl.parse(sorted(SPL_DIR.glob("*.xml")))))
    for rid, rec in labels.items():
        assert orjson.loads(orjson.dumps(rec.data)) == rec.data
        assert again[rid].data == rec.data
        d = rec.data
        for key in ("brand_names", "routes", "uniis", "product_ndcs", "section_keys"):
            assert d[key] == sorted(d[key])
        assert [p["ndc"] for p in d["products"]] == sorted(p["ndc"] for p in d["products"])


def test_spl_compressed_inputs_are_streamed(tmp_path: Path, labels: dict[str, Record]) -> None:
    raw = (SPL_DIR / "lipitor-orig.xml").read_bytes()
    gz = tmp_path / "lipitor.xml.gz"
    gz.write_bytes(gzip.compress(raw))
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("20a11732.xml", raw)
        z.writestr("image.jpg", b"\xff\xd8")
    bulk = tmp_path / "dm_spl_release_human_rx_part1.zip"
    with zipfile.ZipFile(bulk, "w") as z:
        z.writestr("20140113_c6e131fe.zip", inner.getvalue())
        z.writestr("cough.xml", (SPL_DIR / "cough.xml").read_bytes())
    (r1,) = spl.parse([gz])
    recs, bad = split(list(spl.parse([bulk])))
    assert not bad and set(recs) == {LIPITOR, COUGH}
    assert isinstance(r1, Record) and r1.data == labels[LIPITOR].data
    assert recs[LIPITOR].data == labels[LIPITOR].data


def test_spl_same_set_id_twice_keeps_the_newest(tmp_path: Path) -> None:
    raw = (SPL_DIR / "lipitor-repack.xml").read_text("utf-8")
    newer = raw.replace('<versionNumber value="8"/>', '<versionNumber value="9"/>', 1)
    assert newer != raw
    (tmp_path / "a_v9_synthetic.xml").write_text(newer, "utf-8")
    (tmp_path / "b_v8.xml").write_text(raw, "utf-8")
    recs, bad = split(list(spl.parse([tmp_path])))
    assert recs[REPACK].data["version"] == 9
    (rej,) = bad
    assert rej.file_name == "b_v8.xml" and rej.field == "versionNumber"
    assert rej.record_id == REPACK and "a_v9_synthetic.xml with version 9" in rej.reason


def test_spl_malformed_documents_rejected(tmp_path: Path) -> None:
    raw = (SPL_DIR / "cough.xml").read_text("utf-8")
    files = {
        "truncated.xml": raw[:5000],
        "no_set_id.xml": re.sub(r"<setId [^>]*/>", "", raw, count=1),
        "bad_time.xml": raw.replace(
            '<effectiveTime value="20110426"/>', '<effectiveTime value="2011-13"/>', 1
        ),
        "bad_version.xml": raw.replace(
            '<versionNumber value="1"/>', '<versionNumber value="one"/>', 1
        ),
        "not_spl.xml": "<clinical_study><id>NCT0</id></clinical_study>",
    }
    for name, text in files.items():
        (tmp_path / f"synthetic_{name}").write_text(text, "utf-8")
    recs, bad = split(list(spl.parse([tmp_path])))
    assert not recs
    got = {b.file_name.removeprefix("synthetic_"): b for b in bad}
    assert set(got) == set(files)
    assert got["truncated.xml"].reason.startswith("not well-formed XML")
    assert got["truncated.xml"].line == raw[:5000].count("\n") + 1
    assert got["no_set_id.xml"].field == "setId" and "set id None" in got["no_set_id.xml"].reason
    # all five share the cough label's set id: the truncated copy's header is fine, so it is
    # the newest candidate; it fails to read, and the others are judged on their own
    assert got["bad_time.xml"].field == "effectiveTime" and got["bad_time.xml"].record_id == COUGH
    assert "'2011-13'" in got["bad_time.xml"].reason
    assert got["bad_version.xml"].field == "versionNumber"
    assert "not an HL7 v3 SPL <document>" in got["not_spl.xml"].reason


def test_spl_releases() -> None:
    (rel,) = spl.releases(DATA)
    spec, label, paths, when = rel
    assert spec is spl.SPEC and label == "spl_xml_openfda_tests" and len(paths) == 4
    assert when == date(2014, 1, 13)  # no date in the name: the newest label's effective time
    assert spl.releases(LABELS)[0][2] == paths


# ---------------------------------------------------------------- the section vocabulary


def test_vocabulary_covers_fda_codes_and_openfda_fields() -> None:
    rows = [line.rstrip("\n").split(",", 1) for line in (SPL_DIR / "spl_sections_loinc.csv").open()]
    assert len(rows) == 88
    for code, display in rows:
        assert ls.BY_CODE[code].display == display
    schema = json.loads((LABELS / "openfda_druglabel_schema.json").read_text())
    fields = [
        f for f in schema["properties"] if not f.endswith("_table") and f not in ol.META_FIELDS
    ]
    assert [f for f in fields if ls.openfda_section(f) is None] == []
    assert set(schema["properties"]["openfda"]["properties"]) == ol.OPENFDA_BLOCK_FIELDS
    merged = {
        f: ls.key_for_openfda_field(f) for f in ("warnings", "precautions", "warnings_and_cautions")
    }
    assert set(merged.values()) == {"warnings_and_cautions"}
    assert ls.key_for_openfda_field("nursing_mothers") == "lactation"
    assert ls.key_for_openfda_field("information_for_patients") == "patient_counseling"
    assert ls.key_for_openfda_field("spl_unclassified_section") == "spl_unclassified"
    assert ls.key_for_code("99999-9", "NEW THING SECTION") == "new_thing"


# ---------------------------------------------------------------- openFDA label JSON


def test_map_label_reads_the_openfda_shape() -> None:
    obj = {
        "id": "2C9FB32D-4B1B-B5DA-4BDF-6B06908BA8B3",
        "effective_time": "20130930",
        "version": "1560",
        "boxed_warning": ["WARNING: SERIOUS INFECTIONS AND MALIGNANCY ..."],
        "warnings": ["Old-format warnings."],
        "precautions": ["Old-format precautions.", "  "],
        "adverse_reactions_table": ["<table>...</table>"],
        "brand_new_field": ["kept under its own name"],
        "openfda": {
            "spl_set_id": [HUMIRA.upper()],
            "brand_name": ["HUMIRA"],
            "manufacturer_name": ["AbbVie Inc."],
            "route": ["SUBCUTANEOUS"],
            "substance_name": ["ADALIMUMAB"],
            "unii": ["FYS6T7F842"],
            "application_number": ["BLA125057"],
            "product_type": ["HUMAN PRESCRIPTION DRUG"],
            "pharm_class_epc": ["Tumor Necrosis Factor Blocker [EPC]"],
        },
    }
    rid, d, when = ol.map_label(copy.deepcopy(obj))
    assert rid == HUMIRA and when == date(2013, 9, 30) and d["version"] == 1560
    assert d["document_id"] == "2c9fb32d-4b1b-b5da-4bdf-6b06908ba8b3"
    assert d["document_type"] == "HUMAN PRESCRIPTION DRUG LABEL"
    assert d["active_ingredients"][0] == {
        "name": "ADALIMUMAB",
        "unii": "FYS6T7F842",
        "moiety": None,
        "moiety_unii": None,
    }
    assert [(s["key"], s["name"], s["code"]) for s in d["sections"]] == [
        ("boxed_warning", "boxed_warning", "34066-1"),
        ("warnings_and_cautions", "precautions", "42232-9"),
        ("warnings_and_cautions", "warnings", "34071-1"),
        ("brand_new_field", "brand_new_field", None),
    ]
    assert ls.section_text(d, "warnings_and_cautions") == (
        "Old-format precautions.\n\nOld-format warnings."
    )
    assert d["openfda"]["pharm_class_epc"] == ["Tumor Necrosis Factor Blocker [EPC]"]
    assert set(d) == set(spl.label_data("x", partial=False))  # the same shape as SPL records


def test_openfda_json_files_and_their_errors(tmp_path: Path) -> None:
    good = {"set_id": LIPITOR, "id": "a", "effective_time": "20140113", "version": "11"}
    older = {**good, "id": "b", "version": "10", "effective_time": "20120101"}
    page = {
        "meta": {"results": {"skip": 0, "limit": 5, "total": 5}},
        "results": [
            older,
            good,
            {"set_id": "not-a-uuid", "effective_time": "20140113"},
            {"set_id": COUGH, "effective_time": "2014"},
            {"set_id": HUMIRA, "effective_time": "20130930", "boxed_warning": [1, 2]},
        ],
    }
    f = tmp_path / "drug-label-0001-of-0001.json"
    text = json.dumps(page, indent=2)
    f.write_text(text, "utf-8")
    lines = text.splitlines()
    opening = next(i for i, x in enumerate(lines) if "not-a-uuid" in x)  # 0-based; "{" above
    recs, bad = split(list(ol.parse_label_json([f])))
    assert set(recs) == {LIPITOR} and recs[LIPITOR].data["version"] == 11
    by_field = {b.field: b for b in bad}
    assert lines[opening - 1].strip() == "{" and by_field["set_id"].line == opening
    assert "malformed set_id 'not-a-uuid'" in by_field["set_id"].reason
    assert by_field["effective_time"].record_id == COUGH
    assert by_field["boxed_warning"].reason == "field 'boxed_warning' is not a list of strings"
    assert "version 10 of 2012-01-01 is not read" in by_field["version"].reason
    assert by_field["version"].line == 10  # the older copy, first in the results
    broken = tmp_path / "drug-label-0002.json"
    broken.write_text('{"results": [\n {"set_id": "x"},\n {oops}\n]}', "utf-8")
    items = list(ol.parse_label_json([broken]))
    assert isinstance(items[-1], Rejected) and items[-1].line == 3
    assert items[-1].reason.startswith("not valid JSON at line 3")


# ---------------------------------------------------------------- flattened openFDA rows


def raw_rows() -> list[dict[str, str]]:
    with gzip.open(ROWS, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_flattened_rows_are_partial_labels() -> None:
    recs, bad = split(list(ol.parse_label_rows([ROWS])))
    rows = raw_rows()
    assert not bad and len(recs) == len(rows) == 235
    for row in rows:
        rec = recs["openfda_flat:" + row["set_id"]]
        d = rec.data
        assert (
            d["partial"] is True and d["set_id"] == row["set_id"] and d["document_id"] == row["id"]
        )
        assert d["effective_time"] == row["effective_time"] and d["version"] == int(row["version"])
        assert d["brand_names"] == [row["brand_name"]] and d["labeler"] == row["manufacturer_name"]
        assert d["routes"] == sorted(row["route"].split(", "))
        assert d["product_ndcs"] == sorted(row["product_ndc"].split(", "))
        texts = {s["name"]: s["text"] for s in d["sections"]}
        for col in ("active_ingredient", "purpose", "indications_and_usage", "warnings"):
            if row[col].strip().lower() == "null":  # the table's way of saying "no section"
                assert col not in texts
            else:
                assert texts[col] == row[col].strip()
        assert rec.raw is not None and row["set_id"] in rec.raw
    desitin = next(
        r
        for r in recs.values()
        if r.data["brand_names"] == ["Desitin Maximum Strength Diaper Rash"]
    )
    assert desitin.data["active_ingredients"][0]["name"] == "ZINC OXIDE"
    assert (ls.section_text(desitin.data, "warnings_and_cautions") or "").startswith(
        "Warnings For external use only"
    )


def test_flattened_rows_malformed(tmp_path: Path) -> None:
    header = "id,set_id,brand_name,route,purpose,effective_time,version,brand_name\n"
    lines = [
        f"a,{HUMIRA},Humira,SUBCUTANEOUS,Purpose x,20130930,3,Humira\n",
        "b,c,too,few\n",
        f"c,{LIPITOR},Lipitor,ORAL,null,2014-01-13,1,Lipitor\n",
        f"d,{COUGH},Triaminic,ORAL,Purpose y,20110426,1,Something else\n",
        f'e,{HUMIRA},Humira,SUBCUTANEOUS,"Purpose\nover two lines",20120101,2,Humira\n',
        f"f,{REPACK},Lipitor,ORAL,Purpose \xe9,20120229,8,Lipitor\n",
    ]
    f = tmp_path / "synthetic_openfda_labels.csv"
    f.write_bytes(header.encode() + "".join(lines[:5]).encode() + lines[5].encode("latin-1"))
    recs, bad = split(list(ol.parse_label_rows([f])))
    assert set(recs) == {"openfda_flat:" + HUMIRA}
    assert recs["openfda_flat:" + HUMIRA].data["version"] == 3
    got = {b.line: b for b in bad}
    assert got[3].reason == "expected 8 columns, found 4"
    assert got[4].field == "effective_time" and "'2014-01-13'" in got[4].reason
    assert got[5].field == "brand_name" and "disagree" in got[5].reason
    assert got[8].reason == "row is not valid UTF-8"
    dup = next(b for b in bad if b.field == "version")  # lines 6-7: an older version of HUMIRA
    assert dup.line == 6 and dup.raw is not None and dup.raw.startswith("e,")
    assert (
        dup.record_id == "openfda_flat:" + HUMIRA
        and "version 2 of 2012-01-01 is not read" in dup.reason
    )
    (tmp_path / "no_set_id.csv").write_text("id,brand_name\nx,y\n", "utf-8")
    (rej,) = ol.parse_label_rows([tmp_path / "no_set_id.csv"])
    assert isinstance(rej, Rejected) and rej.line == 1 and "lacks column(s)" in rej.reason


# ---------------------------------------------------------------- adverse reactions by brand


def test_adverse_reactions_by_brand() -> None:
    with gzip.open(BY_BRAND, "rt", encoding="utf-8") as fh:
        raw: dict[str, str] = json.load(fh)
    recs, bad = split(list(ol.parse_adverse_by_brand([BY_BRAND])))
    filled = {k: v for k, v in raw.items() if v.strip()}
    assert not bad and len(raw) == 1444 and len(recs) == len(filled) == 344
    fetzima = recs["openfda_ar_brand:FETZIMA"].data
    assert fetzima["brand_names"] == ["FETZIMA"] and fetzima["partial"] is True
    assert fetzima["sections"][0]["text"] == raw["FETZIMA"].strip()
    assert fetzima["section_keys"] == ["adverse_reactions"]
    cut = sum(len(v) == 2500 for v in filled.values())
    assert sum(r.data["truncated"] for r in recs.values()) == cut == 310


def test_adverse_reactions_by_brand_malformed(tmp_path: Path) -> None:
    f = tmp_path / "synthetic_adverse_reactions_by_brand.json"
    f.write_text('{\n"A": "text a",\n"B": 3,\n"A": "other",\n"": "x",\n"C": ""\n}', "utf-8")
    recs, bad = split(list(ol.parse_adverse_by_brand([f])))
    assert set(recs) == {"openfda_ar_brand:A"}
    got = {b.line: b for b in bad}
    assert got[3].field == "B" and got[3].reason == "text of 'B' is not a string"
    assert got[4].reason == "brand 'A' appears again (line 2) with another text"
    assert got[5].reason == "empty brand name"


# ---------------------------------------------------------------- OnSIDES


def test_onsides_tac2017_labels_and_annotations() -> None:
    raw: list[dict[str, Any]] = []
    for p in TAC:
        with gzip.open(p, "rt", encoding="utf-8") as fh:
            raw.extend(json.load(fh))
    recs, bad = split(list(ol.parse_onsides_tac(TAC)))
    assert not bad and len(recs) == len({i["label_id"] for i in raw}) == 200
    actemra = recs["onsides_tac2017:ACTEMRA"].data
    assert actemra["corpora"] == ["test"] and actemra["brand_names"] == ["ACTEMRA"]
    assert [s["key"] for s in actemra["sections"]] == [
        "boxed_warning",
        "warnings_and_cautions",
        "adverse_reactions",
    ]
    item = next(
        i for i in raw if i["label_id"] == "ACTEMRA" and i["section_name"] == "adverse reactions"
    )
    (ar,) = sections(recs["onsides_tac2017:ACTEMRA"], "adverse_reactions")
    assert ar["text"] == item["section_text"]  # verbatim: the offsets point into it
    events = [e for e in actemra["adverse_events"] if e["section"] == "adverse_reactions"]
    assert len(events) == len(item["adverse_events"])
    hits = [e for e in events if e["start"] is not None]
    found = [
        ar["text"][e["start"] : e["start"] + e["length"]].lower() == e["mention"] for e in hits
    ]
    assert sum(found) / len(found) > 0.9
    first = item["adverse_events"][0]
    assert {
        "mention": first[0],
        "meddra_pt_id": int(first[2]),
        "annotator": first[7],
    }.items() <= next(e for e in events if e["mention"] == first[0]).items()
    assert sum(len(r.data["adverse_events"]) for r in recs.values()) == sum(
        len(i["adverse_events"]) for i in raw
    )


def test_onsides_pediatric_normalises_ids_and_sets_bad_annotations_aside() -> None:
    recs, bad = split(list(ol.parse_onsides_pediatric([PED])))
    assert len(recs) == 343
    rec = recs["onsides_ped:03da19ea-d024-469b-a606-892170bb9ccd"].data
    assert rec["set_id"] == "03da19ea-d024-469b-a606-892170bb9ccd"
    assert rec["section_keys"] == ["pediatric_use"]
    # the file writes "10044346", NaN, NaN, 2095.0, 31
    assert rec["adverse_events"][0] == {
        "section": "pediatric_use",
        "mention": "hepatic transaminase elevations",
        "meddra_pt": "Transaminase NOS increased",
        "meddra_pt_id": 10044346,
        "meddra_llt": None,
        "meddra_llt_id": None,
        "start": 2095,
        "length": 31,
        "annotator": None,
    }
    # real quirk: a mention mapped to two terms has its code written "1, 0, 0, 1, 8, 6, 5, 1"
    assert len(bad) == 19 and {b.field for b in bad} == {"adverse_events"}
    first = next(
        b for b in bad if b.record_id == "onsides_ped:052dbbdb-4a8d-4a7b-a601-0edef0d2ab7a"
    )
    assert first.line == 33 and first.raw is not None and '"1, 0, 0, 1, 8, 6, 5, 1"' in first.raw
    assert "Hepatotoxicity, Death" in first.raw and "is not a number" in first.reason
    kept = recs[first.record_id].data["adverse_events"]
    assert kept and all(e["mention"] != "fatal hepatotoxicity" for e in kept)


def test_onsides_malformed(tmp_path: Path) -> None:
    f = tmp_path / "synthetic-demner-fushman-train-labels.json"
    items: list[Any] = [
        {
            "label_id": "X",
            "section_name": "adverse reactions",
            "section_text": "rash",
            "adverse_events": [["rash", "Rash", 1.0, "Rash", 1.0, "0", "4", "human"]],
        },
        {
            "label_id": "",
            "section_name": "adverse reactions",
            "section_text": "t",
            "adverse_events": [],
        },
        {
            "label_id": "X",
            "section_name": "adverse reactions",
            "section_text": "again",
            "adverse_events": [],
        },
        {
            "label_id": "Y",
            "section_name": "boxed warnings",
            "section_text": "",
            "adverse_events": [],
        },
        {
            "label_id": "Z",
            "section_name": "boxed warnings",
            "section_text": "z",
            "adverse_events": "none",
        },
        ["not", "an", "object"],
    ]
    f.write_text("[\n" + ",\n".join(json.dumps(i) for i in items) + "\n]", "utf-8")
    recs, bad = split(list(ol.parse_onsides_tac([f])))
    assert set(recs) == {"onsides_tac2017:X"}
    assert recs["onsides_tac2017:X"].data["corpora"] == ["train"]
    got = {b.line: b for b in bad}
    assert got[3].field == "label_id" and got[3].reason == "missing label_id: ''"
    assert got[4].field == "section_name" and "appears again" in got[4].reason
    assert got[5].field == "section_text" and got[5].record_id == "onsides_tac2017:Y"
    assert got[6].field == "adverse_events" and got[6].reason == "adverse_events is not a list"
    assert got[7].reason == "item is not a JSON object in a top-level array"


# ---------------------------------------------------------------- releases


def test_label_releases_and_dates() -> None:
    found = {spec.name: (label, paths, when) for spec, label, paths, when in ol.releases(DATA)}
    assert set(found) == {
        "openfda_label_rows",
        "openfda_adverse_by_brand",
        "onsides_tac2017",
        "onsides_pediatric",
    }
    newest = max(r["effective_time"] for r in raw_rows())
    assert found["openfda_label_rows"][2] == date(
        int(newest[:4]), int(newest[4:6]), int(newest[6:])
    )
    source_note = (LABELS / "onsides_tac2017" / "SOURCE").read_text().split()[-1]
    assert found["onsides_tac2017"][2] == date.fromisoformat(source_note)
    assert found["onsides_tac2017"][1] == tuple(TAC)
    assert found["onsides_pediatric"][1] == (PED,)
    dates = [when for *_, when in ol.releases(LABELS)]
    assert dates == sorted(dates)
