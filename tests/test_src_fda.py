"""Drugs@FDA and Orange Book parsers on real files (a byte-for-byte cut in
``tests/fixtures/fda`` and, where cheap, the full files in ``../shared/data/fda``), and on
synthetic malformed rows, which are rejected with file, line, field and reason."""

from __future__ import annotations

import gzip
import json
import zipfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

from drugradar.sources import drugsatfda, orange_book
from drugradar.sources.base import Record, Rejected, SourceSpec

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "fda"
SHARED = ROOT.parent / "shared" / "data" / "fda"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/fda is absent")


def split(items: Iterable[Record | Rejected]) -> tuple[dict[str, Record], list[Rejected]]:
    recs: dict[str, Record] = {}
    bad: list[Rejected] = []
    for item in items:
        if isinstance(item, Record):
            assert item.record_id not in recs, f"record id {item.record_id} yielded twice"
            recs[item.record_id] = item
        else:
            bad.append(item)
    return recs, bad


def release(
    module: ModuleType, folder: Path, spec: SourceSpec, label: str
) -> tuple[dict[str, Record], list[Rejected]]:
    found = [r for r in module.releases(folder) if r[0] is spec and r[1] == label]
    assert len(found) == 1, f"no single {spec.name} release {label}"
    return split(found[0][0].parse(found[0][2]))


def fda(spec: SourceSpec, label: str) -> tuple[dict[str, Record], list[Rejected]]:
    return release(drugsatfda, FIXTURE / "drugsatfda", spec, label)


def ob(spec: SourceSpec, label: str) -> tuple[dict[str, Record], list[Rejected]]:
    return release(orange_book, FIXTURE / "orange-book", spec, label)


# ---------------------------------------------------------------- release discovery


def test_drugsatfda_releases_one_per_kind_and_folder() -> None:
    found = {
        (s.name, label): (paths, day)
        for s, label, paths, day in drugsatfda.releases(FIXTURE / "drugsatfda")
    }
    by_kind: dict[str, list[str]] = {}
    for name, label in found:
        by_kind.setdefault(name, []).append(label)
    assert sorted(by_kind["fda_applications"]) == [
        "2016-06_legacy_schema",
        "2019-07_full",
        "2023-04",
        "2024-01",
        "2025-02",
        "2025-07",
        "2025-09",
    ]
    assert sorted(by_kind["fda_products"]) == [
        "2016-06_legacy_schema",
        "2018-07_products_only",
        "2019-07_full",
        "2023-04",
    ]
    # 2024-01 has MarketingStatus but no TE.txt: left out (its TE codes would all vanish)
    assert "2024-01" not in by_kind["fda_marketing_status"]
    assert len(by_kind["fda_marketing_status"]) == 6
    assert sorted(by_kind["fda_submissions"]) == ["2016-06_legacy_schema", "2019-07_full"]
    # dates from the folder names; the products-only folder borrows the nearest Applications
    paths, day = found[("fda_products", "2018-07_products_only")]
    assert day == date(2018, 7, 1)
    assert [p.parent.name + "/" + p.name for p in paths] == [
        "2018-07_products_only/Products.txt.gz",
        "2019-07_full/drugsatfda.zip",
    ]
    assert found[("fda_submissions", "2016-06_legacy_schema")][1] == date(2016, 6, 1)
    days = [r[3] for r in drugsatfda.releases(FIXTURE / "drugsatfda")]
    assert days == sorted(days)


def test_release_dates_from_folder_names() -> None:
    assert drugsatfda.folder_date("2019-07_full") == date(2019, 7, 1)
    assert drugsatfda.folder_date("2016_08") == date(2016, 8, 1)
    assert drugsatfda.folder_date("legacy") is None


@needs_shared
def test_real_folders_give_the_same_releases_as_the_fixture() -> None:
    def kinds(module: ModuleType, folder: Path) -> list[tuple[str, str, date]]:
        return [(s.name, label, day) for s, label, _, day in module.releases(folder)]

    assert kinds(drugsatfda, SHARED / "drugsatfda") == kinds(drugsatfda, FIXTURE / "drugsatfda")
    assert kinds(orange_book, SHARED / "orange-book") == kinds(orange_book, FIXTURE / "orange-book")


def test_orange_book_releases() -> None:
    found = [
        (s.name, label, day) for s, label, _, day in orange_book.releases(FIXTURE / "orange-book")
    ]
    patents = [label for name, label, _ in found if name == "ob_patents"]
    exclusivities = [label for name, label, _ in found if name == "ob_exclusivities"]
    assert patents == ["2019-07", "2020-04", "2022-06", "2022-12", "2025-05", "2026-01", "2026-05"]
    assert exclusivities == [p for p in patents if p != "2025-05"]  # 2025-05: patents only
    assert ("ob_patents", "2025-05", date(2025, 5, 1)) in found


# ---------------------------------------------------------------- Drugs@FDA, current layout


def test_lipitor_application_products_status_and_approval() -> None:
    apps, bad = fda(drugsatfda.APPLICATIONS, "2019-07_full")
    assert not bad
    assert apps["NDA020702"].data == {
        "appl_type": "NDA",
        "appl_no": "020702",
        "sponsor": "PFIZER",
        "public_notes": None,
    }
    products, _ = fda(drugsatfda.PRODUCTS, "2019-07_full")
    lipitor = {k: r.data for k, r in products.items() if k.startswith("NDA020702/")}
    # Products.txt: 020702 001..004 TABLET;ORAL EQ 10/20/40/80MG BASE, RLD 1, standard only 004
    assert sorted(lipitor) == [f"NDA020702/00{i}" for i in range(1, 5)]
    assert [lipitor[k]["strength"] for k in sorted(lipitor)] == [
        "EQ 10MG BASE",
        "EQ 20MG BASE",
        "EQ 40MG BASE",
        "EQ 80MG BASE",
    ]
    p4 = lipitor["NDA020702/004"]
    assert p4["brand_name"] == "LIPITOR"
    assert p4["active_ingredients"] == ["ATORVASTATIN CALCIUM"]
    assert (p4["form"], p4["dosage_form"], p4["route"]) == ("TABLET;ORAL", "TABLET", "ORAL")
    assert p4["reference_drug"] is True and p4["reference_standard"] is True
    assert lipitor["NDA020702/001"]["reference_standard"] is False
    status, _ = fda(drugsatfda.MARKETING_STATUS_SPEC, "2019-07_full")
    assert status["NDA020702/001"].data["marketing_status"] == "Prescription"
    assert status["NDA020702/001"].data["te_codes"] == ["AB"]
    subs, _ = fda(drugsatfda.SUBMISSIONS, "2019-07_full")
    orig = subs["NDA020702/ORIG/1"].data
    # Submissions.txt: 020702 7 ORIG 1 AP 1996-12-17 PRIORITY; class 7 = TYPE 1
    assert orig["status"] == "AP" and orig["status_date"] == "1996-12-17"
    assert orig["review_priority"] == "PRIORITY"
    assert orig["class_code"] == "TYPE 1"
    assert orig["class_description"] == "Type 1 - New Molecular Entity"
    assert subs["NDA020702/SUPPL/73"].data["class_code"] == "LABELING"


def test_gleevec_orphan_original_and_documents() -> None:
    subs, _ = fda(drugsatfda.SUBMISSIONS, "2019-07_full")
    orig = subs["NDA021588/ORIG/1"].data
    # 021588 12 ORIG 1 AP 2003-04-18 PRIORITY; SubmissionPropertyType: ORIG 1 Orphan
    assert (orig["status_date"], orig["class_code"]) == ("2003-04-18", "TYPE 3")
    assert orig["orphan"] is True
    assert subs["NDA021588/SUPPL/1"].data["orphan"] is False
    urls = {d["url"] for d in orig["documents"]}
    assert "http://www.accessdata.fda.gov/drugsatfda_docs/label/2003/021588lbl.pdf" in urls
    dates = [d["date"] or "" for d in orig["documents"]]
    assert dates == sorted(dates)
    products, _ = fda(drugsatfda.PRODUCTS, "2019-07_full")
    capsule = products["NDA021335/001"].data
    assert capsule["strength"].startswith("EQ 50MG BASE **Federal Register determination")


def test_humira_is_a_cder_bla_with_products_without_route() -> None:
    products, _ = fda(drugsatfda.PRODUCTS, "2019-07_full")
    syringe = products["BLA125057/001"].data
    assert (syringe["brand_name"], syringe["form"], syringe["dosage_form"], syringe["route"]) == (
        "HUMIRA",
        "SYRINGE",
        "SYRINGE",
        None,
    )
    subs, _ = fda(drugsatfda.SUBMISSIONS, "2019-07_full")
    assert subs["BLA125057/ORIG/1"].data["status_date"] == "2002-12-31"
    docs = subs["BLA125057/ORIG/1"].data["documents"]
    # ApplicationDocs: type 1 (Letter), title "0" (none), 2004-03-16
    assert {
        "type": "Label",
        "title": None,
        "url": "http://www.accessdata.fda.gov/drugsatfda_docs/label/2002/adalabb123102LB.htm",
        "date": "2004-03-16",
    } in docs
    assert docs[1] == {
        "type": "Letter",
        "title": None,
        "url": "http://www.accessdata.fda.gov/drugsatfda_docs/appletter/2002/adalabb123102L.htm",
        "date": "2004-03-16",
    }


def test_quirks_of_the_real_files() -> None:
    subs, bad = fda(drugsatfda.SUBMISSIONS, "2019-07_full")
    # cp1252 right quote (0x92) in a UTF-8-less row
    assert subs["NDA021812/SUPPL/10"].data["public_notes"] == "Label for Men\u2019s Rogaine"
    # a document URL ending in a cp1252 no-break space is trimmed
    letter = next(d for d in subs["NDA021156/SUPPL/3"].data["documents"] if d["type"] == "Letter")
    assert letter["url"].endswith("/020998s033,021156s003ltr.pdf")
    # 050170 has submissions but no Applications.txt row: its type is unknown
    orphans = [b for b in bad if b.record_id == "050170"]
    assert orphans and all(b.field == "ApplNo" for b in orphans)
    assert orphans[0].reason == (
        "ApplNo 050170 is not in the release's Applications table, so its type is unknown"
    )
    assert orphans[0].file_name == "drugsatfda.zip/Submissions.txt"
    products, bad = fda(drugsatfda.PRODUCTS, "2019-07_full")
    assert products["NDA017412/002"].data["brand_name"] == 'GERMA-MEDICA "MG"'
    assert products["ANDA206029/001"].data["reference_standard"] is None  # trailing empty column
    assert [b.record_id for b in bad] == ["040850"]
    p2023, bad = fda(drugsatfda.PRODUCTS, "2023-04")
    fixed = p2023["ANDA208619/002"].data  # a stray tab after Strength
    assert (fixed["strength"], fixed["reference_drug"], fixed["brand_name"]) == (
        "1GM/100ML (10MG/ML)",
        False,
        "LEVETIRACETAM IN SODIUM CHLORIDE",
    )
    status, _ = fda(drugsatfda.MARKETING_STATUS_SPEC, "2019-07_full")
    plan_b = status["ANDA090740/001"].data  # MarketingStatus.txt lists it as 1 and as 2
    assert plan_b["marketing_status_ids"] == [1, 2]
    assert (plan_b["marketing_status_id"], plan_b["marketing_status"]) == (1, "Prescription")


def test_application_type_changes_between_releases() -> None:
    old, _ = fda(drugsatfda.APPLICATIONS, "2019-07_full")
    new, bad = fda(drugsatfda.APPLICATIONS, "2025-09")
    assert "NDA017016" in old and "BLA017016" in new  # the 2020 deemed-BLA transition
    # 2025 Applications.txt has a row "19019 \tNDA\t\tGENZYME CORP" beside 219019
    assert [(b.field, b.reason) for b in bad] == [
        ("ApplNo", "malformed ApplNo '19019' (want 6 digits)")
    ]
    assert "NDA219019" in new


# ---------------------------------------------------------------- Drugs@FDA, legacy layout


def test_legacy_layout_maps_to_the_same_shapes() -> None:
    for spec in drugsatfda.SPECS:
        old, _ = fda(spec, "2016-06_legacy_schema")
        new, _ = fda(spec, "2019-07_full")
        assert old and new
        shape = {tuple(r.data) for r in new.values()}
        assert {tuple(r.data) for r in old.values()} == shape, spec.name
    subs, _ = fda(drugsatfda.SUBMISSIONS, "2016-06_legacy_schema")
    orig = subs["NDA020702/ORIG/1"].data
    # RegActionDate: 020702 AP 000 0 1996-12-17 N; application: Chemical_Type 1, Ther_Potential P
    assert (orig["status"], orig["status_date"]) == ("AP", "1996-12-17")
    assert (orig["class_code"], orig["review_priority"]) == ("TYPE 1", "PRIORITY")
    # RegActionDate: 008604 024 approved twice (SCS 2000-04-05, 2000-06-23): the latest is kept
    assert subs["NDA008604/SUPPL/24"].data["status_date"] == "2000-06-23"
    assert subs["NDA008604/SUPPL/24"].data["class_code"] == "MANUF (CMC)"
    # 075791 000: AP 2002-12-23, then TA 2002-10-24 and 2006-02-14: approved wins
    assert (
        subs["ANDA075791/ORIG/1"].data["status"],
        subs["ANDA075791/ORIG/1"].data["status_date"],
    ) == ("AP", "2002-12-23")
    products, bad = fda(drugsatfda.PRODUCTS, "2016-06_legacy_schema")
    assert products["ANDA090740/001"].data["strength"] == "0.75MG"  # its Rx and OTC rows
    # Product.txt: 207920 001 (20MG) and a stray 207920 01 (EQ 20MG BASE)
    assert products["NDA207920/001"].data["strength"] == "20MG"
    assert [(b.file_name, b.field, b.reason) for b in bad] == [
        ("drugsatfda.zip/Product.txt", "ProductNo", "malformed ProductNo '01' (want 3 digits)")
    ]
    status, _ = fda(drugsatfda.MARKETING_STATUS_SPEC, "2016-06_legacy_schema")
    assert status["ANDA090740/001"].data["marketing_status_ids"] == [1, 2]
    assert status["NDA020702/004"].data["te_codes"] == ["AB"]  # from Product_tecode.txt


def test_legacy_supplement_classes() -> None:
    subs, _ = fda(drugsatfda.SUBMISSIONS, "2016-06_legacy_schema")
    with zipfile.ZipFile(FIXTURE / "drugsatfda/2016-06_legacy_schema/drugsatfda.zip") as zf:
        rows = [
            line.split("\t")
            for line in zf.read("RegActionDate.txt").decode("latin-1").splitlines()[1:]
        ]
    checked = 0
    for appl_no, status, seq, dup, _, doc_type in rows:
        if dup == "0" and seq != "000" and appl_no == "020702":
            data = subs[f"NDA020702/SUPPL/{int(seq)}"].data
            expected = {"SLR": "LABELING", "SCS": "MANUF (CMC)", "SE1": "EFFICACY"}.get(doc_type)
            if expected:
                assert data["class_code"] == expected, (seq, doc_type)
                checked += 1
            assert data["status"] == status
    assert checked >= 10


def test_products_only_release_uses_borrowed_application_types() -> None:
    products, bad = fda(drugsatfda.PRODUCTS, "2018-07_products_only")
    assert products["NDA020702/001"].data["brand_name"] == "LIPITOR"
    assert [b.record_id for b in bad] == ["040850", "NDA207920"]  # and the stray '01 ' row
    # nothing but Products was taken from the borrowed 2019 zip
    with gzip.open(FIXTURE / "drugsatfda/2018-07_products_only/Products.txt.gz", "rt") as fh:
        assert len(products) + len(bad) == sum(1 for _ in fh) - 1


# ---------------------------------------------------------------- whole real files


@needs_shared
def test_real_2019_counts_match_the_raw_files() -> None:
    releases = {
        (s.name, label): (s, paths)
        for s, label, paths, _ in drugsatfda.releases(SHARED / "drugsatfda")
    }
    spec, paths = releases[("fda_applications", "2019-07_full")]
    apps, bad = split(spec.parse(paths))
    with zipfile.ZipFile(paths[0]) as zf:
        raw = zf.read("Applications.txt").decode("latin-1").splitlines()
    assert len(raw) - 1 == 23267 == len(apps) and not bad
    spec, paths = releases[("fda_marketing_status", "2025-09")]
    status, bad = split(spec.parse(paths))
    rows = (paths[0].parent / "MarketingStatus.txt").read_text("latin-1").splitlines()[1:]
    listed = {tuple(r.split("\t")[1:3]) for r in rows}
    rejected = {b.record_id for b in bad if b.file_name == "MarketingStatus.txt"}
    assert len(status) + len({k for k in listed if k[0] in rejected}) == len(listed)
    json.dumps([r.data for r in status.values()])


@needs_shared
def test_real_orange_book_patent_keys() -> None:
    path = SHARED / "orange-book/2026-05/patent.txt"
    recs, bad = split(orange_book.parse_patents([path]))
    lines = path.read_text("utf-8").splitlines()[1:]
    keys = {"{}{}/{}/{}".format(*line.split("~")[:4]) for line in lines}
    assert not bad and set(recs) == keys


# ---------------------------------------------------------------- Orange Book


def test_gleevec_patents_fold_use_codes_and_keep_ped_listings() -> None:
    patents, bad = ob(orange_book.PATENTS, "2019-07")
    assert not bad
    # patent.txt 2019-07: N~021588~001~6958335~Dec 19, 2021~~~U-1883~~ and the same with U-791
    p = patents["N021588/001/6958335"].data
    assert p == {
        "appl_type": "NDA",
        "appl_no": "021588",
        "product_no": "001",
        "patent_no": "6958335",
        "pediatric_extension": False,
        "expires": "2021-12-19",
        "drug_substance": False,
        "drug_product": False,
        "delisted": False,
        "submission_date": None,
        "use_codes": ["U-1883", "U-791"],
    }
    ped = patents["N021588/001/6958335*PED"].data
    assert (ped["patent_no"], ped["pediatric_extension"], ped["expires"]) == (
        "6958335",
        True,
        "2022-06-19",
    )
    first = patents["N021588/001/6894051"].data
    assert (first["drug_substance"], first["drug_product"]) == (True, True)
    reissue = patents["N021588/001/RE43932*PED"].data
    assert reissue["patent_no"] == "RE43932"


def test_patent_rows_that_disagree_are_merged() -> None:
    patents, _ = ob(orange_book.PATENTS, "2020-04")
    # 2020-04: 8222219 of N204353/001 listed with Jul 30, 2024 and Apr 11, 2025 ('U-493 ')
    p = patents["N204353/001/8222219"].data
    assert p["expires"] == "2025-04-11"
    assert p["use_codes"] == ["U-2441", "U-493"]
    assert p["submission_date"] == "2014-09-04"
    patents, _ = ob(orange_book.PATENTS, "2019-07")
    # 2019-07: 7582621 of N204427/001 delisted on two of its four use-code rows
    assert patents["N204427/001/7582621"].data["delisted"] is True


def test_exclusivities() -> None:
    excl, bad = ob(orange_book.EXCLUSIVITIES, "2019-07")
    assert not bad
    assert excl["N021588/001/ODE-40"].data == {
        "appl_type": "NDA",
        "appl_no": "021588",
        "product_no": "001",
        "code": "ODE-40",
        "kind": "ODE",
        "expires": "2020-01-25",
        "expiry_dates": ["2020-01-25"],
    }
    assert excl["N020702/001/M-204"].data["kind"] == "M"
    # exclusivity.txt 2019-07: NPP of N021446/008 until May 3, 2021 and May 23, 2022
    npp = excl["N021446/008/NPP"].data
    assert npp["expiry_dates"] == ["2021-05-03", "2022-05-23"]
    assert npp["expires"] == "2022-05-23"
    kinds = {
        code: orange_book.exclusivity_kind(code)
        for code in ("NCE", "NCE*", "ODE*", "ODE-123", "I-789", "D-193", "PED", "RTO", "GAIN")
    }
    assert kinds == {
        "NCE": "NCE",
        "NCE*": "NCE",
        "ODE*": "ODE",
        "ODE-123": "ODE",
        "I-789": "I",
        "D-193": "D",
        "PED": "PED",
        "RTO": "RTO",
        "GAIN": "GAIN",
    }
    assert orange_book.exclusivity_kind("odd code") is None


def test_every_record_is_json_and_rereads_identically() -> None:
    specs = [*drugsatfda.SPECS, *orange_book.SPECS]
    for module, folder in ((drugsatfda, "drugsatfda"), (orange_book, "orange-book")):
        for spec, _, paths, _ in module.releases(FIXTURE / folder):
            assert spec in specs
            once = [(r.record_id, r.data) for r in spec.parse(paths) if isinstance(r, Record)]
            twice = [(r.record_id, r.data) for r in spec.parse(paths) if isinstance(r, Record)]
            assert once == twice
            assert json.loads(json.dumps(once)) == [list(x) for x in once]


# ---------------------------------------------------------------- synthetic malformed input


def write_tsv(path: Path, lines: list[str]) -> Path:
    path.write_bytes("\r\n".join(lines).encode("cp1252") + b"\r\n")
    return path


def test_synthetic_malformed_drugsatfda_rows(tmp_path: Path) -> None:
    apps = write_tsv(
        tmp_path / "Applications.txt",
        [
            "ApplNo\tApplType\tApplPublicNotes\tSponsorName",
            "020702\tNDA\t\tPFIZER",
            "20702\tNDA\t\tSHORT NUMBER",
            "020703\tXYZ\t\tBAD TYPE",
            "020704\tNDA\tTOO MANY",
            "020702\tNDA\t\tPFIZER AGAIN",
        ],
    )
    recs, bad = split(drugsatfda.parse_applications([apps]))
    assert set(recs) == {"NDA020702"}
    got = {(b.file_name, b.line, b.field): b.reason for b in bad}
    assert got == {
        ("Applications.txt", 3, "ApplNo"): "malformed ApplNo '20702' (want 6 digits)",
        ("Applications.txt", 4, "ApplType"): "unknown ApplType 'XYZ'",
        ("Applications.txt", 5, None): "expected 4 tab-separated columns, found 3",
        ("Applications.txt", 6, "ApplNo"): "duplicate NDA020702: already given on line 2",
    }
    subs = write_tsv(
        tmp_path / "Submissions.txt",
        [
            "ApplNo\tSubmissionClassCodeID\tSubmissionType\tSubmissionNo\tSubmissionStatus"
            "\tSubmissionStatusDate\tSubmissionsPublicNotes\tReviewPriority",
            "020702\t\tORIG\t1\tAP\t1996-12-17 00:00:00\t\tPRIORITY",
            "020702\t\tSUPPL\t2\tAP\t1997-13-45 00:00:00\t\t",
            "020702\t\tAMEND\t3\tAP\t1997-01-01 00:00:00\t\t",
            "020702\t99\tSUPPL\t4\tAP\t1997-01-01 00:00:00\t\t",
            "020702\t\tSUPPL\tx\tAP\t1997-01-01 00:00:00\t\t",
            "099999\t\tORIG\t1\tAP\t1997-01-01 00:00:00\t\t",
        ],
    )
    docs = write_tsv(
        tmp_path / "ApplicationDocs.txt",
        [
            "ApplicationDocsID\tApplicationDocsTypeID\tApplNo\tSubmissionType\tSubmissionNo"
            "\tApplicationDocsTitle\tApplicationDocsURL\tApplicationDocsDate",
            "1\t1\t020702\tORIG      \t1\t0\thttp://x/ltr.pdf\t1996-12-20 00:00:00",
            "2\t1\t020702\tSUPPL     \t9\t0\thttp://x/s9.pdf\t1999-01-01 00:00:00",
        ],
    )
    recs, bad = split(drugsatfda.parse_submissions([apps, subs, docs]))
    assert set(recs) == {"NDA020702/ORIG/1"}
    assert recs["NDA020702/ORIG/1"].data["documents"] == [
        {"type": "1", "title": None, "url": "http://x/ltr.pdf", "date": "1996-12-20"}
    ]
    got = {(b.file_name, b.line, b.field): b.reason for b in bad}
    assert got == {
        ("Submissions.txt", 3, "SubmissionStatusDate"): (
            "malformed date '1997-13-45 00:00:00' in SubmissionStatusDate"
        ),
        ("Submissions.txt", 4, "SubmissionType"): "unknown SubmissionType 'AMEND'",
        ("Submissions.txt", 5, "SubmissionClassCodeID"): (
            "unknown SubmissionClassCodeID '99' (not in SubmissionClass_Lookup)"
        ),
        ("Submissions.txt", 6, "SubmissionNo"): "SubmissionNo 'x' is not a whole number",
        ("Submissions.txt", 7, "ApplNo"): (
            "ApplNo 099999 is not in the release's Applications table, so its type is unknown"
        ),
        ("ApplicationDocs.txt", 3, "SubmissionNo"): (
            "document of submission 020702 SUPPL 9, which the Submissions table does not list"
        ),
    }
    assert next(b for b in bad if b.line == 3).record_id == "NDA020702/SUPPL/2"


def test_synthetic_marketing_status_and_products(tmp_path: Path) -> None:
    apps = write_tsv(
        tmp_path / "Applications.txt",
        ["ApplNo\tApplType\tApplPublicNotes\tSponsorName", "020702\tNDA\t\tPFIZER"],
    )
    status = write_tsv(
        tmp_path / "MarketingStatus.txt",
        [
            "MarketingStatusID\tApplNo\tProductNo",
            "1\t020702\t001",
            "9\t020702\t002",
            "1\t020702\t0003",
        ],
    )
    recs, bad = split(drugsatfda.parse_marketing_status([apps, status]))
    assert recs["NDA020702/001"].data["te_codes"] is None  # no TE table in this release
    assert {(b.line, b.field): b.reason for b in bad} == {
        (3, "MarketingStatusID"): "unknown MarketingStatusID 9 (not in MarketingStatus_Lookup)",
        (4, "ProductNo"): "malformed ProductNo '0003' (want 3 digits)",
    }
    te = write_tsv(
        tmp_path / "TE.txt",
        [
            "ApplNo\tProductNo\tMarketingStatusID\tTECode",
            "020702\t001\t1\tAB",
            "020702\t005\t1\tAB",
        ],
    )
    recs, bad = split(drugsatfda.parse_marketing_status([apps, status, te]))
    assert recs["NDA020702/001"].data["te_codes"] == ["AB"]
    te_bad = [b for b in bad if b.file_name == "TE.txt"]
    assert [(b.line, b.field, b.record_id) for b in te_bad] == [(3, "ProductNo", "NDA020702/005")]
    products = tmp_path / "Products.txt.gz"
    with gzip.open(products, "wb") as fh:
        fh.write(
            b"ApplNo\tProductNo\tForm\tStrength\tReferenceDrug\tDrugName\tActiveIngredient"
            b"\tReferenceStandard\r\n"
            b"020702\t001\tTABLET;ORAL\t10MG;5MG\t1\tX\tB; A (C;D)\t0\r\n"
            b"020702\t001\tTABLET;ORAL\t10MG\t1\tY\tA\t0\r\n"
        )
    recs, bad = split(drugsatfda.parse_products([products]))
    assert not recs and [(b.line, b.field) for b in bad] == [(None, "ApplType")]
    recs, bad = split(drugsatfda.parse_products([products, apps]))
    assert recs["NDA020702/001"].data["active_ingredients"] == ["A (C;D)", "B"]
    assert [(b.file_name, b.line, b.field) for b in bad] == [("Products.txt.gz", 3, "ProductNo")]
    assert bad[0].reason.startswith("duplicate NDA020702/001 with different values")


def test_synthetic_malformed_orange_book_rows(tmp_path: Path) -> None:
    header = "~".join(orange_book.PATENT_COLUMNS)
    patent = tmp_path / "patent.txt"
    patent.write_text(
        "\n".join(
            [
                header,
                "N~020702~001~4681893~Jun 7, 2027~Y~~U-1~~",
                "N~020702~001~4681893~Jun 7, 2027~~Y~U-2~~Jan 3, 2013",
                "X~020702~001~4681893~Jun 7, 2027~~~~~",
                "N~020702~01~4681893~Jun 7, 2027~~~~~",
                "N~020702~001~46-81893~Jun 7, 2027~~~~~",
                "N~020702~001~4681894~June 7th 2027~~~~~",
                "N~020702~001~4681895~Jun 7, 2027~maybe~~~~",
                "N~020702~001~4681896~Jun 7, 2027~~~~",
                "N~020702~001~4681897~~~~~~",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    recs, bad = split(orange_book.parse_patents([patent]))
    assert recs["N020702/001/4681893"].data["use_codes"] == ["U-1", "U-2"]
    assert recs["N020702/001/4681893"].data["drug_product"] is True
    assert recs["N020702/001/4681893"].data["submission_date"] == "2013-01-03"
    got = {(b.file_name, b.line, b.field): b.reason for b in bad}
    assert got == {
        ("patent.txt", 4, "Appl_Type"): "unknown Appl_Type 'X' (want N or A)",
        ("patent.txt", 5, "Product_No"): "malformed Product_No '01' (want 3 digits)",
        ("patent.txt", 6, "Patent_No"): "malformed Patent_No '46-81893'",
        ("patent.txt", 7, "Patent_Expire_Date_Text"): (
            "malformed date 'June 7th 2027' in Patent_Expire_Date_Text"
        ),
        ("patent.txt", 8, "Drug_Substance_Flag"): (
            "Drug_Substance_Flag 'maybe' is neither 'Y' nor empty"
        ),
        ("patent.txt", 9, None): "expected 10 '~'-separated columns, found 9",
        ("patent.txt", 10, "Patent_Expire_Date_Text"): "empty Patent_Expire_Date_Text",
    }
    excl = tmp_path / "exclusivity.txt"
    excl.write_text(
        "Appl_Type~Appl_No~Product_No~Exclusivity_Code~Exclusivity_Date\n"
        "A~012345~002~PC~Aug 21, 2019\n"
        "A~012345~002~P C~Aug 21, 2019\n"
        "A~012345~002~NCE~Feb 30, 2019\n",
        encoding="utf-8",
    )
    recs, bad = split(orange_book.parse_exclusivities([excl]))
    assert recs["A012345/002/PC"].data["appl_type"] == "ANDA"
    assert {(b.line, b.field): b.reason for b in bad} == {
        (3, "Exclusivity_Code"): "malformed Exclusivity_Code 'P C'",
        (4, "Exclusivity_Date"): "malformed date 'Feb 30, 2019' in Exclusivity_Date",
    }
    no_header = tmp_path / "other" / "patent.txt"
    no_header.parent.mkdir()
    no_header.write_text("Appl_Type~Appl_No\nN~020702\n", encoding="utf-8")
    recs, bad = split(orange_book.parse_patents([no_header]))
    assert not recs and [(b.line, b.field) for b in bad] == [(1, "Product_No")]
