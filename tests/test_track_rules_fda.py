"""Drugs@FDA and Orange Book event rules on real releases in ../shared/data/fda.

Old and new records are the real parsers' output on two real release dates; which records
changed, and how, is found by diffing the two releases here, independently of the rules.
Noise tests use a real record against a copy with one thing edited (said so in each test).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from drugradar.model.event import Change, Materiality
from drugradar.sources import drugsatfda, orange_book
from drugradar.sources.base import Record
from drugradar.track.catalogue import default_materiality, known
from drugradar.track.rules import Context, rule_for
from drugradar.track.rules import fda as rules

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FDA = DATA / "fda"
pytestmark = pytest.mark.skipif(not FDA.is_dir(), reason="../shared/data/fda is absent")

JSON = dict[str, Any]
Table = dict[str, JSON]
SOURCES = (
    "fda_applications",
    "fda_submissions",
    "fda_marketing_status",
    "ob_patents",
    "ob_exclusivities",
)
# The documented departures from the catalogue's default materiality.
RAISED_OR_LOWERED = {
    ("marketing_status_changed", Materiality.HIGH),  # a tentative approval made final
    ("delisted", Materiality.LOW),  # a patent leaving the Orange Book after its expiry
}


@cache
def release(source: str, label: str) -> Table:
    """A real release of a source: record id -> parsed data."""
    ob = source.startswith("ob_")
    module = orange_book if ob else drugsatfda
    folder = FDA / ("orange-book" if ob else "drugsatfda")
    found = [
        (s, p) for s, name, p, _ in module.releases(folder) if s.name == source and name == label
    ]
    assert len(found) == 1, (source, label)
    spec, paths = found[0]
    return {r.record_id: r.data for r in spec.parse(paths) if isinstance(r, Record)}


def ctx(
    source: str, as_of: date, *, baseline: bool = False, window: int = 30, **kw: Any
) -> Context:
    return Context(source=source, as_of=as_of, baseline=baseline, window_days=window, **kw)


def rule(source: str) -> Callable[[Context, str, JSON | None, JSON | None], list[Change]]:
    found = rule_for(source)
    assert found is not None, source
    return found


def diff(old: Table, new: Table) -> tuple[set[str], set[str], set[str]]:
    """(added, removed, changed) record ids."""
    common = old.keys() & new.keys()
    return new.keys() - old.keys(), old.keys() - new.keys(), {k for k in common if old[k] != new[k]}


def run(
    source: str, as_of: date, old: Table, new: Table, window: int = 30
) -> dict[str, list[Change]]:
    """The rule over every record that differs between two releases."""
    added, removed, changed = diff(old, new)
    c = ctx(source, as_of, window=window)
    return {k: rule(source)(c, k, old.get(k), new.get(k)) for k in added | removed | changed}


def check(changes: list[Change]) -> None:
    """What every event must be: a catalogue type, a real change, plain JSON values."""
    for c in changes:
        assert known(c.family, c.type), (c.family, c.type)
        assert c.old != c.new, c
        assert c.summary and c.entity_id and c.concerns
        json.dumps([c.old, c.new])
        assert (
            c.materiality == default_materiality(c.family, c.type)
            or (c.type, c.materiality) in RAISED_OR_LOWERED
        ), c


def ob_appl(record_id: str) -> str:
    """``N020702/001/4681893`` -> ``NDA020702`` (the Orange Book's letter spelled out)."""
    letter, number = record_id[0], record_id[1:7]
    return {"N": "NDA", "A": "ANDA"}[letter] + number


def one(changes: list[Change]) -> Change:
    assert len(changes) == 1, changes
    return changes[0]


# ---- registration, baseline -------------------------------------------------------------------


def test_each_source_has_its_rule_and_products_none() -> None:
    assert rule("fda_applications") is rules.application_changes
    assert rule("fda_submissions") is rules.submission_changes
    assert rule("fda_marketing_status") is rules.marketing_changes
    assert rule("ob_patents") is rules.patent_changes
    assert rule("ob_exclusivities") is rules.exclusivity_changes
    assert rule_for("fda_products") is None


@pytest.mark.parametrize(
    ("source", "old", "new"),
    [
        ("fda_applications", "2025-07", "2025-09"),
        ("fda_marketing_status", "2025-07", "2025-09"),
        ("ob_patents", "2026-01", "2026-05"),
        ("ob_exclusivities", "2026-01", "2026-05"),
    ],
)
def test_baseline_gives_nothing(source: str, old: str, new: str) -> None:
    before, after = release(source, old), release(source, new)
    added, removed, changed = diff(before, after)
    assert added and removed and changed
    c = ctx(source, date(2026, 5, 1), baseline=True)
    for k in [*sorted(added)[:50], *sorted(changed)[:50], *sorted(removed)[:50]]:
        assert rule(source)(c, k, before.get(k), after.get(k)) == []


# ---- applications -----------------------------------------------------------------------------


def test_new_applications_are_new_approvals() -> None:
    old, new = release("fda_applications", "2025-07"), release("fda_applications", "2025-09")
    added, removed, changed = diff(old, new)
    events = run("fda_applications", date(2025, 9, 1), old, new)
    for k in added:
        c = one(events[k])
        assert (c.family, c.type, c.entity_kind, c.entity_id, c.field) == (
            "approval",
            "new_approval",
            "application",
            k,
            None,
        )
        assert c.concerns == [("application", k)] and c.new == k and not c.baseline
        assert str(new[k]["sponsor"]) in c.summary
    # Sponsor transfers (589 here) have no event type; removals say nothing.
    assert changed and all(events[k] == [] for k in changed)
    assert removed and all(events[k] == [] for k in removed)


def test_deemed_bla_renumbering_is_noise() -> None:
    """2020: NDAs of biologics became BLAs under their NDA number (BLA017016 was NDA017016)."""
    old, new = release("fda_applications", "2019-07_full"), release("fda_applications", "2023-04")
    added, removed, _ = diff(old, new)
    renamed = {k for k in added if k.startswith("BLA") and "NDA" + k[3:] in removed}
    assert len(renamed) >= 90
    c = ctx("fda_applications", date(2023, 4, 1))
    for k in renamed:
        assert rules.application_changes(c, k, None, new[k]) == []
    fresh = sorted(k for k in added if k.startswith("BLA761"))
    assert fresh
    for k in fresh:
        assert one(rules.application_changes(c, k, None, new[k])).type == "new_approval"


def test_application_whitespace_and_reappearance_are_noise() -> None:
    new = release("fda_applications", "2025-09")
    k = "NDA020702" if "NDA020702" in new else sorted(new)[0]
    padded = {**new[k], "sponsor": f"  {new[k]['sponsor']} "}  # edited copy: sponsor re-spaced
    c = ctx("fda_applications", date(2025, 9, 1))
    assert rules.application_changes(c, k, new[k], padded) == []
    back = ctx("fda_applications", date(2025, 9, 1), reappeared=True)
    assert rules.application_changes(back, k, None, new[k]) == []


# ---- submissions (legacy 2016 layout -> current 2019 layout) ----------------------------------


@pytest.fixture(scope="module")
def submissions() -> tuple[Table, Table]:
    return release("fda_submissions", "2016-06_legacy_schema"), release(
        "fda_submissions", "2019-07_full"
    )


AS_OF_2019 = date(2019, 7, 1)


def day(sub: JSON) -> date | None:
    return date.fromisoformat(sub["status_date"]) if sub["status_date"] else None


def stale(when: date | None, window: int) -> bool:
    """Older than the window: an undated approval is news."""
    return when is not None and (AS_OF_2019 - when).days > window


def test_tentative_original_turned_approved_is_a_new_approval(
    submissions: tuple[Table, Table],
) -> None:
    old, new = submissions
    final = [
        k
        for k in old.keys() & new.keys()
        if k.endswith("/ORIG/1") and old[k]["status"] == "TA" and new[k]["status"] == "AP"
    ]
    assert len(final) > 100
    c = ctx("fda_submissions", AS_OF_2019)
    for k in final:
        e = one(rules.submission_changes(c, k, old[k], new[k]))
        appl = k.split("/")[0]
        assert (e.type, e.entity_kind, e.entity_id, e.field) == (
            "new_approval",
            "application",
            appl,
            None,
        )
        assert e.event_date == date.fromisoformat(new[k]["status_date"])
        assert e.old == "tentative" and e.materiality is Materiality.HIGH and not e.baseline


def test_new_supplements_by_class_and_news_window(submissions: tuple[Table, Table]) -> None:
    old, new = submissions
    added = new.keys() - old.keys()
    suppl = {
        cls: sorted(
            k
            for k in added
            if new[k]["submission_type"] == "SUPPL"
            and new[k]["status"] == "AP"
            and new[k]["class_code"] == cls
        )
        for cls in ("EFFICACY", "LABELING", "MANUF (CMC)")
    }
    # The news window: 30 days, or the 1,125 days since the 2016 release.
    narrow, wide = (
        ctx("fda_submissions", AS_OF_2019),
        ctx("fda_submissions", AS_OF_2019, window=1125),
    )
    assert any(not stale(day(new[k]), 30) for ids in suppl.values() for k in ids)
    for cls, ids in suppl.items():
        assert ids, cls
        for k in ids:
            e = one(rules.submission_changes(wide, k, None, new[k]))
            assert e.type == ("new_indication" if cls == "EFFICACY" else "supplement")
            assert (e.entity_kind, e.entity_id, e.field, e.new) == (
                "submission",
                k,
                "status",
                "approved",
            )
            assert e.concerns == [("application", k.split("/")[0])]
            when = day(new[k])
            assert e.event_date == when and e.baseline == stale(when, 1125)
            # Only approvals dated in the window (or after as_of) are news; older ones are
            # kept as baseline.
            late = one(rules.submission_changes(narrow, k, None, new[k]))
            assert late.baseline == stale(when, 30)


def test_tentative_and_layout_differences_are_no_events(submissions: tuple[Table, Table]) -> None:
    old, new = submissions
    c = ctx("fda_submissions", AS_OF_2019)
    added = new.keys() - old.keys()
    tentative = [k for k in added if new[k]["status"] == "TA"]
    assert tentative and all(rules.submission_changes(c, k, None, new[k]) == [] for k in tentative)
    # The same submission from the legacy and the current layout: priority, class, documents
    # and dates differ with the layout; approved in both, it is no event.
    both = [
        k
        for k in old.keys() & new.keys()
        if old[k] != new[k] and old[k]["status"] == new[k]["status"] == "AP"
    ]
    assert len(both) > 50_000
    assert all(rules.submission_changes(c, k, old[k], new[k]) == [] for k in both)
    back = [
        k for k in old.keys() & new.keys() if old[k]["status"] == "AP" and new[k]["status"] == "TA"
    ]
    assert back and all(rules.submission_changes(c, k, old[k], new[k]) == [] for k in back)
    # Removed (legacy rows the 2019 files reject): nothing.
    gone = sorted(old.keys() - new.keys())[:200]
    assert gone and all(rules.submission_changes(c, k, old[k], None) == [] for k in gone)


def test_application_and_original_submission_merge(submissions: tuple[Table, Table]) -> None:
    """A 2019 application seen by both sources makes the same (family, type, entity, field,
    new), so the store keeps one event."""
    old_subs, new_subs = submissions
    old_apps = release("fda_applications", "2016-06_legacy_schema")
    new_apps = release("fda_applications", "2019-07_full")
    new_ids = sorted(
        k
        for k in new_apps.keys() - old_apps.keys()
        if f"{k}/ORIG/1" in new_subs
        and f"{k}/ORIG/1" not in old_subs
        and new_subs[f"{k}/ORIG/1"]["status"] == "AP"
    )
    assert len(new_ids) > 100
    c = ctx("fda_applications", AS_OF_2019)
    s = ctx("fda_submissions", AS_OF_2019)

    def key(e: Change) -> tuple[Any, ...]:
        return (e.family, e.type, e.entity_kind, e.entity_id, e.field, e.new)

    for k in new_ids:
        a = one(rules.application_changes(c, k, None, new_apps[k]))
        b = one(rules.submission_changes(s, f"{k}/ORIG/1", None, new_subs[f"{k}/ORIG/1"]))
        assert key(a) == key(b) == ("approval", "new_approval", "application", k, None, k)


# ---- marketing status -------------------------------------------------------------------------


def test_marketing_status_moves() -> None:
    old, new = (
        release("fda_marketing_status", "2025-07"),
        release("fda_marketing_status", "2025-09"),
    )
    added, removed, changed = diff(old, new)
    events = run("fda_marketing_status", date(2025, 9, 1), old, new)
    seen: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    for k in changed:
        a, b = tuple(old[k]["marketing_status_ids"]), tuple(new[k]["marketing_status_ids"])
        if a == b:  # TE codes only: no event type
            assert events[k] == [], k
            continue
        seen.add((a, b))
        e = one(events[k])
        appl = f"{new[k]['appl_type']}{new[k]['appl_no']}"
        assert (e.entity_kind, e.entity_id, e.field) == ("product", k, "marketing_status")
        assert e.concerns == [("application", appl)]
        assert (e.old, e.new) == (old[k]["marketing_status"], new[k]["marketing_status"])
        if b == (3,):
            assert (e.type, e.materiality) == ("withdrawn", Materiality.HIGH)
        elif a == (4,):
            assert (e.type, e.materiality) == ("marketing_status_changed", Materiality.HIGH)
        else:
            assert (e.type, e.materiality) == ("marketing_status_changed", Materiality.MEDIUM)
    assert {((1,), (3,)), ((3,), (1,)), ((4,), (1,))} <= seen
    assert any(
        tuple(old[k]["marketing_status_ids"]) == tuple(new[k]["marketing_status_ids"])
        for k in changed
    )
    assert all(events[k] == [] for k in added | removed)


def test_marketing_status_layout_and_whitespace_noise() -> None:
    new = release("fda_marketing_status", "2025-09")
    k = next(k for k, v in new.items() if v["te_codes"] and v["marketing_status_id"] == 1)
    c = ctx("fda_marketing_status", date(2025, 9, 1))
    # Edited copies: no TE table in the release (te_codes None), a re-spaced status text.
    for edited in (
        {**new[k], "te_codes": None},
        {**new[k], "marketing_status": " Prescription  "},
    ):
        assert rules.marketing_changes(c, k, edited, new[k]) == []
        assert rules.marketing_changes(c, k, new[k], edited) == []
    # Edited copies: one product listed both Rx and OTC, its ids in either order.
    rx_otc, otc_rx = ({**new[k], "marketing_status_ids": ids} for ids in ([1, 2], [2, 1]))
    assert rules.marketing_changes(c, k, rx_otc, otc_rx) == []


# ---- Orange Book patents ----------------------------------------------------------------------


def test_patents_listed_delisted_and_expiry_moved() -> None:
    old, new = release("ob_patents", "2026-01"), release("ob_patents", "2026-05")
    as_of = date(2026, 5, 1)
    added, removed, changed = diff(old, new)
    events = run("ob_patents", as_of, old, new, window=120)
    for k in added:
        e = one(events[k])
        appl = ob_appl(k)
        assert (e.family, e.type, e.entity_kind) == ("patent", "listed", "patent")
        assert e.entity_id == appl + k[7:] and e.concerns == [("application", appl)]
        assert e.new == new[k]["expires"] and new[k]["patent_no"] in e.summary
        assert e.event_date == (
            date.fromisoformat(new[k]["submission_date"]) if new[k]["submission_date"] else None
        )
    assert any(k.endswith("*PED") for k in added)
    expired = {k for k in removed if date.fromisoformat(old[k]["expires"]) <= as_of}
    assert expired and removed - expired
    for k in removed:
        if old[k]["delisted"]:  # its delisting was the event when the flag turned on
            assert events[k] == [], k
            continue
        e = one(events[k])
        assert (e.type, e.old, e.new) == ("delisted", old[k]["expires"], None)
        assert e.materiality is (Materiality.LOW if k in expired else Materiality.MEDIUM)
    moved = {k for k in changed if old[k]["expires"] != new[k]["expires"]}
    assert moved
    for k in changed:
        if k not in moved:  # use codes, flags: no event type
            assert events[k] == [], k
            continue
        e = one(events[k])
        a, b = old[k]["expires"], new[k]["expires"]
        assert (e.type, e.field, e.old, e.new) == ("expiry_changed", "expires", a, b)
        assert e.days_shifted == (date.fromisoformat(b) - date.fromisoformat(a)).days


def test_patent_delist_flag_then_removal() -> None:
    old, new = release("ob_patents", "2025-05"), release("ob_patents", "2026-01")
    c = ctx("ob_patents", date(2026, 1, 1))
    flagged = [k for k in old.keys() & new.keys() if not old[k]["delisted"] and new[k]["delisted"]]
    assert flagged
    for k in flagged:
        e = one(rules.patent_changes(c, k, old[k], new[k]))
        assert (e.type, e.field, e.new) == ("delisted", None, None)
        # Leaving later, once already delisted, is the same event: nothing more.
        assert rules.patent_changes(c, k, new[k], None) == []
        # Same (family, type, entity, field, new) as a plain removal, so they merge.
        gone = one(rules.patent_changes(c, k, old[k], None))
        assert (gone.type, gone.entity_id, gone.field, gone.new) == (
            e.type,
            e.entity_id,
            e.field,
            e.new,
        )
    already = [k for k in old.keys() - new.keys() if old[k]["delisted"]]
    assert already and all(rules.patent_changes(c, k, old[k], None) == [] for k in already)


def test_patent_noise_and_relisting() -> None:
    new = release("ob_patents", "2026-05")
    k = next(k for k, v in new.items() if len(v["use_codes"]) > 1)
    c = ctx("ob_patents", date(2026, 5, 1))
    reordered = {**new[k], "use_codes": new[k]["use_codes"][::-1]}  # edited copy: list order
    assert rules.patent_changes(c, k, reordered, new[k]) == []
    back = ctx("ob_patents", date(2026, 5, 1), reappeared=True)
    assert one(rules.patent_changes(back, k, new[k], new[k])).type == "listed"


# ---- Orange Book exclusivities ----------------------------------------------------------------


def test_exclusivities_granted_expired_and_grants_ending() -> None:
    old, new = release("ob_exclusivities", "2026-01"), release("ob_exclusivities", "2026-05")
    added, removed, changed = diff(old, new)
    events = run("ob_exclusivities", date(2026, 5, 1), old, new)
    for k in added:
        e = one(events[k])
        assert (e.family, e.type, e.entity_kind, e.field) == (
            "special_approval",
            "exclusivity_granted",
            "exclusivity",
            None,
        )
        assert e.entity_id == ob_appl(k) + k[7:] and e.new == new[k]["code"]
    ode = [k for k in added if new[k]["code"].startswith("ODE")]
    assert ode and all("orphan" in one(events[k]).summary for k in ode)
    for k in removed:
        e = one(events[k])
        assert (e.type, e.old, e.new) == ("exclusivity_expired", old[k]["code"], None)
    for k in changed:  # here only grants ending: dates dropped, the latest kept
        before, after = set(old[k]["expiry_dates"]), set(new[k]["expiry_dates"])
        assert after < before and old[k]["expires"] == new[k]["expires"]
        e = one(events[k])
        assert (e.type, e.field, e.old, e.new) == (
            "exclusivity_expired",
            "expiry_dates",
            sorted(before),
            sorted(after),
        )


def test_exclusivity_expiry_moved() -> None:
    old, new = release("ob_exclusivities", "2022-12"), release("ob_exclusivities", "2026-01")
    c = ctx("ob_exclusivities", date(2026, 1, 1))
    moved = [k for k in old.keys() & new.keys() if old[k]["expires"] != new[k]["expires"]]
    assert moved
    for k in moved:
        e = one(rules.exclusivity_changes(c, k, old[k], new[k]))
        a, b = old[k]["expires"], new[k]["expires"]
        assert (e.type, e.field, e.old, e.new) == ("exclusivity_changed", "expires", a, b)
        assert e.days_shifted == (date.fromisoformat(b) - date.fromisoformat(a)).days


# ---- every record of two real releases --------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "old", "new", "as_of"),
    [
        ("fda_applications", "2019-07_full", "2023-04", date(2023, 4, 1)),
        ("fda_applications", "2025-07", "2025-09", date(2025, 9, 1)),
        ("fda_submissions", "2016-06_legacy_schema", "2019-07_full", AS_OF_2019),
        ("fda_marketing_status", "2025-07", "2025-09", date(2025, 9, 1)),
        ("ob_patents", "2025-05", "2026-01", date(2026, 1, 1)),
        ("ob_patents", "2026-01", "2026-05", date(2026, 5, 1)),
        ("ob_exclusivities", "2022-12", "2026-01", date(2026, 1, 1)),
        ("ob_exclusivities", "2026-01", "2026-05", date(2026, 5, 1)),
    ],
)
def test_all_records_of_two_releases(source: str, old: str, new: str, as_of: date) -> None:
    before, after = release(source, old), release(source, new)
    c = ctx(source, as_of)
    count = 0
    for k in before.keys() | after.keys():
        changes = rule(source)(c, k, before.get(k), after.get(k))
        check(changes)
        if before.get(k) == after.get(k):
            assert changes == [], k
        count += len(changes)
    assert count > 0
