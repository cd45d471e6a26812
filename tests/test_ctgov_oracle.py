"""Sanity checks of the change oracle itself, against facts documented with the data or read
from the raw files another way, so that drugradar's events are compared with a trusted list."""

from __future__ import annotations

import json
import tarfile
from collections import defaultdict
from datetime import UTC, date, datetime

import pytest

from tests.ctgov_oracle import (
    COVID,
    TIGIT_COMMITS,
    _read_tsv,
    changes,
    collapse,
    count_by_kind,
    days,
    snapshot_ids,
    tsv_phases,
    tsv_status,
)

pytestmark = pytest.mark.xdist_group("oracle")

PRESENCE = ("appeared", "vanished", "reappeared")


def test_canonical_text() -> None:
    assert collapse("  Phase\t2 \n ") == "Phase 2"
    assert tsv_status("Active, not recruiting") == "ACTIVE_NOT_RECRUITING"
    assert tsv_status("Not yet recruiting") == "NOT_YET_RECRUITING"
    assert tsv_phases("Phase 2|Phase 1") == "PHASE1|PHASE2"
    assert tsv_phases("Early Phase 1") == "EARLY_PHASE1"
    assert tsv_phases("Not Applicable") == "NA"
    assert tsv_phases("") == ""


def test_unreadable_tsv_rows_are_skipped_and_counted() -> None:
    header = "NCT Number\tStatus\tPhases\tStudy Results\tPrimary Completion Date\t"
    header += "Completion Date\tEnrollment"
    good = 'NCT00000001\t"Recruiting\tor not"\tPhase 1\tHas Results\tMay 2020\tJune 2020\t 12 '
    short = "NCT00000002\tRecruiting"
    repeat = "NCT00000001\tCompleted\t\tNo Results Available\t\t\t"
    text = "\r\n".join([header, good, short, repeat, ""])
    snapshot, skipped = _read_tsv(text, {})
    assert skipped == 2
    assert snapshot == {
        "NCT00000001": (
            "RECRUITING_OR_NOT",
            "PHASE1",
            "true",
            "May 2020",
            "June 2020",
            "12",
            None,
        )
    }


def test_tigit_days_are_the_utc_days_of_the_snapshot_commits() -> None:
    commits = json.loads(TIGIT_COMMITS.read_text())["snapshot_commits"]
    assert len(commits) == 36  # the README's "36 daily snapshots"
    utc_days = {datetime.fromisoformat(c["committed"]).astimezone(UTC).date() for c in commits}
    # several commits share a UTC day, so there are fewer snapshot days than commits
    assert days("tigit") == sorted(utc_days)


def test_covid_days_are_the_daily_files() -> None:
    covid_days = days("covid")
    assert len(covid_days) == 190  # README: 190 daily files
    assert (covid_days[0], covid_days[-1]) == (date(2020, 4, 6), date(2020, 10, 12))
    assert covid_days == sorted(set(covid_days))


@pytest.mark.parametrize(("series", "studies"), [("tigit", 1181), ("covid", 3605)])
def test_every_study_appears_once_first_day_all_appear(series: str, studies: int) -> None:
    found = changes(series)
    appeared = [c for c in found if c.kind == "appeared"]
    assert len({c.nct_id for c in appeared}) == len(appeared) == studies  # README counts
    first = days(series)[0]
    assert sum(c.day == first for c in appeared) == len(snapshot_ids(series, first))
    assert all(c.kind == "appeared" for c in found if c.day == first)


@pytest.mark.parametrize("series", ["tigit", "covid"])
def test_no_change_is_a_non_change(series: str) -> None:
    found = changes(series)
    assert found
    assert all(c.old != c.new for c in found)
    assert len(set(found)) == len(found)
    assert sum(count_by_kind(series).values()) == len(found)


@pytest.mark.parametrize("series", ["tigit", "covid"])
def test_presence_events_alternate(series: str) -> None:
    by_study: dict[str, list[str]] = defaultdict(list)
    for c in changes(series):
        if c.kind in PRESENCE:
            by_study[c.nct_id].append(c.kind)
    for kinds in by_study.values():
        assert kinds[0] == "appeared"
        assert kinds[1::2] == ["vanished"] * len(kinds[1::2])
        assert kinds[2::2] == ["reappeared"] * len(kinds[2::2])


def test_tigit_documented_termination() -> None:
    status = [c for c in changes("tigit") if c.nct_id == "NCT05935098" and c.kind.startswith("st")]
    assert [(c.day, c.old, c.new) for c in status] == [
        (date(2026, 3, 14), "ACTIVE_NOT_RECRUITING", "TERMINATED")
    ]


def test_covid_phase_changes_and_results() -> None:
    found = changes("covid")
    phases = {(c.old, c.new) for c in found if c.kind == "phase_changed"}
    assert {("PHASE2", "PHASE3"), ("PHASE1", "PHASE1|PHASE2")} <= phases
    posted = [c for c in found if c.kind == "results_posted"]
    assert posted
    assert all((c.old, c.new) == ("false", "true") for c in posted)


def _raw_rows(wanted: set[date]) -> dict[date, dict[str, list[str]]]:
    """The wanted daily files split naively on tabs (not the csv module the oracle uses)."""
    out: dict[date, dict[str, list[str]]] = {}
    with tarfile.open(COVID, "r|xz") as tar:
        for member in tar:
            name = member.name.rsplit("-", 1)[-1].removesuffix(".tsv")
            if not (member.isfile() and name.isdigit()):
                continue
            day = datetime.strptime(name, "%Y%m%d").date()
            handle = tar.extractfile(member)
            if day in wanted and handle is not None:
                lines = handle.read().decode("utf-8").splitlines()
                rows = [line.split("\t") for line in lines]
                out[day] = {row[1]: row for row in rows[1:]}
                if out.keys() == wanted:
                    break
    return out


def test_covid_phase_change_matches_the_raw_files() -> None:
    wanted = ("phase_changed", "PHASE2", "PHASE3")
    change = next(c for c in changes("covid") if (c.kind, c.old, c.new) == wanted)
    earlier = [d for d in days("covid") if d < change.day]
    before = next(d for d in reversed(earlier) if change.nct_id in snapshot_ids("covid", d))
    raw = _raw_rows({before, change.day})
    phases_column = 12  # "Phases", 13th of the 27 columns in README.source-repo.md
    assert raw[before][change.nct_id][phases_column] == "Phase 2"
    assert raw[change.day][change.nct_id][phases_column] == "Phase 3"
