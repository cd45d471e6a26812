"""The development-status rules (``devstatus.rules``) on hand-made trial facts: the phase a
program reached and since when, and its activity against the data's as-of date."""

from __future__ import annotations

from datetime import date

from drugradar.devstatus.rules import TrialFact, activity, phase_reached, scale_phase
from drugradar.model.devstatus import RANK, Activity, Phase

AS_OF = date(2026, 3, 14)


def fact(
    nct: str,
    phase: str,
    status: str = "COMPLETED",
    posted: date | None = date(2020, 1, 1),
    updated: date | None = date(2025, 6, 1),
) -> TrialFact:
    return TrialFact(nct, phase, status, posted, None, updated)


def test_phase_four_and_unknown_phases_never_rank_above_phase_one() -> None:
    assert scale_phase("PHASE_4") is Phase.UNKNOWN  # after an approval elsewhere, not one here
    assert scale_phase("PHASE_9") is Phase.UNKNOWN  # a value no mapping knows
    assert scale_phase("PHASE_2_3") is Phase.PHASE_2_3
    assert RANK[Phase.UNKNOWN] < RANK[Phase.PHASE_1] < RANK[Phase.PHASE_3] < RANK[Phase.APPROVED]
    assert phase_reached([fact("NCT1", "PHASE_4")]) == (Phase.UNKNOWN, date(2020, 1, 1))
    assert phase_reached([fact("NCT1", "PHASE_4"), fact("NCT2", "PHASE_1")])[0] is Phase.PHASE_1


def test_highest_phase_since_its_earliest_trial() -> None:
    facts = [
        fact("NCT1", "PHASE_2", posted=date(2018, 5, 1)),
        fact("NCT2", "PHASE_3", posted=date(2022, 7, 1)),
        fact("NCT3", "PHASE_3", posted=date(2021, 2, 1)),
        fact("NCT4", "PHASE_3", posted=None),  # no date: does not move "since"
    ]
    assert phase_reached(facts) == (Phase.PHASE_3, date(2021, 2, 1))


def test_activity_from_trial_statuses_against_the_as_of_date() -> None:
    ongoing = fact("NCT1", "PHASE_2", "RECRUITING", posted=date(2024, 4, 1))
    ended = fact("NCT2", "PHASE_3", "TERMINATED", updated=date(2025, 6, 1))
    assert activity([ongoing, ended], AS_OF)[:2] == (Activity.ACTIVE, date(2024, 4, 1))
    paused = fact("NCT3", "PHASE_2", "SUSPENDED", updated=date(2025, 9, 1))
    assert activity([paused, ended], AS_OF)[:2] == (Activity.SUSPENDED, date(2025, 9, 1))
    # a terminated trial describes the trial, not the program: recent news keeps it active
    assert activity([ended], AS_OF)[0] is Activity.ACTIVE
    # two years without any record changing: no development reported, dated when silence began
    old = fact("NCT4", "PHASE_2", "COMPLETED", updated=date(2023, 1, 10))
    state, since, rule = activity([old], AS_OF)
    assert (state, since) == (Activity.NO_DEVELOPMENT_REPORTED, date(2025, 1, 9))
    assert "2 years" in rule
    # against the as-of date, not today's clock: the same record in 2024 was still active
    assert activity([old], date(2024, 6, 1))[0] is Activity.ACTIVE
