"""EMA tables: read straight from the real downloads in ../shared/data/ema, plus synthetic
malformed files (written in tmp_path) that must come out as Rejected with file, line and field."""

from __future__ import annotations

import gzip
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from drugradar.sources import ema, ema_designations, ema_medicines, ema_safety
from drugradar.sources.base import Record, Rejected, SourceSpec
from drugradar.sources.ema_common import amsterdam_date, parse_date

from .conftest import ROOT

EMA = ROOT.parent / "shared" / "data" / "ema"
OUT_2025 = EMA / "2025-03_medicines_output"

Parsed = tuple[dict[str, Record], list[Rejected]]


def split(items: list[Record | Rejected]) -> Parsed:
    recs = {i.record_id: i for i in items if isinstance(i, Record)}
    return recs, [i for i in items if isinstance(i, Rejected)]


@pytest.fixture(scope="module")
def found() -> list[tuple[SourceSpec, str, tuple[Path, ...], date]]:
    return ema.releases(EMA)


@pytest.fixture(scope="module")
def medicines(found: list[tuple[SourceSpec, str, tuple[Path, ...], date]]) -> dict[str, Parsed]:
    """The EPAR table of each snapshot folder, by folder name."""
    return {
        label: split(list(spec.parse(paths)))
        for spec, label, paths, _ in found
        if spec.name == "ema_medicines"
    }


def parsed_2025(spec: SourceSpec, name: str) -> Parsed:
    return split(list(spec.parse([OUT_2025 / name])))


# ---- discovery --------------------------------------------------------------------------------


def test_releases_one_per_source_and_folder_dated_by_emas_stamp(
    found: list[tuple[SourceSpec, str, tuple[Path, ...], date]],
) -> None:
    meds = [
        (label, [p.name for p in paths], d)
        for s, label, paths, d in found
        if s is ema_medicines.SPEC
    ]
    # the 2020-12 folder holds a table EMA generated on 23/12/2018 (its "Output generated at:"
    # cell): it is the oldest release, not the newest of the two workbooks
    assert meds == [
        ("2020-12_epar_xlsx", ["Medicines_output_european_public_assessment_reports.xlsx"],
         date(2018, 12, 23)),
        ("2019-12_epar", ["Medicines_output_european_public_assessment_reports.xlsx"],
         date(2019, 11, 25)),
        ("2025-03_medicines_output", ["medicines_output_medicines_en.csv.gz"], date(2025, 3, 1)),
    ]  # fmt: skip
    others = {s.name: (label, [p.name for p in paths]) for s, label, paths, _ in found}
    assert others["ema_orphan_designations"] == (
        "2025-03_medicines_output",
        ["medicines_output_orphan_designations_en.csv"],
    )
    assert others["ema_psusa"][1] == [
        "medicines_output_periodic_safety_update_report_single_assessments_en.csv"
    ]
    assert {s.name for s, *_ in found} == {s.name for s in ema.SPECS}
    assert len(found) == 8
    assert ema.folder_date("2016_08") == date(2016, 8, 1)


# ---- medicines --------------------------------------------------------------------------------


def test_medicines_counts_and_no_rejects(medicines: dict[str, Parsed]) -> None:
    # data rows under the header: 1644 (2019), 1562 (2018 table, one blank row skipped), 2515
    assert {k: (len(r), len(b)) for k, (r, b) in medicines.items()} == {
        "2020-12_epar_xlsx": (1562, 0),
        "2019-12_epar": (1644, 0),
        "2025-03_medicines_output": (2515, 0),
    }


@pytest.mark.parametrize(
    ("pid", "name", "inn"),
    [
        ("EMEA/H/C/000481", "Humira", "adalimumab"),
        ("EMEA/H/C/003820", "Keytruda", "pembrolizumab"),
        ("EMEA/H/C/000406", "Glivec", "imatinib"),
    ],
)
def test_same_medicine_same_id_in_every_release(
    medicines: dict[str, Parsed], pid: str, name: str, inn: str
) -> None:
    for recs, _ in medicines.values():
        d = recs[pid].data
        assert (d["name"], d["inns"], d["status"], d["category"]) == (
            name,
            [inn],
            "authorised",
            "human",
        )
        assert d["url"].endswith(f"/human/EPAR/{name.lower()}")


def test_imlygic_is_an_authorised_atmp(medicines: dict[str, Parsed]) -> None:
    new = medicines["2025-03_medicines_output"][0]["EMEA/H/C/002771"].data
    assert (new["name"], new["inn"], new["status"]) == (
        "Imlygic",
        "talimogene laherparepvec",
        "authorised",
    )
    assert new["atmp"] is True and new["orphan"] is False
    assert new["authorisation_date"] == "2015-12-16" and new["opinion_date"] == "2015-07-23"
    assert new["holder"] == "Amgen Europe B.V." and new["revision_number"] == 14
    old = medicines["2019-12_epar"][0]["EMEA/H/C/002771"].data
    assert old["atmp"] is None  # the old table has no "Advanced therapy" column: unknown, not no
    assert old["additional_monitoring"] is True and new["additional_monitoring"] is False
    assert old["authorisation_date"] == "2015-12-16"


ALWAYS_RAW = ("status_raw", "therapeutic_area_raw")  # other *_raw keys: unreadable values only


def test_every_release_gives_the_same_keys(medicines: dict[str, Parsed]) -> None:
    keys = {
        frozenset(k for k in r.data if not k.endswith("_raw") or k in ALWAYS_RAW)
        for recs, _ in medicines.values()
        for r in recs.values()
    }
    assert len(keys) == 1
    assert {"therapeutic_area_raw", "prime", "withdrawal_date", "atc_codes"} <= set(
        next(iter(keys))
    )


def test_excel_datetimes_are_amsterdam_dates(medicines: dict[str, Parsed]) -> None:
    # 2019 workbook: Ivozall's cells are 2019-11-13 23:00 and 2019-09-18 22:00 (UTC); EMA's
    # 2025 CSV writes the same dates as 14/11/2019 and 19/09/2019
    old = medicines["2019-12_epar"][0]["EMEA/H/C/005039"].data
    new = medicines["2025-03_medicines_output"][0]["EMEA/H/C/005039"].data
    assert (old["authorisation_date"], old["opinion_date"]) == ("2019-11-14", "2019-09-19")
    assert (new["authorisation_date"], new["opinion_date"]) == ("2019-11-14", "2019-09-19")
    assert (old["status"], new["status"]) == ("authorised", "withdrawn")  # a real change
    assert amsterdam_date(datetime(2019, 6, 30, 22, 0)) == date(2019, 7, 1)  # summer: UTC+2
    assert amsterdam_date(datetime(2019, 1, 31, 22, 0)) == date(2019, 1, 31)  # winter: UTC+1
    assert amsterdam_date(datetime(2019, 11, 22, 14, 16)) == date(2019, 11, 22)
    assert parse_date(", ,   02/07/2018, , ") == ("2018-07-02", True)  # the 2018 table's cell
    assert parse_date("31/02/2020") == (None, False)


def test_old_comma_joined_therapeutic_areas_split_like_the_new_list(
    medicines: dict[str, Parsed],
) -> None:
    humira_2019 = medicines["2019-12_epar"][0]["EMEA/H/C/000481"].data
    humira_2025 = medicines["2025-03_medicines_output"][0]["EMEA/H/C/000481"].data
    assert humira_2019["therapeutic_area_raw"].startswith(
        "Spondylitis, Ankylosing, Arthritis, Juvenile Rheumatoid, Uveitis, Colitis, Ulcerative,"
    )
    assert humira_2019["therapeutic_area"] == humira_2025["therapeutic_area"]
    assert "Spondylitis, Ankylosing" in humira_2019["therapeutic_area"]
    glivec = medicines["2020-12_epar_xlsx"][0]["EMEA/H/C/000406"].data
    assert "Leukemia, Myelogenous, Chronic, BCR-ABL Positive" in glivec["therapeutic_area"]
    assert ema_medicines.split_mesh_headings("Nausea, Vomiting, Arthroplasty, Replacement") == [
        "Nausea",
        "Vomiting",
        "Arthroplasty, Replacement",
    ]


def test_medicine_text_is_cleaned_and_lists_sorted(medicines: dict[str, Parsed]) -> None:
    recs = medicines["2025-03_medicines_output"][0]
    keytruda = recs["EMEA/H/C/003820"].data
    assert (
        "&nbsp;" not in keytruda["indication"]
        and "Keytruda as monotherapy" in (keytruda["indication"])
    )
    combo = next(r.data for r in recs.values() if r.data["inn"] == "relatlimab / nivolumab")
    assert combo["inns"] == ["nivolumab", "relatlimab"]
    old = medicines["2019-12_epar"][0]["EMEA/H/C/001209"].data  # Silodyx
    assert old["pharmacotherapeutic_group"] == "UROLOGICALS"
    assert old["indication"].endswith("(BPH)")  # the export's trailing ", " is dropped


def test_reparsing_gives_identical_data() -> None:
    path = OUT_2025 / "medicines_output_medicines_en.csv.gz"
    first = [r.data for r in ema_medicines.parse([path]) if isinstance(r, Record)]
    second = [r.data for r in ema_medicines.parse([path]) if isinstance(r, Record)]
    assert first == second


def test_synthetic_medicines_csv_rows_are_rejected_or_kept_as_documented(tmp_path: Path) -> None:
    header = (
        '"Category","Name of medicine","EMA product number","Medicine status",'
        '"Therapeutic area (MeSH)","Species\n(veterinary)","Marketing authorisation date",'
        '"Advanced therapy","Medicine URL"\n'
    )
    url = "https://www.ema.europa.eu/en/medicines/human/EPAR"
    f = tmp_path / "medicines_output_medicines_en_synthetic.csv.gz"
    with gzip.open(f, "wb") as fh:
        fh.write(b'Content type:,Medicines,Output generated at:,"Mon, 10/03/2025 - 02:10"\n')
        fh.write(b",,,Domenico Scarlattilaan 6\n\n")
        fh.write(header.encode())  # lines 4-5: the header, one cell broken over two lines
        fh.write(
            f'Human,Good,EMEA/H/C/000001,Authorised,"A;B",,01/02/2020,Yes,{url}/good\n'.encode()
        )
        fh.write(f'Human,"Two\nlines",EMEA/H/C/000002,Refused,,,soon,No,{url}/two\n'.encode())
        fh.write(f"Human,Bad,EMEA-1,Authorised,,,,,{url}/bad\n".encode())
        fh.write(f"Human,,EMEA/H/C/000004,Authorised,,,,,{url}/x\n".encode())
        fh.write(f"Human,Again,EMEA/H/C/000001,Authorised,,,,,{url}/again\n".encode())
        fh.write(f"Human,No number,,Lapsed,,,,,{url}/no-number\n".encode())
        fh.write(b"Human,Nothing,,Lapsed,,,,,\n")
        fh.write("Human,Caf\xe9,EMEA/H/C/000009,Authorised,,,,,x\n".encode("latin-1"))
        fh.write(b"Human,Short,EMEA/H/C/000010\n")
        fh.write(b'Human,"Open quote,EMEA/H/C/000011,Authorised,,,,,\n')
    recs, bad = split(list(ema_medicines.parse([f])))
    assert set(recs) == {"EMEA/H/C/000001", "EMEA/H/C/000002", "url:human/EPAR/no-number"}
    good = recs["EMEA/H/C/000001"].data
    assert good["therapeutic_area"] == ["A", "B"] and good["atmp"] is True
    assert good["authorisation_date"] == "2020-02-01" and good["orphan"] is None
    two = recs["EMEA/H/C/000002"].data
    assert two["name"] == "Two\nlines" and two["status"] == "refused"
    assert two["authorisation_date"] is None and two["authorisation_date_raw"] == "soon"
    assert recs["url:human/EPAR/no-number"].data["status"] == "lapsed"
    got = [(b.line, b.field, b.record_id, b.reason) for b in bad]
    assert all(b.file_name == f.name for b in bad)
    assert got == [
        (9, "EMA product number", None, "malformed product number 'EMEA-1'"),
        (10, "Name of medicine", "EMEA/H/C/000004", "empty medicine name"),
        (11, "EMA product number", "EMEA/H/C/000001",
         "duplicate product number EMEA/H/C/000001, first on line 6"),
        (13, "EMA product number", None, "no product number and no URL to identify it"),
        (14, None, None, "record is not valid UTF-8"),
        (15, None, None, "expected 9 columns, found 3"),
        (16, None, None, "unterminated quoted field"),
    ]  # fmt: skip


def test_synthetic_old_workbook_layout(tmp_path: Path) -> None:
    f = tmp_path / "Medicines_output_european_public_assessment_reports_synthetic.xlsx"
    wb = openpyxl.Workbook()
    extract = wb.active
    assert extract is not None
    extract.title = "Sheet1"  # a derived sheet first, as in the 2019 workbook: not read
    extract.append(["Column1", "year", "indication"])
    extract.append([1, 2019, "Melanoma"])
    ws = wb.create_sheet("Worksheet 1")
    ws.append(["Content type:", "EPARs", "Output generated at:", "Sun, 23/12/2018 - 02:08"])
    ws.append([])
    ws.append(
        ["Category", "Medicine name", "Therapeutic area", "Product number", "Orphan medicine",
         "Marketing authorisation date", "Decision date", "Revision number", "URL"]
    )  # fmt: skip
    ws.append(["Human", "Alpha", "Arthritis, Psoriatic, Psoriasis", "EMEA/H/C/000100  ", "yes",
               datetime(2019, 11, 13, 23, 0), "07/12/2018", 3, None])  # fmt: skip
    ws.append(["Human", "Beta", None, None, "maybe", None, None, None, None])
    ws.append([None] * 9)
    ws.append(["Veterinary", "Gamma", None, "EMEA/V/C/000200", "no", None, None, "x", None])
    wb.save(f)
    recs, bad = split(list(ema_medicines.parse([f])))
    assert set(recs) == {"EMEA/H/C/000100", "EMEA/V/C/000200"}
    alpha = recs["EMEA/H/C/000100"].data
    assert alpha["therapeutic_area"] == ["Arthritis, Psoriatic", "Psoriasis"]
    assert (alpha["orphan"], alpha["atmp"], alpha["revision_number"]) == (True, None, 3)
    assert alpha["authorisation_date"] == "2019-11-14" and alpha["decision_date"] == "2018-12-07"
    gamma = recs["EMEA/V/C/000200"].data
    assert gamma["category"] == "veterinary" and gamma["revision_number_raw"] == "x"
    assert [(b.file_name, b.line, b.field, b.reason) for b in bad] == [
        (f.name, 5, "Product number", "no product number and no URL to identify it")
    ]
    assert ema.release_date(tmp_path, (f,)) == date(2018, 12, 23)


def test_a_file_without_the_header_is_one_reject(tmp_path: Path) -> None:
    f = tmp_path / "epar_synthetic.csv"
    f.write_text('"year","indication"\n2019,"Melanoma"\n', encoding="utf-8")
    recs, bad = split(list(ema_medicines.parse([f])))
    assert not recs
    assert [(b.line, b.field) for b in bad] == [(None, None)]
    assert bad[0].reason.startswith("no header row with the columns 'category'")


# ---- orphan designations ----------------------------------------------------------------------


def test_orphan_designations_real_file() -> None:
    recs, bad = parsed_2025(ema_designations.SPEC, "medicines_output_orphan_designations_en.csv")
    assert not bad
    assert len(recs) == 3068  # 3072 rows, four numbers on two rows each
    # line 4 of the CSV: Enjaymo,EMEA/H/C/005776,sutimlimab,11/02/2025,Treatment of autoimmune
    # haemolytic anaemia,EU/3/16/1609,Positive,06/04/2016,12/03/2025,…/eu-3-16-1609
    d = recs["EU/3/16/1609"].data
    assert (d["medicine_names"], d["product_numbers"], d["active_substance"]) == (
        ["Enjaymo"],
        ["EMEA/H/C/005776"],
        "sutimlimab",
    )
    assert (d["condition"], d["status"], d["designation_date"]) == (
        "Treatment of autoimmune haemolytic anaemia",
        "positive",
        "2025-02-11",
    )
    assert (d["first_published"], d["last_updated"], d["sponsor"]) == (
        "2016-04-06",
        "2025-03-12",
        None,
    )
    # lines 1854 and 2510: one designation, "Withdrawn" (updated 2019) and "Positive" (2015)
    merged = recs["EU/3/14/1325"].data
    assert merged["status"] == "withdrawn" and len(merged["urls"]) == 2
    assert "EU/3/11/878" in recs  # written "EU/3/11/878)" on its row
    refusal = recs[
        "url:human/orphan-designations/refusal-orphan-designation-treatment-fibromyalgia"
    ]
    assert refusal.data["status"] == "negative" and refusal.data["designation_number"] is None


def test_synthetic_orphan_rows(tmp_path: Path) -> None:
    f = tmp_path / "orphan_designations_synthetic.csv"
    url = "https://www.ema.europa.eu/en/medicines/human/orphan-designations"
    f.write_text(
        "Medicine name,Related EMA product number,Active substance,Date of designation / refusal,"
        "Intended use,EU designation number,Status,First published date,Last updated date,"
        "Orphan designation URL\n"
        f",,x,01/01/2020,Treatment of A,EU/3/20/1,Positive,02/01/2020,,{url}/eu-3-20-1\n"
        f",,x,01/01/2020,Treatment of A,EU/3/20/1,Withdrawn,02/01/2020,05/05/2022,"
        f"{url}/eu-3-20-1-0\n"
        f",,y,13/13/2020,Treatment of B,-,Negative,02/01/2020,,{url}/refusal-b\n"
        ",,z,01/01/2020,Treatment of C,-,Negative,02/01/2020,,\n"
        f",,,01/01/2020,,EU/3/20/4,Positive,02/01/2020,,{url}/eu-3-20-4\n",
        encoding="utf-8",
    )
    recs, bad = split(list(ema_designations.parse([f])))
    assert set(recs) == {"EU/3/20/1", "url:human/orphan-designations/refusal-b"}
    assert recs["EU/3/20/1"].data["status"] == "withdrawn"
    assert recs["EU/3/20/1"].data["urls"] == [f"{url}/eu-3-20-1", f"{url}/eu-3-20-1-0"]
    refusal = recs["url:human/orphan-designations/refusal-b"].data
    assert refusal["designation_date"] is None and refusal["designation_date_raw"] == "13/13/2020"
    assert [(b.line, b.field, b.record_id, b.reason) for b in bad] == [
        (5, "EU designation number", None, "no EU designation number and no URL to identify it"),
        (6, "Intended use", "EU/3/20/4", "neither active substance nor intended use"),
    ]


# ---- safety tables ----------------------------------------------------------------------------


def test_dhpc_real_file() -> None:
    recs, bad = parsed_2025(ema_safety.DHPC_SPEC, "medicines_output_dhpc_en.csv")
    assert not bad and len(recs) == 145
    # line 4: Human,Kisqali,EMEA/H/C/004213/II/0045,Ribociclib,Post-authorisation measure,…,
    # 19/02/2025,24/02/2025,,https://www.ema.europa.eu/en/medicines/dhpc/kisqali
    d = recs["dhpc/kisqali"].data
    assert (d["medicines"], d["active_substances"], d["types"]) == (
        ["Kisqali"],
        ["Ribociclib"],
        ["Post-authorisation measure"],
    )
    assert (d["procedure_number"], d["date"], d["first_published"]) == (
        "EMEA/H/C/004213/II/0045",
        "2025-02-19",
        "2025-02-24",
    )
    assert recs["dhpc/ozempic-victoza"].data["medicines"] == ["Ozempic", "Victoza"]


def test_dhpc_without_url_gets_a_hashed_id(tmp_path: Path) -> None:
    f = tmp_path / "dhpc_synthetic.csv"
    f.write_text(
        "Category,Name of medicine,DHPC type,Dissemination date,DHPC URL\n"
        "Human,Keppra,Medication error,16/12/2024,\n"
        "Human,Keppra,Medication error,16/12/2024,not a url\n",
        encoding="utf-8",
    )
    recs, bad = split(list(ema_safety.parse_dhpc([f])))
    (rid,) = recs
    assert rid.startswith("dhpc:") and len(rid) == 21
    assert [(b.line, b.field, b.reason) for b in bad] == [
        (3, "DHPC URL", "DHPC URL is not a web address: 'not a url'")
    ]


def test_psusa_broken_record_is_rejected() -> None:
    recs, bad = parsed_2025(
        ema_safety.PSUSA_SPEC,
        "medicines_output_periodic_safety_update_report_single_assessments_en.csv",
    )
    assert len(recs) == 2347
    # lines 92-94 of the CSV: 'Human,"Amlodipine' / '",,,,,,,' / '"Losartan""",amlodipine;…'
    assert [(b.line, b.field, b.reason) for b in bad] == [
        (92, "PSUSA URL", "empty PSUSA URL, which is the row's key"),
        (94, "PSUSA URL", "empty PSUSA URL, which is the row's key"),
    ]
    d = recs["psusa/psusa-00000329-202407"].data
    assert (d["active_substances"], d["regulatory_outcome"], d["first_published"]) == (
        ["benperidol"],
        "Maintenance",
        "2025-03-20",
    )


def test_referrals_and_shortages_real_files() -> None:
    recs, bad = parsed_2025(ema_safety.REFERRALS_SPEC, "medicines_output_referrals_en.csv")
    assert not bad and len(recs) == 580
    havrix = recs["human/referrals/havrix"].data  # line 9 of the CSV
    assert (havrix["inns"], havrix["status"], havrix["reference_number"]) == (
        ["hepatitis A virus (inactivated, adsorbed)"],
        "european_commission_final_decision",
        "EMEA/H/A-30/1527",
    )
    assert (havrix["opinion_date"], havrix["decision_date"]) == ("2024-06-27", "2024-08-26")
    assert havrix["safety_referral"] is False
    recs, bad = parsed_2025(ema_safety.SHORTAGES_SPEC, "medicines_output_shortages_en.csv")
    assert not bad and len(recs) == 61
    buccolam = recs["human/shortages/buccolam"].data  # line 60: …,Not stated,…
    assert buccolam["status"] == "resolved"
    assert buccolam["strengths"] == ["10 mg", "2.5 mg", "5 mg", "7.5 mg"]
    assert buccolam["alternatives_available"] is None
    assert buccolam["alternatives_available_raw"] == "Not stated"


def test_atc_codes_keep_codes_only(medicines: dict[str, Parsed]) -> None:
    recs = medicines["2025-03_medicines_output"][0]
    pending = [r.data for r in recs.values() if r.data["atc_code"] == "Not yet assigned"]
    assert len(pending) == 4 and all(d["atc_codes"] == [] for d in pending)
    insulin = [r.data for r in recs.values() if r.data["atc_code"] == "A10AB04;A10AD04"]
    assert insulin and insulin[0]["atc_codes"] == ["A10AB04", "A10AD04"]
