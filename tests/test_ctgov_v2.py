"""API v2 JSON: one study, arrays, API pages, JSON Lines and the TIGIT version wrappers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from drugradar.sources.base import Rejected
from drugradar.sources.ctgov_common import StudyDoc
from drugradar.sources.ctgov_v2 import NotGrouped, read, snapshot_days

from .conftest import ROOT

SAMPLE = ROOT / "tests" / "fixtures" / "ctgov" / "tigit_versions_sample.jsonl.xz"


def studies(paths: list[Path], as_of: date | None = None) -> dict[str, StudyDoc]:
    return {d.trial.nct_id: d for d in read(paths, as_of) if isinstance(d, StudyDoc)}


def test_latest_version_by_default() -> None:
    docs = studies([SAMPLE])
    assert len(docs) == 36
    t = docs["NCT04256421"].trial  # SKYSCRAPER-02, Roche
    assert t.phases == ["PHASE3"] and t.study_type == "INTERVENTIONAL"
    assert t.sponsor is not None and t.sponsor.name == "Hoffmann-La Roche"
    assert t.sponsor.cls == "INDUSTRY"
    assert [i.name for i in t.interventions][:2] == ["Tiragolumab", "Atezolizumab"]
    arms = {a.label: a.type for a in t.arm_groups}
    assert arms["Placebo + Atezolizumab + CE"] == "ACTIVE_COMPARATOR"
    assert t.condition_meshes and t.countries
    assert docs["NCT04256421"].as_of == date(2026, 3, 14)
    combined = docs["NCT04303169"].trial
    assert combined.phases == ["PHASE1", "PHASE2"]


def test_snapshot_of_a_day() -> None:
    days = snapshot_days(SAMPLE)
    assert days[0] == date(2026, 2, 3) and days[-1] == date(2026, 3, 14)
    early, late = studies([SAMPLE], days[0]), studies([SAMPLE], days[-1])
    assert all(d.as_of == days[0] for d in early.values())
    changed = [k for k in early if k in late and early[k].raw != late[k].raw]
    assert changed, "the sample holds studies that changed during the series"


def test_plain_json_shapes_and_bad_records(tmp_path: Path) -> None:
    study = json.loads(next(iter(studies([SAMPLE]).values())).raw)
    one = tmp_path / "one.json"
    one.write_text(json.dumps(study))
    array = tmp_path / "download.json"
    array.write_text(json.dumps([study, {"protocolSection": {"identificationModule": {}}}]))
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"studies": [study], "nextPageToken": "x"}))
    lines = tmp_path / "studies.jsonl"
    lines.write_text(json.dumps(study) + "\n{not json\n")
    nct = study["protocolSection"]["identificationModule"]["nctId"]
    for path in (one, page):
        assert list(studies([path])) == [nct]
    out = list(read([array]))
    assert isinstance(out[0], StudyDoc) and isinstance(out[1], Rejected)
    assert out[1].line == 2 and "nctId" in out[1].reason
    out = list(read([lines]))
    assert isinstance(out[0], StudyDoc)
    assert isinstance(out[1], Rejected) and out[1].line == 2 and "not valid JSON" in out[1].reason


def _wrapper(nct: str, index: int, seen: list[str], title: str) -> str:
    study = {"protocolSection": {"identificationModule": {"nctId": nct, "briefTitle": title}}}
    head = {"nct_id": nct, "version_index": index, "seen_dates": seen}
    return json.dumps({**head, "study": study})


def _items(path: Path, **kw: Any) -> list[tuple[str, str]]:
    out = []
    for d in read([path], **kw):
        if isinstance(d, StudyDoc):
            out.append(("study", f"{d.trial.nct_id} {d.trial.brief_title}"))
        elif isinstance(d, Rejected):
            out.append(("rejected", f"{d.line} {d.reason.split(':')[0]}"))
        else:
            assert isinstance(d, NotGrouped)
            out.append(("not grouped", f"{d.nct_id} {d.line}"))
    return out


def test_grouped_reading_hands_each_study_out_when_the_next_starts(tmp_path: Path) -> None:
    """With ``grouped``, a study is handed out as soon as its versions end (before the bad line
    that follows them), and the versions chosen are those of reading to the end."""
    lines = tmp_path / "series.jsonl"
    lines.write_text(
        "\n".join(
            [
                _wrapper("NCT00000001", 0, ["2026-02-03T01:00:00+00:00"], "A first"),
                _wrapper("NCT00000001", 1, ["2026-02-04T01:00:00+00:00"], "A second"),
                _wrapper("NCT00000002", 0, ["2026-02-03T01:00:00+00:00"], "B first"),
                "{not json",
                _wrapper("NCT00000002", 1, ["2026-02-04T23:30:00-03:00"], "B second"),
                _wrapper("NCT00000003", 0, ["yesterday"], "C"),
            ]
        )
        + "\n"
    )
    at_end = _items(lines)
    assert at_end == [
        ("rejected", "4 not valid JSON"),
        ("rejected", "6 seen_dates"),
        ("study", "NCT00000001 A second"),
        ("study", "NCT00000002 B second"),
    ]
    streamed = _items(lines, grouped=True)
    assert streamed == [
        ("study", "NCT00000001 A second"),
        ("rejected", "4 not valid JSON"),
        ("study", "NCT00000002 B second"),  # handed out when C started
        ("rejected", "6 seen_dates"),
    ]
    day = date(2026, 2, 3)
    assert _items(lines, as_of=day, grouped=True)[0] == ("study", "NCT00000001 A first")
    # 2026-02-04T23:30-03:00 is 2026-02-05 in UTC: B has no version on the 4th
    assert [i for i in _items(lines, as_of=date(2026, 2, 4)) if i[0] == "study"] == [
        ("study", "NCT00000001 A second")
    ]


def test_grouped_reading_stops_when_a_later_version_comes_apart(tmp_path: Path) -> None:
    apart = tmp_path / "apart.jsonl"
    rows = [
        _wrapper("NCT00000001", 0, ["2026-02-03T01:00:00+00:00"], "A first"),
        _wrapper("NCT00000002", 0, ["2026-02-03T01:00:00+00:00"], "B first"),
        _wrapper("NCT00000001", 1, ["2026-02-04T01:00:00+00:00"], "A second"),
    ]
    apart.write_text("\n".join(rows) + "\n")
    assert _items(apart, grouped=True) == [
        ("study", "NCT00000001 A first"),
        ("study", "NCT00000002 B first"),
        ("not grouped", "NCT00000001 3"),
    ]
    assert _items(apart) == [("study", "NCT00000001 A second"), ("study", "NCT00000002 B first")]
    older = tmp_path / "older.jsonl"  # apart, but the later line would not be chosen anyway
    older.write_text("\n".join([rows[2], rows[1], rows[0]]) + "\n")
    assert (
        _items(older, grouped=True)
        == _items(older)
        == [
            ("study", "NCT00000001 A second"),
            ("study", "NCT00000002 B first"),
        ]
    )
