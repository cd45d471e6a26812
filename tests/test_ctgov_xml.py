"""The legacy ClinicalTrials.gov XML reader, on real dumps: the T-VEC trials at two dates, the
2023 AllPublicXML subset and the AACT fixtures; broken documents in a temporary archive."""

from __future__ import annotations

import io
import tarfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from drugradar.model.trial import ArmGroup, Intervention, Mesh, Party, Site, Trial, TrialDate
from drugradar.sources.base import Rejected
from drugradar.sources.ctgov_common import StudyDoc
from drugradar.sources.ctgov_xml import as_of_of, parse_study, read

from .conftest import ROOT

CTGOV = ROOT.parent / "shared" / "data" / "ctgov"
TVEC_2018 = CTGOV / "tvec" / "2018-05-29"
TVEC_2020 = CTGOV / "tvec" / "2020-07-28"
XML_2023 = CTGOV / "xml-2023" / "AllPublicXML_subset_20230203.tar.xz"
AACT = CTGOV / "aact-fixtures" / "aact_fixture_records.tar.xz"

pytestmark = pytest.mark.skipif(not CTGOV.is_dir(), reason="shared ctgov data not present")


def _study(folder: Path, nct: str) -> Trial:
    return parse_study((folder / f"{nct}.xml").read_bytes(), f"{nct}.xml")


def _minimal(body: str, nct: str = "NCT01234567") -> bytes:
    return (
        "<clinical_study><required_header><download_date>ClinicalTrials.gov processed this data"
        f" on March 3, 2016</download_date></required_header><id_info><nct_id>{nct}</nct_id>"
        f"</id_info>{body}</clinical_study>"
    ).encode()


# --- one study, every field -------------------------------------------------------------------


def test_optim_every_field() -> None:
    t = _study(TVEC_2018, "NCT00769704")
    assert t.nct_id == "NCT00769704"
    assert t.source_format == "xml"
    assert t.brief_title == (
        "Efficacy and Safety Study of Talimogene Laherparepvec Compared to Granulocyte Macrophage"
        " Colony Stimulating Factor (GM-CSF) in Melanoma"
    )
    assert t.official_title is not None
    assert t.official_title.startswith("A Randomized Phase 3 Clinical Trial to Evaluate")
    assert t.acronym is None
    assert t.study_type == "INTERVENTIONAL"
    assert t.phases == ["PHASE3"]
    assert t.overall_status == "COMPLETED"
    assert t.why_stopped is None
    assert t.start_date == TrialDate("2009-04", None)  # the 2018 dump gives no type here
    assert t.primary_completion_date == TrialDate("2013-02", "ACTUAL")
    assert t.completion_date == TrialDate("2014-09", "ACTUAL")
    assert t.first_posted == "2008-10-09"
    assert t.results_first_posted == "2015-12-17"
    assert t.last_update_posted == "2016-07-13"
    assert (t.enrollment, t.enrollment_type) == (437, "ACTUAL")
    assert t.conditions == ["Melanoma"]
    assert t.condition_meshes == [Mesh(None, "Melanoma")]
    assert t.keywords == [
        "Melanoma", "OncoVEX^GM-CSF", "GM-CSF", "Stage IIIb, IIIc and IV Disease", "oncolytic",
        "OncoVex", "T-Vec", "talimogene laherparepvec",
    ]  # fmt: skip
    assert t.interventions == [
        Intervention(
            "BIOLOGICAL",
            "Talimogene laherparepvec",
            ["OncoVEX^GM-CSF", "IMLYGIC™"],
            ["Talimogene Laherparepvec"],
            "Up to 4 mL of 10⁸ pfu/mL/per intratumoral injection",
        ),
        Intervention(
            "BIOLOGICAL", "GM-CSF", ["Leukine", "Sargramostim"], ["GM-CSF"],
            "125 µg/m² subcutaneous injection",
        ),
    ]  # fmt: skip
    tvec_arm = ["Biological: Talimogene laherparepvec"]
    assert t.arm_groups == [
        ArmGroup("GM-CSF", "ACTIVE_COMPARATOR", ["Biological: GM-CSF"]),
        ArmGroup("Talimogene Laherparepvec", "EXPERIMENTAL", tvec_arm),
    ]
    assert t.sponsor == Party("BioVex Limited", "INDUSTRY")
    assert t.collaborators == [Party("Amgen", "INDUSTRY")]
    assert t.countries == ["Canada", "South Africa", "United Kingdom", "United States"]
    assert len(t.sites) == 83
    assert t.sites[0] == Site(
        "University of Arizona Cancer Center", "Tucson", "Arizona", "United States", None
    )
    assert t.sites[-1] == Site(
        "Clatterbridge Centre for Oncology", "Wirral", None, "United Kingdom"
    )
    assert Counter(s.country for s in t.sites)["South Africa"] == 10
    assert t.has_results is True
    assert t.unknown_values == []


def test_tvec_as_comparator_option() -> None:
    """NCT02288897: T-VEC is one of three drugs the comparator arm may give."""
    t = _study(TVEC_2018, "NCT02288897")
    assert t.sponsor == Party("Provectus Biopharmaceuticals, Inc.", "INDUSTRY")
    assert t.collaborators == []
    assert t.arm_groups == [
        ArmGroup("PV-10", "EXPERIMENTAL", ["Drug: PV-10 (10% rose bengal disodium)"]),
        ArmGroup(
            "Chemotherapy or Oncolytic Viral Therapy",
            "ACTIVE_COMPARATOR",
            ["Drug: Dacarbazine, temozolomide or talimogene laherparepvec"],
        ),
    ]
    assert t.interventions[1].arm_groups == ["Chemotherapy or Oncolytic Viral Therapy"]
    assert t.sites[0].status == "RECRUITING"  # site status mapped onto the v2 vocabulary
    assert t.has_results is False
    assert t.results_first_posted is None


def test_dates_actual_estimated_and_precision() -> None:
    old = _study(TVEC_2018, "NCT02453191")  # "Anticipated" in 2018, actual dates by 2020
    new = _study(TVEC_2020, "NCT02453191")
    assert old.start_date == TrialDate("2015-07", None)
    assert old.primary_completion_date == TrialDate("2020-04", "ESTIMATED")
    assert new.start_date == TrialDate("2015-07-13", "ACTUAL")  # day precision kept
    assert new.primary_completion_date == TrialDate("2019-01-22", "ACTUAL")
    assert new.completion_date == TrialDate("2023-10-16", "ESTIMATED")


def test_phases_combined_and_na(archive_2023: Archive) -> None:
    assert _study(TVEC_2018, "NCT02453191").phases == ["PHASE1", "PHASE2"]  # "Phase 1/Phase 2"
    trials = archive_2023.trials
    assert trials["NCT00494806"].phases == ["EARLY_PHASE1"]
    assert trials["NCT00002042"].phases == ["NA"]  # "N/A"
    assert trials["NCT00002930"].phases == ["PHASE2", "PHASE3"]
    assert trials["NCT00004296"].phases == []  # observational: no <phase>
    assert archive_2023.phases == Counter({
        ("PHASE2",): 1918, (): 1420, ("PHASE3",): 1117, ("PHASE1",): 1070, ("NA",): 764,
        ("PHASE1", "PHASE2"): 224, ("PHASE4",): 223, ("PHASE2", "PHASE3"): 47,
        ("EARLY_PHASE1",): 3,
    })  # fmt: skip


def test_text_is_stripped_and_collapsed() -> None:
    t = _study(TVEC_2020, "NCT02288897")  # why_stopped spans three CRLF lines in the file
    assert t.why_stopped == "Inadequate rate of enrollment"


def test_patient_registry_is_observational(archive_2023: Archive) -> None:
    t = archive_2023.trials["NCT00008216"]  # "Observational [Patient Registry]"
    assert t.study_type == "OBSERVATIONAL"
    assert t.unknown_values == []


def test_legacy_date_names_are_the_fallback() -> None:
    t = parse_study(
        _minimal(
            "<firstreceived_date>April 20, 2011</firstreceived_date>"
            "<firstreceived_results_date>May 2, 2013</firstreceived_results_date>"
            "<lastchanged_date>June 1, 2014</lastchanged_date>"
            "<enrollment>12</enrollment><location><facility><address><city>Lyon</city>"
            "<country>France</country></address></facility></location>"
        ),
        "t.xml",
    )
    assert (t.first_posted, t.results_first_posted, t.last_update_posted) == (
        "2011-04-20", "2013-05-02", "2014-06-01",
    )  # fmt: skip
    assert (t.enrollment, t.enrollment_type) == (12, None)
    assert t.countries == ["France"]  # no <location_countries>: taken from the sites
    assert t.sponsor is None


def test_unmapped_values_are_kept_and_reported() -> None:
    t = parse_study(
        _minimal(
            "<study_type>N/A</study_type><enrollment>about 40</enrollment>"
            "<start_date>Spring 2010</start_date><location><facility><name>X</name></facility>"
            "<status>Paused</status></location>"
        ),
        "t.xml",
    )
    assert t.study_type == "N/A"
    assert t.enrollment is None
    assert t.start_date is None
    assert t.sites == [Site("X", None, None, None, "Paused")]
    assert t.unknown_values == [
        "study_type: N/A", "start_date: Spring 2010", "enrollment: about 40", "site_status: Paused",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("xml", "words"),
    [
        (b"<clinical_study><brief_title>x</brief_title></clinical_study>", ["nct_id"]),
        (_minimal("", nct="NCT123"), ["nct_id", "NCT123"]),
        (b"<study><id_info><nct_id>NCT01234567</nct_id></id_info></study>", ["clinical_study"]),
        (b"<clinical_study><id_info>", ["well-formed"]),
    ],
)
def test_unusable_document_raises_value_error(xml: bytes, words: list[str]) -> None:
    with pytest.raises(ValueError) as err:
        parse_study(xml, "bad.xml")
    assert str(err.value).startswith("bad.xml: ")
    for word in words:
        assert word in str(err.value)


def test_entities_are_not_resolved() -> None:
    xml = (
        b'<?xml version="1.0"?><!DOCTYPE clinical_study [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info>"
        b"<brief_title>a &x; b</brief_title></clinical_study>"
    )
    assert parse_study(xml, "x.xml").brief_title == "a &x; b"  # kept as written, never read


def test_as_of() -> None:
    assert as_of_of((TVEC_2018 / "NCT00769704.xml").read_bytes()) == date(2018, 5, 29)
    assert as_of_of((TVEC_2020 / "NCT00769704.xml").read_bytes()) == date(2020, 7, 28)
    assert as_of_of(b"<clinical_study/>") is None


# --- reading files, folders, archives ---------------------------------------------------------


def test_a_record_changed_between_two_dumps() -> None:
    old = {d.trial.nct_id: d for d in read([TVEC_2018]) if isinstance(d, StudyDoc)}
    new = {d.trial.nct_id: d for d in read([TVEC_2020]) if isinstance(d, StudyDoc)}
    assert len(old) == len(new) == 15
    a, b = old["NCT02288897"], new["NCT02288897"]
    assert (a.as_of, b.as_of) == (date(2018, 5, 29), date(2020, 7, 28))
    assert (a.trial.overall_status, b.trial.overall_status) == ("RECRUITING", "TERMINATED")
    assert (a.trial.enrollment, a.trial.enrollment_type) == (225, "ESTIMATED")
    assert (b.trial.enrollment, b.trial.enrollment_type) == (32, "ACTUAL")
    assert (a.trial.why_stopped, b.trial.why_stopped) == (None, "Inadequate rate of enrollment")
    assert (len(a.trial.sites), len(b.trial.sites)) == (25, 23)
    assert "Australia" in a.trial.countries and "Australia" not in b.trial.countries
    posted = old["NCT02211131"].trial, new["NCT02211131"].trial  # results posted in between
    assert [(t.has_results, t.results_first_posted) for t in posted] == [
        (False, None), (True, "2020-05-28"),
    ]  # fmt: skip
    assert old["NCT00769704"].trial == new["NCT00769704"].trial  # OPTiM: nothing changed


def test_folder_and_single_file() -> None:
    docs = list(read([TVEC_2018]))
    assert all(isinstance(d, StudyDoc) for d in docs)
    assert len(docs) == 15
    assert [d.origin for d in docs][:2] == [
        "2018-05-29/NCT00289016.xml",
        "2018-05-29/NCT00769704.xml",
    ]
    (one,) = read([TVEC_2018 / "NCT00769704.xml"])
    assert isinstance(one, StudyDoc)
    assert one.origin == "NCT00769704.xml"
    assert one.as_of == date(2018, 5, 29)
    assert one.raw == (TVEC_2018 / "NCT00769704.xml").read_bytes().decode()
    assert "\r\n" in one.raw  # as stored: CRLF kept


def test_unsupported_path_is_rejected(tmp_path: Path) -> None:
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n")
    assert list(read([other])) == [
        Rejected("notes.csv", None, "not an .xml file, a folder or a tar archive")
    ]


@dataclass
class Archive:
    trials: dict[str, Trial]
    rejected: list[Rejected]
    origins: list[str]
    as_of: Counter[date | None]
    phases: Counter[tuple[str, ...]]
    seconds: float


@pytest.fixture(scope="module")
def archive_2023() -> Archive:
    """The 2023 subset read once (raw text dropped: ~7,000 documents)."""
    start = time.perf_counter()
    arc = Archive({}, [], [], Counter(), Counter(), 0.0)
    for doc in read([XML_2023]):
        if isinstance(doc, Rejected):
            arc.rejected.append(doc)
            continue
        arc.trials[doc.trial.nct_id] = doc.trial
        arc.origins.append(doc.origin)
        arc.as_of[doc.as_of] += 1
        arc.phases[tuple(doc.trial.phases)] += 1
    arc.seconds = time.perf_counter() - start
    return arc


def test_whole_2023_archive(archive_2023: Archive) -> None:
    with tarfile.open(XML_2023, mode="r|*") as tar:
        names = [m.name for m in tar if m.isfile()]
    xml_names = [n for n in names if n.endswith(".xml")]
    assert len(xml_names) == 6786
    assert [n for n in names if not n.endswith(".xml")] == ["SearchResults.csv"]  # skipped
    assert archive_2023.rejected == []
    assert len(archive_2023.trials) == len(archive_2023.origins) == len(xml_names)
    assert archive_2023.origins[0] == (
        "AllPublicXML_subset_20230203.tar.xz:NCT0000xxxx/NCT00002067.xml"
    )
    assert archive_2023.as_of == Counter({date(2023, 2, 3): 6786})
    trials = archive_2023.trials.values()
    assert sum(t.study_type == "INTERVENTIONAL" for t in trials) == 5366  # as the README says
    assert sum(t.has_results for t in trials) == 440
    assert sum(len(t.unknown_values) for t in trials) == 0
    assert archive_2023.seconds < 15


def test_aact_fixture_xml() -> None:
    docs = list(read([AACT]))  # 16 JSON members are skipped
    studies = [d for d in docs if isinstance(d, StudyDoc)]
    assert len(studies) == len(docs) == 60
    prefix = "aact_fixture_records.tar.xz:spec/support/xml_data/NCT"
    assert all(d.origin.startswith(prefix) for d in docs)
    withheld = [d.trial for d in studies if d.trial.overall_status == "WITHHELD"]
    assert [t.unknown_values for t in withheld] == [["study_type: N/A"]]


def _tar_xz(path: Path, members: list[tuple[str, bytes | None]]) -> None:
    with tarfile.open(path, "w:xz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def test_bad_documents_are_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    malformed = b"<clinical_study><id_info><nct_id>NCT00000002</nct_id></id_info><brief_title>"
    no_id = _minimal("").replace(b"<nct_id>NCT01234567</nct_id>", b"")
    archive = tmp_path / "dump.tar.xz"
    _tar_xz(archive, [
        ("NCT0000xxxx", None),
        ("NCT0000xxxx/NCT00289016.xml", (TVEC_2018 / "NCT00289016.xml").read_bytes()),
        ("SearchResults.csv", b"NCT Number,Title\n"),
        ("NCT0000xxxx/NCT00000002.xml", malformed),
        ("NCT0000xxxx/NCT00000003.xml", no_id),
        ("NCT0000xxxx/NCT00769704.xml", (TVEC_2018 / "NCT00769704.xml").read_bytes()),
    ])  # fmt: skip
    out = list(read([archive]))
    assert [type(x).__name__ for x in out] == ["StudyDoc", "Rejected", "Rejected", "StudyDoc"]
    bad, missing = out[1], out[2]
    assert isinstance(bad, Rejected) and isinstance(missing, Rejected)
    assert (bad.file_name, bad.line) == ("dump.tar.xz:NCT0000xxxx/NCT00000002.xml", 2)
    assert bad.reason.startswith("the document is not well-formed XML")
    assert bad.record_id == "NCT00000002"  # found in the text though the XML is broken
    assert bad.raw == malformed.decode()
    assert (missing.file_name, missing.line) == ("dump.tar.xz:NCT0000xxxx/NCT00000003.xml", 3)
    assert (missing.reason, missing.field, missing.record_id) == (
        "the study has no <nct_id>", "nct_id", None,
    )  # fmt: skip
    last = out[3]
    assert isinstance(last, StudyDoc) and last.trial.nct_id == "NCT00769704"


def test_truncated_archive_is_rejected_after_the_good_records(tmp_path: Path) -> None:
    whole = tmp_path / "whole.tar"
    with tarfile.open(whole, "w") as tar:
        for nct in ("NCT00289016", "NCT00769704"):
            tar.add(TVEC_2018 / f"{nct}.xml", arcname=f"NCT0000xxxx/{nct}.xml")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # inside the 2nd member
    out = list(read([cut]))
    assert isinstance(out[0], StudyDoc) and out[0].trial.nct_id == "NCT00289016"
    assert isinstance(out[1], Rejected)
    assert (out[1].file_name, out[1].line) == ("cut.tar", 2)
    assert out[1].reason.startswith("the archive is truncated or corrupt")
    assert len(out) == 2
