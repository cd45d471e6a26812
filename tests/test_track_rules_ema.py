"""EMA event rules on the real EMA tables in ../shared/data/ema.

The medicines table comes at three real dates (2018-12, 2019-11, 2025-03), so its events are
checked on real changes. The other tables come at one date only: their "first seen" events run
on real records; their "changed" events on a real record against a copy of it with one value
edited (said so in each test), except the orphan designation EU/3/14/1325, whose two real pages
(Positive, updated 2015; Withdrawn, updated 2019) are its two versions.
"""

from __future__ import annotations

import csv
import itertools
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from drugradar.model.event import Change, Materiality
from drugradar.sources import ema, ema_designations
from drugradar.sources.base import Record
from drugradar.track.catalogue import default_materiality, known
from drugradar.track.rules import Context, rule_for
from drugradar.track.rules import ema as rules

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EMA = DATA / "ema"
OUT_2025 = EMA / "2025-03_medicines_output"

Table = dict[str, dict[str, Any]]


def as_stored(data: dict[str, Any]) -> dict[str, Any]:
    """The record's data as the store hands it back (JSON)."""
    loaded: dict[str, Any] = json.loads(json.dumps(data))
    return loaded


@pytest.fixture(scope="module")
def tables() -> dict[str, list[tuple[date, Table]]]:
    """Every EMA source's releases, oldest first: (release date, record id -> data)."""
    out: dict[str, list[tuple[date, Table]]] = {}
    for spec, _, paths, when in ema.releases(EMA):
        recs = {r.record_id: as_stored(r.data) for r in spec.parse(paths) if isinstance(r, Record)}
        out.setdefault(spec.name, []).append((when, recs))
    return out


@pytest.fixture(scope="module")
def medicines(tables: dict[str, list[tuple[date, Table]]]) -> list[tuple[date, Table]]:
    meds = tables["ema_medicines"]
    assert [d for d, _ in meds] == [date(2018, 12, 23), date(2019, 11, 25), date(2025, 3, 1)]
    return meds


def ctx(source: str, as_of: date, baseline: bool = False) -> Context:
    return Context(source=source, as_of=as_of, baseline=baseline)


def check(changes: list[Change], source: str) -> None:
    """What every event must be: a catalogue type, a real change, plain JSON values."""
    for c in changes:
        assert known(c.family, c.type), (c.family, c.type)
        assert c.old != c.new, c
        assert c.summary and c.entity_id
        json.dumps([c.old, c.new])
        raised = source == "ema_psusa" and c.materiality is Materiality.HIGH
        assert raised or c.materiality == default_materiality(c.family, c.type)


def types(changes: list[Change]) -> list[tuple[str, str, str | None]]:
    return sorted((c.family, c.type, c.field) for c in changes)


# ---- registration and baseline -----------------------------------------------------------------


def test_every_ema_source_has_its_rule() -> None:
    assert rule_for("ema_medicines") is rules.medicines
    assert rule_for("ema_orphan_designations") is rules.designations
    assert rule_for("ema_dhpc") is rules.dhpc
    assert rule_for("ema_referrals") is rules.referrals
    assert rule_for("ema_psusa") is rules.psusa
    assert rule_for("ema_shortages") is rules.shortages


def test_baseline_and_removed_records_give_nothing(
    tables: dict[str, list[tuple[date, Table]]],
) -> None:
    for source, releases in tables.items():
        rule = rule_for(source)
        assert rule is not None
        when, recs = releases[-1]
        rid, data = next(iter(recs.items()))
        assert rule(ctx(source, when, baseline=True), rid, None, data) == []
        assert rule(ctx(source, when), rid, data, None) == []
        assert rule(ctx(source, when), rid, data, data) == []


# ---- medicines: real changes ------------------------------------------------------------------


def test_zerit_withdrawal_between_2019_and_2025(medicines: list[tuple[date, Table]]) -> None:
    (_, old), (as_of, new) = medicines[1], medicines[2]
    pid = "EMEA/H/C/000110"
    assert (old[pid]["name"], old[pid]["status"], new[pid]["status"]) == (
        "Zerit",
        "authorised",
        "withdrawn",
    )
    changes = rules.medicines(ctx("ema_medicines", as_of), pid, old[pid], new[pid])
    check(changes, "ema_medicines")
    status = [c for c in changes if c.family == "approval"]
    assert len(status) == 1
    c = status[0]
    assert (c.type, c.entity_kind, c.entity_id, c.field, c.old, c.new) == (
        "withdrawn",
        "medicine",
        pid,
        "status",
        "authorised",
        "withdrawn",
    )
    assert c.materiality is Materiality.HIGH and not c.baseline
    assert ("name", "stavudine") in c.concerns
    assert "Zerit" in c.summary and pid in c.summary


def test_every_real_status_move_gives_its_event(medicines: list[tuple[date, Table]]) -> None:
    """Authorised -> ended is a withdrawal; the old export's "Withdrawn" becoming lapsed,
    expired or revoked in EMA's current download is a re-spelling (no event)."""
    (_, old), (as_of, new) = medicines[1], medicines[2]
    ended = {"withdrawn", "lapsed", "expired", "revoked"}
    withdrawals = [
        k for k in old.keys() & new.keys()
        if old[k]["status"] == "authorised" and new[k]["status"] in ended
    ]  # fmt: skip
    respelled = [
        k for k in old.keys() & new.keys()
        if old[k]["status"] == "withdrawn" and new[k]["status"] in ended - {"withdrawn"}
    ]  # fmt: skip
    assert len(withdrawals) > 100 and len(respelled) > 20
    for k in withdrawals:
        got = [c for c in rules.medicines(ctx("ema_medicines", as_of), k, old[k], new[k])]
        assert [(c.type, c.old, c.new) for c in got if c.family == "approval"] == [
            ("withdrawn", "authorised", new[k]["status"])
        ]
    for k in respelled:
        got = rules.medicines(ctx("ema_medicines", as_of), k, old[k], new[k])
        assert [c for c in got if c.family == "approval"] == [], k


def test_real_flag_changes_one_event_per_flag(medicines: list[tuple[date, Table]]) -> None:
    (_, old), (as_of, new) = medicines[1], medicines[2]
    expected = {
        (k, f)
        for k in old.keys() & new.keys()
        if new[k]["status"] == "authorised"
        for f in rules.FLAGS
        if old[k][f] is not None and new[k][f] is not None and old[k][f] != new[k][f]
    }
    assert {f for _, f in expected} >= {"orphan", "additional_monitoring", "conditional"}
    seen = set()
    for k in old.keys() & new.keys():
        for c in rules.medicines(ctx("ema_medicines", as_of), k, old[k], new[k]):
            if c.type == "ema_flag_changed":
                assert c.family == "special_approval" and c.entity_id == k
                assert c.field is not None
                assert (c.old, c.new) == (old[k][c.field], new[k][c.field])
                seen.add((k, c.field))
    assert seen == expected


def test_a_column_one_layout_lacks_is_not_a_change(medicines: list[tuple[date, Table]]) -> None:
    """PRIME and Advanced therapy exist only in the 2025 download: None -> True is no event."""
    (_, old), (as_of, new) = medicines[1], medicines[2]
    imlygic = "EMEA/H/C/002771"
    assert old[imlygic]["atmp"] is None and new[imlygic]["atmp"] is True
    primed = [k for k in old.keys() & new.keys() if new[k]["prime"] is True]
    assert primed
    for k in [imlygic, *primed]:
        fields = {c.field for c in rules.medicines(ctx("ema_medicines", as_of), k, old[k], new[k])}
        assert not fields & {"atmp", "prime"}
    # the same medicine, identical in meaning, from both layouts
    same = dict(new[imlygic], atmp=None, prime=None, additional_monitoring=True)
    assert rules.medicines(ctx("ema_medicines", as_of), imlygic, old[imlygic], same) == []


def test_generic_or_hybrid_column_is_not_a_new_generic() -> None:
    old = {"status": "authorised", "generic": False, "prime": None, "atmp": None}
    new = {"status": "authorised", "generic": True, "prime": False, "atmp": False}
    assert rules.flag_noise("generic", old, new)
    assert not rules.flag_noise("generic", dict(old, prime=False), new)


def test_new_medicines_are_approvals_news_only_in_the_window(
    medicines: list[tuple[date, Table]],
) -> None:
    (_, old), (as_of, new) = medicines[1], medicines[2]
    fresh = [k for k in new.keys() - old.keys() if new[k]["status"] == "authorised"]
    recent, older = [], []
    for k in fresh:
        got = rules.medicines(ctx("ema_medicines", as_of), k, None, new[k])
        check(got, "ema_medicines")
        assert [(c.type, c.field, c.old) for c in got] == [("new_approval", None, None)]
        c = got[0]
        assert c.entity_id == k and c.materiality is Materiality.HIGH
        when = new[k]["authorisation_date"]
        assert c.event_date == (date.fromisoformat(when) if when else None)
        if when and (as_of - date.fromisoformat(when)).days <= 30:
            recent.append(k)
            assert not c.baseline
        elif when:
            older.append(k)
            assert c.baseline
    assert recent and older
    # a wider window (the release gap) makes the older ones news
    k = older[0]
    wide = Context("ema_medicines", as_of, False, window_days=(as_of - date(2019, 11, 25)).days)
    assert not rules.medicines(wide, k, None, new[k])[0].baseline


def test_first_seen_withdrawn_application_is_a_status_not_an_approval(
    medicines: list[tuple[date, Table]],
) -> None:
    (_, old), (as_of, new) = medicines[1], medicines[2]
    k = next(
        k for k in sorted(new.keys() - old.keys()) if new[k]["status"] == "application_withdrawn"
    )
    got = rules.medicines(ctx("ema_medicines", as_of), k, None, new[k])
    assert [(c.type, c.field, c.old, c.new) for c in got] == [
        ("status_changed", "status", None, "application_withdrawn")
    ]
    withdrawn = new[k]["application_withdrawal_date"]
    assert got[0].event_date == (date.fromisoformat(withdrawn) if withdrawn else None)


def test_opinion_then_authorisation_is_a_new_approval(medicines: list[tuple[date, Table]]) -> None:
    """A real positive opinion of 2025, against the same record edited to authorised."""
    as_of, new = medicines[2]
    k = next(k for k in sorted(new) if new[k]["status"] == "opinion")
    authorised = dict(new[k], status="authorised", status_raw="Authorised")
    authorised["authorisation_date"] = (as_of + timedelta(days=40)).isoformat()
    got = rules.medicines(ctx("ema_medicines", as_of + timedelta(days=45)), k, new[k], authorised)
    assert [(c.type, c.field, c.old, c.new) for c in got] == [
        ("new_approval", None, None, "authorised")
    ]
    assert got[0].event_date == as_of + timedelta(days=40)


def test_all_common_medicines_make_only_catalogue_events(
    medicines: list[tuple[date, Table]],
) -> None:
    counts: dict[str, int] = {}
    for (_, old), (as_of, new) in itertools.pairwise(medicines):
        for k in sorted(old.keys() | new.keys()):
            if old.get(k) == new.get(k):
                continue
            got = rules.medicines(ctx("ema_medicines", as_of), k, old.get(k), new.get(k))
            check(got, "ema_medicines")
            for c in got:
                assert c.entity_kind == "medicine" and c.entity_id == k
                assert c.concerns and all(kind == "name" for kind, _ in c.concerns)
                counts[c.type] = counts.get(c.type, 0) + 1
    assert counts.keys() >= {"new_approval", "withdrawn", "refused", "ema_flag_changed"}


# ---- orphan designations ----------------------------------------------------------------------


def designation_rows(number: str) -> tuple[list[str], list[list[str]]]:
    path = OUT_2025 / "medicines_output_orphan_designations_en.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    col = rows[0].index("EU designation number")
    return rows[0], [r for r in rows[1:] if r[col] == number]


def parse_rows(tmp: Path, header: list[str], row: list[str]) -> dict[str, Any]:
    path = tmp / "medicines_output_orphan_designations_en.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, row])
    (rec,) = [r for r in ema_designations.parse([path]) if isinstance(r, Record)]
    return as_stored(rec.data)


def test_real_designation_withdrawal(tmp_path: Path) -> None:
    header, rows = designation_rows("EU/3/14/1325")
    status = header.index("Status")
    (positive,) = [r for r in rows if r[status] == "Positive"]
    (withdrawn,) = [r for r in rows if r[status] == "Withdrawn"]
    old = parse_rows(tmp_path, header, positive)
    new = parse_rows(tmp_path, header, withdrawn)
    got = rules.designations(
        ctx("ema_orphan_designations", date(2019, 3, 1)), "EU/3/14/1325", old, new
    )
    check(got, "ema_orphan_designations")
    assert [(c.type, c.entity_kind, c.entity_id, c.field, c.old, c.new) for c in got] == [
        ("designation_changed", "designation", "EU/3/14/1325", "status", "positive", "withdrawn")
    ]
    assert got[0].concerns == [("name", s) for s in new["active_substances"]]


def test_first_seen_designations(tables: dict[str, list[tuple[date, Table]]]) -> None:
    ((as_of, recs),) = tables["ema_orphan_designations"]
    counts = {"positive": 0, "withdrawn": 0, "negative": 0}
    for k, d in recs.items():
        got = rules.designations(ctx("ema_orphan_designations", as_of), k, None, d)
        check(got, "ema_orphan_designations")
        kinds = [c.type for c in got]
        if d["status"] == "negative":
            assert kinds == ["designation_changed"] and got[0].new == "negative"
        elif d["status"] == "positive":
            assert kinds == ["orphan_designation"]
            when = d["designation_date"]
            assert got[0].event_date == (date.fromisoformat(when) if when else None)
        else:
            assert kinds == ["orphan_designation", "designation_changed"]
        if d["status"] in counts:
            counts[d["status"]] += 1
        assert all(c.entity_id == (d["designation_number"] or k) for c in got)
    assert all(counts.values())


# ---- DHPC, referrals, PSUSA, shortages ----------------------------------------------------------


def test_new_dhpc_is_a_safety_communication(tables: dict[str, list[tuple[date, Table]]]) -> None:
    ((as_of, recs),) = tables["ema_dhpc"]
    for k, d in recs.items():
        got = rules.dhpc(ctx("ema_dhpc", as_of), k, None, d)
        check(got, "ema_dhpc")
        assert [(c.family, c.type, c.entity_kind, c.entity_id) for c in got] == [
            ("safety", "safety_communication", "dhpc", k)
        ]
        assert got[0].event_date == (date.fromisoformat(d["date"]) if d["date"] else None)
        for s in d["active_substances"]:
            assert ("name", s) in got[0].concerns
        # an edit to a known DHPC is not news
        assert rules.dhpc(ctx("ema_dhpc", as_of), k, dict(d, regulatory_outcome="x"), d) == []


def test_referral_started_and_status_moved(tables: dict[str, list[tuple[date, Table]]]) -> None:
    ((as_of, recs),) = tables["ema_referrals"]
    for k, d in recs.items():
        got = rules.referrals(ctx("ema_referrals", as_of), k, None, d)
        check(got, "ema_referrals")
        assert [(c.type, c.field, c.new) for c in got] == [("referral", None, d["status"])]
    # a real concluded referral, against a copy of it still under evaluation (an edit)
    k, d = next(
        (k, d) for k, d in sorted(recs.items())
        if d["status"] == "european_commission_final_decision" and d["decision_date"]
    )  # fmt: skip
    before = dict(d, status="under_evaluation", status_raw="Under evaluation")
    got = rules.referrals(ctx("ema_referrals", as_of), k, before, d)
    assert [(c.type, c.field, c.old, c.new) for c in got] == [
        ("referral", "status", "under_evaluation", "european_commission_final_decision")
    ]
    assert got[0].event_date == date.fromisoformat(d["decision_date"])
    # the same status re-spelled by the source slugs the same: no event
    assert rules.referrals(ctx("ema_referrals", as_of), k, dict(d, status_raw="x"), d) == []


def test_psusa_outcomes_and_suspension_is_high(tables: dict[str, list[tuple[date, Table]]]) -> None:
    ((as_of, recs),) = tables["ema_psusa"]
    outcomes: dict[str, Materiality] = {}
    for k, d in recs.items():
        got = rules.psusa(ctx("ema_psusa", as_of), k, None, d)
        check(got, "ema_psusa")
        if d["regulatory_outcome"] is None:
            assert got == []
            continue
        assert [(c.type, c.entity_id, c.new) for c in got] == [
            ("psusa_outcome", k, d["regulatory_outcome"])
        ]
        outcomes[d["regulatory_outcome"]] = got[0].materiality
    assert outcomes["Suspension"] is Materiality.HIGH
    assert outcomes["Maintenance"] is Materiality.MEDIUM
    k, d = next((k, d) for k, d in sorted(recs.items()) if d["regulatory_outcome"] == "Variation")
    got = rules.psusa(ctx("ema_psusa", as_of), k, dict(d, regulatory_outcome="Maintenance"), d)
    assert [(c.field, c.old, c.new) for c in got] == [
        ("regulatory_outcome", "Maintenance", "Variation")
    ]


def test_shortage_reported_and_resolved(tables: dict[str, list[tuple[date, Table]]]) -> None:
    ((as_of, recs),) = tables["ema_shortages"]
    for k, d in recs.items():
        got = rules.shortages(ctx("ema_shortages", as_of), k, None, d)
        check(got, "ema_shortages")
        assert [(c.type, c.entity_kind, c.new) for c in got] == [
            ("shortage", "shortage", d["status"])
        ]
        assert got[0].concerns  # the INN, else the medicine's name
    # a real resolved shortage, against a copy of it still ongoing (an edit)
    k, d = next((k, d) for k, d in sorted(recs.items()) if d["status"] == "resolved")
    before = dict(d, status="ongoing", status_raw="Ongoing")
    got = rules.shortages(ctx("ema_shortages", as_of), k, before, d)
    assert [(c.field, c.old, c.new) for c in got] == [("status", "ongoing", "resolved")]
    changed_text = dict(d, expected_resolution="sometime")
    assert rules.shortages(ctx("ema_shortages", as_of), k, changed_text, d) == []


def test_future_dates_are_news_old_dates_baseline() -> None:
    today = date(2025, 3, 1)
    c = ctx("x", today)
    assert not rules.stale(c, today + timedelta(days=20))
    assert not rules.stale(c, today - timedelta(days=30))
    assert rules.stale(c, today - timedelta(days=31))
    assert not rules.stale(c, None)
