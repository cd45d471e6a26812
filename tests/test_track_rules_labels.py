"""Label event rules on real labels from ../shared/data/fda/labels.

No label comes here at two dates under one set id, so the real label changes are taken from
two real texts of one label: the Lipitor label as a repackager copied it (version 8, February
2012) and Pfizer's own (version 11, January 2014); and the adverse reactions of 31 brands in the
TAC 2017 corpus against the same brands' openFDA adverse reactions text, years later.
Noise and boxed warnings run on real labels with one thing edited (said so in each test).
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from drugradar.model.event import Change, Materiality
from drugradar.sources import openfda_labels, spl
from drugradar.sources.base import Record
from drugradar.track.catalogue import default_materiality, known
from drugradar.track.rules import Context, rule_for
from drugradar.track.rules import labels as rules

LABELS = Path(__file__).resolve().parents[2] / "shared" / "data" / "fda" / "labels"
LIPITOR_REPACK = "17a163ef-b349-4e32-bc8c-b02bac7f65d6"
LIPITOR = "c6e131fe-e7df-4876-83f7-9156fc4e8228"
HUMIRA = "608d4f0d-b19f-46d3-749a-7159aa5f933d"
AS_OF = date(2014, 2, 1)
MAX_NEW_BYTES = 4096

Data = dict[str, Any]


def stored(data: Data) -> Data:
    loaded: Data = json.loads(json.dumps(data))
    return loaded


@pytest.fixture(scope="module")
def spl_labels() -> dict[str, Data]:
    found = [r for r in spl.parse([LABELS / "spl_xml_openfda_tests"]) if isinstance(r, Record)]
    return {r.record_id: stored(r.data) for r in found}


def ctx(as_of: date = AS_OF, baseline: bool = False, source: str = "spl_labels") -> Context:
    return Context(source=source, as_of=as_of, baseline=baseline)


def check(changes: list[Change]) -> None:
    for c in changes:
        assert known(c.family, c.type) and c.family == "label"
        assert c.old != c.new
        assert c.entity_kind == "label"
        assert len(json.dumps(c.new).encode()) < MAX_NEW_BYTES
        high = c.field == rules.BOXED
        assert c.materiality == (Materiality.HIGH if high else default_materiality("label", c.type))


def sections(data: Data, key: str) -> list[Data]:
    return [s for s in data["sections"] if s["key"] == key]


def test_both_label_sources_have_the_rule() -> None:
    assert rule_for("spl_labels") is rules.labels
    assert rule_for("openfda_labels") is rules.labels


def test_real_lipitor_edits_2012_to_2014(spl_labels: dict[str, Data]) -> None:
    old, new = spl_labels[LIPITOR_REPACK], spl_labels[LIPITOR]
    assert (old["version"], new["version"]) == (8, 11)
    got = rules.labels(ctx(), LIPITOR, old, new)
    check(got)
    assert {c.type for c in got} == {"section_changed"}
    by_key = {c.field: c for c in got}
    assert len(by_key) == len(got)  # one event per section
    # FDA's 2014 statin labeling: immune-mediated necrotizing myopathy, boceprevir
    w = by_key["warnings_and_cautions"]
    assert "+There have been rare reports of immune-mediated necrotizing myopathy" in w.new["diff"]
    assert "boceprevir" in by_key["drug_interactions"].new["diff"]
    assert "immune-mediated necrotizing myopathy" in by_key["adverse_reactions"].new["diff"]
    assert "IMNM" not in str(w.old) and "IMNM" in w.new["text"]
    # sections whose text is the same but for whitespace make no event
    for key in ("indications_and_usage", "contraindications", "overdosage"):
        assert rules.normalise(rules.section_texts(old).get(key)) == rules.normalise(
            rules.section_texts(new).get(key)
        )
        assert key not in by_key
    c = got[0]
    assert (c.entity_id, c.event_date) == (LIPITOR, date(2014, 1, 13))
    assert ("application", "NDA020702") in c.concerns and ("name", "ATORVASTATIN") in c.concerns
    assert "Lipitor (NDA020702)" in c.summary


def test_an_older_version_served_later_is_no_change(spl_labels: dict[str, Data]) -> None:
    old, new = spl_labels[LIPITOR], spl_labels[LIPITOR_REPACK]
    assert rules.labels(ctx(), LIPITOR, old, new) == []


def test_whitespace_only_edits_are_not_changes(spl_labels: dict[str, Data]) -> None:
    """Humira re-read as a new version whose text only re-flows (an edit)."""
    old = spl_labels[HUMIRA]
    new = copy.deepcopy(old)
    new["version"] += 1
    new["document_id"] = "00000000-0000-0000-0000-000000000000"
    for s in new["sections"]:
        s["text"] = "  " + s["text"].replace(" ", "\n   ").replace("\n\n", "\n \t\n") + "\n"
    assert new["sections"] != old["sections"]
    assert rules.labels(ctx(), HUMIRA, old, new) == []


def test_same_document_reread_is_not_a_change(spl_labels: dict[str, Data]) -> None:
    old = spl_labels[HUMIRA]
    new = copy.deepcopy(old)
    new["sections"][3]["text"] += " rendered differently"
    assert rules.labels(ctx(), HUMIRA, old, new) == []
    new["document_id"] = "00000000-0000-0000-0000-000000000000"
    assert [c.type for c in rules.labels(ctx(), HUMIRA, old, new)] == ["section_changed"]


def bumped(data: Data) -> Data:
    out = copy.deepcopy(data)
    out["version"] += 1
    out["document_id"] = "00000000-0000-0000-0000-000000000000"
    return out


def test_boxed_warning_appearing_is_boxed_warning_added(spl_labels: dict[str, Data]) -> None:
    """Humira's real boxed warning, against Humira with that section taken out (an edit)."""
    new = bumped(spl_labels[HUMIRA])
    boxed = sections(new, "boxed_warning")
    assert boxed and "SERIOUS INFECTIONS" in new["sections"][0]["title"].upper()
    without = copy.deepcopy(spl_labels[HUMIRA])
    without["sections"] = [s for s in without["sections"] if s["key"] != "boxed_warning"]
    got = rules.labels(ctx(), HUMIRA, without, new)
    check(got)
    assert [(c.type, c.field, c.old, c.materiality) for c in got] == [
        ("boxed_warning_added", "boxed_warning", None, Materiality.HIGH)
    ]
    assert "TUBERCULOSIS" in got[0].new["diff"].upper()
    # a boxed warning section that was there but empty counts as absent
    empty = copy.deepcopy(spl_labels[HUMIRA])
    for s in empty["sections"]:
        if s["key"] == "boxed_warning":
            s["text"], s["title"] = "", None
    assert [c.type for c in rules.labels(ctx(), HUMIRA, empty, new)] == ["boxed_warning_added"]
    # removed, or edited: a section_changed, high
    got = rules.labels(ctx(), HUMIRA, spl_labels[HUMIRA], bumped(without))
    assert [(c.type, c.field, c.materiality) for c in got] == [
        ("section_changed", "boxed_warning", Materiality.HIGH)
    ]
    assert got[0].new["text"] is None and got[0].old


def test_new_label_first_seen(spl_labels: dict[str, Data]) -> None:
    for rid, data in spl_labels.items():
        when = date.fromisoformat(data["effective_date"])
        got = rules.labels(ctx(when + timedelta(days=5)), rid, None, data)
        check(got)
        assert [(c.type, c.field, c.event_date, c.baseline) for c in got] == [
            ("new_label", None, when, False)
        ]
        assert got[0].new == {"version": data["version"], "effective_date": data["effective_date"]}
        late = rules.labels(ctx(when + timedelta(days=400)), rid, None, data)
        assert late[0].baseline
        assert rules.labels(ctx(baseline=True), rid, None, data) == []
        assert rules.labels(ctx(), rid, data, data) == []
        assert rules.labels(ctx(), rid, data, None) == []


def test_humira_concerns_application_and_substance(spl_labels: dict[str, Data]) -> None:
    got = rules.labels(ctx(), HUMIRA, None, spl_labels[HUMIRA])
    assert got[0].concerns == [("application", "BLA125057"), ("name", "ADALIMUMAB")]
    cough = rules.concerns(spl_labels["00f66f25-3469-4c16-9baf-fba21e9628bd"])
    assert ("name", "DIPHENHYDRAMINE") in cough
    assert not [c for c in cough if c[0] == "application"]  # PART341 is a monograph


def test_application_numbers_spelled_as_the_approval_table() -> None:
    assert rules.application_hint("NDA20702") == ("application", "NDA020702")
    assert rules.application_hint("bla 125057") == ("application", "BLA125057")
    assert rules.application_hint("ANDA076543") == ("application", "ANDA076543")
    assert rules.application_hint("PART341") is None


def test_diff_is_cut_to_fit() -> None:
    old = "\n\n".join(f"Paragraph {i} says one thing." for i in range(400))
    new = "\n\n".join(f"Paragraph {i} says another thing." for i in range(400))
    diff = rules.text_diff(old, new)
    assert len(diff) <= rules.DIFF_MAX_CHARS + 20 and diff.endswith("(diff cut)")


def test_all_real_adverse_reaction_pairs() -> None:
    """TAC 2017 (about 2016) against openFDA's later text of the same brands' adverse
    reactions: each brand's record reduced to that one section on both sides."""
    tac = {
        r.data["brand_names"][0].lower(): stored(r.data)
        for r in openfda_labels.parse_onsides_tac(
            sorted((LABELS / "onsides_tac2017").glob("demner*"))
        )
        if isinstance(r, Record)
    }
    later = {
        r.data["brand_names"][0].lower(): stored(r.data)
        for r in openfda_labels.parse_adverse_by_brand(
            [
                LABELS
                / "openfda_section_extracts"
                / "kevinkingslin_adverse_reactions_by_brand.json.gz"
            ]
        )
        if isinstance(r, Record)
    }
    common = sorted(tac.keys() & later.keys())
    assert len(common) >= 30
    for brand in common:
        old = dict(tac[brand], sections=sections(tac[brand], "adverse_reactions"))
        new = later[brand]
        got = rules.labels(ctx(date(2026, 1, 1), source="openfda_labels"), brand, old, new)
        check(got)
        same = rules.normalise(old["sections"][0]["text"]) == rules.normalise(
            new["sections"][0]["text"]
        )
        assert [(c.type, c.field) for c in got] == (
            [] if same else [("section_changed", "adverse_reactions")]
        )
        for c in got:
            assert c.new["diff"] and c.new["text"] and c.old
