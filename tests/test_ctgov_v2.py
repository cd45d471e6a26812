"""API v2 JSON: one study, arrays, API pages, JSON Lines and the TIGIT version wrappers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from drugradar.sources.base import Rejected
from drugradar.sources.ctgov_common import StudyDoc
from drugradar.sources.ctgov_v2 import read, snapshot_days

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
