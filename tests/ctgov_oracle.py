"""An independent oracle of the real changes in two ClinicalTrials.gov snapshot series.

A snapshot missing more than half of the previous snapshot's studies is partial (the watch
list's fetch of 2026-02-04 holds 12 of the 133 studies of the day before): its absences are not
vanishings, and the studies it lacks still count as present for the next day.

It reads the raw files with the standard library only and never imports ``drugradar``, so a
mistake in drugradar's parsers or change detection cannot hide in the oracle as well. The rules
(what a day's snapshot is, which fields count, how values are canonicalised) are written out here
once, simply, so the tests can compare drugradar's events against them.
"""

from __future__ import annotations

import csv
import io
import json
import lzma
import re
import tarfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

CTGOV = Path(__file__).resolve().parents[2] / "shared" / "data" / "ctgov"
TIGIT = CTGOV / "v2-daily-tigit-2026" / "tigit_versions.jsonl.xz"
TIGIT_COMMITS = CTGOV / "v2-daily-tigit-2026" / "tigit_snapshot_commits.json"
COVID = CTGOV / "tsv-daily-covid-2020" / "clinicalTrials_20200406-20201012.tar.xz"
SERIES = ("tigit", "covid")

# One canonical text per field, in this order; None means "not available in this series".
FIELDS = ("status", "phase", "results", "primary_completion", "completion", "enrollment", "sponsor")
FIELD_KINDS = {
    "status": "status_changed",
    "phase": "phase_changed",
    "primary_completion": "primary_completion_changed",
    "completion": "completion_changed",
    "enrollment": "enrollment_changed",
    "sponsor": "sponsor_changed",
}
KINDS = (
    "appeared",
    "vanished",
    "reappeared",
    "status_changed",
    "phase_changed",
    "results_posted",
    "results_removed",
    "primary_completion_changed",
    "completion_changed",
    "enrollment_changed",
    "sponsor_changed",
)
TSV_PHASES = {
    "Early Phase 1": "EARLY_PHASE1",
    "Phase 1": "PHASE1",
    "Phase 2": "PHASE2",
    "Phase 3": "PHASE3",
    "Phase 4": "PHASE4",
    "Not Applicable": "NA",
}
_TSV_NAME = re.compile(r"(\d{4})(\d{2})(\d{2})\.tsv$")
_NCT = re.compile(r"NCT\d{8}")

Values = tuple[str | None, ...]


@dataclass(frozen=True)
class OracleChange:
    """One real change. Presence kinds carry the overall status as payload so that old != new:
    appeared/reappeared (None -> status), vanished (last status -> None)."""

    nct_id: str
    day: date
    kind: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class _Series:
    days: tuple[date, ...]
    snapshots: tuple[dict[str, Values], ...]
    skipped_rows: dict[date, int]


def collapse(text: str) -> str:
    """Whitespace-only edits are not changes: strip and turn whitespace runs into one space."""
    return " ".join(text.split())


def tsv_status(text: str) -> str:
    """'Active, not recruiting' -> 'ACTIVE_NOT_RECRUITING', the v2 enum spelling."""
    return re.sub(r"[^A-Za-z]+", "_", collapse(text)).strip("_").upper()


def tsv_phases(text: str) -> str:
    """'Phase 1|Phase 2' -> 'PHASE1|PHASE2' (v2 words, sorted); unknown words stay visible."""
    words = (collapse(part) for part in text.split("|"))
    return "|".join(sorted(TSV_PHASES.get(word, word) for word in words if word))


def _text(value: Any) -> str:
    return "" if value is None else collapse(str(value))


def _pair(struct: Any, first: str, second: str) -> str:
    """A v2 struct as 'first|second'; an absent struct is ''."""
    if not isinstance(struct, dict) or not struct:
        return ""
    return f"{_text(struct.get(first))}|{_text(struct.get(second))}"


def _v2_values(study: dict[str, Any]) -> Values:
    protocol = study.get("protocolSection") or {}
    status = protocol.get("statusModule") or {}
    design = protocol.get("designModule") or {}
    sponsor = (protocol.get("sponsorCollaboratorsModule") or {}).get("leadSponsor") or {}
    return (
        _text(status.get("overallStatus")),
        "|".join(sorted(_text(p) for p in design.get("phases") or [])),
        "true" if study.get("hasResults") is True else "false",
        _pair(status.get("primaryCompletionDateStruct"), "date", "type"),
        _pair(status.get("completionDateStruct"), "date", "type"),
        _pair(design.get("enrollmentInfo"), "count", "type"),
        _text(sponsor.get("name")),
    )


def _load_tigit() -> _Series:
    """Day D's snapshot: per study, the version holding the latest stamp on UTC day D."""
    best: dict[tuple[str, date], tuple[datetime, Values]] = {}
    with lzma.open(TIGIT, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            nct_id: str = record["nct_id"]
            values = _v2_values(record["study"])
            for stamp in record["seen_dates"]:
                at = datetime.fromisoformat(stamp).astimezone(UTC)
                key = (nct_id, at.date())
                held = best.get(key)
                if held is not None and held[0] == at:
                    raise ValueError(f"{nct_id}: two versions seen at {stamp}")
                if held is None or at > held[0]:
                    best[key] = (at, values)
    per_day: dict[date, dict[str, Values]] = {}
    for (nct_id, day), (_, values) in best.items():
        per_day.setdefault(day, {})[nct_id] = values
    days = tuple(sorted(per_day))
    return _Series(days, tuple(per_day[d] for d in days), {})


def _tsv_values(raw: tuple[str, ...]) -> Values:
    status, phases, results, primary, completion, enrollment = raw
    return (
        tsv_status(status),
        tsv_phases(phases),
        "true" if collapse(results) == "Has Results" else "false",
        collapse(primary),
        collapse(completion),
        collapse(enrollment),
        None,  # "Sponsor/Collaborators" mixes the lead sponsor with collaborators
    )


_TSV_COLUMNS = (
    "Status",
    "Phases",
    "Study Results",
    "Primary Completion Date",
    "Completion Date",
    "Enrollment",
)


def _read_tsv(text: str, memo: dict[tuple[str, ...], Values]) -> tuple[dict[str, Values], int]:
    """One file's snapshot and how many rows were skipped (unreadable, short, or a repeat)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t")
    header = next(reader)
    width = len(header)
    nct_col = header.index("NCT Number")
    cols = [header.index(name) for name in _TSV_COLUMNS]
    snapshot: dict[str, Values] = {}
    skipped = 0
    while True:
        try:
            for row in reader:
                nct_id = row[nct_col] if len(row) == width else ""
                if not _NCT.fullmatch(nct_id) or nct_id in snapshot:
                    skipped += 1  # unreadable, or a second row for one trial: keep the first
                    continue
                raw = tuple(row[i] for i in cols)
                values = memo.get(raw)
                if values is None:
                    values = memo[raw] = _tsv_values(raw)  # most rows repeat day after day
                snapshot[nct_id] = values
            return snapshot, skipped
        except csv.Error:
            skipped += 1


def _load_covid() -> _Series:
    """One snapshot per daily file, read streaming from the tar; the date is in the file name."""
    per_day: dict[date, dict[str, Values]] = {}
    skipped: dict[date, int] = {}
    memo: dict[tuple[str, ...], Values] = {}
    with tarfile.open(COVID, "r|xz") as tar:
        for member in tar:
            match = _TSV_NAME.search(member.name)
            handle = tar.extractfile(member) if member.isfile() and match else None
            if match is None or handle is None:
                continue
            day = date(int(match[1]), int(match[2]), int(match[3]))
            if day in per_day:
                raise ValueError(f"two files for {day}")
            text = handle.read().decode("utf-8-sig", errors="replace")
            per_day[day], bad = _read_tsv(text, memo)
            if bad:
                skipped[day] = bad
    days = tuple(sorted(per_day))
    return _Series(days, tuple(per_day[d] for d in days), skipped)


@cache
def _series(series: str) -> _Series:
    if series == "tigit":
        return _load_tigit()
    if series == "covid":
        return _load_covid()
    raise ValueError(f"unknown series {series!r}; expected one of {SERIES}")


def _field_changes(nct_id: str, day: date, old: Values, new: Values) -> Iterable[OracleChange]:
    for name, before, after in zip(FIELDS, old, new, strict=True):
        if before is None or after is None or before == after:
            continue
        if name == "results":
            kind = "results_posted" if after == "true" else "results_removed"
        else:
            kind = FIELD_KINDS[name]
        yield OracleChange(nct_id, day, kind, before, after)


@cache
def _changes(series: str) -> tuple[OracleChange, ...]:
    data = _series(series)
    out: list[OracleChange] = []
    last: dict[str, Values] = {}  # each study's values on the latest day that had it
    previous: set[str] = set()
    for day, snapshot in zip(data.days, data.snapshots, strict=True):
        for nct_id, values in snapshot.items():
            before = last.get(nct_id)
            if before is None:
                out.append(OracleChange(nct_id, day, "appeared", None, values[0]))
            else:
                if nct_id not in previous:
                    out.append(OracleChange(nct_id, day, "reappeared", None, values[0]))
                if before != values:
                    out.extend(_field_changes(nct_id, day, before, values))
            last[nct_id] = values
        missing = previous - snapshot.keys()
        if len(missing) * 2 > len(previous):  # a partial snapshot: absences are not vanishings
            previous |= set(snapshot)
            continue
        for nct_id in missing:
            out.append(OracleChange(nct_id, day, "vanished", last[nct_id][0], None))
        previous = set(snapshot)
    order = {kind: i for i, kind in enumerate(KINDS)}
    return tuple(sorted(out, key=lambda c: (c.day, c.nct_id, order[c.kind])))


def changes(series: str) -> list[OracleChange]:
    """Every real change of 'tigit' or 'covid', by day, study and kind (cached per process)."""
    return list(_changes(series))


def days(series: str) -> list[date]:
    """The snapshot days of a series, in order; calendar gaps are not snapshots."""
    return list(_series(series).days)


def snapshot_ids(series: str, day: date) -> frozenset[str]:
    """The studies in one day's snapshot."""
    data = _series(series)
    return frozenset(data.snapshots[data.days.index(day)])


def skipped_rows(series: str) -> dict[date, int]:
    """Rows the oracle could not read (or duplicated a trial), per file date; empty if none."""
    return dict(_series(series).skipped_rows)


def count_by_kind(series: str) -> dict[str, int]:
    """How many changes of each kind (sponsor_changed is left out for the TSV series)."""
    counts = Counter(change.kind for change in _changes(series))
    kinds = [k for k in KINDS if not (series == "covid" and k == "sponsor_changed")]
    return {kind: counts[kind] for kind in kinds}
