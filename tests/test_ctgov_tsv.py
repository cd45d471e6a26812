"""The classic ClinicalTrials.gov TSV export reader, on the real 2020 COVID-19 daily downloads
(190 files, 2020-04-06 -> 2020-10-12) and on small hand-made files for the rejections."""

from __future__ import annotations

import io
import tarfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from drugradar.model.trial import Intervention, Party, Site, TrialDate
from drugradar.sources.base import Rejected
from drugradar.sources.ctgov_common import StudyDoc
from drugradar.sources.ctgov_tsv import file_date, parse_row, read

from .conftest import ROOT

ARCHIVE = (
    ROOT.parent
    / "shared"
    / "data"
    / "ctgov"
    / "tsv-daily-covid-2020"
    / "clinicalTrials_20200406-20201012.tar.xz"
)
MEMBER = "clinicalTrials_20200406-20201012.tar.xz:clinicalTrials/clinicalTrials-{}.tsv"
HEADER = [
    "Rank",
    "NCT Number",
    "Title",
    "Acronym",
    "Status",
    "Study Results",
    "Conditions",
    "Interventions",
    "Outcome Measures",
    "Sponsor/Collaborators",
    "Gender",
    "Age",
    "Phases",
    "Enrollment",
    "Funded Bys",
    "Study Type",
    "Study Designs",
    "Other IDs",
    "Start Date",
    "Primary Completion Date",
    "Completion Date",
    "First Posted",
    "Results First Posted",
    "Last Update Posted",
    "Locations",
    "Study Documents",
    "URL",
]
# Trials whose rows are kept from the whole-archive read, every day they appear.
TRACKED = {"NCT04333550", "NCT04252664", "NCT04315298", "NCT04280705", "NCT04324736"}


@dataclass
class ArchiveRead:
    rows: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    nct_ids: set[str] = field(default_factory=set)
    files: list[tuple[str, date | None]] = field(default_factory=list)  # in yield order
    rows_per_file: Counter[str] = field(default_factory=Counter)
    unknown_values: Counter[str] = field(default_factory=Counter)
    kept: dict[tuple[str, date | None], StudyDoc] = field(default_factory=dict)
    seconds: float = 0.0


@pytest.fixture(scope="module")
def archive() -> ArchiveRead:
    """The whole archive read once (~15 s); only counts and the tracked trials are kept."""
    if not ARCHIVE.is_file():
        pytest.fail(f"{ARCHIVE} is missing: these tests need the shared real data")
    out = ArchiveRead()
    start = time.perf_counter()
    for item in read([ARCHIVE]):
        if isinstance(item, Rejected):
            out.rejected.append(item)
            continue
        out.rows += 1
        out.nct_ids.add(item.trial.nct_id)
        out.rows_per_file[item.origin] += 1
        out.unknown_values.update(item.trial.unknown_values)
        if not out.files or out.files[-1][0] != item.origin:
            out.files.append((item.origin, item.as_of))
        if item.trial.nct_id in TRACKED:
            out.kept[(item.trial.nct_id, item.as_of)] = item
    out.seconds = time.perf_counter() - start
    print(f"\nctgov TSV archive: {out.rows} rows, {len(out.rejected)} rejected, "
          f"{len(out.nct_ids)} trials, {out.seconds:.1f} s")  # fmt: skip
    return out


def _row(**cells: str) -> list[str]:
    """A row under ``HEADER``: the given cells (``Start_Date`` for "Start Date"), the rest empty."""
    values = {"NCT Number": "NCT04333550"}
    values.update({k.replace("_", " "): v for k, v in cells.items()})
    values["Sponsor/Collaborators"] = values.pop("Sponsor Collaborators", "")
    return [values.get(name, "") for name in HEADER]


def test_real_trial_exact_fields(archive: ArchiveRead) -> None:
    doc = archive.kept[("NCT04333550", date(2020, 4, 6))]
    t = doc.trial
    assert doc.origin == MEMBER.format("20200406")
    assert doc.as_of == date(2020, 4, 6)
    assert doc.raw.startswith("1\tNCT04333550\tApplication of Desferal to Treat COVID-19\t\t")
    assert doc.raw.endswith("\thttps://ClinicalTrials.gov/show/NCT04333550")
    assert t.source_format == "tsv"
    assert t.nct_id == "NCT04333550"
    assert t.brief_title == "Application of Desferal to Treat COVID-19"
    assert t.acronym is None
    assert t.overall_status == "RECRUITING"
    assert t.has_results is False
    assert t.conditions == ["COVID-19"]
    assert t.interventions == [Intervention("DRUG", "Deferoxamine")]
    # "Funded Bys" is the single class "Other", so it is the sponsor's class.
    assert t.sponsor == Party("Kermanshah University of Medical Sciences", "OTHER")
    assert t.collaborators == []
    assert t.phases == ["PHASE1", "PHASE2"]
    assert t.enrollment == 50
    assert t.enrollment_type is None
    assert t.study_type == "INTERVENTIONAL"
    assert t.start_date == TrialDate("2020-04", None)
    assert t.primary_completion_date == TrialDate("2020-09", None)
    assert t.completion_date == TrialDate("2021-03", None)
    assert t.first_posted == "2020-04-03"
    assert t.results_first_posted is None
    assert t.last_update_posted == "2020-04-03"
    assert t.countries == ["Iran, Islamic Republic of"]  # a country name with a comma
    assert len(t.sites) == 1
    assert t.sites[0].country == "Iran, Islamic Republic of"
    assert t.sites[0].facility is not None
    assert t.sites[0].facility.startswith("Regenerative Medicine Research Center, Kermanshah")
    assert t.unknown_values == []
    # A month later the same trial has a new last-update date, nothing else read differently.
    later = archive.kept[("NCT04333550", date(2020, 5, 6))].trial
    assert later.last_update_posted == "2020-05-04"
    assert later.overall_status == "RECRUITING"


def test_parse_row_finds_columns_by_name_not_position(archive: ArchiveRead) -> None:
    doc = archive.kept[("NCT04333550", date(2020, 4, 6))]
    fields = doc.raw.split("\t")
    order = list(reversed(range(len(HEADER))))
    shuffled = parse_row([fields[i] for i in order], [HEADER[i].upper() for i in order], "x")
    assert shuffled == doc.trial


def test_combined_phases_and_industry_collaborator(archive: ArchiveRead) -> None:
    t = archive.kept[("NCT04315298", date(2020, 4, 6))].trial  # sarilumab, Regeneron/Sanofi
    assert t.phases == ["PHASE2", "PHASE3"]
    assert t.interventions == [Intervention("DRUG", "Sarilumab"), Intervention("DRUG", "Placebo")]
    assert t.sponsor == Party("Regeneron Pharmaceuticals", "INDUSTRY")
    assert t.collaborators == [Party("Sanofi", "INDUSTRY")]
    assert t.start_date == TrialDate("2020-03-16", None)
    assert t.sites[0] == Site("Regeneron Study Site", "Los Angeles", "California", "United States")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Phase 2|Phase 3", ["PHASE2", "PHASE3"]),
        ("Phase 1|Phase 2", ["PHASE1", "PHASE2"]),
        ("Not Applicable", ["NA"]),
        ("Early Phase 1", ["EARLY_PHASE1"]),
        ("Phase 4", ["PHASE4"]),
        ("", []),
    ],
)
def test_phase_cells(cell: str, expected: list[str]) -> None:
    assert parse_row(_row(Phases=cell), HEADER, "x").phases == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Not yet recruiting", "NOT_YET_RECRUITING"),
        ("Recruiting", "RECRUITING"),
        ("Active, not recruiting", "ACTIVE_NOT_RECRUITING"),
        ("Enrolling by invitation", "ENROLLING_BY_INVITATION"),
        ("Completed", "COMPLETED"),
        ("Suspended", "SUSPENDED"),
        ("Terminated", "TERMINATED"),
        ("Withdrawn", "WITHDRAWN"),
        ("Available", "AVAILABLE"),
        ("No longer available", "NO_LONGER_AVAILABLE"),
        ("Temporarily not available", "TEMPORARILY_NOT_AVAILABLE"),
        ("Approved for marketing", "APPROVED_FOR_MARKETING"),
    ],
)
def test_status_words(cell: str, expected: str) -> None:
    t = parse_row(_row(Status=cell), HEADER, "x")
    assert t.overall_status == expected
    assert t.unknown_values == []


def test_unknown_words_are_kept_and_reported() -> None:
    t = parse_row(
        _row(Status="Paused", Phases="Phase 5", Enrollment="about 40", Start_Date="soon"),
        HEADER,
        "x",
    )
    assert t.overall_status == "Paused"
    assert t.phases == ["Phase 5"]
    assert t.enrollment is None
    assert t.start_date is None
    assert t.unknown_values == [
        "overall_status: Paused",
        "phase: Phase 5",
        "enrollment: about 40",
        "start_date: soon",
    ]


def test_cells_of_a_made_up_row() -> None:
    t = parse_row(
        _row(
            Interventions="Drug: Deferoxamine|Biological: X|Other: Placebo|Dietary Supplement: D3",
            Sponsor_Collaborators="Big Pharma|University A|Agency B",
            Funded_Bys="Industry|Other",
            Study_Type="Expanded Access:Intermediate-size Population",
            Study_Results="Has Results",
            Locations="Site A, Seoul, Korea, Republic of|Hôpital Nord, Amiens, France|"
            "Site C, Boston, Massachusetts, United States|Site D, Lyon, France",
        ),
        HEADER,
        "x",
    )
    assert t.interventions == [
        Intervention("DRUG", "Deferoxamine"),
        Intervention("BIOLOGICAL", "X"),
        Intervention("OTHER", "Placebo"),
        Intervention("DIETARY_SUPPLEMENT", "D3"),
    ]
    # Two classes for three parties: which is whose is unknown.
    assert t.sponsor == Party("Big Pharma", None)
    assert t.collaborators == [Party("University A", None), Party("Agency B", None)]
    assert t.study_type == "EXPANDED_ACCESS"
    assert t.has_results is True
    assert t.sites[0] == Site("Site A", "Seoul", None, "Korea, Republic of")
    assert t.sites[1] == Site("Hôpital Nord", "Amiens", None, "France")
    assert t.sites[2] == Site("Site C", "Boston", "Massachusetts", "United States")
    assert t.countries == ["France", "Korea, Republic of", "United States"]  # sorted


def test_parse_row_raises_naming_the_field() -> None:
    with pytest.raises(ValueError, match="no NCT Number"):
        parse_row(_row(NCT_Number=""), HEADER, "x")
    with pytest.raises(ValueError, match="malformed NCT Number 'NCT123'"):
        parse_row(_row(NCT_Number="NCT123"), HEADER, "x")
    with pytest.raises(ValueError, match="26 fields, the header has 27"):
        parse_row(_row()[:-1], HEADER, "x")


def test_quotes_are_characters_of_the_value(archive: ArchiveRead) -> None:
    """The export does not quote cells: a title in quotes keeps them."""
    t = archive.kept[("NCT04324736", date(2020, 4, 6))].trial
    assert t.brief_title == '"Coronavirus SARS-CoV2 and Diabetes Outcomes"'


def test_daily_files_come_in_date_order(archive: ArchiveRead) -> None:
    with tarfile.open(ARCHIVE, mode="r|*") as tar:
        names = [m.name for m in tar if m.name.endswith(".tsv")]
    assert names[0] == "clinicalTrials/clinicalTrials-20200729.tsv"  # the archive is not sorted
    assert len(names) == 190
    days = [as_of for _, as_of in archive.files if as_of is not None]
    assert len(days) == 190  # each file is one run of rows
    assert days[0] == date(2020, 4, 6)
    assert days[-1] == date(2020, 10, 12)
    assert days == sorted(days)
    assert len(set(days)) == 190  # every day of the range, none missing
    for origin, as_of in archive.files:
        assert as_of is not None
        assert origin == MEMBER.format(as_of.strftime("%Y%m%d"))


def test_whole_archive(archive: ArchiveRead) -> None:
    assert archive.rows == 444_686
    assert archive.rejected == []
    assert len(archive.nct_ids) == 3_605  # as the data README says
    assert archive.rows_per_file[MEMBER.format("20200406")] == 306
    assert archive.rows_per_file[MEMBER.format("20201012")] == 3_584
    assert archive.unknown_values == Counter()  # every status, phase, type and date was known


def test_a_real_status_change_between_two_days(archive: ArchiveRead) -> None:
    """Remdesivir in mild and moderate COVID-19 (China): suspended on 2020-04-15."""
    before = archive.kept[("NCT04252664", date(2020, 4, 14))].trial
    after = archive.kept[("NCT04252664", date(2020, 4, 15))].trial
    assert before.overall_status == "RECRUITING"
    assert after.overall_status == "SUSPENDED"
    assert before.last_update_posted == "2020-02-24"
    assert after.last_update_posted == "2020-04-15"


def test_results_and_sites_of_a_large_trial(archive: ArchiveRead) -> None:
    t = archive.kept[("NCT04280705", date(2020, 10, 12))].trial  # ACTT-1, remdesivir
    assert t.has_results is True
    assert t.results_first_posted == "2020-09-25"
    assert t.overall_status == "COMPLETED"
    assert t.sponsor == Party(
        "National Institute of Allergy and Infectious Diseases (NIAID)", "NIH"
    )
    assert len(t.sites) == 60
    assert t.sites[0] == Site(
        "University of Alabama at Birmingham School of Medicine - Infectious Disease",
        "Birmingham",
        "Alabama",
        "United States",
    )
    assert t.countries == sorted(t.countries)  # order of sites means nothing: sorted
    assert "United States" in t.countries and "Korea, Republic of" in t.countries
    assert len(t.countries) == 10
    assert archive.kept[("NCT04280705", date(2020, 7, 7))].trial.overall_status == "RECRUITING"


def _lines(*rows: list[str]) -> bytes:
    return b"".join("\t".join(r).encode("utf-8") + b"\r\n" for r in rows)


def test_bad_rows_are_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    good = _row(Rank="1", NCT_Number="NCT00000001", Title="First")
    last = _row(Rank="6", NCT_Number="NCT00000006", Title="Last")
    short = _row(Rank="2", NCT_Number="NCT00000002")[:20]
    latin1 = "\t".join(_row(Rank="3", NCT_Number="NCT00000003", Title="Étude")).encode("latin-1")
    data = (
        _lines(HEADER, good, short)
        + latin1
        + b"\r\n"
        + _lines(_row(Rank="4", NCT_Number="NCT 4"), _row(Rank="5", NCT_Number=""), last)
    )
    path = tmp_path / "clinicalTrials-20200729.tsv"
    path.write_bytes(data)
    out = list(read([path]))
    docs = [d for d in out if isinstance(d, StudyDoc)]
    rejected = [r for r in out if isinstance(r, Rejected)]
    assert [d.trial.nct_id for d in docs] == ["NCT00000001", "NCT00000006"]
    assert {d.as_of for d in docs} == {date(2020, 7, 29)}
    assert docs[0].origin == "clinicalTrials-20200729.tsv"
    assert [(r.line, r.field, r.record_id) for r in rejected] == [
        (3, None, "NCT00000002"),
        (4, None, "NCT00000003"),
        (5, "NCT Number", "NCT 4"),
        (6, "NCT Number", None),
    ]
    assert rejected[0].reason == "the row has 20 fields, the header has 27"
    assert rejected[1].reason == "the line is not valid UTF-8 (byte 0xc9 at 14)"
    assert rejected[2].reason == "malformed NCT Number 'NCT 4'"
    assert rejected[3].reason == "the row has no NCT Number"
    assert all(r.file_name == "clinicalTrials-20200729.tsv" for r in rejected)
    assert rejected[0].raw is not None
    assert rejected[0].raw.startswith("2\tNCT00000002\t")
    assert rejected[1].raw is not None
    assert "\ufffdtude" in rejected[1].raw


def test_a_long_row_is_cut_in_the_quarantine(tmp_path: Path) -> None:
    path = tmp_path / "clinicalTrials-20200730.tsv"
    path.write_bytes(_lines(HEADER, [*_row(Title="x" * 5000), "extra"]))
    (rejected,) = list(read([path]))
    assert isinstance(rejected, Rejected)
    assert rejected.reason == "the row has 28 fields, the header has 27"
    assert rejected.record_id == "NCT04333550"
    assert rejected.raw is not None
    assert len(rejected.raw) == 2000


def test_a_quoted_cell_holding_a_tab(tmp_path: Path) -> None:
    """Quoting is used only when the verbatim split gives the wrong number of cells."""
    row = _row(NCT_Number="NCT00000009", Title='"A\tB"')
    path = tmp_path / "x.tsv"
    path.write_bytes(_lines(HEADER, row))
    (doc,) = list(read([path]))
    assert isinstance(doc, StudyDoc)
    assert doc.trial.brief_title == "A\tB"
    assert doc.as_of is None  # no date in the name


def test_a_header_without_nct_number_skips_the_file(tmp_path: Path) -> None:
    path = tmp_path / "clinicalTrials-20200731.tsv"
    path.write_bytes(_lines(["Rank", "Title"], ["1", "x"]))
    (rejected,) = list(read([path]))
    assert isinstance(rejected, Rejected)
    assert (rejected.line, rejected.field) == (1, "NCT Number")


def test_a_tar_gz_is_read_in_date_order_without_extracting(tmp_path: Path) -> None:
    path = tmp_path / "daily.tar.gz"
    members = {
        "d/clinicalTrials-20200502.tsv": _lines(HEADER, _row(NCT_Number="NCT00000002")),
        "d/README.md": b"not a table",
        "d/notes.tsv": _lines(HEADER, _row(NCT_Number="NCT00000009")),
        "d/clinicalTrials-20200501.tsv": _lines(HEADER, _row(NCT_Number="NCT00000001")),
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out = list(read([path]))
    assert all(isinstance(d, StudyDoc) for d in out)
    docs = [d for d in out if isinstance(d, StudyDoc)]
    assert [(d.origin, d.as_of, d.trial.nct_id) for d in docs] == [
        ("daily.tar.gz:d/clinicalTrials-20200501.tsv", date(2020, 5, 1), "NCT00000001"),
        ("daily.tar.gz:d/clinicalTrials-20200502.tsv", date(2020, 5, 2), "NCT00000002"),
        ("daily.tar.gz:d/notes.tsv", None, "NCT00000009"),  # undated last
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daily.tar.gz"]


def test_other_files_and_broken_archives_are_rejected(tmp_path: Path) -> None:
    other = tmp_path / "trials.json"
    other.write_text("{}")
    broken = tmp_path / "cut.tar.xz"
    broken.write_bytes(ARCHIVE.read_bytes()[:20_000])
    out = list(read([other, broken]))
    assert isinstance(out[0], Rejected)
    assert out[0].reason == "not a .tsv file or a tar archive of them"
    assert isinstance(out[-1], Rejected)
    assert out[-1].file_name == "cut.tar.xz"
    assert "truncated or corrupt" in out[-1].reason


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("clinicalTrials/clinicalTrials-20200729.tsv", date(2020, 7, 29)),
        ("trials_2020-07-29.tsv", date(2020, 7, 29)),
        ("clinicalTrials-20201399.tsv", None),
        ("2020/clinicalTrials.tsv", None),
        ("run-120200729.tsv", None),
    ],
)
def test_file_date(name: str, expected: date | None) -> None:
    assert file_date(name) == expected
