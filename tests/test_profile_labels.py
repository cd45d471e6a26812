"""The label profile (``profile.labels``): the real label files of ../shared/data/fda/labels
loaded and built over the cut-down fixture vocabulary, which knows adalimumab, atorvastatin,
acetaminophen, pembrolizumab and trastuzumab but not diphenhydramine or phenylephrine."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select

from drugradar.dictionary.ingest import load_release
from drugradar.profile import labels as pl
from drugradar.resolve import Resolver
from drugradar.sources import openfda_labels as ol
from drugradar.sources import spl
from drugradar.sources.base import Record
from drugradar.sources.registry import Release, profile_releases
from drugradar.store.schema import label, label_drug, label_section, unlinked_name

from .conftest import ROOT

DATA = ROOT.parent / "shared" / "data"
LABELS = DATA / "fda" / "labels"
ROWS = LABELS / "openfda_section_extracts" / "databricks_clean_drug_table_openfda_labels.csv.gz"

pytestmark = pytest.mark.skipif(not LABELS.is_dir(), reason="shared label data not present")

# Read by hand from each file's <setId>, <versionNumber>, <effectiveTime>, ingredient UNIIs.
HUMIRA = "608d4f0d-b19f-46d3-749a-7159aa5f933d"  # v1560, 2013-09-30, adalimumab FYS6T7F842
LIPITOR = "c6e131fe-e7df-4876-83f7-9156fc4e8228"  # v11, 2014-01-13, 48A5M73Z4Q
REPACK = "17a163ef-b349-4e32-bc8c-b02bac7f65d6"  # v8, 2012-02-29, PD-Rx, 48A5M73Z4Q
COUGH = "00f66f25-3469-4c16-9baf-fba21e9628bd"  # Triaminic: TC2D6JAD40 + 04JA59TNSJ
PED_SET_ID = "02a70900-90dd-43e0-b5f6-e618ccb07859"  # an OnSIDES-PED label (set id only)


def _build(engine: Engine) -> dict[str, int]:
    with engine.begin() as conn:
        return pl.build(conn, Resolver(engine))


def _drug(engine: Engine, name: str) -> str:
    res = Resolver(engine).resolve_many([name], fuzzy=False)[0]
    assert res.matches, name
    return res.matches[0].drug_id


def _rows(engine: Engine, table: Any, *order: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(select(table).order_by(*order))]


@pytest.fixture(scope="module")
def built(loaded_module: Engine) -> Iterator[Engine]:
    for release in profile_releases(DATA, ("labels",)):
        load_release(loaded_module, release)
    _build(loaded_module)
    yield loaded_module


def _label(engine: Engine, label_id: str) -> Any:
    with engine.connect() as c:
        return c.execute(select(label).where(label.c.id == label_id)).one()


def _drugs_of(engine: Engine, label_id: str) -> list[tuple[str, str, str]]:
    with engine.connect() as c:
        rows = c.execute(
            select(label_drug.c.drug_id, label_drug.c.name, label_drug.c.match_kind)
            .where(label_drug.c.label_id == label_id)
            .order_by(label_drug.c.drug_id)
        )
        return [tuple(r) for r in rows]


def _sections_of(engine: Engine, drug_id: str) -> list[dict[str, Any]]:
    with engine.connect() as c:
        return pl.sections_of(c, drug_id)


# ---------------------------------------------------------------- label and label_section


def test_label_rows_carry_the_header_and_provenance(built: Engine) -> None:
    h = _label(built, HUMIRA)
    assert (h.set_id, h.version, h.effective_date) == (HUMIRA, "1560", date(2013, 9, 30))
    assert h.labeler == "AbbVie Inc." and h.partial is False
    assert json.loads(h.brand_names) == ["Humira"]
    assert json.loads(h.routes) == ["SUBCUTANEOUS"]  # the kit's alcohol swab is not a route
    assert (h.source, h.source_record_id) == ("spl_labels", HUMIRA)
    assert h.licence == "public domain (FDA)" and h.source_date is not None
    r = _label(built, REPACK)
    assert (r.version, r.effective_date, r.labeler) == (
        "8",
        date(2012, 2, 29),
        "PD-Rx Pharmaceuticals, Inc.",
    )


def test_partial_labels_are_marked_partial(built: Engine) -> None:
    with built.connect() as c:
        pairs = [
            tuple(r)
            for r in c.execute(
                select(label.c.source, label.c.partial).distinct().order_by(label.c.source)
            )
        ]
    assert pairs == [  # one flag per source
        ("onsides_pediatric", True),
        ("onsides_tac2017", True),
        ("openfda_adverse_by_brand", True),
        ("openfda_label_rows", True),
        ("spl_labels", False),
    ]
    k = _label(built, "onsides_tac2017:KEYTRUDA")
    assert k.partial is True and json.loads(k.brand_names) == ["KEYTRUDA"]
    assert k.set_id is None and k.effective_date is None
    ped = _label(built, "onsides_ped:" + PED_SET_ID)
    assert ped.partial is True and ped.set_id == PED_SET_ID


def test_sections_in_document_order_with_plain_text(built: Engine) -> None:
    parsed = {
        r.record_id: r
        for r in spl.parse([LABELS / "spl_xml_openfda_tests"])
        if isinstance(r, Record)
    }
    with built.connect() as c:
        rows = c.execute(
            select(label_section)
            .where(label_section.c.label_id == HUMIRA)
            .order_by(label_section.c.position)
        ).all()
    want = parsed[HUMIRA].data["sections"]
    assert [r.position for r in rows] == list(range(len(want)))
    assert [(r.key, r.code, r.title, r.level, r.parent_code, r.text) for r in rows] == [
        (s["key"], s["code"], s["title"], s["level"], s["parent_code"], s["text"]) for s in want
    ]
    first = rows[0]
    assert (first.key, first.code, first.title) == (
        "boxed_warning",
        "34066-1",
        "WARNING: SERIOUS INFECTIONS AND MALIGNANCY",
    )
    assert not any("<" in r.text and "</" in r.text for r in rows)  # never HTML
    # 6.1 Clinical Trials Experience is a subsection of 6 ADVERSE REACTIONS (34084-4)
    sub = next(r for r in rows if (r.title or "").startswith("6.1"))
    assert (sub.level, sub.parent_code) == (2, "34084-4")


# ---------------------------------------------------------------- label_drug


def test_labels_link_their_drugs_by_unii(built: Engine) -> None:
    ada, ator = _drug(built, "adalimumab"), _drug(built, "atorvastatin")
    assert _drugs_of(built, HUMIRA) == [(ada, "FYS6T7F842", "unii")]
    # the salt form's UNII (atorvastatin calcium trihydrate) names atorvastatin
    assert _drugs_of(built, LIPITOR) == [(ator, "48A5M73Z4Q", "unii")]
    assert _drugs_of(built, REPACK) == [(ator, "48A5M73Z4Q", "unii")]


def test_partial_labels_link_by_name_or_brand(built: Engine) -> None:
    pembro = _drug(built, "pembrolizumab")
    assert _drugs_of(built, "onsides_tac2017:KEYTRUDA") == [(pembro, "KEYTRUDA", "exact")]
    assert _drugs_of(built, "openfda_ar_brand:HUMIRA") == [
        (_drug(built, "adalimumab"), "HUMIRA", "exact")
    ]
    apap = _drug(built, "acetaminophen")
    with gzip.open(ROWS, "rt", encoding="utf-8", newline="") as fh:
        sets = {r["set_id"] for r in csv.DictReader(fh) if r["substance_name"] == "ACETAMINOPHEN"}
    assert sets
    for set_id in sets:
        assert _drugs_of(built, "openfda_flat:" + set_id) == [(apap, "ACETAMINOPHEN", "exact")]


def test_unresolved_label_is_kept_and_its_names_reported(built: Engine) -> None:
    # the fixture vocabulary knows neither diphenhydramine nor phenylephrine
    assert _label(built, COUGH).title == "Drug Facts"
    assert _drugs_of(built, COUGH) == []
    with built.connect() as c:
        names = set(
            c.execute(
                select(unlinked_name.c.name).where(unlinked_name.c.source == "spl_labels")
            ).scalars()
        )
    assert {"DIPHENHYDRAMINE HYDROCHLORIDE", "PHENYLEPHRINE HYDROCHLORIDE"} <= names
    assert "TRIAMINIC Childrens Night Time Cold and Cough" in names


# ---------------------------------------------------------------- the monograph


def test_humira_boxed_warning(built: Engine) -> None:
    secs = _sections_of(built, _drug(built, "adalimumab"))
    assert secs[0]["key"] == "boxed_warning"
    bw = secs[0]
    assert bw["title"] == "WARNING: SERIOUS INFECTIONS AND MALIGNANCY"
    assert bw["text"].startswith("SERIOUS INFECTIONS\n\nPatients treated with HUMIRA")
    assert "MALIGNANCY" in bw["text"] and "hepatosplenic T-cell lymphoma" in bw["text"]
    assert (bw["label_id"], bw["source"], bw["partial"]) == (HUMIRA, "spl_labels", False)
    assert bw["effective_date"] == date(2013, 9, 30)
    # the complete label beats the partial adverse reactions extract of the same brand
    ar = next(s for s in secs if s["key"] == "adverse_reactions")
    assert ar["label_id"] == HUMIRA and "6.1 Clinical Trials Experience" in ar["text"]


def test_lipitor_indications_and_one_label_per_section(built: Engine) -> None:
    ator = _drug(built, "atorvastatin")
    secs = _sections_of(built, ator)
    keys = [s["key"] for s in secs]
    assert keys[:3] == [
        "indications_and_usage",
        "dosage_and_administration",
        "dosage_forms_and_strengths",
    ]
    ind = secs[0]
    assert ind["title"] == "1 INDICATIONS AND USAGE"
    assert ind["text"].startswith(
        "Therapy with lipid-altering agents should be only one component of multiple risk"
    )
    # subsections follow, each with its title: 1.1 Prevention of Cardiovascular Disease…
    assert "\n\n1.1 Prevention of Cardiovascular Disease\n\nIn adult patients" in ind["text"]
    assert "Reduce the risk of myocardial infarction" in ind["text"]
    assert "1.3 Limitations of Use" in ind["text"]
    # original (2014, v11) and repack (2012, v8) share most sections: the newer wins each
    assert {s["label_id"] for s in secs} == {LIPITOR}
    assert secs == _sections_of(built, ator)  # deterministic
    # Mechanism of Action is an entry of its own, not repeated inside Clinical Pharmacology
    moa = next(s for s in secs if s["key"] == "mechanism_of_action")
    assert moa["text"].startswith("LIPITOR is a selective, competitive inhibitor of HMG-CoA")
    assert not any("selective, competitive inhibitor" in s["text"] for s in secs if s is not moa)
    with built.connect() as c:
        assert pl.route_of(c, ator) == ["ORAL"]


def test_partial_monograph_and_newest_partial_label(built: Engine) -> None:
    secs = _sections_of(built, _drug(built, "pembrolizumab"))
    assert [s["key"] for s in secs] == ["warnings_and_cautions", "adverse_reactions"]
    assert all(s["partial"] and s["source"] == "onsides_tac2017" for s in secs)
    assert "Immune-mediated pneumonitis" in secs[1]["text"]
    # acetaminophen: only flattened openFDA rows; each section from the newest row having it
    with gzip.open(ROWS, "rt", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["substance_name"] == "ACETAMINOPHEN"]
    has = [r for r in rows if r["indications_and_usage"].strip().lower() not in ("", "null")]
    newest = max(r["effective_time"] for r in has)
    best = sorted(r["set_id"] for r in has if r["effective_time"] == newest)[0]
    apap = {s["key"]: s for s in _sections_of(built, _drug(built, "acetaminophen"))}
    ind = apap["indications_and_usage"]
    assert (ind["label_id"], ind["partial"]) == ("openfda_flat:" + best, True)
    assert ind["effective_date"].strftime("%Y%m%d") == newest
    assert ind["title"] == "Indications & Usage"  # openFDA gives no title: LOINC's name


def test_rebuild_is_idempotent(built: Engine) -> None:
    tables = [
        (label, label.c.id),
        (label_section, label_section.c.label_id, label_section.c.position),
        (label_drug, label_drug.c.label_id, label_drug.c.drug_id),
        (unlinked_name, unlinked_name.c.source, unlinked_name.c.name),
    ]
    before = [_rows(built, t, *o) for t, *o in tables]
    first = _build(built)
    assert [_rows(built, t, *o) for t, *o in tables] == before
    assert _build(built) == first
    assert first["label"] == len(before[0]) and first["label_drug"] == len(before[2])


# ---------------------------------------------------------------- openFDA JSON beside SPL


def _openfda(set_id: str, version: str, when: str, **block: list[str]) -> dict[str, Any]:
    return {
        "set_id": set_id,
        "id": "9f0c2a4e-0000-4000-8000-" + set_id[-12:],
        "version": version,
        "effective_time": when,
        "adverse_reactions": [f"Adverse reactions of {set_id} v{version}."],
        "openfda": block,
    }


def test_openfda_copies_combinations_and_set_id_links(loaded: Engine, tmp_path: Path) -> None:
    """SYNTHETIC openFDA label JSON (written here) loaded beside the real SPL and OnSIDES-PED
    records: a set id in both sources is one label; a combination links each ingredient; a
    label with a set id only takes the drugs of its set id's other label."""
    for release in profile_releases(DATA, ("labels",)):
        if release.spec.name in ("spl_labels", "onsides_pediatric"):
            load_release(loaded, release)
    combo = "5a3c9d2e-1111-4222-8333-444455556666"
    items = [
        # openFDA's copy of Humira, older than the SPL file: the SPL file is kept
        _openfda(HUMIRA, "1500", "20130101", brand_name=["HUMIRA"], unii=["FYS6T7F842"]),
        # Lipitor's repack, newer than the SPL file: openFDA's copy is kept
        _openfda(REPACK, "9", "20150101", substance_name=["ATORVASTATIN CALCIUM"]),
        # a combination product: two UNIIs openFDA does not pair with the two names
        _openfda(
            combo,
            "1",
            "20190228",
            brand_name=["HERCEPTIN HYLECTA"],
            substance_name=["HYALURONIDASE (HUMAN RECOMBINANT)", "TRASTUZUMAB"],
            unii=["743QUY4VD8", "P188ANX8CK"],
            route=["SUBCUTANEOUS"],
        ),
        # the OnSIDES-PED label's set id, as a whole label naming its drug
        _openfda(PED_SET_ID, "3", "20160101", generic_name=["adalimumab"]),
    ]
    path = tmp_path / "drug-label-synthetic.json"
    path.write_bytes(orjson.dumps({"meta": {}, "results": items}))
    load_release(loaded, Release(ol.LABELS_SPEC, "synthetic", (path,), date(2026, 1, 1)))
    counts = _build(loaded)
    assert counts["duplicate_set_ids"] == 2
    assert _label(loaded, HUMIRA).source == "spl_labels"
    rep = _label(loaded, REPACK)
    assert (rep.source, rep.version, rep.partial) == ("openfda_labels", "9", False)
    with loaded.connect() as c:
        texts = c.execute(
            select(label_section.c.text).where(label_section.c.label_id == REPACK)
        ).scalars()
        assert list(texts) == [f"Adverse reactions of {REPACK} v9."]
    tras, hyal = _drug(loaded, "trastuzumab"), _drug(loaded, "hyaluronidase (human recombinant)")
    assert sorted(_drugs_of(loaded, combo)) == sorted(
        [(tras, "P188ANX8CK", "unii"), (hyal, "743QUY4VD8", "unii")]
    )
    ada = _drug(loaded, "adalimumab")
    assert _drugs_of(loaded, PED_SET_ID) == [(ada, "adalimumab", "exact")]
    assert _drugs_of(loaded, "onsides_ped:" + PED_SET_ID) == [(ada, PED_SET_ID, "set_id")]
    secs = _sections_of(loaded, tras)
    assert [(s["key"], s["label_id"]) for s in secs] == [("adverse_reactions", combo)]
    with loaded.connect() as c:
        assert pl.route_of(c, tras) == ["SUBCUTANEOUS"]
    # adalimumab: the complete SPL label first; pediatric use from the newest label having it
    ada_secs = {s["key"]: s for s in _sections_of(loaded, ada)}
    assert ada_secs["boxed_warning"]["label_id"] == HUMIRA
    assert ada_secs["adverse_reactions"]["label_id"] == PED_SET_ID  # 2016 beats 2013
    assert ada_secs["pediatric_use"]["label_id"] == HUMIRA  # complete beats partial
