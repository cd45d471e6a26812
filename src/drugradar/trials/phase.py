"""Trial phases on drugradar's development scale.

ClinicalTrials.gov lists phases; a combined trial lists two (``[PHASE1, PHASE2]`` is Phase 1/2).
``NA`` (not applicable: device or behavioural studies, observational studies) is UNKNOWN, which
the status matrix never ranks above PHASE_1. PHASE4 trials run after approval: they are kept as
PHASE_4 and never by themselves make a drug approved for an indication.
"""

from __future__ import annotations

from collections.abc import Sequence

_SINGLE = {
    "EARLY_PHASE1": "EARLY_PHASE_1",
    "PHASE1": "PHASE_1",
    "PHASE2": "PHASE_2",
    "PHASE3": "PHASE_3",
    "PHASE4": "PHASE_4",
}
_COMBINED = {("PHASE1", "PHASE2"): "PHASE_1_2", ("PHASE2", "PHASE3"): "PHASE_2_3"}


def trial_phase(phases: Sequence[str]) -> str:
    """``['PHASE1', 'PHASE2']`` -> ``PHASE_1_2``; ``[]`` or ``['NA']`` -> ``UNKNOWN``."""
    known = sorted(p for p in phases if p in _SINGLE)
    if len(known) == 2 and tuple(known) in _COMBINED:
        return _COMBINED[(known[0], known[1])]
    if known:
        return _SINGLE[known[-1]]
    return "UNKNOWN"
