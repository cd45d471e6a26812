"""Rules that turn trial records into development status. Pure functions; ``build`` applies them.

Phase
- A trial's phases map onto the scale (``trials.phase``): Phase 1/2 -> PHASE_1_2, etc.
- UNKNOWN (phase "not applicable" or unstated) counts only when nothing better is known, and
  never above PHASE_1. PHASE_4 trials run after an approval somewhere: they show clinical work
  but are counted as UNKNOWN here; APPROVED comes only from regulators (a Phase 4 statin trial in
  pneumonia does not make a statin approved for pneumonia).
- Counted trials: interventional (or of unstated type), where the drug is investigational or the
  background of what is tested; comparators and placebos are not development.
- ``phase_since``: the first posting (else start) date of the earliest trial at that phase.

Activity (against the as-of date of the data, never today's clock)
- active: a counted trial is recruiting, not yet recruiting, enrolling by invitation, active
  not recruiting or available; also a program whose last trial news is under 2 years old.
- suspended: no trial active and one SUSPENDED (the sponsor paused it).
- no development reported: no record changed (last update posted) for 2 years — inferred
  silence, AdisInsight's rule for clinical programs.
- discontinued / withdrawn: only when a source states it (a company, a regulator). TERMINATED or
  WITHDRAWN trials describe a trial, not the program: they never set these by themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from drugradar.model.devstatus import RANK, Activity, Phase

SILENCE = timedelta(days=730)  # two years without news: no development reported
ACTIVE_STATUSES = {
    "RECRUITING",
    "NOT_YET_RECRUITING",
    "ENROLLING_BY_INVITATION",
    "ACTIVE_NOT_RECRUITING",
    "AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
}


@dataclass(frozen=True, slots=True)
class TrialFact:
    """What one trial says about one drug × indication × country × organization."""

    nct_id: str
    phase: str  # trial phase on the scale (trials.phase.trial_phase), PHASE_4 included
    status: str | None
    first_posted: date | None
    start: date | None
    last_update: date | None


def scale_phase(trial_phase: str) -> Phase:
    """A trial's phase on the development scale: Phase 4 (and anything unknown) is UNKNOWN."""
    return _SCALE.get(trial_phase, Phase.UNKNOWN)


_SCALE = {p.value: p for p in Phase if p.value != "PHASE_4"}


def phase_reached(facts: Sequence[TrialFact]) -> tuple[Phase, date | None]:
    """The highest phase and since when (earliest posting among the trials at that phase)."""
    scaled = [(_SCALE.get(f.phase, Phase.UNKNOWN), f) for f in facts]
    best, top = Phase.UNKNOWN, -1
    for p, _ in scaled:  # a loop, not max(key=...): this runs for every status row
        if (rank := RANK[p]) > top:
            best, top = p, rank
    known = [d for p, f in scaled if p is best and (d := f.first_posted or f.start)]
    return best, min(known) if known else None


def activity(facts: Sequence[TrialFact], as_of: date) -> tuple[Activity, date | None, str]:
    """``(activity, since, rule)`` as of ``as_of``."""
    active = [f for f in facts if f.status in ACTIVE_STATUSES]
    if active:
        since = [f.first_posted or f.start for f in active]
        return Activity.ACTIVE, min((d for d in since if d), default=None), "a trial is ongoing"
    updates = [f.last_update for f in facts if f.last_update]
    last = max(updates) if updates else None
    if any(f.status == "SUSPENDED" for f in facts):
        return Activity.SUSPENDED, last, "a trial is suspended and none is ongoing"
    if last is not None and as_of - last > SILENCE:
        return (
            Activity.NO_DEVELOPMENT_REPORTED,
            last + SILENCE,
            "no trial record changed for 2 years",
        )
    return Activity.ACTIVE, last, "trials ended less than 2 years before the as-of date"


def parse_date(text: str | None) -> date | None:
    """``'2014-09'`` -> 2014-09-01; ``'2014-09-30'`` -> itself; else ``None``."""
    if not text:
        return None
    try:
        if len(text) == 7:
            return date.fromisoformat(text + "-01")
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
